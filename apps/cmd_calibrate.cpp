// `planttwin calibrate SCENARIO --out OFFSETS.yaml [--report DIR] [--min-ranges N] [--validate
// SCENARIO]...` (issue 19; docs/recorded.md "Calibration"): a constant range offset per anchor
// (and per tag, with several tags) from a recorded scenario's range log and truth log, written as a
// file the site names under `range_offsets`; the scenario run as it is and with the offsets, and
// each --validate scenario (another log with the same anchors) the same way: accuracy and residual
// bias per anchor before and after, printed and written to DIR/calibration.{json,md}.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "scenarios/calibrate.h"
#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "sim/radio/positioning.h"
#include "sim/radio/radio.h"

namespace planttwin::cli {

namespace {

namespace fs = std::filesystem;

bool load(const std::string& path, Scenario& sc) {
  if (auto err = load_scenario_file(path, sc)) {
    std::cerr << err->to_string() << "\n";
    return false;
  }
  if (sc.positioning.mode != Positioning::Mode::recorded || sc.recorded.truth.empty() || sc.recorded.ranges.empty()) {
    std::cerr << path
              << ": calibrate needs a scenario with positioning: recorded, a TWR range log (recorded.ranges) and a truth log "
                 "(recorded.truth); this one has "
              << (sc.positioning.mode != Positioning::Mode::recorded ? std::string("no recorded logs")
                  : sc.recorded.truth.empty()                      ? std::string("no truth log")
                                                                   : std::string("no TWR range log (TDoA is not calibrated)"))
              << ". Calibration from marks at survey points in a live recording is not supported yet (docs/recorded.md)\n";
    return false;
  }
  return true;
}

// the path of `target` as the site file names it: relative to the folder of the file holding the site
std::string relative_to_site(const Scenario& sc, const std::string& target) {
  const fs::path holder = sc.site.file.empty() ? fs::path(sc.file) : fs::path(sc.site.file);
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::absolute(holder, ec).parent_path(), ec);
  const fs::path t = fs::weakly_canonical(fs::absolute(target, ec), ec);
  fs::path rel = t.lexically_relative(base);
  // outside the site's folder: the absolute path reads better (the loader takes either)
  if (rel.empty() || *rel.begin() == "..") rel = t;
  return rel.generic_string();
}

std::string figures(const RunResult& r) {
  if (!r.accuracy) return "no accuracy (no fix with truth)";
  char b[256];
  std::snprintf(b, sizeof b, "median %.3f  RMSE %.3f  CDF68 %.3f  p95 %.3f  max %.3f m  (fix share %.1f %%)", r.accuracy->median,
                r.accuracy->rmse, r.accuracy->cdf68, r.accuracy->p95, r.accuracy->max,
                r.recorded ? 100 * r.recorded->fix_share() : 0.0);
  return b;
}

// the height the solver gives a tag of `person` when it solves in 2D: floor surface + default height
double solver_tag_height(const Scenario& sc, const std::string& floor) {
  const double h = solver_params(radio_defaults(sc.site)).default_height_m;
  const Floor* f = sc.site.find_floor(floor);
  if (!f) return h;
  return (f->z0 >= 0 ? f->z0 : (f->z1 > 0 ? 0 : f->z0)) + h;
}

int calibrate(const std::string& path, const std::string& out, const std::string& report_dir, std::uint64_t min_ranges,
              const std::vector<std::string>& validate, const std::string& tag_height) {
  Scenario sc;
  if (!load(path, sc)) return kExitBadInput;
  std::vector<Scenario> others(validate.size());
  for (std::size_t i = 0; i < validate.size(); ++i)
    if (!load(validate[i], others[i])) return kExitBadInput;

  RecordedLog log;
  std::string error;
  if (!read_recorded_log(sc, log, error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  if (log.bad_rows) std::cerr << path << ": " << log.bad_rows << " bad log rows skipped (see `planttwin run` for each)\n";
  CalibrationReport rep;
  rep.scenario = sc.name;
  rep.file = sc.file;
  rep.options.min_ranges = min_ranges;
  std::vector<std::string> anchor_ids;
  for (const Anchor& a : sc.site.anchors) anchor_ids.push_back(a.id);
  if (!tag_height.empty()) {
    double h = 0;
    std::size_t used = 0;
    try {
      h = std::stod(tag_height, &used);
    } catch (...) {
      used = 0;
    }
    if (used != tag_height.size() || !std::isfinite(h)) {
      std::cerr << "--tag-height: '" << tag_height << "' is not a height in metres\n";
      return kExitBadInput;
    }
    rep.tag_height = h;
  }
  {
    std::vector<double> z;
    for (const auto& [tag, samples] : log.truth)
      for (const TruthSample& t : samples) z.push_back(t.z);
    std::sort(z.begin(), z.end());
    rep.truth_z_median = z.empty() ? 0 : z[z.size() / 2];
    const double solver_z = solver_tag_height(sc, sc.people.empty() ? "1" : sc.people.front().floor);
    if (!rep.tag_height && std::abs(rep.truth_z_median - solver_z) > 0.3)
      std::fprintf(stderr,
                   "%s: note: the truth log's heights (median z %.2f m) differ from the height the solver gives the tag in 2D "
                   "(%.2f m): offsets fitted at the truth's z suit a tag at that height, not the one the solver assumes, and the "
                   "fixes may get worse. If the truth's z is not the tag's (an RTK antenna, a ground-referenced frame), give "
                   "--tag-height (e.g. %.2f)\n",
                   path.c_str(), rep.truth_z_median, solver_z, solver_z);
  }
  const std::vector<RangeResidual> res = range_residuals(sc, log, rep.tag_height);
  if (res.empty()) {
    std::cerr << path << ": no range falls within the truth log's time span: nothing to calibrate from\n";
    return kExitBadInput;
  }
  rep.fit = fit_range_offsets(anchor_ids, log.tags, res, rep.options);
  const RangeOffsets offsets = rep.fit.offsets();
  for (const OffsetEstimate& e : rep.fit.anchors)
    if (!e.estimated) std::cerr << path << ": anchor " << e.id << ": no offset: " << e.why << "\n";
  for (const OffsetEstimate& e : rep.fit.tags)
    if (!e.estimated) std::cerr << path << ": tag " << e.id << ": no offset: " << e.why << "\n";
  if (offsets.anchors.empty()) {
    std::cerr << path << ": no anchor has enough ranges with truth (at least " << min_ranges << ", --min-ranges): no offsets written\n";
    return kExitBadInput;
  }
  rep.offsets_file = out;
  rep.site_line = "range_offsets: " + relative_to_site(sc, out);
  if (!sc.site.range_offsets.empty())
    std::cerr << path << ": the site already has range_offsets" << (sc.site.range_offsets.file.empty() ? "" : " (" + sc.site.range_offsets.file + ")")
              << "; the new ones are estimated from the raw ranges and replace them\n";

  // before and after: the walk of the fit, then the validations
  rep.checks.resize(1 + others.size());
  rep.checks[0].fit = true;
  if (!check_offsets(sc, offsets, rep.checks[0], error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  for (std::size_t i = 0; i < others.size(); ++i)
    if (!check_offsets(others[i], offsets, rep.checks[1 + i], error)) {
      std::cerr << error << "\n";
      return kExitBadInput;
    }

  if (!write_text_file(out, offsets_yaml(rep), error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  if (!report_dir.empty()) {
    if (!write_text_file((fs::path(report_dir) / "calibration.json").string(), calibration_json(rep).dump(2) + "\n", error) ||
        !write_text_file((fs::path(report_dir) / "calibration.md").string(), calibration_markdown(rep), error)) {
      std::cerr << error << "\n";
      return kExitBadInput;
    }
  }

  std::cout << "Calibrated " << sc.name << " from " << rep.fit.ranges_used << " ranges with truth"
            << (rep.fit.tags_separable ? " (several tags: anchor and tag offsets, tags at zero mean)"
                                       : " (one tag: its offset is folded into the anchors')")
            << "\n";
  char b[256];
  auto print = [&](const char* what, const OffsetEstimate& e) {
    if (e.estimated)
      std::snprintf(b, sizeof b, "  %-6s %-8s offset %+.4f m  ranges %llu (used %llu)  spread %.3f m\n", what, e.id.c_str(), e.offset,
                    static_cast<unsigned long long>(e.n), static_cast<unsigned long long>(e.used), e.spread);
    else
      std::snprintf(b, sizeof b, "  %-6s %-8s refused: %s\n", what, e.id.c_str(), e.why.c_str());
    std::cout << b;
  };
  for (const OffsetEstimate& e : rep.fit.anchors) print("anchor", e);
  if (rep.fit.tags_separable)
    for (const OffsetEstimate& e : rep.fit.tags) print("tag", e);
  for (const CalibrationCheck& c : rep.checks) {
    std::cout << (c.fit ? "Fit walk " : "Validation ") << c.scenario << " (horizontal error)\n";
    std::cout << "  before: " << figures(c.before) << "\n  after:  " << figures(c.after) << "\n";
    if (c.before.recorded && c.after.recorded)
      for (std::size_t k = 0; k < c.before.recorded->anchors.size() && k < c.after.recorded->anchors.size(); ++k) {
        const AnchorResidual& x = c.before.recorded->anchors[k];
        const AnchorResidual& y = c.after.recorded->anchors[k];
        std::snprintf(b, sizeof b, "  residual %-8s median %+.3f -> %+.3f m, mean %+.3f -> %+.3f m\n", x.anchor.c_str(), x.median, y.median,
                      x.bias, y.bias);
        std::cout << b;
      }
    for (const std::string& id : c.unused) std::cout << "  (anchor " << id << " is not in this site: its offset is not used)\n";
  }
  std::cout << "Wrote " << out << "; add to the site file " << (sc.site.file.empty() ? sc.file : sc.site.file) << ":\n  "
            << rep.site_line << "\n";
  if (!report_dir.empty()) std::cout << "Report: " << (fs::path(report_dir) / "calibration.md").string() << "\n";
  return kExitPass;
}

}  // namespace

std::vector<Subcommand> add_calibrate_commands(CLI::App& app) {
  struct Args {
    std::string scenario, out, report;
    std::uint64_t min_ranges = 50;
    std::vector<std::string> validate;
    std::string tag_height;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = app.add_subcommand(
      "calibrate", "Estimate constant range offsets per anchor (and tag) from a recorded scenario's truth (exit 0, 2 bad input)");
  c->add_option("scenario", a->scenario, "A positioning: recorded scenario with ranges and truth")->required();
  c->add_option("--out", a->out, "The offsets file to write (YAML; the site names it under range_offsets)")->required();
  c->add_option("--report", a->report, "Folder for calibration.json and calibration.md");
  c->add_option("--min-ranges", a->min_ranges, "Fewest ranges with truth for an anchor or tag to get an offset")->capture_default_str();
  c->add_option("--validate", a->validate, "Another recorded scenario with the same anchors: run before and after with these offsets");
  c->add_option("--tag-height", a->tag_height,
                "Compute the residuals with the tag at this height (site frame, metres) instead of the truth's z");
  return {{c, [a] { return calibrate(a->scenario, a->out, a->report, a->min_ranges, a->validate, a->tag_height); }}};
}

}  // namespace planttwin::cli
