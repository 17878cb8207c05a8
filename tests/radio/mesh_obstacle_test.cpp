// H-02, H-05 (issue 15): a mesh obstacle takes part in first paths like the solid it is: its
// triangles block or delay the straight path (the BVH), and its plan hull and height band give the
// detour corners, the edges and the reflecting faces (sim/los.h SolidShape). A steel model of a box
// gives the links of the same `shape: box`, path by path, within 1e-6 m and 1e-6 dB.
#include <gtest/gtest.h>

#include <memory>

#include "scenarios/loader.h"
#include "sim/radio/first_path.h"
#include "sim/radio/plant_los.h"
#include "sim/radio/radio.h"
#include "tests/scenarios/mesh_files.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

struct Link {
  Site site;
  std::unique_ptr<LineOfSight> los;
  std::unique_ptr<RadioChannel> ch;
  std::unique_ptr<FirstPathFinder> fp;
  LinkGeometry at(Vec3 tag) const {
    std::vector<Crossing> cr;
    los->trace(tag, ch->anchor_at(0), cr);
    return fp->find(tag, 0, cr);
  }
};

class RadioMeshObstacle : public test::TempFolderTest {
 protected:
  RadioMeshObstacle() : TempFolderTest("planttwin_radiomesh_") {}
  Link build(const std::string& name, const std::string& obstacle) {
    write(name, "site: m\nanchors:\n  - {id: A1, at: [0, 0, 1.5]}\nobstacles:\n  - " + obstacle + "\n");
    Link l;
    const auto err = load_site_file((dir / name).string(), l.site);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    std::string e;
    l.los = make_plant_los(l.site, e);
    EXPECT_TRUE(l.los) << e;
    RadioParams p = radio_defaults(l.site);
    p.sensitivity_dbm = -400;  // geometry only: every candidate is searched
    l.ch = std::make_unique<RadioChannel>(l.site, std::move(p), l.los->materials(), 7);
    l.fp = std::make_unique<FirstPathFinder>(*l.los, *l.ch);
    return l;
  }
};

TEST_F(RadioMeshObstacle, H02_SteelModelOfABoxGivesTheBoxsLinks) {
  // a steel cabinet 2 m x 3.5 m x 5 m at (4..6, -3..0.5), as a model turned 90 degrees and as a box
  write("cab.obj", test::box_obj({0, 0, 0}, {3.5, 2, 5}, true));
  const Link mesh = build("m.yaml", "{id: CAB, mesh: cab.obj, up: z, material: steel, at: [6, -3, 0], yaw: 90}");
  const Link box = build("b.yaml", "{id: CAB, shape: box, min: [4, -3, 0], max: [6, 0.5, 5], material: steel}");
  const Vec3 tags[] = {{10, 0, 1}, {10, -1, 1.5}, {9, 3, 1}, {12, -6, 2}, {5, 4, 1}, {3, -1, 1}};
  int nlos = 0;
  for (const Vec3& t : tags) {
    SCOPED_TRACE(testing::Message() << "tag (" << t.x << ", " << t.y << ", " << t.z << ")");
    const LinkGeometry a = mesh.at(t), b = box.at(t);
    EXPECT_EQ(a.nlos, b.nlos);
    nlos += a.nlos;
    ASSERT_EQ(a.paths, b.paths);
    for (int i = 0; i < a.paths; ++i) {
      const PathCandidate &x = a.path[static_cast<std::size_t>(i)], &y = b.path[static_cast<std::size_t>(i)];
      EXPECT_EQ(x.kind, y.kind);
      EXPECT_NEAR(x.length_m, y.length_m, 1e-6);
      EXPECT_NEAR(x.delay_m, y.delay_m, 1e-6);
      EXPECT_NEAR(x.loss_db, y.loss_db, 1e-6);
    }
  }
  EXPECT_GE(nlos, 2);  // the cabinet blocks some of them
}

TEST_F(RadioMeshObstacle, H02_AnOpenSteelModelStillBlocksTheStraightPath) {
  // one steel plate (two triangles): no inside, but steel is opaque: the link goes around it
  write("plate.obj", "v 5 -2 0\nv 5 2 0\nv 5 2 4\nv 5 -2 4\nf 1 2 3\nf 1 3 4\n");
  const Link l = build("p.yaml", "{id: PLATE, mesh: plate.obj, up: z, material: steel}");
  const LinkGeometry g = l.at({10, 0, 1.5});
  EXPECT_TRUE(g.nlos);
  ASSERT_GE(g.paths, 1);
  EXPECT_NE(g.path[0].kind, PathCandidate::Kind::direct);
  EXPECT_GT(g.path[0].length_m, 10.0);
}

}  // namespace
}  // namespace planttwin
