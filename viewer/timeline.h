// The viewer's model layer: plays a scenario through the engine the way `run` does (ScriptDriver +
// Engine, fixes at k / fix_rate) and exposes what the UI draws as plain data: the engine's
// snapshot at the current time plus every person's true pose. No GL, no window: tests drive it.
//
// Time and seeking. The engine only moves forward. Playing, stepping and jumping ahead advance it.
// While it advances, a checkpoint is kept in memory every `checkpoint_every` of engine time: the
// engines' states (EngineState; alarms that did not change since the previous checkpoint are
// shared with it), the script driver's progress, the noise stream, how far it is into its inputs
// (fix instants, a simulated or recorded run's queued inputs, a live session's calls) and into the
// operator actions, and how long the alarm stream and the error list were. Jumping backwards
// restores the latest checkpoint at or before the target, drops the later ones, and plays on from
// it to the target; with checkpoint_every = 0 it re-runs the scenario from the start instead. The
// engine is deterministic, so either way the result equals a fresh run to that time, byte for
// byte (tests/viewer/timeline_checkpoint_test.cpp). Checkpoints are bounded like the kept
// snapshots: past `checkpoint_budget_bytes` every other one is dropped and the spacing doubles.
// Operator actions taken in the UI are recorded as stamped inputs; a backward jump keeps those
// stamped at or before the target (replayed at their times) and drops the later ones. In a drill a
// backward jump is refused (and no checkpoints are kept): the trainee's actions have changed the
// future, and a drill is scored as it happened.
//
// Kept snapshots: while the engine advances, a snapshot is kept every `keep_every` of engine time
// (for the history strip and quick inspection). Their memory is bounded: past `keep_budget_bytes`
// every other one is dropped and the spacing doubles.
#pragma once
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/snapshot.h"
#include "scenarios/driver.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin::viewer {

struct TimelineOptions {
  // Apply the scenario's scripted `alarm` actions. Default: true. An interactive drill sets false:
  // the trainee acts instead.
  bool scripted_alarm_actions = true;
  // Drill: backward jumps are refused. Default: false.
  bool drill = false;
  // Spacing of kept snapshots. Default: 0.5 s.
  Micros keep_every = 500 * kMillisecond;
  // Memory bound of the kept snapshots (estimated). Default: 64 MiB.
  std::size_t keep_budget_bytes = 64u << 20;
  // Spacing of in-memory checkpoints (engine time): everything a re-run would need to go on from
  // there. A backward jump restores the latest one at or before the target and plays on from it.
  // 0: none; every backward jump re-runs from the start. Default: 5 s (a jump then plays 2.5 s on
  // average; 2,000 people in a dense crowd cost about 25 ms of engine work a second, docs/viewer.md).
  Micros checkpoint_every = 5 * kSecond;
  // Memory bound of the checkpoints (estimated). Past it every other one is dropped and the
  // spacing doubles. Default: 512 MiB (an hour of 2,000 people every 5 s: about 414 MiB).
  std::size_t checkpoint_budget_bytes = std::size_t{512} << 20;
  // Play in the background: when tick() reaches a fix instant (or a kept snapshot), the engines
  // advance on a worker thread and tick() returns at once; until the step is done everything the
  // UI reads stays the last published state, and later ticks pick the result up. seek, step and
  // act wait for a running step. The window sets it, so a heavy engine step (2,000 tags in a dense
  // crowd) never holds up a frame. Default: false (every call completes before it returns). The
  // engines see the same inputs at the same times either way.
  bool background_steps = false;
};

// A snapshot kept while playing, with the true poses at its time.
struct KeptSnapshot {
  Snapshot snap;
  std::vector<TruthPose> truth;  // snapshot people order
  int on_site = 0;               // people with a fix inside the plant bounds (all with a fix when the site has none)
};

// People with a fix inside the plant bounds (all with a fix when the site has no bounds).
int on_site(const Site& site, const Snapshot& snap);

// An operator action taken in the UI, as it was submitted.
struct RecordedAction {
  Micros t = 0;
  AlarmAction action;
};

// The calls a live session makes on its engine (EngineCall), handed from the live loop's thread
// to a following timeline's: push() on the loop, take() on the UI.
class LiveFeed {
 public:
  void push(const EngineCall& c) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(c);
  }
  std::vector<EngineCall> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(calls_, {});
  }

 private:
  std::mutex mu_;
  std::vector<EngineCall> calls_;
};

// Everything a run of the timeline needs to go on exactly from engine time t: the engines' states,
// the script driver's progress, the noise stream, how far it is into its inputs and operator
// actions, and how much of its output (alarm stream, errors) existed then.
struct Checkpoint {
  static constexpr std::size_t kCopied = static_cast<std::size_t>(-1);
  Micros t = 0;
  EngineState engine;                  // without its alarms: they are in `alarms`
  std::optional<EngineState> oracle;   // likewise
  // The engines' alarms; one that equals the previous checkpoint's is shared with it (most alarms
  // of a long run are over and never change again).
  std::vector<std::shared_ptr<const Alarm>> alarms, oracle_alarms;
  // positioning: simulated / recorded: the engine's queue is Timeline::queued_ from this index
  // (its copy in `engine` is empty); kCopied: `engine` holds its queue
  std::size_t engine_queued_from = kCopied, oracle_queued_from = kCopied;
  // The script driver's progress: this one, or an earlier checkpoint's shared with it when few
  // script actions were played since; a restore plays those again (inputs dropped: the engines
  // have them).
  std::shared_ptr<const ScriptDriver::Progress> driver;
  std::optional<GaussianStream> noise;
  std::int64_t next_fix = 0;
  std::size_t next_error = 0;    // simulated fix errors counted
  std::size_t applied = 0;       // following: calls given to the engine
  std::size_t replayed = 0;      // operator actions submitted
  std::size_t stream_size = 0;   // canonical stream written so far
  std::size_t errors_size = 0;   // fix errors so far
  Micros keep_every = 0, next_keep = 0;
  std::size_t own_bytes = 0;     // estimated memory, but for the alarms and the driver's progress
  std::size_t bytes = 0;         // estimated memory, with what it does not share with the previous checkpoint
};

class Timeline {
 public:
  // Fails (nullptr, `error` set) when the scenario cannot be played (e.g. a simulated run whose
  // radio settings or plant model are bad). A simulated scenario is run once through the radio
  // and solver at creation; playing it then replays those inputs.
  static std::unique_ptr<Timeline> create(const Scenario& sc, const TimelineOptions& opt, std::string& error);
  // A recorded session (a live session's recording, replayed once by the caller): `inputs` are
  // every input its engine received, in order; `sc` is the session's scenario (its clock starting
  // at the session's start) with `duration` the session's length. Positions are the hardware's:
  // there is no truth to compare with, so no oracle and no true poses (estimates_differ() false).
  static std::unique_ptr<Timeline> create_recorded(const Scenario& sc, std::vector<Input> inputs, const TimelineOptions& opt);
  // Following a live session (`planttwin live --view`): `sc` is the session's scenario; its engine
  // calls arrive through `feed` and are given to this timeline's own engine in the same order, so
  // it is in the live engine's state (H-01) without touching it. Time runs up to the last call
  // received (duration() grows); playing at 1x follows the session, a backward jump re-runs the
  // calls so far. Operator actions go to `forward` (the live session applies them, and they come
  // back through the feed), not to this engine. No truth (estimates_differ() false).
  static std::unique_ptr<Timeline> create_following(const Scenario& sc, std::shared_ptr<LiveFeed> feed,
                                                    std::function<void(const AlarmAction&)> forward, const TimelineOptions& opt);
  bool following() const { return feed_ != nullptr; }
  ~Timeline();

  const Scenario& scenario() const { return sc_; }
  const TimelineOptions& options() const { return opt_; }
  // The time of the published state (what snapshot() shows).
  Micros now() const { return shown_now_; }
  Micros duration() const { return feed_ ? reached_ : sc_.duration; }
  bool at_end() const { return !feed_ && shown_now_ >= sc_.duration; }
  // A step is running on the worker thread (background_steps).
  bool busy() const { return job_.valid(); }
  // Waits for a running step and publishes it (no-op otherwise).
  void wait();

  // Playback. Speed is clamped to [0.1, 100]; tick advances by wall_dt_s * speed while playing and
  // pauses at the end. With background_steps, time owed while a step runs is carried (up to
  // 0.25 s x speed: a slower engine plays slower, it does not fall ever further behind).
  void play() { playing_ = !at_end(); }
  void pause() { playing_ = false; }
  bool playing() const { return playing_; }
  void set_speed(double s);
  double speed() const { return speed_; }
  void tick(double wall_dt_s);
  // One fix period (1 / fix_rate) forward, to the next fix instant.
  void step();
  // Jumps to t (clamped to [0, duration]). Returns false (and `why`) when refused: backwards in a
  // drill.
  bool seek(Micros t, std::string* why = nullptr);

  // An operator action (ack / handle / close) submitted to the engine at now(); `by` should be the
  // person on duty (duty_person()). It takes effect in the engine's step at now().
  void act(AlarmAction a);
  const std::vector<RecordedAction>& actions() const { return actions_; }
  // The person on duty at time t ("" when nobody).
  std::string duty_person(Micros t) const;

  // What the UI draws.
  const Snapshot& snapshot() const { return snap_; }
  // A recorded live session (create_recorded).
  bool recorded() const { return recorded_; }
  // True pose of each person, in the snapshot's people order (by id); in a recorded session, the
  // scenario's start positions (not drawn).
  const std::vector<TruthPose>& truth() const { return truth_; }
  // Every alarm so far, closed ones included (id order).
  const AlarmLog& alarms() const { return alarms_; }
  // Horizontal error (m) of every fix so far when fixes are not the truth; empty otherwise.
  const std::vector<double>& fix_errors() const { return errors_; }
  bool estimates_differ() const { return noisy_; }
  // Alarms of the oracle twin (true positions) when fixes are not the truth.
  const AlarmLog* oracle_alarms() const { return noisy_ ? &oracle_alarms_ : nullptr; }
  // The canonical alarm stream so far (docs/hash.md), as `run` writes it.
  const std::string& canonical_stream() const { return stream_; }
  const std::vector<KeptSnapshot>& kept() const { return kept_; }
  Micros keep_every() const { return keep_every_; }
  // The engine itself: only while !busy().
  const Engine& engine() const { return *engine_; }
  // How many times the scenario was re-run from the start (backward jumps without checkpoints).
  int reruns() const { return reruns_; }
  // How many backward jumps restored a checkpoint.
  int restores() const { return restores_; }
  // The checkpoints kept now: how many, their spacing and estimated memory. Only while !busy().
  std::size_t checkpoint_count() const { return checkpoints_.size(); }
  Micros checkpoint_every() const { return checkpoint_every_; }
  std::size_t checkpoint_bytes() const { return checkpoint_bytes_; }

 private:
  Timeline(const Scenario& sc, const TimelineOptions& opt, std::shared_ptr<const InputLog> simulated, bool recorded = false,
           std::shared_ptr<LiveFeed> feed = nullptr);
  void reset();
  EngineSetup setup() const;
  void advance_to(Micros t);
  void submit_input(Input in);
  void refresh();
  void keep(KeptSnapshot k);
  void follow_to(Micros t);  // following: apply the received calls up to time t
  void flush();
  void publish();
  void finish_job();
  void drain();  // the engines' outputs: alarm events into the pending stream, the rest dropped
  void take_checkpoint();
  void add_checkpoint(Checkpoint c);
  bool restore_before(Micros t);  // the latest checkpoint at or before t; false when there is none

  const Scenario& sc_;
  TimelineOptions opt_;
  std::shared_ptr<const Site> site_;
  std::unique_ptr<Engine> engine_, oracle_;
  std::unique_ptr<ScriptDriver> driver_;
  std::unique_ptr<GaussianStream> noise_;
  bool noisy_ = false;
  bool recorded_ = false;
  // following a live session
  std::shared_ptr<LiveFeed> feed_;
  std::function<void(const AlarmAction&)> forward_;
  std::vector<EngineCall> calls_;  // every call received, in order
  std::size_t applied_ = 0;        // calls given to the current engines
  Micros reached_ = 0;             // the last advance received
  // Engine side: advance_to (on the worker thread during a background step) writes only these and
  // the engines, driver and counters above; the UI reads only the published members below.
  struct Pending {
    Snapshot snap;
    std::vector<TruthPose> truth;
    std::vector<double> errors;
    std::vector<KeptSnapshot> kept;
    std::string stream;
  } out_;
  std::future<void> job_;  // the background step, when one runs
  bool in_job_ = false;    // advance_to runs as a background step: flush at publish, not before
  // positioning: simulated: the run's inputs, computed once by the runner (radio, solver) and fed
  // to every (re-)run of the engines in their order, so the viewer shows exactly what `run` decides
  std::shared_ptr<const InputLog> simulated_;
  std::size_t next_error_ = 0;  // simulated_->fix_errors already counted in errors_
  Micros now_ = 0;        // engine time
  Micros shown_now_ = 0;  // published time
  std::int64_t next_fix_ = 0;  // index k of the next fix instant k / fix_rate
  bool playing_ = false;
  double speed_ = 1;
  double carry_us_ = 0;  // sub-microsecond remainder of tick
  std::vector<RecordedAction> actions_;
  std::size_t replayed_ = 0;  // recorded actions already submitted in this run
  // published
  Snapshot snap_;
  std::vector<TruthPose> truth_;
  AlarmLog alarms_, oracle_alarms_;
  std::vector<int> snap_to_scenario_;  // snapshot person index -> scenario person index
  std::vector<double> errors_;
  std::string stream_;
  std::vector<KeptSnapshot> kept_;
  Micros keep_every_ = 0, next_keep_ = 0;
  std::size_t kept_bytes_ = 0;
  int reruns_ = 0;
  // positioning: simulated / recorded: the engines' queues right after reset(), in the order the
  // engines apply them; a checkpoint stores where in them its engine was instead of a copy.
  std::shared_ptr<const std::vector<Input>> queued_, oracle_queued_;
  // Checkpoints, oldest first (engine side: written by advance_to and follow_to, also in a
  // background step; read and dropped by seek).
  std::vector<Checkpoint> checkpoints_;
  Micros checkpoint_every_ = 0, next_checkpoint_ = 0;
  std::size_t checkpoint_bytes_ = 0;
  int restores_ = 0;
};

}  // namespace planttwin::viewer
