// report.html, summary.html (H-05, PL-07, SO-05): structure checks on the generated pages for
// several kinds of runs (truth with alarms, special work, noisy positions with truth, nothing at
// all): every section and chart, every alarm as a marker, both languages, no outside reference,
// empty charts labelled, print CSS, the same bytes every time; and the command writing them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/report_html.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

// the opening tag of a chart (everything up to its first '>')
std::string chart_tag(const std::string& html, const std::string& kind) {
  const size_t at = html.find("data-chart=\"" + kind + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find('>', at) - at);
}
bool chart_empty(const std::string& html, const std::string& kind) { return chart_tag(html, kind).find("data-empty") != std::string::npos; }

Scenario load_file(const std::string& rel) {
  Scenario sc;
  const auto err = load_scenario_file(std::string(PLANTTWIN_SOURCE_DIR) + "/" + rel, sc);
  EXPECT_FALSE(err.has_value()) << (err ? err->to_string() : "");
  return sc;
}

Scenario load_text(const std::string& body) {
  Scenario sc;
  const auto err = load_scenario_text(body, "inline.yaml", sc);
  EXPECT_FALSE(err.has_value()) << (err ? err->to_string() : "");
  return sc;
}

RunResult run(const Scenario& sc) {
  RunResult r;
  std::string error;
  EXPECT_TRUE(run_scenario(sc, RunOptions{}, r, error)) << error;
  return r;
}

// What every page holds, whatever the run: the sections, the charts, both languages, print CSS,
// nothing that would make the browser ask the network for anything.
void expect_common_structure(const Scenario& sc, const RunResult& r, const std::string& html) {
  SCOPED_TRACE(sc.name);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"requirements", "map", "timeline", "headcount", "accuracy", "permits", "provenance"})
    EXPECT_NE(html.find(std::string("<section class=\"sec") + (std::string(id) == "requirements" ? " first" : "") + "\" id=\"" + id + "\""),
              std::string::npos)
        << id;
  for (const char* kind : {"map", "timeline", "headcount", "accuracy-cdf", "alarm-delay", "alarm-quality", "permits-gantt"})
    EXPECT_FALSE(chart_tag(html, kind).empty()) << kind;
  // self-contained: no URL, no external style sheet, script or image
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // both languages, side by side, and the switch
  const size_t zh = count(html, "<span class=\"zh\">"), en = count(html, "<span class=\"en\">");
  EXPECT_GT(zh, 30u);
  EXPECT_EQ(zh, en);
  EXPECT_NE(html.find("验收报告"), std::string::npos);
  EXPECT_NE(html.find("Acceptance report"), std::string::npos);
  EXPECT_NE(html.find("onclick=\"lang('en')\""), std::string::npos);
  // A4 print: page breaks between sections, rows never cut, both languages printed
  EXPECT_NE(html.find("@page{size:A4"), std::string::npos);
  EXPECT_NE(html.find("tr{break-inside:avoid"), std::string::npos);
  EXPECT_NE(html.find("section.sec{break-before:page"), std::string::npos);
  EXPECT_NE(html.find("html .zh,html .en{display:inline!important}"), std::string::npos);
  // the verdict, the requirement rows with links to their expectations, provenance
  EXPECT_NE(html.find(r.passed ? "class=\"verdict pass\"" : "class=\"verdict fail\""), std::string::npos);
  for (const RequirementOutcome& o : requirement_outcomes(sc, r)) {
    EXPECT_NE(html.find("<tr><td>" + o.id + "</td>"), std::string::npos) << o.id;
    for (int i : o.expectations) EXPECT_NE(html.find("<a href=\"#exp-" + std::to_string(i + 1) + "\">"), std::string::npos);
  }
  for (const ExpectationResult& e : r.expectations) EXPECT_NE(html.find("<tr id=\"exp-" + std::to_string(e.index + 1) + "\">"), std::string::npos);
  EXPECT_NE(html.find(r.hash), std::string::npos);
  EXPECT_NE(html.find(sc.scenario_sha256), std::string::npos);
  EXPECT_NE(html.find("<td>" + std::to_string(sc.seed) + "</td>"), std::string::npos);
  // every alarm: a marker on its floor's map (or in the list of alarms without a position), a bar
  // on the timeline, a row in the floor's legend table
  const std::vector<std::string> floors = sc.site.floor_ids();
  size_t located = 0;
  for (const Alarm& a : r.alarms) {
    const bool on_map = std::find(floors.begin(), floors.end(), a.floor) != floors.end();
    located += on_map;
    if (on_map) {
      EXPECT_NE(html.find("class=\"alarm-marker\" data-alarm=\"" + a.id + "\""), std::string::npos) << a.id;
    }
    EXPECT_NE(html.find("class=\"alarm-bar\" data-alarm=\"" + a.id + "\""), std::string::npos) << a.id;
    EXPECT_NE(html.find("<td>" + a.id + "</td>"), std::string::npos) << a.id;
  }
  EXPECT_EQ(count(html, "class=\"alarm-marker\""), located);
  EXPECT_EQ(count(html, "class=\"alarm-bar\""), r.alarms.size());
  EXPECT_EQ(chart_empty(html, "timeline"), r.alarms.empty());
  EXPECT_EQ(chart_empty(html, "permits-gantt"), r.statuses.empty());
  // a map per floor
  EXPECT_EQ(count(html, "data-chart=\"map\""), std::max<size_t>(floors.size(), 1));
  // the same inputs give the same bytes
  EXPECT_EQ(html, report_html(sc, r));
}

TEST(ReportHtml, H05_PL05_TruthRunWithAlarmsHasEveryMarkerAndLabelsItsEmptyCharts) {
  const Scenario sc = load_file("scenarios/acceptance/pl05-crossing-tank-farm.yaml");
  const RunResult r = run(sc);
  ASSERT_FALSE(r.alarms.empty());
  const std::string html = report_html(sc, r);
  expect_common_structure(sc, r, html);
  EXPECT_FALSE(sc.site.anchors.empty());
  EXPECT_GE(count(html, "class=\"anchor\""), 1u);
  EXPECT_GE(count(html, "class=\"zone\""), sc.site.zones.size());
  EXPECT_FALSE(chart_empty(html, "timeline"));
  EXPECT_FALSE(chart_empty(html, "headcount"));
  // truth positioning: the accuracy charts are drawn empty, saying why
  for (const char* kind : {"accuracy-cdf", "alarm-delay", "alarm-quality"}) EXPECT_TRUE(chart_empty(html, kind)) << kind;
  EXPECT_NE(html.find("Truth positioning: no error to measure"), std::string::npos);
  // no special work: the Gantt chart is there, empty, saying so
  EXPECT_TRUE(chart_empty(html, "permits-gantt"));
  EXPECT_NE(html.find("No special work in this run"), std::string::npos);
  // hover text of a marker: type, level and time
  const Alarm& a = r.alarms.front();
  const size_t m = html.find("data-alarm=\"" + a.id + "\"");
  const std::string marker = html.substr(m, html.find("</circle>", m) - m);
  EXPECT_NE(marker.find(std::string("<title>") + a.id + " " + zh(a.type) + " " + to_string(a.type)), std::string::npos) << marker;
  char t[64];
  std::snprintf(t, sizeof t, " t=%.1f s ", to_seconds(a.raised_at));
  EXPECT_NE(marker.find(t), std::string::npos) << marker;
  if (a.level != AlarmLevel::none) {
    EXPECT_NE(marker.find(std::string(zh(a.level)) + " " + to_string(a.level)), std::string::npos) << marker;
  }
}

TEST(ReportHtml, SO04_SO05_PermitsGanttShowsEveryStatusAndTheAq2Codes) {
  const Scenario sc = load_file("scenarios/acceptance/so04-lifecycle.yaml");
  const RunResult r = run(sc);
  ASSERT_FALSE(r.permits.empty());
  const std::string html = report_html(sc, r);
  expect_common_structure(sc, r, html);
  EXPECT_FALSE(chart_empty(html, "permits-gantt"));
  // one status bar per recorded status change
  size_t changes = 0;
  for (const auto& [id, v] : r.statuses) changes += v.size();
  EXPECT_EQ(count(html, "class=\"status\""), changes);
  for (const auto& [id, v] : r.statuses)
    for (const auto& [t, status] : v) EXPECT_NE(html.find("data-status=\"" + status + "\""), std::string::npos) << status;
  // each AQ 3064.2 code raised on a permit is marked on its row
  size_t coded = 0;
  for (const Alarm& a : r.alarms)
    if (a.code != Aq2Code::none && !a.permit.empty()) {
      ++coded;
      EXPECT_NE(html.find(std::string("class=\"aq2-code\" data-code=\"") + to_string(a.code) + "\""), std::string::npos);
    }
  EXPECT_EQ(count(html, "class=\"aq2-code\""), coded);
  for (const PermitRecord& p : r.permits) EXPECT_NE(html.find("href=\"permits/" + p.id + ".html\""), std::string::npos);
}

TEST(ReportHtml, H06_NoisyRunDrawsTheCdfWithItsMarksTheRequirementLineDelaysAndMissedFalseByRule) {
  const Scenario sc = load_text(R"(
scenario: noisy-crossings
duration: 240s
seed: 5
positioning: {mode: truth, noise_sigma: 0.6}
site:
  site: inline-test
  zones:
    - {id: Z, kind: high_risk, risk: red, polygon: [[0, 0], [20, 0], [20, 20], [0, 20]], authorized: {roles: [operator]}}
people:
  - {id: V1, category: visitor, tag: T1, at: [-15, 5]}
  - {id: V2, category: visitor, tag: T2, at: [-15, 10]}
  - {id: V3, category: visitor, tag: T3, at: [-15, 15]}
  - {id: A, tag: TA, at: [40, 40]}
script:
  - {t: 0s, who: V1, go_to: [10, 5], speed: 1.2}
  - {t: 30s, who: V2, go_to: [10, 10], speed: 1.2}
  - {t: 60s, who: V3, go_to: [10, 15], speed: 1.2}
expect:
  - {accuracy: {cdf68_max: 1.5}, req: H-06}
  - {alarm: boundary_crossing, who: V1, between: [0s, 60s], req: PL-04}
)");
  const RunResult r = run(sc);
  ASSERT_TRUE(r.accuracy.has_value());
  ASSERT_EQ(r.accuracy->curve.size(), static_cast<size_t>(kAccuracyCurvePoints));
  EXPECT_TRUE(std::is_sorted(r.accuracy->curve.begin(), r.accuracy->curve.end()));
  EXPECT_DOUBLE_EQ(r.accuracy->curve.back(), r.accuracy->max);
  ASSERT_TRUE(r.alarm_delay.has_value());
  EXPECT_EQ(r.alarm_delay->delays.size(), r.alarm_delay->n);
  ASSERT_TRUE(r.alarm_quality.has_value());
  size_t compared = 0;
  for (const auto& [type, q] : r.alarm_quality->by_type) compared += q.compared;
  EXPECT_EQ(compared, r.alarm_quality->compared);
  const std::string html = report_html(sc, r);
  expect_common_structure(sc, r, html);
  EXPECT_FALSE(chart_empty(html, "accuracy-cdf"));
  EXPECT_NE(html.find("class=\"cdf\""), std::string::npos);
  EXPECT_EQ(count(html, "class=\"mark\""), 2u) << "the 68 % and 95 % marks";
  EXPECT_EQ(count(html, "class=\"requirement\""), 1u) << "the scenario's cdf68_max line";
  EXPECT_NE(html.find("CDF68 ≤ 1.50 m (H-06)"), std::string::npos);
  EXPECT_EQ(chart_empty(html, "alarm-delay"), r.alarm_delay->delays.empty());
  EXPECT_GE(r.alarm_delay->n, 1u);
  EXPECT_GE(count(html, "class=\"bar\""), 1u);
  EXPECT_FALSE(chart_empty(html, "alarm-quality"));
  EXPECT_NE(html.find("<td>boundary_crossing</td>"), std::string::npos);
}

// The run's first alarm copied `n` times on its floor (ids A000001..., one second apart); `varied`:
// spread over 10 m, every second one acknowledged and closed.
void copy_first_alarm(RunResult& r, int n, bool varied) {
  const Alarm proto = r.alarms.front();
  r.alarms.clear();
  for (int i = 0; i < n; ++i) {
    Alarm a = proto;
    char id[16];
    std::snprintf(id, sizeof id, "A%06d", i + 1);
    a.id = id;
    a.raised_at = proto.raised_at + i * kSecond;
    if (varied) {
      a.pos.x += i % 10;
      if (i % 2) a.closed_at = a.raised_at + 30 * kSecond, a.acknowledged_at = a.raised_at + 5 * kSecond;
    }
    r.alarms.push_back(a);
  }
}

TEST(ReportHtml, H05_ManyAlarmsKeepEveryMarkerButListAndMergeCompactly) {
  // a real run's alarm copied to 250 alarms on one floor: past 60 per floor the legend is a
  // compact list, past 200 the timeline draws merged paths; the map keeps one marker per alarm
  // (up to kMapMarkerDetail on a floor)
  ASSERT_LE(250u, kMapMarkerDetail);
  const Scenario sc = load_file("scenarios/acceptance/pl05-crossing-tank-farm.yaml");
  RunResult r = run(sc);
  ASSERT_FALSE(r.alarms.empty());
  copy_first_alarm(r, 250, true);
  const std::string html = report_html(sc, r);
  EXPECT_EQ(count(html, "class=\"alarm-marker\""), 250u);
  for (const Alarm& a : r.alarms) {
    EXPECT_NE(html.find("class=\"alarm-marker\" data-alarm=\"" + a.id + "\""), std::string::npos) << a.id;
    EXPECT_NE(html.find("<li>" + a.id + " "), std::string::npos) << a.id;
  }
  EXPECT_EQ(count(html, "<ol class=\"legend-list\">"), 1u);
  EXPECT_EQ(count(html, "class=\"alarm-bar\""), 0u);
  EXPECT_GE(count(html, "class=\"alarm-bars-merged\""), 1u);
  EXPECT_FALSE(chart_empty(html, "timeline"));
  EXPECT_NE(html.find("Many alarms (250)"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
}

// Past 500 alarms on a floor (a one-hour run of 2,000 people raises 6,405): the per-alarm list is
// folded (<details>: expand on screen, not printed: it was 90 of the page's 100 printed pages and 11
// of its 19 s of print time) and a count per type and level is printed instead; every alarm keeps
// its marker and its line.
TEST(ReportHtml, H05_ThousandsOfAlarmsFoldTheListAndPrintCountsByTypeAndLevel) {
  const Scenario sc = load_file("scenarios/acceptance/pl05-crossing-tank-farm.yaml");
  RunResult r = run(sc);
  ASSERT_FALSE(r.alarms.empty());
  copy_first_alarm(r, 501, false);
  std::string html = report_html(sc, r);
  // the map merges them (past kMapMarkerDetail): all 501 at one place, one marker drawn
  EXPECT_EQ(count(html, "class=\"alarm-marker\""), 0u);
  EXPECT_EQ(count(html, "class=\"alarm-markers-merged\""), 1u);
  EXPECT_NE(html.find("data-alarms=\"501\""), std::string::npos);
  EXPECT_EQ(count(html, "<li>A0"), 501u);
  EXPECT_EQ(count(html, "<details class=\"legend-more\">"), 1u);
  EXPECT_NE(html.find("Show all 501 alarms"), std::string::npos);
  const std::size_t counts = html.find("Alarms on this floor by type and level");
  ASSERT_NE(counts, std::string::npos);
  EXPECT_NE(html.find("<td>501</td>", counts), std::string::npos);  // one type, one level: all 501
  // at 500 the list is printed as before
  r.alarms.pop_back();
  html = report_html(sc, r);
  EXPECT_EQ(count(html, "<details class=\"legend-more\">"), 0u);
  EXPECT_EQ(count(html, "<li>A0"), 500u);
}

// A map cell's hover square (<rect class="alarm-cell">): its data-alarms count and its hover text.
struct MapCell {
  size_t alarms = 0;
  std::string title;
};
std::vector<MapCell> map_cells(const std::string& html) {
  std::vector<MapCell> cells;
  const std::string tag = "<rect class=\"alarm-cell\" data-alarms=\"";
  for (size_t at = html.find(tag); at != std::string::npos; at = html.find(tag, at + tag.size())) {
    MapCell c;
    c.alarms = std::stoul(html.substr(at + tag.size()));
    const size_t t0 = html.find("<title>", at) + 7;
    c.title = html.substr(t0, html.find("</title>", t0) - t0);
    cells.push_back(c);
  }
  return cells;
}

// The merged paths of the map (past kMapMarkerDetail alarms on a floor): level -> (data-alarms,
// markers drawn), in the order they are drawn.
std::vector<std::pair<std::string, std::pair<size_t, size_t>>> merged_markers(const std::string& html) {
  std::vector<std::pair<std::string, std::pair<size_t, size_t>>> paths;
  const std::string tag = "<path class=\"alarm-markers-merged\" data-level=\"";
  for (size_t at = html.find(tag); at != std::string::npos; at = html.find(tag, at + tag.size())) {
    const size_t l0 = at + tag.size(), l1 = html.find('"', l0);
    const size_t n0 = html.find("data-alarms=\"", l1) + 13;
    const size_t d0 = html.find(" d=\"", l1) + 4, d1 = html.find('"', d0);
    paths.push_back({html.substr(l0, l1 - l0), {std::stoul(html.substr(n0)), count(html.substr(d0, d1 - d0), "M")}});
  }
  return paths;
}

// Up to kMapMarkerDetail alarms on a floor, one marker with its hover text per alarm; one more and
// the floor's markers are drawn merged per level (red last, on top; one per position), and the hover
// text moves to a grid of cells, each saying how many alarms it holds, of which types and levels,
// and listing the first 40 ids (a one-hour run of 2,000 people has 6,397 alarms on one floor: their
// markers were most of the print time left, docs/report.md "Size and print time at scale").
TEST(ReportHtml, H05_PastKMapMarkerDetailAlarmsOnAFloorTheMapMergesMarkersAndCountsThemPerCell) {
  const Scenario sc = load_file("scenarios/acceptance/pl05-crossing-tank-farm.yaml");
  RunResult r = run(sc);
  ASSERT_FALSE(r.alarms.empty());
  const size_t n = kMapMarkerDetail;
  // 7 places 50 m apart inside the demo plant (cells are 20 m there), alternately red and blue
  auto spread = [&](size_t count) {
    copy_first_alarm(r, static_cast<int>(count), false);
    for (size_t i = 0; i < r.alarms.size(); ++i) {
      r.alarms[i].pos = {20.0 + 50.0 * static_cast<double>(i % 7), 150.0};
      r.alarms[i].level = i % 2 ? AlarmLevel::blue : AlarmLevel::red;
    }
  };

  // at the threshold: one marker per alarm, with its hover text; no merged path, no cell
  spread(n);
  std::string html = report_html(sc, r);
  EXPECT_EQ(count(html, "class=\"alarm-marker\""), n);
  for (const Alarm& a : r.alarms) EXPECT_NE(html.find("class=\"alarm-marker\" data-alarm=\"" + a.id + "\""), std::string::npos) << a.id;
  EXPECT_TRUE(merged_markers(html).empty());
  EXPECT_TRUE(map_cells(html).empty());
  EXPECT_EQ(html.find("Many alarms on this floor"), std::string::npos);

  // one more: merged per level, blue first and red on top, each position drawn once per level
  spread(n + 1);
  html = report_html(sc, r);
  EXPECT_EQ(count(html, "class=\"alarm-marker\""), 0u);
  const auto paths = merged_markers(html);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0].first, "blue");
  EXPECT_EQ(paths[0].second, std::make_pair((n + 1) / 2, size_t{7}));
  EXPECT_EQ(paths[1].first, "red");
  EXPECT_EQ(paths[1].second, std::make_pair((n + 2) / 2, size_t{7}));
  EXPECT_NE(html.find("Many alarms on this floor (" + std::to_string(n + 1) + ")"), std::string::npos);
  EXPECT_NE(html.find("本层报警较多（" + std::to_string(n + 1) + " 条）"), std::string::npos);
  EXPECT_NE(html.find("hover a 20 m grid cell"), std::string::npos);
  // a cell per place, holding every alarm once: its count, by type and level, the first 40 ids
  const auto cells = map_cells(html);
  ASSERT_EQ(cells.size(), 7u);
  size_t total = 0;
  std::set<std::string> listed;
  for (const MapCell& c : cells) {
    SCOPED_TRACE(c.title);
    total += c.alarms;
    EXPECT_NE(c.title.find(": " + std::to_string(c.alarms) + " 条报警 alarms; "), std::string::npos);
    EXPECT_NE(c.title.find(" 越界 boundary_crossing 蓝 blue ×"), std::string::npos);
    EXPECT_NE(c.title.find(" 越界 boundary_crossing 红 red ×"), std::string::npos);
    size_t ids = 0;
    for (const Alarm& a : r.alarms) {
      if (c.title.find(" " + a.id) == std::string::npos) continue;
      ++ids;
      EXPECT_TRUE(listed.insert(a.id).second) << a.id << " in two cells";
    }
    EXPECT_EQ(ids, std::min<size_t>(c.alarms, 40));
    if (c.alarms > 40) {
      EXPECT_NE(c.title.find("另 " + std::to_string(c.alarms - 40) + " 条 " + std::to_string(c.alarms - 40) + " more"), std::string::npos);
    }
  }
  EXPECT_EQ(total, n + 1);
  // the first cell (x 20 m) holds alarms 1, 8, 15, ...: the 40th (A000274) is listed, the 41st
  // (A000281) is among the "more"
  ASSERT_GT(n + 1, 7u * 40);
  EXPECT_NE(cells.front().title.find("x 20–40 m, y 140–160 m: " + std::to_string((n + 7) / 7) + " 条报警 alarms"), std::string::npos);
  EXPECT_NE(cells.front().title.find(": A000001 A000008 "), std::string::npos);
  EXPECT_NE(cells.front().title.find(" A000274 …"), std::string::npos);
  EXPECT_EQ(cells.front().title.find("A000281"), std::string::npos);
  // every alarm is still in the list below the map (printed, up to 500 on a floor)
  EXPECT_EQ(count(html, "<li>A0"), n + 1);
  EXPECT_EQ(html, report_html(sc, r));
}

TEST(ReportHtml, H05_ARunWithNothingDrawsEveryChartEmptyAndSaysSo) {
  const Scenario sc = load_text(R"(
scenario: quiet
duration: 30s
site:
  site: empty-site
people:
  - {id: A, tag: TA, at: [5, 5]}
)");
  const RunResult r = run(sc);
  ASSERT_TRUE(r.alarms.empty());
  const std::string html = report_html(sc, r);
  expect_common_structure(sc, r, html);
  for (const char* kind : {"timeline", "headcount", "accuracy-cdf", "alarm-delay", "alarm-quality", "permits-gantt"})
    EXPECT_TRUE(chart_empty(html, kind)) << kind;
  for (const char* msg : {"No alarms in this run", "Nobody entered a zone in this run", "No special work in this run"})
    EXPECT_NE(html.find(msg), std::string::npos) << msg;
  EXPECT_NE(html.find("The scenario has no expectations."), std::string::npos);
}

TEST(ReportHtml, H05_SummaryLinksEveryScenarioPage) {
  SummaryRow a, b;
  a.file = "x/a.yaml", a.scenario = "a", a.report_dir = "out/a", a.passed = true, a.expectations_passed = a.expectations_total = 2;
  a.requirements = {"PL-02"};
  a.outcomes = {{"PL-02", "passed", {0, 1}}};
  a.codes["01"] = 2;
  b.file = "x/b.yaml", b.scenario = "b<&>", b.report_dir = "out/b", b.passed = false, b.expectations_total = 1;
  b.outcomes = {{"SO-04", "failed", {0}}};
  const std::string html = summary_html({a, b});
  EXPECT_NE(html.find("href=\"a/report.html\""), std::string::npos);
  EXPECT_NE(html.find("href=\"b/report.html\""), std::string::npos);
  EXPECT_EQ(count(html, "class=\"scenario-link\""), 2u);
  EXPECT_NE(html.find("b&lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(html.find("class=\"verdict fail\""), std::string::npos);
  EXPECT_NE(html.find("not exercised"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html, summary_html({a, b}));
}

// The command: `run` writes report.html beside every report.md and summary.html linking them all.
TEST(ReportHtml, H05_RunCommandWritesEveryPageAndTheSummaryLinksResolve) {
  const fs::path out = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "report-html-command";
  fs::remove_all(out);
  fs::create_directories(out.parent_path());
  const std::string src = PLANTTWIN_SOURCE_DIR;
  const std::string cmd = std::string(PLANTTWIN_COMMAND " run ") + src + "/scenarios/acceptance/pl06-sos.yaml " + src +
                          "/scenarios/acceptance/so04-lifecycle.yaml --report " + out.string() + " > " + out.string() + ".log 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 0);
  ASSERT_TRUE(fs::exists(out / "summary.html"));
  std::ifstream in(out / "summary.html");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string summary = ss.str();
  size_t links = 0;
  for (size_t at = summary.find("class=\"scenario-link\" href=\""); at != std::string::npos;
       at = summary.find("class=\"scenario-link\" href=\"", at + 1)) {
    const size_t q = at + std::string("class=\"scenario-link\" href=\"").size();
    const std::string href = summary.substr(q, summary.find('"', q) - q);
    EXPECT_TRUE(fs::exists(out / href)) << href;
    EXPECT_TRUE(fs::exists(fs::path(out / href).parent_path() / "report.md")) << href;
    ++links;
  }
  EXPECT_EQ(links, 2u);
}

}  // namespace
}  // namespace planttwin
