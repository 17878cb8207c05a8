// planttwin check SITE_OR_SCENARIO: anchor coverage of the high-risk zones (PL-08) and camera
// coverage of zones and permit work areas (SO-08). docs/check.md describes the output.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/commands.h"
#include "scenarios/loader.h"
#include "scenarios/mesh_cache.h"
#include "sim/plant/coverage.h"
#include "sim/radio/first_path.h"
#include "sim/radio/radio.h"

namespace fs = std::filesystem;

namespace planttwin::cli {

namespace {

struct CheckArgs {
  std::string file, report_dir;
  std::string model_cache;  // "" = the default folder (default_model_cache())
  bool no_model_cache = false;
  std::size_t cache_min_triangles = 20'000;  // models and plants at least this big are cached
  std::uint64_t cache_max_mb = 1024;         // the folder's bound
  double cell = 1, link_range = 50, min_share = 0.95;
  int min_anchors = 4, threads = 1;
  std::string links = "los";  // which anchors count for a fix: "los" or "radio" (heard)
};

// terminal columns of UTF-8 text: CJK and full-width forms take two
int display_width(const std::string& s) {
  int w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    unsigned cp = c;
    int len = 1;
    if (c >= 0xf0) len = 4, cp = c & 0x07u;
    else if (c >= 0xe0) len = 3, cp = c & 0x0fu;
    else if (c >= 0xc0) len = 2, cp = c & 0x1fu;
    for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3fu);
    i += static_cast<std::size_t>(len);
    w += (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
                           (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                           (cp >= 0xffe0 && cp <= 0xffe6)))
             ? 2
             : 1;
  }
  return w;
}

std::string pad(const std::string& s, int width) { return s + std::string(static_cast<std::size_t>(std::max(0, width - display_width(s))), ' '); }

void print_table(std::ostream& o, const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> w(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    w[c] = display_width(head[c]);
    for (const auto& r : rows) w[c] = std::max(w[c], display_width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (std::size_t c = 0; c < r.size(); ++c) s += (c ? "  " : "") + (c + 1 < r.size() ? pad(r[c], w[c]) : r[c]);
    o << s << "\n";
  };
  line(head);
  std::vector<std::string> rule;
  for (int x : w) rule.push_back(std::string(static_cast<std::size_t>(x), '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

void markdown_table(std::ostream& o, const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  auto line = [&](const std::vector<std::string>& r) {
    o << "|";
    for (const std::string& c : r) o << " " << c << " |";
    o << "\n";
  };
  line(head);
  o << "|";
  for (std::size_t i = 0; i < head.size(); ++i) o << "---|";
  o << "\n";
  for (const auto& r : rows) line(r);
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", x * 100);
  return b;
}
std::string metres(double x) {
  if (x < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", x);
  return b;
}
std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}
std::string camera_list(const AreaCoverage& a) {
  std::string s;
  for (const auto& c : a.cameras) s += (s.empty() ? "" : " ") + c.id + "(" + pct(c.share) + ")";
  return s.empty() ? "-" : s;
}
std::string verdict(bool ok) { return ok ? "通过 pass" : "不足 FAIL"; }

const std::vector<std::string> kZoneHead = {"区域 Zone", "名称 Name", "风险 Risk", "楼层 Floors", "面积 Area m²",
                                            "定位覆盖 Anchor share", "精度中位 Acc. median m", "精度最差 Acc. worst m",
                                            "视频覆盖 Camera share", "摄像机 Cameras", "结论 Result"};
const std::vector<std::string> kWorkHead = {"作业票 Permit", "类型 Type", "来源 From", "楼层 Floor", "面积 Area m²",
                                            "视频覆盖 Camera share", "摄像机 Cameras", "结论 Result"};

std::vector<std::vector<std::string>> zone_rows(const CoverageReport& r) {
  std::vector<std::vector<std::string>> rows;
  for (const AreaCoverage& z : r.zones) {
    char area[32];
    std::snprintf(area, sizeof area, "%.0f", z.area_m2);
    rows.push_back({z.id, z.name.empty() ? "-" : z.name, z.risk + "/" + z.kind, join(z.floors), area, pct(z.anchor_share),
                    metres(z.accuracy_median_m), metres(z.accuracy_worst_m), pct(z.camera_share), camera_list(z),
                    verdict(z.anchors_ok)});
  }
  return rows;
}

std::vector<std::vector<std::string>> work_rows(const CoverageReport& r) {
  std::vector<std::vector<std::string>> rows;
  for (const AreaCoverage& w : r.work_areas) {
    char area[32];
    std::snprintf(area, sizeof area, "%.0f", w.area_m2);
    rows.push_back({w.id, w.kind, w.risk, join(w.floors), area, pct(w.camera_share), camera_list(w), verdict(w.cameras_ok)});
  }
  return rows;
}

nlohmann::json area_json(const AreaCoverage& a, bool zone) {
  nlohmann::json j;
  j["id"] = a.id;
  if (zone) {
    j["name"] = a.name;
    j["kind"] = a.kind;
    j["risk"] = a.risk;
  } else {
    j["type"] = a.kind;
    j["action"] = a.risk;
  }
  j["floors"] = a.floors;
  j["area_m2"] = a.area_m2;
  j["samples"] = a.samples.size();
  j["anchor_share"] = a.anchor_share;
  j["accuracy_median_m"] = a.accuracy_median_m < 0 ? nlohmann::json() : nlohmann::json(a.accuracy_median_m);
  j["accuracy_worst_m"] = a.accuracy_worst_m < 0 ? nlohmann::json() : nlohmann::json(a.accuracy_worst_m);
  j["camera_share"] = a.camera_share;
  nlohmann::json cams = nlohmann::json::array();
  for (const auto& c : a.cameras) cams.push_back({{"id", c.id}, {"share", c.share}});
  j["cameras"] = cams;
  j["anchors_ok"] = a.anchors_ok;
  j["cameras_ok"] = a.cameras_ok;
  j["pass"] = zone ? a.anchors_ok : a.cameras_ok;
  return j;
}

// Where built BVHs of large plants are kept between runs (docs/plant.md "Model cache"):
// $XDG_CACHE_HOME/planttwin/models, else ~/.cache/planttwin/models; "" when neither is set.
std::string default_model_cache() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "planttwin" / "models").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "planttwin" / "models").string();
  return "";
}

int run_check(const CheckArgs& args) {
  std::string cache_dir = args.no_model_cache ? std::string() : args.model_cache.empty() ? default_model_cache() : args.model_cache;
  if (!cache_dir.empty()) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    if (!fs::is_directory(cache_dir, ec)) {
      // the default folder silently; one the user named, with a word (the check itself goes on)
      if (!args.model_cache.empty())
        std::cerr << "planttwin check: --model-cache " << cache_dir
                  << ": 不是可写的文件夹, 不使用模型缓存 not a folder that can be written; every model is read and built anew\n";
      cache_dir.clear();
    }
  }
  MeshCacheOptions mesh_cache_opt;
  mesh_cache_opt.dir = cache_dir;
  mesh_cache_opt.min_triangles = args.cache_min_triangles;
  mesh_cache_opt.max_bytes = args.cache_max_mb << 20;
  set_mesh_cache(mesh_cache_opt);  // model files read by the loader below
  // a scenario (top-level key `scenario`) brings its site and its permits' work areas
  bool is_scenario = false;
  try {
    const YAML::Node root = YAML::LoadFile(args.file);
    is_scenario = root.IsMap() && root["scenario"];
  } catch (const YAML::Exception&) {
    // not readable YAML: the site loader says where and why
  }
  Site site;
  std::vector<WorkArea> work;
  std::string scenario_name;
  if (is_scenario) {
    Scenario sc;
    if (auto err = load_scenario_file(args.file, sc)) {
      std::cerr << err->to_string() << "\n";
      return kExitBadInput;
    }
    site = sc.site;
    scenario_name = sc.name;
    for (const ScriptAction& a : sc.script) {
      if (a.kind != ScriptAction::Kind::permit || (a.permit.action != "apply" && a.permit.action != "reserve")) continue;
      if (a.permit.area.size() < 3) continue;
      // one row per permit or reservation id: the first area it names (a refused apply may repeat)
      if (std::any_of(work.begin(), work.end(), [&](const WorkArea& w) { return w.id == a.permit.id; })) continue;
      WorkArea w;
      w.id = a.permit.id;
      w.type = a.permit.type;
      w.action = a.permit.action;
      w.area.pts = a.permit.area;
      w.area.finalize();
      w.floor = a.permit.floor;
      work.push_back(std::move(w));
    }
  } else if (auto err = load_site_file(args.file, site)) {
    std::cerr << err->to_string() << "\n";
    return kExitBadInput;
  }

  std::string error;
  PlantOptions plant;
  plant.bvh_cache.dir = cache_dir;
  plant.bvh_cache.min_triangles = args.cache_min_triangles;
  plant.bvh_cache.max_bytes = args.cache_max_mb << 20;
  const auto model = PlantModel::build(site, error, plant);
  if (!model) {
    std::cerr << args.file << ": " << error << "\n";
    return kExitBadInput;
  }
  CoverageOptions opt;
  opt.cell_m = args.cell;
  opt.min_anchors = args.min_anchors;
  opt.link_range_m = args.link_range;
  opt.min_share = args.min_share;
  // --links radio: an anchor out of line of sight counts when the radio model hears it (some path's
  // mean power reaches the sensitivity: through penetrable solids, around opaque ones, or off a
  // wall; docs/radio.md "First paths"); the channel's draws are not used, only its geometry
  std::unique_ptr<RadioChannel> channel;
  std::unique_ptr<FirstPathFinder> paths;
  const bool radio = args.links == "radio";
  if (radio) {
    channel = std::make_unique<RadioChannel>(site, radio_defaults(site), model->materials(), 0);
    paths = std::make_unique<FirstPathFinder>(*model, *channel);
    opt.heard = [&model, &channel, &paths](const Vec3& tag, int anchor) {
      thread_local std::vector<Crossing> direct;
      model->trace(tag, channel->anchor_at(anchor), direct);
      return paths->find(tag, anchor, direct).in_budget;
    };
  }
  const CoverageReport rep = check_coverage(site, *model, work, opt, args.threads);
  const char* counted_zh = radio ? "无线电可达（视距或绕射、穿透、反射路径）" : "视距内";
  const char* counted_en = radio ? "heard by the radio model (in line of sight, or through, around or off solids)" : "in line of sight";

  std::ostringstream head;
  head << "planttwin check " << args.file << "\n站点 site: " << site.name;
  if (!scenario_name.empty()) head << "   场景 scenario: " << scenario_name;
  char b[640];
  std::snprintf(b, sizeof b,
                "\n规则 rule: ≥ %d 个基站%s且距离 ≤ %.0f m, 覆盖率 ≥ %.0f%%, 采样 %.2f m — a fix needs ≥ %d anchors %s "
                "within %.0f m; share ≥ %.0f%%; samples every %.2f m\n",
                opt.min_anchors, counted_zh, opt.link_range_m, opt.min_share * 100, opt.cell_m, opt.min_anchors, counted_en,
                opt.link_range_m, opt.min_share * 100, opt.cell_m);
  head << b;
  std::cout << head.str() << "\n高风险区域 High-risk zones (PL-08; 视频 video SO-08)\n";
  print_table(std::cout, kZoneHead, zone_rows(rep));
  if (is_scenario) {
    std::cout << "\n作业区域 Permit work areas (SO-08)\n";
    if (rep.work_areas.empty()) std::cout << "(无 none)\n";
    else print_table(std::cout, kWorkHead, work_rows(rep));
  }
  std::cout << "\n结论 Result: " << (rep.pass ? "通过 PASS" : "不通过 FAIL") << "\n";

  if (!args.report_dir.empty()) {
    std::error_code ec;
    fs::create_directories(args.report_dir, ec);
    const fs::path dir(args.report_dir);
    nlohmann::json j;
    j["format"] = "planttwin-check-1";
    j["file"] = args.file;
    j["site"] = site.name;
    if (is_scenario) j["scenario"] = scenario_name;
    j["options"] = {{"cell_m", opt.cell_m},
                    {"min_anchors", opt.min_anchors},
                    {"link_range_m", opt.link_range_m},
                    {"links", args.links},
                    {"min_share", opt.min_share},
                    {"range_sigma_m", opt.range_sigma_m},
                    {"tag_height_m", opt.tag_height_m},
                    {"camera_spot_height_m", opt.camera.spot_height_m},
                    {"camera_transparent", opt.camera.transparent}};
    j["zones"] = nlohmann::json::array();
    for (const AreaCoverage& z : rep.zones) j["zones"].push_back(area_json(z, true));
    j["work_areas"] = nlohmann::json::array();
    for (const AreaCoverage& w : rep.work_areas) j["work_areas"].push_back(area_json(w, false));
    j["pass"] = rep.pass;
    std::ofstream(dir / "check.json") << j.dump(2) << "\n";

    std::ofstream md(dir / "check.md");
    md << "# 覆盖检查 Coverage check: " << site.name << "\n\n";
    md << "- 文件 File: `" << args.file << "`\n";
    std::snprintf(b, sizeof b, "- 规则 Rule: ≥ %d anchors %s within %.0f m (基站%s); share ≥ %.0f%%; samples every %.2f m; accuracy = HDOP × %.2f m\n",
                  opt.min_anchors, counted_en, opt.link_range_m, counted_zh, opt.min_share * 100, opt.cell_m, opt.range_sigma_m);
    md << b;
    md << "- 结论 Result: **" << (rep.pass ? "通过 PASS" : "不通过 FAIL") << "**\n\n";
    md << "## 高风险区域 High-risk zones (PL-08, SO-08)\n\n";
    markdown_table(md, kZoneHead, zone_rows(rep));
    if (is_scenario) {
      md << "\n## 作业区域 Permit work areas (SO-08)\n\n";
      if (rep.work_areas.empty()) md << "(无 none)\n";
      else markdown_table(md, kWorkHead, work_rows(rep));
    }
    md << "\n![coverage](coverage.svg)\n";
    if (std::string e = write_coverage_svg(site, rep, (dir / "coverage.svg").string()); !e.empty()) {
      std::cerr << e << "\n";
      return kExitBadInput;
    }
    if (std::string e = write_coverage_png(site, rep, (dir / "coverage.png").string()); !e.empty()) {
      std::cerr << e << "\n";
      return kExitBadInput;
    }
    if (!md) {
      std::cerr << (dir / "check.md").string() << ": write failed\n";
      return kExitBadInput;
    }
    std::cout << "报告 Report: " << (dir / "check.md").string() << ", check.json, coverage.svg, coverage.png\n";
  }
  return rep.pass ? kExitPass : kExitFail;
}

}  // namespace

std::vector<Subcommand> add_check_commands(CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* c = app.add_subcommand(
      "check", "Anchor coverage of high-risk zones (PL-08) and camera coverage of zones and work areas (SO-08); exit 0 pass, 1 fail, 2 bad input");
  c->add_option("file", args->file, "Site file, or a scenario file (its site and its permits' work areas)")->required();
  c->add_option("--report", args->report_dir, "Write check.json, check.md, coverage.svg and coverage.png here");
  c->add_option("--cell", args->cell, "Sample spacing, metres")->capture_default_str()->check(CLI::Range(0.05, 100.0));
  c->add_option("--min-anchors", args->min_anchors, "Anchors needed for a fix (those --links counts)")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("--link-range", args->link_range, "Tag-anchor link range, metres")->capture_default_str()->check(CLI::Range(0.1, 10000.0));
  c->add_option("--links", args->links,
                "Which anchors count for a fix: los (in line of sight) or radio (also those the radio model hears through, around "
                "or off solids: first paths, docs/radio.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"los", "radio"}));
  c->add_option("--min-share", args->min_share, "Share of each area that must be covered, 0..1")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  c->add_option("--threads", args->threads, "Worker threads; results never depend on it")->capture_default_str()->check(CLI::Range(1, 256));
  c->add_option("--model-cache", args->model_cache,
                "Keep large models as read, and their BVH, here between runs (see --model-cache-min-triangles); results never depend on it "
                "(default: $XDG_CACHE_HOME/planttwin/models, else ~/.cache/planttwin/models)");
  c->add_flag("--no-model-cache", args->no_model_cache, "Read the models and build the BVH every time; read and write no cache");
  c->add_option("--model-cache-min-triangles", args->cache_min_triangles,
                "Cache a model, and the plant's BVH, from this many triangles (smaller ones are made faster than read)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  c->add_option("--model-cache-max-mb", args->cache_max_mb,
                "Bound of the cache folder in MiB; least recently used files go first")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
  return {{c, [args] { return run_check(*args); }}};
}

}  // namespace planttwin::cli
