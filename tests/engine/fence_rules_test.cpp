// PL-01, PL-04, PL-05: zones and headcounts, fences (authorisation, schedules, 3D, stay-inside,
// hysteresis), over-capacity, under-staffing, stationary, overstay.
#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

using K = AlarmEventKind;

std::vector<int> zone_count_changes(const World& w, const std::string& zone) {
  std::vector<int> v;
  for (const Output& o : w.engine->outputs())
    if (const auto* z = std::get_if<ZoneCountOutput>(&o.body))
      if (w.engine->site().zones[static_cast<size_t>(z->zone)].id == zone) v.push_back(z->count);
  return v;
}

TEST(Zones, PL01_HeadcountByCategoryWithEventsOnChangeOnly) {
  World w;
  w.zone("Z", rect(0, 0, 10, 10));
  w.person("A", 5, 5);
  w.person("B", 6, 5, Category::contractor);
  w.person("C", 50, 50, Category::visitor);
  w.run_to(3);
  const int z = w.engine->zone_index("Z");
  EXPECT_EQ(w.engine->zone_count(z), 2);
  const auto cat = w.engine->zone_count_by_category(z);
  EXPECT_EQ(cat[0], 1);
  EXPECT_EQ(cat[1], 1);
  EXPECT_EQ(cat[2], 0);
  w.move("C", 9, 9);
  w.run_to(5);
  EXPECT_EQ(w.engine->zone_count(z), 3);
  EXPECT_EQ(zone_count_changes(w, "Z"), (std::vector<int>{2, 3})) << "one event per change, none while unchanged";
}

TEST(Zones, PL04_PointOnTheEdgeIsInside) {
  World w;
  w.zone("Z", rect(0, 0, 10, 10));
  w.person("A", 10, 5);
  w.run_to(0);
  EXPECT_EQ(w.engine->zone_count(0), 1);
}

TEST(Zones, PL05_HysteresisOnLeavingOnly) {
  World w;
  w.zone("Z", rect(0, 0, 10, 10));
  w.person("A", 5, 5);
  w.run_to(1);
  w.move("A", 10.9, 5);  // 0.9 m outside: still inside (exit_margin 1 m)
  w.run_to(2);
  EXPECT_EQ(w.engine->zone_count(0), 1);
  w.move("A", 11.1, 5);  // 1.1 m outside: left
  w.run_to(3);
  EXPECT_EQ(w.engine->zone_count(0), 0);
  w.move("A", 10.5, 5);  // 0.5 m outside: not back in (entering counts from the edge)
  w.run_to(4);
  EXPECT_EQ(w.engine->zone_count(0), 0);
}

TEST(Fences, PL04_UnauthorisedEntryRaisesAtOnceAndEscalatesAfterMoreThan30s) {
  World w;
  Zone& z = w.zone("TANKS", rect(0, 0, 20, 20));
  z.authorized.present = true;
  z.authorized.roles = {"operator"};
  w.person("V", -10, 5, Category::visitor);
  w.run_to(9);
  w.move("V", 2, 5);  // inside from the fix at 10
  w.run_to(60);
  EXPECT_EQ(w.raised("boundary_crossing"), std::vector<double>{10});
  EXPECT_EQ(w.event_times("boundary_crossing", K::escalated), std::vector<double>{41}) << "10 + more than 30 s";
  EXPECT_EQ(w.of_type("boundary_crossing")[0]->zone, "TANKS");
  w.move("V", -10, 5);
  w.run_to(61);
  EXPECT_EQ(w.event_times("boundary_crossing", K::cleared), std::vector<double>{61});
}

TEST(Fences, PL04_LeavingBefore30sClearsWithoutEscalation) {
  World w;
  Zone& z = w.zone("TANKS", rect(0, 0, 20, 20));
  z.authorized.present = true;
  w.person("V", 2, 5, Category::visitor);
  w.run_to(30);
  w.move("V", -10, 5);
  w.run_to(60);
  EXPECT_EQ(w.raised("boundary_crossing"), std::vector<double>{0});
  EXPECT_TRUE(w.event_times("boundary_crossing", K::escalated).empty());
  EXPECT_EQ(w.event_times("boundary_crossing", K::cleared), std::vector<double>{31});
}

TEST(Fences, PL04_AuthorisedByPersonRoleOrCategoryCauseNoAlarm) {
  World w;
  Zone& z = w.zone("Z", rect(0, 0, 20, 20));
  z.authorized.present = true;
  z.authorized.people = {"NAMED"};
  z.authorized.roles = {"operator"};
  z.authorized.categories = {Category::driver};
  w.person("NAMED", 1, 1, Category::visitor);
  w.person("OPER", 2, 2, Category::contractor, {"operator"});
  w.person("DRV", 3, 3, Category::driver);
  w.person("OTHER", 4, 4, Category::employee, {"welder"});
  w.run_to(5);
  ASSERT_EQ(w.of_type("boundary_crossing").size(), 1u);
  EXPECT_EQ(w.of_type("boundary_crossing")[0]->who, std::vector<std::string>{"OTHER"});
}

TEST(Fences, PL04_ScheduleInLocalTimeActivatesTheFence) {
  World w;
  // start 2026-01-05 07:59:50 +08:00 (a Monday); active on weekdays 08:00-18:00
  w.setup.clock.start_unix_s = 1767571200 - 10;
  Zone& z = w.zone("LOAD", rect(0, 0, 20, 20));
  z.authorized.present = true;
  ScheduleWindow win;
  win.days = 0x1f;
  win.from_min = 8 * 60;
  win.to_min = 18 * 60;
  z.schedule = {win};
  w.person("V", 5, 5, Category::visitor);
  w.run_to(9);
  EXPECT_TRUE(w.raised("boundary_crossing").empty()) << "before 08:00 the fence is not active";
  w.run_to(12);
  EXPECT_EQ(w.raised("boundary_crossing"), std::vector<double>{10}) << "raised at 08:00:00 with the person inside";
}

TEST(Fences, PL04_ScheduleNotActiveOnARestDay) {
  World w;
  w.setup.clock.start_unix_s = 1767571200 + 5 * 86400;  // Saturday 2026-01-10 08:00 +08:00
  Zone& z = w.zone("LOAD", rect(0, 0, 20, 20));
  z.authorized.present = true;
  ScheduleWindow win;
  win.days = 0x1f;
  win.from_min = 0;
  win.to_min = 1440;
  z.schedule = {win};
  w.person("V", 5, 5, Category::visitor);
  w.run_to(10);
  EXPECT_TRUE(w.raised("boundary_crossing").empty());
}

TEST(Fences, PL04_ThreeDimensionalFenceByFloor) {
  World w;
  Zone& z = w.zone("CTRL2", rect(0, 0, 20, 20));
  z.floors = {"2"};
  z.authorized.present = true;
  w.person("DOWN", 5, 5, Category::visitor, {}, true, "1");
  w.person("UP", 6, 5, Category::visitor, {}, true, "2");
  w.run_to(3);
  EXPECT_EQ(w.engine->zone_count(0), 1);
  ASSERT_EQ(w.of_type("boundary_crossing").size(), 1u);
  EXPECT_EQ(w.of_type("boundary_crossing")[0]->who, std::vector<std::string>{"UP"});
}

TEST(Fences, PL04_ThreeDimensionalFenceByHeightBand) {
  World w;
  Zone& z = w.zone("PLATFORM", rect(0, 0, 20, 20));
  z.z = std::make_pair(6.0, 10.0);
  w.person("GROUND", 5, 5);
  w.person("DECK", 6, 5);
  w.z_of["DECK"] = 7.2;
  w.run_to(1);
  EXPECT_EQ(w.engine->zone_count(0), 1);
}

TEST(Fences, PL04_StayInsideFenceRaisesWhenAnAuthorisedPersonLeaves) {
  World w;
  Zone& z = w.zone("PEN", rect(0, 0, 20, 20));
  z.authorized.present = true;
  z.authorized.people = {"W"};
  z.stay_inside = true;
  w.person("W", 10, 10, Category::contractor);
  w.run_to(5);
  EXPECT_TRUE(w.raised("boundary_crossing").empty());
  w.move("W", 30, 10);
  w.run_to(6);
  EXPECT_EQ(w.raised("boundary_crossing"), std::vector<double>{6});
  w.run_to(36);
  EXPECT_TRUE(w.event_times("boundary_crossing", K::escalated).empty());
  w.run_to(37);
  EXPECT_EQ(w.event_times("boundary_crossing", K::escalated), std::vector<double>{37}) << "6 + more than 30 s";
  w.move("W", 10, 10);
  w.run_to(38);
  EXPECT_EQ(w.event_times("boundary_crossing", K::cleared), std::vector<double>{38});
}

TEST(Capacity, PL05_OverCapacityAboveTheLimitOnly) {
  World w;
  Zone& z = w.zone("Z", rect(0, 0, 15, 15));
  z.capacity = 4;
  for (int i = 0; i < 4; ++i) w.person("P" + std::to_string(i), 3 + i, 3);
  w.person("P4", 30, 3);
  w.run_to(5);
  EXPECT_TRUE(w.raised("over_capacity").empty()) << "4 people at capacity 4";
  w.move("P4", 12, 12);
  w.run_to(6);
  EXPECT_EQ(w.raised("over_capacity"), std::vector<double>{6});
  EXPECT_EQ(w.of_type("over_capacity")[0]->who.size(), 5u);
  w.move("P4", 30, 3);
  w.run_to(7);
  EXPECT_EQ(w.event_times("over_capacity", K::cleared), std::vector<double>{7});
}

TEST(Capacity, PL05_UnderStaffingWhileActiveNoneIncluded) {
  World w;
  Zone& z = w.zone("CTRL", rect(0, 0, 10, 10));
  z.min_staff = 1;
  w.person("A", 50, 50);
  w.run_to(2);
  EXPECT_EQ(w.raised("under_staffing"), std::vector<double>{0}) << "an empty zone is under-staffed";
  w.move("A", 5, 5);
  w.run_to(3);
  EXPECT_EQ(w.event_times("under_staffing", K::cleared), std::vector<double>{3});
}

TEST(Stationary, PL05_MotionlessForMoreThan300sRaises) {
  World w;
  w.person("A", 0, 0);
  w.run_to(300);
  EXPECT_TRUE(w.raised("stationary").empty());
  w.run_to(301);
  EXPECT_EQ(w.raised("stationary"), std::vector<double>{301});
  EXPECT_EQ(w.of_type("stationary")[0]->level, AlarmLevel::red);
}

TEST(Stationary, PL05_MovementWithinTheRadiusDoesNotReset_BeyondDoes) {
  World w;
  w.person("A", 0, 0);
  w.run_to(100);
  w.move("A", 0.9, 0);  // within 1 m of the period's first fix
  w.run_to(200);
  w.move("A", 1.8, 0);  // 1.8 m from the first fix: a new period starts at 201
  w.run_to(400);
  EXPECT_TRUE(w.raised("stationary").empty());
  w.run_to(502);
  EXPECT_EQ(w.raised("stationary"), std::vector<double>{502});
  w.move("A", 5, 0);
  w.run_to(503);
  EXPECT_EQ(w.event_times("stationary", K::cleared), std::vector<double>{503});
}

TEST(Stationary, PL05_ZoneStationaryAfterOverridesInsideIt) {
  World w;
  Zone& z = w.zone("TANKS", rect(0, 0, 10, 10));
  z.stationary_after = s(120);
  w.person("IN", 5, 5);
  w.person("OUT", 50, 50);
  w.run_to(310);
  ASSERT_EQ(w.of_type("stationary").size(), 2u);
  EXPECT_EQ(w.raised("stationary"), (std::vector<double>{121, 301}));
  EXPECT_EQ(w.of_type("stationary")[0]->who, std::vector<std::string>{"IN"});
}

TEST(Overstay, PL05_OverstayAfterTheZoneLimit) {
  World w;
  Zone& z = w.zone("Z", rect(0, 0, 10, 10));
  z.overstay_after = s(600);
  w.person("A", 5, 5);
  w.run_to(600);
  EXPECT_TRUE(w.raised("overstay").empty());
  w.run_to(601);
  EXPECT_EQ(w.raised("overstay"), std::vector<double>{601});
}

}  // namespace
}  // namespace planttwin::test
