// What a live session says about its fixes (issue 19; H-03, H-05, PL-01): a session of raw ranges
// and marks gets the marks' accuracy at the report's top level with `run`'s keys, a provenance that
// says where the fixes came from (live, or a replay of which recording), `fix_hash` over every fix
// fed to the engine (equal for identical input, different when one fix differs, the same in the
// replay) and fixes.csv with one row per fix, its errors filled where a mark gave the truth.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hardware-in-loop/session.h"
#include "scenarios/loader.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

#ifdef PLANTTWIN_HAS_SOLVER

double dist3(const Anchor& a, double x, double y) {
  return std::sqrt(std::pow(a.at[0] - x, 2) + std::pow(a.at[1] - y, 2) + std::pow(a.at[2] - 1.2, 2));
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

// SP-1 is at (10, 10); T1 stands here after its walk
constexpr double kStandX = 10.3, kStandY = 10.1;

struct Walked {
  RunResult result;
  LiveSummary summary;
  Scenario scenario;  // as the session ran it
};

// A real UWB walk as the tester streamed it, with device times relative to the session's start
// (read from its first `stats`), so that two sessions get identical input: the contractor T3 sends
// three `fix` messages (t = 0.2, 0.3, 0.4 s; `shift` moves the second by that many metres), then
// the visitor T1 walks to SP-1 at 1.4 m/s and stands by it in 10 range epochs (t = 1.0 + 0.2 k s, four anchors
// each), marked on SP-1 after epochs 5 to 8.
Walked walk(const fs::path& dir, double shift = 0) {
  LiveOptions o;
  o.record = (dir / "session.ptrec").string();
  o.fixes_csv = (dir / "fixes.csv").string();
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  const std::optional<json> stats = c.next("stats", 5000ms);
  EXPECT_TRUE(stats.has_value());
  c.connect_push();
  std::int64_t start_ms = now_unix_ms();
  if (stats) start_ms = (*stats)["ts"].get<std::int64_t>() - std::llround((*stats)["session_s"].get<double>() * 1e6) / 1000;
#if defined(__GLIBC__)
  // H-03: `stats` tells the allocator's memory (the soak watches it; docs/live-v1.md)
  if (stats) {
#ifndef PLANTTWIN_SANITIZED  // a sanitizer's allocator replaces glibc's: mallinfo2 then reads 0 (scripts/sanitize tsan)
    EXPECT_GT((*stats)["memory"]["heap_in_use_bytes"].get<std::uint64_t>(), 100'000u) << stats->dump();
#endif
    EXPECT_TRUE((*stats)["memory"]["heap_in_use_bytes"].is_number_unsigned()) << stats->dump();
    EXPECT_TRUE((*stats)["memory"]["heap_free_bytes"].is_number_unsigned()) << stats->dump();
    EXPECT_EQ((*stats)["memory"]["trims"], 0) << "the first trim comes after a minute";
  }
#endif
  const Site& site = s.scenario().site;
  for (int j = 0; j < 3; ++j) c.send("fix", fix("T3", 20 + j + (j == 1 ? shift : 0), 20, start_ms + 200 + 100 * j));
  for (int k = 0; k < 10; ++k) {
    const double x = k < 4 ? kStandX + 0.28 * (4 - k) : kStandX, y = kStandY;  // 1.4 m/s, then standing
    for (const Anchor& a : site.anchors)
      c.send("range", json{{"v", 1}, {"tag", "T1"}, {"anchor", a.id}, {"ts", start_ms + 1000 + 200 * k}, {"d", dist3(a, x, y)}});
    std::this_thread::sleep_for(150ms);  // the collection window (50 ms) closes
    if (k >= 5 && k <= 8) c.send("mark", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}, {"point", "SP-1"}});
  }
  std::this_thread::sleep_for(300ms);
  s.stop();
  EXPECT_TRUE(s.run_ok()) << s.run_error();
  return {s.loop().result(), s.loop().summary(), s.loop().scenario()};
}

TEST(LiveFixes, H03_H05_PL01_RangesAndMarksGiveTopLevelAccuracyTrueProvenanceFixHashAndFixesCsv) {
  const fs::path d = temp_dir("fixes");
  fs::create_directories(d / "live");
  const Walked w = walk(d / "live");
  std::string err;
  ASSERT_TRUE(write_live_report((d / "live").string(), w.scenario, w.result, w.summary, err)) << err;
  const json j = json::parse(read_file(d / "live" / "report.json"));
  const std::uint64_t solved = w.summary.counters.solved_fixes;
  EXPECT_EQ(solved, 10u);

  // PL-01 / H-05: the marks' accuracy at the top level, with run's keys
  ASSERT_TRUE(j.contains("accuracy")) << j.dump(2);
  const json& acc = j["accuracy"];
  for (const char* k : {"n", "mean", "cdf68", "cdf95", "median", "rmse", "p95", "max"}) EXPECT_TRUE(acc.contains(k)) << k;
  EXPECT_EQ(acc["n"], 4);
  const double truth = std::hypot(kStandX - 10, kStandY - 10);
  // the solver's filter settles after the walk: within 0.2 m of where T1 stands
  for (const char* k : {"mean", "cdf68", "cdf95", "median", "rmse", "p95", "max"}) EXPECT_NEAR(acc[k].get<double>(), truth, 0.2) << k;
  EXPECT_LE(acc["median"].get<double>(), acc["max"].get<double>());
  EXPECT_EQ(acc["p95"], acc["cdf95"]);
  // the live section's keys as they were
  EXPECT_EQ(j["live"]["mark_accuracy"]["n"], 4);
  EXPECT_EQ(j["live"]["mark_accuracy"].size(), 4u);  // n, mean, cdf68, cdf95
  EXPECT_EQ(j["live"]["mark_accuracy"]["cdf68"], acc["cdf68"]);
  ASSERT_EQ(j["live"]["marks"].size(), 1u);
  EXPECT_EQ(j["live"]["marks"][0]["point"], "SP-1");

  // H-03: provenance says what the session really was
  const json& prov = j["provenance"];
  EXPECT_EQ(prov["positioning"], "live");
  EXPECT_FALSE(prov.contains("noise_sigma")) << prov.dump(2);
  EXPECT_FALSE(prov.contains("fix_rate")) << prov.dump(2);
  EXPECT_EQ(prov["inputs"]["fix"], 3);
  EXPECT_EQ(prov["inputs"]["range"], 40);
  EXPECT_EQ(prov["inputs"]["tdoa"], 0);
  EXPECT_EQ(prov["inputs"]["mark"], 4);
  EXPECT_EQ(prov["solver"], true);
  EXPECT_EQ(prov["solver_epochs"], 10);
  EXPECT_EQ(prov["fixes"], 13);
  EXPECT_NEAR(prov["duration_s"].get<double>(), static_cast<double>(w.summary.end_t) / 1e6, 1e-9);
  EXPECT_FALSE(prov.contains("recording"));

  // H-05: fix_hash over every fix, in report.json and report.md
  const std::string h = j["fix_hash"];
  EXPECT_EQ(h, w.result.fix_hash);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_NE(h, std::string(64, '0'));
  EXPECT_NE(read_file(d / "live" / "report.md").find(h), std::string::npos);
  // H-05: report.html beside report.md, with the hash, the session's counters and the marks' CDF drawn
  const std::string html = read_file(d / "live" / "report.html");
  EXPECT_NE(html.find(h), std::string::npos);
  EXPECT_NE(html.find("Received / accepted / dropped"), std::string::npos);
  const size_t cdf = html.find("data-chart=\"accuracy-cdf\"");
  ASSERT_NE(cdf, std::string::npos);
  EXPECT_EQ(html.substr(cdf, 50).find("data-empty"), std::string::npos) << "the CDF of the marks is drawn";

  // fixes.csv: one row per fix; T3's at their device times; errors where a mark gave the truth
  const auto rows = read_csv(d / "live" / "fixes.csv");
  ASSERT_EQ(rows.size(), 1u + 13u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"t", "tag", "x", "y", "z", "floor", "error_2d", "error_3d"}));
  std::vector<std::string> t3;
  int t1 = 0, marked = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u) << i;
    if (rows[i][1] == "T3") {
      t3.push_back(rows[i][0]);
      EXPECT_EQ(rows[i][6], "");
      EXPECT_EQ(rows[i][7], "");
    } else {
      EXPECT_EQ(rows[i][1], "T1");
      ++t1;
      if (!rows[i][6].empty()) {
        // the error of the mark that met this fix
        ++marked;
        const double e = std::stod(rows[i][6]);
        const std::vector<double>& errors = w.summary.marks[0].errors;
        EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [e](double m) { return std::abs(m - e) < 0.0006; })) << e;
        EXPECT_GE(std::stod(rows[i][7]), e - 1e-3);
      }
    }
  }
  EXPECT_EQ(t3, (std::vector<std::string>{"0.200000", "0.300000", "0.400000"}));
  EXPECT_EQ(t1, 10);
  EXPECT_GE(marked, 1);
  EXPECT_LE(marked, 4);

  // the replay: the same fix_hash, fixes.csv and accuracy; provenance names the recording
  fs::create_directories(d / "replay");
  ReplayOptions ro;
  ro.fixes_csv = (d / "replay" / "fixes.csv").string();
  Scenario rsc;
  RunResult rr;
  LiveSummary rs;
  ASSERT_TRUE(replay_recording((d / "live" / "session.ptrec").string(), rsc, rr, rs, err, ro)) << err;
  ASSERT_TRUE(write_live_report((d / "replay").string(), rsc, rr, rs, err)) << err;
  const json rj = json::parse(read_file(d / "replay" / "report.json"));
  EXPECT_EQ(rr.fix_hash, w.result.fix_hash);
  EXPECT_EQ(rj["fix_hash"], h);
  EXPECT_EQ(rr.hash, w.result.hash);
  EXPECT_EQ(read_file(d / "replay" / "fixes.csv"), read_file(d / "live" / "fixes.csv"));
  EXPECT_EQ(rj["accuracy"], acc);
  EXPECT_EQ(rj["provenance"]["positioning"], "replay");
  EXPECT_EQ(rj["provenance"]["recording"], (d / "live" / "session.ptrec").string());
  EXPECT_EQ(rj["provenance"]["recording_sha256"], sha256_hex(read_file(d / "live" / "session.ptrec")));
  EXPECT_EQ(rj["provenance"]["inputs"], prov["inputs"]);
  EXPECT_EQ(rj["provenance"]["fixes"], 13);
  EXPECT_FALSE(rj["provenance"].contains("noise_sigma"));
  fs::remove_all(d);
}

TEST(LiveFixes, H05_FixHashIsEqualForIdenticalInputAndDiffersWhenOneFixDiffers) {
  const fs::path d = temp_dir("fixhash");
  const Walked a = walk(d / "a"), b = walk(d / "b"), c = walk(d / "c", 0.01);  // c: one fix 1 cm further east
  EXPECT_EQ(a.result.fixes, 13u);
  EXPECT_EQ(b.result.fixes, 13u);
  EXPECT_EQ(c.result.fixes, 13u);
  EXPECT_EQ(a.result.fix_hash, b.result.fix_hash);
  EXPECT_NE(a.result.fix_hash, c.result.fix_hash);
  // fixes.csv, without the error columns (a mark may meet the fix before or after a standing one):
  // a and b alike, a and c apart in exactly that fix
  auto fixes = [&](const char* who) {
    std::vector<std::vector<std::string>> v = read_csv(d / who / "fixes.csv");
    for (auto& r : v) r.resize(6);
    return v;
  };
  const auto fa = fixes("a"), fb = fixes("b"), fc = fixes("c");
  ASSERT_EQ(fa.size(), 14u);
  EXPECT_EQ(fa, fb);
  ASSERT_EQ(fc.size(), fa.size());
  std::vector<size_t> differ;
  for (size_t i = 0; i < fa.size(); ++i)
    if (fa[i] != fc[i]) differ.push_back(i);
  ASSERT_EQ(differ.size(), 1u);
  EXPECT_EQ(fa[differ[0]][1], "T3");
  EXPECT_EQ(fa[differ[0]][2], "21.000");
  EXPECT_EQ(fc[differ[0]][2], "21.010");
  fs::remove_all(d);
}

#endif

}  // namespace
}  // namespace planttwin::hil::test
