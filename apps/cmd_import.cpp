// planttwin import DRAWING.dxf --map MAP.yaml --out SITE.yaml: the plant's layout drawing to a
// site file (docs/import.md). Exit 0 made, 2 bad input (the drawing, the map, or a site the site
// loader refuses).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "import/drawing.h"
#include "import/import_map.h"
#include "import/site_import.h"
#include "scenarios/loader.h"

namespace fs = std::filesystem;

namespace planttwin::cli {

namespace {

struct ImportArgs {
  std::string drawing, map, out;
};

int run_import(const ImportArgs& a) {
  ImportMap map;
  if (auto err = load_import_map(a.map, map)) {
    std::cerr << err->to_string() << "\n";
    return kExitBadInput;
  }
  dxf::ReadOptions ro;
  ro.arc_tolerance_m = map.arc_tolerance;
  ro.unit_m = map.unit_m;
  ro.encoding = map.encoding;
  dxf::Drawing drawing;
  std::string error;
  if (!dxf::read_drawing(a.drawing, ro, drawing, error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  ImportResult result;
  if (!import_site(drawing, map, result)) {
    std::cerr << a.drawing << ": " << result.error << "\n";
    return kExitBadInput;
  }
  // the file must load as it is: check it with the site loader before writing it
  Site site;
  if (auto err = load_site_text(result.site_yaml, a.out, site)) {
    std::cerr << "the site made from " << a.drawing << " does not load (check the map's values): " << err->to_string() << "\n";
    return kExitBadInput;
  }
  std::error_code ec;
  if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path(), ec);
  std::ofstream o(a.out, std::ios::binary);
  o << result.site_yaml;
  o.close();
  if (!o) {
    std::cerr << a.out << ": cannot write the site file\n";
    return kExitBadInput;
  }
  std::cout << "wrote 写入 " << a.out << "\n" << import_summary(result);
  return kExitPass;
}

}  // namespace

std::vector<Subcommand> add_import_commands(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* c = app.add_subcommand("import", "Make a site file from the plant's layout drawing (DXF) and a layer map; exit 0 made, 2 bad input");
  c->add_option("drawing", args->drawing, "The layout drawing, DXF (ASCII or binary)")->required();
  c->add_option("--map", args->map, "What each layer means, units, origin, site block (docs/import.md)")->required();
  c->add_option("--out", args->out, "The site file to write")->required();
  return {{c, [args] { return run_import(*args); }}};
}

}  // namespace planttwin::cli
