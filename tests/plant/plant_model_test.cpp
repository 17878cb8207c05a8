// H-02: the plant's 3D model in Bullet and line of sight through it.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <tuple>
#include <random>
#include <thread>

#include "sim/plant/plant_model.h"
#include "tests/plant/sites.h"

namespace planttwin {
namespace {

using test::box;
using test::building;
using test::cylinder;
using test::empty_site;

constexpr double kPi = 3.14159265358979323846;

std::unique_ptr<PlantModel> model_of(const Site& s) {
  std::string err;
  auto m = PlantModel::build(s, err);
  EXPECT_TRUE(m) << err;
  return m;
}

std::vector<Crossing> trace(const PlantModel& m, Vec3 a, Vec3 b) {
  std::vector<Crossing> out;
  m.trace(a, b, out);
  return out;
}

TEST(PlantModel, H02_MaterialsInFixedOrder) {
  Site s = empty_site();
  s.materials["concrete"] = Material{10, 0.5};
  auto m = model_of(s);
  EXPECT_EQ(m->materials(), (std::vector<std::string>{"concrete", "steel", "brick", "glass", "wood"}));
  EXPECT_EQ(m->material_index("glass"), 3);
  EXPECT_EQ(m->material_index("titanium"), -1);
  // nothing built: every path is clear
  EXPECT_TRUE(trace(*m, {0, 0, 0}, {100, 100, 10}).empty());
  EXPECT_TRUE(m->clear({0, 0, 0}, {100, 100, 10}, std::vector<char>(m->materials().size(), 1)));
}

TEST(PlantModel, H02_ConcreteWallGivesOneCrossingOfItsThickness) {
  Site s = empty_site();
  s.buildings.push_back(building(1, 0.24));
  auto m = model_of(s);
  const auto c = trace(*m, {5, 5, 1.5}, {15, 5, 1.5});  // out through the east wall at x = 10
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(c[0].material)], "concrete");
  EXPECT_NEAR(c[0].length_m, 0.24, 1e-6);
  // in through the west wall and out through the east one: two crossings
  const auto two = trace(*m, {-5, 5, 1.5}, {15, 5, 1.5});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(two[0].length_m + two[1].length_m, 0.48, 1e-6);
}

TEST(PlantModel, H02_ObliqueRayThroughWallIsLonger) {
  Site s = empty_site();
  s.buildings.push_back(building(1, 0.24));
  auto m = model_of(s);
  const double theta = 40 * kPi / 180;  // from the wall's normal, in plan
  const auto c = trace(*m, {5, 5, 1.5}, {15, 5 + 10 * std::tan(theta), 1.5});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].length_m, 0.24 / std::cos(theta), 1e-6);
  // also climbing: the path inside grows with the 3D direction
  const Vec3 a{5, 5, 1.0}, b{15, 5, 3.0};
  const auto up = trace(*m, a, b);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_NEAR(up[0].length_m, 0.24 * std::hypot(10.0, 2.0) / 10.0, 1e-6);
}

TEST(PlantModel, H02_SteelTankGivesItsChord) {
  Site s = empty_site();
  s.obstacles.push_back(cylinder("TK", 0, 0, 5, 0, 10));
  auto m = model_of(s);
  const auto c = trace(*m, {-20, 2, 5}, {20, 2, 5});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(c[0].material)], "steel");
  EXPECT_NEAR(c[0].length_m, 2 * std::sqrt(25.0 - 4.0), 0.01 * 9.165);  // within 1 % of the circle's chord
  const auto diameter = trace(*m, {-20, 0.3, 5}, {20, 0.3, 5});
  ASSERT_EQ(diameter.size(), 1u);
  EXPECT_NEAR(diameter[0].length_m, 10.0, 0.05);
  // over the roof: clear
  EXPECT_TRUE(trace(*m, {-20, 0, 10.5}, {20, 0, 10.5}).empty());
}

TEST(PlantModel, H02_ClearPathHasNoCrossing) {
  Site s = empty_site();
  s.buildings.push_back(building(2));
  s.obstacles.push_back(cylinder("TK", 30, 30, 5, 0, 10));
  auto m = model_of(s);
  EXPECT_TRUE(trace(*m, {15, -5, 1.2}, {15, 40, 7}).empty());  // between the building and the tank
  EXPECT_TRUE(trace(*m, {2, 2, 1.2}, {8, 8, 3.5}).empty());     // inside one storey
  std::vector<char> all(m->materials().size(), 1);
  EXPECT_TRUE(m->clear({15, -5, 1.2}, {15, 40, 7}, all));
  EXPECT_FALSE(m->clear({20, 30, 5}, {40, 30, 5}, all));
}

TEST(PlantModel, H02_SegmentEndingOrStartingInsideASolid) {
  Site s = empty_site();
  s.obstacles.push_back(cylinder("TK", 0, 0, 5, 0, 10));
  auto m = model_of(s);
  const auto in = trace(*m, {-20, 0.2, 5}, {0, 0.2, 5});  // ends at the axis
  ASSERT_EQ(in.size(), 1u);
  EXPECT_NEAR(in[0].length_m, 5.0, 0.05);
  const auto out = trace(*m, {0, 0.2, 5}, {20, 0.2, 5});  // starts at the axis
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].length_m, 5.0, 0.05);
  // wholly inside one box through no face: nothing to report (documented)
  s.obstacles.push_back(box("BX", 20, -1, 0, 30, 1, 2, "wood"));
  auto m2 = model_of(s);
  const auto b = trace(*m2, {22, 0, 1}, {28, 0, 1});
  EXPECT_TRUE(b.empty());
  const auto half = trace(*m2, {25, 0, 1}, {35, 0, 1});
  ASSERT_EQ(half.size(), 1u);
  EXPECT_NEAR(half[0].length_m, 5.0, 1e-6);
}

TEST(PlantModel, H02_SlabsBetweenStoreys) {
  Site s = empty_site();
  s.buildings.push_back(building(3));
  auto m = model_of(s);
  // ground floor to floor 2: one slab (under floor 2, 0.2 m thick)
  const auto one = trace(*m, {5, 5, 1.2}, {5, 5, 5.2});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NEAR(one[0].length_m, 0.2, 1e-6);
  // ground floor to floor 3: two slabs, nearer first
  const auto two = trace(*m, {5, 5, 1.2}, {5, 5, 9.2});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(two[0].length_m, 0.2, 1e-6);
  EXPECT_NEAR(two[1].length_m, 0.2, 1e-6);
  // no slab under the lowest storey and no roof: up from the top storey is clear
  EXPECT_TRUE(trace(*m, {5, 5, 9}, {5, 5, 30}).empty());
  EXPECT_TRUE(trace(*m, {5, 5, -3}, {5, 5, 1}).empty());
}

TEST(PlantModel, H02_CrossingsInOrderFromA) {
  Site s = empty_site();
  s.obstacles.push_back(box("S", 2, -1, 0, 3, 1, 2, "steel"));
  s.obstacles.push_back(box("W", 6, -1, 0, 6.5, 1, 2, "wood"));
  auto m = model_of(s);
  const auto f = trace(*m, {0, 0, 1}, {10, 0, 1});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(f[0].material)], "steel");
  EXPECT_NEAR(f[0].length_m, 1.0, 1e-6);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(f[1].material)], "wood");
  EXPECT_NEAR(f[1].length_m, 0.5, 1e-6);
  const auto r = trace(*m, {10, 0, 1}, {0, 0, 1});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(r[0].material)], "wood");
}

TEST(PlantModel, H02_RayThroughAFaceDiagonalIsCountedOnce) {
  // a ray through the shared edge of a face's two triangles (the box's face diagonal)
  Site s = empty_site();
  s.obstacles.push_back(box("BX", -1, -1, 0, 1, 1, 2, "concrete"));
  auto m = model_of(s);
  const auto c = trace(*m, {-5, -5, 1}, {5, 5, 1});  // through two vertical edges
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].length_m, 2 * std::sqrt(2.0), 1e-6);
  // straight down through the centre of the top face, which lies on its triangles' shared diagonal
  const auto d = trace(*m, {0, 0, 5}, {0, 0, -5});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].length_m, 2.0, 1e-6);
  const auto e = trace(*m, {0, 0, 5}, {0, 0, 1});  // ends inside
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NEAR(e[0].length_m, 1.0, 1e-6);
}

bool mesh_closed(const PlantMesh& mesh) {
  std::map<std::tuple<int, int, int>, int> edges;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int k = 0; k < 3; ++k)
      ++edges[{mesh.triangle_solid[t], mesh.triangles[t][static_cast<std::size_t>(k)], mesh.triangles[t][static_cast<std::size_t>((k + 1) % 3)]}];
  for (const auto& [e, n] : edges)
    if (n != 1 || !edges.count({std::get<0>(e), std::get<2>(e), std::get<1>(e)})) return false;
  return true;
}

TEST(PlantModel, H02_ConcaveFootprintEitherWinding) {
  for (bool clockwise : {false, true}) {
    Site s = empty_site();
    Building b = building(2);
    b.footprint.pts = {{0, 0}, {20, 0}, {20, 10}, {10, 10}, {10, 20}, {0, 20}};  // an L
    if (clockwise) std::reverse(b.footprint.pts.begin(), b.footprint.pts.end());
    b.footprint.finalize();
    s.buildings.push_back(b);
    PlantMesh mesh;
    ASSERT_EQ(build_plant_mesh(s, {}, mesh), "");
    EXPECT_TRUE(mesh_closed(mesh)) << clockwise;
    auto m = model_of(s);
    // out through the inner wall of the notch (x = 10 between y 10 and 20)
    const auto c = trace(*m, {5, 15, 1.5}, {15, 15, 1.5});
    ASSERT_EQ(c.size(), 1u) << clockwise;
    EXPECT_NEAR(c[0].length_m, 0.24, 1e-6);
    // the slab covers the L, not its notch
    const auto in = trace(*m, {5, 5, 1.5}, {5, 5, 6});
    ASSERT_EQ(in.size(), 1u);
    EXPECT_NEAR(in[0].length_m, 0.2, 1e-6);
    EXPECT_TRUE(trace(*m, {15, 15, 1.5}, {15, 15, 6}).empty());
    // along the inside of the north wall of the L's foot (y = 10.05): through the mitred inner
    // corner at (10, 10), that wall, and the outer corner at (20, 10): three panels, no gap or overlap
    const auto along = trace(*m, {5, 10.05, 1.5}, {25, 10.05, 1.5});
    ASSERT_EQ(along.size(), 3u) << clockwise;
    EXPECT_NEAR(along[0].length_m, 0.17, 1e-6);  // x 9.88 .. 10.05, up to the mitre
    EXPECT_NEAR(along[1].length_m, 10.0, 1e-6);  // x 10.05 .. 20.05
    EXPECT_NEAR(along[2].length_m, 0.07, 1e-6);  // x 20.05 .. 20.12
  }
}

TEST(PlantModel, H02_ClearIgnoresFacesAtTheEnds) {
  Site s = empty_site();
  s.obstacles.push_back(box("WALL", 0, -5, 0, 0.24, 5, 4, "concrete"));
  auto m = model_of(s);
  const std::vector<char> all(m->materials().size(), 1);
  std::vector<char> none(m->materials().size(), 0);
  EXPECT_TRUE(m->clear({0.24, 0, 2}, {10, 0, 1}, all));    // mounted flush on the east face
  EXPECT_FALSE(m->clear({0.2, 0, 2}, {10, 0, 1}, all));    // 4 cm inside the wall: its face is in the way
  EXPECT_FALSE(m->clear({-1, 0, 2}, {10, 0, 1}, all));
  EXPECT_TRUE(m->clear({-1, 0, 2}, {10, 0, 1}, none));     // concrete does not block
}

TEST(PlantModel, H02_UnknownMaterialNamesTheObstacle) {
  Site s = empty_site();
  s.obstacles.push_back(box("HX-7", 0, 0, 0, 1, 1, 1, "titanium"));
  std::string err;
  EXPECT_FALSE(PlantModel::build(s, err));
  EXPECT_NE(err.find("HX-7"), std::string::npos) << err;
  EXPECT_NE(err.find("titanium"), std::string::npos) << err;
  // a material the site defines is known
  s.materials["titanium"] = Material{20, 1};
  auto m = PlantModel::build(s, err);
  ASSERT_TRUE(m) << err;
  EXPECT_EQ(m->material_index("titanium"), 5);
}

TEST(PlantModel, H02_DemoPlantMeshIsClosed) {
  const Site s = test::demo_plant();
  PlantMesh mesh;
  ASSERT_EQ(build_plant_mesh(s, {}, mesh), "");
  EXPECT_GT(mesh.solids.size(), 20u);
  // every directed edge has its reverse in the same solid: closed, consistently wound
  std::map<std::tuple<int, int, int>, int> edges;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int k = 0; k < 3; ++k)
      ++edges[{mesh.triangle_solid[t], mesh.triangles[t][static_cast<std::size_t>(k)], mesh.triangles[t][static_cast<std::size_t>((k + 1) % 3)]}];
  for (const auto& [e, n] : edges) {
    EXPECT_EQ(n, 1);
    const auto rev = edges.find({std::get<0>(e), std::get<2>(e), std::get<1>(e)});
    ASSERT_NE(rev, edges.end()) << "open edge in solid " << mesh.solids[static_cast<std::size_t>(std::get<0>(e))].name;
  }
}

std::vector<std::pair<Vec3, Vec3>> random_links(const Site& s, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> x(0, 400), y(0, 300);
  std::uniform_int_distribution<std::size_t> pick(0, s.anchors.size() - 1);
  std::vector<std::pair<Vec3, Vec3>> segs;
  for (int i = 0; i < n; ++i) {
    const Anchor& a = s.anchors[pick(rng)];
    segs.push_back({{a.at[0], a.at[1], a.at[2]}, {x(rng), y(rng), 1.2}});
  }
  return segs;
}

TEST(PlantModel, H01_H02_TraceBatchDoesNotDependOnThreads) {
  const Site s = test::demo_plant();
  auto m = model_of(s);
  const auto segs = random_links(s, 3000, 42);
  std::vector<std::vector<Crossing>> one, three;
  m->trace_batch(segs, one, 1);
  m->trace_batch(segs, three, 3);
  ASSERT_EQ(one.size(), segs.size());
  ASSERT_EQ(three.size(), segs.size());
  std::size_t blocked = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    ASSERT_EQ(one[i].size(), three[i].size()) << i;
    for (std::size_t k = 0; k < one[i].size(); ++k) {
      EXPECT_EQ(one[i][k].material, three[i][k].material);
      EXPECT_EQ(one[i][k].length_m, three[i][k].length_m);  // bit for bit
    }
    blocked += !one[i].empty();
  }
  // the demo plant blocks some links and not all
  EXPECT_GT(blocked, segs.size() / 20);
  EXPECT_LT(blocked, segs.size());
}

TEST(PlantModel, H02_TraceFromManyThreadsAtOnce) {
  const Site s = test::demo_plant();
  auto m = model_of(s);
  const auto segs = random_links(s, 2000, 7);
  std::vector<std::vector<Crossing>> serial(segs.size());
  for (std::size_t i = 0; i < segs.size(); ++i) m->trace(segs[i].first, segs[i].second, serial[i]);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      std::vector<Crossing> c;
      for (std::size_t i = 0; i < segs.size(); ++i) {  // every thread does all, interleaved with the others
        m->trace(segs[i].first, segs[i].second, c);
        if (c.size() != serial[i].size()) ++mismatches[static_cast<std::size_t>(t)];
        else
          for (std::size_t k = 0; k < c.size(); ++k)
            if (c[k].length_m != serial[i][k].length_m) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace planttwin
