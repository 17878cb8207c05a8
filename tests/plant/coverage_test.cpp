// PL-08 (anchor coverage of high-risk zones) and SO-08 (camera coverage of work areas).
#include <gtest/gtest.h>

#include <atomic>

#include <cmath>

#include "sim/plant/coverage.h"
#include "tests/plant/sites.h"

namespace planttwin {
namespace {

using test::box;
using test::empty_site;
using test::rect;

Anchor anchor(const std::string& id, double x, double y, double z) {
  Anchor a;
  a.id = id;
  a.at[0] = x, a.at[1] = y, a.at[2] = z;
  return a;
}

// A 10 m x 10 m red zone split by a wall at x = 4..4.2 (columns x < 4: 4 of 10; x > 4.2: 6 of 10),
// four anchors west of it and four east, at tag height.
Site split_site(bool drop_one_west) {
  Site s = empty_site();
  Zone z;
  z.id = "Z";
  z.name = "罐区";
  z.kind = ZoneKind::storage;
  z.risk = Risk::red;
  z.polygon = rect(0, 0, 10, 10);
  s.zones.push_back(z);
  Zone office;
  office.id = "O";
  office.kind = ZoneKind::office;
  office.risk = Risk::blue;
  office.polygon = rect(20, 0, 30, 10);
  s.zones.push_back(office);
  s.obstacles.push_back(box("WALL", 4, -5, -1, 4.2, 15, 5, "concrete"));
  for (double y : {0.0, 3.0, 7.0, 10.0}) {
    if (!(drop_one_west && y == 10.0)) s.anchors.push_back(anchor("W" + std::to_string(static_cast<int>(y)), -1, y, 1.2));
    s.anchors.push_back(anchor("E" + std::to_string(static_cast<int>(y)), 11, y, 1.2));
  }
  Camera c;
  c.id = "CAM-W";
  c.at[0] = -1, c.at[1] = 5, c.at[2] = 1;
  c.yaw_deg = 0;
  c.pitch_deg = 0;
  c.hfov_deg = 170;
  c.vfov_deg = 60;
  c.range = 100;
  s.cameras.push_back(c);
  return s;
}

CoverageReport check(const Site& s, const std::vector<WorkArea>& work = {}, int threads = 1) {
  std::string err;
  const auto m = PlantModel::build(s, err);
  EXPECT_TRUE(m) << err;
  return check_coverage(s, *m, work, CoverageOptions{}, threads);
}

TEST(PlantCoverage, PL08_HighRiskZones) {
  Zone z;
  z.risk = Risk::red;
  EXPECT_TRUE(is_high_risk(z));
  z.risk = Risk::orange;
  EXPECT_TRUE(is_high_risk(z));
  z.risk = Risk::yellow;
  EXPECT_FALSE(is_high_risk(z));
  z.kind = ZoneKind::major_hazard;
  EXPECT_TRUE(is_high_risk(z));
  z.kind = ZoneKind::high_risk;
  z.risk = Risk::blue;
  EXPECT_TRUE(is_high_risk(z));
}

TEST(PlantCoverage, PL08_FullShareWithFourAnchorsOnEachSide) {
  const CoverageReport r = check(split_site(false));
  ASSERT_EQ(r.zones.size(), 1u);  // the blue office is not checked
  const AreaCoverage& z = r.zones[0];
  EXPECT_EQ(z.id, "Z");
  EXPECT_EQ(z.samples.size(), 100u);
  EXPECT_DOUBLE_EQ(z.anchor_share, 1.0);
  EXPECT_TRUE(z.anchors_ok);
  EXPECT_TRUE(r.pass);
  for (const CoverageSample& s : z.samples) EXPECT_EQ(s.anchors, 4);  // the wall hides the other four
  EXPECT_GT(z.accuracy_median_m, 0.0);
  EXPECT_GE(z.accuracy_worst_m, z.accuracy_median_m);
  EXPECT_LT(z.accuracy_worst_m, 1.0);
}

TEST(PlantCoverage, PL08_ShareIsTheUncoveredColumnsLess) {
  const CoverageReport r = check(split_site(true));
  const AreaCoverage& z = r.zones[0];
  EXPECT_DOUBLE_EQ(z.anchor_share, 0.6);  // the 4 western columns have 3 anchors
  EXPECT_FALSE(z.anchors_ok);
  EXPECT_FALSE(r.pass);
  // just at the share: passes
  std::string err;
  const Site s = split_site(true);
  const auto m = PlantModel::build(s, err);
  CoverageOptions opt;
  opt.min_share = 0.6;
  EXPECT_TRUE(check_coverage(s, *m, {}, opt).pass);
  opt.min_share = 0.61;
  EXPECT_FALSE(check_coverage(s, *m, {}, opt).pass);
  opt.min_share = 0.95;
  opt.min_anchors = 3;
  EXPECT_TRUE(check_coverage(s, *m, {}, opt).pass);
}

// CoverageOptions::heard (check --links radio): an anchor out of line of sight counts when heard,
// and only such anchors are asked about. With three anchors west of the wall, the western columns
// reach four anchors only if one eastern anchor is heard through the wall.
TEST(PlantCoverage, PL08_AnAnchorHeardOutOfLineOfSightCounts) {
  std::string err;
  const Site s = split_site(true);
  const auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  std::atomic<int> asked{0};
  std::atomic<bool> asked_about_west{false};
  CoverageOptions opt;
  opt.heard = [&](const Vec3& tag, int anchor) {
    ++asked;
    const Anchor& a = s.anchors[static_cast<std::size_t>(anchor)];
    if (a.id[0] == 'W' && tag.x < 4) asked_about_west = true;  // in line of sight: never asked
    return a.id == "E3";
  };
  const CoverageReport heard = check_coverage(s, *m, {}, opt, 2);
  EXPECT_DOUBLE_EQ(heard.zones[0].anchor_share, 1.0);
  EXPECT_TRUE(heard.pass);
  EXPECT_GT(asked.load(), 100);
  EXPECT_FALSE(asked_about_west.load());
  opt.heard = [](const Vec3&, int) { return false; };
  EXPECT_DOUBLE_EQ(check_coverage(s, *m, {}, opt).zones[0].anchor_share, 0.6);  // as in line of sight only
}

TEST(PlantCoverage, PL08_NobodyStandsInsideATankSoItsFootprintIsNotAreaToCover) {
  Site s = split_site(false);
  // a tank (r = 1 m) in the eastern part, and a pipe rack overhead (5-9 m) that nobody stands in
  s.obstacles.push_back(test::cylinder("TK", 7, 5, 1.0, 0, 8, "steel"));
  s.obstacles.push_back(test::box("RACK", 0, 0, 5, 10, 1, 9, "steel"));
  const CoverageReport r = check(s);
  const AreaCoverage& z = r.zones[0];
  // cell centres strictly inside the circle: (6.5|7.5, 4.5|5.5) -> 4 of 100 leave the sample
  EXPECT_EQ(z.samples.size(), 96u);
  for (const CoverageSample& c : z.samples) EXPECT_GE(std::hypot(c.x - 7, c.y - 5), 1.0);
}

TEST(PlantCoverage, PL08_LinkRangeLimitsAnchors) {
  const Site s = split_site(false);
  std::string err;
  const auto m = PlantModel::build(s, err);
  CoverageOptions opt;
  opt.link_range_m = 5;  // east columns x >= 6.5 reach E anchors within 5 m only near them
  const CoverageReport r = check_coverage(s, *m, {}, opt);
  EXPECT_LT(r.zones[0].anchor_share, 0.6);
}

TEST(PlantCoverage, SO08_CameraShareAndWorkAreas) {
  const Site s = split_site(false);
  WorkArea seen;
  seen.id = "W1";
  seen.type = "hot_work";
  seen.area = rect(0, 0, 3, 10);
  WorkArea hidden;
  hidden.id = "W2";
  hidden.type = "excavation";
  hidden.area = rect(5, 0, 9, 10);
  const CoverageReport r = check(s, {seen, hidden});
  const AreaCoverage& z = r.zones[0];
  EXPECT_DOUBLE_EQ(z.camera_share, 0.4);  // west of the wall only
  ASSERT_EQ(z.cameras.size(), 1u);
  EXPECT_EQ(z.cameras[0].id, "CAM-W");
  EXPECT_DOUBLE_EQ(z.cameras[0].share, 0.4);
  ASSERT_EQ(r.work_areas.size(), 2u);
  EXPECT_TRUE(r.work_areas[0].cameras_ok);
  EXPECT_DOUBLE_EQ(r.work_areas[0].camera_share, 1.0);
  EXPECT_FALSE(r.work_areas[1].cameras_ok);
  EXPECT_DOUBLE_EQ(r.work_areas[1].camera_share, 0.0);
  EXPECT_TRUE(r.work_areas[1].cameras.empty());
  EXPECT_FALSE(r.pass);  // a work area nobody sees fails the check
  EXPECT_TRUE(check(s, {seen}).pass);
}

TEST(PlantCoverage, PL08_FloorsOfAZone) {
  Site s = empty_site();
  s.floors.push_back(Floor{"P1", 6, 10});
  s.buildings.push_back(test::building(3));
  Zone named;
  named.floors = {"2"};
  EXPECT_EQ(coverage_floors(s, named, 1.2), std::vector<std::string>{"2"});
  Zone band;
  band.z = std::make_pair(6.0, 10.0);
  // tag heights: 1 -> 1.2, P1 -> 7.2, 2 -> 5.2, 3 -> 9.2
  EXPECT_EQ(coverage_floors(s, band, 1.2), (std::vector<std::string>{"P1", "3"}));
  Zone plain;
  EXPECT_EQ(coverage_floors(s, plain, 1.2), std::vector<std::string>{"1"});
  // a zone outside the building on a band that floor 3 is in: floor 3 has no spot there
  band.id = "PLAT";
  band.risk = Risk::red;
  band.polygon = rect(50, 50, 60, 60);
  s.zones.push_back(band);
  const CoverageReport r = check(s);
  ASSERT_EQ(r.zones.size(), 1u);
  EXPECT_EQ(r.zones[0].floors, std::vector<std::string>{"P1"});
  EXPECT_EQ(r.zones[0].samples.size(), 100u);
}

TEST(PlantCoverage, H01_ThreadsDoNotChangeTheReport) {
  const Site s = test::demo_plant();
  std::string err;
  const auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  CoverageOptions opt;
  opt.cell_m = 3;
  const CoverageReport a = check_coverage(s, *m, {}, opt, 1), b = check_coverage(s, *m, {}, opt, 3);
  ASSERT_EQ(a.zones.size(), b.zones.size());
  for (std::size_t i = 0; i < a.zones.size(); ++i) {
    EXPECT_EQ(a.zones[i].anchor_share, b.zones[i].anchor_share);
    EXPECT_EQ(a.zones[i].camera_share, b.zones[i].camera_share);
    EXPECT_EQ(a.zones[i].accuracy_worst_m, b.zones[i].accuracy_worst_m);
  }
  // the demo's high-risk zones: CCR, LD, PU, PLAT, TF, WWT
  ASSERT_EQ(a.zones.size(), 6u);
  EXPECT_EQ(a.zones[0].id, "CCR");
  EXPECT_EQ(a.zones[3].floors, std::vector<std::string>{"P1"});
}

}  // namespace
}  // namespace planttwin
