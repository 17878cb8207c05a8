// PL-08, SO-08: `planttwin check` through the real binary: exit codes and the files it writes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/scenarios/temp_folder.h"

namespace fs = std::filesystem;

namespace {

const std::string kBin = std::string(PLANTTWIN_COMMAND);

struct CliResult {
  int rc = -1;
  std::string out;  // stdout and stderr
};

CliResult run_cli(const std::string& args) {
  CliResult r;
  FILE* p = ::popen((kBin + " check " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

fs::path temp_dir(const std::string& name) { return planttwin::test::temp_dir_removed_at_exit("planttwin-check", name); }

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// the coverage test's split site as YAML: a red zone, a wall, anchors on both sides, one camera
std::string split_site_yaml(bool drop_one_west) {
  std::string s = R"(site: 分区测试 split
zones:
  - {id: Z, name: 罐区, kind: storage, risk: red, polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]}
  - {id: O, name: 办公, kind: office, risk: blue, polygon: [[20, 0], [30, 0], [30, 10], [20, 10]]}
obstacles:
  - {id: WALL, shape: box, min: [4, -5, -1], max: [4.2, 15, 5], material: concrete}
cameras:
  - {id: CAM-W, at: [-1, 5, 1], yaw_deg: 0, pitch_deg: 0, hfov_deg: 170, vfov_deg: 60, range: 100}
anchors:
  - {id: E0, at: [11, 0, 1.2]}
  - {id: E3, at: [11, 3, 1.2]}
  - {id: E7, at: [11, 7, 1.2]}
  - {id: E10, at: [11, 10, 1.2]}
  - {id: W0, at: [-1, 0, 1.2]}
  - {id: W3, at: [-1, 3, 1.2]}
  - {id: W7, at: [-1, 7, 1.2]}
)";
  if (!drop_one_west) s += "  - {id: W10, at: [-1, 10, 1.2]}\n";
  return s;
}

TEST(PlantCheckCommand, PL08_PassWritesTheReport) {
  const fs::path d = temp_dir("pass");
  write(d / "site.yaml", split_site_yaml(false));
  const CliResult r = run_cli((d / "site.yaml").string() + " --report " + (d / "out").string() + " --threads 2");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("定位覆盖 Anchor share"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100.0%"), std::string::npos) << r.out;
  for (const char* f : {"check.json", "check.md", "coverage.svg", "coverage.png"}) EXPECT_TRUE(fs::exists(d / "out" / f)) << f;
  const auto j = nlohmann::json::parse(read(d / "out" / "check.json"));
  EXPECT_EQ(j["pass"], true);
  ASSERT_EQ(j["zones"].size(), 1u);
  EXPECT_EQ(j["zones"][0]["id"], "Z");
  EXPECT_DOUBLE_EQ(j["zones"][0]["anchor_share"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["zones"][0]["camera_share"].get<double>(), 0.4);
  EXPECT_EQ(j["zones"][0]["cameras"][0]["id"], "CAM-W");
  const std::string png = read(d / "out" / "coverage.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(read(d / "out" / "coverage.svg").find("<svg"), std::string::npos);
  EXPECT_NE(read(d / "out" / "check.md").find("高风险区域 High-risk zones"), std::string::npos);
}

TEST(PlantCheckCommand, PL08_ShortShareExitsOne) {
  const fs::path d = temp_dir("fail");
  write(d / "site.yaml", split_site_yaml(true));
  const CliResult r = run_cli((d / "site.yaml").string() + " --report " + (d / "out").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("60.0%"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(read(d / "out" / "check.json"))["pass"], false);
  // the same site passes with three anchors or a share of 0.6
  EXPECT_EQ(run_cli((d / "site.yaml").string() + " --min-anchors 3").rc, 0);
  EXPECT_EQ(run_cli((d / "site.yaml").string() + " --min-share 0.6").rc, 0);
}

// PL-08, H-02 (issue 20): --links radio counts the anchors the radio model hears out of line of
// sight. Behind a wooden wall the eastern anchors are heard through it and the zone is covered;
// behind a steel wall (opaque) 400 m long and 40 m high no path around it is loud enough, and the
// share is the line-of-sight one. The rule says which links count; check.json keeps the option.
TEST(PlantCheckCommand, PL08_H02_RadioLinksCountAnchorsHeardThroughWoodNotBehindSteel) {
  const fs::path d = temp_dir("links");
  std::string wood = split_site_yaml(true);
  wood.replace(wood.find("material: concrete"), 18, "material: wood");
  write(d / "wood.yaml", wood);
  std::string steel = split_site_yaml(true);
  steel.replace(steel.find("{id: WALL, shape: box, min: [4, -5, -1], max: [4.2, 15, 5], material: concrete}"), 79,
                "{id: WALL, shape: box, min: [4, -200, -1], max: [4.2, 200, 40], material: steel}");
  write(d / "steel.yaml", steel);
  const CliResult los = run_cli((d / "wood.yaml").string());
  EXPECT_EQ(los.rc, 1) << los.out;
  EXPECT_NE(los.out.find("60.0%"), std::string::npos) << los.out;
  EXPECT_NE(los.out.find("in line of sight"), std::string::npos) << los.out;
  const CliResult radio = run_cli((d / "wood.yaml").string() + " --links radio --threads 2 --report " + (d / "out").string());
  EXPECT_EQ(radio.rc, 0) << radio.out;
  EXPECT_NE(radio.out.find("100.0%"), std::string::npos) << radio.out;
  EXPECT_NE(radio.out.find("heard by the radio model"), std::string::npos) << radio.out;
  const auto j = nlohmann::json::parse(read(d / "out" / "check.json"));
  EXPECT_EQ(j["options"]["links"], "radio");
  EXPECT_EQ(j["pass"], true);
  const CliResult behind_steel = run_cli((d / "steel.yaml").string() + " --links radio");
  EXPECT_EQ(behind_steel.rc, 1) << behind_steel.out;
  EXPECT_NE(behind_steel.out.find("60.0%"), std::string::npos) << behind_steel.out;
  const CliResult bad = run_cli((d / "wood.yaml").string() + " --links nlos");
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("--links"), std::string::npos) << bad.out;
  fs::remove_all(d);
}

TEST(PlantCheckCommand, PL08_BadInputExitsTwoWithFileLineKey) {
  const fs::path d = temp_dir("bad");
  write(d / "site.yaml", "site: x\nanchors:\n  - {id: A1, att: [1, 2, 3]}\n");
  const CliResult r = run_cli((d / "site.yaml").string());
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("site.yaml:3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("anchors"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli((d / "missing.yaml").string()).rc, 2);
  EXPECT_EQ(run_cli((d / "site.yaml").string() + " --cell 0").rc, 2);
  fs::remove_all(d);
}

TEST(PlantCheckCommand, SO08_ScenarioWorkAreas) {
  const fs::path d = temp_dir("scenario");
  write(d / "site.yaml", split_site_yaml(false));
  write(d / "sc.yaml", R"(scenario: check-work-areas
site: site.yaml
duration: 60s
people:
  - {id: W1, name: 焊工, category: contractor, tag: T1, at: [1, 1]}
  - {id: G1, name: 监护, roles: [guardian], tag: T2, at: [1, 2]}
  - {id: A1, name: 主任, roles: [workshop_head], tag: T3, at: [1, 3]}
script:
  - {t: 1s, permit: {action: apply, id: HW1, type: hot_work, grade: 2, area: [[0, 0], [3, 0], [3, 10], [0, 10]], workers: [W1], guardian: G1, approver: A1, from: 0s, to: 1h}}
  - {t: 2s, permit: {action: reserve, id: R2, type: excavation, area: [[5, 0], [9, 0], [9, 10], [5, 10]], from: 1d, to: 2d}}
)");
  const CliResult r = run_cli((d / "sc.yaml").string() + " --report " + (d / "out").string());
  EXPECT_EQ(r.rc, 1) << r.out;  // R2's area is behind the wall
  EXPECT_NE(r.out.find("作业区域 Permit work areas"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read(d / "out" / "check.json"));
  ASSERT_EQ(j["work_areas"].size(), 2u);
  EXPECT_EQ(j["work_areas"][0]["id"], "HW1");
  EXPECT_EQ(j["work_areas"][0]["pass"], true);
  EXPECT_EQ(j["work_areas"][1]["id"], "R2");
  EXPECT_EQ(j["work_areas"][1]["pass"], false);
  EXPECT_EQ(j["scenario"], "check-work-areas");
}

TEST(PlantCheckCommand, PL08_DemoPlantRuns) {
  const fs::path d = temp_dir("demo");
  const CliResult r = run_cli(std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/demo-plant.yaml --cell 2 --report " + (d / "out").string());
  EXPECT_TRUE(r.rc == 0 || r.rc == 1) << r.out;
  const auto j = nlohmann::json::parse(read(d / "out" / "check.json"));
  EXPECT_EQ(j["zones"].size(), 6u);
  EXPECT_EQ(j["pass"], r.rc == 0);
}

// Issue 15, PL-08: a site with a 21,600-triangle model (a frame of 1,800 boxes as OBJ). The
// second `check` reads the BVH from --model-cache and prints and writes exactly what the first did;
// --no-model-cache and a folder that cannot be written change nothing either.
// A site whose one obstacle is a 21,600-triangle model (a frame of 1,800 boxes as OBJ), in `d`.
void write_frame_site(const fs::path& d) {
  {
    std::ofstream obj(d / "frame.obj");
    int v = 0;
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 20; ++j)
        for (int i = 0; i < 30; ++i, v += 8) {
          const double x = 1.5 * i, y = 1.5 * j, z = 2.0 * k;
          for (int c = 0; c < 8; ++c)
            obj << "v " << x + ((c & 1) ? 0.3 : 0) << " " << y + ((c & 2) ? 0.3 : 0) << " " << z + ((c & 4) ? 1.5 : 0) << "\n";
          static const int t[12][3] = {{0, 2, 3}, {0, 3, 1}, {4, 5, 7}, {4, 7, 6}, {0, 1, 5}, {0, 5, 4},
                                       {2, 6, 7}, {2, 7, 3}, {0, 4, 6}, {0, 6, 2}, {1, 3, 7}, {1, 7, 5}};
          for (const auto& f : t) obj << "f " << v + f[0] + 1 << " " << v + f[1] + 1 << " " << v + f[2] + 1 << "\n";
        }
  }
  write(d / "site.yaml", R"(site: frame
zones:
  - {id: Z, name: 装置区, kind: production, risk: red, polygon: [[-5, -5], [50, -5], [50, 35], [-5, 35]]}
obstacles:
  - {id: FRAME, mesh: frame.obj, up: z, material: steel}
anchors:
  - {id: A1, at: [-6, -6, 8]}
  - {id: A2, at: [51, -6, 8]}
  - {id: A3, at: [51, 36, 8]}
  - {id: A4, at: [-6, 36, 8]}
  - {id: A5, at: [22, 15, 9]}
)");
}

TEST(PlantCheckCommand, PL08_ModelCacheChangesNoResult) {
  const fs::path d = temp_dir("cache");
  write_frame_site(d);
  const fs::path cache = d / "cache";
  const std::string args = (d / "site.yaml").string() + " --cell 2 --min-share 0.5 --link-range 100 --min-anchors 3 --model-cache " + cache.string();
  const CliResult first = run_cli(args + " --report " + (d / "r1").string());
  ASSERT_TRUE(first.rc == 0 || first.rc == 1) << first.out;
  // the model as read (.mesh) and the plant's tree (.bvh)
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache)) files.push_back(e.path());
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.extension() < b.extension(); });
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].extension(), ".bvh");
  EXPECT_EQ(files[1].extension(), ".mesh");
  // both read by the second run: then touched (a least recently used bound), not written anew
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const auto& f : files) fs::last_write_time(f, old);
  const auto written = old;
  auto inode = [](const fs::path& f) {
    struct stat st {};
    return ::stat(f.c_str(), &st) == 0 ? st.st_ino : 0;
  };
  const auto ino_bvh = inode(files[0]), ino_mesh = inode(files[1]);
  const CliResult second = run_cli(args + " --report " + (d / "r2").string());
  EXPECT_EQ(second.rc, first.rc);
  auto body = [](const std::string& out, const std::string& report) {  // the printout without the report's folder name
    const auto at = out.find(report);
    return at == std::string::npos ? out : out.substr(0, at);
  };
  EXPECT_EQ(body(second.out, "r2"), body(first.out, "r1"));
  EXPECT_EQ(read(d / "r2" / "check.json").substr(read(d / "r2" / "check.json").find("\"options\"")),
            read(d / "r1" / "check.json").substr(read(d / "r1" / "check.json").find("\"options\"")));
  for (const auto& f : files) EXPECT_GT(fs::last_write_time(f), written) << f;
  EXPECT_EQ(inode(files[0]), ino_bvh);  // the same files: read, not written again
  EXPECT_EQ(inode(files[1]), ino_mesh);
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(cache)) n += e.is_regular_file();
  EXPECT_EQ(n, 2u);  // nothing new written
  const auto j = nlohmann::json::parse(read(d / "r1" / "check.json"));
  const double share = j["zones"][0]["anchor_share"].get<double>();
  EXPECT_GT(share, 0.05);  // the frame blocks some samples and not all
  EXPECT_LT(share, 0.999);
  // without the cache, and with a cache path that is a file: the same result
  const CliResult none = run_cli((d / "site.yaml").string() + " --cell 2 --min-share 0.5 --link-range 100 --min-anchors 3 --no-model-cache --report " + (d / "r3").string());
  EXPECT_EQ(nlohmann::json::parse(read(d / "r3" / "check.json"))["zones"], j["zones"]);
  write(d / "not-a-folder", "x");
  const CliResult bad = run_cli((d / "site.yaml").string() + " --cell 2 --min-share 0.5 --link-range 100 --min-anchors 3 --model-cache " + (d / "not-a-folder").string() +
                                " --report " + (d / "r4").string());
  EXPECT_EQ(bad.rc, first.rc) << bad.out;
  EXPECT_NE(bad.out.find("not a folder that can be written"), std::string::npos) << bad.out;
  EXPECT_EQ(nlohmann::json::parse(read(d / "r4" / "check.json"))["zones"], j["zones"]);
  fs::remove_all(d);
}

// Issue 15, PL-08: the cache's thresholds at their edges. The frame site has 21,600 triangles (the
// model and the whole plant): --model-cache-min-triangles 21600 caches both, 21601 neither; the
// bounds of both options are refused with exit 2 naming the option.
TEST(PlantCheckCommand, PL08_ModelCacheThresholdsAtTheirEdges) {
  const fs::path d = temp_dir("cache-edges");
  write_frame_site(d);
  const std::string site = (d / "site.yaml").string() + " --cell 4 --min-share 0.5 --link-range 100 --min-anchors 3";
  auto count = [](const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) n += e.is_regular_file();
    return n;
  };
  CliResult r = run_cli(site + " --model-cache " + (d / "at").string() + " --model-cache-min-triangles 21600");
  ASSERT_TRUE(r.rc == 0 || r.rc == 1) << r.out;
  EXPECT_EQ(count(d / "at"), 2u) << "the model (.mesh) and the plant's tree (.bvh)";
  r = run_cli(site + " --model-cache " + (d / "above").string() + " --model-cache-min-triangles 21601");
  ASSERT_TRUE(r.rc == 0 || r.rc == 1) << r.out;
  EXPECT_EQ(count(d / "above"), 0u);
  // a bound smaller than the two files: the older goes, the folder keeps at most the newest
  r = run_cli(site + " --model-cache " + (d / "tight").string() + " --model-cache-max-mb 1");
  ASSERT_TRUE(r.rc == 0 || r.rc == 1) << r.out;
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(d / "tight")) bytes += e.file_size();
  EXPECT_LE(bytes, std::uintmax_t{1} << 20);
  for (const std::string bad : {"--model-cache-min-triangles 0", "--model-cache-min-triangles 100000001", "--model-cache-max-mb 0",
                                "--model-cache-max-mb 1048577"}) {
    r = run_cli(site + " " + bad);
    EXPECT_EQ(r.rc, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find(bad.substr(0, bad.find(' '))), std::string::npos) << r.out;
  }
  fs::remove_all(d);
}

}  // namespace
