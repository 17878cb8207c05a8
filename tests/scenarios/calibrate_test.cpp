// Range calibration (issue 19, `planttwin calibrate`; H-02, H-05, PL-01): offsets per anchor (and
// per tag with several tags) recovered from residuals despite NLOS outliers; the site's
// range_offsets key and its load errors; a recorded run applying them; the command end to end.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/calibrate.h"
#include "scenarios/loader.h"
#include "tests/scenarios/temp_folder.h"
#include "scenarios/recorded_log.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

// residuals of `tags` tags to 6 anchors: offset_anchor + offset_tag + N(0, sigma), and 5 % NLOS
// outliers of +0.2 .. +3 m
std::vector<RangeResidual> synthetic(const std::vector<double>& anchor, const std::vector<double>& tag, int per_pair,
                                     double sigma, double nlos_share, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, sigma);
  std::uniform_real_distribution<double> u(0, 1), nlos(0.2, 3.0);
  std::vector<RangeResidual> out;
  for (int k = 0; k < per_pair; ++k)
    for (std::size_t j = 0; j < tag.size(); ++j)
      for (std::size_t i = 0; i < anchor.size(); ++i) {
        double e = anchor[i] + tag[j] + noise(rng);
        if (u(rng) < nlos_share) e += nlos(rng);
        out.push_back({static_cast<int>(i), static_cast<int>(j), e});
      }
  return out;
}

const std::vector<std::string> kAnchors = {"A1", "A2", "A3", "A4", "A5", "A6"};
const std::vector<double> kOffsets = {-0.22, 0.10, 0.0, 0.31, -0.05, 0.12};

TEST(RangeCalibration, H05_OneTagPerAnchorOffsetsRecoveredWithinMillimetresDespiteNlos) {
  const auto res = synthetic(kOffsets, {0.0}, 3000, 0.05, 0.05, 1);
  const RangeCalibration c = fit_range_offsets(kAnchors, {"T1"}, res);
  ASSERT_EQ(c.anchors.size(), 6u);
  EXPECT_FALSE(c.tags_separable);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(c.anchors[i].estimated);
    EXPECT_NEAR(c.anchors[i].offset, kOffsets[i], 0.003) << kAnchors[i];
    EXPECT_EQ(c.anchors[i].n, 3000u);
    EXPECT_LT(c.anchors[i].used, 3000u);  // the outliers are out
    EXPECT_GT(c.anchors[i].used, 2700u);
    EXPECT_NEAR(c.anchors[i].spread, 0.05, 0.01);
  }
  // one tag: no tag offsets in the site's range_offsets, and the reason is given
  const RangeOffsets o = c.offsets();
  EXPECT_EQ(o.anchors.size(), 6u);
  EXPECT_TRUE(o.tags.empty());
  EXPECT_NE(c.tags[0].why.find("folded into them"), std::string::npos);
  // plain means are pulled off by the outliers: the robust fit matters
  double mean0 = 0;
  int n0 = 0;
  for (const RangeResidual& r : res)
    if (r.anchor == 0) mean0 += r.e, ++n0;
  EXPECT_GT(mean0 / n0 - kOffsets[0], 0.05);
}

TEST(RangeCalibration, H05_SeveralTagsGiveAnchorAndTagOffsetsWithZeroMeanTags) {
  const std::vector<double> tags = {0.04, -0.06, 0.02};  // zero mean: recovered as they are
  const auto res = synthetic(kOffsets, tags, 1000, 0.05, 0.05, 2);
  const RangeCalibration c = fit_range_offsets(kAnchors, {"T1", "T2", "T3"}, res);
  EXPECT_TRUE(c.tags_separable);
  EXPECT_LT(c.iterations, 200) << "the alternating fit did not settle";
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(c.anchors[i].offset, kOffsets[i], 0.003) << kAnchors[i];
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(c.tags[j].offset, tags[j], 0.003) << j;
  EXPECT_EQ(c.offsets().tags.size(), 3u);

  // tags with a common part: it goes into the anchors, the tags keep their differences
  const std::vector<double> shifted = {0.10, 0.0, 0.05};
  const RangeCalibration d = fit_range_offsets(kAnchors, {"T1", "T2", "T3"}, synthetic(kOffsets, shifted, 1000, 0.05, 0.05, 3));
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(d.anchors[i].offset, kOffsets[i] + 0.05, 0.003);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(d.tags[j].offset, shifted[j] - 0.05, 0.003);
}

TEST(RangeCalibration, H05_AnchorsAndTagsWithTooFewRangesAreRefusedWithAReason) {
  auto res = synthetic({0.1, -0.1, 0.2}, {0.0, 0.0}, 100, 0.02, 0.0, 4);
  res.push_back({3, 0, 0.4});  // A4: one range
  res.push_back({3, 1, 0.4});
  res.push_back({0, 2, 0.0});  // T3: one range
  CalibrationOptions opt;
  opt.min_ranges = 50;
  const RangeCalibration c = fit_range_offsets({"A1", "A2", "A3", "A4"}, {"T1", "T2", "T3"}, res, opt);
  EXPECT_TRUE(c.anchors[0].estimated);
  EXPECT_FALSE(c.anchors[3].estimated);
  EXPECT_EQ(c.anchors[3].why, "only 2 ranges with truth (at least 50 needed; --min-ranges)");
  EXPECT_FALSE(c.tags[2].estimated);
  EXPECT_NE(c.tags[2].why.find("only 1 ranges"), std::string::npos);
  const RangeOffsets o = c.offsets();
  EXPECT_FALSE(o.anchors.count("A4"));
  EXPECT_FALSE(o.tags.count("T3"));
  EXPECT_TRUE(c.tags_separable);  // T1 and T2
  EXPECT_NEAR(o.anchors.at("A3"), 0.2, 0.01);
}

TEST(RangeCalibration, H05_RobustLocationIsTheMeanOfTheInliers) {
  std::uint64_t used = 0;
  double sigma = 0;
  EXPECT_DOUBLE_EQ(robust_location({1, 1, 1, 1, 50}, 3, &used, &sigma), 1);
  EXPECT_EQ(used, 4u);
  EXPECT_EQ(sigma, 0);
  EXPECT_EQ(robust_location({}, 3, &used), 0);
  EXPECT_EQ(used, 0u);
}

// ------------------------------------------------------------------------------------------------
// files: the site key, a recorded run with offsets, the command

class CalibrationFiles : public test::TempFolderTest {
 protected:
  CalibrationFiles() : TempFolderTest("planttwin_calibrate_") {}
  static constexpr const char* kSite = "site: yard\nanchors:\n  - {id: A1, at: [0, 0, 3]}\n  - {id: A2, at: [20, 0, 3]}\n"
                                       "  - {id: A3, at: [20, 20, 3]}\n  - {id: A4, at: [0, 20, 3]}\n";
  std::optional<LoadError> site(const std::string& extra, Site& s) {
    write("site.yaml", std::string(kSite) + extra);
    return load_site_file((dir / "site.yaml").string(), s);
  }
  // A walk around the yard at 10 Hz for 60 s, tag at 1.2 m; ranges + A1 +0.30, A3 -0.20, noise
  // 3 cm, 5 % NLOS of +0.3 .. 2 m
  void walk(bool truth = true) {
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(0, 0.03);
    std::uniform_real_distribution<double> u(0, 1), nlos(0.3, 2.0);
    const double ax[4] = {0, 20, 20, 0}, ay[4] = {0, 0, 20, 20}, off[4] = {0.30, 0, -0.20, 0};
    std::string r = "t,tag,anchor,d\n", t = "t,tag,x,y,z\n";
    for (int k = 0; k <= 600; ++k) {
      const double s = 0.1 * k, x = 10 + 6 * std::cos(s / 6), y = 10 + 6 * std::sin(s / 6);
      char b[128];
      std::snprintf(b, sizeof b, "%.3f,T1,%.4f,%.4f,1.2\n", s, x, y);
      t += b;
      for (int a = 0; a < 4; ++a) {
        double d = std::sqrt((x - ax[a]) * (x - ax[a]) + (y - ay[a]) * (y - ay[a]) + 1.8 * 1.8) + off[a] + noise(rng);
        if (u(rng) < 0.05) d += nlos(rng);
        std::snprintf(b, sizeof b, "%.3f,T1,A%d,%.4f\n", s, a + 1, d);
        r += b;
      }
    }
    write("ranges.csv", r);
    if (truth) write("truth.csv", t);
    write("s.yaml", std::string("scenario: yard-walk\nduration: 61s\nsite: site.yaml\npositioning: recorded\nrecorded:\n  ranges: ranges.csv\n") +
                        (truth ? "  truth: truth.csv\n" : "") + "people:\n  - {id: P1, tag: T1, at: [16, 10]}\n");
  }
  int command(const std::string& args, std::string& output) {
    const std::string cmd = std::string(PLANTTWIN_COMMAND) + " calibrate " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return -1;
    char buf[4096];
    output.clear();
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) output.append(buf, n);
    const int st = ::pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
};

TEST_F(CalibrationFiles, H02_RangeOffsetsInlineOrFromAFileRelativeToTheSite) {
  Site s;
  auto err = site("range_offsets: {anchors: {A1: -0.22, A3: 0.1}, tags: {T1: 0.01, T9: -0.02}}\n", s);
  ASSERT_FALSE(err) << err->to_string();
  EXPECT_DOUBLE_EQ(s.range_offsets.anchors.at("A1"), -0.22);
  EXPECT_DOUBLE_EQ(s.range_offsets.anchors.at("A3"), 0.1);
  EXPECT_EQ(s.range_offsets.anchors.size(), 2u);
  EXPECT_DOUBLE_EQ(s.range_offsets.tags.at("T9"), -0.02);  // tag ids are not checked
  EXPECT_TRUE(s.range_offsets.file.empty());

  fs::create_directories(dir / "cal");
  write("cal/offsets.yaml", "# from calibrate\nanchors:\n  A2: 0.05\n");
  err = site("range_offsets: cal/offsets.yaml\n", s);
  ASSERT_FALSE(err) << err->to_string();
  EXPECT_DOUBLE_EQ(s.range_offsets.anchors.at("A2"), 0.05);
  EXPECT_TRUE(s.range_offsets.tags.empty());
  EXPECT_EQ(s.range_offsets.file, (dir / "cal/offsets.yaml").string());

  // no key: none
  err = site("", s);
  ASSERT_FALSE(err);
  EXPECT_TRUE(s.range_offsets.empty());
}

TEST_F(CalibrationFiles, H02_RangeOffsetErrorsNameFileLineAndKey) {
  Site s;
  const std::string f = (dir / "site.yaml").string();
  auto err = site("range_offsets:\n  anchors:\n    A1: 0.1\n    A7: -0.2\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->to_string(), f + ":10: range_offsets.anchors.A7: unknown anchor 'A7' (the site has: A1, A2, A3, A4)");
  err = site("range_offsets: {anchors: {A1: .nan}}\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->key, "range_offsets.anchors.A1");
  EXPECT_EQ(err->line, 7);
  EXPECT_NE(err->message.find("expected a finite number"), std::string::npos) << err->message;
  err = site("range_offsets: {tags: {T1: -.inf}}\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->key, "range_offsets.tags.T1");
  err = site("range_offsets: {anchors: {A1: 5.5}}\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->key, "range_offsets.anchors.A1");
  EXPECT_NE(err->message.find("beyond +-5 m"), std::string::npos) << err->message;
  err = site("range_offsets: {anchors: {A1: -5}}\n", s);  // the bound itself is allowed
  EXPECT_FALSE(err);
  err = site("range_offsets: {anchors: {A1: 20cm}}\n", s);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("expected a number"), std::string::npos);
  err = site("range_offsets: {anchor: {A1: 0.1}}\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->key, "range_offsets.anchor");
  EXPECT_NE(err->message.find("unknown key 'anchor' (allowed: anchors, tags)"), std::string::npos);
  err = site("range_offsets: missing.yaml\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->to_string(), f + ":7: range_offsets: cannot read range offsets file '" + (dir / "missing.yaml").string() + "': no such file");
  // an error inside the offsets file names that file and its line
  write("off.yaml", "anchors:\n  A1: 0.1\n  A2: 9\n");
  err = site("range_offsets: off.yaml\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->file, (dir / "off.yaml").string());
  EXPECT_EQ(err->line, 3);
  EXPECT_EQ(err->key, "range_offsets.anchors.A2");
  write("off.yaml", "- A1\n");
  err = site("range_offsets: off.yaml\n", s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->file, (dir / "off.yaml").string());
  EXPECT_NE(err->message.find("expected a mapping"), std::string::npos);
}

TEST_F(CalibrationFiles, PL01_ARecordedRunTakesTheSitesOffsetsOffTheRanges) {
  walk();
  auto run = [&](const std::string& offsets, RunResult& r) {
    write("site.yaml", std::string(kSite) + offsets);
    Scenario sc;
    const auto err = load_scenario_file((dir / "s.yaml").string(), sc);
    ASSERT_FALSE(err) << err->to_string();
    std::string error;
    ASSERT_TRUE(run_scenario(sc, RunOptions{}, r, error)) << error;
    ASSERT_TRUE(r.accuracy && r.recorded);
  };
  RunResult before, after;
  run("", before);
  run("range_offsets: {anchors: {A1: 0.30, A3: -0.20}}\n", after);
  EXPECT_GT(before.accuracy->median, 0.1);
  EXPECT_LT(after.accuracy->median, 0.05);
  EXPECT_LT(after.accuracy->rmse, before.accuracy->rmse);
  // residuals are of the ranges as the solver uses them: the offsets are gone from them
  EXPECT_NEAR(before.recorded->anchors[0].median, 0.30, 0.01);
  EXPECT_NEAR(after.recorded->anchors[0].median, 0.0, 0.01);
  EXPECT_NEAR(after.recorded->anchors[2].median, 0.0, 0.01);
  // a tag offset is applied too: 0.1 m on T1 moves every residual by -0.1
  RunResult tagged;
  run("range_offsets: {anchors: {A1: 0.30, A3: -0.20}, tags: {T1: 0.1}}\n", tagged);
  EXPECT_NEAR(tagged.recorded->anchors[1].median, after.recorded->anchors[1].median - 0.1, 1e-3);
}

TEST_F(CalibrationFiles, H05_ResidualsFromTheLogRecoverTheOffsets) {
  walk();
  write("site.yaml", kSite);
  Scenario sc;
  ASSERT_FALSE(load_scenario_file((dir / "s.yaml").string(), sc));
  RecordedLog log;
  std::string error;
  ASSERT_TRUE(read_recorded_log(sc, log, error)) << error;
  const auto res = range_residuals(sc, log);
  EXPECT_EQ(res.size(), 4u * 601u);
  const RangeCalibration c = fit_range_offsets({"A1", "A2", "A3", "A4"}, log.tags, res);
  EXPECT_NEAR(c.anchors[0].offset, 0.30, 0.005);
  EXPECT_NEAR(c.anchors[1].offset, 0.0, 0.005);
  EXPECT_NEAR(c.anchors[2].offset, -0.20, 0.005);
  EXPECT_NEAR(c.anchors[3].offset, 0.0, 0.005);
}

TEST_F(CalibrationFiles, H05_TheCommandWritesOffsetsTheSiteLoadsAndReportsBeforeAndAfter) {
  walk();
  write("site.yaml", kSite);
  std::string out;
  ASSERT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "cal" / "offsets.yaml").string() + " --report " + (dir / "rep").string(), out),
            0)
      << out;
  EXPECT_NE(out.find("range_offsets: cal/offsets.yaml"), std::string::npos) << out;
  EXPECT_NE(out.find("one tag"), std::string::npos) << out;
  // the site names the file: the offsets load
  write("site.yaml", std::string(kSite) + "range_offsets: cal/offsets.yaml\n");
  Scenario sc;
  const auto err = load_scenario_file((dir / "s.yaml").string(), sc);
  ASSERT_FALSE(err) << err->to_string();
  EXPECT_NEAR(sc.site.range_offsets.anchors.at("A1"), 0.30, 0.005);
  EXPECT_NEAR(sc.site.range_offsets.anchors.at("A3"), -0.20, 0.005);
  EXPECT_TRUE(sc.site.range_offsets.tags.empty());
  // the report
  const auto j = nlohmann::json::parse(read(dir / "rep" / "calibration.json"));
  EXPECT_EQ(j["format"], "planttwin-calibration/1");
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["role"], "fit");
  EXPECT_LT(j["runs"][0]["after"]["rmse"].get<double>(), j["runs"][0]["before"]["rmse"].get<double>());
  EXPECT_LT(j["runs"][0]["after"]["median"].get<double>(), 0.05);
  EXPECT_NEAR(j["runs"][0]["residuals"][0]["after"]["median"].get<double>(), 0.0, 0.01);
  const std::string md = read(dir / "rep" / "calibration.md");
  EXPECT_NE(md.find("## 基站偏差 Anchor offsets"), std::string::npos);
  EXPECT_NE(md.find("## 标定前后 Before and after"), std::string::npos);

  // --validate: another scenario (here the same walk, whose site now names the offsets: the run
  // "as it is" already has them); --tag-height 1.2 is the truth's own height here: the same fit
  ASSERT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "o3.yaml").string() + " --tag-height 1.2 --validate " +
                        (dir / "s.yaml").string() + " --report " + (dir / "rep3").string(),
                    out),
            0)
      << out;
  const auto j3 = nlohmann::json::parse(read(dir / "rep3" / "calibration.json"));
  ASSERT_EQ(j3["runs"].size(), 2u);
  EXPECT_EQ(j3["runs"][1]["role"], "validation");
  EXPECT_EQ(j3["tag_height"].get<double>(), 1.2);
  EXPECT_NEAR(j3["anchors"][0]["offset"].get<double>(), 0.30, 0.005);
  EXPECT_LT(j3["runs"][1]["before"]["median"].get<double>(), 0.05);  // the site's offsets were already in
  EXPECT_NE(out.find("the site already has range_offsets"), std::string::npos) << out;
  ASSERT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "o4.yaml").string() + " --tag-height high", out), 2);
  EXPECT_NE(out.find("--tag-height: 'high' is not a height in metres"), std::string::npos) << out;
  ASSERT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "o2.yaml").string() + " --validate " + (dir / "s.yaml").string() +
                        " --min-ranges 700",
                    out),
            2)
      << out;  // 601 ranges per anchor: every anchor refused
  EXPECT_NE(out.find("anchor A1: no offset: only 601 ranges with truth (at least 700 needed; --min-ranges)"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "o2.yaml"));
}

TEST_F(CalibrationFiles, H05_AScenarioWithoutTruthIsBadInput) {
  walk(false);
  write("site.yaml", kSite);
  std::string out;
  EXPECT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "o.yaml").string(), out), 2);
  EXPECT_NE(out.find("calibrate needs a scenario with positioning: recorded"), std::string::npos) << out;
  EXPECT_NE(out.find("this one has no truth log"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "o.yaml"));
  // a load error: exit 2 with file, line and key
  write("site.yaml", std::string(kSite) + "range_offsets: {anchors: {B1: 0.1}}\n");
  EXPECT_EQ(command((dir / "s.yaml").string() + " --out " + (dir / "o.yaml").string(), out), 2);
  EXPECT_NE(out.find("range_offsets.anchors.B1: unknown anchor 'B1'"), std::string::npos) << out;
}

}  // namespace
}  // namespace planttwin
