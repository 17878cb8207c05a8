// H-01: checkpoints resume exactly (issue 12). For every scenario under scenarios/ (acceptance,
// aq3064, calibration, drills, examples): a run writes a checkpoint every 10 s of engine time;
// each checkpoint, restored into fresh engines, runs to the next one and is there in the same state
// (every record of the two files equal, the engine states equal as EngineState); the run resumed
// from the first, a middle and the last checkpoint gives the same hash and report as the
// uninterrupted run. Plus the refusals: another scenario, another format version, damage.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/checkpoint.h"
#include "scenarios/checkpoint.h"
#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("planttwin-ck-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Scenario load(const std::string& rel) {
  Scenario sc;
  const auto err = load_scenario_file(std::string(PLANTTWIN_SOURCE_DIR) + "/" + rel, sc);
  EXPECT_FALSE(err.has_value()) << err->to_string();
  return sc;
}

RunCheckpoint read(const std::string& path) {
  RunCheckpoint c;
  std::string why;
  EXPECT_TRUE(read_checkpoint_file(path, c, why)) << why;
  return c;
}

EngineState state_of(const std::string& bytes) {
  EngineState s;
  std::string why;
  EXPECT_TRUE(decode_state(bytes, s, why)) << why;
  return s;
}

std::vector<std::string> scenario_files(const std::string& folder) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(fs::path(PLANTTWIN_SOURCE_DIR) / "scenarios" / folder))
    if (e.path().extension() == ".yaml") v.push_back("scenarios/" + folder + "/" + e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// The whole proof for one scenario.
void prove(const std::string& rel) {
  SCOPED_TRACE(rel);
  const Scenario sc = load(rel);
  const fs::path dir = temp_dir(fs::path(rel).stem().string());
  RunOptions opt;
  opt.checkpoint_every = 10 * kSecond;
  opt.checkpoint_dir = (dir / "all").string();
  fs::create_directories(opt.checkpoint_dir);
  RunResult full;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, opt, full, error)) << error;
  ASSERT_FALSE(full.checkpoints.empty());
  // one file per multiple of 10 s that the run reached, named in time order
  EXPECT_EQ(full.checkpoints.size(), static_cast<size_t>(sc.duration / (10 * kSecond)));
  EXPECT_TRUE(std::is_sorted(full.checkpoints.begin(), full.checkpoints.end()));
  size_t ptck = 0;
  for (const auto& e : fs::directory_iterator(opt.checkpoint_dir)) ptck += e.path().extension() == ".ptck";
  EXPECT_EQ(ptck, full.checkpoints.size()) << "nothing else in the folder ends in .ptck";

  // each checkpoint, restored into fresh engines, reaches the next one in the same state
  for (size_t i = 0; i + 1 < full.checkpoints.size(); ++i) {
    SCOPED_TRACE(full.checkpoints[i]);
    const RunCheckpoint from = read(full.checkpoints[i]);
    const RunCheckpoint want = read(full.checkpoints[i + 1]);
    RunOptions step;
    step.checkpoint_every = opt.checkpoint_every;
    step.checkpoint_dir = (dir / ("step" + std::to_string(i))).string();
    fs::create_directories(step.checkpoint_dir);
    step.resume = &from;
    step.stop_after = want.meta.t;
    RunResult part;
    ASSERT_TRUE(run_scenario(sc, step, part, error)) << error;
    ASSERT_TRUE(part.stopped);
    ASSERT_EQ(part.checkpoints.size(), 1u);
    const RunCheckpoint got = read(part.checkpoints[0]);
    EXPECT_EQ(got.meta.t, want.meta.t);
    EXPECT_TRUE(state_of(got.engine) == state_of(want.engine)) << "engine states differ";
    EXPECT_EQ(got.engine, want.engine);
    EXPECT_EQ(got.oracle, want.oracle);
    EXPECT_EQ(got.runner, want.runner);
    EXPECT_EQ(got.sim, want.sim);
    fs::remove_all(step.checkpoint_dir);
    if (::testing::Test::HasFailure()) return;
  }

  // to the end from the first, a middle and the last checkpoint: the same hash and report
  const size_t n = full.checkpoints.size();
  for (size_t i : {size_t{0}, n / 2, n - 1}) {
    SCOPED_TRACE("resume from " + full.checkpoints[i]);
    const RunCheckpoint from = read(full.checkpoints[i]);
    RunOptions o;
    o.resume = &from;
    RunResult r;
    ASSERT_TRUE(run_scenario(sc, o, r, error)) << error;
    EXPECT_EQ(r.hash, full.hash);
    EXPECT_EQ(r.fix_hash, full.fix_hash);  // issue 19: the fix stream's hash goes on across a resume
    EXPECT_EQ(r.canonical_stream, full.canonical_stream);
    ASSERT_TRUE(r.resumed_at.has_value());
    EXPECT_EQ(*r.resumed_at, to_seconds(from.meta.t));
    nlohmann::ordered_json a = report_json(sc, full), b = report_json(sc, r);
    EXPECT_EQ(b["provenance"]["resumed_at"].get<double>(), to_seconds(from.meta.t));
    b["provenance"].erase("resumed_at");
    EXPECT_EQ(a.dump(), b.dump()) << "the resumed report differs from the uninterrupted one";
  }
  fs::remove_all(dir);
}

class CheckpointEvery10s : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckpointEvery10s, H01_EachCheckpointReachesTheNextInTheSameStateAndResumesToTheSameHash) { prove(GetParam()); }

std::string test_name(const ::testing::TestParamInfo<std::string>& p) {
  std::string s = fs::path(p.param).parent_path().filename().string() + "_" + fs::path(p.param).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Acceptance, CheckpointEvery10s, ::testing::ValuesIn(scenario_files("acceptance")), test_name);
INSTANTIATE_TEST_SUITE_P(Examples, CheckpointEvery10s, ::testing::ValuesIn(scenario_files("examples")), test_name);
INSTANTIATE_TEST_SUITE_P(Drills, CheckpointEvery10s, ::testing::ValuesIn(scenario_files("drills")), test_name);
INSTANTIATE_TEST_SUITE_P(Aq3064, CheckpointEvery10s, ::testing::ValuesIn(scenario_files("aq3064")), test_name);
INSTANTIATE_TEST_SUITE_P(Calibration, CheckpointEvery10s, ::testing::ValuesIn(scenario_files("calibration")), test_name);

// ---- refusals ----------------------------------------------------------------------------------

struct Written {
  Scenario sc;
  fs::path dir;
  std::vector<std::string> files;
};

Written write_some(const std::string& rel, const std::string& name) {
  Written w;
  w.sc = load(rel);
  w.dir = temp_dir(name);
  RunOptions opt;
  opt.checkpoint_every = 30 * kSecond;
  opt.checkpoint_dir = w.dir.string();
  RunResult r;
  std::string error;
  EXPECT_TRUE(run_scenario(w.sc, opt, r, error)) << error;
  w.files = r.checkpoints;
  return w;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(Checkpoint, H01_FileNamesSortInTimeOrder) {
  EXPECT_EQ(checkpoint_file_name("h01", 120 * kSecond), "h01-t000120.000.ptck");
  EXPECT_EQ(checkpoint_file_name("a b/c", 5 * kMillisecond), "a_b_c-t000000.005.ptck");
  EXPECT_LT(checkpoint_file_name("x", 9 * kSecond), checkpoint_file_name("x", 10 * kSecond));
  EXPECT_LT(checkpoint_file_name("x", 99999 * kSecond), checkpoint_file_name("x", 100000 * kSecond));
}

TEST(Checkpoint, H01_AnotherScenarioIsRefusedNamingIt) {
  Written w = write_some("scenarios/acceptance/h01-mixed-canonical.yaml", "other");
  ASSERT_FALSE(w.files.empty());
  const RunCheckpoint ck = read(w.files[0]);
  const Scenario other = load("scenarios/acceptance/pl06-sos.yaml");
  RunOptions o;
  o.resume = &ck;
  RunResult r;
  std::string error;
  EXPECT_FALSE(run_scenario(other, o, r, error));
  EXPECT_NE(error.find("scenario 'h01-mixed-canonical', not 'pl06-sos'"), std::string::npos) << error;
  // the same scenario on a changed site (a rule differs): the model fingerprint differs
  Scenario changed = w.sc;
  changed.site.rules.gathering.radius = 14;
  error.clear();
  EXPECT_FALSE(run_scenario(changed, o, r, error));
  EXPECT_NE(error.find("another engine set-up"), std::string::npos) << error;
  Scenario moved_site = w.sc;
  moved_site.site_sha256 = "0000";
  error.clear();
  EXPECT_FALSE(run_scenario(moved_site, o, r, error));
  EXPECT_NE(error.find("site"), std::string::npos) << error;
  fs::remove_all(w.dir);
}

// fixes.csv of a resumed run: the interrupted run's file is cut back to the checkpoint and continued,
// byte for byte the uninterrupted run's file (issue 19).
TEST(Checkpoint, H01_FixesCsvContinuesFromTheCheckpoint) {
  for (const char* rel : {"scenarios/acceptance/h01-mixed-canonical.yaml", "scenarios/calibration/los.yaml"}) {
    SCOPED_TRACE(rel);
    const Scenario sc = load(rel);
    const fs::path dir = temp_dir(std::string("csv_") + fs::path(rel).stem().string());
    RunOptions opt;
    opt.checkpoint_every = 10 * kSecond;
    opt.checkpoint_dir = (dir / "ck").string();
    fs::create_directories(opt.checkpoint_dir);
    opt.fixes_csv = (dir / "full" / "fixes.csv").string();
    RunResult full;
    std::string error;
    ASSERT_TRUE(run_scenario(sc, opt, full, error)) << error;
    ASSERT_GE(full.checkpoints.size(), 3u);
    const std::string whole = slurp((dir / "full" / "fixes.csv").string());
    EXPECT_EQ(static_cast<size_t>(std::count(whole.begin(), whole.end(), '\n')), full.fixes + 1);
    // the interrupted run wrote past the checkpoint before it died: a copy of the whole file stands in
    const RunCheckpoint from = read(full.checkpoints[full.checkpoints.size() / 2]);
    fs::create_directories(dir / "resumed");
    fs::copy_file(dir / "full" / "fixes.csv", dir / "resumed" / "fixes.csv");
    RunOptions o;
    o.resume = &from;
    o.fixes_csv = (dir / "resumed" / "fixes.csv").string();
    RunResult r;
    ASSERT_TRUE(run_scenario(sc, o, r, error)) << error;
    EXPECT_EQ(slurp((dir / "resumed" / "fixes.csv").string()), whole);
    EXPECT_EQ(r.fix_hash, full.fix_hash);
    // a missing file cannot be continued: said, not silently restarted
    o.fixes_csv = (dir / "nowhere" / "fixes.csv").string();
    EXPECT_FALSE(run_scenario(sc, o, r, error));
    EXPECT_NE(error.find("cannot continue fixes.csv"), std::string::npos) << error;
    fs::remove_all(dir);
  }
}

TEST(Checkpoint, H01_AnotherFormatVersionIsRefused) {
  Written w = write_some("scenarios/acceptance/h01-mixed-canonical.yaml", "version");
  std::string bytes = slurp(w.files[0]);
  bytes[8] = static_cast<char>(kCheckpointFormat + 1);  // the format version follows the 8-byte magic
  RunCheckpoint c;
  std::string why;
  EXPECT_FALSE(decode_checkpoint(bytes, c, why));
  EXPECT_EQ(why, "checkpoint format version " + std::to_string(kCheckpointFormat + 1) + "; this planttwin reads version " +
                     std::to_string(kCheckpointFormat));
  bytes[8] = 1;  // version 1 (before the fix log joined the runner records) is refused too
  EXPECT_FALSE(decode_checkpoint(bytes, c, why));
  EXPECT_FALSE(decode_checkpoint("not a checkpoint at all", c, why));
  EXPECT_NE(why.find("not a planttwin checkpoint"), std::string::npos);
  fs::remove_all(w.dir);
}

TEST(Checkpoint, H01_EveryTruncationAndBitFlipIsRefusedNeverCrashes) {
  Written w = write_some("scenarios/acceptance/h01-mixed-canonical.yaml", "damage");
  const std::string good = slurp(w.files.back());
  RunCheckpoint c;
  std::string why;
  ASSERT_TRUE(decode_checkpoint(good, c, why)) << why;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_checkpoint(std::string_view(good).substr(0, n), c, why)) << "truncated to " << n;
  }
  std::mt19937_64 rng(7);
  for (int k = 0; k < 2000; ++k) {
    std::string bad = good;
    const size_t at = 8 + rng() % (bad.size() - 8);  // past the magic
    bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + rng() % 255));
    EXPECT_FALSE(decode_checkpoint(bad, c, why)) << "flip at " << at;
  }
  // a CRC that matches over a state that does not fit the model: refused by Engine::restore
  RunCheckpoint ok = read(w.files.back());
  EngineState st = state_of(ok.engine);
  st.people.pop_back();
  ok.engine = encode_state(st);
  RunOptions o;
  o.resume = &ok;
  RunResult r;
  std::string error;
  EXPECT_FALSE(run_scenario(w.sc, o, r, error));
  EXPECT_NE(error.find("another number of people"), std::string::npos) << error;
  fs::remove_all(w.dir);
}

TEST(Checkpoint, H01_StateRoundTripsExactly) {
  Written w = write_some("scenarios/acceptance/so03-briefing-pause-handover.yaml", "roundtrip");
  ASSERT_GE(w.files.size(), 2u);
  for (const std::string& f : w.files) {
    const RunCheckpoint c = read(f);
    const EngineState s = state_of(c.engine);
    EXPECT_EQ(encode_state(s), c.engine) << f;
    EXPECT_EQ(encode_checkpoint(c), slurp(f)) << f;
  }
  fs::remove_all(w.dir);
}

}  // namespace
}  // namespace planttwin
