// Live advice: with the default gathering rule a person counts while their fix is younger than
// their tag's previous report interval, so hardware with irregular report times keeps dropping
// people out of gathering candidates and no gathering forms. The session notices and says what to
// set (stats `advice`, the report, the command's summary); regular reports, or fix_max_age set,
// give no advice. Also the effect itself: the same jittery crowd gathers once fix_max_age is set.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <tuple>

#include "hardware-in-loop/session.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

constexpr std::int64_t kStartUs = 1'800'000'000'000'000;

// Three operators stand together for 60 s, each reporting once a second at its own offset (0, 0.1,
// 0.2 s); `jitter` (s) spreads the report times uniformly by +-jitter around that (seeded).
struct Crowd {
  std::vector<std::string> advice;
  bool gathered = false;
  SessionCounters counters;
};
Crowd stand_together(double jitter, Micros fix_max_age) {
  Scenario sc = load_live_scenario();
  sc.site.rules.gathering.fix_max_age = fix_max_age;
  SessionOptions o;
  o.start_unix_us = kStartUs;
  Session s(sc, o);
  std::uint64_t x = 7;
  auto u = [&x] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(x >> 11) * 0x1.0p-53;
  };
  struct Msg {
    Micros t;
    std::string tag;
    double px;
  };
  std::vector<Msg> msgs;
  for (int k = 1; k <= 60; ++k)
    for (auto [tag, px, offset] : {std::tuple{"T1", 20.0, 0.0}, {"T2", 22.0, 0.1}, {"T3", 21.0, 0.2}})
      msgs.push_back({std::llround((k + offset + jitter * (2 * u() - 1)) * static_cast<double>(kSecond)), tag, px});
  std::stable_sort(msgs.begin(), msgs.end(), [](const Msg& a, const Msg& b) { return a.t < b.t; });
  for (const Msg& m : msgs) {
    const std::int64_t ts = kStartUs / 1000 + m.t / kMillisecond;
    EXPECT_TRUE(s.on_message(m.t, "fix", json{{"v", 1}, {"tag", m.tag}, {"ts", ts}, {"x", m.px}, {"y", 20}, {"floor", 1}}.dump()));
  }
  s.advance(62 * kSecond);
  Crowd c;
  c.advice = s.advice();
  c.counters = s.counters();
  for (const Alarm& a : s.engine().alarms()) c.gathered = c.gathered || a.type == AlarmType::gathering;
  return c;
}

TEST(LiveAdvice, H03_IrregularReportTimesAdviseFixMaxAge) {
  const Crowd jittery = stand_together(0.3, 0);
  EXPECT_GT(jittery.counters.fix_intervals, 100u);
  EXPECT_GT(jittery.counters.late_fixes * 10, jittery.counters.fix_intervals);
  ASSERT_EQ(jittery.advice.size(), 1u);
  EXPECT_NE(jittery.advice[0].find("rules.gathering.fix_max_age"), std::string::npos) << jittery.advice[0];
  EXPECT_NE(jittery.advice[0].find("聚集"), std::string::npos);  // operators read Chinese
  // the suggestion is above the longest interval seen (about 1.6 s here)
  EXPECT_GT(to_seconds(jittery.counters.longest_interval), 1.2);
  EXPECT_NE(jittery.advice[0].find("e.g. 2.0s"), std::string::npos) << jittery.advice[0];
  // and the advice is right: with it the same crowd gathers, without it not
  EXPECT_FALSE(jittery.gathered) << "the default rule should keep dropping members here";
  const Crowd fixed = stand_together(0.3, 2 * kSecond);
  EXPECT_TRUE(fixed.gathered);
  EXPECT_TRUE(fixed.advice.empty());
}

TEST(LiveAdvice, H03_RegularReportTimesGiveNoAdvice) {
  const Crowd regular = stand_together(0.0, 0);
  EXPECT_EQ(regular.counters.late_fixes, 0u);
  EXPECT_TRUE(regular.advice.empty());
  EXPECT_TRUE(regular.gathered);
}

}  // namespace
}  // namespace planttwin::hil::test
