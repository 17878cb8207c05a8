// fuzz_dxf: plant drawings and their import maps (docs/import.md), as `planttwin import` reads them.
// Input: first byte 'M' -> the rest is an import map (YAML) checked against the demo drawing;
// anything else -> the whole input is a DXF drawing imported with the demo plant's map.
// read_drawing, load_import_map_text, apply_control_points and import_site must refuse with a
// message, never throw or crash; an import that succeeds must give site text that the site loader
// either takes or refuses with "file:line" (the command then says so, exit 2).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "import/drawing.h"
#include "import/import_map.h"
#include "import/site_import.h"
#include "scenarios/loader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace planttwin;

const char* kMap = PLANTTWIN_SOURCE_DIR "/scenarios/sites/demo-plant.map.yaml";
const char* kDrawing = PLANTTWIN_SOURCE_DIR "/scenarios/sites/demo-plant.dxf";

const ImportMap& demo_map() {
  static ImportMap* m = [] {
    auto* x = new ImportMap;
    if (auto err = load_import_map(kMap, *x)) {
      std::fprintf(stderr, "fuzz: %s\n", err->to_string().c_str());
      std::abort();
    }
    return x;
  }();
  return *m;
}

const dxf::Drawing& demo_drawing() {
  static dxf::Drawing* d = [] {
    auto* x = new dxf::Drawing;
    dxf::ReadOptions ro;
    ro.unit_m = demo_map().unit_m;
    std::string error;
    if (!dxf::read_drawing(kDrawing, ro, *x, error)) {
      std::fprintf(stderr, "fuzz: %s\n", error.c_str());
      std::abort();
    }
    return x;
  }();
  return *d;
}

// One file per process, rewritten for every input: GDAL opens drawings by path.
const std::string& scratch() {
  static std::string* p = [] {
    const char* dir = std::getenv("TMPDIR");
    return new std::string(std::string(dir && *dir ? dir : "/tmp") + "/fuzz_dxf." + std::to_string(::getpid()) + ".dxf");
  }();
  return *p;
}

void import_and_check(const dxf::Drawing& drawing, ImportMap map) {
  std::string report, error;
  if (!apply_control_points(map, drawing.unit_m, report, error)) {
    if (error.empty()) fuzz::broken("control points refused without a message");
    return;
  }
  ImportResult r;
  if (!import_site(drawing, map, r)) {
    if (r.error.empty()) fuzz::broken("import refused without a message");
    return;
  }
  Site site;
  if (auto err = load_site_text(r.site_yaml, "imported.yaml", site))
    if (err->to_string().empty()) fuzz::broken("the site loader refused the imported site without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && in[0] == 'M') {
    ImportMap map;
    if (auto err = load_import_map_text(in.substr(1), "fuzz.map.yaml", map)) {
      if (err->to_string().empty()) fuzz::broken("map refused without a message");
      return 0;
    }
    import_and_check(demo_drawing(), map);
    return 0;
  }
  if (std::FILE* f = std::fopen(scratch().c_str(), "wb")) {
    std::fwrite(in.data(), 1, in.size(), f);
    std::fclose(f);
  } else {
    fuzz::broken("cannot write the scratch drawing");
  }
  const ImportMap& map = demo_map();
  dxf::ReadOptions ro;
  ro.arc_tolerance_m = map.arc_tolerance;
  ro.unit_m = map.unit_m;
  dxf::Drawing drawing;
  std::string error;
  // as `planttwin import` reads: with a time limit (GDAL's DXF reader loops on some damaged files)
  if (!dxf::read_drawing_within(scratch(), ro, 5, drawing, error)) {
    if (error.empty()) fuzz::broken("a drawing refused without a message");
    return 0;
  }
  import_and_check(drawing, map);
  return 0;
}
