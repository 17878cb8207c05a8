// Mesh obstacles in site files (docs/site-v1.md "Mesh obstacles", issue 15): the model file read
// with assimp, placed by scale, up, yaw and at; its hash in the site's; every bad input named by
// the site file, line and key, with the model file and assimp's own message.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "scenarios/loader.h"
#include "scenarios/mesh/mesh_file.h"
#include "tests/scenarios/mesh_files.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

using test::box_gltf;
using test::box_obj;

class MeshObstacle : public test::TempFolderTest {
 protected:
  MeshObstacle() : TempFolderTest("planttwin_mesh_") {}
  // a site whose obstacle list is `obstacle` (line 3)
  std::string site(const std::string& obstacle) {
    write("site.yaml", "site: mesh-test\nobstacles:\n  - " + obstacle + "\n");
    return (dir / "site.yaml").string();
  }
  Site ok(const std::string& obstacle) {
    Site s;
    const auto err = load_site_file(site(obstacle), s);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    return s;
  }
  LoadError bad(const std::string& obstacle) {
    Site s;
    const auto err = load_site_file(site(obstacle), s);
    EXPECT_TRUE(err.has_value()) << obstacle;
    return err.value_or(LoadError{});
  }
};

bool has_vertex(const ObstacleMesh& m, std::array<double, 3> p, double tol = 1e-9) {
  for (const auto& v : m.vertices)
    if (std::abs(v[0] - p[0]) < tol && std::abs(v[1] - p[1]) < tol && std::abs(v[2] - p[2]) < tol) return true;
  return false;
}

double volume(const ObstacleMesh& m) {
  double v6 = 0;
  for (const auto& t : m.triangles) {
    const auto& a = m.vertices[static_cast<std::size_t>(t[0])];
    const auto& b = m.vertices[static_cast<std::size_t>(t[1])];
    const auto& c = m.vertices[static_cast<std::size_t>(t[2])];
    v6 += a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  }
  return v6 / 6;
}

TEST_F(MeshObstacle, H02_ScaleThenYawThenAtPlaceAKnownVertex) {
  write("unit.obj", box_obj({0, 0, 0}, {2, 1, 3}, /*z_up=*/true));
  const Site s = ok("{id: UNIT-1, mesh: unit.obj, up: z, material: steel, at: [10, 20, 1], yaw: 90, scale: 2}");
  ASSERT_EQ(s.obstacles.size(), 1u);
  const Obstacle& o = s.obstacles[0];
  EXPECT_EQ(o.shape, Obstacle::Shape::mesh);
  ASSERT_TRUE(o.mesh);
  EXPECT_EQ(o.mesh->file, "unit.obj");
  EXPECT_EQ(o.mesh->triangles.size(), 12u);
  EXPECT_EQ(o.mesh->vertices.size(), 8u);
  EXPECT_TRUE(o.mesh->closed);
  EXPECT_EQ(o.mesh->sha256.size(), 64u);
  // (2, 1, 3) x 2 = (4, 2, 6); turned 90 degrees: (-2, 4, 6); moved: (8, 24, 7)
  EXPECT_TRUE(has_vertex(*o.mesh, {8, 24, 7}));
  EXPECT_TRUE(has_vertex(*o.mesh, {10, 20, 1}));  // the model's origin lands on `at`
  EXPECT_NEAR(o.min[0], 8, 1e-9);
  EXPECT_NEAR(o.max[0], 10, 1e-9);
  EXPECT_NEAR(o.min[1], 20, 1e-9);
  EXPECT_NEAR(o.max[1], 24, 1e-9);
  EXPECT_NEAR(o.min[2], 1, 1e-9);
  EXPECT_NEAR(o.max[2], 7, 1e-9);
  EXPECT_EQ(o.mesh->outline.size(), 4u);
  EXPECT_NEAR(volume(*o.mesh), 2 * 1 * 3 * 8, 1e-9);  // outward: positive volume
}

TEST_F(MeshObstacle, H02_GltfAndYUpObjLandWhereAZUpObjDoes) {
  write("z.obj", box_obj({1, 2, 0}, {4, 3, 5}, true));
  write("y.obj", box_obj({1, 2, 0}, {4, 3, 5}, false));
  write("box.gltf", box_gltf({1, 2, 0}, {4, 3, 5}));
  const Site a = ok("{id: U, mesh: z.obj, up: z, at: [5, 0, 0], yaw: 30}");
  const Site b = ok("{id: U, mesh: y.obj, at: [5, 0, 0], yaw: 30}");  // up: y is the default
  const Site c = ok("{id: U, mesh: box.gltf, at: [5, 0, 0], yaw: 30}");
  for (const Site* s : {&b, &c}) {
    ASSERT_TRUE(s->obstacles[0].mesh);
    EXPECT_EQ(s->obstacles[0].mesh->triangles.size(), 12u);
    EXPECT_TRUE(s->obstacles[0].mesh->closed);
    for (const auto& v : a.obstacles[0].mesh->vertices) EXPECT_TRUE(has_vertex(*s->obstacles[0].mesh, v, 1e-6));
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(s->obstacles[0].min[i], a.obstacles[0].min[i], 1e-6);
      EXPECT_NEAR(s->obstacles[0].max[i], a.obstacles[0].max[i], 1e-6);
    }
  }
}

TEST_F(MeshObstacle, H02_AClosedMeshWoundInwardIsTurnedOutward) {
  write("in.obj", box_obj({0, 0, 0}, {1, 1, 1}, true, /*inward=*/true));
  const Site s = ok("{id: U, mesh: in.obj, up: z}");
  EXPECT_TRUE(s.obstacles[0].mesh->closed);
  EXPECT_NEAR(volume(*s.obstacles[0].mesh), 1, 1e-12);
}

// One model file placed by several obstacles is read once per load (the loader's cache) and placed
// per obstacle: each obstacle is exactly what reading the file for its own placement gives (model
// read with its own triangle limit: a lower limit on one copy still refuses that copy).
TEST_F(MeshObstacle, H02_OneModelPlacedManyTimesIsEachPlacementExactly) {
  write("pump.obj", box_obj({0, 0, 0}, {2, 1, 3}, true, /*inward=*/true));
  write("site.yaml",
        "site: mesh-test\nobstacles:\n"
        "  - {id: P-1, mesh: pump.obj, up: z}\n"
        "  - {id: P-2, mesh: pump.obj, up: z, at: [10, 20, 1], yaw: 90, scale: 2}\n"
        "  - {id: P-3, mesh: pump.obj, at: [-5, 3, 0], yaw: -33.5, scale: 0.5}\n");
  Site s;
  const auto err = load_site_file((dir / "site.yaml").string(), s);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  ASSERT_EQ(s.obstacles.size(), 3u);
  const MeshPlacement places[3] = {{{0, 0, 0}, 0, 1, false}, {{10, 20, 1}, 90, 2, false}, {{-5, 3, 0}, -33.5, 0.5, true}};
  for (int i = 0; i < 3; ++i) {
    ObstacleMesh alone;
    const MeshReadResult res = read_mesh_file((dir / "pump.obj").string(), places[i], kMeshMaxTriangles, alone);
    ASSERT_TRUE(res.error.empty()) << res.error;
    const ObstacleMesh& m = *s.obstacles[static_cast<std::size_t>(i)].mesh;
    EXPECT_EQ(m.vertices, alone.vertices) << i;
    EXPECT_EQ(m.triangles, alone.triangles) << i;
    EXPECT_EQ(m.closed, alone.closed) << i;
    EXPECT_EQ(m.outline.size(), alone.outline.size()) << i;
    for (std::size_t k = 0; k < std::min(m.outline.size(), alone.outline.size()); ++k)
      EXPECT_TRUE(m.outline[k].x == alone.outline[k].x && m.outline[k].y == alone.outline[k].y) << i << " " << k;
    EXPECT_GT(volume(m), 0) << "turned outward in every placement";
    EXPECT_EQ(m.sha256, s.obstacles[0].mesh->sha256);
    EXPECT_EQ(m.files, alone.files);
  }
  // the same file under a lower limit on the second copy: that copy is refused at its line
  write("site.yaml",
        "site: mesh-test\nobstacles:\n"
        "  - {id: P-1, mesh: pump.obj, up: z}\n"
        "  - {id: P-2, mesh: pump.obj, up: z, max_triangles: 5}\n");
  Site t;
  const auto e2 = load_site_file((dir / "site.yaml").string(), t);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->line, 4);
  EXPECT_NE(e2->message.find("12 triangles, more than the limit of 5"), std::string::npos) << e2->to_string();
}

TEST_F(MeshObstacle, H02_AnOpenMeshIsKeptAndSaidToBeOpen) {
  write("plate.obj", "v 0 0 0\nv 4 0 0\nv 4 0 3\nv 0 0 3\nf 1 2 3\nf 1 3 4\n");
  const Site s = ok("{id: PLATE, mesh: plate.obj, up: z}");
  EXPECT_FALSE(s.obstacles[0].mesh->closed);
  EXPECT_EQ(s.obstacles[0].mesh->triangles.size(), 2u);
}

TEST_F(MeshObstacle, H02_TheSiteHashFollowsTheModelFile) {
  write("u.obj", box_obj({0, 0, 0}, {1, 1, 1}, true));
  const std::string path = site("{id: U, mesh: u.obj, up: z}");
  const std::string bytes = read(path);
  Site s1, s2;
  ASSERT_FALSE(load_site_file(path, s1).has_value());
  const std::string h1 = site_sha256(bytes, s1);
  EXPECT_NE(h1, sha256_hex(bytes));  // the model file is part of it
  write("u.obj", box_obj({0, 0, 0}, {1, 1, 2}, true));
  ASSERT_FALSE(load_site_file(path, s2).has_value());
  EXPECT_NE(s1.obstacles[0].mesh->sha256, s2.obstacles[0].mesh->sha256);
  EXPECT_NE(site_sha256(bytes, s2), h1);
  // a site without meshes keeps the plain file hash
  Site plain;
  const std::string text = "site: p\n";
  ASSERT_FALSE(load_site_text(text, (dir / "p.yaml").string(), plain).has_value());
  EXPECT_EQ(site_sha256(text, plain), sha256_hex(text));
}

// ---- bad input: site file, line 3, the key, the model file and why ------------------------------

#define EXPECT_MESH_ERROR(err, key_, words)                                                      \
  do {                                                                                           \
    const LoadError& e_ = (err);                                                                 \
    SCOPED_TRACE(e_.to_string());                                                                \
    EXPECT_EQ(e_.file, (dir / "site.yaml").string());                                            \
    EXPECT_EQ(e_.line, 3);                                                                       \
    EXPECT_EQ(e_.key, (key_));                                                                   \
    EXPECT_NE(e_.message.find(words), std::string::npos);                                        \
  } while (0)

TEST_F(MeshObstacle, H02_MissingModelFile) {
  const LoadError e = bad("{id: U, mesh: nowhere.glb}");
  EXPECT_MESH_ERROR(e, "obstacles[0].mesh", "no such file");
  EXPECT_NE(e.message.find((dir / "nowhere.glb").string()), std::string::npos);
}

TEST_F(MeshObstacle, H02_AFolderOrADeviceIsNoModelFile) {
  std::filesystem::create_directories(dir / "unit.glb");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: unit.glb}"), "obstacles[0].mesh", "is a folder");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: /dev/null}"), "obstacles[0].mesh", "not a regular file");
}

TEST_F(MeshObstacle, H02_UnreadableFormatGivesAssimpsMessage) {
  write("junk.glb", "this is not a model at all\n");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: junk.glb}"), "obstacles[0].mesh", "assimp cannot read it: ");
  write("junk.qqq", "v 0 0 0\n");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: junk.qqq}"), "obstacles[0].mesh", "assimp cannot read it: ");
}

TEST_F(MeshObstacle, H02_NoTrianglesOrAnEmptyMesh) {
  write("lines.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nl 1 2\nl 2 3\n");
  const LoadError a = bad("{id: U, mesh: lines.obj}");
  EXPECT_MESH_ERROR(a, "obstacles[0].mesh", "lines.obj");
  write("empty.obj", "# nothing here\n");
  const LoadError b = bad("{id: U, mesh: empty.obj}");
  EXPECT_MESH_ERROR(b, "obstacles[0].mesh", "empty.obj");
  // triangles, but every one collapsed onto one point
  write("point.obj", "v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: point.obj}"), "obstacles[0].mesh", "zero area");
}

TEST_F(MeshObstacle, H02_TooManyTriangles) {
  write("u.obj", box_obj({0, 0, 0}, {1, 1, 1}, true));
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, max_triangles: 11}"), "obstacles[0].mesh",
                    "12 triangles, more than the limit of 11");
  EXPECT_EQ(ok("{id: U, mesh: u.obj, max_triangles: 12}").obstacles[0].mesh->triangles.size(), 12u);
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, max_triangles: 0}"), "obstacles[0].max_triangles", "whole number");
}

TEST_F(MeshObstacle, H02_NonFiniteOrAbsurdPlacement) {
  write("u.obj", box_obj({0, 0, 0}, {1, 1, 1}, true));
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, at: [nan, 0, 0]}"), "obstacles[0].at[0]", "finite");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, at: [0, 0]}"), "obstacles[0].at", "[x, y, z]");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, at: [2000000, 0, 0]}"), "obstacles[0].at", "within 1e+06 m");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, yaw: inf}"), "obstacles[0].yaw", "finite");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, yaw: 400}"), "obstacles[0].yaw", "from -360 to 360");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, scale: 0}"), "obstacles[0].scale", "from 1e-06 to 1e+06");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, scale: -1}"), "obstacles[0].scale", "from 1e-06 to 1e+06");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, up: x}"), "obstacles[0].up", "up axis");
  // each value fine, but the placed model is absurd: 1 km box x 1e6 (the model's units are wrong)
  write("km.obj", box_obj({0, 0, 0}, {1000, 1, 1}, true));
  EXPECT_MESH_ERROR(bad("{id: U, mesh: km.obj, scale: 10000}"), "obstacles[0].mesh", "check 'scale'");
  EXPECT_MESH_ERROR(bad("{id: U, mesh: u.obj, radius: 3}"), "obstacles[0].radius", "unknown key");
}

}  // namespace
}  // namespace planttwin
