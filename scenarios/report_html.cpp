#include "scenarios/report_html.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "scenarios/svg_chart.h"

#ifndef PLANTTWIN_VERSION
#define PLANTTWIN_VERSION "0.0.0"
#endif

namespace planttwin {

namespace {

using svg::esc;
using svg::num;

constexpr double kChartWidth = 760;
// Beyond these counts a page stays light enough to print quickly (docs/report.md "Size and print
// time at scale"): a floor's alarms are listed compactly instead of in a table, and the timeline
// draws each type's bars, acknowledgements and closings as merged paths (the map's markers merge
// past kMapMarkerDetail, report_html.h).
constexpr size_t kLegendTableRows = 60;
// ... and past this many, the list is folded on screen and not printed (counts by type are)
constexpr size_t kLegendPrintedItems = 500;
constexpr size_t kTimelineDetail = 200;
// ids a map cell's hover text lists (its count and its counts by type and level are always there)
constexpr size_t kCellTitleIds = 40;

// Page style: screen and A4 print. Sections start on a new page in print; table rows never split.
const char* kStyle = R"(
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:0 auto;max-width:820px;padding:12px 18px;color:#222;font-size:13px;line-height:1.45}
h1{font-size:20px;margin:6px 0}h2{font-size:16px;border-bottom:2px solid #345;padding-bottom:2px;margin:18px 0 8px}h3{font-size:14px;margin:12px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:12px}
th,td{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}
th{background:#eef2f6}
tr{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
td.num,th.num{text-align:right}
code{font-size:11px;word-break:break-all}
.verdict{display:inline-block;padding:4px 14px;border-radius:4px;font-weight:bold;font-size:16px;color:#fff}
.pass{background:#2e7d32}.fail{background:#c62828}.untested{background:#757575}
td.pass,td.fail,td.untested{color:#fff;font-weight:bold}
.lang{float:right}.lang button{margin-left:4px;font-size:12px}
html.zh .en{display:none}html.en .zh{display:none}
svg.chart{width:100%;height:auto;display:block;margin:4px 0;font-size:10px;break-inside:avoid;page-break-inside:avoid}
svg .grid{stroke:#e3e3e3;stroke-width:1}svg .frame{fill:none;stroke:#888}svg .band{fill:#f6f6f6}
svg .label{font-size:11px;fill:#333}svg .empty{fill:#fafafa;stroke:#aaa;stroke-dasharray:6 4}svg .empty-text{font-size:14px;fill:#777}
.legend span.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;border:1px solid #666;vertical-align:middle}
.note{color:#555;font-size:12px}
ol.legend-list{columns:2;column-gap:18px;font-size:10px;margin:4px 0 10px;padding-left:34px}ol.legend-list li{break-inside:avoid}
.figure{break-inside:avoid;page-break-inside:avoid}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{max-width:none;padding:0;font-size:11px}
 html .zh,html .en{display:inline!important}
 .noprint{display:none!important}
 section.sec{break-before:page;page-break-before:always}
 section.sec.first{break-before:auto;page-break-before:auto}
 h2{break-after:avoid;page-break-after:avoid}
 a{color:inherit;text-decoration:none}
}
)";

const char* kScript = "function lang(l){document.documentElement.className=l;}";

std::string B(const std::string& zh, const std::string& en) { return html_bilingual(zh, en); }
std::string E(const std::string& s) { return html_escape(s); }

std::string hex_colour_level(AlarmLevel l) {
  switch (l) {
    case AlarmLevel::red: return "#d62728";
    case AlarmLevel::orange: return "#ff7f0e";
    case AlarmLevel::yellow: return "#e0b800";
    case AlarmLevel::blue: return "#1f77b4";
    default: return "#7f7f7f";
  }
}

std::string risk_fill(Risk r) {
  switch (r) {
    case Risk::red: return "#f4b6b6";
    case Risk::orange: return "#fbd3a8";
    case Risk::yellow: return "#f8eca0";
    case Risk::blue: return "#b9d3ee";
    default: return "#e4e4e4";
  }
}

const char* risk_zh(Risk r) {
  switch (r) {
    case Risk::red: return "红（重大风险）";
    case Risk::orange: return "橙（较大风险）";
    case Risk::yellow: return "黄（一般风险）";
    case Risk::blue: return "蓝（低风险）";
    default: return "无";
  }
}

// a palette of distinguishable line colours, cycled
const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
std::string palette(size_t i) { return kPalette[i % (sizeof kPalette / sizeof *kPalette)]; }

std::string clock_of(const Scenario& sc, Micros t) {
  const LocalTime lt = local_time(sc.clock, t);
  char b[32];
  std::snprintf(b, sizeof b, "%02d:%02d:%02d", lt.second_of_day / 3600, lt.second_of_day / 60 % 60, lt.second_of_day % 60);
  return b;
}

std::string secs(Micros t) { return num(to_seconds(t), 1); }

// Time axis unit: seconds for short runs, minutes beyond 20 min.
struct TimeAxis {
  double div = 1;  // seconds per unit
  std::string label;
  double at(Micros t) const { return to_seconds(t) / div; }
};
TimeAxis time_axis(Micros end) {
  if (to_seconds(end) > 1200) return {60, "时间 Time (min)"};
  return {1, "时间 Time (s)"};
}

Micros run_end(const Scenario& sc, const RunResult& r) {
  Micros end = r.session ? from_seconds(r.session->duration_s) : sc.duration;
  for (const Alarm& a : r.alarms)
    for (const AlarmEvent& e : a.events) end = std::max(end, e.t);
  return std::max<Micros>(end, kSecond);
}

std::string section(const std::string& id, const std::string& zh, const std::string& en, const std::string& body, bool first = false) {
  return "<section class=\"sec" + std::string(first ? " first" : "") + "\" id=\"" + id + "\"><h2>" + B(zh, en) + "</h2>" + body + "</section>\n";
}

std::string result_cell(const std::string& status) {
  if (status == "passed") return "<td class=\"pass\">" + B("通过", "PASS") + "</td>";
  if (status == "failed") return "<td class=\"fail\">" + B("不通过", "FAIL") + "</td>";
  return "<td class=\"untested\">" + B("未测试", "UNTESTED") + "</td>";
}

// "人员聚集风险报警 Gathering risk alarm" -> (zh, en)
std::pair<std::string, std::string> split_title(const std::string& t) {
  const size_t sp = t.find(' ');
  if (sp == std::string::npos) return {t, t};
  return {t.substr(0, sp), t.substr(sp + 1)};
}

// ---- verdict, requirements and expectations ---------------------------------------------------

std::string requirements_section(const Scenario& sc, const RunResult& r) {
  std::string h;
  h += "<table class=\"req\"><thead><tr><th>" + B("需求", "ID") + "</th><th>" + B("名称", "Requirement") + "</th><th>" + B("结论", "Result") +
       "</th><th>" + B("依据", "Evidence") + "</th><th>" + B("预期", "Expectations") + "</th></tr></thead><tbody>";
  for (const RequirementOutcome& o : requirement_outcomes(sc, r)) {
    const auto [zh, en] = split_title(requirement_title(o.id));
    std::string evidence, links;
    for (int i : o.expectations) {
      for (const ExpectationResult& e : r.expectations)
        if (e.index == i) evidence += (evidence.empty() ? "" : "<br>") + ("#" + std::to_string(i + 1) + " " + E(e.detail));
      links += (links.empty() ? "" : " ") + ("<a href=\"#exp-" + std::to_string(i + 1) + "\">#" + std::to_string(i + 1) + "</a>");
    }
    h += "<tr><td>" + E(o.id) + "</td><td>" + (zh.empty() ? "—" : B(zh, en)) + "</td>" + result_cell(o.status) + "<td>" +
         (evidence.empty() ? "—" : evidence) + "</td><td>" + (links.empty() ? "—" : links) + "</td></tr>";
  }
  h += "</tbody></table>";
  h += "<h3 id=\"expectations\">" + B("预期检查", "Expectations") + "</h3>";
  if (r.expectations.empty()) h += "<p class=\"note\">" + B("本场景没有预期。", "The scenario has no expectations.") + "</p>";
  h += "<table class=\"exp\"><thead><tr><th>#</th><th>" + B("需求", "Req") + "</th><th>" + B("预期（原文）", "Expectation (as written)") + "</th><th>" +
       B("位置", "Source") + "</th><th>" + B("结论", "Result") + "</th><th>" + B("证据", "Evidence") + "</th></tr></thead><tbody>";
  for (const ExpectationResult& e : r.expectations) {
    const int line = e.index >= 0 && static_cast<size_t>(e.index) < sc.expect.size() ? sc.expect[static_cast<size_t>(e.index)].line : 0;
    h += "<tr id=\"exp-" + std::to_string(e.index + 1) + "\"><td>" + std::to_string(e.index + 1) + "</td><td>" + (e.req.empty() ? "—" : E(e.req)) +
         "</td><td><code>" + E(e.text) + "</code></td><td><code>" + E(sc.file) + (line ? ":" + std::to_string(line) : "") + "</code></td>" +
         result_cell(e.passed ? "passed" : "failed") + "<td>" + E(e.detail) + "</td></tr>";
  }
  h += "</tbody></table>";
  return h;
}

// ---- plant map per floor ---------------------------------------------------------------------

bool zone_on_floor(const Site& site, const Zone& z, const std::string& floor) {
  if (!z.floors.empty()) return std::find(z.floors.begin(), z.floors.end(), floor) != z.floors.end();
  if (z.z) {
    const Floor* f = site.find_floor(floor);
    return !f || (z.z->first < f->z1 && z.z->second > f->z0);
  }
  return true;
}

// the floor a fixed device (anchor, camera) at (x, y, z) is drawn on: a building storey whose
// footprint holds it and whose band holds z, else an outdoor band holding z, else the first floor
std::string device_floor(const Site& site, const double at[3]) {
  const Vec2 p{at[0], at[1]};
  for (const Building& b : site.buildings)
    if (b.footprint.contains(p))
      for (const Floor& f : b.floors)
        if (at[2] >= f.z0 && at[2] <= f.z1) return f.id;
  for (const Floor& f : site.floors)
    if (at[2] >= f.z0 && at[2] <= f.z1) return f.id;
  const std::vector<std::string> ids = site.floor_ids();
  return ids.empty() ? "1" : ids.front();
}

std::string alarm_title(const Scenario& sc, const Alarm& a) {
  std::string t = a.id + " " + zh(a.type) + " " + to_string(a.type);
  if (a.code != Aq2Code::none) t += std::string(" (AQ 3064.2 ") + to_string(a.code) + ")";
  if (a.level != AlarmLevel::none) t += std::string(" ") + zh(a.level) + " " + to_string(a.level);
  t += " t=" + secs(a.raised_at) + " s " + clock_of(sc, a.raised_at);
  if (!a.zone.empty()) t += " " + a.zone;
  if (!a.who.empty()) {
    t += " [";
    for (size_t i = 0; i < a.who.size() && i < 8; ++i) t += (i ? "," : "") + a.who[i];
    if (a.who.size() > 8) t += ",…";
    t += "]";
  }
  return t;
}

std::string map_section(const Scenario& sc, const RunResult& r) {
  const Site& site = sc.site;
  std::vector<std::string> floors = site.floor_ids();
  if (floors.empty()) floors.push_back("1");
  std::string h;
  h += "<p class=\"legend\">" + B("区域按风险着色：", "Zones by risk:");
  for (Risk k : {Risk::red, Risk::orange, Risk::yellow, Risk::blue, Risk::none})
    h += "<span class=\"key\" style=\"background:" + risk_fill(k) + "\"></span>" + B(risk_zh(k), to_string(k));
  h += " &nbsp; ▲ " + B("基站", "anchor") + " &nbsp; ■ " + B("摄像机", "camera") + " &nbsp; ● " +
       B("报警（颜色为级别，悬停看详情）", "alarm (colour = level; hover for details)") + "</p>";
  std::vector<const Alarm*> unlocated;
  for (const Alarm& a : r.alarms)
    if (a.floor.empty() || std::find(floors.begin(), floors.end(), a.floor) == floors.end()) unlocated.push_back(&a);
  for (const std::string& floor : floors) {
    // extent: the site's bounds, else everything drawn on this floor
    Box2 box;
    bool any = false;
    auto grow = [&](Vec2 p) {
      if (!any) box.min = box.max = p, any = true;
      box.min.x = std::min(box.min.x, p.x), box.min.y = std::min(box.min.y, p.y);
      box.max.x = std::max(box.max.x, p.x), box.max.y = std::max(box.max.y, p.y);
    };
    if (site.bounds)
      for (Vec2 p : site.bounds->pts) grow(p);
    for (const Zone& z : site.zones)
      if (zone_on_floor(site, z, floor))
        for (Vec2 p : z.polygon.pts) grow(p);
    for (const Building& b : site.buildings)
      for (Vec2 p : b.footprint.pts) grow(p);
    for (const Anchor& a : site.anchors)
      if (device_floor(site, a.at) == floor) grow({a.at[0], a.at[1]});
    for (const Camera& c : site.cameras)
      if (device_floor(site, c.at) == floor) grow({c.at[0], c.at[1]});
    std::vector<const Alarm*> here;
    for (const Alarm& a : r.alarms)
      if (a.floor == floor) here.push_back(&a), grow(a.pos);
    h += "<div class=\"figure\"><h3>" + B("楼层 ", "Floor ") + E(floor) + "</h3>";
    const double margin = 10;
    if (!any) {
      svg::Chart c("map", kChartWidth, 300, margin, margin, margin, margin);
      c.empty("此楼层无区域、设备或报警 Nothing on this floor (no zones, devices or alarms)");
      h += c.str() + "</div>";
      continue;
    }
    const double pad = 5;  // metres around the content
    const double wx = std::max(box.max.x - box.min.x, 1.0) + 2 * pad, wy = std::max(box.max.y - box.min.y, 1.0) + 2 * pad;
    const double scale = std::min((kChartWidth - 2 * margin) / wx, 900.0 / wy);
    const double height = std::max(wy * scale + 2 * margin + 24, 120.0);
    svg::Chart c("map", kChartWidth, height, margin, margin, margin, 24);
    auto X = [&](double x) { return margin + (x - box.min.x + pad) * scale; };
    auto Y = [&](double y) { return margin + (box.max.y + pad - y) * scale; };
    auto poly = [&](const Polygon& pg, const std::string& attrs) {
      std::string s = "<polygon " + attrs + " points=\"";
      for (size_t i = 0; i < pg.pts.size(); ++i) s += (i ? " " : "") + num(X(pg.pts[i].x)) + "," + num(Y(pg.pts[i].y));
      return s + "\"/>";
    };
    c.raw("<rect x=\"0\" y=\"0\" width=\"" + num(kChartWidth, 0) + "\" height=\"" + num(height) + "\" fill=\"#fff\"/>");
    if (site.bounds) c.raw(poly(*site.bounds, "fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\""));
    for (const Building& b : site.buildings) c.raw(poly(b.footprint, "fill=\"#f1f1f1\" stroke=\"#555\" stroke-width=\"1.5\""));
    for (const Zone& z : site.zones) {
      if (!zone_on_floor(site, z, floor)) continue;
      c.raw("<g class=\"zone\">" + poly(z.polygon, "fill=\"" + risk_fill(z.risk) + "\" stroke=\"#666\"") + "<title>" +
            esc(z.id + " " + z.name + " (" + to_string(z.kind) + ", " + risk_zh(z.risk) + " " + to_string(z.risk) + ")") + "</title></g>");
      const Vec2 m = z.polygon.centroid();
      c.text(X(m.x), Y(m.y), z.id, "text-anchor=\"middle\" fill=\"#333\" font-size=\"10\"");
    }
    for (const Anchor& a : site.anchors) {
      if (device_floor(site, a.at) != floor) continue;
      const double x = X(a.at[0]), y = Y(a.at[1]);
      c.raw("<path class=\"anchor\" d=\"M" + num(x) + " " + num(y - 4) + "L" + num(x + 3.5) + " " + num(y + 2.5) + "L" + num(x - 3.5) + " " +
            num(y + 2.5) + "Z\" fill=\"#2c3e50\"><title>" + esc("基站 anchor " + a.id) + "</title></path>");
    }
    for (const Camera& cam : site.cameras) {
      if (device_floor(site, cam.at) != floor) continue;
      c.rect(X(cam.at[0]) - 3, Y(cam.at[1]) - 3, 6, 6, "#6a1b9a", "class=\"camera\"", "摄像机 camera " + cam.id);
    }
    const bool merged = here.size() > kMapMarkerDetail;
    double cell_m = 0;
    int cell_decimals = 0;  // to print a cell's side and edges
    if (!merged) {
      for (size_t i = 0; i < here.size(); ++i) {
        const Alarm& a = *here[i];
        c.raw("<circle class=\"alarm-marker\" data-alarm=\"" + esc(a.id) + "\" cx=\"" + num(X(a.pos.x)) + "\" cy=\"" + num(Y(a.pos.y)) +
              "\" r=\"4\" fill=\"" + hex_colour_level(a.level) + "\" stroke=\"#000\" stroke-width=\"0.6\"><title>" +
              esc(alarm_title(sc, a)) + "</title></circle>");
        // numbers for print when the floor has few alarms (the legend table below matches them)
        if (here.size() <= 60) c.text(X(a.pos.x) + 5, Y(a.pos.y) - 4, std::to_string(i + 1), "font-size=\"8\" fill=\"#000\"");
      }
    } else {
      // past kMapMarkerDetail: one path per level, the most severe drawn last (on top), a marker
      // drawn once per position; the hover text moves to a grid of cells. Each marker is an octagon
      // of radius 4, not a circle: Chromium writes each stroked circle of a path into the PDF as
      // about 32 Bézier curves (merged circles still printed in 2.4 s where octagons take 1.7 s,
      // docs/report.md); at 1 mm on paper the octagon looks the same
      const AlarmLevel levels[] = {AlarmLevel::none, AlarmLevel::blue, AlarmLevel::yellow, AlarmLevel::orange, AlarmLevel::red};
      for (AlarmLevel level : levels) {
        std::string d;
        std::set<std::string> drawn;
        size_t n = 0;
        for (const Alarm* a : here) {
          if (a->level != level) continue;
          ++n;
          const std::string at = num(X(a->pos.x) + 3.7) + " " + num(Y(a->pos.y) + 1.5);  // the first vertex
          if (drawn.insert(at).second) d += "M" + at + "l-2.2 2.2-3 0-2.2-2.2 0-3 2.2-2.2 3 0 2.2 2.2z";
        }
        if (n)
          c.raw("<path class=\"alarm-markers-merged\" data-level=\"" + std::string(to_string(level)) + "\" data-alarms=\"" + std::to_string(n) +
                "\" d=\"" + d + "\" fill=\"" + hex_colour_level(level) + "\" stroke=\"#000\" stroke-width=\"0.6\"/>");
      }
      // cells: a round side (1, 2 or 5 x 10^k m) of about a 24th of the width, aligned on the
      // site's coordinates; one invisible square per occupied cell carries the hover text
      const double want = wx / 24, cmag = std::pow(10.0, std::floor(std::log10(want)));
      cell_m = want <= cmag ? cmag : want <= 2 * cmag ? 2 * cmag : want <= 5 * cmag ? 5 * cmag : 10 * cmag;
      cell_decimals = std::max(0, -static_cast<int>(std::floor(std::log10(cell_m))));
      std::map<std::pair<long, long>, std::vector<const Alarm*>> cells;  // (column, row) -> alarms, in raise order
      for (const Alarm* a : here)
        cells[{static_cast<long>(std::floor(a->pos.x / cell_m)), static_cast<long>(std::floor(a->pos.y / cell_m))}].push_back(a);
      for (const auto& [key, in] : cells) {
        const double x0 = static_cast<double>(key.first) * cell_m, y0 = static_cast<double>(key.second) * cell_m;
        std::map<std::pair<AlarmType, AlarmLevel>, size_t> kinds;
        for (const Alarm* a : in) ++kinds[{a->type, a->level}];
        std::string t = "x " + num(x0, cell_decimals) + "–" + num(x0 + cell_m, cell_decimals) + " m, y " + num(y0, cell_decimals) + "–" +
                        num(y0 + cell_m, cell_decimals) + " m: " + std::to_string(in.size()) + " 条报警 alarms";
        for (const auto& [kind, n] : kinds)
          t += std::string("; ") + zh(kind.first) + " " + to_string(kind.first) +
               (kind.second == AlarmLevel::none ? "" : std::string(" ") + zh(kind.second) + " " + to_string(kind.second)) + " ×" + std::to_string(n);
        t += ":";
        for (size_t i = 0; i < in.size() && i < kCellTitleIds; ++i) t += " " + in[i]->id;
        if (in.size() > kCellTitleIds) {
          const std::string more = std::to_string(in.size() - kCellTitleIds);
          t += " … 另 " + more + " 条 " + more + " more";
        }
        c.raw("<rect class=\"alarm-cell\" data-alarms=\"" + std::to_string(in.size()) + "\" x=\"" + num(X(x0)) + "\" y=\"" + num(Y(y0 + cell_m)) +
              "\" width=\"" + num(cell_m * scale) + "\" height=\"" + num(cell_m * scale) + "\" fill=\"none\" pointer-events=\"all\"><title>" + esc(t) +
              "</title></rect>");
      }
    }
    // scale bar: a round length (1, 2 or 5 x 10^k m) near a fifth of the width
    const double mag = std::pow(10.0, std::floor(std::log10(wx / 5)));
    const double bar_m = wx / 5 >= 5 * mag ? 5 * mag : wx / 5 >= 2 * mag ? 2 * mag : mag;
    c.line(margin, height - 10, margin + bar_m * scale, height - 10, "#000", 2);
    c.text(margin + bar_m * scale + 4, height - 6, num(bar_m, 0) + " m");
    h += c.str();
    if (merged)
      h += "<p class=\"note\">" +
           B("本层报警较多（" + std::to_string(here.size()) + " 条），按级别合并绘制（红色在最上层）；悬停 " + num(cell_m, cell_decimals) +
                 " m 网格单元，查看其中报警的数量、类型、级别与编号。",
             "Many alarms on this floor (" + std::to_string(here.size()) + "): drawn merged per level (red on top); hover a " + num(cell_m, cell_decimals) +
                 " m grid cell for the number, types, levels and ids of its alarms.") +
           "</p>";
    // legend for print: a table, or beyond kLegendTableRows alarms a compact numbered list in
    // columns (the same facts, a third of the pages)
    if (here.size() <= kLegendTableRows) {
      h += "<table class=\"legend-table\"><thead><tr><th>#</th><th>" + B("编号", "ID") + "</th><th>" + B("类型", "Type") + "</th><th>" +
           B("级别", "Level") + "</th><th>" + B("时间", "Time") + "</th><th>x, y (m)</th><th>" + B("区域", "Zone") + "</th></tr></thead><tbody>";
      for (size_t i = 0; i < here.size(); ++i) {
        const Alarm& a = *here[i];
        h += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + a.id + "</td><td>" + B(zh(a.type), to_string(a.type)) +
             (a.code == Aq2Code::none ? "" : std::string(" (") + to_string(a.code) + ")") + "</td><td>" +
             (a.level == AlarmLevel::none ? "—" : B(zh(a.level), to_string(a.level))) + "</td><td>" + secs(a.raised_at) + " s " +
             clock_of(sc, a.raised_at) + "</td><td>" + num(a.pos.x) + ", " + num(a.pos.y) + "</td><td>" + (a.zone.empty() ? "—" : E(a.zone)) +
             "</td></tr>";
      }
      if (here.empty()) h += "<tr><td colspan=\"7\">" + B("此楼层无报警", "No alarms on this floor") + "</td></tr>";
      h += "</tbody></table></div>";
    } else {
      // past kLegendPrintedItems the list is folded (expand on screen, left out of print: a list of
      // thousands is a hundred pages and most of the page's print time) and counts by type and level
      // are printed instead; every alarm stays a marker and a line of report.md / report.json
      const bool folded = here.size() > kLegendPrintedItems;
      if (folded) {
        std::map<std::pair<std::string, std::string>, std::pair<const Alarm*, size_t>> by_kind;  // (type, level) -> (first, count)
        for (const Alarm* a : here) {
          auto& k = by_kind[{to_string(a->type), to_string(a->level)}];
          if (!k.first) k.first = a;
          ++k.second;
        }
        h += "<p class=\"note\">" + B("本层报警按类型和级别计数（逐条清单见下方展开或 report.md）：", "Alarms on this floor by type and level (the full list: expand below, or report.md):") +
             "</p><table class=\"legend\"><thead><tr><th>" + B("类型", "Type") + "</th><th>" + B("级别", "Level") + "</th><th>" + B("数量", "Count") +
             "</th></tr></thead><tbody>";
        for (const auto& [key, first_count] : by_kind) {
          const Alarm& a = *first_count.first;
          h += "<tr><td>" + B(zh(a.type), to_string(a.type)) + "</td><td>" + (a.level == AlarmLevel::none ? "—" : B(zh(a.level), to_string(a.level))) +
               "</td><td>" + std::to_string(first_count.second) + "</td></tr>";
        }
        h += "</tbody></table><details class=\"legend-more\"><summary>" +
             B("展开全部 " + std::to_string(here.size()) + " 条报警", "Show all " + std::to_string(here.size()) + " alarms") + "</summary>";
      }
      h += "<p class=\"note\">" + B("本层报警（编号 类型 级别 时间 位置 区域）：", "Alarms on this floor (id, type, level, time, position, zone):") +
           "</p><ol class=\"legend-list\">";
      for (const Alarm* a : here)
        h += "<li>" + a->id + " " + zh(a->type) + " " + to_string(a->type) + (a->code == Aq2Code::none ? "" : std::string(" (") + to_string(a->code) + ")") +
             (a->level == AlarmLevel::none ? "" : std::string(" ") + zh(a->level) + " " + to_string(a->level)) + " " + secs(a->raised_at) + " s " +
             clock_of(sc, a->raised_at) + " (" + num(a->pos.x) + ", " + num(a->pos.y) + ")" + (a->zone.empty() ? "" : " " + E(a->zone)) + "</li>";
      h += folded ? "</ol></details></div>" : "</ol></div>";
    }
  }
  if (!unlocated.empty()) {
    h += "<h3>" + B("无位置的报警", "Alarms without a position") + "</h3><table><thead><tr><th>" + B("编号", "ID") + "</th><th>" + B("类型", "Type") +
         "</th><th>" + B("时间", "Time") + "</th></tr></thead><tbody>";
    for (const Alarm* a : unlocated)
      h += "<tr><td>" + a->id + "</td><td>" + B(zh(a->type), to_string(a->type)) + "</td><td>" + secs(a->raised_at) + " s " +
           clock_of(sc, a->raised_at) + "</td></tr>";
    h += "</tbody></table>";
  }
  return h;
}

// ---- alarm timeline --------------------------------------------------------------------------

std::string timeline_section(const Scenario& sc, const RunResult& r) {
  const Micros end = run_end(sc, r);
  const TimeAxis ta = time_axis(end);
  std::vector<AlarmType> types;
  for (AlarmType t : all_alarm_types())
    for (const Alarm& a : r.alarms)
      if (a.type == t) {
        types.push_back(t);
        break;
      }
  const double height = 60 + 24.0 * static_cast<double>(std::max<size_t>(types.size(), 3));
  svg::Chart c("timeline", kChartWidth, height, 150, 16, 10, 40);
  c.x_range(0, ta.at(end));
  std::string h;
  if (types.empty()) {
    c.empty("无报警 No alarms in this run");
    return c.str();
  }
  std::vector<std::string> rows;
  for (AlarmType t : types) rows.push_back(std::string(zh(t)) + " " + to_string(t));
  c.category_axis(rows, ta.label);
  const bool detail = r.alarms.size() <= kTimelineDetail;
  for (size_t row = 0; row < types.size(); ++row) {
    // alarms of a type raised close together would overlap: spread them over 3 lanes
    size_t lane = 0;
    std::map<AlarmLevel, std::array<std::string, 4>> merged;  // level -> open bars, closed bars, raises, acks + closes
    for (const Alarm& a : r.alarms) {
      if (a.type != types[row]) continue;
      const double y = c.row_y(row) + (static_cast<double>(lane % 3) - 1) * c.row_height() / 4;
      ++lane;
      const Micros stop = a.closed_at ? *a.closed_at : a.cleared_at ? *a.cleared_at : end;
      const double x0 = c.px(ta.at(a.raised_at)), x1 = std::max(c.px(ta.at(stop)), x0 + 1);
      const std::string col = hex_colour_level(a.level);
      if (!detail) {
        auto& m = merged[a.level];
        m[a.closed_at ? 1 : 0] += "M" + num(x0) + " " + num(y) + "H" + num(x1);
        m[2] += "M" + num(x0) + " " + num(y - 3) + "v6";
        if (a.acknowledged_at) m[3] += "M" + num(c.px(ta.at(*a.acknowledged_at))) + " " + num(y - 6) + "v4";
        if (a.closed_at) m[3] += "M" + num(c.px(ta.at(*a.closed_at))) + " " + num(y - 2) + "v4";
        continue;
      }
      c.raw("<g class=\"alarm-bar\" data-alarm=\"" + esc(a.id) + "\"><title>" + esc(alarm_title(sc, a)) + "</title>");
      // closed: a thick bar to the close; not closed: a thin one to clearing or the end
      c.line(x0, y, x1, y, col, a.closed_at ? 3 : 1.2);
      c.circle(x0, y, 3, col);
      if (a.acknowledged_at) {
        const double xa = c.px(ta.at(*a.acknowledged_at));
        c.raw("<path class=\"ack\" d=\"M" + num(xa) + " " + num(y - 6) + "L" + num(xa + 3) + " " + num(y - 1) + "L" + num(xa - 3) + " " + num(y - 1) +
              "Z\" fill=\"#000\"/>");
      }
      if (a.closed_at) c.rect(c.px(ta.at(*a.closed_at)) - 2, y - 2, 4, 4, "#000", "class=\"close\"");
      c.raw("</g>");
    }
    for (const auto& [level, m] : merged) {
      const std::string col = hex_colour_level(level);
      c.raw("<g class=\"alarm-bars-merged\">");
      if (!m[0].empty()) c.raw("<path d=\"" + m[0] + "\" stroke=\"" + col + "\" stroke-width=\"1.2\" fill=\"none\"/>");
      if (!m[1].empty()) c.raw("<path d=\"" + m[1] + "\" stroke=\"" + col + "\" stroke-width=\"3\" fill=\"none\"/>");
      c.raw("<path d=\"" + m[2] + "\" stroke=\"" + col + "\" stroke-width=\"2\" fill=\"none\"/>");
      if (!m[3].empty()) c.raw("<path d=\"" + m[3] + "\" stroke=\"#000\" stroke-width=\"1.5\" fill=\"none\"/>");
      c.raw("</g>");
    }
  }
  h += c.str();
  if (detail)
    h += "<p class=\"note\">● " + B("报警", "raised") + " &nbsp; ▲ " + B("确认", "acknowledged") + " &nbsp; ■ " + B("关闭", "closed") + " &nbsp; " +
         B("粗线：至关闭；细线：未关闭（至消除或结束）。", "Thick bar: until closed; thin: not closed (until cleared or the end).") + " " +
         B("颜色为级别；悬停看详情。", "Colour = level; hover for details.") + "</p>";
  else
    h += "<p class=\"note\">" +
         B("报警较多（" + std::to_string(r.alarms.size()) +
               " 条），按类型合并绘制：| 报警，上方短竖线为确认与关闭；粗线至关闭，细线未关闭。逐条详情见平面图（悬停）及其下方的报警清单，或 report.md。",
           "Many alarms (" + std::to_string(r.alarms.size()) +
               "): drawn merged per type: | raise, short ticks above for acknowledgement and close; thick bar until closed, thin not closed. Per alarm: "
               "the map (hover) and the list below it, or report.md.") +
         "</p>";
  // counts by type and handling status
  h += "<table><thead><tr><th>" + B("类型", "Type") + "</th><th class=\"num\">" + B("合计", "Total") + "</th><th class=\"num\">" + B("未确认", "Raised") +
       "</th><th class=\"num\">" + B("已确认", "Acknowledged") + "</th><th class=\"num\">" + B("已处置", "Handled") + "</th><th class=\"num\">" +
       B("已关闭", "Closed") + "</th></tr></thead><tbody>";
  for (AlarmType t : types) {
    std::map<std::string, int> st;
    int total = 0;
    for (const Alarm& a : r.alarms)
      if (a.type == t) ++st[a.handling_status()], ++total;
    h += "<tr><td>" + B(zh(t), to_string(t)) + "</td><td class=\"num\">" + std::to_string(total) + "</td>";
    for (const char* k : {"raised", "acknowledged", "handled", "closed"}) h += "<td class=\"num\">" + std::to_string(st[k]) + "</td>";
    h += "</tr>";
  }
  h += "</tbody></table>";
  return h;
}

// ---- headcounts per zone ---------------------------------------------------------------------

std::string headcount_section(const Scenario& sc, const RunResult& r) {
  constexpr int kBuckets = 360;  // the series is downsampled to the largest count per bucket
  const Micros end = run_end(sc, r);
  const TimeAxis ta = time_axis(end);
  struct Series {
    std::string zone;
    int peak = 0;
    std::vector<int> v;
  };
  std::vector<Series> series;
  for (const Zone& z : sc.site.zones) {
    auto it = r.zone_counts.find(z.id);
    if (it == r.zone_counts.end() || it->second.empty()) continue;
    Series s{z.id, 0, std::vector<int>(kBuckets, 0)};
    int current = 0;
    size_t k = 0;
    const auto& samples = it->second;
    for (int b = 0; b < kBuckets; ++b) {
      const Micros b0 = end * b / kBuckets, b1 = end * (b + 1) / kBuckets;
      int mx = current;
      while (k < samples.size() && samples[k].t < b1) {
        current = samples[k].count;
        if (samples[k].t >= b0 || b == 0) mx = std::max(mx, current);
        ++k;
      }
      mx = std::max(mx, current);
      s.v[static_cast<size_t>(b)] = mx;
      s.peak = std::max(s.peak, mx);
    }
    if (s.peak > 0) series.push_back(std::move(s));
  }
  svg::Chart c("headcount", kChartWidth, 280);
  c.x_range(0, ta.at(end));
  if (series.empty()) {
    c.empty("区域内无人员 Nobody entered a zone in this run");
    return c.str();
  }
  int peak = 1;
  for (const Series& s : series) peak = std::max(peak, s.peak);
  c.y_range(0, peak * 1.1);
  c.axes(ta.label, "人数 People", ta.div > 1 ? 0 : 0, 0);
  for (size_t i = 0; i < series.size(); ++i) {
    std::vector<std::pair<double, double>> pts;
    for (int b = 0; b < kBuckets; ++b) {
      const double x0 = c.px(ta.at(end * b / kBuckets)), x1 = c.px(ta.at(end * (b + 1) / kBuckets));
      const double y = c.py(series[i].v[static_cast<size_t>(b)]);
      if (!pts.empty() && pts.back().second == y) {
        pts.back().first = x1;
        continue;
      }
      pts.push_back({x0, y});
      pts.push_back({x1, y});
    }
    c.raw("<g class=\"series\" data-zone=\"" + esc(series[i].zone) + "\"><title>" + esc(series[i].zone) + "</title>");
    c.polyline(pts, palette(i), 1.5);
    c.raw("</g>");
  }
  std::string h = c.str();
  h += "<table><thead><tr><th>" + B("颜色", "Colour") + "</th><th>" + B("区域", "Zone") + "</th><th class=\"num\">" + B("峰值人数", "Peak headcount") +
       "</th><th class=\"num\">" + B("核定人数", "Capacity") + "</th></tr></thead><tbody>";
  for (size_t i = 0; i < series.size(); ++i) {
    const Zone* z = nullptr;
    for (const Zone& zz : sc.site.zones)
      if (zz.id == series[i].zone) z = &zz;
    h += "<tr><td><span style=\"display:inline-block;width:18px;height:4px;background:" + palette(i) + "\"></span></td><td>" + E(series[i].zone) +
         (z && !z->name.empty() ? " " + E(z->name) : "") + "</td><td class=\"num\">" + std::to_string(series[i].peak) + "</td><td class=\"num\">" +
         (z && z->capacity ? std::to_string(*z->capacity) : "—") + "</td></tr>";
  }
  h += "</tbody></table><p class=\"note\">" +
       B("每个时间段取最大人数（" + std::to_string(kBuckets) + " 段）。", "Largest count per interval (" + std::to_string(kBuckets) + " intervals).") + "</p>";
  return h;
}

// ---- accuracy, alarm delay, missed and false alarms ------------------------------------------

bool fixes_estimated(const Scenario& sc, const RunResult& r) {
  return sc.positioning.mode != Positioning::Mode::truth || sc.positioning.noise_sigma > 0 || r.session.has_value();
}

std::string accuracy_section(const Scenario& sc, const RunResult& r) {
  const bool estimated = fixes_estimated(sc, r);
  std::string h;
  // CDF of the horizontal error with the 68 % and 95 % marks and the requirement's lines
  h += "<h3>" + B("水平误差累积分布", "Horizontal error CDF") + "</h3>";
  {
    svg::Chart c("accuracy-cdf", kChartWidth, 280);
    const AccuracyStats* a = estimated && r.accuracy && !r.accuracy->curve.empty() ? &*r.accuracy : nullptr;
    // bounds from the scenario's accuracy expectations
    std::vector<std::pair<double, std::string>> limits;
    for (const Expectation& x : sc.expect) {
      if (x.kind != Expectation::Kind::accuracy) continue;
      if (x.cdf68_max) limits.push_back({*x.cdf68_max, "CDF68 ≤ " + num(*x.cdf68_max, 2) + " m" + (x.req.empty() ? "" : " (" + x.req + ")")});
      if (x.cdf95_max) limits.push_back({*x.cdf95_max, "CDF95 ≤ " + num(*x.cdf95_max, 2) + " m" + (x.req.empty() ? "" : " (" + x.req + ")")});
    }
    if (!a) {
      c.empty(estimated ? "无真值对照的定位点 No fixes with truth to compare" : "真值定位，无误差 Truth positioning: no error to measure");
    } else {
      double xmax = a->curve.back();
      for (const auto& l : limits) xmax = std::max(xmax, l.first);
      xmax = std::max(xmax * 1.05, 0.01);
      c.x_range(0, xmax);
      c.y_range(0, 100);
      c.axes("水平误差 Horizontal error (m)", "累积 Cumulative (%)", xmax < 2 ? 2 : 1, 0);
      std::vector<std::pair<double, double>> pts{{c.px(0), c.py(0)}};
      const size_t n = a->curve.size();
      for (size_t k = 0; k < n; ++k) {
        const double pct = 100.0 * static_cast<double>(k + 1) / static_cast<double>(n);
        const double prev = 100.0 * static_cast<double>(k) / static_cast<double>(n);
        pts.push_back({c.px(a->curve[k]), c.py(prev)});
        pts.push_back({c.px(a->curve[k]), c.py(pct)});
      }
      c.raw("<g class=\"cdf\">");
      c.polyline(pts, "#1f77b4", 2);
      c.raw("</g>");
      for (const auto& [pct, val, label] : {std::tuple{68.27, a->cdf68, std::string("68%")}, std::tuple{95.0, a->cdf95, std::string("95%")}}) {
        c.line(c.left(), c.py(pct), c.px(val), c.py(pct), "#555", 1, "stroke-dasharray=\"4 3\" class=\"mark\"");
        c.line(c.px(val), c.py(pct), c.px(val), c.bottom(), "#555", 1, "stroke-dasharray=\"4 3\"");
        c.text(c.px(val) + 4, c.py(pct) + 12, label + " " + num(val, 3) + " m", "font-size=\"10\"");
      }
      for (size_t i = 0; i < limits.size(); ++i) {
        c.line(c.px(limits[i].first), c.top(), c.px(limits[i].first), c.bottom(), "#c62828", 1.5, "class=\"requirement\"");
        c.text(c.px(limits[i].first) - 4, c.top() + 12 + 12.0 * static_cast<double>(i), limits[i].second,
               "text-anchor=\"end\" fill=\"#c62828\" font-size=\"10\"");
      }
    }
    h += c.str();
    if (a)
      h += "<p class=\"note\">n = " + std::to_string(a->n) + "; " + B("均值", "mean") + " " + num(a->mean, 3) + " m, CDF68 " + num(a->cdf68, 3) +
           " m, CDF95 " + num(a->cdf95, 3) + " m, " + B("最大", "max") + " " + num(a->max, 3) + " m. " +
           B("红线：场景的精度要求。", "Red lines: the scenario's accuracy requirements.") + "</p>";
  }
  // alarm delay histogram
  h += "<h3>" + B("报警时延（相对真值孪生）", "Alarm delay (against the truth twin)") + "</h3>";
  {
    svg::Chart c("alarm-delay", kChartWidth, 240);
    const DelayStats* d = estimated && r.alarm_delay && !r.alarm_delay->delays.empty() ? &*r.alarm_delay : nullptr;
    if (!d) {
      c.empty(estimated ? "无匹配的报警 No matched alarms to time" : "真值定位，无时延 Truth positioning: no delay to measure");
    } else {
      double lo = *std::min_element(d->delays.begin(), d->delays.end()), hi = *std::max_element(d->delays.begin(), d->delays.end());
      // whole seconds, the largest delay inside the last bin (not on its right edge)
      lo = std::min(0.0, std::floor(lo)), hi = std::max(lo + 1, std::floor(hi) + 1);
      const int bins = static_cast<int>(std::clamp(hi - lo, 10.0, 40.0));
      const double w = (hi - lo) / bins;
      std::vector<int> count(static_cast<size_t>(bins), 0);
      for (double v : d->delays) ++count[static_cast<size_t>(std::clamp(static_cast<int>((v - lo) / w), 0, bins - 1))];
      const int top = *std::max_element(count.begin(), count.end());
      c.x_range(lo, hi);
      c.y_range(0, top * 1.1);
      c.axes("报警时延 Raise delay (s)", "报警数 Alarms", w < 1 ? 1 : 0, 0);
      for (int b = 0; b < bins; ++b) {
        if (!count[static_cast<size_t>(b)]) continue;
        const double x0 = c.px(lo + b * w), x1 = c.px(lo + (b + 1) * w);
        c.rect(x0 + 0.5, c.py(count[static_cast<size_t>(b)]), x1 - x0 - 1, c.bottom() - c.py(count[static_cast<size_t>(b)]), "#4c78a8",
               "class=\"bar\"", num(lo + b * w, 1) + "–" + num(lo + (b + 1) * w, 1) + " s: " + std::to_string(count[static_cast<size_t>(b)]));
      }
    }
    h += c.str();
    if (d)
      h += "<p class=\"note\">n = " + std::to_string(d->n) + "; p50 " + num(d->p50, 2) + " s, p95 " + num(d->p95, 2) + " s, " + B("最大", "max") + " " +
           num(d->max, 2) + " s.</p>";
  }
  // missed and false alarms by rule
  h += "<h3>" + B("各规则漏报与误报", "Missed and false alarms by rule") + "</h3>";
  {
    const AlarmQuality* q = estimated && r.alarm_quality && !r.alarm_quality->by_type.empty() ? &*r.alarm_quality : nullptr;
    std::vector<std::string> rows;
    if (q)
      for (AlarmType t : all_alarm_types())
        if (q->by_type.count(to_string(t))) rows.push_back(to_string(t));
    const double height = 60 + 26.0 * static_cast<double>(std::max<size_t>(rows.size(), 3));
    svg::Chart c("alarm-quality", kChartWidth, height, 150, 16, 10, 40);
    if (!q) {
      c.empty(estimated ? "无可比较的报警 No alarms to compare" : "真值定位，无漏报误报 Truth positioning: nothing to compare");
      h += c.str();
    } else {
      size_t top = 1;
      for (const std::string& t : rows) top = std::max({top, q->by_type.at(t).compared, q->by_type.at(t).estimated});
      c.x_range(0, static_cast<double>(top) * 1.05);
      std::vector<std::string> labels;
      for (const std::string& t : rows) {
        AlarmType ty = AlarmType::gathering;
        parse_alarm_type(t, ty);
        labels.push_back(std::string(zh(ty)) + " " + t);
      }
      c.category_axis(labels, "报警数 Alarms");
      for (size_t i = 0; i < rows.size(); ++i) {
        const RuleQuality& rq = q->by_type.at(rows[i]);
        const double y = c.row_y(i), hh = c.row_height() / 4;
        const double matched = static_cast<double>(rq.compared - rq.missed);
        c.rect(c.px(0), y - 2 * hh + 1, c.px(matched) - c.px(0), hh, "#59a14f", "class=\"matched\"");
        c.rect(c.px(matched), y - 2 * hh + 1, c.px(static_cast<double>(rq.compared)) - c.px(matched), hh, "#e15759", "class=\"missed\"");
        c.rect(c.px(0), y + 1, c.px(static_cast<double>(rq.estimated - rq.false_alarms)) - c.px(0), hh, "#59a14f");
        c.rect(c.px(static_cast<double>(rq.estimated - rq.false_alarms)), y + 1,
               c.px(static_cast<double>(rq.estimated)) - c.px(static_cast<double>(rq.estimated - rq.false_alarms)), hh, "#f28e2b", "class=\"false\"");
      }
      h += c.str();
      h += "<p class=\"legend\"><span class=\"key\" style=\"background:#59a14f\"></span>" + B("匹配", "matched") +
           "<span class=\"key\" style=\"background:#e15759\"></span>" + B("漏报（上条：真值孪生的报警）", "missed (upper bar: the truth twin's alarms)") +
           "<span class=\"key\" style=\"background:#f28e2b\"></span>" + B("误报（下条：估计位置的报警）", "false (lower bar: alarms from estimated positions)") +
           "</p>";
      h += "<table><thead><tr><th>" + B("规则", "Rule") + "</th><th class=\"num\">" + B("真值孪生", "Truth twin") + "</th><th class=\"num\">" + B("估计", "Estimated") +
           "</th><th class=\"num\">" + B("漏报", "Missed") + "</th><th class=\"num\">" + B("误报", "False") + "</th></tr></thead><tbody>";
      for (const std::string& t : rows) {
        const RuleQuality& rq = q->by_type.at(t);
        h += "<tr><td>" + E(t) + "</td><td class=\"num\">" + std::to_string(rq.compared) + "</td><td class=\"num\">" + std::to_string(rq.estimated) +
             "</td><td class=\"num\">" + std::to_string(rq.missed) + "</td><td class=\"num\">" + std::to_string(rq.false_alarms) + "</td></tr>";
      }
      h += "</tbody></table>";
    }
  }
  return h;
}

// ---- permits' Gantt chart ---------------------------------------------------------------------

std::string status_colour(const std::string& s) {
  if (s == "reserved") return "#c6dbef";
  if (s == "approved") return "#6baed6";
  if (s == "rejected") return "#de2d26";
  if (s == "applied") return "#d9d9d9";
  if (s == "signed") return "#9e9ac8";
  if (s == "in_progress") return "#31a354";
  if (s == "paused") return "#fdae6b";
  if (s == "accepted") return "#756bb1";
  if (s == "void" || s == "revoked" || s == "expired") return "#969696";
  return "#bdbdbd";
}

const char* status_zh(const std::string& s) {
  if (s == "reserved") return "已预约";
  if (s == "approved") return "预约已批准";
  if (s == "rejected") return "已驳回";
  if (s == "applied") return "已申请";
  if (s == "signed") return "已签发";
  if (s == "in_progress") return "作业中";
  if (s == "paused") return "暂停";
  if (s == "accepted") return "已验收";
  if (s == "void") return "作废";
  if (s == "revoked") return "撤销";
  if (s == "expired") return "过期";
  return "";
}

std::string permits_section(const Scenario& sc, const RunResult& r) {
  const Micros end = run_end(sc, r);
  const TimeAxis ta = time_axis(end);
  struct Row {
    std::string id, label;
    std::vector<std::pair<Micros, std::string>> changes;
  };
  std::vector<Row> rows;
  std::set<std::string> used;
  auto changes_of = [&](const std::string& id) {
    auto it = r.statuses.find(id);
    return it == r.statuses.end() ? std::vector<std::pair<Micros, std::string>>{} : it->second;
  };
  for (const PermitRecord& p : r.permits) {
    Row row{p.id, p.id + " " + p.type + (p.grade.empty() ? "" : "/" + p.grade), {}};
    if (!p.reservation.empty()) {
      row.changes = changes_of(p.reservation);
      used.insert(p.reservation);
    }
    for (auto& c : changes_of(p.id)) row.changes.push_back(c);
    std::stable_sort(row.changes.begin(), row.changes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    used.insert(p.id);
    rows.push_back(std::move(row));
  }
  for (const auto& [id, ch] : r.statuses)
    if (!used.count(id)) rows.push_back({id, id, ch});
  const double height = 60 + 26.0 * static_cast<double>(std::max<size_t>(rows.size(), 3));
  svg::Chart c("permits-gantt", kChartWidth, height, 150, 16, 10, 40);
  c.x_range(0, ta.at(end));
  std::string h;
  if (rows.empty()) {
    c.empty("本次运行无特殊作业 No special work in this run");
    h += c.str();
  } else {
    std::vector<std::string> labels;
    for (const Row& row : rows) labels.push_back(row.label);
    c.category_axis(labels, ta.label);
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& row = rows[i];
      const double y = c.row_y(i), hh = c.row_height() * 0.5;
      for (size_t k = 0; k < row.changes.size(); ++k) {
        const Micros t0 = row.changes[k].first, t1 = k + 1 < row.changes.size() ? row.changes[k + 1].first : end;
        const std::string& s = row.changes[k].second;
        c.rect(c.px(ta.at(t0)), y - hh / 2, std::max(c.px(ta.at(t1)) - c.px(ta.at(t0)), 1.0), hh, status_colour(s),
               "class=\"status\" data-status=\"" + esc(s) + "\"", row.id + " " + status_zh(s) + " " + s + " " + secs(t0) + "–" + secs(t1) + " s");
      }
      // AQ 3064.2 codes raised on this permit (alarms) and refused commands
      for (const Alarm& a : r.alarms) {
        if (a.permit != row.id || a.code == Aq2Code::none) continue;
        const double x = c.px(ta.at(a.raised_at));
        c.raw("<g class=\"aq2-code\" data-code=\"" + std::string(to_string(a.code)) + "\"><title>" + esc(alarm_title(sc, a)) + "</title><path d=\"M" +
              num(x) + " " + num(y - hh / 2 - 7) + "l4 5l-4 5l-4 -5z\" fill=\"" + hex_colour_level(a.level) + "\" stroke=\"#000\" stroke-width=\"0.5\"/>");
        c.text(x + 5, y - hh / 2 - 1, to_string(a.code), "font-size=\"9\"");
        c.raw("</g>");
      }
      for (const Refusal& f : r.refusals) {
        if (f.permit != row.id) continue;
        const double x = c.px(ta.at(f.t));
        std::string codes;
        for (const std::string& k : f.codes) codes += (codes.empty() ? "" : ",") + k;
        c.raw("<g class=\"refusal\"><title>" + esc("拒绝 refused " + f.action + " t=" + secs(f.t) + " s, AQ 3064.2 " + codes) + "</title>");
        c.line(x - 3, y + hh / 2 + 1, x + 3, y + hh / 2 + 7, "#c62828", 1.5);
        c.line(x - 3, y + hh / 2 + 7, x + 3, y + hh / 2 + 1, "#c62828", 1.5);
        c.text(x + 5, y + hh / 2 + 8, codes, "font-size=\"9\" fill=\"#c62828\"");
        c.raw("</g>");
      }
    }
    h += c.str();
  }
  h += "<p class=\"legend\">";
  for (const char* s : {"reserved", "approved", "applied", "signed", "in_progress", "paused", "accepted", "void"})
    h += "<span class=\"key\" style=\"background:" + status_colour(s) + "\"></span>" + B(status_zh(s), s);
  h += "<br>◆ " + B("AQ 3064.2 报警代码（颜色为级别）", "AQ 3064.2 alarm code (colour = level)") + " &nbsp; ✕ " +
       B("被拒绝的操作及其代码", "refused command with its codes") + "</p>";
  if (!r.permits.empty()) {
    h += "<table><thead><tr><th>" + B("编号", "ID") + "</th><th>" + B("类型", "Type") + "</th><th>" + B("状态", "Status") + "</th><th>" + B("有效期", "Valid") +
         " (s)</th><th>" + B("报警代码", "AQ 3064.2 codes") + "</th><th>" + B("作业票", "Permit") + "</th></tr></thead><tbody>";
    for (const PermitRecord& p : r.permits) {
      std::map<std::string, int> codes;
      for (const Alarm& a : r.alarms)
        if (a.permit == p.id && a.code != Aq2Code::none) ++codes[to_string(a.code)];
      std::string cs;
      for (const auto& [k, n] : codes) cs += (cs.empty() ? "" : ", ") + k + " ×" + std::to_string(n);
      h += "<tr><td>" + E(p.id) + "</td><td>" + E(p.type + (p.grade.empty() ? "" : "/" + p.grade)) + "</td><td>" +
           B(status_zh(to_string(p.status)), to_string(p.status)) + " (" + std::to_string(p.aq2_code) + ")</td><td>" + secs(p.from) + "–" + secs(p.to) +
           "</td><td>" + (cs.empty() ? "—" : cs) + "</td><td><a href=\"permits/" + E(p.id) + ".html\">permits/" + E(p.id) + ".html</a></td></tr>";
    }
    h += "</tbody></table>";
  }
  return h;
}

// ---- provenance -------------------------------------------------------------------------------

std::string provenance_section(const Scenario& sc, const RunResult& r, const std::vector<HtmlFact>& extra) {
  std::string h = "<table class=\"prov\"><tbody>";
  auto row = [&](const std::string& zh, const std::string& en, const std::string& value, bool code = false) {
    h += "<tr><th>" + B(zh, en) + "</th><td>" + (code ? "<code>" + E(value) + "</code>" : E(value)) + "</td></tr>";
  };
  row("产品版本", "Product version", "planttwin " PLANTTWIN_VERSION);
  row("场景", "Scenario", sc.name);
  row("场景文件", "Scenario file", sc.file, true);
  row("场景 SHA-256", "Scenario SHA-256", sc.scenario_sha256, true);
  row("厂区", "Site", sc.site.name + (sc.site.file.empty() ? "" : " (" + sc.site.file + ")"));
  row("厂区 SHA-256", "Site SHA-256", sc.site_sha256.empty() ? "— (inline)" : sc.site_sha256, true);
  row("随机种子", "Seed", std::to_string(sc.seed));
  const char* mode = sc.positioning.mode == Positioning::Mode::simulated ? "simulated"
                     : sc.positioning.mode == Positioning::Mode::recorded ? "recorded"
                                                                          : "truth";
  if (r.session) mode = r.session->replay ? "replay" : "live";
  row("定位方式", "Positioning", std::string(mode) + (sc.positioning.noise_sigma > 0 ? ", σ = " + num(sc.positioning.noise_sigma, 3) + " m" : ""));
  row("时长", "Duration", num(to_seconds(run_end(sc, r)), 3) + " s");
  if (r.session && r.session->replay) row("记录文件", "Recording", r.session->recording + " (SHA-256 " + r.session->recording_sha256 + ")", true);
  row("定位点", "Fixes", std::to_string(r.fixes));
  row("报警数", "Alarms", std::to_string(r.alarms.size()));
  for (const HtmlFact& f : extra) row(f.zh, f.en, f.value);
  row("报警流哈希", "Alarm-stream hash", r.hash, true);
  row("定位流哈希", "Fix-stream hash", r.fix_hash, true);
  h += "</tbody></table><p class=\"note\">" +
       B("报警流哈希为规范报警流的 SHA-256（docs/hash.md）；本页不参与任何哈希。",
         "The alarm-stream hash is the SHA-256 of the canonical alarm stream (docs/hash.md); this page enters no hash.") +
       "</p>";
  return h;
}

}  // namespace

std::string html_escape(const std::string& s) { return esc(s); }

std::string html_bilingual(const std::string& zh, const std::string& en) {
  return "<span class=\"zh\">" + esc(zh) + "</span> <span class=\"en\">" + esc(en) + "</span>";
}

std::string html_page(const std::string& title, const std::string& body) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  h += "<title>" + esc(title) + "</title><style>" + kStyle + "</style><script>" + kScript + "</script></head>\n<body>\n";
  h += "<div class=\"lang noprint\">" + B("语言", "Language") +
       ": <button type=\"button\" onclick=\"lang('zh')\">中文</button><button type=\"button\" onclick=\"lang('en')\">English</button>"
       "<button type=\"button\" onclick=\"lang('')\">中文 + English</button></div>\n";
  h += body;
  h += "</body></html>\n";
  return h;
}

std::string report_html(const Scenario& sc, const RunResult& r, const std::vector<HtmlFact>& extra) {
  std::string b;
  std::string head = "<h1>" + B("验收报告", "Acceptance report") + ": " + E(sc.name) + "</h1>";
  head += std::string("<p><span class=\"verdict ") + (r.passed ? "pass\">" + B("通过", "PASS") : "fail\">" + B("不通过", "FAIL")) + "</span> ";
  int passed = 0;
  for (const ExpectationResult& e : r.expectations) passed += e.passed;
  head += B("预期通过 ", "Expectations passed: ") + std::to_string(passed) + " / " + std::to_string(r.expectations.size()) + "</p>";
  if (!sc.description.empty()) head += "<p>" + E(sc.description) + "</p>";
  head += "<p class=\"note noprint\">" + B("目录：", "Contents: ") +
          "<a href=\"#requirements\">" + B("需求", "Requirements") + "</a> · <a href=\"#map\">" + B("平面图", "Plant map") + "</a> · <a href=\"#timeline\">" +
          B("报警时间线", "Alarm timeline") + "</a> · <a href=\"#headcount\">" + B("人数", "Headcounts") + "</a> · <a href=\"#accuracy\">" + B("精度", "Accuracy") +
          "</a> · <a href=\"#permits\">" + B("作业票", "Permits") + "</a> · <a href=\"#provenance\">" + B("来源", "Provenance") + "</a></p>";
  b += section("requirements", "结论与需求", "Verdict and requirements", head + requirements_section(sc, r), true);
  b += section("map", "厂区平面图与报警位置", "Plant map and alarm locations", map_section(sc, r));
  b += section("timeline", "报警时间线", "Alarm timeline", timeline_section(sc, r));
  b += section("headcount", "各区域人数", "Headcounts per zone", headcount_section(sc, r));
  b += section("accuracy", "定位精度与报警质量", "Accuracy and alarm quality", accuracy_section(sc, r));
  b += section("permits", "特殊作业票甘特图", "Permits (special work) Gantt chart", permits_section(sc, r));
  b += section("provenance", "来源与哈希", "Provenance and hashes", provenance_section(sc, r, extra));
  return html_page("验收报告 Acceptance report: " + sc.name, b);
}

std::string summary_html(const std::vector<SummaryRow>& rows) {
  namespace fs = std::filesystem;
  bool all = true;
  for (const SummaryRow& r : rows) all = all && r.passed;
  std::string b;
  std::string h = "<h1>" + B("验收套件汇总", "Acceptance suite summary") + "</h1>";
  h += std::string("<p><span class=\"verdict ") + (all ? "pass\">" + B("全部通过", "ALL PASS") : "fail\">" + B("有不通过", "FAILURES")) + "</span> " +
       std::to_string(rows.size()) + B(" 个场景", " scenarios") + "</p>";
  h += "<table><thead><tr><th>" + B("场景", "Scenario") + "</th><th>" + B("需求", "Requirements") + "</th><th>" + B("结论", "Result") +
       "</th><th class=\"num\">" + B("预期", "Expectations") + "</th><th>" + B("报告", "Report") + "</th></tr></thead><tbody>";
  for (const SummaryRow& r : rows) {
    std::string reqs;
    for (const std::string& q : r.requirements) reqs += (reqs.empty() ? "" : ", ") + q;
    const std::string link = fs::path(r.report_dir).filename().string() + "/report.html";
    h += "<tr><td>" + E(r.scenario) + "<br><code>" + E(r.file) + "</code></td><td>" + E(reqs) + "</td>" + result_cell(r.passed ? "passed" : "failed") +
         "<td class=\"num\">" + std::to_string(r.expectations_passed) + " / " + std::to_string(r.expectations_total) + "</td><td><a class=\"scenario-link\" href=\"" +
         E(link) + "\">" + E(link) + "</a></td></tr>";
  }
  h += "</tbody></table>";
  b += section("scenarios", "场景", "Scenarios", h, true);
  // requirements across the suite
  std::map<std::string, std::array<int, 3>> req;  // passed, failed, untested scenarios
  for (const SummaryRow& r : rows)
    for (const RequirementOutcome& o : r.outcomes) ++req[o.id][o.status == "passed" ? 0 : o.status == "failed" ? 1 : 2];
  std::string q = "<table class=\"req\"><thead><tr><th>" + B("需求", "ID") + "</th><th>" + B("名称", "Requirement") + "</th><th>" + B("结论", "Result") +
                  "</th><th class=\"num\">" + B("通过/不通过/未测试场景", "Scenarios passed / failed / untested") + "</th></tr></thead><tbody>";
  for (const auto& [id, n] : req) {
    const auto [zh, en] = split_title(requirement_title(id));
    q += "<tr><td>" + E(id) + "</td><td>" + (zh.empty() ? "—" : B(zh, en)) + "</td>" + result_cell(n[1] ? "failed" : n[0] ? "passed" : "untested") +
         "<td class=\"num\">" + std::to_string(n[0]) + " / " + std::to_string(n[1]) + " / " + std::to_string(n[2]) + "</td></tr>";
  }
  q += "</tbody></table>";
  b += section("requirements", "需求覆盖", "Requirements across the suite", q);
  // AQ 3064.2 codes: which scenarios raised them
  std::string c = "<table><thead><tr><th>" + B("代码", "Code") + "</th><th>" + B("报警类型", "Alarm type") + "</th><th class=\"num\">" + B("报警数", "Alarms") +
                  "</th><th>" + B("场景", "Scenarios") + "</th></tr></thead><tbody>";
  for (const Aq2CodeInfo& info : aq2_alarm_codes()) {
    int n = 0;
    std::string where;
    for (const SummaryRow& r : rows) {
      auto it = r.codes.find(info.text);
      if (it == r.codes.end()) continue;
      n += it->second;
      where += (where.empty() ? "" : ", ") + E(r.scenario);
    }
    c += "<tr><td>" + std::string(info.text) + "</td><td>" + B(zh(info.type), to_string(info.type)) + "</td><td class=\"num\">" + std::to_string(n) + "</td><td>" +
         (where.empty() ? B("未覆盖", "not exercised") : where) + "</td></tr>";
  }
  c += "</tbody></table>";
  b += section("codes", "AQ 3064.2 报警代码", "AQ 3064.2 alarm codes", c);
  return html_page("验收套件汇总 Acceptance suite summary", b);
}

}  // namespace planttwin
