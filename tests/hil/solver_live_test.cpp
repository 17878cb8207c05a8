// Raw `range` and `tdoa` messages through the positioning solver (H-03): a tag's epoch (same ts)
// is solved when its next epoch starts or when the collection window closes; the fix enters the
// engine then. A recorded session with ranges replays to the same hash.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "hardware-in-loop/session.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

#ifdef PLANTTWIN_HAS_SOLVER

constexpr std::int64_t kStartUs = 1'800'000'000'000'000;
constexpr std::int64_t kStartMs = kStartUs / 1000;

double dist(const Anchor& a, double x, double y, double z) { return std::sqrt(std::pow(a.at[0] - x, 2) + std::pow(a.at[1] - y, 2) + std::pow(a.at[2] - z, 2)); }

std::vector<json> ranges(const Site& site, const std::string& tag, double x, double y, std::int64_t ts) {
  std::vector<json> out;
  for (const Anchor& a : site.anchors) out.push_back({{"v", 1}, {"tag", tag}, {"anchor", a.id}, {"ts", ts}, {"d", dist(a, x, y, 1.2)}});
  return out;
}

std::vector<json> tdoas(const Site& site, const std::string& tag, double x, double y, std::int64_t ts) {
  std::vector<json> out;
  const Anchor& a = site.anchors[0];
  for (size_t i = 1; i < site.anchors.size(); ++i) {
    const Anchor& b = site.anchors[i];
    out.push_back({{"v", 1}, {"tag", tag}, {"anchor_a", a.id}, {"anchor_b", b.id}, {"ts", ts}, {"dd", dist(b, x, y, 1.2) - dist(a, x, y, 1.2)}});
  }
  return out;
}

TEST(SolverLive, H03_RangesOfOneEpochBecomeAFixWhenTheWindowCloses) {
  Scenario sc = load_live_scenario();
  SessionOptions o;
  o.start_unix_us = kStartUs;
  Session s(sc, o);
  const int p1 = s.engine().person_index("P1");
  Micros t = kSecond;
  for (const json& m : ranges(sc.site, "T1", 30, 40, kStartMs + 1000)) EXPECT_TRUE(s.on_message(t += 1000, "range", m.dump()));
  EXPECT_FALSE(s.engine().person(p1).has_fix);  // still collecting
  ASSERT_TRUE(s.next_solve_deadline().has_value());
  EXPECT_EQ(*s.next_solve_deadline(), kSecond + 1000 + o.solve_window);
  s.advance(kSecond + 1000 + o.solve_window);
  ASSERT_TRUE(s.engine().person(p1).has_fix);
  EXPECT_NEAR(s.engine().person(p1).pos.x, 30, 0.3);
  EXPECT_NEAR(s.engine().person(p1).pos.y, 40, 0.3);
  EXPECT_EQ(s.counters().solved_fixes, 1u);

  // the next epoch's first range closes the previous epoch at once
  for (const json& m : ranges(sc.site, "T1", 32, 40, kStartMs + 2000)) s.on_message(t = 2 * kSecond, "range", m.dump());
  for (const json& m : ranges(sc.site, "T1", 34, 40, kStartMs + 3000)) {
    s.on_message(t = 3 * kSecond, "range", m.dump());
    break;
  }
  EXPECT_EQ(s.counters().solved_fixes, 2u);
  EXPECT_NEAR(s.engine().person(p1).pos.x, 32, 0.5);
}

TEST(SolverLive, H03_TdoaDifferencesBecomeAFix) {
  Scenario sc = load_live_scenario();
  SessionOptions o;
  o.start_unix_us = kStartUs;
  Session s(sc, o);
  const int p2 = s.engine().person_index("P2");
  for (const json& m : tdoas(sc.site, "T2", 55, 20, kStartMs + 1000)) EXPECT_TRUE(s.on_message(kSecond, "tdoa", m.dump()));
  s.advance(kSecond + o.solve_window);
  ASSERT_TRUE(s.engine().person(p2).has_fix);
  EXPECT_NEAR(s.engine().person(p2).pos.x, 55, 0.5);
  EXPECT_NEAR(s.engine().person(p2).pos.y, 20, 0.5);
}

TEST(SolverLive, H01_RangesOverLoopbackRaiseAnAlarmAndReplayToTheSameHash) {
  const fs::path d = fs::temp_directory_path() / ("planttwin-hil-ranges-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  const std::string file = (d / "r.ptrec").string();
  LiveOptions o;
  o.record = file;
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  // the visitor T4 walks into the tank farm, seen by raw ranges only
  const std::int64_t t0 = now_unix_ms();
  for (int k = 0; k < 6; ++k) {
    const std::int64_t ts = t0 + 1000 * k;  // the tag's epochs, 1 s apart in device time (a walk, not a jump)
    for (const json& m : ranges(s.scenario().site, "T4", 50 + 4 * k, 50 + 4 * k, ts)) c.send("range", m);
    std::this_thread::sleep_for(20ms);
  }
  auto crossing = c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(crossing.has_value());
  EXPECT_EQ((*crossing)["who"], json::array({"P4"}));
  s.stop();
  const RunResult& live = s.loop().result();
  EXPECT_GE(s.loop().summary().counters.solved_fixes, 5u);
  Scenario sc;
  RunResult rep;
  LiveSummary sum;
  std::string err;
  ASSERT_TRUE(replay_recording(file, sc, rep, sum, err)) << err;
  EXPECT_EQ(rep.canonical_stream, live.canonical_stream);
  EXPECT_EQ(rep.hash, live.hash);
  EXPECT_EQ(sum.counters.solved_fixes, s.loop().summary().counters.solved_fixes);
  fs::remove_all(d);
}

#endif

}  // namespace
}  // namespace planttwin::hil::test
