// Drill scoring at its edges, and a headless drill through the real command.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "viewer/drill.h"

namespace planttwin::viewer {
namespace {

Scenario drill_scenario() {
  Scenario sc;
  sc.name = "edges";
  sc.duration = 10 * kMinute;
  sc.duty.push_back({"D01", 0, 8 * kHour});
  sc.drill.ack = 30 * kSecond;
  sc.drill.handle = 2 * kMinute;
  return sc;
}

Alarm alarm(const std::string& id, Micros raised, std::optional<Micros> ack, std::optional<Micros> handle, const std::string& routed = "D01") {
  Alarm a;
  a.id = id;
  a.type = AlarmType::sos;
  a.level = AlarmLevel::red;
  a.raised_at = raised;
  a.routed_to = routed;
  a.events.push_back({raised, AlarmEventKind::raised, AlarmLevel::red, "system", ""});
  if (ack) a.acknowledged_at = *ack, a.events.push_back({*ack, AlarmEventKind::acknowledged, AlarmLevel::red, "D01", ""});
  if (handle) a.handled_at = *handle, a.events.push_back({*handle, AlarmEventKind::handled, AlarmLevel::red, "D01", ""});
  return a;
}

TEST(DrillScore, JudgeAtTheEdges) {
  const Micros target = 30 * kSecond;
  EXPECT_EQ(judge(target, target, 0, kHour), Verdict::pass);                      // exactly at the target
  EXPECT_EQ(judge(target + kMillisecond, target, 0, kHour), Verdict::late);      // 1 ms later
  EXPECT_EQ(judge(target + 1, target, 0, kHour), Verdict::late);                 // 1 us later
  EXPECT_EQ(judge(0, target, 0, kHour), Verdict::pass);
  EXPECT_EQ(judge(std::nullopt, target, 0, target + 1), Verdict::missed);        // never, target passed
  EXPECT_EQ(judge(std::nullopt, target, 0, target), Verdict::not_due);           // drill ended at the deadline
}

TEST(DrillScore, AlarmsRoutedToDuty) {
  const Scenario sc = drill_scenario();
  const Micros r = 10 * kSecond;
  AlarmLog alarms{
      alarm("A1", r, r + 30 * kSecond, r + 120 * kSecond),                        // both exactly on target: pass
      alarm("A2", r, r + 30 * kSecond + kMillisecond, r + 120 * kSecond + kMillisecond),  // 1 ms late each
      alarm("A3", r, std::nullopt, std::nullopt),                                 // never acknowledged: missed
      alarm("A4", r, r + 5 * kSecond, std::nullopt, "X99"),                       // routed to someone else: not scored
  };
  Alarm esc = alarm("A5", r + 61 * kSecond, std::nullopt, std::nullopt);
  esc.type = AlarmType::unacknowledged;
  alarms.push_back(esc);
  const DrillScore s = score_drill(sc, alarms, 5 * kMinute);
  ASSERT_EQ(s.alarms.size(), 3u);
  EXPECT_EQ(s.alarms[0].ack, Verdict::pass);
  EXPECT_EQ(s.alarms[0].handle, Verdict::pass);
  EXPECT_DOUBLE_EQ(s.alarms[0].points, 100);
  EXPECT_EQ(s.alarms[1].ack, Verdict::late);
  EXPECT_EQ(s.alarms[1].handle, Verdict::late);
  EXPECT_DOUBLE_EQ(s.alarms[1].points, 50);
  EXPECT_EQ(s.alarms[2].ack, Verdict::missed);
  EXPECT_EQ(s.alarms[2].handle, Verdict::missed);
  EXPECT_DOUBLE_EQ(s.alarms[2].points, 0);
  EXPECT_EQ(s.escalations, 1);
  EXPECT_EQ(s.passed, 2);
  EXPECT_EQ(s.late, 2);
  EXPECT_EQ(s.missed, 2);
  EXPECT_DOUBLE_EQ(s.total, 50);
  EXPECT_FALSE(s.all_on_time);
  const auto j = nlohmann::json::parse(drill_json(s));
  EXPECT_EQ(j["missed_alarms"], nlohmann::json::array({"A3"}));
  EXPECT_EQ(j["alarms"][0]["ack"]["verdict"], "pass");
  EXPECT_EQ(j["alarms"][1]["ack"]["verdict"], "late");
  EXPECT_NE(drill_markdown(s).find("遗漏"), std::string::npos);
}

TEST(DrillScore, NotDueIsNotScored) {
  const Scenario sc = drill_scenario();
  // raised 10 s before the end, acknowledged: ack on time, handling not due yet
  const DrillScore s = score_drill(sc, {alarm("A1", 290 * kSecond, 295 * kSecond, std::nullopt)}, 300 * kSecond);
  ASSERT_EQ(s.alarms.size(), 1u);
  EXPECT_EQ(s.alarms[0].handle, Verdict::not_due);
  EXPECT_DOUBLE_EQ(s.total, 100);
  EXPECT_TRUE(s.all_on_time);
  // nothing routed: a perfect score with nothing in it
  EXPECT_DOUBLE_EQ(score_drill(sc, {}, 300 * kSecond).total, 100);
}

TEST(DrillScore, DefaultTargets) {
  Scenario sc;
  sc.site.rules.ack_within = 45 * kSecond;
  EXPECT_EQ(drill_targets(sc).ack, 45 * kSecond);
  EXPECT_EQ(drill_targets(sc).handle, 5 * kMinute);
}

std::string read(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(DrillCommand, HeadlessWritesTheReport) {
  namespace fs = std::filesystem;
  const fs::path out = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "drill-headless";
  fs::remove_all(out);
  const std::string cmd = std::string(PLANTTWIN_COMMAND " drill ") + PLANTTWIN_SOURCE_DIR +
                          "/scenarios/drills/drill-tank-farm-sos.yaml --headless --report " + out.string() + " > " +
                          (out.string() + ".log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1) << read(out.string() + ".log");  // one acknowledgement is late by design
  ASSERT_TRUE(fs::exists(out / "drill.json"));
  ASSERT_TRUE(fs::exists(out / "drill.md"));
  const auto j = nlohmann::json::parse(read(out / "drill.json"));
  EXPECT_EQ(j["scenario"], "drill-tank-farm-sos");
  EXPECT_EQ(j["duty"], "D01");
  ASSERT_EQ(j["alarms"].size(), 2u);
  EXPECT_EQ(j["alarms"][0]["type"], "sos");
  EXPECT_DOUBLE_EQ(j["alarms"][0]["ack"]["delay"].get<double>(), 12.0);
  EXPECT_EQ(j["alarms"][0]["ack"]["verdict"], "pass");
  EXPECT_EQ(j["alarms"][0]["handle"]["verdict"], "pass");
  EXPECT_EQ(j["alarms"][1]["type"], "boundary_crossing");
  EXPECT_EQ(j["alarms"][1]["ack"]["verdict"], "late");
  EXPECT_EQ(j["alarms"][1]["handle"]["verdict"], "pass");
  EXPECT_DOUBLE_EQ(j["total"].get<double>(), 87.5);
  const std::string md = read(out / "drill.md");
  EXPECT_NE(md.find("总分 Total score"), std::string::npos);
  EXPECT_NE(md.find("87.5"), std::string::npos);
  // H-07 / H-05: drill.html beside drill.md: the score, both alarms' bars against the targets, self-contained
  ASSERT_TRUE(fs::exists(out / "drill.html"));
  const std::string html = read(out / "drill.html");
  EXPECT_NE(html.find("87.5 / 100"), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"drill-delays\""), std::string::npos);
  EXPECT_EQ(html.find("data-empty"), std::string::npos);
  int acks = 0;
  for (size_t at = 0; (at = html.find("class=\"ack\"", at)) != std::string::npos; ++at) ++acks;
  EXPECT_EQ(acks, 2);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);

  // bad input: no such scenario -> 2
  const int bad = std::system((std::string(PLANTTWIN_COMMAND " drill /nonexistent.yaml --headless --report ") + out.string() +
                               " > /dev/null 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(bad));
  EXPECT_EQ(WEXITSTATUS(bad), 2);
}

}  // namespace
}  // namespace planttwin::viewer
