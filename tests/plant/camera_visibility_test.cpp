// PL-13, SO-08: which cameras see which spot.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/plant/camera_visibility.h"
#include "tests/plant/sites.h"

namespace planttwin {
namespace {

using test::box;
using test::empty_site;

constexpr double kDeg = 3.14159265358979323846 / 180;

Camera camera(double x, double y, double z, double yaw, double pitch, double hfov, double vfov, double range) {
  Camera c;
  c.id = "C";
  c.at[0] = x, c.at[1] = y, c.at[2] = z;
  c.yaw_deg = yaw;
  c.pitch_deg = pitch;
  c.hfov_deg = hfov;
  c.vfov_deg = vfov;
  c.range = range;
  return c;
}

Vec3 bearing(double deg, double dist, double z) { return {dist * std::cos(deg * kDeg), dist * std::sin(deg * kDeg), z}; }

TEST(PlantCameraVisibility, PL13_HorizontalFieldOfViewEdges) {
  const Camera c = camera(0, 0, 1, 30, 0, 90, 60, 20);  // looks north-east
  EXPECT_TRUE(camera_in_view(c, bearing(30, 10, 1)));
  EXPECT_TRUE(camera_in_view(c, bearing(30 + 44.5, 10, 1)));
  EXPECT_FALSE(camera_in_view(c, bearing(30 + 45.5, 10, 1)));
  EXPECT_TRUE(camera_in_view(c, bearing(30 - 44.5, 10, 1)));
  EXPECT_FALSE(camera_in_view(c, bearing(30 - 45.5, 10, 1)));
  EXPECT_FALSE(camera_in_view(c, bearing(210, 10, 1)));  // behind
  // yaw across north-east-south wrap: yaw 350 sees bearing 10, not 30
  const Camera w = camera(0, 0, 1, 350, 0, 45, 60, 20);
  EXPECT_TRUE(camera_in_view(w, bearing(10, 10, 1)));
  EXPECT_FALSE(camera_in_view(w, bearing(30, 10, 1)));
  // a panoramic camera sees every bearing
  const Camera p = camera(0, 0, 1, 0, 0, 360, 60, 20);
  EXPECT_TRUE(camera_in_view(p, bearing(180, 10, 1)));
}

TEST(PlantCameraVisibility, PL13_VerticalFieldOfViewEdges) {
  const Camera c = camera(0, 0, 1, 0, -20, 90, 30, 50);  // looks down 20 deg, sees 5..35 deg down
  auto spot_at_depression = [](double deg) { return Vec3{10, 0, 1 - 10 * std::tan(deg * kDeg)}; };
  EXPECT_TRUE(camera_in_view(c, spot_at_depression(20)));
  EXPECT_TRUE(camera_in_view(c, spot_at_depression(34.5)));
  EXPECT_FALSE(camera_in_view(c, spot_at_depression(35.5)));
  EXPECT_TRUE(camera_in_view(c, spot_at_depression(5.5)));
  EXPECT_FALSE(camera_in_view(c, spot_at_depression(4.5)));
}

TEST(PlantCameraVisibility, PL13_RangeEdge) {
  const Camera c = camera(0, 0, 1, 0, 0, 90, 60, 20);
  EXPECT_TRUE(camera_in_view(c, {19.9, 0, 1}));
  EXPECT_FALSE(camera_in_view(c, {20.1, 0, 1}));
  // the range is the straight (3D) distance
  EXPECT_FALSE(camera_in_view(camera(0, 0, 10, 0, -30, 90, 90, 20), {18, 0, 1}));  // sqrt(18^2 + 9^2) > 20
}

TEST(PlantCameraVisibility, PL13_WallBlocksGlassDoesNot) {
  Site s = empty_site();
  s.obstacles.push_back(box("WALL", 5, -3, 0, 5.24, 3, 4, "concrete"));
  s.obstacles.push_back(box("PANE", 5, 7, 0, 5.02, 13, 4, "glass"));
  s.cameras.push_back(camera(0, 0, 2, 45, 0, 120, 90, 30));
  std::string err;
  const auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  const auto blocks = camera_blocking_materials(*m, {});
  EXPECT_FALSE(camera_sees(s.cameras[0], {10, 0, 1}, *m, blocks));   // behind the concrete wall
  EXPECT_TRUE(camera_sees(s.cameras[0], {10, 16, 1}, *m, blocks));   // behind the glass pane
  EXPECT_TRUE(camera_sees(s.cameras[0], {4, 0, 1}, *m, blocks));     // in front of the wall
  CameraGridOptions opaque_glass;
  opaque_glass.transparent.clear();
  EXPECT_FALSE(camera_sees(s.cameras[0], {10, 16, 1}, *m, camera_blocking_materials(*m, opaque_glass)));
}

Site two_camera_site() {
  Site s = empty_site();
  s.zones.push_back(Zone{});
  s.zones[0].id = "Z";
  s.zones[0].polygon = test::rect(0, 0, 40, 20);
  s.obstacles.push_back(box("WALL", 20, -5, 0, 20.3, 25, 5, "concrete"));
  Camera w = camera(1, 10, 3, 0, -5, 170, 90, 60);
  w.id = "WEST";
  Camera e = camera(39, 10, 3, 180, -5, 170, 90, 60);
  e.id = "EAST";
  s.cameras = {w, e};
  return s;
}

TEST(PlantCameraVisibility, PL13_GridSetsPerCell) {
  const Site s = two_camera_site();
  std::string err;
  const auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  const CameraVisibility v = build_camera_visibility(s, *m);
  ASSERT_EQ(v.grids.size(), 1u);
  EXPECT_EQ(v.grids[0].floor, "1");
  EXPECT_EQ(v.at("1", {10.5, 10.5}), std::vector<int>{0});  // west of the wall: WEST only
  EXPECT_EQ(v.at("1", {30.5, 10.5}), std::vector<int>{1});  // east: EAST only
  EXPECT_TRUE(v.at("1", {-3.5, 10.5}).empty());             // behind WEST
  EXPECT_TRUE(v.at("2", {10.5, 10.5}).empty());              // no such floor
  EXPECT_TRUE(v.at("1", {500, 500}).empty());                // outside the grid
  // the grid covers the extent plus the margin
  EXPECT_LE(v.grids[0].x0, -5.0);
  EXPECT_GE(v.grids[0].x0 + v.grids[0].nx * v.grids[0].cell, 45.0);
}

TEST(PlantCameraVisibility, PL13_H01_GridDoesNotDependOnThreads) {
  const Site s = test::demo_plant();
  std::string err;
  const auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  CameraGridOptions opt;
  opt.cell_m = 2;
  const CameraVisibility a = build_camera_visibility(s, *m, opt, 1);
  const CameraVisibility b = build_camera_visibility(s, *m, opt, 3);
  EXPECT_EQ(a.sets, b.sets);
  ASSERT_EQ(a.grids.size(), b.grids.size());
  for (std::size_t g = 0; g < a.grids.size(); ++g) EXPECT_EQ(a.grids[g].cells, b.grids[g].cells);
  EXPECT_EQ(a.grids.size(), s.floor_ids().size());
  auto camera = [&](const std::string& id) {
    for (std::size_t i = 0; i < s.cameras.size(); ++i)
      if (s.cameras[i].id == id) return static_cast<int>(i);
    ADD_FAILURE() << "no camera " << id;
    return -1;
  };
  // the tank farm's south-west camera sees a spot inside the bund near its south-west corner
  const auto& near_sw = a.at("1", {265, 192});
  EXPECT_NE(std::find(near_sw.begin(), near_sw.end(), camera("CAM-TF-SW")), near_sw.end());
  // the control-room camera sees the control room on floor 2 but not the same spot on floor 1
  const int ccr_cam = camera("CAM-CCR");
  const auto& ccr = a.at("2", {40, 38});
  EXPECT_NE(std::find(ccr.begin(), ccr.end(), ccr_cam), ccr.end());
  const auto& below = a.at("1", {40, 38});
  EXPECT_EQ(std::find(below.begin(), below.end(), ccr_cam), below.end());
}

}  // namespace
}  // namespace planttwin
