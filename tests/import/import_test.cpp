// Issue 15 (PL-04, PL-08, SO-08, H-02): the layout drawing (DXF through GDAL) to a site file.
// Drawings are in tests/import/data: written by make_drawings.py (python3-ezdxf) and checked in, and
// one real-world drawing from GDAL's test data (data/gdal/ORIGIN.md).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hardware-in-loop/uplink/uplink.h"
#include "import/control_points.h"
#include "import/drawing.h"
#include "import/import_map.h"
#include "import/site_import.h"
#include "scenarios/loader.h"

namespace fs = std::filesystem;
using namespace planttwin;

namespace {

const std::string kData = std::string(PLANTTWIN_SOURCE_DIR) + "/tests/import/data/";
const std::string kBin = std::string(PLANTTWIN_COMMAND);

const char* kPlantMap = R"(origin: [125000, 48000]
site: {site: test-plant, timezone: "+08:00"}
layers:
  ZONE-TANK: {as: zone, kind: major_hazard, risk: red}
  ZONE-LOAD: {as: zone, kind: loading, risk: orange, capacity: 6, schedule: {days: [mon, tue], from: "08:00", to: "18:00"}}
  BUILDING: {as: building, height: 12, floors: 3, material: concrete}
  TANK: {as: obstacle, shape: cylinder, height: 15, material: steel}
  RACK: {as: obstacle, shape: box, height: 6, base: 3}
  ANCHOR: {as: anchor, z: 3}
  CAMERA: {as: camera, z: 6, range: 60, fov: 90}
  BOUNDARY: {as: fence}
  LABEL: {as: label}
)";

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("planttwin-import-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

struct CliResult {
  int rc = -1;
  std::string out;
};

CliResult run_cli(const std::string& args) {
  CliResult r;
  FILE* p = ::popen((kBin + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// map text + drawing -> result and the loaded site (the library path of `planttwin import`)
struct Imported {
  ImportResult result;
  Site site;
  std::string error;  // map, drawing, import or site-load error
};

Imported import_with(const std::string& drawing, const std::string& map_text, const std::string& map_file = "map.yaml") {
  Imported im;
  ImportMap map;
  if (auto e = load_import_map_text(map_text, map_file, map)) {
    im.error = e->to_string();
    return im;
  }
  dxf::ReadOptions ro;
  ro.arc_tolerance_m = map.arc_tolerance;
  ro.unit_m = map.unit_m;
  ro.encoding = map.encoding;
  dxf::Drawing d;
  if (!dxf::read_drawing(drawing, ro, d, im.error)) return im;
  if (!import_site(d, map, im.result)) {
    im.error = im.result.error;
    return im;
  }
  if (auto e = load_site_text(im.result.site_yaml, "made.yaml", im.site)) im.error = e->to_string();
  return im;
}

const Zone* zone(const Site& s, const std::string& id) {
  for (const Zone& z : s.zones)
    if (z.id == id) return &z;
  return nullptr;
}

}  // namespace

// PL-04: every entity type of the map becomes its part of the site; GBK texts name zones in Chinese.
TEST(ImportPlant, MakesZonesBuildingsObstaclesAnchorsCamerasAndBounds_PL04) {
  const Imported im = import_with(kData + "plant.dxf", kPlantMap);
  ASSERT_EQ(im.error, "");
  const Site& s = im.site;
  EXPECT_EQ(s.name, "test-plant");
  EXPECT_EQ(s.timezone_min, 8 * 60);
  // bounds: the fence layer, origin subtracted, millimetres to metres
  ASSERT_TRUE(s.bounds.has_value());
  EXPECT_EQ(s.bounds->pts.size(), 4u);
  EXPECT_DOUBLE_EQ(s.bounds->area(), 200.0 * 150.0);
  // zones: "TF 罐区" gives id TF and name 罐区 (decoded from GBK, $DWGCODEPAGE ANSI_936)
  ASSERT_EQ(s.zones.size(), 4u);
  const Zone* tf = zone(s, "TF");
  ASSERT_NE(tf, nullptr);
  EXPECT_EQ(tf->name, "罐区");
  EXPECT_EQ(tf->kind, ZoneKind::major_hazard);
  EXPECT_EQ(tf->risk, Risk::red);
  EXPECT_DOUBLE_EQ(tf->polygon.area(), 80.0 * 60.0);
  EXPECT_TRUE(tf->polygon.contains({100, 80}));
  EXPECT_FALSE(tf->polygon.contains({99.9, 80}));
  // no text of its own: PREFIX-n, named by the label layer's text inside
  const Zone* t1 = zone(s, "ZONE-TANK-1");
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->name, "罐区二");
  // MTEXT on two lines; the layer's keys (capacity, schedule) copied into each zone
  const Zone* ld = zone(s, "ZONE-LOAD-1");
  ASSERT_NE(ld, nullptr);
  EXPECT_EQ(ld->name, "装卸区 (汽车)");
  EXPECT_EQ(ld->capacity, 6);
  ASSERT_EQ(ld->schedule.size(), 1u);
  EXPECT_EQ(ld->schedule[0].from_min, 8 * 60);
  // the bulge (half circle of radius 10 m east of x = 180) is flattened: the area is the
  // rectangle plus the half disc, within the chord error
  EXPECT_NEAR(ld->polygon.area(), 80.0 * 20.0 + M_PI * 100 / 2, 0.05 * M_PI * 10);
  EXPECT_TRUE(ld->polygon.contains({189.9, 20}));
  ASSERT_NE(zone(s, "ZONE-LOAD-2"), nullptr);
  // building: 3 storeys of 4 m
  ASSERT_EQ(s.buildings.size(), 1u);
  EXPECT_EQ(s.buildings[0].id, "OB");
  ASSERT_EQ(s.buildings[0].floors.size(), 3u);
  EXPECT_DOUBLE_EQ(s.buildings[0].floors[2].z0, 8);
  EXPECT_DOUBLE_EQ(s.buildings[0].floors[2].z1, 12);
  EXPECT_EQ(s.buildings[0].wall_material, "concrete");
  // obstacles: circles -> cylinders with the exact radius; rectangles -> boxes
  ASSERT_EQ(s.obstacles.size(), 4u);
  EXPECT_EQ(s.obstacles[0].id, "TK-101");
  EXPECT_EQ(s.obstacles[0].shape, Obstacle::Shape::cylinder);
  EXPECT_NEAR(s.obstacles[0].radius, 8, 1e-6);
  EXPECT_NEAR(s.obstacles[0].center.x, 120, 1e-6);
  EXPECT_NEAR(s.obstacles[0].center.y, 110, 1e-6);
  EXPECT_DOUBLE_EQ(s.obstacles[0].z1, 15);
  EXPECT_EQ(s.obstacles[1].id, "TANK-1");
  EXPECT_NEAR(s.obstacles[1].radius, 6, 1e-6);
  EXPECT_EQ(s.obstacles[2].id, "RACK-1");
  EXPECT_EQ(s.obstacles[2].shape, Obstacle::Shape::box);
  EXPECT_DOUBLE_EQ(s.obstacles[2].min[2], 3);
  EXPECT_DOUBLE_EQ(s.obstacles[2].max[2], 9);
  EXPECT_DOUBLE_EQ(s.obstacles[2].max[0], 90);
  // anchors: points at the map's z; the insert named by its ID attribute
  ASSERT_EQ(s.anchors.size(), 5u);
  EXPECT_EQ(s.anchors[0].id, "ANCHOR-1");
  EXPECT_DOUBLE_EQ(s.anchors[0].at[0], 95);
  EXPECT_DOUBLE_EQ(s.anchors[0].at[2], 3);
  EXPECT_EQ(s.anchors[4].id, "A-GATE");
  // cameras: the insert's rotation is the yaw (counter-clockwise from east, as site-v1)
  ASSERT_EQ(s.cameras.size(), 2u);
  EXPECT_DOUBLE_EQ(s.cameras[0].yaw_deg, 45);
  EXPECT_DOUBLE_EQ(s.cameras[1].yaw_deg, 225);
  EXPECT_DOUBLE_EQ(s.cameras[0].range, 60);
  EXPECT_DOUBLE_EQ(s.cameras[0].at[2], 6);
}

// PL-04: what is left out is listed with its layer, handle and why; nothing silently dropped.
TEST(ImportPlant, ReportsSkippedOverlapsUnmappedAndNestedBlocks_PL04) {
  const Imported im = import_with(kData + "plant.dxf", kPlantMap);
  ASSERT_EQ(im.error, "");
  const ImportResult& r = im.result;
  auto skipped_with = [&](const std::string& type, const std::string& words) {
    return std::any_of(r.skipped.begin(), r.skipped.end(), [&](const ImportNote& n) { return n.type == type && n.reason.find(words) != std::string::npos; });
  };
  EXPECT_TRUE(skipped_with("LWPOLYLINE", "open polyline on a zone layer"));
  EXPECT_TRUE(skipped_with("LINE", "open LINE on an obstacle layer"));
  EXPECT_TRUE(skipped_with("POINT", "a camera is a block insert"));
  EXPECT_TRUE(skipped_with("TEXT", "'无处' lies in no shape"));
  EXPECT_TRUE(skipped_with("INSERT", "block CAM-POLE holds an insert of block CAM"));
  for (const ImportNote& n : r.skipped) EXPECT_FALSE(n.handle.empty()) << n.reason;
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const ImportNote& n) { return n.reason.find("ZONE-LOAD-2 overlaps zone ZONE-LOAD-1") != std::string::npos; }));
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const ImportNote& n) { return n.reason.find("RACK-2 is not an axis-aligned rectangle") != std::string::npos; }));
  ASSERT_EQ(r.unmapped.size(), 1u);
  EXPECT_EQ(r.unmapped.at("MISC"), 2);
  EXPECT_EQ(r.made.at("zones"), 4);
  EXPECT_EQ(r.made.at("cameras"), 2);
  const std::string summary = import_summary(r);
  EXPECT_NE(summary.find("zones 区域 4"), std::string::npos);
  EXPECT_NE(summary.find("MISC: 2"), std::string::npos);
}

// Arcs and bulges: every vertex lies on the true arc and no chord strays more than arc_tolerance
// from it (an arc of radius ~589 m, chord 400 m, sagitta 35 m).
TEST(ImportArcs, BulgeFlattenedWithinTolerance) {
  for (double tol : {0.05, 0.01}) {
    const Imported im = import_with(kData + "big_arc.dxf", "arc_tolerance: " + std::to_string(tol) + "\nlayers: {Z: {as: zone}}\n");
    ASSERT_EQ(im.error, "");
    ASSERT_EQ(im.site.zones.size(), 1u);
    const double c = 200, s = 35, r = (c * c + s * s) / (2 * s);
    const Vec2 centre{200, s - r};
    const auto& pts = im.site.zones[0].polygon.pts;
    int on_arc = 0;
    double worst = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const Vec2 a = pts[i], b = pts[(i + 1) % pts.size()];
      if (a.y < -1 || b.y < -1) continue;  // the straight sides
      if (a.y > 0.001) {
        ++on_arc;
        EXPECT_NEAR(dist(a, centre), r, 0.002) << "vertex " << i;  // written to the millimetre
      }
      const Vec2 mid{(a.x + b.x) / 2, (a.y + b.y) / 2};
      worst = std::max(worst, r - dist(mid, centre));
    }
    EXPECT_GT(on_arc, 5);
    EXPECT_LE(worst, tol + 0.002) << "tolerance " << tol;
    EXPECT_GT(worst, tol / 20) << "no more points than needed";  // the step follows the tolerance
  }
}

// H-02: units from $INSUNITS (6 = metres), overridden by the map; unitless drawings need the map.
TEST(ImportUnits, InsunitsAndMapUnits) {
  Imported m = import_with(kData + "metres.dxf", "layers: {Z: {as: zone, kind: gate}}\n");
  ASSERT_EQ(m.error, "");
  ASSERT_EQ(m.site.zones.size(), 1u);
  EXPECT_EQ(m.site.zones[0].id, "GATE");
  EXPECT_DOUBLE_EQ(m.site.zones[0].polygon.area(), 600);
  Imported cm = import_with(kData + "metres.dxf", "units: cm\nlayers: {Z: {as: zone}}\n");
  ASSERT_EQ(cm.error, "");
  EXPECT_NEAR(cm.site.zones[0].polygon.area(), 0.06, 1e-9);
  Imported none = import_with(kData + "unitless.dxf", "layers: {Z: {as: zone}}\n");
  EXPECT_NE(none.error.find("$INSUNITS 0"), std::string::npos) << none.error;
  EXPECT_NE(none.error.find("units:"), std::string::npos) << none.error;
  Imported given = import_with(kData + "unitless.dxf", "units: m\nlayers: {Z: {as: zone}}\n");
  EXPECT_EQ(given.error, "");
}

// A map rotation turns the drawing's axes to east-north, and the camera yaw with them.
TEST(ImportFrame, OriginAndRotation) {
  const Imported im = import_with(kData + "plant.dxf", std::string(kPlantMap) + "rotation: 90\n");
  ASSERT_EQ(im.error, "");
  const Zone* tf = zone(im.site, "TF");
  ASSERT_NE(tf, nullptr);
  // drawing (100, 80) -> (-80, 100) after a quarter turn
  EXPECT_TRUE(std::any_of(tf->polygon.pts.begin(), tf->polygon.pts.end(), [](Vec2 p) { return std::fabs(p.x + 80) < 1e-9 && std::fabs(p.y - 100) < 1e-9; }));
  EXPECT_DOUBLE_EQ(im.site.cameras[0].yaw_deg, 135);
}

// A real-world drawing (GDAL's test data, written by a CAD program): no header, so the map gives
// the units; Gauss–Krüger coordinates with the zone number in front; bulges and a width.
TEST(ImportRealWorld, RealWorldGdalDrawing) {
  const Imported im = import_with(kData + "gdal/closed_polyline_with_bulge.dxf",
                                  "units: m\norigin: [40585300, 3433950]\nlayers: {test: {as: zone, kind: production, risk: yellow}}\n");
  ASSERT_EQ(im.error, "");
  ASSERT_EQ(im.site.zones.size(), 1u);
  const Zone& z = im.site.zones[0];
  EXPECT_EQ(z.id, "test-1");
  EXPECT_GT(z.polygon.pts.size(), 8u);  // 8 vertices plus the flattened bulges
  // exact area: the straight outline plus the three circular segments of the bulges
  const double v[8][3] = {{40585366.70650577, 3433935.538090975, 0},
                          {40585329.92564863, 3433998.440817071, 0.2621272319479089},
                          {40585297.73920335, 3434017.254552271, 0},
                          {40585271.13131783, 3434017.686781913, 0},
                          {40585252.16981492, 3433885.990375476, 0},
                          {40585256.74147, 3433885.916111596, 0.1393571566538866},
                          {40585329.65156154, 3433905.365607637, 0},
                          {40585364.24837356, 3433925.992208718, 0.4117239835866821}};
  double a = 0, perimeter = 0;
  for (int i = 0; i < 8; ++i) {
    const auto& p = v[i];
    const auto& q = v[(i + 1) % 8];
    const double x0 = p[0] - 40585300, y0 = p[1] - 3433950, x1 = q[0] - 40585300, y1 = q[1] - 3433950;
    a += (x0 * y1 - x1 * y0) / 2;
    const double chord = std::hypot(x1 - x0, y1 - y0);
    perimeter += chord;
    if (p[2] != 0) {
      const double theta = 4 * std::atan(std::fabs(p[2])), r = chord / (2 * std::sin(theta / 2));
      a += (p[2] > 0 ? 1 : -1) * r * r / 2 * (theta - std::sin(theta));
    }
  }
  EXPECT_NEAR(z.polygon.area(), std::fabs(a), perimeter * 0.05);
  EXPECT_GT(std::fabs(z.polygon.area() - std::fabs(a)), 0) << "the flattened outline is not the exact one";
}

// Bad drawings: exit 2 with the layer, the entity handle and why (through the command).
TEST(ImportCommand, BadDrawingExits2NamingLayerHandleAndReason) {
  const fs::path dir = temp_dir("bad");
  write(dir / "map.yaml", "units: m\nlayers: {Z: {as: zone}}\n");
  CliResult bow = run_cli("import " + kData + "bowtie.dxf --map " + (dir / "map.yaml").string() + " --out " + (dir / "s.yaml").string());
  EXPECT_EQ(bow.rc, 2) << bow.out;
  EXPECT_NE(bow.out.find("layer Z, entity "), std::string::npos) << bow.out;
  EXPECT_NE(bow.out.find("(LWPOLYLINE): the outline crosses itself"), std::string::npos) << bow.out;
  CliResult dup = run_cli("import " + kData + "duplicate.dxf --map " + (dir / "map.yaml").string() + " --out " + (dir / "s.yaml").string());
  EXPECT_EQ(dup.rc, 2) << dup.out;
  EXPECT_NE(dup.out.find("id 'TF'"), std::string::npos) << dup.out;
  CliResult missing = run_cli("import " + (dir / "nothing.dxf").string() + " --map " + (dir / "map.yaml").string() + " --out " + (dir / "s.yaml").string());
  EXPECT_EQ(missing.rc, 2);
  write(dir / "junk.dxf", "this is not a drawing\n");
  CliResult junk = run_cli("import " + (dir / "junk.dxf").string() + " --map " + (dir / "map.yaml").string() + " --out " + (dir / "s.yaml").string());
  EXPECT_EQ(junk.rc, 2) << junk.out;
  EXPECT_NE(junk.out.find("junk.dxf"), std::string::npos) << junk.out;
  EXPECT_FALSE(fs::exists(dir / "s.yaml"));
  fs::remove_all(dir);
}

// fuzz_dxf found it: GDAL 3.6's DXF reader never returns on this damaged drawing (a header whose
// group values run into YAML text). The command reads with a time limit and refuses it, exit 2,
// naming the file, instead of hanging; nothing is written.
TEST(ImportCommand, DrawingThatHangsGdalIsRefusedAfterTheReadTimeout) {
  const fs::path dir = temp_dir("hang");
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = run_cli("import " + kData + "fuzz/gdal-dxf-loops.dxf --map " + std::string(PLANTTWIN_SOURCE_DIR) +
                        "/scenarios/sites/demo-plant.map.yaml --read-timeout 1 --out " + (dir / "s.yaml").string());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("gdal-dxf-loops.dxf: reading it did not finish within 1 s"), std::string::npos) << r.out;
  EXPECT_LT(secs, 60) << "the command must give up, not hang";
  EXPECT_FALSE(fs::exists(dir / "s.yaml"));
  // a sound drawing is read as before under the same limit
  CliResult ok = run_cli("import " + std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/demo-plant.dxf --map " +
                         std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/demo-plant.map.yaml --read-timeout 30 --out " + (dir / "s.yaml").string());
  EXPECT_EQ(ok.rc, 0) << ok.out;
  fs::remove_all(dir);
}

// Bad maps: file:line: key: message.
TEST(ImportMapFile, BadMapNamesFileLineKey) {
  ImportMap m;
  auto e = load_import_map_text("layers:\n  Z: {as: zone, kind: tank}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to_string(), "m.yaml:2: layers.Z.kind: 'tank' is not one of production, storage, loading, high_risk, major_hazard, office, gate, other");
  e = load_import_map_text("units: mm\nlayers:\n  B: {as: building}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->key, "layers.B.height");
  e = load_import_map_text("unit: mm\nlayers: {Z: {as: zone}}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "unit");
  EXPECT_NE(e->message.find("allowed here"), std::string::npos);
  e = load_import_map_text("layers:\n  Z: {as: zone}\n  C: {as: camera, fov: 400}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to_string(), "m.yaml:3: layers.C.fov: degrees in (0, 360]");
  e = load_import_map_text("site: {site: x, zones: []}\nlayers: {Z: {as: zone}}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "site.zones");
  e = load_import_map_text("layers: {Z: {as: wall}}\n", "m.yaml", m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "layers.Z.as");
  // through the command: exit 2, file:line:key on stderr
  const fs::path dir = temp_dir("badmap");
  write(dir / "map.yaml", "layers:\n  Z: {as: zone, risk: purple}\n");
  CliResult r = run_cli("import " + kData + "metres.dxf --map " + (dir / "map.yaml").string() + " --out " + (dir / "s.yaml").string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.out.find("map.yaml:2: layers.Z.risk: 'purple'"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// PL-08: the written file is taken by `check` as it is.
TEST(ImportCommand, WrittenSiteLoadsInCheck_PL08) {
  const fs::path dir = temp_dir("check");
  write(dir / "map.yaml", kPlantMap);
  CliResult r = run_cli("import " + kData + "plant.dxf --map " + (dir / "map.yaml").string() + " --out " + (dir / "site.yaml").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("made 生成: zones 区域 4, buildings 建筑 1, obstacles 障碍物 4, anchors 基站 5, cameras 摄像机 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped 未导入 (5)"), std::string::npos) << r.out;
  CliResult c = run_cli("check " + (dir / "site.yaml").string() + " --cell 4");
  EXPECT_TRUE(c.rc == 0 || c.rc == 1) << c.out;  // a verdict, not bad input
  EXPECT_NE(c.out.find("TF"), std::string::npos) << c.out;
  fs::remove_all(dir);
}

namespace {

std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

// PL-04, PL-08, SO-08: the demo plant drawn as a CAD drawing (scenarios/sites/demo-plant.dxf) gives
// back the hand-written demo plant: every zone with its settings, building, obstacle, anchor and
// camera; and the checked-in demo-plant-imported.yaml is what the import makes today.
TEST(ImportDemoPlant, DrawingGivesTheHandWrittenSite_PL04) {
  const std::string dir = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/";
  Imported im = import_with(dir + "demo-plant.dxf", read_file(dir + "demo-plant.map.yaml"), dir + "demo-plant.map.yaml");
  ASSERT_EQ(im.error, "");
  EXPECT_TRUE(im.result.skipped.empty());
  EXPECT_TRUE(im.result.notes.empty());
  EXPECT_EQ(im.result.site_yaml, read_file(dir + "demo-plant-imported.yaml")) << "re-run the import: the checked-in site is stale";
  Site hand;
  ASSERT_FALSE(load_site_file(dir + "demo-plant.yaml", hand));
  const Site& s = im.site;
  ASSERT_EQ(s.zones.size(), hand.zones.size());
  for (const Zone& h : hand.zones) {
    const Zone* z = zone(s, h.id);
    ASSERT_NE(z, nullptr) << h.id;
    EXPECT_EQ(z->name, h.name) << h.id;
    EXPECT_EQ(z->kind, h.kind) << h.id;
    EXPECT_EQ(z->risk, h.risk) << h.id;
    EXPECT_EQ(z->polygon.pts, h.polygon.pts) << h.id;
    EXPECT_EQ(z->floors, h.floors) << h.id;
    EXPECT_EQ(z->z, h.z) << h.id;
    EXPECT_EQ(z->capacity, h.capacity) << h.id;
    EXPECT_EQ(z->min_staff, h.min_staff) << h.id;
    EXPECT_EQ(z->authorized.roles, h.authorized.roles) << h.id;
    EXPECT_EQ(z->stay_inside, h.stay_inside) << h.id;
    EXPECT_EQ(z->schedule.size(), h.schedule.size()) << h.id;
    EXPECT_EQ(z->stationary_after, h.stationary_after) << h.id;
    EXPECT_EQ(z->overstay_after, h.overstay_after) << h.id;
    EXPECT_EQ(z->permit_required, h.permit_required) << h.id;
    EXPECT_EQ(z->explosion_hazard, h.explosion_hazard) << h.id;
  }
  ASSERT_EQ(s.buildings.size(), hand.buildings.size());
  for (std::size_t i = 0; i < hand.buildings.size(); ++i) {
    EXPECT_EQ(s.buildings[i].id, hand.buildings[i].id);
    EXPECT_EQ(s.buildings[i].footprint.pts, hand.buildings[i].footprint.pts);
    EXPECT_EQ(s.buildings[i].floors.size(), hand.buildings[i].floors.size());
    EXPECT_EQ(s.buildings[i].wall_material, hand.buildings[i].wall_material);
  }
  ASSERT_EQ(s.obstacles.size(), hand.obstacles.size());
  for (std::size_t i = 0; i < hand.obstacles.size(); ++i) {
    const Obstacle &a = s.obstacles[i], &b = hand.obstacles[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.shape, b.shape) << b.id;
    EXPECT_EQ(a.material, b.material) << b.id;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.min[k], b.min[k], 1e-9) << b.id;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.max[k], b.max[k], 1e-9) << b.id;
    EXPECT_NEAR(a.radius, b.radius, 1e-9) << b.id;
    EXPECT_NEAR(a.center.x, b.center.x, 1e-9) << b.id;
    EXPECT_NEAR(a.z1, b.z1, 1e-9) << b.id;
  }
  ASSERT_EQ(s.anchors.size(), hand.anchors.size());
  for (std::size_t i = 0; i < hand.anchors.size(); ++i) {
    EXPECT_EQ(s.anchors[i].id, hand.anchors[i].id);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(s.anchors[i].at[k], hand.anchors[i].at[k], 1e-9) << hand.anchors[i].id;
  }
  ASSERT_EQ(s.cameras.size(), hand.cameras.size());
  for (std::size_t i = 0; i < hand.cameras.size(); ++i) {
    const Camera &a = s.cameras[i], &b = hand.cameras[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_NEAR(a.yaw_deg, b.yaw_deg, 1e-9) << b.id;
    EXPECT_NEAR(a.pitch_deg, b.pitch_deg, 1e-9) << b.id;
    EXPECT_NEAR(a.hfov_deg, b.hfov_deg, 1e-9) << b.id;
    EXPECT_NEAR(a.range, b.range, 1e-9) << b.id;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.at[k], b.at[k], 1e-9) << b.id;
  }
  ASSERT_TRUE(s.bounds && hand.bounds);
  EXPECT_EQ(s.bounds->pts, hand.bounds->pts);
  EXPECT_EQ(s.survey_points.size(), hand.survey_points.size());
  ASSERT_TRUE(s.origin.has_value());
  EXPECT_EQ(*s.origin, *hand.origin);
}

// --update: the drawing changed (tank farm wider, a tank gone, an anchor added); what was added to
// the site by hand (rules, calendar, a zone's authorisation and capacity, a camera's pitch) is kept,
// and the changes are listed.
TEST(ImportUpdate, KeepsHandAddedPartsAndSaysWhatChanged_PL04) {
  const fs::path dir = temp_dir("update");
  write(dir / "map.yaml", kPlantMap);
  const std::string map = (dir / "map.yaml").string(), site = (dir / "site.yaml").string();
  CliResult first = run_cli("import " + kData + "plant.dxf --map " + map + " --out " + site);
  ASSERT_EQ(first.rc, 0) << first.out;
  // hand edits: top-level rules and calendar; TF gets an authorisation and a capacity; ZONE-LOAD-1's
  // capacity (from the map) is changed by hand; a camera gets a pitch key (the import writes one:
  // the drawing's value wins)
  std::string text = read_file(site);
  auto insert_after = [&](const std::string& anchor, const std::string& add) {
    const std::size_t at = text.find(anchor);
    ASSERT_NE(at, std::string::npos) << anchor;
    text.insert(at + anchor.size(), add);
  };
  insert_after("polygon: [[100, 80], [180, 80], [180, 140], [100, 140]]\n",
               "    authorized: {roles: [operator, safety_officer]}\n    capacity: 6\n");
  text += "rules:\n  tag_offline_after: 45s\ncalendar: {holidays: [2026-10-01]}\n";
  write(site, text);
  Site edited;
  ASSERT_FALSE(load_site_file(site, edited));

  CliResult up = run_cli("import " + kData + "plant-v2.dxf --map " + map + " --update " + site);
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_NE(up.out.find("changed 变更: TF (polygon)"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("kept by hand 保留手工: TF (authorized, capacity)"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("gone 删除 (not in the drawing any more): TANK-1"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("new 新增: ANCHOR-5"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("kept by hand 保留手工 (top level): rules, calendar"), std::string::npos) << up.out;
  Site s;
  ASSERT_FALSE(load_site_file(site, s));
  const Zone* tf = zone(s, "TF");
  ASSERT_NE(tf, nullptr);
  EXPECT_DOUBLE_EQ(tf->polygon.area(), 85.0 * 60.0);  // the drawing's new outline
  EXPECT_EQ(tf->capacity, 6);                          // the hand's
  EXPECT_EQ(tf->authorized.roles, (std::vector<std::string>{"operator", "safety_officer"}));
  EXPECT_EQ(s.rules.tag_offline_after, 45 * kSecond);
  EXPECT_EQ(s.calendar.holidays.size(), 1u);
  EXPECT_EQ(s.obstacles.size(), 3u);
  EXPECT_EQ(s.anchors.size(), 6u);
  // updating again from the same drawing changes nothing and keeps everything
  CliResult again = run_cli("import " + kData + "plant-v2.dxf --map " + map + " --update " + site);
  ASSERT_EQ(again.rc, 0) << again.out;
  EXPECT_EQ(again.out.find("changed 变更"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("new 新增"), std::string::npos) << again.out;
  Site s2;
  ASSERT_FALSE(load_site_file(site, s2));
  EXPECT_EQ(zone(s2, "TF")->capacity, 6);
  // a broken site to update: exit 2 naming it
  write(dir / "broken.yaml", "zones: [\n");
  CliResult broken = run_cli("import " + kData + "plant.dxf --map " + map + " --update " + (dir / "broken.yaml").string());
  EXPECT_EQ(broken.rc, 2);
  EXPECT_NE(broken.out.find("broken.yaml:"), std::string::npos) << broken.out;
  fs::remove_all(dir);
}

// A first import of plant.dxf into a temporary folder, with a closed 2 x 2 x 3 m box beside it as
// a model file (12 triangles) for tests that add a 3D model by hand.
struct ModelSite {
  fs::path dir;
  std::string map, site;
  CliResult first;
  ModelSite(const std::string& name, const std::string& model) : dir(temp_dir(name)) {
    write(dir / "map.yaml", kPlantMap);
    map = (dir / "map.yaml").string();
    site = (dir / "site.yaml").string();
    first = run_cli("import " + kData + "plant.dxf --map " + map + " --out " + site);
    write(dir / model, "v 0 0 0\nv 2 0 0\nv 2 2 0\nv 0 2 0\nv 0 0 3\nv 2 0 3\nv 2 2 3\nv 0 2 3\n"
                         "f 1 3 2\nf 1 4 3\nf 5 6 7\nf 5 7 8\nf 1 2 6\nf 1 6 5\nf 2 3 7\nf 2 7 6\nf 3 4 8\nf 3 8 7\nf 4 1 5\nf 4 5 8\n");
  }
};

// Issue 15: a 3D model added by hand to an imported site (`mesh:`) is never in the drawing: an
// update keeps it whole, says so, and the site still loads with the model's triangles.
TEST(ImportUpdate, KeepsHandAdded3DModels_PL04) {
  const ModelSite ms("update-model", "unit.obj");
  ASSERT_EQ(ms.first.rc, 0) << ms.first.out;
  const fs::path& dir = ms.dir;
  const std::string &map = ms.map, &site = ms.site;
  std::string text = read_file(site);
  const std::size_t at = text.find("obstacles:\n");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 11, "  - {id: UNIT-1, mesh: unit.obj, up: z, material: steel, at: [10, 10, 0], yaw: 30}\n");
  write(site, text);
  Site edited;
  ASSERT_FALSE(load_site_file(site, edited));
  for (int round = 0; round < 2; ++round) {
    CliResult up = run_cli("import " + kData + "plant-v2.dxf --map " + map + " --update " + site);
    ASSERT_EQ(up.rc, 0) << up.out;
    EXPECT_NE(up.out.find("3D models 三维模型 UNIT-1"), std::string::npos) << up.out;
    EXPECT_EQ(up.out.find("UNIT-1, "), std::string::npos) << up.out;  // not listed as gone
    Site s;
    const auto err = load_site_file(site, s);
    ASSERT_FALSE(err) << err->to_string();
    const auto it = std::find_if(s.obstacles.begin(), s.obstacles.end(), [](const Obstacle& o) { return o.id == "UNIT-1"; });
    ASSERT_NE(it, s.obstacles.end());
    ASSERT_TRUE(it->mesh);
    EXPECT_EQ(it->mesh->triangles.size(), 12u);
    EXPECT_TRUE(it->mesh->closed);
    EXPECT_EQ(s.obstacles.size(), 4u);  // the drawing's three and the model
  }
  fs::remove_all(dir);
}

// PL-04: a 3D model put by hand in place of a drawn obstacle, with its id (TK-101, the drawing's
// tank): an update keeps the model whole where it was, writes the drawn tank no more (one obstacle
// per id; before, the drawing's keys were merged into the model's and the site did not load), and
// says so; a second update changes nothing.
TEST(ImportUpdate, AModelByHandWithADrawnObstaclesIdStays_PL04) {
  const ModelSite ms("update-model-same-id", "tank.obj");
  ASSERT_EQ(ms.first.rc, 0) << ms.first.out;
  const fs::path& dir = ms.dir;
  const std::string &map = ms.map, &site = ms.site;
  std::string text = read_file(site);
  const std::size_t from = text.find("  - {id: TK-101, shape: cylinder");
  ASSERT_NE(from, std::string::npos) << text;
  const std::size_t to = text.find('\n', from);
  text.replace(from, to - from, "  - {id: TK-101, mesh: tank.obj, up: z, material: steel, at: [120, 110, 0], scale: 4}");
  write(site, text);
  Site edited;
  ASSERT_FALSE(load_site_file(site, edited));
  for (int round = 0; round < 2; ++round) {
    CliResult up = run_cli("import " + kData + "plant-v2.dxf --map " + map + " --update " + site);
    ASSERT_EQ(up.rc, 0) << up.out;
    EXPECT_NE(up.out.find("3D models 三维模型 TK-101"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("drawn but not written 图纸中有但未写入 (a 3D model by hand has the id 手工三维模型同ID): TK-101"),
              std::string::npos) << up.out;
    EXPECT_NE(up.out.find("obstacles 障碍物 2,"), std::string::npos) << up.out;  // the racks: the tank is the model
    Site s;
    const auto err = load_site_file(site, s);
    ASSERT_FALSE(err) << err->to_string();
    ASSERT_EQ(std::count_if(s.obstacles.begin(), s.obstacles.end(), [](const Obstacle& o) { return o.id == "TK-101"; }), 1);
    const auto it = std::find_if(s.obstacles.begin(), s.obstacles.end(), [](const Obstacle& o) { return o.id == "TK-101"; });
    ASSERT_TRUE(it->mesh);
    EXPECT_EQ(it->mesh->triangles.size(), 12u);
    EXPECT_EQ(s.obstacles.size(), 3u);  // the model and the drawing's two racks
  }
  // a key added by hand that the site refuses: exit 2, the update's message names the hand's part
  // and says nothing was written; the file is as it was
  text = read_file(site);
  const std::size_t tf = text.find("  - id: TF");
  ASSERT_NE(tf, std::string::npos) << text;
  text.insert(text.find('\n', tf) + 1, "    capacity: -3\n");
  write(site, text);
  CliResult bad = run_cli("import " + kData + "plant-v2.dxf --map " + map + " --update " + site);
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("holds by hand does not load"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find(site + " not written 未写入: " + site + ":"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("capacity"), std::string::npos) << bad.out;
  EXPECT_EQ(read_file(site), text);
  fs::remove_all(dir);
}

// H-05, PL-14: control points tie the drawing to CGCS2000. The surveyed places are made with the
// uplink's own conversion (hardware-in-loop/uplink, PROJ) from a known origin and rotation; the fit
// gives both back, and the residual names a point surveyed 0.5 m off.
TEST(ImportControlPoints, RotationAndOriginFromSurveyedPoints_H05) {
  Site truth;
  truth.origin = std::array<double, 3>{36.7951, 118.0642, 45.0};
  const LocalToCgcs2000 geo(truth);
  ASSERT_TRUE(geo.valid());
  const double rot = 12.5 * M_PI / 180, ox = 125000, oy = 48000;  // drawing mm
  auto surveyed = [&](double dx, double dy, double east_error_m) {
    const double x = 0.001 * (dx - ox), y = 0.001 * (dy - oy);
    double lon, lat;
    geo.convert(std::cos(rot) * x - std::sin(rot) * y + east_error_m, std::sin(rot) * x + std::cos(rot) * y, lon, lat);
    char b[200];
    std::snprintf(b, sizeof b, "  - {drawing: [%.3f, %.3f], lonlat: [%.10f, %.10f]}\n", dx, dy, lon, lat);
    return std::string(b);
  };
  const std::string head = "units: mm\norigin: [125000, 48000]\naltitude: 45\ncontrol_points:\n";
  const std::string pts = surveyed(125000, 48000, 0) + surveyed(525000, 48000, 0) + surveyed(525000, 348000, 0) + surveyed(125000, 348000, 0);
  ImportMap map;
  ASSERT_FALSE(load_import_map_text(head + pts + "layers: {Z: {as: zone}}\n", "cp.yaml", map));
  std::string report, error;
  ASSERT_TRUE(apply_control_points(map, 0.001, report, error)) << error;
  EXPECT_NEAR(map.rotation_deg, 12.5, 1e-6);
  auto origin = std::find_if(map.site.begin(), map.site.end(), [](const auto& kv) { return kv.first == "origin"; });
  ASSERT_NE(origin, map.site.end());
  EXPECT_EQ(origin->second, "{lat: 36.795100000, lon: 118.064200000, alt: 45.000}");
  EXPECT_NE(report.find("rms 0.000 m, max 0.000 m"), std::string::npos) << report;
  // one point surveyed 0.5 m east of where it is: the largest residual, and named
  ImportMap off;
  const std::string bad = surveyed(125000, 48000, 0) + surveyed(525000, 48000, 0) + surveyed(525000, 348000, 0.5) + surveyed(125000, 348000, 0);
  ASSERT_FALSE(load_import_map_text(head + bad + "layers: {Z: {as: zone}}\n", "cp.yaml", off));
  ASSERT_TRUE(apply_control_points(off, 0.001, report, error)) << error;
  EXPECT_NE(report.find("control_points[2] (cp.yaml:7): "), std::string::npos) << report;
  const std::size_t at = report.find("control_points[2]");
  EXPECT_NE(report.find("<- largest", at), std::string::npos) << report;
  EXPECT_GT(std::stod(report.substr(report.find("rms ") + 4)), 0.1) << report;
  // one point gives no rotation; GK points need their central meridian
  ImportMap one;
  ASSERT_FALSE(load_import_map_text(head + surveyed(125000, 48000, 0) + "layers: {Z: {as: zone}}\n", "cp.yaml", one));
  EXPECT_FALSE(apply_control_points(one, 0.001, report, error));
  EXPECT_NE(error.find("at least 2 control points"), std::string::npos) << error;
  auto e = load_import_map_text("control_points:\n  - {drawing: [0, 0], gk: [3433935, 40585366]}\nlayers: {Z: {as: zone}}\n", "g.yaml", one);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "control_points[0].gk");
}

// Gauss–Krüger (3° zone 40, central meridian 120°E) as the GDAL drawing's coordinates: the zone
// number in front of y is removed; 85.4 km east of 120°E at 31°N is about 120.895°E.
TEST(ImportControlPoints, GaussKrugerZonePrefix_H05) {
  double lon = 0, lat = 0;
  std::string error;
  ASSERT_TRUE(gauss_kruger_to_lonlat(3433935.538, 40585366.707, 120, lon, lat, error)) << error;
  EXPECT_NEAR(lon, 120.895, 0.01);
  EXPECT_NEAR(lat, 31.02, 0.05);
  double lon2 = 0, lat2 = 0;
  ASSERT_TRUE(gauss_kruger_to_lonlat(3433935.538, 585366.707, 120, lon2, lat2, error));
  EXPECT_NEAR(lon, lon2, 1e-9);  // y mod 1e6 rounds in the last bits
  EXPECT_NEAR(lat, lat2, 1e-9);
}
