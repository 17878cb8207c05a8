// One live session's engine side, shared by the real-time loop and by replay, so that both apply
// the same stamped inputs in the same way (H-01: a replay gives the same alarms and hash).
//
// The session reads no clock: every call carries the engine time (arrival - session start, µs),
// stamped by the caller. Order within one call: checkpoints due before t (SessionOptions), the
// scenario's script (with --with-script) up to t, the solver's expired collection windows (live only; replay reads them from the recording),
// then the message, then the engine advances to t and its outputs are published. A rejected
// message is answered on `error` and never reaches the engine.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/history.h"
#include "hardware-in-loop/recording.h"
#include "hardware-in-loop/wire.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin {
class ScriptDriver;
class Solver;
}  // namespace planttwin

namespace planttwin::hil {

struct SessionOptions {
  std::int64_t start_unix_us = 0;  // wall-clock instant of engine time 0
  bool with_script = false;        // play the scenario's script (not its motion) as inputs
  // Inputs whose device ts lies further than this from their arrival are refused. Default: 60 s.
  Micros max_skew = 60 * kSecond;
  // range / tdoa: a tag's epoch (same ts) is solved when the next epoch starts, or this long after
  // its first message arrived. Default: 50 ms.
  Micros solve_window = 50 * kMillisecond;
  bool replay = false;             // solver windows come from `solve` records, skew is not checked
  HistorySink* history = nullptr;  // fixes as applied; people, alarms, permits at finish
  // Checkpoints (docs/recording.md "Checkpoints"): at every multiple c of checkpoint_every of
  // engine time (0: none), as soon as the session's time passes c (a call with t > c), the session
  // plays its script and advances its engine to c and writes checkpoint() to checkpoint_dir, named
  // by checkpoint_file_name(). On the session's thread (the live loop's: the write costs it).
  Micros checkpoint_every = 0;
  std::string checkpoint_dir;
  // fixes.csv of every fix the session feeds its engine (docs/live-v1.md "Report"), opened by
  // open_fixes_csv() or, on resume, by restore() (cut back to the checkpoint's length). "": none.
  std::string fixes_csv;
};

// Per surveyed point (mark): horizontal error of the tag's latest fix, metres.
struct MarkStats {
  std::string point;
  std::vector<double> errors;
  std::size_t without_fix = 0;  // marks of a tag that had no fix yet
};

struct SessionCounters {
  std::uint64_t received = 0, accepted = 0, dropped = 0;
  std::map<std::string, std::uint64_t> dropped_by_reason;
  std::uint64_t solved_fixes = 0, solver_no_fix = 0;  // range / tdoa epochs with and without a fix
  std::uint64_t fix_messages = 0, range_messages = 0, tdoa_messages = 0, mark_messages = 0;  // accepted, by topic
  std::uint64_t published = 0;
  // report times: fixes that came after a previous one of their tag with an interval before it,
  // and of those the ones later than that interval by more than 1 % (the default gathering rule
  // had dropped the person by then), with the longest such interval below tag_offline_after, µs
  std::uint64_t fix_intervals = 0, late_fixes = 0;
  Micros longest_interval = 0;
};

class Session {
 public:
  using Publish = std::function<void(const WireMessage&)>;

  Session(const Scenario& sc, SessionOptions opt);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void set_publisher(Publish p) { publish_ = std::move(p); }
  void set_recorder(RecordingWriter* w) { recorder_ = w; }
  // Called for every published output (after the wire encoding), e.g. the uplink.
  void set_output_observer(std::function<void(const Engine&, const Output&)> f) { observer_ = std::move(f); }
  // Called for every fix handed to the engine (from hardware, the solver or the script), e.g. the
  // uplink's positions: time, person id, tag id, the fix and its floor id ("" when derived from z).
  using FixObserver = std::function<void(Micros, const std::string&, const std::string&, const FixInput&, const std::string&)>;
  void set_fix_observer(FixObserver f) { fix_observer_ = std::move(f); }
  // Every input handed to the engine is appended here, in order (the viewer replays a recording
  // by queueing them into its own engine). Default: none.
  void set_input_log(std::vector<Input>* log) { input_log_ = log; }
  // Every call the session makes on its engine that changes it (submit, advance_to), in order:
  // given to an engine set up from scenario() they keep it in the same state (the viewer of
  // `live --view` follows the session so). Called on the session's thread. Default: none.
  void set_engine_calls(std::function<void(const EngineCall&)> f) { calls_ = std::move(f); }

  // A message of `frames` frames arrived at engine time t (frames[0] topic, frames[1] body).
  // true when accepted; `ts_ms` then holds the device's time.
  bool on_message(Micros t, std::string_view topic, std::string_view body, std::int64_t* ts_ms = nullptr);
  // A message with a frame count other than 2.
  void on_bad_frames(Micros t, std::size_t frames, std::string_view first_frame);
  // Input batches (docs/live-v1.md "Input batches"): while held, on_message and on_bad_frames
  // submit without advancing the engine; the caller ends the batch with hold_engine(false) and
  // advance(t) at the batch's one time t, so the engine's rules run once for the whole batch.
  // The live loop batches what one read of its socket gives; replay and resume hold the same
  // groups (consecutive input records with the same time, in a recording whose header says
  // `input_batches`), so they make the same engine calls.
  void hold_engine(bool on) { held_ = on; }
  bool engine_held() const { return held_; }
  // Time passes with no message: script, solver windows, engine steps up to t.
  void advance(Micros t);
  // Replay: a recorded solver flush.
  void solve_recorded(Micros t, int tag);
  // The earliest collection window to close (live), if any.
  std::optional<Micros> next_solve_deadline() const;

  // Starts fixes.csv at SessionOptions::fixes_csv (no-op without one, or when restore() has opened
  // it already). Call before the first message, and after restore() when resuming (a fresh file
  // would lose the interrupted session's rows). false with `error` naming the file.
  bool open_fixes_csv(std::string& error);
  // The chain over every fix fed to the engine so far (docs/hash.md `fix_hash`): solver fixes and
  // `fix` messages (and script fixes), t = measurement time (the device's ts, µs since the
  // session's start), in the order the engine got them.
  std::string fix_hash() const;
  // The first error writing fixes.csv ("" none), known at finish().
  const std::string& fixes_csv_error() const { return fixes_csv_error_; }

  // The whole session as a checkpoint at its engine's current time (docs/recording.md
  // "Checkpoints"): the engine's state (ENGINE), the solver's (SIM) and the session's own (RUNNER:
  // its start, script and solve-window settings, the outputs collected so far, counters, marks,
  // report-time statistics, pending range / tdoa epochs, fixes). META.positioning is "live".
  RunCheckpoint checkpoint() const;
  // Continues from a checkpoint, on a fresh session (no call made yet) of the checkpoint's scenario
  // and session (same start, --with-script and solve window): the script is played to the
  // checkpoint's time (its inputs are in the engine's state already) and every part restored.
  // false with `error` naming what differs or what is damaged; the session is then unchanged.
  bool restore(const RunCheckpoint& ck, std::string& error);
  // The wall-clock start (µs since 1970) of the live session or replay a checkpoint was written by,
  // from its session state: `live --resume` starts its clock there. false with `error` when the
  // checkpoint is not of a live session or its session state is damaged.
  static bool checkpoint_start(const RunCheckpoint& ck, std::int64_t& start_unix_us, std::string& error);
  // While set, fixes are not given to the history sink (SessionOptions::history): `live --resume`
  // replays the interrupted session's recorded inputs after the checkpoint, which the history
  // stored before the crash already.
  void set_history_paused(bool paused) { history_paused_ = paused; }
  // The first error writing a checkpoint file ("" none); after one no more are written.
  const std::string& checkpoint_error() const { return checkpoint_error_; }
  // Checkpoint files written so far, in time order (also in the result's `checkpoints`).
  const std::vector<std::string>& checkpoint_files() const { return result_.checkpoints; }

  // The session ends at t: the engine advances, the end is recorded, the result is filled and the
  // scenario's expectations are checked (their times count from the session's start).
  void finish(Micros t, RunResult& r);

  const Engine& engine() const { return *engine_; }
  // The session's time: the latest time it was advanced to (the engine's now() is its last step).
  Micros now() const { return now_; }
  const SessionCounters& counters() const { return counters_; }
  const std::vector<MarkStats>& marks() const { return marks_; }
  const SessionOptions& options() const { return opt_; }
  // What the operator should change, from what the session saw so far ("" each when nothing):
  // today one piece, about gathering and irregular report times (docs/live-v1.md "Advice").
  std::vector<std::string> advice() const;
  // The scenario as the session runs it: its clock is the session's start in the site's timezone.
  const Scenario& scenario() const { return sc_; }
  std::int64_t start_unix_ms() const { return start_ms_; }

 private:
  struct Epoch;
  void before(Micros t);
  void drain();
  // `measured`: the fix's measurement time for fix_hash and fixes.csv (default: in.t)
  void submit(Input in, std::optional<Micros> measured = std::nullopt);
  void log_fix(const FixInput& f, Micros measured);
  void settle_pending(int tag);
  void settle_all();
  void solve(Micros t, int tag);
  void drop(Micros t, const DecodeError& e, std::string_view topic);
  void checkpoints_before(Micros t);

  Scenario sc_;  // the scenario with its clock set to the session's start
  SessionOptions opt_;
  std::int64_t start_ms_ = 0;
  std::shared_ptr<const Site> site_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ScriptDriver> driver_;
  RunResult result_;
  OutputCollector collector_;
  DecodeContext ctx_;
  Publish publish_;
  std::function<void(const Engine&, const Output&)> observer_;
  FixObserver fix_observer_;
  std::vector<Input>* input_log_ = nullptr;
  std::function<void(const EngineCall&)> calls_;
  bool held_ = false;  // hold_engine(): inputs wait for the batch's advance(t)
  void advance_engine(Micros t);
  RecordingWriter* recorder_ = nullptr;
  bool history_paused_ = false;
  SessionCounters counters_;
  std::vector<MarkStats> marks_;  // per survey point, site order
#ifdef PLANTTWIN_HAS_SOLVER
  void set_tag_offsets(Solver& solver) const;
#endif
  std::vector<int> person_of_tag_;
  std::vector<std::pair<Micros, Micros>> tag_reports_;  // per tag: last fix time, the interval before it (-1: none)
  std::vector<std::string> floor_ids_;
  std::map<int, Epoch> epochs_;  // tag -> pending range / tdoa epoch
#ifdef PLANTTWIN_HAS_SOLVER
  std::unique_ptr<Solver> solver_;
#endif
  std::vector<WireMessage> scratch_;
  std::size_t fixes_ = 0;
  // fix_hash (feed order) and fixes.csv. A fix's row is written when it is settled: when its tag's
  // next fix arrives (no later mark can refer to it) or at finish, so that a mark can still fill
  // its errors; pending_ holds each tag's latest row (seq: its place in the feed order).
  struct PendingRow {
    std::uint64_t seq = 0;
    FixRow row;
  };
  std::unique_ptr<FixLog> fix_hash_log_, fix_csv_;
  std::vector<std::optional<PendingRow>> pending_;           // per tag index
  std::vector<std::string> tag_ids_;                        // tag index -> tag id
  std::string fixes_csv_error_;
  Micros now_ = 0;  // the latest time the engine was advanced to (its own clock stays at its last step)
  Micros checkpoint_next_ = kNever;  // the next multiple of checkpoint_every to write
  std::string checkpoint_error_;
};

// Per input source of a live session ("zeromq", "mqtt", "omlox", "omlox-client"; docs/live-v1.md
// "Sources"): in stats and in the report. Adapter-level drops (a vendor message that never became
// live-v1) are counted here only: they are not recorded, so a replay does not see them.
struct SourceStats {
  std::uint64_t received = 0, accepted = 0, dropped = 0;
  std::map<std::string, std::uint64_t> dropped_by_reason;
  bool connected = true;            // broker / hub reachable (servers: always true)
  std::uint64_t disconnects = 0;    // connections lost so far (reconnected with back-off)
};

// Fills the report's additions for a live session or a replay (docs/live-v1.md "Report").
struct LiveSummary {
  std::int64_t start_unix_ms = 0;
  int utc_offset_min = 480;
  Micros end_t = 0;
  SessionCounters counters;
  std::vector<MarkStats> marks;
  // latency (live only): arrival -> decision in the engine, µs; decision - device ts, ms
  std::optional<double> latency_us_p50, latency_us_p99, device_ms_p50, device_ms_p99;
  std::string recording;  // file written (live) or read (replay)
  std::string torn;       // replay: what was dropped from a torn tail
  std::vector<std::string> advice;  // Session::advice() at the end
  std::uint64_t torn_bytes = 0;
  bool replay = false;
  std::map<std::string, SourceStats> sources;  // live only: per input source
};

// Writes DIR/report.json and DIR/report.md (as `run` does, plus a `live` section) and the
// printable permits. false with a message when a file cannot be written.
bool write_live_report(const std::string& dir, const Scenario& sc, const RunResult& r, const LiveSummary& s, std::string& error);

// Horizontal mark errors of every point -> the run's accuracy (AQ 3064.3 static test): n, mean,
// CDF68, CDF95 and, as `run` reports them, median, RMSE, p95 (= CDF95) and max; nearest rank.
AccuracyStats mark_accuracy(const std::vector<MarkStats>& marks);

}  // namespace planttwin::hil
