// drill.html beside drill.md (docs/drill.md): the same facts as a printable page, with a chart of
// the times to acknowledge and to handle against the targets. Uses the page shell of report.html.
#include <algorithm>
#include <string>

#include "scenarios/report_html.h"
#include "scenarios/svg_chart.h"
#include "viewer/drill.h"

namespace planttwin::viewer {

namespace {

std::string B(const std::string& zh, const std::string& en) { return html_bilingual(zh, en); }
std::string secs(Micros t) { return svg::num(to_seconds(t), 1); }

std::string verdict_cell(Verdict v) {
  const char* cls = v == Verdict::pass ? "pass" : v == Verdict::not_due ? "untested" : "fail";
  return std::string("<td class=\"") + cls + "\">" + B(verdict_zh(v), to_string(v)) + "</td>";
}

}  // namespace

std::string drill_html(const DrillScore& s) {
  std::string h = "<section class=\"sec first\" id=\"score\"><h1>" + B("应急演练成绩", "Drill report") + ": " + html_escape(s.scenario) + "</h1>";
  h += std::string("<p><span class=\"verdict ") + (s.all_on_time ? "pass\">" : "fail\">") + svg::num(s.total, 1) + " / 100</span> " +
       (s.all_on_time ? B("全部及时", "all on time") : B("存在超时或遗漏", "late or missed items")) + "</p>";
  h += "<table class=\"prov\"><tbody>";
  auto row = [&](const std::string& zh, const std::string& en, const std::string& v) {
    h += "<tr><th>" + B(zh, en) + "</th><td>" + html_escape(v) + "</td></tr>";
  };
  row("值班人员", "Person on duty", s.duty.empty() ? "—" : s.duty);
  row("演练时长", "Drill length", secs(s.ended_at) + " s");
  row("确认时限", "Acknowledge within", secs(s.ack_target) + " s");
  row("处置时限", "Handle within", secs(s.handle_target) + " s");
  row("报警数", "Alarms scored", std::to_string(s.alarms.size()));
  row("及时 / 超时 / 遗漏", "On time / late / missed", std::to_string(s.passed) + " / " + std::to_string(s.late) + " / " + std::to_string(s.missed));
  row("未确认升级", "Escalations (unacknowledged)", std::to_string(s.escalations));
  row("操作员操作", "Operator actions", std::to_string(s.operator_actions));
  h += "</tbody></table></section>\n";

  // times to acknowledge and to handle, one row per alarm, against the targets
  h += "<section class=\"sec\" id=\"delays\"><h2>" + B("确认与处置用时", "Time to acknowledge and to handle") + "</h2>";
  const double height = 60 + 26.0 * static_cast<double>(std::max<size_t>(s.alarms.size(), 3));
  svg::Chart c("drill-delays", 760, height, 150, 16, 10, 40);
  if (s.alarms.empty()) {
    c.empty("没有报警派给值班人员 No alarm was routed to the person on duty");
  } else {
    double top = to_seconds(std::max(s.ack_target, s.handle_target));
    for (const ScoredAlarm& a : s.alarms) {
      if (a.ack_delay) top = std::max(top, to_seconds(*a.ack_delay));
      if (a.handle_delay) top = std::max(top, to_seconds(*a.handle_delay));
    }
    c.x_range(0, top * 1.08);
    std::vector<std::string> rows;
    for (const ScoredAlarm& a : s.alarms) rows.push_back(a.id + " " + zh(a.type));
    c.category_axis(rows, "自报警起 Since the raise (s)");
    for (size_t i = 0; i < s.alarms.size(); ++i) {
      const ScoredAlarm& a = s.alarms[i];
      const double y = c.row_y(i), hh = c.row_height() / 4;
      if (a.ack_delay)
        c.rect(c.px(0), y - hh - 1, c.px(to_seconds(*a.ack_delay)) - c.px(0), hh, a.ack == Verdict::pass ? "#4c78a8" : "#e15759", "class=\"ack\"",
               a.id + " 确认 ack " + secs(*a.ack_delay) + " s (" + to_string(a.ack) + ")");
      if (a.handle_delay)
        c.rect(c.px(0), y + 1, c.px(to_seconds(*a.handle_delay)) - c.px(0), hh, a.handle == Verdict::pass ? "#59a14f" : "#f28e2b", "class=\"handle\"",
               a.id + " 处置 handle " + secs(*a.handle_delay) + " s (" + to_string(a.handle) + ")");
    }
    c.line(c.px(to_seconds(s.ack_target)), c.top(), c.px(to_seconds(s.ack_target)), c.bottom(), "#4c78a8", 1.5, "stroke-dasharray=\"5 3\" class=\"target\"");
    c.line(c.px(to_seconds(s.handle_target)), c.top(), c.px(to_seconds(s.handle_target)), c.bottom(), "#59a14f", 1.5,
           "stroke-dasharray=\"5 3\" class=\"target\"");
  }
  h += c.str();
  h += "<p class=\"legend\"><span class=\"key\" style=\"background:#4c78a8\"></span>" + B("确认（及时）", "acknowledged (on time)") +
       "<span class=\"key\" style=\"background:#e15759\"></span>" + B("确认（超时）", "acknowledged (late)") +
       "<span class=\"key\" style=\"background:#59a14f\"></span>" + B("处置（及时）", "handled (on time)") +
       "<span class=\"key\" style=\"background:#f28e2b\"></span>" + B("处置（超时）", "handled (late)") + " &nbsp; ┆ " + B("时限", "targets") + "</p>";
  h += "<table><thead><tr><th>" + B("编号", "ID") + "</th><th>" + B("类型", "Type") + "</th><th>" + B("级别", "Level") + "</th><th>" + B("触发", "Raised") +
       " (s)</th><th>" + B("确认用时", "To ack") + " (s)</th><th>" + B("判定", "Verdict") + "</th><th>" + B("处置用时", "To handle") + " (s)</th><th>" +
       B("判定", "Verdict") + "</th><th class=\"num\">" + B("得分", "Points") + "</th></tr></thead><tbody>";
  for (const ScoredAlarm& a : s.alarms)
    h += "<tr><td>" + a.id + "</td><td>" + B(zh(a.type), to_string(a.type)) + "</td><td>" + B(zh(a.level), to_string(a.level)) + "</td><td>" +
         secs(a.raised_at) + "</td><td>" + (a.ack_delay ? secs(*a.ack_delay) : "—") + "</td>" + verdict_cell(a.ack) + "<td>" +
         (a.handle_delay ? secs(*a.handle_delay) : "—") + "</td>" + verdict_cell(a.handle) + "<td class=\"num\">" + (a.scored ? svg::num(a.points, 0) : "—") +
         "</td></tr>";
  if (s.alarms.empty()) h += "<tr><td colspan=\"9\">" + B("无", "None") + "</td></tr>";
  h += "</tbody></table><p class=\"note\">" +
       B("时间自报警触发起计；确认恰在时限内为及时。每条报警：确认50分、处置50分（超时各得25分，遗漏0分）。",
         "Delays are measured from the raise; a delay equal to the target passes. Per alarm: acknowledgement 50, handling 50 (late 25, missed 0).") +
       "</p></section>\n";
  return html_page("应急演练成绩 Drill report: " + s.scenario, h);
}

}  // namespace planttwin::viewer
