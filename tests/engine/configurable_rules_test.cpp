// Every threshold is configurable per site (REQUIREMENTS.md): each rule with non-default settings,
// just below, at and just above them; and schedules against the calendar (PL-04).
#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

using K = AlarmEventKind;

TEST(Configurable, PL05_CrossingDelayEscalationAndExitMargin) {
  World w;
  w.site.rules.crossing_delay = s(3);
  w.site.rules.crossing_escalate_after = s(10);
  w.site.rules.crossing_exit_margin = 2;
  Zone& z = w.zone("Z", rect(0, 0, 20, 20));
  z.authorized.present = true;
  w.person("V", -5, 5, Category::visitor);
  w.run_to(9);
  w.move("V", 1, 5);  // inside from 10
  w.run_to(12);
  EXPECT_TRUE(w.raised("boundary_crossing").empty()) << "2 s inside: below the 3 s delay";
  w.run_to(13);
  EXPECT_EQ(w.raised("boundary_crossing"), std::vector<double>{13});
  w.run_to(23);
  EXPECT_TRUE(w.event_times("boundary_crossing", K::escalated).empty()) << "10 s after the raise is not more than 10 s";
  w.run_to(24);
  EXPECT_EQ(w.event_times("boundary_crossing", K::escalated), std::vector<double>{24});
  w.move("V", -1.9, 5);  // 1.9 m outside: within the 2 m margin, still inside
  w.run_to(25);
  EXPECT_TRUE(w.event_times("boundary_crossing", K::cleared).empty());
  w.move("V", -2.1, 5);
  w.run_to(26);
  EXPECT_EQ(w.event_times("boundary_crossing", K::cleared), std::vector<double>{26});
}

TEST(Configurable, PL05_OverCapacityDelay) {
  World w;
  w.site.rules.capacity_delay = s(2);
  Zone& z = w.zone("Z", rect(0, 0, 20, 20));
  z.capacity = 1;
  w.person("A", 5, 5);
  w.person("B", 50, 5);
  w.run_to(4);
  w.move("B", 6, 5);  // over capacity from 5
  w.run_to(6);
  EXPECT_TRUE(w.raised("over_capacity").empty());
  w.run_to(7);
  EXPECT_EQ(w.raised("over_capacity"), std::vector<double>{7});
}

TEST(Configurable, PL05_StationaryRadiusAndTime) {
  World w;
  w.site.rules.stationary_radius = 2;
  w.site.rules.stationary_after = s(100);
  w.person("A", 0, 0);
  w.run_to(50);
  w.move("A", 1.9, 0);  // within 2 m: the period goes on
  w.run_to(100);
  EXPECT_TRUE(w.raised("stationary").empty());
  w.run_to(101);
  EXPECT_EQ(w.raised("stationary"), std::vector<double>{101});
}

TEST(Configurable, PL09_TagOfflineUntaggedAndBatteryThresholds) {
  World w;
  w.site.rules.tag_offline_after = s(10);
  w.site.rules.untagged_after = s(20);
  w.site.rules.low_battery = 0.5;
  w.person("A", 0, 0);
  w.person("NOTAG", 5, 0, Category::visitor, {}, false);
  w.run_to(5);
  w.reporting["A"] = false;  // last fix at 5
  w.input(5.5, GateInput{w.engine->person_index("NOTAG"), true, "G"});
  TagStatusInput b;
  b.tag = w.engine->tag_index("TA");
  b.battery = 0.49;
  w.input(6, b);
  w.run_to(15);
  EXPECT_TRUE(w.raised("tag_offline").empty());
  w.run_to(16);
  EXPECT_EQ(w.raised("tag_offline"), std::vector<double>{16});
  EXPECT_EQ(w.raised("low_battery"), std::vector<double>{6});
  w.run_to(25);
  EXPECT_TRUE(w.raised("untagged_entry").empty()) << "19.5 s after the gate";
  w.run_to(26);
  EXPECT_EQ(w.raised("untagged_entry"), std::vector<double>{26});
}

TEST(Configurable, PL10_AckWithin) {
  World w;
  w.site.rules.ack_within = s(20);
  w.person("A", 0, 0);
  w.run_to(1);
  w.input(2, SosInput{w.engine->tag_index("TA")});
  w.run_to(22);
  EXPECT_TRUE(w.raised("unacknowledged").empty());
  w.run_to(23);
  EXPECT_EQ(w.raised("unacknowledged"), std::vector<double>{23});
}

TEST(Configurable, PL02_TierThresholdsAndConfirmation) {
  World w;
  w.site.rules.gathering.yellow = 2;
  w.site.rules.gathering.orange = 5;
  w.site.rules.gathering.red = 6;
  w.site.rules.gathering.confirm_close_from = Risk::red;
  for (int i = 0; i < 5; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(61);
  ASSERT_EQ(w.of_type("gathering").size(), 1u);
  EXPECT_EQ(w.of_type("gathering")[0]->level, AlarmLevel::orange);
  EXPECT_FALSE(w.of_type("gathering")[0]->needs_confirmation) << "confirmation only from red here";
}

TEST(Schedules, PL04_OvernightWindowBelongsToTheDayItStarts) {
  World w;
  // Friday 2026-01-09 23:00 +08:00; window fri 22:00-06:00: active until Saturday 06:00
  w.setup.clock.start_unix_s = 1767571200 + 4 * 86400 + 15 * 3600;
  Zone& z = w.zone("NIGHT", rect(0, 0, 20, 20));
  z.authorized.present = true;
  ScheduleWindow win;
  win.days = 1 << 4;  // fri
  win.from_min = 22 * 60;
  win.to_min = 6 * 60;
  z.schedule = {win};
  w.person("V", 5, 5, Category::visitor);
  w.run_to(0);
  EXPECT_TRUE(w.engine->zone_active(0));
  w.run_to(7 * 3600 - 1);  // Saturday 05:59:59
  EXPECT_TRUE(w.engine->zone_active(0));
  w.run_to(7 * 3600);  // Saturday 06:00
  EXPECT_FALSE(w.engine->zone_active(0));
}

TEST(Schedules, PL04_WorkdayTokenFollowsHolidaysAndMakeUpDays) {
  World w;
  // 2026-01-10 is a Saturday made a working day; 2026-01-12 (Monday) a holiday
  std::int64_t sat, mon;
  ASSERT_TRUE(parse_date("2026-01-10", sat));
  ASSERT_TRUE(parse_date("2026-01-12", mon));
  w.site.calendar.workdays = {sat};
  w.site.calendar.holidays = {mon};
  Zone& z = w.zone("Z", rect(0, 0, 20, 20));
  ScheduleWindow win;
  win.days = 0;
  win.on_workdays = true;
  z.schedule = {win};
  w.setup.clock.start_unix_s = 1767571200 + 5 * 86400;  // Saturday 2026-01-10 08:00 +08:00
  w.person("A", 50, 50);
  w.run_to(0);
  EXPECT_TRUE(w.engine->zone_active(0)) << "make-up working Saturday";
  w.run_to(86400);  // Sunday
  EXPECT_FALSE(w.engine->zone_active(0));
  w.run_to(2 * 86400);  // Monday, a holiday
  EXPECT_FALSE(w.engine->zone_active(0));
  w.run_to(3 * 86400);  // Tuesday
  EXPECT_TRUE(w.engine->zone_active(0));
}

}  // namespace
}  // namespace planttwin::test
