// Drawing import benchmarks (issue 15; docs/import.md "Speed").
//
//   BM_ImportDrawing/N   `planttwin import` without the file write: GDAL reads a generated DXF of N
//                        entities (ASCII, mm), the importer makes the site and the site loader
//                        checks it. The drawing: N/10 zones (closed polylines, one bulge each) with
//                        a text each, N/5 tanks (circles), N/5 racks (rectangles), N/10 anchors
//                        (points), N/20 cameras (inserts), the rest lines on an unmapped layer.
//   BM_ReadDrawingOnly/N baseline: read_drawing() alone (GDAL's DXF driver and the header scan),
//                        the floor under the import.
//   BM_ImportDemoPlant   scenarios/sites/demo-plant.dxf (338 entities) with its map.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "import/drawing.h"
#include "import/import_map.h"
#include "import/site_import.h"
#include "scenarios/loader.h"

using namespace planttwin;
namespace fs = std::filesystem;

namespace {

const char* kMap = R"(units: mm
site: {site: bench-plant}
layers:
  ZONE: {as: zone, kind: storage, risk: yellow}
  TANK: {as: obstacle, shape: cylinder, height: 15}
  RACK: {as: obstacle, shape: box, base: 5, height: 4}
  ANCHOR: {as: anchor, z: 7}
  CAMERA: {as: camera, z: 8}
)";

// a drawing of n entities laid out on a grid of 50 m cells, one zone per cell
std::string make_drawing(int n) {
  const fs::path p = fs::temp_directory_path() / ("planttwin-bench-import-" + std::to_string(n) + "-" + std::to_string(::getpid()) + ".dxf");
  if (fs::exists(p)) return p.string();
  std::ostringstream o;
  int handle = 0x100;
  auto h = [&] {
    char b[16];
    std::snprintf(b, sizeof b, "%X", handle++);
    return std::string(b);
  };
  o << "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n";
  o << "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n5\n" << h() << "\n8\n0\n2\nCAM\n70\n0\n10\n0\n20\n0\n30\n0\n3\nCAM\n";
  o << "0\nCIRCLE\n5\n" << h() << "\n8\n0\n10\n0\n20\n0\n30\n0\n40\n300\n0\nENDBLK\n5\n" << h() << "\n8\n0\n0\nENDSEC\n";
  o << "0\nSECTION\n2\nENTITIES\n";
  const int zones = n / 10, tanks = n / 5, racks = n / 5, anchors = n / 10, cameras = n / 20;
  const int lines = n - 2 * zones - tanks - racks - anchors - cameras;
  const int cols = 100;
  auto cell = [&](int i, double& x, double& y) {
    x = (i % cols) * 50000.0;
    y = (i / cols) * 50000.0;
  };
  double x, y;
  for (int i = 0; i < zones; ++i) {
    cell(i, x, y);
    o << "0\nLWPOLYLINE\n5\n" << h() << "\n100\nAcDbEntity\n8\nZONE\n100\nAcDbPolyline\n90\n4\n70\n1\n";
    o << "10\n" << x + 1000 << "\n20\n" << y + 1000 << "\n";
    o << "10\n" << x + 40000 << "\n20\n" << y + 1000 << "\n42\n0.3\n";
    o << "10\n" << x + 40000 << "\n20\n" << y + 40000 << "\n";
    o << "10\n" << x + 1000 << "\n20\n" << y + 40000 << "\n";
    o << "0\nTEXT\n5\n" << h() << "\n100\nAcDbEntity\n8\nZONE\n100\nAcDbText\n10\n" << x + 2000 << "\n20\n" << y + 2000 << "\n30\n0\n40\n500\n1\nZ" << i << "\n";
  }
  for (int i = 0; i < tanks; ++i) {
    cell(i / 2, x, y);
    o << "0\nCIRCLE\n5\n" << h() << "\n100\nAcDbEntity\n8\nTANK\n100\nAcDbCircle\n10\n" << x + 10000 + (i % 2) * 15000 << "\n20\n" << y + 10000
      << "\n30\n0\n40\n5000\n";
  }
  for (int i = 0; i < racks; ++i) {
    cell(i / 2, x, y);
    const double y0 = y + 25000 + (i % 2) * 6000;
    o << "0\nLWPOLYLINE\n5\n" << h() << "\n100\nAcDbEntity\n8\nRACK\n100\nAcDbPolyline\n90\n4\n70\n1\n";
    o << "10\n" << x + 5000 << "\n20\n" << y0 << "\n10\n" << x + 35000 << "\n20\n" << y0 << "\n10\n" << x + 35000 << "\n20\n" << y0 + 3000
      << "\n10\n" << x + 5000 << "\n20\n" << y0 + 3000 << "\n";
  }
  for (int i = 0; i < anchors; ++i) {
    cell(i, x, y);
    o << "0\nPOINT\n5\n" << h() << "\n100\nAcDbEntity\n8\nANCHOR\n100\nAcDbPoint\n10\n" << x + 45000 << "\n20\n" << y + 45000 << "\n30\n0\n";
  }
  for (int i = 0; i < cameras; ++i) {
    cell(i, x, y);
    o << "0\nINSERT\n5\n" << h() << "\n100\nAcDbEntity\n8\nCAMERA\n100\nAcDbBlockReference\n2\nCAM\n10\n" << x + 45000 << "\n20\n" << y + 5000
      << "\n30\n0\n50\n" << (i * 37) % 360 << "\n";
  }
  for (int i = 0; i < lines; ++i) {
    cell(i, x, y);
    o << "0\nLINE\n5\n" << h() << "\n100\nAcDbEntity\n8\nROAD\n100\nAcDbLine\n10\n" << x << "\n20\n" << y + 48000 << "\n30\n0\n11\n" << x + 50000
      << "\n21\n" << y + 48000 << "\n31\n0\n";
  }
  o << "0\nENDSEC\n0\nEOF\n";
  std::ofstream(p, std::ios::binary) << o.str();
  return p.string();
}

const ImportMap& bench_map() {
  static const ImportMap m = [] {
    ImportMap map;
    if (auto e = load_import_map_text(kMap, "bench-map.yaml", map)) throw std::runtime_error(e->to_string());
    return map;
  }();
  return m;
}

// the import as the command runs it, without writing the file
void import_once(const std::string& drawing, const ImportMap& map, ImportResult& r, benchmark::State& state) {
  dxf::ReadOptions ro;
  ro.arc_tolerance_m = map.arc_tolerance;
  ro.unit_m = map.unit_m;
  dxf::Drawing d;
  std::string err;
  if (!dxf::read_drawing(drawing, ro, d, err)) return state.SkipWithError(err.c_str());
  if (!import_site(d, map, r)) return state.SkipWithError(r.error.c_str());
  Site site;
  if (auto e = load_site_text(r.site_yaml, "bench.yaml", site)) return state.SkipWithError(e->to_string().c_str());
}

void BM_ImportDrawing(benchmark::State& state) {
  const std::string drawing = make_drawing(static_cast<int>(state.range(0)));
  ImportResult r;
  for (auto _ : state) {
    import_once(drawing, bench_map(), r, state);
    benchmark::DoNotOptimize(r.site_yaml.data());
  }
  state.counters["zones"] = r.made["zones"];
  state.counters["obstacles"] = r.made["obstacles"];
  state.counters["entities"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ImportDrawing)->Arg(2000)->Arg(20000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ReadDrawingOnly(benchmark::State& state) {
  const std::string drawing = make_drawing(static_cast<int>(state.range(0)));
  dxf::ReadOptions ro;
  ro.unit_m = 0.001;
  std::size_t count = 0;
  for (auto _ : state) {
    dxf::Drawing d;
    std::string err;
    if (!dxf::read_drawing(drawing, ro, d, err)) return state.SkipWithError(err.c_str());
    count = d.entities.size();
  }
  state.counters["entities_read"] = static_cast<double>(count);
}
BENCHMARK(BM_ReadDrawingOnly)->Arg(20000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ImportDemoPlant(benchmark::State& state) {
  const std::string dir = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/";
  ImportMap map;
  if (auto e = load_import_map(dir + "demo-plant.map.yaml", map)) return state.SkipWithError(e->to_string().c_str());
  ImportResult r;
  for (auto _ : state) import_once(dir + "demo-plant.dxf", map, r, state);
}
BENCHMARK(BM_ImportDemoPlant)->Unit(benchmark::kMillisecond);

}  // namespace
