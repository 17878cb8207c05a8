// H-02, PL-08 (issues 15, 20): planttwin's walks of the BVH (PlantModel::Walk::wide, the default
// of trace() and clear(), four boxes per node; Walk::planttwin, the quantized tree) against
// Bullet's own performRaycast (Walk::bullet): the same crossings, bit for bit, and the same clear()
// answers, on the demo plant, on a dense steel frame and on the frame moved far from the origin
// (surveyed coordinates), for random links, axis-parallel and vertical segments, and segments that
// start inside a solid or end on a face.
#include <gtest/gtest.h>

#include <random>

#include "sim/plant/plant_model.h"
#include "tests/plant/sites.h"

namespace planttwin {
namespace {

std::unique_ptr<PlantModel> model_of(const Site& s) {
  std::string err;
  auto m = PlantModel::build(s, err);
  EXPECT_TRUE(m) << err;
  return m;
}

// A frame of 0.3 m steel columns every 3.5 m (12 x 12, 6 storeys of 1.2 m members) with concrete
// and glass boxes between: thousands of small triangles spread through a block, as a process
// unit's model gives.
Site frame_site() {
  Site s = test::empty_site();
  for (int k = 0; k < 6; ++k)
    for (int j = 0; j < 12; ++j)
      for (int i = 0; i < 12; ++i) {
        const double x = 3.5 * i, y = 3.5 * j, z = 1.5 * k;
        const char* mat = (i + j + k) % 7 == 0 ? "concrete" : (i * j + k) % 11 == 0 ? "glass" : "steel";
        s.obstacles.push_back(test::box("C" + std::to_string(i) + "-" + std::to_string(j) + "-" + std::to_string(k), x, y, z,
                                        x + 0.3, y + 0.3, z + 1.2, mat));
      }
  return s;
}

struct Segment {
  Vec3 a, b;
};

std::vector<Segment> segments(double x1, double y1, double z1, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> x(-5, x1 + 5), y(-5, y1 + 5), z(0, z1);
  std::uniform_int_distribution<int> kind(0, 5);
  std::vector<Segment> out;
  for (int i = 0; i < n; ++i) {
    Vec3 a{x(rng), y(rng), z(rng)}, b{x(rng), y(rng), z(rng)};
    switch (kind(rng)) {
      case 0: b.y = a.y, b.z = a.z; break;   // along x
      case 1: b.x = a.x, b.z = a.z; break;   // along y
      case 2: b.x = a.x, b.y = a.y; break;   // vertical
      case 3: b.z = a.z; break;              // level
      case 4: a.x = std::round(a.x / 3.5) * 3.5 + 0.3, a.y = std::round(a.y / 3.5) * 3.5; break;  // from a face
      default: break;
    }
    out.push_back({a, b});
  }
  return out;
}

void expect_same_walks(const PlantModel& m, const std::vector<Segment>& segs, std::size_t& blocked) {
  std::vector<Crossing> ours, bullets, wide, plain;
  const std::size_t mats = m.materials().size();
  std::mt19937 rng(5);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    m.trace(s.a, s.b, ours, PlantModel::Walk::planttwin);
    m.trace(s.a, s.b, bullets, PlantModel::Walk::bullet);
    m.trace(s.a, s.b, wide, PlantModel::Walk::wide);
    m.trace(s.a, s.b, plain);
    if (i % 16 == 0) {  // (every triangle: slow)
      std::vector<Crossing> every;
      m.trace(s.a, s.b, every, PlantModel::Walk::every);
      ASSERT_EQ(every.size(), bullets.size()) << "segment " << i;
      for (std::size_t k = 0; k < every.size(); ++k) EXPECT_EQ(every[k].length_m, bullets[k].length_m) << i;
    }
    ASSERT_EQ(ours.size(), bullets.size()) << "segment " << i;
    ASSERT_EQ(wide.size(), bullets.size()) << "segment " << i;
    ASSERT_EQ(plain.size(), bullets.size()) << "segment " << i;
    for (std::size_t k = 0; k < ours.size(); ++k) {
      EXPECT_EQ(ours[k].material, bullets[k].material) << i;
      EXPECT_EQ(ours[k].solid, bullets[k].solid) << i;
      EXPECT_EQ(ours[k].length_m, bullets[k].length_m) << i;  // bit for bit
      EXPECT_EQ(wide[k].material, bullets[k].material) << i;
      EXPECT_EQ(wide[k].solid, bullets[k].solid) << i;
      EXPECT_EQ(wide[k].length_m, bullets[k].length_m) << i;
      EXPECT_EQ(plain[k].solid, bullets[k].solid) << i;
      EXPECT_EQ(plain[k].length_m, bullets[k].length_m) << i;
    }
    blocked += !ours.empty();
    std::vector<char> blocks(mats);
    for (char& c : blocks) c = static_cast<char>(rng() & 1);
    if (i % 3 == 0) blocks.assign(mats, 1);
    const bool bullets_clear = m.clear(s.a, s.b, blocks, PlantModel::Walk::bullet);
    EXPECT_EQ(m.clear(s.a, s.b, blocks, PlantModel::Walk::planttwin), bullets_clear) << "segment " << i;
    EXPECT_EQ(m.clear(s.a, s.b, blocks, PlantModel::Walk::wide), bullets_clear) << "segment " << i;
    EXPECT_EQ(m.clear(s.a, s.b, blocks), bullets_clear) << "segment " << i;
  }
}

TEST(PlantWalk, H02_DemoPlantSameCrossingsAsBulletsWalk) {
  auto m = model_of(test::demo_plant());
  std::size_t blocked = 0;
  expect_same_walks(*m, segments(400, 300, 20, 20000, 11), blocked);
  EXPECT_GT(blocked, 1000u);    // the demo plant is in the way of many of them
  EXPECT_LT(blocked, 19000u);   // and not of all
}

TEST(PlantWalk, H02_DenseFrameSameCrossingsAsBulletsWalk) {
  auto m = model_of(frame_site());
  ASSERT_GT(m->mesh().triangles.size(), 10000u);
  std::size_t blocked = 0;
  expect_same_walks(*m, segments(42, 42, 9, 20000, 12), blocked);
  EXPECT_GT(blocked, 3000u);
  EXPECT_LT(blocked, 19000u);
}

// The frame far from the origin, as a site whose model lies kilometres from its origin would be
// (sites allow 1,000 km): the wide walk works relative to the mesh's centre, on the segment Bullet's
// face test sees (single-precision ends), so it gives that test every face it touches: the same
// crossings and clear() answers as giving it every triangle (Walk::every), 20 km and 900 km out.
// (Bullet's own walk loses faces there, and the quantized walk, on the double-precision segment,
// differs from both.)
TEST(PlantWalk, H02_FarFromTheOriginTheWideWalkSeesEveryFaceTouched) {
  for (const double east : {2.0e4, 9.0e5}) {
    Site s = frame_site();
    for (Obstacle& o : s.obstacles) o.min[0] += east, o.max[0] += east, o.min[1] -= east / 2, o.max[1] -= east / 2;
    auto m = model_of(s);
    std::vector<Crossing> wide, every;
    std::size_t blocked = 0;
    for (Segment g : segments(42, 42, 9, 1200, 13)) {
      g.a.x += east, g.b.x += east, g.a.y -= east / 2, g.b.y -= east / 2;
      m->trace(g.a, g.b, wide);
      m->trace(g.a, g.b, every, PlantModel::Walk::every);
      const std::vector<char> all(m->materials().size(), 1);
      EXPECT_EQ(m->clear(g.a, g.b, all), m->clear(g.a, g.b, all, PlantModel::Walk::every)) << east;
      ASSERT_EQ(wide.size(), every.size()) << east;
      for (std::size_t k = 0; k < wide.size(); ++k) {
        EXPECT_EQ(wide[k].solid, every[k].solid) << east;
        EXPECT_EQ(wide[k].length_m, every[k].length_m) << east;
      }
      blocked += !wide.empty();
    }
    EXPECT_GT(blocked, 150u) << east;  // the frame is in the way of many
  }
}

// Bullet's face test takes a point of the face's plane up to 1e-4 of the triangle's height over an
// edge outside that edge (the triangle scaled by 1.0003 about its centroid): 18 mm past the end of
// a 180 m pipe-rack face. Segments through the plane of such a face, from 40 mm inside its ends to
// 40 mm beyond them: the wide walk gives the face test every face it would take (Walk::every), the
// ones in that band included.
TEST(PlantWalk, H02_GrazingTheEndsOfALongFaceTheWideWalkSeesWhatTheFaceTestTakes) {
  Site s = test::empty_site();
  s.obstacles.push_back(test::box("PR", 0, 0, 3, 180, 2, 9, "steel"));
  auto m = model_of(s);
  std::vector<Crossing> wide, every;
  const std::vector<char> all(m->materials().size(), 1);
  std::size_t hits = 0, banded = 0;
  for (int k = -40; k <= 40; ++k) {
    const double off = k * 1e-3;  // metres past the face's end (negative: inside)
    for (const double z : {3.0 - off, 6.0, 9.0 + off}) {
      for (const double x : {-off, 90.0, 180.0 + off}) {
        if (x == 90.0 && z == 6.0) continue;
        const Vec3 a{x, -1, z}, b{x + 0.01, 0.5, z + 0.01};  // through the face y = 0
        m->trace(a, b, wide);
        m->trace(a, b, every, PlantModel::Walk::every);
        ASSERT_EQ(wide.size(), every.size()) << x << " " << z;
        for (std::size_t i = 0; i < wide.size(); ++i) EXPECT_EQ(wide[i].length_m, every[i].length_m) << x << " " << z;
        EXPECT_EQ(m->clear(a, b, all), m->clear(a, b, all, PlantModel::Walk::every)) << x << " " << z;
        hits += !every.empty();
        banded += !every.empty() && k > 2;
      }
    }
  }
  EXPECT_GT(hits, 200u);
  EXPECT_GT(banded, 10u);  // the face test does take points millimetres past the face's ends
}

// clear() first tries the face that last blocked a segment to or from the same point (per
// thread): samples scanned in rows towards fixed anchors and from fixed cameras, as `check` and
// the camera grid do, through the
// frame and the demo plant, with every material blocking and with some not; the answers are
// Bullet's walk's, and a second model at the same end points gets its own answers.
TEST(PlantWalk, H02_ClearTowardsFixedAnchorsSameAsBulletsWalk) {
  for (int plant = 0; plant < 2; ++plant) {
    auto m = model_of(plant ? test::demo_plant() : frame_site());
    const double ext = plant ? 300 : 45;
    const std::vector<Vec3> anchors = {{-3, -3, 7}, {ext + 3, -3, 2}, {ext / 2, ext / 2, 11}, {-3, ext + 3, 1.2}};
    std::vector<char> all(m->materials().size(), 1), some = all;
    some[0] = 0;  // concrete does not block
    std::size_t blocked = 0, n = 0;
    for (const auto* blocks : {&all, &some})
      for (double y = 0.5; y < ext; y += ext / 60)
        for (double x = 0.5; x < ext; x += ext / 60)
          for (const Vec3& a : anchors) {
            const Vec3 tag{x, y, 1.2};
            const bool ours = m->clear(tag, a, *blocks);
            ASSERT_EQ(ours, m->clear(tag, a, *blocks, PlantModel::Walk::bullet)) << x << " " << y;
            // from the fixed point, as a camera looks at spots
            ASSERT_EQ(m->clear(a, tag, *blocks), m->clear(a, tag, *blocks, PlantModel::Walk::bullet)) << x << " " << y;
            blocked += !ours;
            ++n;
          }
    EXPECT_GT(blocked, n / 20);
    EXPECT_LT(blocked, n);
  }
  // two models answering for the same end points in turn: neither takes the other's faces
  auto frame = model_of(frame_site());
  auto open = model_of(test::empty_site());
  const std::vector<char> all(frame->materials().size(), 1);
  for (int i = 0; i < 50; ++i) {
    const Vec3 tag{0.5 + i * 0.8, 20, 1.2}, a{-3, -3, 7};
    EXPECT_EQ(frame->clear(tag, a, all), frame->clear(tag, a, all, PlantModel::Walk::bullet));
    EXPECT_TRUE(open->clear(tag, a, all));
  }
}

}  // namespace
}  // namespace planttwin
