// `planttwin convert hanyang` end to end (issue 19; H-02, H-05, PL-01): a walk folder in the Hanyang
// dataset's format (made up here, so CI needs no dataset) becomes a recorded scenario that runs:
// ranges and truth with times from the walk's start, the anchors, the authors' evaluation window,
// their solutions' figures as expectations, and the twin.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

const std::string kBin = std::string(PLANTTWIN_COMMAND);

int run_cli(const std::string& args, std::string* out = nullptr) {
  const std::string capture = fs::temp_directory_path() / ("planttwin-convert-out-" + std::to_string(::getpid()));
  const int rc = std::system((kBin + " " + args + " > " + capture + " 2>&1").c_str());
  if (out) {
    std::ifstream in(capture);
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
  }
  fs::remove(capture);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct Walk {
  fs::path dir;
  // 1.733e18 ns: stamps as the dataset writes them
  static constexpr long long kT0 = 1733037964000000000LL;
  // the walker: (0, -4) -> (5, -8) -> (12, -8) -> (0, -4), 1 m/s, from t = 1 s
  static void at(double t, double& x, double& y) {
    const double pts[4][2] = {{0, -4}, {5, -8}, {12, -8}, {0, -4}};
    double s = std::max(0.0, t - 1.0);
    for (int k = 0; k < 3; ++k) {
      const double len = std::hypot(pts[k + 1][0] - pts[k][0], pts[k + 1][1] - pts[k][1]);
      if (s <= len || k == 2) {
        const double u = std::min(1.0, s / len);
        x = pts[k][0] + u * (pts[k + 1][0] - pts[k][0]);
        y = pts[k][1] + u * (pts[k + 1][1] - pts[k][1]);
        return;
      }
      s -= len;
    }
  }
  explicit Walk(const std::string& name) {
    dir = fs::temp_directory_path() / ("planttwin-hanyang-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const int ids[4] = {3, 5, 9, 12};
    const double ax[4] = {2.5, -2.5, -2.5, 2.5}, ay[4] = {-1, 1, -1, 1}, az[4] = {2, 2, 0.5, 2};
    for (int a = 0; a < 4; ++a) {
      std::ofstream f(dir / ("A" + std::to_string(ids[a]) + ".csv"));
      f << "%time,field.stamp,field.id,field.x,field.y,field.z,field.distanceFromTag,field.rssi,field.rssi_fp\n";
      for (int k = 0; k < 300; ++k) {  // 10 Hz for 30 s
        const double t = 0.1 * k + 0.001 * a;
        double x = 0, y = 0;
        at(t, x, y);
        const double d = std::sqrt((x - ax[a]) * (x - ax[a]) + (y - ay[a]) * (y - ay[a]) + (1.2 - az[a]) * (1.2 - az[a]));
        const long long ns = kT0 + static_cast<long long>(std::llround(t * 1e9));
        f << ns + 500 << "," << ns << "," << ids[a] << "," << ax[a] << "," << ay[a] << "," << az[a] << "," << d << ","
          << (k == 7 ? "-inf" : "-79.5") << ",-81.0\n";
      }
      if (a == 0) f << "garbage,row\n";  // reported and skipped
    }
    std::ofstream tr(dir / "trajectory.csv");
    tr << "timestamp,x,y,z,heading_degrees\n";
    std::ofstream ls(dir / "LS.csv");
    ls << "timestamp,x,y,z\n";
    for (int k = 0; k < 240; ++k) {  // 8 Hz truth, z = 0 as RTK gives it
      const double t = 0.125 * k;
      double x = 0, y = 0;
      at(t, x, y);
      char b[160];
      std::snprintf(b, sizeof b, "%.16e,%.6f,%.6f,0.0,0.0\n", static_cast<double>(kT0) + t * 1e9, x, y);
      tr << b;
      std::snprintf(b, sizeof b, "%lld,%.6f,%.6f,1.2\n", kT0 + static_cast<long long>(t * 1e9), x + 0.2, y);
      ls << b;
    }
  }
  ~Walk() { fs::remove_all(dir); }
};

TEST(ConvertHanyang, H05_AWalkFolderBecomesARecordedScenarioThatRuns) {
  Walk w("ok");
  const fs::path out = w.dir / "out";
  std::string text;
  ASSERT_EQ(run_cli("convert hanyang " + w.dir.string() + " --out " + out.string() + " --twin-stamp-delay 0", &text), 0) << text;
  EXPECT_NE(text.find("4 anchors, 1200 ranges (1 rows skipped), 240 truth samples"), std::string::npos) << text;
  EXPECT_NE(text.find(":302: skipped: not a range row"), std::string::npos) << text;
  for (const char* f : {"ranges.csv", "truth.csv", "site.yaml", "scenario.yaml", "twin.yaml", "reference-ls.csv"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "reference-eskf.csv"));  // no ESKF.csv in the folder
  // the authors' window: from (x < 8.6, y < -7) to the first later (x > 8.6, y < -7)
  std::ifstream sf(out / "scenario.yaml");
  std::stringstream ss;
  ss << sf.rdbuf();
  const std::string yaml = ss.str();
  EXPECT_NE(yaml.find("evaluate: {from: "), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("rmse_max: 0.200"), std::string::npos) << yaml;  // the LS solutions are 0.2 m east
  Scenario sc;
  const auto err = load_scenario_file((out / "scenario.yaml").string(), sc);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  ASSERT_TRUE(sc.recorded.evaluate);
  // the walker passes y = -7 at 3/4 of the first 6.40 m leg (t = 5.80 s) and x = 8.6 at 3.6 m into the
  // second leg (t = 11.0 s); the window starts and ends at the 8 Hz truth samples after those
  EXPECT_NEAR(to_seconds(sc.recorded.evaluate->first), 5.80, 0.126);
  EXPECT_NEAR(to_seconds(sc.recorded.evaluate->second), 11.0, 0.126);
  ASSERT_EQ(sc.site.anchors.size(), 4u);
  EXPECT_EQ(sc.site.anchors[0].id, "A12");  // files in name order: A12, A3, A5, A9
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, RunOptions{}, r, error)) << error;
  ASSERT_TRUE(r.accuracy && r.recorded);
  EXPECT_LT(r.accuracy->rmse, 0.05);         // exact ranges
  EXPECT_LT(r.accuracy->three_d->rmse, 0.05);  // the truth's z raised by the tag height, 1.2 m
  EXPECT_EQ(r.recorded->dropped_columns, 0u);  // the -inf power became an empty (not given) value
  EXPECT_EQ(r.recorded->bad_rows, 0u);
  ASSERT_FALSE(r.expectations.empty());
  EXPECT_TRUE(r.expectations[0].passed) << r.expectations[0].detail;
  ASSERT_TRUE(r.twin);
  EXPECT_GT(r.twin->fixes, 0u);
  // bad input: exit 2 with the reason
  ASSERT_EQ(run_cli("convert hanyang " + (w.dir / "nowhere").string() + " --out " + out.string(), &text), 2);
  EXPECT_NE(text.find("not a folder"), std::string::npos) << text;
  ASSERT_EQ(run_cli("convert hanyang " + w.dir.string() + " --out " + out.string() + " --window 5,1", &text), 2);
  EXPECT_NE(text.find("--window"), std::string::npos) << text;
}

}  // namespace
}  // namespace planttwin
