#include "viewer/timeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "scenarios/runner.h"
#include "sim/motion.h"

namespace planttwin::viewer {

namespace {

constexpr Micros kNever = std::numeric_limits<Micros>::max();
constexpr std::uint64_t kNoiseStream = 1;  // the runner's stream id for truth-mode fix noise

Micros fix_time(const Scenario& sc, std::int64_t k) { return from_seconds(static_cast<double>(k) / sc.fix_rate); }

std::size_t alarm_bytes(const Alarm& a) {
  return sizeof(Alarm) + a.events.size() * (sizeof(AlarmEvent) + 32) + (a.who.size() + a.cameras.size()) * 32;
}

std::size_t estimate_bytes(const KeptSnapshot& k) {
  const Snapshot& s = k.snap;
  std::size_t n = sizeof(KeptSnapshot);
  n += s.people.size() * (sizeof(Snapshot::Person) + 24);
  n += k.truth.size() * (sizeof(TruthPose) + 8);
  for (const Alarm& a : s.open_alarms) n += alarm_bytes(a);
  for (const auto& g : s.gatherings) n += sizeof(g) + g.members.size() * 32;
  n += s.zones.size() * sizeof(Snapshot::ZoneState);
  for (const PermitRecord& p : s.permits) n += sizeof(PermitRecord) + p.history.size() * 48 + p.area.size() * sizeof(Vec2);
  return n;
}

std::size_t estimate_bytes(const EngineState& s) {
  std::size_t n = sizeof(EngineState);
  n += s.queue.pending.size() * (sizeof(Input) + 16);
  for (const PersonState& p : s.people)
    n += sizeof(PersonState) + p.zones.size() * sizeof(ZoneStay) + p.left_stay_inside.size() * sizeof(std::pair<int, int>) +
         p.visited.size() * sizeof(int);
  n += s.zones.size() * sizeof(ZoneState);
  for (const Alarm& a : s.alarms) n += alarm_bytes(a);
  n += (s.ack.watch.size() + s.ack.unack_of.size()) * sizeof(int);
  for (const GatheringTrack& g : s.gatherings)
    n += sizeof(GatheringTrack) + g.members.size() * sizeof(std::pair<int, Micros>) + g.warned.size() * sizeof(int);
  n += s.desk.reservations.size() * (sizeof(Reservation) + 64) + s.desk.permit_index.size() * 64 + s.desk.unpermitted.size() * 64;
  for (const Permit& p : s.desk.permits)
    n += sizeof(Permit) + p.rec.history.size() * 48 + p.rec.area.size() * sizeof(Vec2) + p.intruders.size() * 64 +
         (p.rec.workers.size() + p.briefed.size()) * 32;
  n += s.outputs.size() * (sizeof(Output) + 32);
  n += s.stats.zone_entries.size() * 2 * sizeof(std::array<int, kCategoryCount>);
  return n;
}

// A checkpoint's memory but for its alarms and driver progress (which it may share).
std::size_t own_bytes(const Checkpoint& c) {
  return sizeof(Checkpoint) + estimate_bytes(c.engine) + (c.oracle ? estimate_bytes(*c.oracle) : 0);
}

// A checkpoint's memory: its own, and the alarms and driver progress it does not share with
// `prev` (the checkpoint before it).
std::size_t estimate_bytes(const Checkpoint& c, const Checkpoint* prev) {
  std::size_t n = c.own_bytes;
  if (c.driver && (!prev || prev->driver != c.driver))  // the motion plans (a few legs each), tags on or off
    n += sizeof(ScriptDriver::Progress) + c.driver->tag_on.size() * (128 + 2 * 48 + 1);
  auto alarms = [&n](const std::vector<std::shared_ptr<const Alarm>>& mine, const std::vector<std::shared_ptr<const Alarm>>* before) {
    n += mine.size() * sizeof(mine[0]);
    for (size_t i = 0; i < mine.size(); ++i)
      if (!before || i >= before->size() || (*before)[i] != mine[i]) n += alarm_bytes(*mine[i]) + 16;
  };
  alarms(c.alarms, prev ? &prev->alarms : nullptr);
  alarms(c.oracle_alarms, prev ? &prev->oracle_alarms : nullptr);
  return n;
}

// The alarms as shared pointers: those equal to `before`'s at the same index are shared with it.
std::vector<std::shared_ptr<const Alarm>> share_alarms(const AlarmLog& live, const std::vector<std::shared_ptr<const Alarm>>* before) {
  std::vector<std::shared_ptr<const Alarm>> out;
  out.reserve(live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    if (before && i < before->size() && *(*before)[i] == live[i]) out.push_back((*before)[i]);
    else out.push_back(std::make_shared<const Alarm>(live[i]));
  }
  return out;
}

// A copy of an engine's state without its alarms (the checkpoint shares them) and without its
// input queue's entries (a simulated or recorded run queues the whole run's inputs at the start).
// The structured bindings stop the build when EngineState or InputQueue gains a member: copy it
// here too.
EngineState state_without_queue_and_alarms(const EngineState& s) {
  const auto& [now, started, queue, people, zones, alarm_seq, alarms, ack, gatherings, desk, outputs, counters, stats] = s;
  const auto& [pending, head, unsorted, next_seq] = queue;
  (void)pending;
  (void)head;
  (void)alarms;
  return EngineState{now, started, InputQueue{{}, 0, unsorted, next_seq}, people, zones, alarm_seq, {}, ack, gatherings, desk,
                     outputs, counters, stats};
}

// The state of an engine for a checkpoint, without its alarms. `queued`: the engine's queue right
// after reset() in the order it applies it (simulated, recorded), or null. When the inputs the
// engine has not applied yet are the tail of `queued`, the copy leaves them out and `from` says
// where that tail starts; otherwise the copy holds them and `from` is Checkpoint::kCopied.
EngineState capture(const Engine& e, const std::vector<Input>* queued, std::size_t& from) {
  const EngineState& live = e.state();
  EngineState s = state_without_queue_and_alarms(live);
  const InputQueue& q = live.queue;
  const std::size_t left = q.pending.size() - q.head;
  from = Checkpoint::kCopied;
  if (queued && !q.unsorted && left <= queued->size()) {
    // The engine applies `queued` in its order and only ever from the front; anything submitted
    // since reset (an operator action) has a larger seq than every queued input. So the rest is
    // the tail of `queued` when the count and both ends agree.
    const std::size_t k = queued->size() - left;
    if (left == 0 || (q.pending[q.head].seq == (*queued)[k].seq && q.pending.back().seq == queued->back().seq)) {
      from = k;
      return s;
    }
  }
  s.queue.pending.assign(q.pending.begin() + static_cast<long>(q.head), q.pending.end());
  return s;
}

// An engine's queue right after reset(), in the order it applies it: by time, submission order on
// ties (Engine::advance_to sorts it so).
std::shared_ptr<const std::vector<Input>> queue_in_order(const Engine& e) {
  auto v = std::make_shared<std::vector<Input>>(e.state().queue.pending.begin() + static_cast<long>(e.state().queue.head),
                                                e.state().queue.pending.end());
  std::stable_sort(v->begin(), v->end(), [](const Input& a, const Input& b) { return a.t < b.t; });
  return v;
}

// The background step yields to the frame: on a machine with few cores (or software GL, whose
// rasteriser threads need them) the UI's threads go first. Linux: per-thread nice value.
void lower_thread_priority() {
#ifdef __linux__
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
}

}  // namespace

int on_site(const Site& site, const Snapshot& snap) {
  int n = 0;
  for (const auto& p : snap.people) n += p.has_fix && (!site.bounds || site.bounds->contains(p.pos));
  return n;
}

std::unique_ptr<Timeline> Timeline::create(const Scenario& sc, const TimelineOptions& opt, std::string& error) {
  if (sc.fix_rate <= 0) {
    error = sc.file + ": fix_rate must be positive";
    return nullptr;
  }
  std::shared_ptr<InputLog> log;
  if (sc.positioning.mode != Positioning::Mode::truth) {  // simulated and recorded: run once, replay the inputs
    log = std::make_shared<InputLog>();
    RunOptions ro;
    ro.radio_link_stats = false;
    ro.input_log = log.get();
    RunResult r;
    if (!run_scenario(sc, ro, r, error)) return nullptr;
  }
  auto t = std::unique_ptr<Timeline>(new Timeline(sc, opt, std::move(log)));
  return t;
}

std::unique_ptr<Timeline> Timeline::create_recorded(const Scenario& sc, std::vector<Input> inputs, const TimelineOptions& opt) {
  auto log = std::make_shared<InputLog>();
  log->estimated = std::move(inputs);
  return std::unique_ptr<Timeline>(new Timeline(sc, opt, std::move(log), true));
}

std::unique_ptr<Timeline> Timeline::create_following(const Scenario& sc, std::shared_ptr<LiveFeed> feed,
                                                     std::function<void(const AlarmAction&)> forward, const TimelineOptions& opt) {
  TimelineOptions o = opt;
  o.background_steps = false;  // the live engine has done the heavy part; calls apply in order here
  auto t = std::unique_ptr<Timeline>(new Timeline(sc, o, nullptr, true, std::move(feed)));
  t->forward_ = std::move(forward);
  return t;
}

// Following: give the engine the received calls in order, up to (and including) advances to t.
void Timeline::follow_to(Micros target) {
  target = std::min(target, reached_);
  while (applied_ < calls_.size()) {
    const EngineCall& c = calls_[applied_];
    if (c.input) {
      engine_->submit(*c.input);
    } else {
      if (c.t > target) break;
      // kept snapshots at their times, as a played scenario keeps them
      while (next_keep_ <= c.t) {
        engine_->advance_to(std::max(now_, next_keep_));
        now_ = std::max(now_, next_keep_);
        refresh();
        out_.kept.push_back({out_.snap, out_.truth, on_site(sc_.site, out_.snap)});
        next_keep_ += keep_every_;
        flush();
      }
      engine_->advance_to(c.t);
      now_ = std::max(now_, c.t);
      ++applied_;
      if (now_ >= next_checkpoint_) take_checkpoint();
      continue;
    }
    ++applied_;
  }
  now_ = std::max(now_, std::min(target, reached_));
  refresh();
}

Timeline::Timeline(const Scenario& sc, const TimelineOptions& opt, std::shared_ptr<const InputLog> simulated, bool recorded,
                   std::shared_ptr<LiveFeed> feed)
    : sc_(sc), opt_(opt), recorded_(recorded), feed_(std::move(feed)), simulated_(std::move(simulated)) {
  site_ = std::make_shared<const Site>(sc.site);
  noisy_ = !recorded_ && (sc.positioning.noise_sigma > 0 || simulated_ != nullptr);
  reset();
}

EngineSetup Timeline::setup() const {
  return make_engine_setup(sc_, site_);  // camera visibility (PL-13) included, once per site file
}

Timeline::~Timeline() {
  if (job_.valid()) job_.wait();
}

void Timeline::reset() {
  engine_ = std::make_unique<Engine>(setup());
  oracle_.reset();
  if (noisy_) oracle_ = std::make_unique<Engine>(setup());
  driver_ = std::make_unique<ScriptDriver>(sc_, *engine_);
  next_error_ = 0;
  if (simulated_) {
    // the whole run's inputs, queued in the runner's order: the engines apply them by (t, order)
    auto scripted_ok = [this](const Input& in) {
      return opt_.scripted_alarm_actions || !std::holds_alternative<std::shared_ptr<const AlarmAction>>(in.body);
    };
    for (const Input& in : simulated_->estimated)
      if (scripted_ok(in)) engine_->submit(in);
    if (oracle_)
      for (const Input& in : simulated_->truth)
        if (scripted_ok(in)) oracle_->submit(in);
    if (!queued_) {  // the same every time: checkpoints refer to it instead of copying the queue
      queued_ = queue_in_order(*engine_);
      if (oracle_) oracle_queued_ = queue_in_order(*oracle_);
    }
  }
  noise_ = std::make_unique<GaussianStream>(stream_seed(sc_.seed, kNoiseStream));
  now_ = 0;
  shown_now_ = 0;
  next_fix_ = 0;
  carry_us_ = 0;
  replayed_ = 0;
  out_ = Pending{};
  errors_.clear();
  stream_.clear();
  kept_.clear();
  kept_bytes_ = 0;
  keep_every_ = std::max<Micros>(opt_.keep_every, 1);
  next_keep_ = 0;
  checkpoints_.clear();
  checkpoint_bytes_ = 0;
  checkpoint_every_ = opt_.drill ? 0 : std::max<Micros>(opt_.checkpoint_every, 0);  // a drill never goes back
  next_checkpoint_ = checkpoint_every_ > 0 ? 0 : kNever;  // the first at 0
  snap_to_scenario_.clear();
  // snapshot people are in id order; the driver's poses are in scenario order
  std::vector<int> order(sc_.people.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return sc_.people[static_cast<size_t>(a)].id < sc_.people[static_cast<size_t>(b)].id;
  });
  snap_to_scenario_ = order;
  if (feed_) {  // following: the calls so far again, from the start
    applied_ = 0;
    follow_to(0);
    if (checkpoint_every_ > 0 && checkpoints_.empty()) take_checkpoint();
    publish();
    return;
  }
  // t = 0: script actions and fixes at 0, like `run`
  advance_to(0);
  publish();
}

void Timeline::set_speed(double s) { speed_ = std::clamp(s, 0.1, 100.0); }

void Timeline::submit_input(Input in) {
  if (!opt_.scripted_alarm_actions && std::holds_alternative<std::shared_ptr<const AlarmAction>>(in.body)) return;
  if (oracle_) oracle_->submit(in);
  engine_->submit(std::move(in));
}

void Timeline::advance_to(Micros target) {
  target = std::clamp<Micros>(target, 0, sc_.duration);
  // simulated: every input is queued at reset, so the driver only moves the truth
  auto sink = [this](Input in) {
    if (!simulated_) submit_input(std::move(in));
  };
  auto engines_to = [this](Micros t) {
    engine_->advance_to(t);
    if (oracle_) oracle_->advance_to(t);
    now_ = std::max(now_, t);
  };
  while (true) {
    // the next thing due: a fix instant, a recorded operator action (re-runs) or a kept snapshot
    const Micros tf = fix_time(sc_, next_fix_);
    const Micros ta = replayed_ < actions_.size() ? actions_[replayed_].t : kNever;
    const Micros tk = next_keep_;
    const Micros tc = next_checkpoint_;
    const Micros t = std::min({tf, ta, tk, tc});
    if (t > target) break;
    if (t == tf && simulated_) {
      driver_->play_until(tf, sink);
      engines_to(tf);
      for (; next_error_ < simulated_->fix_errors.size() && simulated_->fix_errors[next_error_].first <= tf; ++next_error_)
        out_.errors.push_back(simulated_->fix_errors[next_error_].second);
      ++next_fix_;
    } else if (t == tf) {
      // script actions at t come before the fixes sampled at t, in file order (as in `run`)
      driver_->play_until(tf, sink);
      for (int i : driver_->fix_order()) {
        if (driver_->tag_index(i) < 0 || !driver_->tag_on(i)) continue;
        const TruthPose pose = driver_->pose(i, tf);
        FixInput f = driver_->true_fix(i, pose);
        if (noisy_) {
          oracle_->submit({tf, 0, f});
          f.x += sc_.positioning.noise_sigma * noise_->next();
          f.y += sc_.positioning.noise_sigma * noise_->next();
          out_.errors.push_back(std::hypot(f.x - pose.p.x, f.y - pose.p.y));
        }
        engine_->submit({tf, 0, f});
      }
      engines_to(tf);
      ++next_fix_;
    }
    if (t == ta) {
      // a re-run: the action was taken with the engine already at ta, so it is replayed the same way
      driver_->play_until(ta, sink);
      engines_to(ta);
      const RecordedAction& r = actions_[replayed_++];
      Input in{r.t, 0, std::make_shared<const AlarmAction>(r.action)};
      if (oracle_) oracle_->submit(in);
      engine_->submit(std::move(in));
      engines_to(ta);
    }
    if (t == tk) {
      driver_->play_until(tk, sink);
      engines_to(tk);
      refresh();
      out_.kept.push_back({out_.snap, out_.truth, on_site(sc_.site, out_.snap)});
      next_keep_ += keep_every_;
      if (!in_job_) flush();  // a long synchronous jump: thin as it goes
    }
    if (t == tc) {  // after everything else at t, so that a restore goes on from the next instant
      driver_->play_until(tc, sink);
      engines_to(tc);
      take_checkpoint();
    }
  }
  driver_->play_until(target, sink);
  engines_to(target);
  if (simulated_)
    for (; next_error_ < simulated_->fix_errors.size() && simulated_->fix_errors[next_error_].first <= target; ++next_error_)
      out_.errors.push_back(simulated_->fix_errors[next_error_].second);
  refresh();
}

void Timeline::drain() {
  // drop the engine's output log: everything the viewer shows is in the snapshot
  for (const Output& o : engine_->outputs())
    if (const auto* a = std::get_if<AlarmOutput>(&o.body)) {
      const Alarm& al = engine_->alarms()[static_cast<size_t>(a->alarm)];
      out_.stream += canonical_alarm_line(al, al.events[static_cast<size_t>(a->event)]);
    }
  engine_->clear_outputs();
  if (oracle_) oracle_->clear_outputs();
}

void Timeline::refresh() {
  drain();
  out_.snap = engine_->snapshot();
  out_.snap.t = now_;
  out_.truth.resize(snap_to_scenario_.size());
  if (sc_.positioning.mode == Positioning::Mode::recorded && oracle_) {
    // recorded runs: the truth is the truth log (fed to the oracle), not the script; before a
    // person's first truth row the estimate stands in (no error line is drawn)
    const Snapshot truth = oracle_->snapshot();
    for (size_t i = 0; i < snap_to_scenario_.size(); ++i) {
      const Snapshot::Person& p = i < truth.people.size() && truth.people[i].has_fix ? truth.people[i] : out_.snap.people[i];
      out_.truth[i] = TruthPose{p.pos, p.z, p.floor};
    }
    return;
  }
  for (size_t i = 0; i < snap_to_scenario_.size(); ++i) out_.truth[i] = driver_->pose(snap_to_scenario_[i], now_);
}

void Timeline::keep(KeptSnapshot k) {
  kept_bytes_ += estimate_bytes(k);
  kept_.push_back(std::move(k));
  while (kept_bytes_ > opt_.keep_budget_bytes && kept_.size() > 2) {
    // thin out: keep every other snapshot and double the spacing
    std::vector<KeptSnapshot> thin;
    kept_bytes_ = 0;
    for (size_t i = 0; i < kept_.size(); i += 2) {
      kept_bytes_ += estimate_bytes(kept_[i]);
      thin.push_back(std::move(kept_[i]));
    }
    kept_ = std::move(thin);
    keep_every_ *= 2;
    next_keep_ = kept_.back().snap.t + keep_every_;
  }
  while (next_keep_ <= now_) next_keep_ += keep_every_;  // a background step may have kept past the thinned spacing
}

// Engine side (advance_to, follow_to; a background step too): everything needed to go on from now_.
void Timeline::take_checkpoint() {
  drain();  // the alarm lines so far are in the stream, none left in the engines
  Checkpoint c;
  c.t = now_;
  const Checkpoint* prev = checkpoints_.empty() ? nullptr : &checkpoints_.back();
  c.engine = capture(*engine_, queued_.get(), c.engine_queued_from);
  c.alarms = share_alarms(engine_->alarms(), prev ? &prev->alarms : nullptr);
  if (oracle_) {
    c.oracle = capture(*oracle_, oracle_queued_.get(), c.oracle_queued_from);
    c.oracle_alarms = share_alarms(oracle_->alarms(), prev ? &prev->oracle_alarms : nullptr);
  }
  // the driver's progress is shared with the previous checkpoint while replaying the script actions
  // played since costs little (a few hundred microseconds)
  const std::size_t replay_limit = 32 + sc_.people.size() / 2;
  if (prev && prev->driver && driver_->played() >= prev->driver->next && driver_->played() - prev->driver->next < replay_limit)
    c.driver = prev->driver;
  else c.driver = std::make_shared<const ScriptDriver::Progress>(driver_->progress());
  if (noise_) c.noise = *noise_;
  c.next_fix = next_fix_;
  c.next_error = next_error_;
  c.applied = applied_;
  c.replayed = replayed_;
  // stream_, errors_ and kept_ change only on the UI thread while no step runs
  c.stream_size = stream_.size() + out_.stream.size();
  c.errors_size = errors_.size() + out_.errors.size();
  c.keep_every = keep_every_;
  c.next_keep = next_keep_;
  c.own_bytes = own_bytes(c);
  c.bytes = estimate_bytes(c, prev);
  add_checkpoint(std::move(c));
}

void Timeline::add_checkpoint(Checkpoint c) {
  checkpoint_bytes_ += c.bytes;
  checkpoints_.push_back(std::move(c));
  while (checkpoint_bytes_ > opt_.checkpoint_budget_bytes && checkpoints_.size() > 2) {
    // thin out as the kept snapshots are: keep every other one (the first stays) and double the spacing
    std::vector<Checkpoint> thin;
    checkpoint_bytes_ = 0;
    for (size_t i = 0; i < checkpoints_.size(); i += 2) {
      thin.push_back(std::move(checkpoints_[i]));
      // the alarms it shared with the dropped one before it are now its own
      thin.back().bytes = estimate_bytes(thin.back(), thin.size() > 1 ? &thin[thin.size() - 2] : nullptr);
      checkpoint_bytes_ += thin.back().bytes;
    }
    checkpoints_ = std::move(thin);
    checkpoint_every_ *= 2;
  }
  next_checkpoint_ = (now_ / checkpoint_every_ + 1) * checkpoint_every_;
}

// Seek (UI thread, no step running): the engines, driver and accumulators as they were at the
// latest checkpoint at or before t; the later ones are dropped.
bool Timeline::restore_before(Micros t) {
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), t, [](Micros x, const Checkpoint& c) { return x < c.t; });
  if (it == checkpoints_.begin()) return false;
  for (auto j = it; j != checkpoints_.end(); ++j) checkpoint_bytes_ -= j->bytes;
  checkpoints_.erase(it, checkpoints_.end());
  const Checkpoint& c = checkpoints_.back();
  auto restore_engine = [](Engine& e, const EngineState& from, const std::vector<std::shared_ptr<const Alarm>>& alarms,
                           const std::vector<Input>* queued, std::size_t queued_from) {
    EngineState s = from;  // the checkpoint stays for later jumps
    for (const auto& a : alarms) s.alarms.push_back(*a);
    if (queued_from != Checkpoint::kCopied) s.queue.pending.assign(queued->begin() + static_cast<long>(queued_from), queued->end());
    return e.restore(std::move(s));
  };
  if (!restore_engine(*engine_, c.engine, c.alarms, queued_.get(), c.engine_queued_from)) return false;
  if (oracle_ && (!c.oracle || !restore_engine(*oracle_, *c.oracle, c.oracle_alarms, oracle_queued_.get(), c.oracle_queued_from)))
    return false;
  driver_->restore(*c.driver);
  // the script actions up to t were played when the checkpoint was taken (none when following)
  if (!feed_) driver_->play_until(c.t, [](Input) {});
  if (noise_ && c.noise) *noise_ = *c.noise;
  now_ = c.t;
  next_fix_ = c.next_fix;
  next_error_ = c.next_error;
  applied_ = c.applied;
  replayed_ = c.replayed;
  carry_us_ = 0;
  // what was published after the checkpoint is undone (the stream and errors only grow in a run)
  out_ = Pending{};
  stream_.resize(c.stream_size);
  errors_.resize(c.errors_size);
  while (!kept_.empty() && kept_.back().snap.t > c.t) {
    kept_bytes_ -= estimate_bytes(kept_.back());
    kept_.pop_back();
  }
  if (keep_every_ == c.keep_every) {
    next_keep_ = c.next_keep;
  } else {  // thinned since: go on at today's spacing
    next_keep_ = kept_.empty() ? 0 : kept_.back().snap.t + keep_every_;
    while (next_keep_ <= now_) next_keep_ += keep_every_;
  }
  next_checkpoint_ = (now_ / checkpoint_every_ + 1) * checkpoint_every_;
  ++restores_;
  return true;
}

// The append-only parts of the pending state (errors, kept snapshots, the alarm stream) into the
// published ones. Only while no background step runs.
void Timeline::flush() {
  errors_.insert(errors_.end(), out_.errors.begin(), out_.errors.end());
  out_.errors.clear();
  stream_ += out_.stream;
  out_.stream.clear();
  for (KeptSnapshot& k : out_.kept) keep(std::move(k));
  out_.kept.clear();
}

// Everything the engine side produced becomes what the UI reads. Only while no background step runs.
void Timeline::publish() {
  flush();
  snap_ = std::move(out_.snap);  // refresh() fills them again before the next publish
  truth_ = std::move(out_.truth);
  alarms_ = engine_->alarms();
  if (oracle_) oracle_alarms_ = oracle_->alarms();
  shown_now_ = now_;
}

void Timeline::finish_job() {
  job_.get();
  in_job_ = false;
  publish();
  if (at_end()) playing_ = false;
}

void Timeline::wait() {
  if (job_.valid()) finish_job();
}

void Timeline::tick(double wall_dt_s) {
  if (feed_) {
    for (EngineCall& c : feed_->take()) {
      if (!c.input) reached_ = std::max(reached_, c.t);
      calls_.push_back(std::move(c));
    }
    if (!playing_) return;
    // at 1x this follows the session; after a pause it catches up at the chosen speed
    carry_us_ += std::max(0.0, wall_dt_s) * speed_ * static_cast<double>(kSecond);
    const double whole = std::floor(carry_us_);
    carry_us_ -= whole;
    Micros target = now_ + static_cast<Micros>(whole);
    if (target >= reached_) target = reached_, carry_us_ = 0;
    follow_to(target);
    publish();
    return;
  }
  const double owed = std::max(0.0, wall_dt_s) * speed_ * static_cast<double>(kSecond);
  const double cap = 0.25 * speed_ * static_cast<double>(kSecond);
  if (job_.valid()) {
    if (playing_) carry_us_ = std::min(carry_us_ + owed, std::max(cap, carry_us_));
    if (job_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;  // the UI keeps the last state
    finish_job();
    if (!playing_) return;
  } else {
    if (!playing_) return;
    carry_us_ += owed;
  }
  const double whole = std::floor(carry_us_);
  carry_us_ -= whole;
  const Micros target = std::min(now_ + static_cast<Micros>(whole), sc_.duration);
  // the heavy part of a run happens at fix instants (and kept snapshots): those go to the worker
  const bool heavy = fix_time(sc_, next_fix_) <= target || next_keep_ <= target ||
                     (replayed_ < actions_.size() && actions_[replayed_].t <= target);
  if (opt_.background_steps && heavy) {
    in_job_ = true;
    job_ = std::async(std::launch::async, [this, target] {
      lower_thread_priority();
      advance_to(target);
    });
    return;
  }
  advance_to(target);
  publish();
  if (at_end()) playing_ = false;
}

void Timeline::step() {
  wait();
  if (feed_) {
    seek(std::min(now_ + kSecond, reached_));
    return;
  }
  // next_fix_ is the first fix instant after now
  seek(std::min(fix_time(sc_, next_fix_), sc_.duration));
}

bool Timeline::seek(Micros t, std::string* why) {
  wait();
  if (feed_) {
    t = std::clamp<Micros>(t, 0, reached_);
    if (t < now_ && !restore_before(t)) {
      ++reruns_;
      reset();
    }
    follow_to(t);
    publish();
    return true;
  }
  t = std::clamp<Micros>(t, 0, sc_.duration);
  if (t < now_) {
    if (opt_.drill) {
      if (why) *why = "a drill cannot go back in time: the trainee's actions have changed what follows";
      return false;
    }
    // actions after the target are undone; earlier ones are replayed at their times
    while (!actions_.empty() && actions_.back().t > t) actions_.pop_back();
    if (!restore_before(t)) {
      ++reruns_;
      reset();
    }
  }
  advance_to(t);
  publish();
  return true;
}

void Timeline::act(AlarmAction a) {
  wait();
  if (a.by.empty()) a.by = duty_person(now_);
  if (feed_) {  // the live session applies it; it comes back through the feed
    if (forward_) forward_(a);
    actions_.push_back({now_, a});
    return;
  }
  actions_.push_back({now_, a});
  replayed_ = actions_.size();
  Input in{now_, 0, std::make_shared<const AlarmAction>(a)};
  if (oracle_) oracle_->submit(in);
  engine_->submit(std::move(in));
  engine_->advance_to(now_);
  if (oracle_) oracle_->advance_to(now_);
  refresh();
  publish();
}

std::string Timeline::duty_person(Micros t) const {
  for (const DutyShift& d : sc_.duty)
    if (d.from <= t && t <= d.to) return d.person;
  return "";
}

}  // namespace planttwin::viewer
