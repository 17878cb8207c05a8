// H-02, PL-08: mesh obstacles (issue 15) in the plant's one BVH: rays through a model are blocked,
// rays beside it are clear, a closed model measures like the same `shape: box`, an open one is a
// sheet per surface; `planttwin check` runs on a site with a model.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>

#include "scenarios/loader.h"
#include "sim/plant/plant_model.h"
#include "tests/scenarios/mesh_files.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

class PlantMeshObstacle : public test::TempFolderTest {
 protected:
  PlantMeshObstacle() : TempFolderTest("planttwin_plantmesh_") {}
  Site load(const std::string& text) {
    write("site.yaml", text);
    Site s;
    const auto err = load_site_file((dir / "site.yaml").string(), s);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    return s;
  }
  static std::unique_ptr<PlantModel> model(const Site& s) {
    std::string err;
    auto m = PlantModel::build(s, err);
    EXPECT_TRUE(m) << err;
    return m;
  }
  static std::vector<Crossing> trace(const PlantModel& m, Vec3 a, Vec3 b) {
    std::vector<Crossing> out;
    m.trace(a, b, out);
    return out;
  }
};

TEST_F(PlantMeshObstacle, H02_ARayThroughTheModelIsBlockedOneBesideItIsNot) {
  // a 2 m x 2 m x 4 m steel unit, drawn at its own origin, placed at (10, -1, 0) and turned 0
  write("unit.gltf", test::box_gltf({0, 0, 0}, {2, 2, 4}));
  const Site s = load("site: m\nobstacles:\n  - {id: UNIT-1, mesh: unit.gltf, material: steel, at: [10, -1, 0]}\n");
  auto m = model(s);
  ASSERT_EQ(m->mesh().solids.size(), 1u);
  EXPECT_EQ(m->mesh().solids[0].name, "UNIT-1");
  EXPECT_FALSE(m->mesh().solids[0].open);
  const auto c = trace(*m, {0, 0, 1.5}, {20, 0, 1.5});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(m->materials()[static_cast<std::size_t>(c[0].material)], "steel");
  EXPECT_NEAR(c[0].length_m, 2.0, 1e-6);
  const std::vector<char> all(m->materials().size(), 1);
  EXPECT_FALSE(m->clear({0, 0, 1.5}, {20, 0, 1.5}, all));
  // beside it (y = 1.5) and over it (z = 4.5): clear
  EXPECT_TRUE(trace(*m, {0, 1.5, 1.5}, {20, 1.5, 1.5}).empty());
  EXPECT_TRUE(m->clear({0, 1.5, 1.5}, {20, 1.5, 1.5}, all));
  EXPECT_TRUE(trace(*m, {0, 0, 4.5}, {20, 0, 4.5}).empty());
  // starting inside: the crossing runs from the start
  const auto in = trace(*m, {11, 0, 1}, {20, 0, 1});
  ASSERT_EQ(in.size(), 1u);
  EXPECT_NEAR(in[0].length_m, 1.0, 1e-6);
}

TEST_F(PlantMeshObstacle, H02_AClosedModelMeasuresLikeTheSameBox) {
  write("b.obj", test::box_obj({0, 0, 0}, {3, 1, 2}, true));
  const Site ms = load("site: m\nobstacles:\n  - {id: U, mesh: b.obj, up: z, material: concrete, at: [4, 2, 0], yaw: 90}\n");
  // yaw 90 about the model origin, then at: x in [3, 4], y in [2, 5]
  const Site bs = load("site: m\nobstacles:\n  - {id: U, shape: box, min: [3, 2, 0], max: [4, 5, 2], material: concrete}\n");
  auto mm = model(ms), bm = model(bs);
  const Vec3 ends[][2] = {{{0, 3, 1}, {8, 3.5, 1}}, {{3.5, 0, 0.5}, {3.6, 8, 1.5}}, {{0, 0, 0.1}, {8, 8, 1.9}}, {{3.5, 3, -1}, {3.5, 3, 5}}};
  for (const auto& e : ends) {
    const auto a = trace(*mm, e[0], e[1]), b = trace(*bm, e[0], e[1]);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i].length_m, b[i].length_m, 1e-6);
  }
  // the first-path search sees the same prism: the plan hull and the height band
  ASSERT_EQ(mm->shapes().size(), 1u);
  EXPECT_EQ(mm->shapes()[0].hull.size(), 4u);
  EXPECT_NEAR(mm->shapes()[0].z0, 0, 1e-12);
  EXPECT_NEAR(mm->shapes()[0].z1, 2, 1e-12);
  auto sorted = [](std::vector<std::array<double, 2>> h) {
    std::sort(h.begin(), h.end());
    return h;
  };
  const auto ha = sorted(mm->shapes()[0].hull), hb = sorted(bm->shapes()[0].hull);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(ha[i][0], hb[i][0], 1e-9);
    EXPECT_NEAR(ha[i][1], hb[i][1], 1e-9);
  }
}

TEST_F(PlantMeshObstacle, H02_AnOpenModelIsASheetPerSurfaceCrossed) {
  // a vertical plate at y = 0 (two triangles) and a second one at y = 2, one open mesh
  write("plates.obj",
        "v 0 0 0\nv 4 0 0\nv 4 0 3\nv 0 0 3\nv 0 2 0\nv 4 2 0\nv 4 2 3\nv 0 2 3\nf 1 2 3\nf 1 3 4\nf 5 6 7\nf 5 7 8\n");
  const Site s = load("site: m\nobstacles:\n  - {id: CLAD, mesh: plates.obj, up: z, material: concrete}\n");
  auto m = model(s);
  EXPECT_TRUE(m->mesh().solids[0].open);
  const auto c = trace(*m, {2, -1, 1}, {2, 3, 1});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(c[0].length_m, PlantOptions{}.open_mesh_sheet_m, 1e-9);
  EXPECT_NEAR(c[1].length_m, PlantOptions{}.open_mesh_sheet_m, 1e-9);
  // through the diagonal both triangles share: one sheet, not two
  const auto d = trace(*m, {1, -1, 0.75}, {3, 1, 2.25});
  EXPECT_EQ(d.size(), 1u);
  // from behind, starting between the plates: one sheet, not "inside from the start"
  const auto e = trace(*m, {2, 1, 1}, {2, 3, 1});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NEAR(e[0].length_m, 0.01, 1e-9);
}

// A model of one triangle: Bullet's tree is a single leaf, and the wide walk's tree one node
// (its corners kept like any other's): the same crossing as the face test given every triangle.
TEST_F(PlantMeshObstacle, H02_AModelOfOneTriangleIsTraced) {
  write("tri.obj", "v 0 0 0\nv 4 0 0\nv 0 0 3\nf 1 2 3\n");
  const Site s = load("site: m\nobstacles:\n  - {id: TRI, mesh: tri.obj, up: z, material: concrete}\n");
  auto m = model(s);
  ASSERT_EQ(m->mesh().triangles.size(), 1u);
  const auto c = trace(*m, {1, -1, 1}, {1, 1, 1});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].length_m, PlantOptions{}.open_mesh_sheet_m, 1e-9);
  std::vector<Crossing> every;
  m->trace({1, -1, 1}, {1, 1, 1}, every, PlantModel::Walk::every);
  ASSERT_EQ(every.size(), 1u);
  EXPECT_EQ(every[0].length_m, c[0].length_m);
  EXPECT_TRUE(trace(*m, {3, -1, 2.5}, {3, 1, 2.5}).empty());  // beside it
  const std::vector<char> all(m->materials().size(), 1);
  EXPECT_FALSE(m->clear({1, -1, 1}, {1, 1, 1}, all));
  EXPECT_TRUE(m->clear({3, -1, 2.5}, {3, 1, 2.5}, all));
}

// `planttwin check` through the real binary on a site with a model between anchors and a zone
TEST_F(PlantMeshObstacle, PL08_CheckRunsOnASiteWithAModel) {
  write("unit.obj", test::box_obj({-1, -1, 0}, {1, 1, 6}, true));
  write("site.yaml", R"(site: 模型 mesh check
zones:
  - {id: Z, kind: storage, risk: red, polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]}
obstacles:
  - {id: UNIT-1, mesh: unit.obj, up: z, material: steel, at: [5, 5, 0], yaw: 45}
anchors:
  - {id: A1, at: [-1, -1, 3]}
  - {id: A2, at: [11, -1, 3]}
  - {id: A3, at: [11, 11, 3]}
  - {id: A4, at: [-1, 11, 3]}
)");
  const std::string out = (dir / "out").string();
  FILE* p = ::popen((std::string(PLANTTWIN_COMMAND) + " check " + (dir / "site.yaml").string() + " --report " + out + " 2>&1").c_str(), "r");
  ASSERT_TRUE(p);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  const int st = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(st)) << text;
  EXPECT_NE(WEXITSTATUS(st), 2) << text;  // loads and runs (pass or fail is the anchors' business)
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "check.json"));
  // the map draws the model's outline, named
  const std::string svg = read(dir / "out" / "coverage.svg");
  EXPECT_NE(svg.find("<title>UNIT-1</title>"), std::string::npos);
  // and a bad model file is exit 2 naming the site file, line and key
  write("site2.yaml", "site: bad\nobstacles:\n  - {id: U, mesh: missing.glb}\n");
  p = ::popen((std::string(PLANTTWIN_COMMAND) + " check " + (dir / "site2.yaml").string() + " 2>&1").c_str(), "r");
  ASSERT_TRUE(p);
  text.clear();
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  const int st2 = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(st2), 2) << text;
  EXPECT_NE(text.find("site2.yaml:3: obstacles[0].mesh: model file '"), std::string::npos) << text;
  EXPECT_NE(text.find("missing.glb': no such file"), std::string::npos) << text;
}

}  // namespace
}  // namespace planttwin
