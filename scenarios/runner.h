// The runner wires a source (the truth-mode driver) to the engine, checks the scenario's
// expectations and gathers everything the report needs.
#pragma once
#include <array>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/byte_codec.h"
#include "engine/engine.h"
#include "engine/history.h"
#include "scenarios/checkpoint.h"
#include "scenarios/fix_log.h"
#include "scenarios/recorded_log.h"
#include "scenarios/scenario.h"

namespace planttwin {

struct ExpectationResult {
  int index = 0;  // position in Scenario::expect
  std::string req;
  bool passed = false;
  std::string detail;  // evidence: what was found, with times
  std::string text;    // the expectation as written
};

struct Refusal {
  Micros t = 0;
  std::string permit, action;
  std::vector<std::string> codes;
};

struct AccuracyStats {
  std::size_t n = 0;
  double mean = 0, cdf68 = 0, cdf95 = 0;  // metres, horizontal error
  // Additions (issue 19): horizontal median, RMSE, 95th percentile (= cdf95) and largest error
  double median = 0, rmse = 0, p95 = 0, max = 0;
  std::optional<AccuracyFigures> three_d;  // 3D error, where the truth has a height
  std::vector<double> curve;  // horizontal CDF for report.html (AccuracyFigures::curve); not in report.json
};

// Range residuals of one anchor in a recorded run: measured minus true distance (truth log), metres.
struct AnchorResidual {
  std::string anchor;
  std::uint64_t n = 0;
  double bias = 0, spread = 0, median = 0, p95 = 0;  // mean, standard deviation, quantiles
};

// What a recorded run (positioning: recorded) read and solved (docs/recorded.md).
struct RecordedReport {
  std::uint64_t rows = 0, bad_rows = 0, dropped_columns = 0;
  std::vector<LogProblem> problems;  // the first ones, file order
  std::uint64_t ranges = 0;          // ranges that went into epochs
  std::uint64_t held_ranges = 0;     // ranges borrowed from earlier epochs (recorded.hold)
  std::uint64_t epochs = 0, fixed = 0;
  std::uint64_t epochs_evaluated = 0, fixed_evaluated = 0;  // inside recorded.evaluate
  std::map<std::string, std::uint64_t> no_fix;  // reason -> epochs without a fix
  std::uint64_t nlos_suspected = 0;  // ranges the solver flagged (power gap or residual)
  double nlos_share = 0;             // nlos_suspected / ranges of solved epochs
  std::vector<AnchorResidual> anchors;  // site order; anchors never heard with truth left out
  std::optional<std::pair<double, double>> evaluate;  // seconds
  double fix_share() const { return epochs_evaluated ? static_cast<double>(fixed_evaluated) / static_cast<double>(epochs_evaluated) : 0; }
};

// The simulated twin of a recorded run: its scenario and its predicted accuracy.
struct TwinReport {
  std::string scenario, file;
  AccuracyStats accuracy;
  std::uint64_t fixes = 0;
};

// One rule (alarm type) of the comparison with the oracle twin, counts of alarms.
struct RuleQuality {
  std::size_t compared = 0, estimated = 0, missed = 0, false_alarms = 0;
};

struct AlarmQuality {
  std::size_t compared = 0;  // alarms of the oracle twin taken into the comparison
  std::size_t estimated = 0; // alarms from the estimated positions
  double missed = 0, false_rate = 0;
  std::map<std::string, RuleQuality> by_type;  // alarm type -> counts (report.html; not in report.json)
};

struct DelayStats {
  std::size_t n = 0;
  double p50 = 0, p95 = 0, max = 0;  // seconds
  std::vector<double> delays;  // every matched alarm's raise delay, seconds, oracle order (report.html)
};

// One tag-anchor link of a simulated run: range error = measured - true distance, metres, over
// the received measurements (histogram resolution 5 mm).
struct RadioLinkReport {
  std::string tag, anchor;
  std::size_t n = 0;           // measurements tried (blinks that tried this link)
  double nlos_share = 0;       // share of tries whose straight path crossed a solid
  double dropped_share = 0;    // share of tries not received (link budget or collision)
  double error_median = 0, error_p95 = 0;
};

// AQ 3064.3 App. A: fixes whose true position lies within 0.05 m of a survey point.
struct SurveyPointAccuracy {
  std::string point;
  std::size_t n = 0;
  double mean = 0, cdf68 = 0, cdf95 = 0;  // metres, horizontal error
};

// Counts of the simulated pipeline.
struct SimulationCounts {
  std::uint64_t blinks = 0, fixes = 0, no_fix = 0, rays = 0, collisions = 0;
};

struct ZoneCountSample {
  Micros t = 0;
  int count = 0;
  std::array<int, kCategoryCount> by_category{};
};

struct EntryRecord {
  Micros t = 0;
  std::string zone, person;
  Category category = Category::employee;
};

struct WarnRecord {
  Micros t = 0;
  std::string tag, alarm_id, reason;
};

// Live sessions and replays (hardware-in-loop): what the fixes really came from, for the report's
// provenance in place of the scenario's `positioning`, `noise_sigma` and `fix_rate`, which a session
// does not use (docs/report.md, docs/live-v1.md "Report").
struct SessionProvenance {
  bool replay = false;                       // positioning `replay`, else `live`
  std::string recording, recording_sha256;   // replay: the recording read and the SHA-256 of its file
  double duration_s = 0;                     // the session's length (not the scenario's `duration`)
  std::uint64_t fix_messages = 0, range_messages = 0, tdoa_messages = 0, mark_messages = 0;  // accepted
  std::uint64_t solver_epochs = 0;           // range / tdoa epochs the solver ran on (with or without a fix)
};

struct RunResult {
  bool passed = true;
  std::vector<ExpectationResult> expectations;
  AlarmLog alarms;
  std::vector<Refusal> refusals;
  std::vector<WarnRecord> warns;
  std::vector<EntryRecord> entries;  // every zone entry, in order
  std::map<std::string, std::vector<ZoneCountSample>> zone_counts;  // zone id -> changes
  std::map<std::string, std::vector<std::pair<Micros, std::string>>> statuses;  // permit / reservation id -> changes
  std::vector<PermitRecord> permits;  // at the end of the run
  std::string canonical_stream;  // docs/hash.md
  std::string hash;              // SHA-256 of canonical_stream
  EngineCounters counters;
  EngineStats stats;
  std::optional<AccuracyStats> accuracy;
  std::optional<AlarmQuality> alarm_quality;
  std::optional<DelayStats> alarm_delay;
  std::size_t fixes = 0;
  std::string fix_hash;  // docs/hash.md: the chain over every published fix, every mode
  // recorded positioning only
  std::optional<RecordedReport> recorded;
  std::optional<TwinReport> twin;
  // simulated positioning only
  std::optional<std::vector<RadioLinkReport>> radio;  // links in (tag, anchor) order
  std::vector<SurveyPointAccuracy> survey_points;     // site order; points no fix came near are left out
  std::optional<SimulationCounts> simulation;
  // live sessions and replays only
  std::optional<SessionProvenance> session;
  // a run continued from a checkpoint: the checkpoint's engine time, seconds
  std::optional<double> resumed_at;
  std::vector<std::string> checkpoints;  // files written, in time order
  bool stopped = false;                  // RunOptions::stop_after ended the run early
};

// Simulated runs, for viewers: every input the run gave its engines, in submission order. An
// engine applies inputs in (t, submission) order, so a fresh engine fed these in this order
// reproduces the run exactly.
struct InputLog {
  std::vector<Input> estimated;  // to the engine: script inputs and estimated fixes (t = t_available)
  std::vector<Input> truth;      // to the oracle twin: script inputs and true fixes
  std::vector<std::pair<Micros, double>> fix_errors;  // per estimated fix: (t_available, horizontal error m)
};

// What a run shows an observer as it goes, in engine time order (`run --uplink` feeds the park
// platform from it; docs/platform.md): every fix the engine is given (the estimated fix in simulated
// and recorded runs, with its person, tag and floor name), every output the engine decides (before
// the run collects it), and the engine time reached after each step. The main engine only, never
// the oracle twin. Called from one thread: the run's own, or with RunOptions::threads >= 2 the
// worker that applies the run's slices to its engines (scenarios/slice_worker.h).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void fix(Micros t, const std::string& person, const std::string& tag, const FixInput& f, const std::string& floor) = 0;
  virtual void output(const Engine& engine, const Output& out) = 0;
  virtual void advanced(Micros now) = 0;
};

struct RunOptions {
  RunOptions() = default;
  RunOptions(int threads_, HistorySink* history_ = nullptr) : threads(threads_), history(history_) {}
  int threads = 1;  // scenario-level parallelism, and ray casts inside a simulated run; a run's
                    // result never depends on it
  // Simulated runs: the tags (people with a tag) from which a run uses `threads` for its pipeline
  // and engines; a run with fewer runs on one thread. Every slice (one report interval, about one
  // blink per tag) hands work over between threads several times, and with few tags that costs more
  // than it saves. Measured on the 2-core development machine with `--threads 2` against 1 (the AQ
  // 3064 gathering site, 1,210 s): 32 tags 0.49 against 0.40 s, 48 tags 0.60 against 0.55 s, 96 tags
  // 1.0 s both, 212 tags 1.2 against 1.3 s; a 3-tag calibration run 0.35 against 0.12 s. The
  // benchmarks' 2,000 tags gain about 1.7x. Never changes a result.
  int threaded_min_tags = 100;
  // Receives the run's fixes as submitted, then its people, zone entries, alarms (every handling
  // event) and permits (every state change) after the run. Never changes a result. Default: none.
  HistorySink* history = nullptr;
  // Simulated runs: keep a range-error histogram per tag-anchor link for the report's `radio`
  // section (about 4.4 KB per link). Off in benchmarks of thousands of tags.
  bool radio_link_stats = true;
  // Simulated and noisy runs: run the oracle twin on true positions (alarm_quality, alarm_delay).
  // Off only in benchmarks of the pipeline itself.
  bool oracle = true;
  // Simulated runs: log every engine input here (viewers replay them). Default: none.
  InputLog* input_log = nullptr;
  // Checkpoints (docs/checkpoint.md): every `checkpoint_every` of engine time (0: none), one file
  // per checkpoint in `checkpoint_dir`, named by checkpoint_file_name().
  Micros checkpoint_every = 0;
  std::string checkpoint_dir;
  // Continue from this checkpoint instead of the start; the report equals the uninterrupted run's.
  const RunCheckpoint* resume = nullptr;
  // Stop right after writing the first checkpoint at or after this engine time (the run is not
  // finished: no expectations, RunResult::stopped set). For tests and tools that run a piece of a
  // run. Default: never.
  Micros stop_after = std::numeric_limits<Micros>::max();
  // Stream every published fix to this file (fixes.csv, docs/report.md); "" none.
  std::string fixes_csv;
  // Sees the run as it goes (the park-platform uplink of `run --uplink`): never changes a result.
  RunObserver* observer = nullptr;
};

// Pieces of a run, for other sources than the headless runner (live sessions, replays, drills):
// build the engine the way `run` does, collect its outputs, finish and check.
EngineSetup make_engine_setup(const Scenario& sc, const std::shared_ptr<const Site>& site);

// Collects an engine's outputs into a RunResult as they are decided (clears the engine's outputs).
class OutputCollector {
 public:
  explicit OutputCollector(RunResult& r, RunObserver* observer = nullptr) : r_(r), observer_(observer) {}
  // Collects and clears the engine's outputs; the observer (if any) sees each first, then the
  // engine's time.
  void drain(Engine& e);

 private:
  RunResult& r_;
  RunObserver* observer_ = nullptr;
};

// Copies the engine's final state into `r` (alarms, permits, counters, statistics) and computes
// the hash of the canonical stream collected so far.
void finish_result(const Engine& engine, RunResult& r);
// Checks every expectation of the scenario against `r`; sets r.expectations and r.passed.
void check_expectations(const Scenario& sc, RunResult& r);
// What the history store keeps of a run besides the fixes (docs/history.md): people, zone entries,
// alarms with every event, permits with every change; times are start_unix_ms + engine time.
void feed_history(const Scenario& sc, const RunResult& r, HistorySink& h, std::int64_t start_unix_ms);
// Alarms from estimated positions against the oracle twin's (AQ 3064.3 7.3.2): an alarm matches
// when type and people agree and the raise times are within 10 s. Sets alarm_quality and alarm_delay.
void compare_with_oracle(const AlarmLog& oracle, const AlarmLog& est, RunResult& r);

// Checkpoints of anything that collects a RunResult (the runner, live sessions and replays): the
// outputs collected so far (canonical stream, warns, zone entries and counts, statuses, refusals,
// fix count). get_collected() reads what put_collected() wrote; on bad input it leaves `rd` failed.
void put_collected(ByteWriter& w, const RunResult& r);
void get_collected(ByteReader& rd, RunResult& r);
// The META record of a checkpoint of `engine` (run from `sc`) at engine time t; `positioning`:
// "truth", "simulated" or "live".
CheckpointMeta checkpoint_meta(const Scenario& sc, const Engine& engine, Micros t, std::string positioning);

// Runs one loaded scenario to its end. Returns false with `error` set when the scenario asks for
// something this build cannot do (e.g. a site the plant model cannot build).
bool run_scenario(const Scenario& sc, const RunOptions& opt, RunResult& out, std::string& error);

// Recorded positioning (scenarios/recorded_run.cpp): the logs through the solver into the engine.
bool run_recorded(const Scenario& sc, const RunOptions& opt, RunResult& out, std::string& error);

// Engine time -> Unix milliseconds (the history store's time).
std::int64_t history_ms(const Scenario& sc, Micros t);

// Accuracy figures as the report keeps them (horizontal; 3D when given).
AccuracyStats accuracy_stats(const AccuracyFigures& h, const AccuracyFigures* three_d = nullptr);

// Value at fraction q (0..1) of the sorted sample, nearest rank; 0 for an empty sample.
double quantile_nearest_rank(std::vector<double> v, double q);

}  // namespace planttwin
