// Snapshots (what viewers read) and video linkage (PL-13: the cameras that see an alarm's spot).
#include <gtest/gtest.h>

#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

// A 10 m x 10 m grid of 1 m cells on floor 1: camera C1 sees x < 5, camera C2 sees y >= 5.
std::shared_ptr<CameraVisibility> two_cameras() {
  auto v = std::make_shared<CameraVisibility>();
  v->sets = {{}, {0}, {1}, {0, 1}};
  CameraVisibility::Grid g;
  g.floor = "1";
  g.nx = g.ny = 10;
  g.cells.resize(100);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x)
      g.cells[static_cast<size_t>(y * 10 + x)] = (x < 5 ? 1u : 0u) + (y >= 5 ? 2u : 0u);
  v->grids.push_back(g);
  return v;
}

World camera_world() {
  World w;
  w.site.cameras = {{"C1"}, {"C2"}};
  w.setup.cameras = two_cameras();
  return w;
}

std::vector<CameraCallOutput> camera_calls(const Engine& e) {
  std::vector<CameraCallOutput> v;
  for (const Output& o : e.outputs())
    if (const auto* c = std::get_if<CameraCallOutput>(&o.body)) v.push_back(*c);
  return v;
}

TEST(VideoLinkage, PL13_SosNamesEveryCameraThatSeesTheSpotAndCallsThemUp) {
  World w = camera_world();
  w.person("P1", 2.5, 7.5);  // seen by C1 (x < 5) and C2 (y >= 5)
  w.run_to(2);
  w.input(2.5, SosInput{w.engine->tag_index("TP1")});
  w.run_to(3);
  ASSERT_EQ(w.of_type("sos").size(), 1u);
  EXPECT_EQ(w.of_type("sos")[0]->cameras, (std::vector<std::string>{"C1", "C2"}));
  const auto calls = camera_calls(*w.engine);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].alarm_id, w.of_type("sos")[0]->id);
  EXPECT_EQ(calls[0].cameras, (std::vector<std::string>{"C1", "C2"}));
}

TEST(VideoLinkage, PL13_CellEdgesDecideWhichCamerasSeeASpot) {
  World w = camera_world();
  w.person("P1", 0, 0);
  w.start();
  EXPECT_EQ(w.engine->cameras_at("1", {4.999, 4.999}), std::vector<std::string>{"C1"});
  EXPECT_EQ(w.engine->cameras_at("1", {5.0, 4.999}), std::vector<std::string>{});
  EXPECT_EQ(w.engine->cameras_at("1", {5.0, 5.0}), std::vector<std::string>{"C2"});
  EXPECT_EQ(w.engine->cameras_at("1", {9.999, 9.999}), std::vector<std::string>{"C2"});
  EXPECT_TRUE(w.engine->cameras_at("1", {10.0, 5.0}).empty());  // outside the grid
  EXPECT_TRUE(w.engine->cameras_at("1", {-0.001, 2.0}).empty());
  EXPECT_TRUE(w.engine->cameras_at("2", {2.0, 2.0}).empty());  // no grid for floor 2
}

TEST(VideoLinkage, PL13_NoCameraSeesTheSpotNoCallAndTheHashLineIsUnchanged) {
  World with = camera_world();
  with.person("P1", 7.5, 2.5);  // in neither camera's view
  with.run_to(2);
  with.input(2.5, SosInput{with.engine->tag_index("TP1")});
  with.run_to(3);
  World without;
  without.person("P1", 7.5, 2.5);
  without.run_to(2);
  without.input(2.5, SosInput{without.engine->tag_index("TP1")});
  without.run_to(3);
  EXPECT_TRUE(camera_calls(*with.engine).empty());
  ASSERT_EQ(with.of_type("sos").size(), 1u);
  EXPECT_TRUE(with.of_type("sos")[0]->cameras.empty());
  const Alarm& a = *with.of_type("sos")[0];
  const Alarm& b = *without.of_type("sos")[0];
  EXPECT_EQ(canonical_alarm_line(a, a.events[0]), canonical_alarm_line(b, b.events[0]));
}

TEST(Snapshot, PL01_PeopleZonesAndOpenAlarmsAsTheEngineSeesThem) {
  World w = camera_world();
  w.zone("Z1", rect(0, 0, 10, 10));
  w.person("P1", 2.5, 7.5, Category::contractor);
  w.person("P2", 20, 20, Category::visitor);
  w.run_to(3);
  w.input(3.5, SosInput{w.engine->tag_index("TP1")});
  w.run_to(4);
  const Snapshot s = w.engine->snapshot();
  EXPECT_EQ(s.t, w.engine->now());
  ASSERT_EQ(s.people.size(), 2u);
  EXPECT_EQ(s.people[0].id, "P1");
  EXPECT_EQ(s.people[0].tag, "TP1");
  EXPECT_EQ(s.people[0].category, Category::contractor);
  EXPECT_TRUE(s.people[0].has_fix);
  EXPECT_DOUBLE_EQ(s.people[0].pos.x, 2.5);
  EXPECT_EQ(s.people[0].floor, "1");
  EXPECT_EQ(s.people[0].cameras, (std::vector<std::string>{"C1", "C2"}));
  EXPECT_TRUE(s.people[1].cameras.empty());
  ASSERT_EQ(s.zones.size(), 1u);
  EXPECT_EQ(s.zones[0].id, "Z1");
  EXPECT_EQ(s.zones[0].count, 1);
  EXPECT_EQ(s.zones[0].by_category[static_cast<size_t>(Category::contractor)], 1);
  ASSERT_EQ(s.open_alarms.size(), 1u);
  EXPECT_EQ(s.open_alarms[0].type, AlarmType::sos);
  // closing the alarm removes it from the snapshot
  w.action(5, AlarmAction::Kind::ack, "sos");
  w.action(5.5, AlarmAction::Kind::handle, "sos");
  w.action(6, AlarmAction::Kind::close, "sos");
  w.run_to(7);
  EXPECT_TRUE(w.engine->snapshot().open_alarms.empty());
}

TEST(Snapshot, PL02_ActiveGatheringsWithLevelMembersAndCentre) {
  World w;
  w.site.rules.gathering.yellow = 3;
  w.site.rules.gathering.orange = 50;
  w.site.rules.gathering.red = 100;
  w.person("P1", 100, 100);
  w.person("P2", 102, 100);
  w.person("P3", 101, 102);
  w.run_to(30);
  EXPECT_TRUE(w.engine->snapshot().gatherings.empty());  // still a candidate
  w.run_to(to_seconds(w.site.rules.gathering.dwell) + 5.0);
  const Snapshot s = w.engine->snapshot();
  ASSERT_EQ(s.gatherings.size(), 1u);
  EXPECT_EQ(s.gatherings[0].level, AlarmLevel::yellow);
  EXPECT_EQ(s.gatherings[0].members, (std::vector<std::string>{"P1", "P2", "P3"}));
  EXPECT_NEAR(s.gatherings[0].center.x, 101, 1.1);
  EXPECT_NEAR(s.gatherings[0].center.y, 100.5, 1.6);
  EXPECT_DOUBLE_EQ(s.gatherings[0].radius, w.site.rules.gathering.radius);
  EXPECT_EQ(s.gatherings[0].floor, "1");
  EXPECT_EQ(s.gatherings[0].alarm_id, w.of_type("gathering").at(0)->id);
}

}  // namespace
}  // namespace planttwin::test
