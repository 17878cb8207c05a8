// The runner and the command end to end: truth-mode timing, noise and accuracy, expectations,
// report contents, exit codes, and determinism (golden hash, thread count) (H-01, H-05).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

const std::string kSite = R"(
site:
  site: inline-test
  zones:
    - {id: Z, kind: high_risk, polygon: [[0, 0], [20, 0], [20, 20], [0, 20]], authorized: {roles: [operator]}}
)";

Scenario load(const std::string& body) {
  Scenario sc;
  const auto err = load_scenario_text(body, "test.yaml", sc);
  EXPECT_FALSE(err.has_value()) << (err ? err->to_string() : "");
  return sc;
}

RunResult run(const Scenario& sc) {
  RunResult r;
  std::string error;
  EXPECT_TRUE(run_scenario(sc, RunOptions{}, r, error)) << error;
  return r;
}

const Alarm* first(const RunResult& r, const std::string& type) {
  for (const Alarm& a : r.alarms)
    if (to_string(a.type) == type) return &a;
  return nullptr;
}

TEST(Runner, PL04_WalkIsInterpolatedAndEntryTimeFollowsFromGeometry) {
  // walks from x = -12 at 1.2 m/s: reaches the edge x = 0 at t = 10 s exactly
  const Scenario sc = load("scenario: walk\nduration: 50s\n" + kSite + R"(
people:
  - {id: V, category: visitor, tag: TV, at: [-12, 10]}
script:
  - {t: 0s, who: V, go_to: [10, 10], speed: 1.2}
expect:
  - {alarm: boundary_crossing, who: V, between: [10s, 10s], req: PL-04}
  - {alarm: boundary_crossing, event: escalated, between: [41s, 41s], req: PL-05}
)");
  const RunResult r = run(sc);
  EXPECT_TRUE(r.passed) << r.expectations.at(0).detail << " / " << r.expectations.at(1).detail;
}

TEST(Runner, PL06_ActionsAtTimeTComeBeforeTheFixesAtT) {
  // the SOS and the move at 5 s: the SOS is raised where the person stood before the fix at 5 s
  const Scenario sc = load("scenario: order\nduration: 10s\n" + kSite + R"(
people:
  - {id: A, tag: TA, at: [50, 50]}
script:
  - {t: 5s, who: A, place: [60, 60]}
  - {t: 5s, who: A, press: sos}
)");
  const RunResult r = run(sc);
  const Alarm* a = first(r, "sos");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->raised_at, 5 * kSecond);
  EXPECT_DOUBLE_EQ(a->pos.x, 50) << "the SOS input precedes the fix sampled at 5 s";
}

TEST(Runner, H06_TruthNoiseGivesTheExpectedAccuracyAndAnOracleComparison) {
  const Scenario sc = load("scenario: noise\nduration: 300s\nseed: 3\npositioning: {mode: truth, noise_sigma: 0.5}\n" + kSite + R"(
people:
  - {id: A, tag: TA, at: [50, 50]}
  - {id: B, tag: TB, at: [52, 50]}
  - {id: C, tag: TC, at: [54, 50]}
)");
  const RunResult r = run(sc);
  ASSERT_TRUE(r.accuracy.has_value());
  EXPECT_EQ(r.accuracy->n, 3u * 301u);
  // 2D Gaussian: the 68.27 % point of the radial error is sqrt(-2 ln(1 - 0.6827)) sigma = 1.515 sigma
  EXPECT_NEAR(r.accuracy->cdf68, 1.515 * 0.5, 0.08);
  ASSERT_TRUE(r.alarm_quality.has_value());
  EXPECT_GE(r.alarm_quality->compared, 1u) << "the oracle twin saw the gathering";
  EXPECT_EQ(r.alarm_quality->missed, 0.0);
}

TEST(Runner, H01_SameSeedSameHash_OtherSeedOtherNoise) {
  const std::string body = "scenario: seeds\nduration: 120s\npositioning: {mode: truth, noise_sigma: 3}\n" + kSite + R"(
people:
  - {id: A, tag: TA, at: [10, 10]}
  - {id: B, tag: TB, at: [12, 10]}
  - {id: C, tag: TC, at: [14, 10]}
  - {id: D, category: visitor, tag: TD, at: [19, 10]}
)";
  const RunResult a = run(load(body + "seed: 1\n")), b = run(load(body + "seed: 1\n")), c = run(load(body + "seed: 2\n"));
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.canonical_stream, b.canonical_stream);
  EXPECT_NE(a.accuracy->mean, c.accuracy->mean);
}

TEST(Runner, PL07_EveryZoneEntryIsRecordedEvenWhenAnotherLeavesAtOnce) {
  // A enters Z as B (same category) leaves it at the same instant: the headcount does not change,
  // but one entry happened
  const Scenario sc = load("scenario: entries\nduration: 10s\n" + kSite + R"(
people:
  - {id: A, roles: [operator], tag: TA, at: [-10, 5]}
  - {id: B, roles: [operator], tag: TB, at: [5, 5]}
script:
  - {t: 5s, who: A, place: [5, 6]}
  - {t: 5s, who: B, place: [-10, 6]}
)");
  const RunResult r = run(sc);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].person, "B");
  EXPECT_EQ(r.entries[0].t, 0);
  EXPECT_EQ(r.entries[1].person, "A");
  EXPECT_EQ(r.entries[1].t, 5 * kSecond);
  EXPECT_EQ(r.entries[1].zone, "Z");
}

TEST(Runner, H05_FailingExpectationsCarryEvidence) {
  const Scenario sc = load("scenario: fail\nduration: 30s\n" + kSite + R"(
people:
  - {id: A, tag: TA, at: [50, 50]}
expect:
  - {alarm: sos, between: [0s, 30s], req: PL-06}
  - {zone_count: {zone: Z, count: 1}, at: 10s, req: PL-01}
)");
  const RunResult r = run(sc);
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.expectations.size(), 2u);
  EXPECT_FALSE(r.expectations[0].passed);
  EXPECT_NE(r.expectations[0].detail.find("found 0"), std::string::npos) << r.expectations[0].detail;
  EXPECT_NE(r.expectations[1].detail.find("headcount of Z at 10.000 s: 0 (expected 1)"), std::string::npos) << r.expectations[1].detail;
}

TEST(Report, H05_ReportJsonHoldsTheRunResultFields) {
  const Scenario sc = load("scenario: fields\nduration: 70s\nrequirements: [PL-02, PL-06]\n" + kSite + R"(
people:
  - {id: A, tag: TA, at: [50, 50]}
  - {id: B, tag: TB, at: [51, 50]}
  - {id: C, tag: TC, at: [52, 50]}
script:
  - {t: 3s, who: A, press: sos}
expect:
  - {alarm: gathering, level: yellow, between: [61s, 61s], req: PL-02}
)");
  const RunResult r = run(sc);
  const auto j = report_json(sc, r);
  for (const char* k : {"scenario", "passed", "provenance", "expectations", "alarms", "refusals", "hash"}) EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"version", "scenario_sha256", "site_sha256", "seed"}) EXPECT_TRUE(j["provenance"].contains(k)) << k;
  ASSERT_GE(j["alarms"].size(), 2u);
  for (const char* k : {"id", "type", "level", "code", "raised_at", "cleared_at", "events", "who", "zone", "permit"})
    EXPECT_TRUE(j["alarms"][0].contains(k)) << k;
  EXPECT_EQ(j["alarms"][0]["type"], "sos");
  EXPECT_EQ(j["alarms"][0]["raised_at"], 3.0);
  EXPECT_EQ(j["hash"].get<std::string>().size(), 64u);
  EXPECT_FALSE(j.contains("accuracy")) << "fixes are the true positions";
  // PL-06 is named but no expectation carries it: the report says so instead of passing it
  const auto outcomes = requirement_outcomes(sc, r);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].status, "passed");
  EXPECT_EQ(outcomes[1].status, "untested");
  const std::string md = report_markdown(sc, r);
  EXPECT_NE(md.find("通过 PASS"), std::string::npos);
  EXPECT_NE(md.find("一键报警"), std::string::npos);
}

TEST(Report, SO04_PermitsRefusalsAndThePrintablePermit) {
  const Scenario sc = load("scenario: permit\nduration: 120s\n" + kSite + R"(
people:
  - {id: W, name: 李焊工, category: contractor, tag: TW, at: [5, 5], certificates: [{type: welding, number: H1, expires: 2027-01-01}]}
  - {id: G, name: 周监护, roles: [operator], tag: TG, at: [6, 5], certificates: [{type: guardian, number: G1, expires: 2027-01-01}]}
  - {id: A, name: 钱主任, roles: [operator], tag: TA, at: [7, 5]}
script:
  - {t: 0s, permit: {action: reserve, id: R1, type: hot_work, area: [[0, 0], [10, 0], [10, 10], [0, 10]], from: 0s, to: 4h, urgent: true}}
  - {t: 1s, permit: {action: approve_reservation, id: R1, by: A}}
  - {t: 2s, permit: {action: apply, id: P1, reservation: R1, type: hot_work, grade: 2, area: [[0, 0], [10, 0], [10, 10], [0, 10]],
                     workers: [W], guardian: G, approver: A, from: 2s, to: 4h}}
  - {t: 3s, permit: {action: approve, id: P1, by: A}}
expect:
  - {refused: {permit: P1, action: approve}, code: "80", req: SO-02}
  - {permit_status: {id: P1, status: applied}, at: 10s, req: SO-04}
  - {permit_status: {id: R1, status: approved}, at: 1s, req: SO-01}
)");
  const RunResult r = run(sc);
  EXPECT_TRUE(r.passed) << r.expectations.at(0).detail << " / " << r.expectations.at(1).detail << " / " << r.expectations.at(2).detail;
  const auto j = report_json(sc, r);
  ASSERT_EQ(j["permits"].size(), 1u);
  EXPECT_EQ(j["permits"][0]["status"], "applied");
  EXPECT_EQ(j["permits"][0]["aq2_status"], 0);
  ASSERT_EQ(j["refusals"].size(), 1u);
  EXPECT_EQ(j["refusals"][0]["action"], "approve");
  EXPECT_EQ(j["statistics"]["alarm_codes"]["80"], 1);
  EXPECT_EQ(j["statistics"]["permits"]["today"], nlohmann::json::array({"P1"}));
  ASSERT_EQ(r.permits.size(), 1u);
  const std::string html = permit_html(sc, r, r.permits[0]);
  EXPECT_NE(html.find("<h1>动火安全作业票"), std::string::npos) << "the GB 30871 App. A title";
  EXPECT_NE(html.find("李焊工 (W) [welding H1]"), std::string::npos);
  EXPECT_NE(html.find("no_risk_analysis (80)"), std::string::npos) << html;
}

TEST(Report, SO05_SummaryListsEveryAq2CodeWithItsEvidence) {
  SummaryRow a, b;
  a.scenario = "a";
  a.codes = {{"80", 2}, {"31", 1}};
  b.scenario = "b";
  b.codes = {{"31", 1}};
  const auto j = summary_json({a, b});
  ASSERT_EQ(j["aq2_codes"].size(), 22u) << "every code of AQ 3064.2 Table A.4";
  for (const auto& c : j["aq2_codes"]) {
    if (c["code"] == "31") {
      EXPECT_EQ(c["alarms"], 2);
      EXPECT_EQ(c["scenarios"], nlohmann::json::array({"a", "b"}));
    } else if (c["code"] == "80") {
      EXPECT_EQ(c["type"], "no_risk_analysis");
      EXPECT_EQ(c["scenarios"], nlohmann::json::array({"a"}));
    } else {
      EXPECT_EQ(c["alarms"], 0) << c["code"];
    }
  }
  EXPECT_NE(summary_markdown({a, b}).find("未覆盖 not exercised"), std::string::npos);
}

// ---- the command ---------------------------------------------------------------------------

const std::string kBin = std::string(PLANTTWIN_COMMAND);

int run_cli(const std::string& args) {
  const int rc = std::system((kBin + " " + args + " > /dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

fs::path temp_dir(const std::string& name) { return test::temp_dir_removed_at_exit("planttwin-test", name); }

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Command, H05_ExitCodes_0Pass_1Fail_2BadInput) {
  const fs::path d = temp_dir("exit");
  write(d / "pass.yaml", "scenario: p\nduration: 10s\n" + kSite + "people:\n  - {id: A, tag: TA, at: [50, 50]}\nexpect:\n  - {no_alarm: sos}\n");
  write(d / "fail.yaml", "scenario: f\nduration: 10s\n" + kSite + "people:\n  - {id: A, tag: TA, at: [50, 50]}\nexpect:\n  - {alarm: sos, between: [0s, 10s]}\n");
  write(d / "bad.yaml", "scenario: b\nduration: 10s\n" + kSite + "people:\n  - {id: A, tag: TA, at: [50, 50], colour: red}\n");
  EXPECT_EQ(run_cli("run " + (d / "pass.yaml").string()), 0);
  EXPECT_EQ(run_cli("run " + (d / "fail.yaml").string()), 1);
  EXPECT_EQ(run_cli("run " + (d / "bad.yaml").string()), 2);
  // a bad radio key stops the run at load, in truth mode too (H-02)
  write(d / "radio.yaml", "scenario: r\nduration: 10s\nradio: {los: {sigmaa: 0.1}}\n" + kSite + "people:\n  - {id: A, tag: TA, at: [50, 50]}\n");
  EXPECT_EQ(run_cli("run " + (d / "radio.yaml").string()), 2);
  EXPECT_EQ(run_cli("run " + d.string()), 2) << "one bad file stops the whole run before it starts";
  EXPECT_EQ(run_cli("run " + (d / "missing.yaml").string()), 2);
}

TEST(Command, H01_ResultDoesNotDependOnTheThreadCount) {
  const fs::path out1 = temp_dir("t1"), out2 = temp_dir("t2");
  const std::string suite = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/acceptance";
  const int rc1 = run_cli("run " + suite + " --threads 1 --report " + out1.string());
  const int rc2 = run_cli("run " + suite + " --threads 2 --report " + out2.string());
  EXPECT_EQ(rc1, rc2);
  auto s1 = nlohmann::json::parse(read(out1 / "summary.json")), s2 = nlohmann::json::parse(read(out2 / "summary.json"));
  ASSERT_EQ(s1["scenarios"].size(), s2["scenarios"].size());
  ASSERT_GE(s1["scenarios"].size(), 2u);
  for (size_t i = 0; i < s1["scenarios"].size(); ++i) {
    EXPECT_EQ(s1["scenarios"][i]["hash"], s2["scenarios"][i]["hash"]) << s1["scenarios"][i]["file"];
    const std::string dir = fs::path(s1["scenarios"][i]["file"].get<std::string>()).stem().string();
    EXPECT_EQ(read(out1 / dir / "report.json"), read(out2 / dir / "report.json"));
  }
}

// H-01: --threaded-min-tags only says from how many tags a simulated run uses its threads: a
// calibration run of a few tags threaded (1) and on one thread (the default, 100, and 6) gives the
// same report; 0 is refused as bad input.
TEST(Command, H01_ThreadedMinTagsChangesNoResult) {
  const std::string sc = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/calibration/los.yaml";
  std::string reports[3];
  const char* settings[3] = {"--threaded-min-tags 1", "", "--threaded-min-tags 6"};
  for (int k = 0; k < 3; ++k) {
    const fs::path out = temp_dir("tmt" + std::to_string(k));
    ASSERT_EQ(run_cli("run " + sc + " --threads 2 " + settings[k] + " --report " + out.string()), 0) << settings[k];
    reports[k] = read(out / "report.json");
    ASSERT_FALSE(reports[k].empty());
  }
  EXPECT_EQ(reports[0], reports[1]);
  EXPECT_EQ(reports[0], reports[2]);
  EXPECT_EQ(run_cli("run " + sc + " --threaded-min-tags 0"), 2);
}

}  // namespace
}  // namespace planttwin
