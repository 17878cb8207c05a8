// Tests of the site-v1 and scenario-v1 loaders (scenarios/loader.h): every key of both specs lands
// in the structs with its default, and every class of input error names the file, line and key.
#include "scenarios/loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

namespace planttwin {
namespace {

namespace fs = std::filesystem;

// one line per element, so that line n of the file is element n - 1
std::string lines(std::initializer_list<std::string> ls) {
  std::string s;
  for (const std::string& l : ls) s += l + "\n";
  return s;
}

std::int64_t unix_of(int y, int m, int d, int hh = 0, int mm = 0, int offset_min = 8 * 60) {
  return days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 - offset_min * 60;
}

// A fresh folder per test with a small site file; scenarios refer to it as `site.yaml`.
class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("planttwin_loader_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "_" +
            std::to_string(counter++));
    fs::create_directories(dir_);
    site_path_ = write("site.yaml", lines({
                                        "site: mini",                                                 // 1
                                        "floors: [{id: 1, z: [-1, 4]}, {id: 2, z: [4, 8]}]",          // 2
                                        "zones:",                                                     // 3
                                        "  - {id: Z1, polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]}",  // 4
                                        "  - {id: Z2, polygon: [[20, 0], [30, 0], [30, 10]]}",        // 5
                                        "cameras:",                                                   // 6
                                        "  - {id: C1, at: [0, 0, 5]}",                                // 7
                                    }));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  Scenario load_ok(const std::string& text, const std::string& name = "s.yaml") {
    Scenario sc;
    const auto err = load_scenario_file(write(name, text), sc);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    return sc;
  }
  LoadError load_err(const std::string& text, const std::string& name = "s.yaml") {
    Scenario sc;
    const auto err = load_scenario_file(write(name, text), sc);
    EXPECT_TRUE(err.has_value()) << "expected a load error for:\n" << text;
    return err.value_or(LoadError{});
  }
  Site site_ok(const std::string& text) {
    Site s;
    const auto err = load_site_file(write("plant.yaml", text), s);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    return s;
  }
  LoadError site_err(const std::string& text) {
    Site s;
    const auto err = load_site_file(write("plant.yaml", text), s);
    EXPECT_TRUE(err.has_value()) << "expected a load error for:\n" << text;
    return err.value_or(LoadError{});
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::string site_path_;
};

// asserts file, line and key of an error, showing the whole message on failure
#define EXPECT_LOAD_ERROR(err, file_, line_, key_)    \
  do {                                                \
    const LoadError& e_ = (err);                      \
    SCOPED_TRACE(e_.to_string());                     \
    EXPECT_EQ(e_.file, (file_));                      \
    EXPECT_EQ(e_.line, (line_));                      \
    EXPECT_EQ(e_.key, (key_));                        \
    EXPECT_FALSE(e_.message.empty());                 \
  } while (0)

// seven lines; what a test appends starts at line 8
const std::string kHead = lines({
    "scenario: s",                        // 1
    "site: site.yaml",                    // 2
    "duration: 600",                      // 3
    "people:",                            // 4
    "  - {id: A, tag: T1, at: [1, 1]}",   // 5
    "  - {id: B, tag: T2, at: [2, 2]}",   // 6
    "  - {id: C, at: [3, 3]}",            // 7
});

using SiteLoader = LoaderTest;
using ScenarioLoader = LoaderTest;

// ---------------------------------------------------------------------------------------------
// good files

const std::string kFullSite = lines({
    "site: 演示工厂",
    "origin: {lat: 30.5, lon: 114.3, alt: 20}",
    "bounds: [[-100, -100], [300, -100], [300, 300], [-100, 300]]",
    "timezone: \"+07:00\"",
    "floors:",
    "  - {id: 1, z: [-1, 4]}",
    "  - {id: \"2\", z: [4, 8]}",
    "buildings:",
    "  - id: B1",
    "    footprint: [[50, 50], [80, 50], [80, 70], [50, 70]]",
    "    floors: [{id: 1, z: [0, 3.5]}, {id: 3, z: [7, 10.5]}]",
    "    wall: {material: brick, thickness: 0.37}",
    "  - {id: B2, footprint: [[90, 90], [95, 90], [95, 95]]}",
    "obstacles:",
    "  - {id: TK1, shape: cylinder, center: [20, 30], radius: 5, z: [0, 12], material: steel}",
    "  - {id: RACK, shape: box, min: [0, 0, 0], max: [40, 2, 6], material: concrete}",
    "  - {id: COL, shape: box, min: [1, 1, 0], max: [2, 2, 9]}",
    "materials:",
    "  steel: {attenuation_db: 12, nlos_bias_m: 0.8}",
    "  glass: {attenuation_db: 2, nlos_bias_m: 0.1}",
    "zones:",
    "  - id: Z1",
    "    name: 罐区",
    "    kind: major_hazard",
    "    polygon: [[0, 0], [40, 0], [40, 40], [0, 40]]",
    "    floors: [1, \"2\"]",
    "    risk: red",
    "    capacity: 5",
    "    min_staff: 1",
    "    authorized: {people: [W1], roles: [operator], categories: [employee, contractor]}",
    "    stay_inside: true",
    "    schedule: {days: [mon, tue, wed, thu, fri], from: \"08:00\", to: \"18:00\"}",
    "    stationary_after: 120s",
    "    overstay_after: 2h",
    "    permit_required: true",
    "    explosion_hazard: yes",
    "  - id: Z2",
    "    kind: office",
    "    polygon: [[50, 50], [80, 50], [80, 70]]",
    "    z: [0, 3.5]",
    "    schedule:",
    "      - {days: [workdays], from: \"22:00\", to: \"06:00\"}",
    "      - {days: [rest_days, sat]}",
    "      - {from: \"12:00\"}",
    "anchors:",
    "  - {id: AN1, at: [0, 0, 3]}",
    "  - {id: AN2, at: [40, 0]}",
    "cameras:",
    "  - {id: C1, at: [0, 0, 6], yaw_deg: 45, pitch_deg: -20, hfov_deg: 100, vfov_deg: 50, range: 60}",
    "  - {id: C2, at: [40, 40, 6]}",
    "survey_points:",
    "  - {id: SP1, at: [10, 10, 1.2], floor: 1}",
    "  - {id: SP2, at: [12, 10]}",
    "rules:",
    "  gathering: {radius: 12, dwell: 45s, yellow: 3, orange: 5, red: 8, confirm_close_from: red, clear_after: 10s, every: 2500ms}",
    "  stationary: {radius: 1.5, after: 5min}",
    "  crossing: {escalate_after: 20s, exit_margin: 2, delay: 2s}",
    "  over_capacity: {delay: 3s}",
    "  linkage: {on_site_radius: 25, guardian_margin: 4, grace: 5s}",
    "  tag_offline_after: 40s",
    "  low_battery: 0.15",
    "  untagged_after: 90s",
    "  ack_within: 2min",
    "  work_roles: [welder, fitter]",
    "  work_without_permit_after: 100s",
    "  evaluate_every: 500ms",
    "  approval: {hot_work: {special: [safety_director, plant_manager], 1: [safety_officer]},",
    "             confined_space: [workshop_head]}",
    "  validity: {hot_work: {2: 48h}, lifting: 8h}",
    "  pause_reanalysis: {confined_space: 45min}",
    "  certificates: {hot_work: {workers: welding, guardian: guardian}, lifting: {workers: crane},",
    "                 guardian: safety_guardian}",
    "  gas: {max_age: 20min, flammable_volpct_low_lel: 0.1, flammable_volpct: 0.4, o2_min: 19.0, o2_max: 22.0,",
    "        toxic: {H2S: 10, CO: 20}, record_every: 90min}",
    "calendar:",
    "  holidays: [2026-10-01, 2026-10-02]",
    "  workdays: [2026-10-10]",
    "  rest_days: [sun]",
    "  night: [\"22:00\", \"05:30\"]",
    "  special_periods:",
    "    - [2026-09-30, 2026-10-07]",
    "    - [\"2026-03-01T08:00:00+08:00\", \"2026-03-01T20:00:00Z\"]",
});

TEST_F(SiteLoader, FullSiteFillsEveryKey) {
  const Site s = site_ok(kFullSite);
  EXPECT_EQ(s.name, "演示工厂");
  EXPECT_EQ(s.file, path("plant.yaml"));
  ASSERT_TRUE(s.origin);
  EXPECT_DOUBLE_EQ((*s.origin)[0], 30.5);
  EXPECT_DOUBLE_EQ((*s.origin)[1], 114.3);
  EXPECT_DOUBLE_EQ((*s.origin)[2], 20);
  ASSERT_TRUE(s.bounds);
  EXPECT_EQ(s.bounds->pts.size(), 4u);
  EXPECT_DOUBLE_EQ(s.bounds->box.max.x, 300);  // finalized
  EXPECT_EQ(s.timezone_min, 7 * 60);

  ASSERT_EQ(s.floors.size(), 2u);
  EXPECT_EQ(s.floors[0].id, "1");
  EXPECT_EQ(s.floors[1].id, "2");
  EXPECT_DOUBLE_EQ(s.floors[1].z0, 4);
  EXPECT_DOUBLE_EQ(s.floors[1].z1, 8);
  ASSERT_EQ(s.buildings.size(), 2u);
  EXPECT_EQ(s.buildings[0].id, "B1");
  EXPECT_EQ(s.buildings[0].footprint.pts.size(), 4u);
  EXPECT_DOUBLE_EQ(s.buildings[0].footprint.box.min.x, 50);
  ASSERT_EQ(s.buildings[0].floors.size(), 2u);
  EXPECT_EQ(s.buildings[0].floors[1].id, "3");
  EXPECT_DOUBLE_EQ(s.buildings[0].floors[1].z1, 10.5);
  EXPECT_EQ(s.buildings[0].wall_material, "brick");
  EXPECT_DOUBLE_EQ(s.buildings[0].wall_thickness, 0.37);
  EXPECT_EQ(s.buildings[1].wall_material, "concrete");  // defaults
  EXPECT_DOUBLE_EQ(s.buildings[1].wall_thickness, 0.24);
  EXPECT_TRUE(s.buildings[1].floors.empty());
  EXPECT_EQ(s.floor_ids(), (std::vector<std::string>{"1", "2", "3"}));

  ASSERT_EQ(s.obstacles.size(), 3u);
  EXPECT_EQ(s.obstacles[0].shape, Obstacle::Shape::cylinder);
  EXPECT_DOUBLE_EQ(s.obstacles[0].center.x, 20);
  EXPECT_DOUBLE_EQ(s.obstacles[0].center.y, 30);
  EXPECT_DOUBLE_EQ(s.obstacles[0].radius, 5);
  EXPECT_DOUBLE_EQ(s.obstacles[0].z1, 12);
  EXPECT_EQ(s.obstacles[0].material, "steel");
  EXPECT_EQ(s.obstacles[1].shape, Obstacle::Shape::box);
  EXPECT_DOUBLE_EQ(s.obstacles[1].max[0], 40);
  EXPECT_DOUBLE_EQ(s.obstacles[1].max[2], 6);
  EXPECT_EQ(s.obstacles[1].material, "concrete");
  EXPECT_EQ(s.obstacles[2].material, "steel");  // default
  ASSERT_EQ(s.materials.size(), 2u);
  EXPECT_DOUBLE_EQ(s.materials.at("steel").attenuation_db, 12);
  EXPECT_DOUBLE_EQ(s.materials.at("glass").nlos_bias_m, 0.1);

  ASSERT_EQ(s.zones.size(), 2u);
  const Zone& z1 = s.zones[0];
  EXPECT_EQ(z1.id, "Z1");
  EXPECT_EQ(z1.name, "罐区");
  EXPECT_EQ(z1.kind, ZoneKind::major_hazard);
  EXPECT_EQ(z1.polygon.pts.size(), 4u);
  EXPECT_DOUBLE_EQ(z1.polygon.box.max.y, 40);
  EXPECT_EQ(z1.floors, (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(z1.z);
  EXPECT_EQ(z1.risk, Risk::red);
  EXPECT_EQ(z1.capacity, 5);
  EXPECT_EQ(z1.min_staff, 1);
  EXPECT_TRUE(z1.authorized.present);
  EXPECT_EQ(z1.authorized.people, (std::vector<std::string>{"W1"}));
  EXPECT_EQ(z1.authorized.roles, (std::vector<std::string>{"operator"}));
  EXPECT_EQ(z1.authorized.categories, (std::vector<Category>{Category::employee, Category::contractor}));
  EXPECT_TRUE(z1.stay_inside);
  ASSERT_EQ(z1.schedule.size(), 1u);
  EXPECT_EQ(z1.schedule[0].days, 0x1f);
  EXPECT_FALSE(z1.schedule[0].on_workdays);
  EXPECT_EQ(z1.schedule[0].from_min, 8 * 60);
  EXPECT_EQ(z1.schedule[0].to_min, 18 * 60);
  EXPECT_EQ(z1.stationary_after, 120 * kSecond);
  EXPECT_EQ(z1.overstay_after, 2 * kHour);
  EXPECT_TRUE(z1.permit_required);
  EXPECT_TRUE(z1.explosion_hazard);
  EXPECT_EQ(z1.line, 22);
  const Zone& z2 = s.zones[1];
  EXPECT_EQ(z2.name, "Z2");  // default: the id
  EXPECT_EQ(z2.kind, ZoneKind::office);
  ASSERT_TRUE(z2.z);
  EXPECT_DOUBLE_EQ(z2.z->second, 3.5);
  EXPECT_TRUE(z2.floors.empty());
  EXPECT_EQ(z2.risk, Risk::none);
  EXPECT_FALSE(z2.capacity);
  EXPECT_FALSE(z2.min_staff);
  EXPECT_FALSE(z2.authorized.present);
  EXPECT_FALSE(z2.stay_inside);
  EXPECT_FALSE(z2.stationary_after);
  EXPECT_FALSE(z2.overstay_after);
  EXPECT_FALSE(z2.permit_required);
  EXPECT_FALSE(z2.explosion_hazard);
  ASSERT_EQ(z2.schedule.size(), 3u);

  ASSERT_EQ(s.anchors.size(), 2u);
  EXPECT_EQ(s.anchors[0].id, "AN1");
  EXPECT_DOUBLE_EQ(s.anchors[0].at[2], 3);
  EXPECT_DOUBLE_EQ(s.anchors[1].at[0], 40);
  EXPECT_DOUBLE_EQ(s.anchors[1].at[2], 0);
  ASSERT_EQ(s.cameras.size(), 2u);
  EXPECT_DOUBLE_EQ(s.cameras[0].yaw_deg, 45);
  EXPECT_DOUBLE_EQ(s.cameras[0].pitch_deg, -20);
  EXPECT_DOUBLE_EQ(s.cameras[0].hfov_deg, 100);
  EXPECT_DOUBLE_EQ(s.cameras[0].vfov_deg, 50);
  EXPECT_DOUBLE_EQ(s.cameras[0].range, 60);
  EXPECT_DOUBLE_EQ(s.cameras[1].hfov_deg, 90);  // defaults
  EXPECT_DOUBLE_EQ(s.cameras[1].vfov_deg, 60);
  EXPECT_DOUBLE_EQ(s.cameras[1].range, 50);
  ASSERT_EQ(s.survey_points.size(), 2u);
  EXPECT_EQ(s.survey_points[0].floor, "1");
  EXPECT_DOUBLE_EQ(s.survey_points[0].at[2], 1.2);
  EXPECT_EQ(s.survey_points[1].floor, "");

  const Rules& r = s.rules;
  EXPECT_DOUBLE_EQ(r.gathering.radius, 12);
  EXPECT_EQ(r.gathering.dwell, 45 * kSecond);
  EXPECT_EQ(r.gathering.yellow, 3);
  EXPECT_EQ(r.gathering.orange, 5);
  EXPECT_EQ(r.gathering.red, 8);
  EXPECT_EQ(r.gathering.confirm_close_from, Risk::red);
  EXPECT_EQ(r.gathering.clear_after, 10 * kSecond);
  EXPECT_EQ(r.gathering.every, 2500 * kMillisecond);
  EXPECT_DOUBLE_EQ(r.stationary_radius, 1.5);
  EXPECT_EQ(r.stationary_after, 5 * kMinute);
  EXPECT_EQ(r.crossing_escalate_after, 20 * kSecond);
  EXPECT_DOUBLE_EQ(r.crossing_exit_margin, 2);
  EXPECT_EQ(r.crossing_delay, 2 * kSecond);
  EXPECT_EQ(r.capacity_delay, 3 * kSecond);
  EXPECT_DOUBLE_EQ(r.linkage_on_site_radius, 25);
  EXPECT_DOUBLE_EQ(r.linkage_guardian_margin, 4);
  EXPECT_EQ(r.linkage_grace, 5 * kSecond);
  EXPECT_EQ(r.tag_offline_after, 40 * kSecond);
  EXPECT_DOUBLE_EQ(r.low_battery, 0.15);
  EXPECT_EQ(r.untagged_after, 90 * kSecond);
  EXPECT_EQ(r.ack_within, 2 * kMinute);
  EXPECT_EQ(r.work_roles, (std::vector<std::string>{"welder", "fitter"}));
  EXPECT_EQ(r.work_without_permit_after, 100 * kSecond);
  EXPECT_EQ(r.evaluate_every, 500 * kMillisecond);
  EXPECT_EQ(r.approval.at("hot_work").at("special"), (std::vector<std::string>{"safety_director", "plant_manager"}));
  EXPECT_EQ(r.approval.at("hot_work").at("1"), (std::vector<std::string>{"safety_officer"}));
  EXPECT_EQ(r.approval.at("confined_space").at(""), (std::vector<std::string>{"workshop_head"}));
  // validity merges per type and grade onto the defaults
  EXPECT_EQ(r.validity.at("hot_work").at("special"), 8 * kHour);
  EXPECT_EQ(r.validity.at("hot_work").at("1"), 8 * kHour);
  EXPECT_EQ(r.validity.at("hot_work").at("2"), 48 * kHour);
  EXPECT_EQ(r.validity.at("lifting").at(""), 8 * kHour);
  EXPECT_EQ(r.validity.at("confined_space").at(""), 24 * kHour);
  EXPECT_EQ(r.validity.at("height").at(""), 7 * kDay);
  EXPECT_EQ(r.pause_reanalysis.at("confined_space").at(""), 45 * kMinute);
  EXPECT_EQ(r.pause_reanalysis.at("hot_work").at("2"), 60 * kMinute);
  EXPECT_EQ(r.certificates.at("hot_work").at("workers"), "welding");
  EXPECT_EQ(r.certificates.at("hot_work").at("guardian"), "guardian");
  EXPECT_EQ(r.certificates.at("lifting").at("workers"), "crane");
  EXPECT_EQ(r.certificates.at("temp_power").at("workers"), "electrician");
  EXPECT_EQ(r.certificates.at("guardian").at(""), "safety_guardian");
  EXPECT_EQ(r.gas.max_age, 20 * kMinute);
  EXPECT_DOUBLE_EQ(r.gas.flammable_volpct_low_lel, 0.1);
  EXPECT_DOUBLE_EQ(r.gas.flammable_volpct, 0.4);
  EXPECT_DOUBLE_EQ(r.gas.o2_min, 19.0);
  EXPECT_DOUBLE_EQ(r.gas.o2_max, 22.0);
  EXPECT_DOUBLE_EQ(r.gas.toxic.at("H2S"), 10);
  EXPECT_EQ(r.gas.record_every, 90 * kMinute);
  EXPECT_DOUBLE_EQ(r.gas.toxic.at("CO"), 20);

  const Calendar& c = s.calendar;
  EXPECT_EQ(c.holidays, (std::vector<std::int64_t>{days_from_civil(2026, 10, 1), days_from_civil(2026, 10, 2)}));
  EXPECT_EQ(c.workdays, (std::vector<std::int64_t>{days_from_civil(2026, 10, 10)}));
  EXPECT_EQ(c.rest_days, 1 << 6);
  EXPECT_EQ(c.night_from_min, 22 * 60);
  EXPECT_EQ(c.night_to_min, 5 * 60 + 30);
  ASSERT_EQ(c.special_periods.size(), 2u);
  // dates alone: local midnight in the site's timezone (+07:00 here); a `to` date: the end of that day
  EXPECT_EQ(c.special_periods[0].first, unix_of(2026, 9, 30, 0, 0, 7 * 60));
  EXPECT_EQ(c.special_periods[0].second, unix_of(2026, 10, 8, 0, 0, 7 * 60));
  EXPECT_EQ(c.special_periods[1].first, unix_of(2026, 3, 1, 8, 0));
  EXPECT_EQ(c.special_periods[1].second, unix_of(2026, 3, 1, 20, 0, 0));
}

TEST_F(SiteLoader, MinimalSiteHasEveryDefault) {
  const Site s = site_ok("site: bare\n");
  EXPECT_EQ(s.name, "bare");
  EXPECT_FALSE(s.origin);
  EXPECT_FALSE(s.bounds);
  EXPECT_EQ(s.timezone_min, 8 * 60);
  ASSERT_EQ(s.floors.size(), 1u);  // default outdoor floor {1, [-1, 4]}
  EXPECT_EQ(s.floors[0].id, "1");
  EXPECT_DOUBLE_EQ(s.floors[0].z0, -1);
  EXPECT_DOUBLE_EQ(s.floors[0].z1, 4);
  EXPECT_TRUE(s.zones.empty());
  const Rules d = Rules::defaults();
  EXPECT_DOUBLE_EQ(s.rules.gathering.radius, d.gathering.radius);
  EXPECT_EQ(s.rules.gathering.dwell, 60 * kSecond);
  EXPECT_EQ(s.rules.gathering.confirm_close_from, Risk::orange);
  EXPECT_EQ(s.rules.gathering.every, 0);  // every step
  EXPECT_EQ(s.rules.validity, d.validity);
  EXPECT_EQ(s.rules.pause_reanalysis, d.pause_reanalysis);
  EXPECT_EQ(s.rules.certificates, d.certificates);
  EXPECT_TRUE(s.rules.approval.empty());
  EXPECT_EQ(s.calendar.rest_days, (1 << 5) | (1 << 6));
  EXPECT_EQ(s.calendar.night_from_min, 20 * 60);
  EXPECT_EQ(s.calendar.night_to_min, 6 * 60);
  EXPECT_TRUE(s.calendar.holidays.empty());
  EXPECT_TRUE(s.calendar.special_periods.empty());
}

TEST_F(SiteLoader, BuildingFloorsAloneStillGetTheDefaultOutdoorFloor) {
  const Site s = site_ok(lines({"site: b", "buildings:", "  - {id: B, footprint: [[0, 0], [1, 0], [1, 1]],",
                                "     floors: [{id: 2, z: [4, 8]}]}"}));
  EXPECT_EQ(s.floor_ids(), (std::vector<std::string>{"1", "2"}));
}

TEST_F(SiteLoader, ScheduleTokensSetCalendarFlagsAndListedDaysOnly) {
  const Site s = site_ok(lines({
      "site: sched",
      "zones:",
      "  - id: Z",
      "    polygon: [[0, 0], [1, 0], [1, 1]]",
      "    schedule:",
      "      - {days: [workdays], from: \"22:00\", to: \"06:00\"}",
      "      - {days: [rest_days, sat]}",
      "      - {from: \"12:00\"}",
      "      - {days: rest_days, to: \"8:30\"}",
  }));
  const auto& w = s.zones.at(0).schedule;
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].days, 0);  // days present: only the listed names set bits
  EXPECT_TRUE(w[0].on_workdays);
  EXPECT_FALSE(w[0].on_rest_days);
  EXPECT_EQ(w[0].from_min, 22 * 60);
  EXPECT_EQ(w[0].to_min, 6 * 60);
  EXPECT_EQ(w[1].days, 1 << 5);
  EXPECT_TRUE(w[1].on_rest_days);
  EXPECT_FALSE(w[1].on_workdays);
  EXPECT_EQ(w[1].from_min, 0);
  EXPECT_EQ(w[1].to_min, 1440);
  EXPECT_EQ(w[2].days, 0x7f);  // days absent: all seven
  EXPECT_FALSE(w[2].on_workdays);
  EXPECT_EQ(w[2].from_min, 12 * 60);
  EXPECT_EQ(w[3].days, 0);
  EXPECT_TRUE(w[3].on_rest_days);
  EXPECT_EQ(w[3].to_min, 8 * 60 + 30);
}

TEST_F(SiteLoader, ScheduleWithUnknownDayNamesTheDay) {
  const LoadError e = site_err(lines({
      "site: sched",                                         // 1
      "zones:",                                              // 2
      "  - id: Z",                                           // 3
      "    polygon: [[0, 0], [1, 0], [1, 1]]",               // 4
      "    schedule: {days: [mon, weekend], from: \"8:00\"}",  // 5
  }));
  EXPECT_LOAD_ERROR(e, path("plant.yaml"), 5, "zones[0].schedule.days[1]");
  EXPECT_NE(e.message.find("weekend"), std::string::npos);
  EXPECT_NE(e.message.find("workdays"), std::string::npos);
}

TEST_F(SiteLoader, CalendarDatesAndPeriods) {
  const Site s = site_ok(lines({
      "site: cal",
      "calendar:",
      "  holidays: [2026-01-01]",
      "  rest_days: []",
      "  special_periods: [[2026-02-16, \"2026-02-17T12:00:00+08:00\"], [\"2026-05-01T00:00:00Z\", 2026-05-01]]",
  }));
  EXPECT_EQ(s.calendar.holidays, (std::vector<std::int64_t>{days_from_civil(2026, 1, 1)}));
  EXPECT_EQ(s.calendar.rest_days, 0);
  ASSERT_EQ(s.calendar.special_periods.size(), 2u);
  EXPECT_EQ(s.calendar.special_periods[0].first, unix_of(2026, 2, 16));
  EXPECT_EQ(s.calendar.special_periods[0].second, unix_of(2026, 2, 17, 12, 0));
  EXPECT_EQ(s.calendar.special_periods[1].first, unix_of(2026, 5, 1, 0, 0, 0));
  EXPECT_EQ(s.calendar.special_periods[1].second, unix_of(2026, 5, 2));  // end of 1 May, +08:00
  EXPECT_EQ(s.calendar.night_from_min, 20 * 60);                        // untouched keys keep defaults
}

TEST_F(SiteLoader, BadCalendarDateNamesTheItem) {
  const LoadError e = site_err(lines({"site: cal", "calendar:", "  holidays: [2026-01-01, 2026-02-30]"}));
  EXPECT_LOAD_ERROR(e, path("plant.yaml"), 3, "calendar.holidays[1]");
}

// ---------------------------------------------------------------------------------------------

const std::string kFullScenario = lines({
    "scenario: full",
    "description: every key",
    "requirements: [PL-02, SW-01]",
    "site: plant.yaml",
    "start: 2026-03-02T08:00:00+08:00",
    "duration: 2h",
    "seed: 7",
    "positioning: {mode: truth, noise_sigma: 0.5}",
    "fix_rate: 2",
    "radio: {link: {pathloss_exponent: 2.2}, outliers: {small_rate: 0.003}, mode: tdoa}",
    "rules:",
    "  gathering: {dwell: 30s}",
    "  validity: {hot_work: {1: 6h}}",
    "  gas: {toxic: {H2S: 5}}",
    "calendar: {rest_days: [sat, sun]}",
    "duty:",
    "  - {person: OP, from: 0, to: 1h}",
    "  - {person: OP}",
    "drill: {ack: 30s, handle: 5min}",
    "people:",
    "  - id: W1",                                                     // 21
    "    name: 张三",
    "    category: contractor",
    "    roles: [welder]",
    "    company: 某某建设",
    "    tag: T01",
    "    at: [10, 20, 1.5]",
    "    floor: 2",
    "    certificates:",
    "      - {type: welding, number: 01234, expires: 2027-06-30}",
    "      - {type: guardian, number: G-9, expires: 2026-12-31, holder: 李四}",
    "  - {id: G1, roles: [guardian], tag: T02, at: [12, 20]}",
    "  - {id: AP, category: visitor, at: [0, 0]}",
    "  - {id: OP, category: driver, tag: 3, at: [1, 1], floor: \"1\"}",
    "script:",
    "  - {t: 0, who: W1, go_to: [30, 20], floor: 1, speed: 1.5}",        // 36
    "  - {t: 1s, who: [W1, G1], walk: [[10, 20], [20, 20, 0], [20, 30]], speed: 0.8}",
    "  - {t: 2s, who: AP, place: [5, 5], floor: 3}",
    "  - {t: 3s, who: W1, press: sos}",
    "  - {t: 4s, who: G1, tag: off}",
    "  - {t: 5s, who: G1, tag: on}",
    "  - {t: 6s, who: OP, battery: 0.05}",
    "  - {t: 7s, who: AP, gate: in, gate_id: G-east}",
    "  - {t: 8s, who: AP, gate: out}",
    "  - {t: 9s, permit: {action: reserve, id: R1, type: hot_work, grade: 2, area: [[0, 0], [10, 0], [10, 10]],",
    "                     floor: 1, from: 10s, to: 4h, urgent: true}}",
    "  - {t: 10s, permit: {action: apply, id: W1P, reservation: R1, type: hot_work, grade: \"2\",",
    "                      area: [[0, 0], [10, 0], [10, 10], [0, 10]], workers: [W1], guardian: G1, approver: AP,",
    "                      linked: [B1], from: \"2026-03-02T07:00:00+08:00\", to: -30min, load_t: 3, height_m: 5.5,",
    "                      hazard_factors: [fire, toxic], blind: insert, note: first}}",
    "  - {t: 11s, permit: {action: gas, id: W1P, by: G1,",
    "                      readings: {flammable_volpct: 0.1, gas_lel_pct: 2, o2_volpct: 20.9, toxic: {H2S: 1.5}}}}",
    "  - {t: 12s, permit: {action: brief, id: W1P, signed_by: [W1, G1]}}",
    "  - {t: 13s, permit: {action: handover, id: W1P, guardian: W1, by: AP}}",
    "  - {t: 14s, alarm: {action: ack, type: sos, who: W1, by: OP, note: seen}}",
    "  - {t: 15s, alarm: {action: close, by: OP}}",
    "  - {t: 2h, permit: {action: void, id: W1P}}",
    "expect:",
    "  - {alarm: gathering, level: orange, code: 1, who: W1, zone: Z1, permit: W1P, event: escalated,",  // 59
    "     between: [60s, 70s], count: 1, req: PL-02}",
    "  - {no_alarm: sos, during: [0, 1h]}",
    "  - {no_alarm: boundary_crossing, level: red, code: \"40\", who: G1, zone: Z2, permit: W1P}",
    "  - {refused: {permit: W1P, action: approve}, code: 01}",
    "  - {permit_status: {id: W1P, status: in_progress}, at: 1h, req: SW-01}",
    "  - {zone_count: {zone: Z1, count: 2}, at: 30s}",
    "  - {camera_call: {type: sos, camera: C1}}",
    "  - {accuracy: {cdf68_max: 1.5, cdf95_max: 3}}",
    "  - {alarm_quality: {missed_max: 0.05, false_max: 0.1}}",
    "  - {alarm_delay: {p95_max: 5s}}",
});

TEST_F(ScenarioLoader, FullScenarioFillsEveryKey) {
  write("plant.yaml", kFullSite);
  const std::string text = kFullScenario;
  const Scenario sc = load_ok(text, "full.yaml");
  EXPECT_EQ(sc.name, "full");
  EXPECT_EQ(sc.description, "every key");
  EXPECT_EQ(sc.file, path("full.yaml"));
  EXPECT_EQ(sc.requirements, (std::vector<std::string>{"PL-02", "SW-01"}));
  EXPECT_EQ(sc.site.name, "演示工厂");
  EXPECT_EQ(sc.site.file, path("plant.yaml"));
  EXPECT_EQ(sc.clock.start_unix_s, unix_of(2026, 3, 2, 8, 0));
  EXPECT_EQ(sc.clock.utc_offset_min, 8 * 60);
  EXPECT_EQ(sc.duration, 2 * kHour);
  EXPECT_EQ(sc.seed, 7u);
  EXPECT_EQ(sc.positioning.mode, Positioning::Mode::truth);
  EXPECT_DOUBLE_EQ(sc.positioning.noise_sigma, 0.5);
  EXPECT_DOUBLE_EQ(sc.fix_rate, 2);
  EXPECT_EQ(sc.radio, (std::map<std::string, std::string>{{"link.pathloss_exponent", "2.2"},
                                                         {"outliers.small_rate", "0.003"},
                                                         {"mode", "tdoa"}}));
  // rules: the scenario's keys over the site's, key by key
  EXPECT_EQ(sc.site.rules.gathering.dwell, 30 * kSecond);
  EXPECT_DOUBLE_EQ(sc.site.rules.gathering.radius, 12);
  EXPECT_EQ(sc.site.rules.gathering.orange, 5);
  EXPECT_EQ(sc.site.rules.validity.at("hot_work").at("1"), 6 * kHour);
  EXPECT_EQ(sc.site.rules.validity.at("hot_work").at("2"), 48 * kHour);
  EXPECT_EQ(sc.site.rules.validity.at("hot_work").at("special"), 8 * kHour);
  EXPECT_DOUBLE_EQ(sc.site.rules.gas.toxic.at("H2S"), 5);
  EXPECT_DOUBLE_EQ(sc.site.rules.gas.toxic.at("CO"), 20);
  EXPECT_EQ(sc.site.rules.gas.max_age, 20 * kMinute);
  // calendar likewise
  EXPECT_EQ(sc.site.calendar.rest_days, (1 << 5) | (1 << 6));
  EXPECT_EQ(sc.site.calendar.holidays.size(), 2u);
  EXPECT_EQ(sc.site.calendar.night_from_min, 22 * 60);

  ASSERT_EQ(sc.duty.size(), 2u);
  EXPECT_EQ(sc.duty[0].person, "OP");
  EXPECT_EQ(sc.duty[0].from, 0);
  EXPECT_EQ(sc.duty[0].to, kHour);
  EXPECT_EQ(sc.duty[1].from, 0);  // defaults: the whole run
  EXPECT_EQ(sc.duty[1].to, 2 * kHour);
  EXPECT_EQ(sc.drill.ack, 30 * kSecond);
  EXPECT_EQ(sc.drill.handle, 5 * kMinute);

  ASSERT_EQ(sc.people.size(), 4u);
  const PersonDef& w1 = sc.people[0];
  EXPECT_EQ(w1.id, "W1");
  EXPECT_EQ(w1.name, "张三");
  EXPECT_EQ(w1.category, Category::contractor);
  EXPECT_EQ(w1.roles, (std::vector<std::string>{"welder"}));
  EXPECT_EQ(w1.company, "某某建设");
  EXPECT_EQ(w1.tag, "T01");
  EXPECT_DOUBLE_EQ(w1.at.x, 10);
  EXPECT_DOUBLE_EQ(w1.at.y, 20);
  EXPECT_EQ(w1.at.z, 1.5);
  EXPECT_EQ(w1.floor, "2");
  EXPECT_EQ(w1.line, 21);
  ASSERT_EQ(w1.certificates.size(), 2u);
  EXPECT_EQ(w1.certificates[0].type, "welding");
  EXPECT_EQ(w1.certificates[0].number, "01234");
  EXPECT_EQ(w1.certificates[0].expires_day, days_from_civil(2027, 6, 30));
  EXPECT_EQ(w1.certificates[0].holder, "张三");  // default: the person's name
  EXPECT_EQ(w1.certificates[1].holder, "李四");
  const PersonDef& g1 = sc.people[1];
  EXPECT_EQ(g1.name, "G1");
  EXPECT_EQ(g1.category, Category::employee);
  EXPECT_EQ(g1.floor, "1");
  EXPECT_FALSE(g1.at.z);
  EXPECT_TRUE(g1.certificates.empty());
  EXPECT_FALSE(sc.people[2].tag);
  EXPECT_EQ(sc.people[2].category, Category::visitor);
  EXPECT_EQ(sc.people[3].category, Category::driver);
  EXPECT_EQ(sc.people[3].tag, "3");

  ASSERT_EQ(sc.script.size(), 17u);
  const auto& s = sc.script;
  EXPECT_EQ(s[0].kind, ScriptAction::Kind::go_to);
  EXPECT_EQ(s[0].line, 36);
  EXPECT_EQ(s[0].t, 0);
  EXPECT_EQ(s[0].who, (std::vector<std::string>{"W1"}));
  ASSERT_EQ(s[0].path.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].path[0].x, 30);
  EXPECT_EQ(s[0].floor, "1");
  EXPECT_DOUBLE_EQ(s[0].speed, 1.5);
  EXPECT_EQ(s[1].kind, ScriptAction::Kind::walk);
  EXPECT_EQ(s[1].t, kSecond);
  EXPECT_EQ(s[1].who, (std::vector<std::string>{"W1", "G1"}));
  ASSERT_EQ(s[1].path.size(), 3u);
  EXPECT_EQ(s[1].path[1].z, 0.0);
  EXPECT_FALSE(s[1].path[2].z);
  EXPECT_DOUBLE_EQ(s[1].speed, 0.8);
  EXPECT_FALSE(s[1].floor);
  EXPECT_EQ(s[2].kind, ScriptAction::Kind::place);
  EXPECT_EQ(s[2].floor, "3");  // a building's floor
  EXPECT_DOUBLE_EQ(s[2].speed, 1.2);
  EXPECT_EQ(s[3].kind, ScriptAction::Kind::sos);
  EXPECT_EQ(s[4].kind, ScriptAction::Kind::tag_off);
  EXPECT_EQ(s[5].kind, ScriptAction::Kind::tag_on);
  EXPECT_EQ(s[6].kind, ScriptAction::Kind::battery);
  EXPECT_DOUBLE_EQ(s[6].battery, 0.05);
  EXPECT_EQ(s[7].kind, ScriptAction::Kind::gate);
  EXPECT_TRUE(s[7].gate_in);
  EXPECT_EQ(s[7].gate_id, "G-east");
  EXPECT_FALSE(s[8].gate_in);
  EXPECT_EQ(s[8].gate_id, "");

  const PermitCommand& reserve = s[9].permit;
  EXPECT_EQ(s[9].kind, ScriptAction::Kind::permit);
  EXPECT_TRUE(s[9].who.empty());
  EXPECT_EQ(reserve.action, "reserve");
  EXPECT_EQ(reserve.id, "R1");
  EXPECT_EQ(reserve.type, "hot_work");
  EXPECT_EQ(reserve.grade, "2");
  EXPECT_EQ(reserve.area.size(), 3u);
  EXPECT_EQ(reserve.floor, "1");
  EXPECT_EQ(reserve.from, 10 * kSecond);
  EXPECT_EQ(reserve.to, 4 * kHour);
  EXPECT_TRUE(reserve.urgent);
  const PermitCommand& apply = s[10].permit;
  EXPECT_EQ(apply.action, "apply");
  EXPECT_EQ(apply.reservation, "R1");
  EXPECT_EQ(apply.grade, "2");
  EXPECT_EQ(apply.area.size(), 4u);
  EXPECT_DOUBLE_EQ(apply.area[2].x, 10);
  EXPECT_EQ(apply.floor, "");
  EXPECT_EQ(apply.workers, (std::vector<std::string>{"W1"}));
  EXPECT_EQ(apply.guardian, "G1");
  EXPECT_EQ(apply.approver, "AP");
  EXPECT_EQ(apply.linked, (std::vector<std::string>{"B1"}));
  EXPECT_EQ(apply.from, -kHour);  // a date-time one hour before the start
  EXPECT_EQ(apply.to, -30 * kMinute);
  EXPECT_EQ(apply.load_t, 3.0);
  EXPECT_EQ(apply.height_m, 5.5);
  EXPECT_EQ(apply.hazard_factors, (std::vector<std::string>{"fire", "toxic"}));
  EXPECT_EQ(apply.blind, "insert");
  EXPECT_EQ(apply.note, "first");
  EXPECT_FALSE(apply.urgent);
  const PermitCommand& gas = s[11].permit;
  EXPECT_EQ(gas.by, "G1");
  EXPECT_EQ(gas.readings.flammable_volpct, 0.1);
  EXPECT_EQ(gas.readings.gas_lel_pct, 2.0);
  EXPECT_EQ(gas.readings.o2_volpct, 20.9);
  EXPECT_DOUBLE_EQ(gas.readings.toxic.at("H2S"), 1.5);
  EXPECT_EQ(s[12].permit.signed_by, (std::vector<std::string>{"W1", "G1"}));
  EXPECT_EQ(s[13].permit.guardian, "W1");
  EXPECT_EQ(s[13].permit.by, "AP");
  EXPECT_EQ(s[14].kind, ScriptAction::Kind::alarm);
  EXPECT_EQ(s[14].alarm.kind, AlarmAction::Kind::ack);
  EXPECT_EQ(s[14].alarm.type, AlarmType::sos);
  EXPECT_EQ(s[14].alarm.who, "W1");
  EXPECT_EQ(s[14].alarm.by, "OP");
  EXPECT_EQ(s[14].alarm.note, "seen");
  EXPECT_FALSE(s[14].alarm.alarm_id);
  EXPECT_EQ(s[15].alarm.kind, AlarmAction::Kind::close);
  EXPECT_FALSE(s[15].alarm.type);
  EXPECT_FALSE(s[15].alarm.who);
  EXPECT_EQ(s[16].t, 2 * kHour);  // the end of the run is included

  ASSERT_EQ(sc.expect.size(), 10u);
  const auto& x = sc.expect;
  EXPECT_EQ(x[0].kind, Expectation::Kind::alarm);
  EXPECT_EQ(x[0].line, 59);
  EXPECT_EQ(x[0].type, AlarmType::gathering);
  EXPECT_EQ(x[0].level, AlarmLevel::orange);
  EXPECT_EQ(x[0].code, Aq2Code::c01);
  EXPECT_EQ(x[0].who, "W1");
  EXPECT_EQ(x[0].zone, "Z1");
  EXPECT_EQ(x[0].permit, "W1P");
  EXPECT_EQ(x[0].event, "escalated");
  EXPECT_EQ(x[0].window, (std::pair<Micros, Micros>{60 * kSecond, 70 * kSecond}));
  EXPECT_EQ(x[0].count, 1);
  EXPECT_EQ(x[0].req, "PL-02");
  EXPECT_EQ(x[1].kind, Expectation::Kind::no_alarm);
  EXPECT_EQ(x[1].type, AlarmType::sos);
  EXPECT_EQ(x[1].window, (std::pair<Micros, Micros>{0, kHour}));
  EXPECT_EQ(x[1].event, "raised");
  EXPECT_EQ(x[1].req, "");
  EXPECT_FALSE(x[2].window);
  EXPECT_EQ(x[2].level, AlarmLevel::red);
  EXPECT_EQ(x[2].code, Aq2Code::c40);
  EXPECT_EQ(x[2].who, "G1");
  EXPECT_EQ(x[2].zone, "Z2");
  EXPECT_EQ(x[3].kind, Expectation::Kind::refused);
  EXPECT_EQ(x[3].permit, "W1P");
  EXPECT_EQ(x[3].action, "approve");
  EXPECT_EQ(x[3].code, Aq2Code::c01);
  EXPECT_EQ(x[4].kind, Expectation::Kind::permit_status);
  EXPECT_EQ(x[4].permit, "W1P");
  EXPECT_EQ(x[4].status, "in_progress");
  EXPECT_EQ(x[4].at, kHour);
  EXPECT_EQ(x[4].req, "SW-01");
  EXPECT_EQ(x[5].kind, Expectation::Kind::zone_count);
  EXPECT_EQ(x[5].zone, "Z1");
  EXPECT_EQ(x[5].expected_count, 2);
  EXPECT_EQ(x[5].at, 30 * kSecond);
  EXPECT_EQ(x[6].kind, Expectation::Kind::camera_call);
  EXPECT_EQ(x[6].type, AlarmType::sos);
  EXPECT_EQ(x[6].camera, "C1");
  EXPECT_EQ(x[7].kind, Expectation::Kind::accuracy);
  EXPECT_EQ(x[7].cdf68_max, 1.5);
  EXPECT_EQ(x[7].cdf95_max, 3.0);
  EXPECT_EQ(x[8].kind, Expectation::Kind::alarm_quality);
  EXPECT_EQ(x[8].missed_max, 0.05);
  EXPECT_EQ(x[8].false_max, 0.1);
  EXPECT_EQ(x[9].kind, Expectation::Kind::alarm_delay);
  EXPECT_EQ(x[9].p95_max, 5.0);

  // provenance: SHA-256 of the bytes of both files
  EXPECT_EQ(sc.scenario_sha256, sha256_hex(text));
  EXPECT_EQ(sc.site_sha256, sha256_hex(kFullSite));
}

TEST_F(ScenarioLoader, MinimalScenarioHasEveryDefault) {
  const Scenario sc = load_ok(lines({"scenario: m", "site: site.yaml", "duration: 60", "people: [{id: A, at: [0, 0]}]"}));
  EXPECT_EQ(sc.clock.start_unix_s, 1767571200);  // 2026-01-05T08:00:00+08:00
  EXPECT_EQ(sc.clock.start_unix_s, unix_of(2026, 1, 5, 8, 0));
  EXPECT_EQ(sc.clock.utc_offset_min, 8 * 60);
  EXPECT_EQ(sc.duration, 60 * kSecond);
  EXPECT_EQ(sc.seed, 1u);
  EXPECT_EQ(sc.positioning.mode, Positioning::Mode::truth);
  EXPECT_DOUBLE_EQ(sc.positioning.noise_sigma, 0);
  EXPECT_DOUBLE_EQ(sc.fix_rate, 1);
  EXPECT_TRUE(sc.radio.empty());
  EXPECT_TRUE(sc.duty.empty());
  EXPECT_FALSE(sc.drill.ack);
  EXPECT_FALSE(sc.drill.handle);
  EXPECT_TRUE(sc.script.empty());
  EXPECT_TRUE(sc.expect.empty());
  EXPECT_TRUE(sc.requirements.empty());
  EXPECT_EQ(sc.description, "");
  ASSERT_EQ(sc.people.size(), 1u);
  EXPECT_EQ(sc.people[0].name, "A");
  EXPECT_EQ(sc.people[0].category, Category::employee);
  EXPECT_TRUE(sc.people[0].roles.empty());
  EXPECT_FALSE(sc.people[0].tag);
  EXPECT_EQ(sc.people[0].floor, "1");
  EXPECT_EQ(sc.site.name, "mini");
  EXPECT_EQ(sc.site.rules.gathering.dwell, 60 * kSecond);
  EXPECT_EQ(sc.site.rules.low_battery, 0.2);
  EXPECT_EQ(sc.site_sha256, sha256_hex(lines({
                                "site: mini",
                                "floors: [{id: 1, z: [-1, 4]}, {id: 2, z: [4, 8]}]",
                                "zones:",
                                "  - {id: Z1, polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]}",
                                "  - {id: Z2, polygon: [[20, 0], [30, 0], [30, 10]]}",
                                "cameras:",
                                "  - {id: C1, at: [0, 0, 5]}",
                            })));
}

TEST_F(ScenarioLoader, PositioningAsAWordAndStartWithUtcOffset) {
  const Scenario sc = load_ok(lines({"scenario: m", "site: site.yaml", "start: 2026-07-01T22:30:00Z", "duration: 1d",
                                     "positioning: simulated", "people: []"}));
  EXPECT_EQ(sc.positioning.mode, Positioning::Mode::simulated);
  EXPECT_EQ(sc.clock.start_unix_s, unix_of(2026, 7, 1, 22, 30, 0));
  EXPECT_EQ(sc.clock.utc_offset_min, 0);
  EXPECT_EQ(sc.duration, kDay);
}

TEST_F(ScenarioLoader, TagOffAndOnAreReadAsTextNotBooleans) {
  const Scenario sc = load_ok(kHead + lines({
                                          "script:",
                                          "  - {t: 1, who: A, tag: off}",
                                          "  - {t: 2, who: A, tag: on}",
                                          "  - {t: 3, who: [A, B], tag: \"off\"}",
                                      }));
  ASSERT_EQ(sc.script.size(), 3u);
  EXPECT_EQ(sc.script[0].kind, ScriptAction::Kind::tag_off);
  EXPECT_EQ(sc.script[1].kind, ScriptAction::Kind::tag_on);
  EXPECT_EQ(sc.script[2].kind, ScriptAction::Kind::tag_off);
  EXPECT_EQ(sc.script[2].who, (std::vector<std::string>{"A", "B"}));
  // a YAML boolean spelled otherwise is not a tag state
  const LoadError e = load_err(kHead + lines({"script:", "  - {t: 1, who: A, tag: false}"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 9, "script[0].tag");
}

TEST_F(ScenarioLoader, GradeWrittenAsNumberOrQuotedIsTheSameText) {
  const std::string area = "area: [[0, 0], [1, 0], [1, 1]], from: 0, to: 1h";
  const Scenario sc = load_ok(kHead + lines({
                                          "script:",
                                          "  - {t: 1, permit: {action: reserve, id: R1, type: hot_work, grade: 2, " + area + "}}",
                                          "  - {t: 1, permit: {action: reserve, id: R2, type: hot_work, grade: \"2\", " + area + "}}",
                                          "  - {t: 1, permit: {action: reserve, id: R3, type: hot_work, grade: special, " + area + "}}",
                                          "  - {t: 1, permit: {action: reserve, id: R4, type: height, grade: II, " + area + "}}",
                                          "  - {t: 1, permit: {action: reserve, id: R5, type: height, " + area + "}}",
                                      }));
  ASSERT_EQ(sc.script.size(), 5u);
  EXPECT_EQ(sc.script[0].permit.grade, "2");
  EXPECT_EQ(sc.script[1].permit.grade, "2");
  EXPECT_EQ(sc.script[2].permit.grade, "special");
  EXPECT_EQ(sc.script[3].permit.grade, "II");
  EXPECT_EQ(sc.script[4].permit.grade, "");
  const LoadError e = load_err(kHead + lines({"script:", "  - {t: 1, permit: {action: reserve, id: R1, type: hot_work, grade: 5, " + area + "}}"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 9, "script[0].permit.grade");
}

TEST_F(ScenarioLoader, OneDigitCodeIsNormalisedToTwo) {
  const Scenario sc = load_ok(kHead + lines({
                                          "expect:",
                                          "  - {refused: {permit: W, action: approve}, code: 1}",
                                          "  - {refused: {permit: W, action: approve}, code: 01}",
                                          "  - {refused: {permit: W, action: start}, code: \"70\"}",
                                          "  - {alarm: certificate_expired, code: 51, between: [0, 10]}",
                                      }));
  ASSERT_EQ(sc.expect.size(), 4u);
  EXPECT_EQ(sc.expect[0].code, Aq2Code::c01);
  EXPECT_EQ(sc.expect[1].code, Aq2Code::c01);
  EXPECT_EQ(sc.expect[2].code, Aq2Code::c70);
  EXPECT_EQ(sc.expect[3].code, Aq2Code::c51);
  const LoadError e = load_err(kHead + lines({"expect:", "  - {refused: {permit: W, action: approve}, code: 99}"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 9, "expect[0].code");
}

TEST_F(ScenarioLoader, FloorIdWrittenAsNumberOrQuotedIsTheSameText) {
  const Scenario sc = load_ok(lines({"scenario: f", "site: site.yaml", "duration: 60", "people:",
                                     "  - {id: A, at: [0, 0], floor: 2}", "  - {id: B, at: [0, 0], floor: \"2\"}",
                                     "script:", "  - {t: 0, who: A, place: [1, 1], floor: \"1\"}",
                                     "  - {t: 0, who: B, go_to: [1, 1], floor: 1}"}));
  EXPECT_EQ(sc.people[0].floor, "2");
  EXPECT_EQ(sc.people[1].floor, "2");
  EXPECT_EQ(sc.script[0].floor, "1");
  EXPECT_EQ(sc.script[1].floor, "1");
}

TEST_F(ScenarioLoader, RulesOverrideTheSitesKeyByKey) {
  write("plant.yaml", lines({
                          "site: p",
                          "rules:",
                          "  gathering: {radius: 20, dwell: 90s, yellow: 4, orange: 6, red: 9}",
                          "  linkage: {grace: 7s}",
                          "  validity: {hot_work: {2: 48h}, lifting: 8h}",
                          "  approval: {hot_work: {1: [safety_officer]}}",
                          "  certificates: {hot_work: {guardian: hw_guardian}}",
                          "  gas: {toxic: {CO: 20}}",
                      }));
  const Scenario sc = load_ok(lines({
      "scenario: o",
      "site: plant.yaml",
      "duration: 60",
      "people: []",
      "rules:",
      "  gathering: {dwell: 45s}",
      "  validity: {hot_work: {1: 6h}, confined_space: 12h}",
      "  approval: {hot_work: {special: [director]}}",
      "  certificates: {hot_work: {workers: welding_adv}}",
      "  gas: {toxic: {H2S: 10}, o2_min: 19}",
  }));
  const Rules& r = sc.site.rules;
  EXPECT_EQ(r.gathering.dwell, 45 * kSecond);  // the scenario's
  EXPECT_DOUBLE_EQ(r.gathering.radius, 20);    // the site's
  EXPECT_EQ(r.gathering.yellow, 4);
  EXPECT_EQ(r.gathering.red, 9);
  EXPECT_EQ(r.linkage_grace, 7 * kSecond);
  EXPECT_DOUBLE_EQ(r.linkage_on_site_radius, 20);  // the default
  EXPECT_EQ(r.validity.at("hot_work").at("1"), 6 * kHour);
  EXPECT_EQ(r.validity.at("hot_work").at("2"), 48 * kHour);
  EXPECT_EQ(r.validity.at("hot_work").at("special"), 8 * kHour);
  EXPECT_EQ(r.validity.at("lifting").at(""), 8 * kHour);
  EXPECT_EQ(r.validity.at("confined_space").at(""), 12 * kHour);
  EXPECT_EQ(r.approval.at("hot_work").at("1"), (std::vector<std::string>{"safety_officer"}));
  EXPECT_EQ(r.approval.at("hot_work").at("special"), (std::vector<std::string>{"director"}));
  EXPECT_EQ(r.certificates.at("hot_work").at("guardian"), "hw_guardian");
  EXPECT_EQ(r.certificates.at("hot_work").at("workers"), "welding_adv");
  EXPECT_DOUBLE_EQ(r.gas.toxic.at("CO"), 20);
  EXPECT_DOUBLE_EQ(r.gas.toxic.at("H2S"), 10);
  EXPECT_DOUBLE_EQ(r.gas.o2_min, 19);
  EXPECT_DOUBLE_EQ(r.gas.o2_max, 21);
}

TEST_F(ScenarioLoader, OneDurationForAWholeTypeReplacesItsGrades) {
  const Scenario sc = load_ok(kHead + lines({"rules:", "  validity: {hot_work: 10h}"}));
  EXPECT_EQ(sc.site.rules.validity.at("hot_work"), (std::map<std::string, Micros>{{"", 10 * kHour}}));
}

TEST_F(ScenarioLoader, GatheringTiersAreCheckedAfterTheOverride) {
  const LoadError e = load_err(kHead + lines({"rules:", "  gathering: {yellow: 5}"}));  // orange stays 4
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 9, "rules.gathering.yellow");
  EXPECT_NE(e.message.find("yellow <= orange"), std::string::npos);
  const LoadError e2 = load_err(kHead + lines({"rules:", "  gathering:", "    radius: 10", "    yellow: 1"}));
  EXPECT_LOAD_ERROR(e2, path("s.yaml"), 11, "rules.gathering.yellow");
}

TEST_F(ScenarioLoader, CalendarOverridesTheSitesKeyByKey) {
  write("plant.yaml", lines({"site: p", "timezone: \"+09:00\"", "calendar: {holidays: [2026-01-01], night: [\"21:00\", \"05:00\"]}"}));
  const Scenario sc = load_ok(lines({"scenario: c", "site: plant.yaml", "duration: 60", "people: []",
                                     "calendar: {night: [\"23:00\", \"04:00\"], special_periods: [[2026-02-01, 2026-02-01]]}"}));
  EXPECT_EQ(sc.site.calendar.holidays, (std::vector<std::int64_t>{days_from_civil(2026, 1, 1)}));
  EXPECT_EQ(sc.site.calendar.night_from_min, 23 * 60);
  EXPECT_EQ(sc.site.calendar.night_to_min, 4 * 60);
  ASSERT_EQ(sc.site.calendar.special_periods.size(), 1u);
  // a date alone is local midnight in the site's timezone; the `to` date runs to the end of that day
  EXPECT_EQ(sc.site.calendar.special_periods[0].first, unix_of(2026, 2, 1, 0, 0, 9 * 60));
  EXPECT_EQ(sc.site.calendar.special_periods[0].second, unix_of(2026, 2, 2, 0, 0, 9 * 60));
}

TEST_F(ScenarioLoader, InlineSite) {
  const Scenario sc = load_ok(lines({
      "scenario: inline",
      "site:",
      "  zones:",
      "    - {id: Z, polygon: [[0, 0], [5, 0], [5, 5]], capacity: 2}",
      "  rules: {gathering: {radius: 8}}",
      "duration: 60",
      "rules: {gathering: {dwell: 10s}}",
      "people: [{id: A, at: [1, 1]}]",
      "expect:",
      "  - {zone_count: {zone: Z, count: 1}, at: 60}",
  }));
  EXPECT_EQ(sc.site.name, "inline");  // an inline site's name defaults to the scenario's
  EXPECT_EQ(sc.site.file, "");
  EXPECT_EQ(sc.site_sha256, "");
  ASSERT_EQ(sc.site.zones.size(), 1u);
  EXPECT_EQ(sc.site.zones[0].capacity, 2);
  EXPECT_EQ(sc.site.zones[0].line, 4);
  EXPECT_DOUBLE_EQ(sc.site.rules.gathering.radius, 8);
  EXPECT_EQ(sc.site.rules.gathering.dwell, 10 * kSecond);
  EXPECT_EQ(sc.site.floor_ids(), (std::vector<std::string>{"1"}));
  const Scenario named = load_ok(lines({"scenario: s", "site: {site: named}", "duration: 60", "people: []"}));
  EXPECT_EQ(named.site.name, "named");
}

TEST_F(ScenarioLoader, LoadFromTextResolvesTheSiteNextToTheGivenFile) {
  Scenario sc;
  const std::string text = lines({"scenario: t", "site: site.yaml", "duration: 60", "people: []"});
  const auto err = load_scenario_text(text, path("virtual.yaml"), sc);
  ASSERT_FALSE(err) << err->to_string();
  EXPECT_EQ(sc.site.name, "mini");
  EXPECT_EQ(sc.file, path("virtual.yaml"));
  EXPECT_EQ(sc.scenario_sha256, sha256_hex(text));
  Site s;
  const auto serr = load_site_text("site: x\n", "mem.yaml", s);
  ASSERT_FALSE(serr) << serr->to_string();
  EXPECT_EQ(s.file, "mem.yaml");
}

TEST_F(ScenarioLoader, ExpectationTextIsTheExpectationOnOneLine) {
  const Scenario sc = load_ok(kHead + lines({
                                          "expect:",
                                          "  - alarm: sos",
                                          "    who: A",
                                          "    between: [0, 10s]",
                                          "    req: PL-07",
                                          "  - {accuracy: {cdf68_max: 1.5}}",
                                      }));
  ASSERT_EQ(sc.expect.size(), 2u);
  EXPECT_EQ(sc.expect[0].text, "{alarm: sos, who: A, between: [0, 10s], req: PL-07}");
  EXPECT_EQ(sc.expect[0].line, 9);
  EXPECT_EQ(sc.expect[1].text, "{accuracy: {cdf68_max: 1.5}}");
  EXPECT_FALSE(sc.expect[1].cdf95_max);
}

TEST_F(ScenarioLoader, ScriptAndExpectationsKeepFileOrder) {
  const Scenario sc = load_ok(kHead + lines({
                                          "script:",
                                          "  - {t: 30, who: A, press: sos}",
                                          "  - {t: 10, who: B, press: sos}",
                                          "  - {t: 10, who: A, battery: 0.5}",
                                          "expect:",
                                          "  - {alarm: sos, between: [30, 40]}",
                                          "  - {alarm: sos, between: [10, 20]}",
                                      }));
  ASSERT_EQ(sc.script.size(), 3u);
  EXPECT_EQ(sc.script[0].t, 30 * kSecond);
  EXPECT_EQ(sc.script[1].who, (std::vector<std::string>{"B"}));
  EXPECT_EQ(sc.script[2].kind, ScriptAction::Kind::battery);
  EXPECT_EQ(sc.expect[0].window->first, 30 * kSecond);
  EXPECT_EQ(sc.expect[1].window->first, 10 * kSecond);
}

TEST_F(ScenarioLoader, PermitTimesMayLieOutsideTheRun) {
  const Scenario sc = load_ok(kHead + lines({
      "script:",
      "  - {t: 0, permit: {action: reserve, id: R, type: excavation, area: [[0, 0], [1, 0], [1, 1]], from: -2h, to: 3d}}",
      "  - {t: 600, permit: {action: reserve, id: S, type: road_break, area: [[0, 0], [1, 0], [1, 1]],",
      "                      from: \"2026-01-06T08:00:00+08:00\", to: \"2026-01-07T00:00:00Z\"}}",
  }));
  EXPECT_EQ(sc.script[0].permit.from, -2 * kHour);
  EXPECT_EQ(sc.script[0].permit.to, 3 * kDay);
  EXPECT_EQ(sc.script[1].t, 600 * kSecond);
  EXPECT_EQ(sc.script[1].permit.from, kDay);
  EXPECT_EQ(sc.script[1].permit.to, 2 * kDay);  // 2026-01-07T00:00Z is 48 h after 2026-01-05T08:00+08:00
}

TEST(LoadErrorFormat, ToStringIsFileLineKeyMessage) {
  EXPECT_EQ((LoadError{"a.yaml", 3, "people[0].tag", "bad"}).to_string(), "a.yaml:3: people[0].tag: bad");
  EXPECT_EQ((LoadError{"a.yaml", 4, "", "YAML syntax error"}).to_string(), "a.yaml:4: YAML syntax error");
  EXPECT_EQ((LoadError{"a.yaml", 0, "", "cannot read"}).to_string(), "a.yaml: cannot read");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ---------------------------------------------------------------------------------------------
// errors: each names the file, the line and the key

struct Case {
  std::string tail;  // appended to kHead, from line 8
  int line;
  std::string key;
  std::string in_message = "";
};

class ScenarioErrors : public LoaderTest {
 public:
  using LoaderTest::load_err;
  void check(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.tail);
      const LoadError e = load_err(kHead + c.tail, "s.yaml");
      EXPECT_LOAD_ERROR(e, path("s.yaml"), c.line, c.key);
      if (!c.in_message.empty()) {
        EXPECT_NE(e.message.find(c.in_message), std::string::npos) << e.message;
      }
    }
  }
};

TEST_F(ScenarioErrors, UnknownTopLevelKeyNamesFileLineAndKey) {
  check({{"sedd: 3\n", 8, "sedd", "unknown key 'sedd'"}});
  const LoadError e = load_err(kHead + "sedd: 3\n");
  EXPECT_NE(e.message.find("seed"), std::string::npos);  // lists the allowed keys
  EXPECT_EQ(e.to_string().rfind(path("s.yaml") + ":8: sedd: unknown key", 0), 0u) << e.to_string();
}

TEST_F(ScenarioErrors, UnknownKeyInScriptActionNamesFileLineAndKey) {
  check({
      {lines({"script:", "  - {t: 1, who: A, place: [1, 1]}", "  - {t: 5, who: A, go_to: [4, 4], sped: 2}"}), 10,
       "script[1].sped", "unknown key 'sped'"},
      {lines({"script:", "  - {t: 1, who: A, place: [1, 1], speed: 2}"}), 9, "script[0].speed", "place"},
      {lines({"script:", "  - {t: 1, who: A, walk: [[1, 1]], floor: 2}"}), 9, "script[0].floor", "walk"},
      {lines({"script:", "  - {t: 1, permit: {action: start, id: W}, who: A}"}), 9, "script[0].who"},
      {lines({"script:", "  - {t: 1, who: A, place: [1, 1], press: sos}"}), 9, "script[0].press", "both"},
      {lines({"script:", "  - {t: 1, who: A}"}), 9, "script[0]", "go_to"},
      {lines({"script:", "  - {t: 1, who: A, press: help}"}), 9, "script[0].press", "sos"},
      {lines({"script:", "  - {t: 1, who: A, gate: inside}"}), 9, "script[0].gate"},
  });
}

TEST_F(ScenarioErrors, UnknownKeyInPermitCommandAndAlarmAction) {
  check({
      {lines({"script:", "  - {t: 1, permit: {action: start, id: W1, byy: A}}"}), 9, "script[0].permit.byy"},
      {lines({"script:", "  - {t: 1, permit: {action: begin, id: W1}}"}), 9, "script[0].permit.action", "begin"},
      {lines({"script:", "  - {t: 1, permit: {action: gas, id: W1, by: A, readings: {h2s: 1}}}"}), 9,
       "script[0].permit.readings.h2s"},
      {lines({"script:", "  - {t: 1, permit: {action: reserve, id: R, type: welding, area: [[0, 0], [1, 0], [1, 1]],",
              "                    from: 0, to: 1h}}"}),
       9, "script[0].permit.type", "hot_work"},
      {lines({"script:", "  - {t: 1, permit: {action: apply, id: W, type: height, blind: twice, area: [[0, 0], [1, 0], [1, 1]],",
              "     workers: [A], guardian: B, approver: C, from: 0, to: 1h}}"}),
       9, "script[0].permit.blind"},
      {lines({"script:", "  - {t: 1, alarm: {action: ack, by: A, whom: B}}"}), 9, "script[0].alarm.whom"},
      {lines({"script:", "  - {t: 1, alarm: {action: dismiss, by: A}}"}), 9, "script[0].alarm.action"},
      {lines({"script:", "  - {t: 1, alarm: {action: ack, type: fire, by: A}}"}), 9, "script[0].alarm.type"},
  });
}

TEST_F(ScenarioErrors, UnknownKeyInRulesAndCalendar) {
  check({
      {lines({"rules:", "  gathering: {radius: 10, dwel: 30s}"}), 9, "rules.gathering.dwel", "allowed: radius"},
      {lines({"rules:", "  tag_offline: 30s"}), 9, "rules.tag_offline"},
      {lines({"rules:", "  validity: {hot_wrk: 8h}"}), 9, "rules.validity.hot_wrk", "hot_work"},
      {lines({"rules:", "  validity:", "    hot_work: {V: 8h}"}), 10, "rules.validity.hot_work.V", "grade"},
      {lines({"rules:", "  certificates: {hot_work: {helpers: welding}}"}), 9, "rules.certificates.hot_work.helpers"},
      {lines({"rules:", "  gas: {toxic: {H2S: 10}, co_max: 3}"}), 9, "rules.gas.co_max"},
      {lines({"rules:", "  gathering: {confirm_close_from: blue}"}), 9, "rules.gathering.confirm_close_from"},
      {lines({"calendar:", "  holiday: [2026-10-01]"}), 9, "calendar.holiday", "holidays"},
      {lines({"calendar:", "  rest_days: [saturday]"}), 9, "calendar.rest_days[0]", "sat"},
      {lines({"calendar:", "  night: [\"20:00\"]"}), 9, "calendar.night"},
      {lines({"calendar:", "  special_periods: [[2026-10-01, tomorrow]]"}), 9, "calendar.special_periods[0][1]"},
  });
}

TEST_F(ScenarioErrors, UnknownKeyInPersonAndExpectation) {
  check({
      {"  - {id: D, at: [1, 1], tags: T4}\n", 8, "people[3].tags", "unknown key 'tags'"},
      {"  - {id: D, at: [1, 1], category: worker}\n", 8, "people[3].category", "contractor"},
      {lines({"  - id: D", "    at: [1, 1]", "    certificates: [{type: welding, number: 1, expires: 2027-01-01, owner: X}]"}),
       10, "people[3].certificates[0].owner"},
      {lines({"expect:", "  - {alarm: sos, between: [0, 10], levl: red}"}), 9, "expect[0].levl", "level"},
      {lines({"expect:", "  - {alarm: sos, between: [0, 10]}", "  - {refused: {permit: W1, actio: start}}"}), 10,
       "expect[1].refused.actio"},
      {lines({"expect:", "  - {no_alarm: sos, between: [0, 10]}"}), 9, "expect[0].between", "no_alarm"},
      {lines({"expect:", "  - {permit_status: {id: W, status: open}, at: 10}"}), 9, "expect[0].permit_status.status",
       "in_progress"},
      {lines({"expect:", "  - {req: X}"}), 9, "expect[0]", "zone_count"},
  });
}

TEST_F(ScenarioErrors, WrongTypeNamesWhatWasExpectedAndFound) {
  check({
      {"fix_rate: fast\n", 8, "fix_rate", "expected a number, found 'fast'"},
      {"  - {id: D, at: here}\n", 8, "people[3].at", "expected a point"},
      {"  - {id: D, at: [1, 2, 3, 4]}\n", 8, "people[3].at", "4 values"},
      {lines({"script:", "  - {t: 1, who: {id: A}, press: sos}"}), 9, "script[0].who"},
      {"requirements: PL-01\n", 8, "requirements", "list"},
      {"seed: -1\n", 8, "seed"},
      {"radio: [1, 2]\n", 8, "radio", "mapping"},
      {"positioning: radio\n", 8, "positioning", "simulated"},
      {lines({"script:", "  - {t: 1, permit: {action: reserve, id: R, type: height, urgent: maybe,",
              "     area: [[0, 0], [1, 0], [1, 1]], from: 0, to: 1h}}"}),
       9, "script[0].permit.urgent", "true or false"},
      {lines({"expect:", "  - {zone_count: {zone: Z1, count: two}, at: 1}"}), 9, "expect[0].zone_count.count"},
      {"duration: 60\n", 8, "duration", "duplicate key"},
  });
}

TEST_F(ScenarioErrors, MissingRequiredKeyPointsAtTheParentMapping) {
  const LoadError e = load_err(lines({"scenario: s", "site: site.yaml", "people: []"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 1, "duration");
  EXPECT_NE(e.message.find("missing required key 'duration'"), std::string::npos);
  const LoadError e2 = load_err(lines({"scenario: s", "duration: 60", "people: []"}));
  EXPECT_LOAD_ERROR(e2, path("s.yaml"), 1, "site");
  check({
      {lines({"  - id: D", "    tag: T4"}), 8, "people[3].at", "missing required key 'at'"},
      {lines({"script:", "  - {who: A, press: sos}"}), 9, "script[0].t"},
      {lines({"script:", "  - {t: 1, press: sos}"}), 9, "script[0].who"},
      {lines({"script:", "  - {t: 1, permit: {action: apply, id: W, type: hot_work, area: [[0, 0], [1, 0], [1, 1]],",
              "                    guardian: B, approver: C, from: 0, to: 1h}}"}),
       9, "script[0].permit.workers"},
      {lines({"script:", "  - t: 1", "    permit:", "      action: approve", "      id: W"}), 11, "script[0].permit.by"},
      {lines({"script:", "  - {t: 1, alarm: {action: ack}}"}), 9, "script[0].alarm.by"},
      {lines({"expect:", "  - {alarm: sos}"}), 9, "expect[0].between"},
      {lines({"expect:", "  - {permit_status: {id: W, status: signed}}"}), 9, "expect[0].at"},
      // issue 19: any one bound makes an accuracy expectation; none at all is the error
      {lines({"expect:", "  - {accuracy: {}}"}), 9, "expect[0].accuracy", "expected at least one of cdf68_max"},
      {lines({"  - id: D", "    at: [0, 0]", "    certificates:", "      - {type: welding, number: W-1}"}), 11,
       "people[3].certificates[0].expires"},
  });
}

TEST_F(ScenarioErrors, UnknownPersonEverywhereAPersonIsNamed) {
  const std::string area = "area: [[0, 0], [1, 0], [1, 1]], from: 0, to: 1h";
  auto apply = [&](const std::string& workers, const std::string& guardian, const std::string& approver,
                   const std::string& by) {
    return lines({"script:", "  - {t: 1, permit: {action: apply, id: W, type: hot_work, " + area + ", workers: " +
                                 workers + ", guardian: " + guardian + ", approver: " + approver + ", by: " + by + "}}"});
  };
  check({
      {lines({"script:", "  - {t: 1, who: Q, press: sos}"}), 9, "script[0].who", "unknown person 'Q'"},
      {lines({"script:", "  - {t: 1, who: [A, Q], place: [0, 0]}"}), 9, "script[0].who[1]", "unknown person 'Q'"},
      {lines({"duty:", "  - {person: Q, from: 0, to: 60}"}), 9, "duty[0].person", "unknown person 'Q'"},
      {apply("[A, Q]", "B", "C", "A"), 9, "script[0].permit.workers[1]", "unknown person 'Q'"},
      {apply("[A]", "Q", "C", "A"), 9, "script[0].permit.guardian", "unknown person 'Q'"},
      {apply("[A]", "B", "Q", "A"), 9, "script[0].permit.approver", "unknown person 'Q'"},
      {apply("[A]", "B", "C", "Q"), 9, "script[0].permit.by", "unknown person 'Q'"},
      {lines({"script:", "  - {t: 1, permit: {action: brief, id: W, signed_by: [A, Q]}}"}), 9,
       "script[0].permit.signed_by[1]"},
      {lines({"script:", "  - {t: 1, permit: {action: handover, id: W, guardian: Q}}"}), 9, "script[0].permit.guardian"},
      {lines({"script:", "  - {t: 1, alarm: {action: ack, who: Q, by: A}}"}), 9, "script[0].alarm.who"},
      {lines({"expect:", "  - {alarm: sos, who: Q, between: [0, 10]}"}), 9, "expect[0].who", "unknown person 'Q'"},
      {lines({"expect:", "  - {no_alarm: sos, who: Q}"}), 9, "expect[0].who"},
  });
}

TEST_F(ScenarioErrors, TagActionsNeedATag) {
  check({{lines({"script:", "  - {t: 1, who: [A, C], press: sos}"}), 9, "script[0].who", "'C' carries no tag"}});
}

TEST_F(ScenarioErrors, PolygonWithFewerThanThreePoints) {
  check({
      {lines({"script:", "  - {t: 1, permit: {action: reserve, id: R, type: height, area: [[0, 0], [1, 0]], from: 0, to: 1h}}"}),
       9, "script[0].permit.area", "at least 3 points, found 2"},
  });
  const LoadError e = site_err(lines({"site: p", "zones:", "  - id: Z", "    polygon: [[0, 0], [1, 1]]"}));
  EXPECT_LOAD_ERROR(e, path("plant.yaml"), 4, "zones[0].polygon");
  EXPECT_NE(e.message.find("at least 3 points"), std::string::npos);
  const LoadError e2 = site_err(lines({"site: p", "bounds: []"}));
  EXPECT_LOAD_ERROR(e2, path("plant.yaml"), 2, "bounds");
  const LoadError e3 = site_err(lines({"site: p", "buildings:", "  - {id: B, footprint: [[0, 0], [1, 0], [1]]}"}));
  EXPECT_LOAD_ERROR(e3, path("plant.yaml"), 3, "buildings[0].footprint[2]");
}

TEST_F(ScenarioErrors, ScriptOrExpectationTimeOutsideTheRun) {
  // the run is [0, 600 s], both ends included
  EXPECT_EQ(load_ok(kHead + lines({"script:", "  - {t: 10min, who: A, press: sos}"})).script.at(0).t, 600 * kSecond);
  check({
      {lines({"script:", "  - {t: 601, who: A, press: sos}"}), 9, "script[0].t", "after the end of the run"},
      {lines({"script:", "  - {t: -1, who: A, press: sos}"}), 9, "script[0].t", "before the start of the run"},
      {lines({"expect:", "  - {alarm: sos, between: [0, 11min]}"}), 9, "expect[0].between[1]", "after the end"},
      {lines({"expect:", "  - {no_alarm: sos, during: [-5, 10]}"}), 9, "expect[0].during[0]", "before the start"},
      {lines({"expect:", "  - {permit_status: {id: W, status: signed}, at: 700}"}), 9, "expect[0].at"},
      {lines({"expect:", "  - {zone_count: {zone: Z1, count: 0}, at: 1h}"}), 9, "expect[0].at"},
      {lines({"expect:", "  - {alarm: sos, between: [20, 10]}"}), 9, "expect[0].between", "before it begins"},
  });
}

TEST_F(ScenarioErrors, BadDuration) {
  const LoadError e = load_err(lines({"scenario: s", "site: site.yaml", "duration: 5 minutes", "people: []"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 3, "duration");
  EXPECT_NE(e.message.find("bad duration"), std::string::npos);
  EXPECT_NE(e.message.find("'5 minutes'"), std::string::npos);
  check({
      {lines({"rules:", "  gathering: {dwell: 1m}"}), 9, "rules.gathering.dwell", "bad duration"},
      {lines({"rules:", "  gathering: {every: -1s}"}), 9, "rules.gathering.every", "bad duration"},
      {lines({"script:", "  - {t: 5 sec, who: A, press: sos}"}), 9, "script[0].t", "bad duration"},
      {lines({"drill: {ack: soon}"}), 8, "drill.ack", "bad duration"},
      {lines({"script:", "  - {t: 1, permit: {action: reserve, id: R, type: height, area: [[0, 0], [1, 0], [1, 1]],",
              "                    from: 0, to: 2026-01-06}}"}),
       10, "script[0].permit.to", "date-time"},
  });
}

TEST_F(ScenarioErrors, UnknownFloor) {
  check({
      {"  - {id: D, at: [1, 1], floor: 3}\n", 8, "people[3].floor", "unknown floor '3'"},
      {lines({"script:", "  - {t: 1, who: A, go_to: [1, 1], floor: B1}"}), 9, "script[0].floor", "unknown floor 'B1'"},
      {lines({"script:", "  - {t: 1, permit: {action: reserve, id: R, type: height, area: [[0, 0], [1, 0], [1, 1]],",
              "                    floor: 7, from: 0, to: 1h}}"}),
       10, "script[0].permit.floor", "unknown floor '7'"},
  });
  const LoadError e = site_err(lines({"site: p", "zones:", "  - {id: Z, polygon: [[0, 0], [1, 0], [1, 1]], floors: [1, 2]}"}));
  EXPECT_LOAD_ERROR(e, path("plant.yaml"), 3, "zones[0].floors[1]");
  // a site without floor 1 makes the default floor unknown
  write("g.yaml", lines({"site: g", "floors: [{id: G, z: [0, 4]}]"}));
  const LoadError e2 = load_err(lines({"scenario: s", "site: g.yaml", "duration: 60", "people:", "  - {id: A, at: [0, 0]}"}));
  EXPECT_LOAD_ERROR(e2, path("s.yaml"), 5, "people[0].floor");
}

TEST_F(ScenarioErrors, DuplicateIds) {
  check({
      {"  - {id: A, at: [0, 0]}\n", 8, "people[3].id", "duplicate person id 'A'"},
      {"  - {id: D, tag: T1, at: [0, 0]}\n", 8, "people[3].tag", "duplicate tag id 'T1'"},
  });
  const std::string poly = "polygon: [[0, 0], [1, 0], [1, 1]]";
  const LoadError z = site_err(lines({"site: p", "zones:", "  - {id: Z, " + poly + "}", "  - {id: Z, " + poly + "}"}));
  EXPECT_LOAD_ERROR(z, path("plant.yaml"), 4, "zones[1].id");
  const LoadError a = site_err(lines({"site: p", "anchors:", "  - {id: X, at: [0, 0, 3]}", "  - {id: X, at: [1, 0, 3]}"}));
  EXPECT_LOAD_ERROR(a, path("plant.yaml"), 4, "anchors[1].id");
  const LoadError c = site_err(lines({"site: p", "cameras:", "  - {id: K, at: [0, 0, 3]}", "  - {id: K, at: [1, 0, 3]}"}));
  EXPECT_LOAD_ERROR(c, path("plant.yaml"), 4, "cameras[1].id");
}

TEST_F(ScenarioErrors, UnknownZoneCameraAlarmTypeLevelOrEventInExpectations) {
  check({
      {lines({"expect:", "  - {zone_count: {zone: Z9, count: 1}, at: 10}"}), 9, "expect[0].zone_count.zone",
       "unknown zone 'Z9'"},
      {lines({"expect:", "  - {alarm: over_capacity, zone: Z9, between: [0, 10]}"}), 9, "expect[0].zone"},
      {lines({"expect:", "  - {alarm: gatherin, between: [0, 10]}"}), 9, "expect[0].alarm", "gathering"},
      {lines({"expect:", "  - {no_alarm: fire}"}), 9, "expect[0].no_alarm"},
      {lines({"expect:", "  - {alarm: gathering, level: purple, between: [0, 10]}"}), 9, "expect[0].level", "orange"},
      {lines({"expect:", "  - {alarm: gathering, event: started, between: [0, 10]}"}), 9, "expect[0].event",
       "escalated"},
      {lines({"expect:", "  - {camera_call: {type: sos, camera: C9}}"}), 9, "expect[0].camera_call.camera",
       "unknown camera"},
      {lines({"expect:", "  - {camera_call: {type: fire, camera: C1}}"}), 9, "expect[0].camera_call.type"},
      {lines({"expect:", "  - {refused: {permit: W, action: stop}}"}), 9, "expect[0].refused.action"},
  });
}

TEST_F(ScenarioErrors, NumbersThatMakeNoSense) {
  check({
      {"fix_rate: 0\n", 8, "fix_rate", "> 0"},
      {"fix_rate: -2\n", 8, "fix_rate", "> 0"},
      {"fix_rate: .inf\n", 8, "fix_rate"},
      {"fix_rate: nan\n", 8, "fix_rate", "finite"},
      {"positioning: {mode: truth, noise_sigma: -0.5}\n", 8, "positioning.noise_sigma", ">= 0"},
      {lines({"script:", "  - {t: 1, who: A, battery: 1.5}"}), 9, "script[0].battery", "0 to 1"},
      {lines({"script:", "  - {t: 1, who: A, battery: -0.1}"}), 9, "script[0].battery"},
      {lines({"script:", "  - {t: 1, who: A, go_to: [1, 1], speed: 0}"}), 9, "script[0].speed", "> 0"},
      {lines({"script:", "  - {t: 1, who: A, walk: [[1, 1]], speed: -1}"}), 9, "script[0].speed"},
      {lines({"script:", "  - {t: 1, who: A, place: [1, .nan]}"}), 9, "script[0].place[1]"},
      {lines({"rules:", "  gathering: {radius: -1}"}), 9, "rules.gathering.radius", "> 0"},
      {lines({"rules:", "  gathering: {radius: 0}"}), 9, "rules.gathering.radius"},
      {lines({"rules:", "  stationary: {radius: 0}"}), 9, "rules.stationary.radius"},
      {lines({"rules:", "  low_battery: 2"}), 9, "rules.low_battery", "0 to 1"},
      {lines({"rules:", "  gathering: {yellow: 1}"}), 9, "rules.gathering.yellow", "2 <= yellow"},
      {lines({"rules:", "  gathering: {red: 3}"}), 9, "rules.gathering.red"},
      {lines({"rules:", "  linkage: {guardian_margin: -5}"}), 9, "rules.linkage.guardian_margin"},
      {lines({"rules:", "  gas: {o2_min: 23}"}), 9, "rules.gas.o2_min", "o2_max"},
      {lines({"rules:", "  evaluate_every: 0"}), 9, "rules.evaluate_every"},
      {lines({"rules:", "  crossing: {delay: 10s}"}), 9, "rules.crossing.delay", "5 s"},
      {lines({"expect:", "  - {alarm_quality: {missed_max: 1.5, false_max: 0}}"}), 9,
       "expect[0].alarm_quality.missed_max"},
      {lines({"expect:", "  - {alarm: sos, between: [0, 1], count: -1}"}), 9, "expect[0].count"},
      {lines({"script:", "  - {t: 1, permit: {action: gas, id: W, by: A, readings: {o2_volpct: -1}}}"}), 9,
       "script[0].permit.readings.o2_volpct"},
  });
  const LoadError e = site_err(lines({"site: p", "zones:", "  - {id: Z, polygon: [[0, 0], [1, 0], [1, 1]], capacity: -1}"}));
  EXPECT_LOAD_ERROR(e, path("plant.yaml"), 3, "zones[0].capacity");
  const LoadError e2 = site_err(lines({"site: p", "cameras: [{id: K, at: [0, 0, 1], range: 0}]"}));
  EXPECT_LOAD_ERROR(e2, path("plant.yaml"), 2, "cameras[0].range");
}

TEST_F(ScenarioErrors, SiteFileMissingNamesTheScenarioAndTheSiteKey) {
  const LoadError e = load_err(lines({"scenario: s", "site: nowhere.yaml", "duration: 60", "people: []"}));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 2, "site");
  EXPECT_NE(e.message.find("nowhere.yaml"), std::string::npos);
  fs::create_directories(dir_ / "adir");
  const LoadError e2 = load_err(lines({"scenario: s", "duration: 60", "people: []", "site: adir"}));
  EXPECT_LOAD_ERROR(e2, path("s.yaml"), 4, "site");
  const LoadError e3 = load_err(lines({"scenario: s", "duration: 60", "people: []", "site: [a, b]"}));
  EXPECT_LOAD_ERROR(e3, path("s.yaml"), 4, "site");
}

TEST_F(ScenarioErrors, ErrorsInsideTheSiteFileNameTheSiteFile) {
  write("bad.yaml", lines({"site: bad", "zones:", "  - id: Z", "    polygon: [[0, 0], [1, 0], [1, 1]]", "    capacty: 3"}));
  const LoadError e = load_err(lines({"scenario: s", "site: bad.yaml", "duration: 60", "people: []"}));
  EXPECT_LOAD_ERROR(e, path("bad.yaml"), 5, "zones[0].capacty");
  EXPECT_NE(e.message.find("capacity"), std::string::npos);
  write("bad2.yaml", "site: bad\nzones: [\n");
  const LoadError e2 = load_err(lines({"scenario: s", "site: bad2.yaml", "duration: 60", "people: []"}));
  EXPECT_EQ(e2.file, path("bad2.yaml"));
  EXPECT_GT(e2.line, 0);
}

TEST_F(ScenarioErrors, InlineSiteErrorsNameTheScenarioFileAndTheSitePath) {
  const LoadError e = load_err(lines({
      "scenario: s",
      "site:",
      "  zones:",
      "    - {id: Z, polygon: [[0, 0], [1, 1]]}",
      "duration: 60",
      "people: []",
  }));
  EXPECT_LOAD_ERROR(e, path("s.yaml"), 4, "site.zones[0].polygon");
  const LoadError e2 = load_err(lines({"scenario: s", "site: {rules: {gathering: {radius: 0}}}", "duration: 60", "people: []"}));
  EXPECT_LOAD_ERROR(e2, path("s.yaml"), 2, "site.rules.gathering.radius");
}

TEST_F(ScenarioErrors, YamlSyntaxErrorNamesFileAndLine) {
  const LoadError e = load_err(kHead + lines({"script:", "  - {t: 1, who: A, press: sos", "expect: []"}));
  EXPECT_EQ(e.file, path("s.yaml"));
  EXPECT_EQ(e.key, "");
  EXPECT_GE(e.line, 9);
  EXPECT_LE(e.line, 10);
  EXPECT_NE(e.message.find("YAML"), std::string::npos);
  const LoadError e2 = load_err(lines({"scenario: s", "duration: 60", "  site: x.yaml", "people: []"}));
  EXPECT_EQ(e2.line, 3) << e2.to_string();
  const LoadError e3 = load_err("- just\n- a list\n");
  EXPECT_LOAD_ERROR(e3, path("s.yaml"), 1, "");
}

TEST_F(ScenarioErrors, UnreadableScenarioFile) {
  Scenario sc;
  const auto err = load_scenario_file(path("missing.yaml"), sc);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->file, path("missing.yaml"));
  EXPECT_EQ(err->line, 0);
}

TEST_F(SiteLoader, SiteErrorsNameTheKey) {
  struct SiteCase {
    std::string text;
    int line;
    std::string key;
  };
  const std::string poly = "polygon: [[0, 0], [1, 0], [1, 1]]";
  const std::vector<SiteCase> cases = {
      {lines({"name: p"}), 1, "name"},
      {lines({"zones: []"}), 1, "site"},
      {lines({"site: p", "timezone: CST"}), 2, "timezone"},
      {lines({"site: p", "origin: {lat: 95, lon: 0}"}), 2, "origin.lat"},
      {lines({"site: p", "floors: [{id: 1, z: [4, 0]}]"}), 2, "floors[0].z"},
      {lines({"site: p", "floors: [{id: 1}]"}), 2, "floors[0].z"},
      {lines({"site: p", "buildings:", "  - {id: B, footprint: [[0, 0], [1, 0], [1, 1]], wall: {material: mud}}"}), 3,
       "buildings[0].wall.material"},
      {lines({"site: p", "obstacles:", "  - {id: O, shape: sphere}"}), 3, "obstacles[0].shape"},
      {lines({"site: p", "obstacles:", "  - {id: O, shape: box, min: [0, 0, 0], max: [1, 1, 1], radius: 2}"}), 3,
       "obstacles[0].radius"},
      {lines({"site: p", "obstacles:", "  - {id: O, shape: cylinder, center: [0, 0], z: [0, 1]}"}), 3,
       "obstacles[0].radius"},
      {lines({"site: p", "materials: {titanium: {attenuation_db: 1, nlos_bias_m: 0}}"}), 2, "materials.titanium"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", kind: plant}"}), 3, "zones[0].kind"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", risk: green}"}), 3, "zones[0].risk"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", floors: [1], z: [0, 3]}"}), 3, "zones[0].z"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", stay_inside: sometimes}"}), 3, "zones[0].stay_inside"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", schedule: {from: \"25:00\"}}"}), 3,
       "zones[0].schedule.from"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", schedule: [{days: [mon], form: \"08:00\"}]}"}), 3,
       "zones[0].schedule[0].form"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", authorized: {people: [A], teams: [x]}}"}), 3,
       "zones[0].authorized.teams"},
      {lines({"site: p", "zones:", "  - {id: Z, " + poly + ", overstay_after: long}"}), 3, "zones[0].overstay_after"},
      {lines({"site: p", "zones:", "  - {" + poly + "}"}), 3, "zones[0].id"},
      {lines({"site: p", "survey_points: [{id: S, at: [0, 0], floor: 9}]"}), 2, "survey_points[0].floor"},
      {lines({"site: p", "cameras: [{id: K, at: [0, 0, 1], fov: 90}]"}), 2, "cameras[0].fov"},
      {lines({"site: p", "rules:", "  approval: {hot_work: {1: safety_officer}}"}), 3, "rules.approval.hot_work.1"},
  };
  for (const SiteCase& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_LOAD_ERROR(site_err(c.text), path("plant.yaml"), c.line, c.key);
  }
}

}  // namespace
}  // namespace planttwin
