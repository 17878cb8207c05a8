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
  std::string drawing, map, out, update;
  double read_timeout_s = 120;  // --read-timeout: a damaged drawing can make GDAL loop
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
  if (!dxf::read_drawing_within(a.drawing, ro, a.read_timeout_s, drawing, error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  std::string geo_report;
  if (!apply_control_points(map, drawing.unit_m, geo_report, error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  ImportResult result;
  std::string changes;
  const bool ok = a.update.empty() ? import_site(drawing, map, result) : update_site(drawing, map, a.update, result, changes, error);
  if (!ok) {
    if (!error.empty()) std::cerr << error << "\n";
    else std::cerr << a.drawing << ": " << result.error << "\n";
    return kExitBadInput;
  }
  const std::string out_path = a.out.empty() ? a.update : a.out;
  // the file must load as it is: check it with the site loader before writing it
  Site site;
  if (auto err = load_site_text(result.site_yaml, out_path, site)) {
    // nothing is written: the line named is the made site's, as it would have been written
    if (a.update.empty())
      std::cerr << "the site made from " << a.drawing << " does not load (check the map's values), " << out_path
                << " not written 未写入: " << err->to_string() << "\n";
    else
      std::cerr << "the site made from " << a.drawing << " with what " << a.update
                << " holds by hand does not load (check the map's values and the hand-added keys), " << out_path
                << " not written 未写入: " << err->to_string() << "\n";
    return kExitBadInput;
  }
  std::error_code ec;
  if (fs::path(out_path).has_parent_path()) fs::create_directories(fs::path(out_path).parent_path(), ec);
  std::ofstream o(out_path, std::ios::binary);
  o << result.site_yaml;
  o.close();
  if (!o) {
    std::cerr << out_path << ": cannot write the site file\n";
    return kExitBadInput;
  }
  std::cout << "wrote 写入 " << out_path << "\n" << import_summary(result) << geo_report;
  if (!a.update.empty()) std::cout << "changes since 相对 " << a.update << ":\n" << changes;
  return kExitPass;
}

}  // namespace

std::vector<Subcommand> add_import_commands(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* c = app.add_subcommand("import", "Make a site file from the plant's layout drawing (DXF) and a layer map; exit 0 made, 2 bad input");
  c->add_option("drawing", args->drawing, "The layout drawing, DXF (ASCII or binary)")->required();
  c->add_option("--map", args->map, "What each layer means, units, origin, site block (docs/import.md)")->required();
  c->add_option("--out", args->out, "The site file to write (with --update: default the updated file itself)");
  c->add_option("--read-timeout", args->read_timeout_s, "Seconds to read the drawing before it is refused as damaged (GDAL loops on some damaged DXF files)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  c->add_option("--update", args->update, "Re-import into this site file: keep what was added by hand (rules, schedules, authorisations...) and say what changed");
  return {{c, [args] {
             if (args->out.empty() && args->update.empty()) {
               std::cerr << "planttwin import: give --out SITE.yaml, or --update SITE.yaml\n";
               return kExitBadInput;
             }
             return run_import(*args);
           }}};
}

}  // namespace planttwin::cli
