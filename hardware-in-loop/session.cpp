#include "hardware-in-loop/session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "engine/byte_codec.h"
#include "engine/checkpoint.h"
#include "scenarios/checkpoint.h"
#include "scenarios/driver.h"
#include "scenarios/report.h"
#include "scenarios/report_html.h"
#include "sim/solver/solver.h"

namespace planttwin::hil {

namespace fs = std::filesystem;

// A tag's range / tdoa messages of one epoch (same device ts), waiting to be solved.
struct Session::Epoch {
  std::int64_t ts_ms = 0;
  bool tdoa = false;
  Micros first_arrival = 0;
  std::vector<RangeObs> ranges;
  std::vector<TdoaObs> diffs;
};

namespace {

Scenario session_scenario(const Scenario& sc, const SessionOptions& opt) {
  Scenario s = sc;
  // t = 0 is the session's start; the calendar uses the site's timezone, never the host's
  const std::int64_t us = opt.start_unix_us;
  s.clock.start_unix_s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  s.clock.utc_offset_min = sc.site.timezone_min;
  return s;
}

std::int64_t floor_ms(std::int64_t us) { return us >= 0 ? us / 1000 : -((-us + 999) / 1000); }

}  // namespace

#ifdef PLANTTWIN_HAS_SOLVER
// The site's range_offsets for tags (calibration, docs/recorded.md): the solver takes the anchors'
// from the site by itself, the tags' by engine tag index.
void Session::set_tag_offsets(Solver& solver) const {
  for (size_t tag = 0; tag < tag_ids_.size(); ++tag) {
    const auto it = site_->range_offsets.tags.find(tag_ids_[tag]);
    if (it != site_->range_offsets.tags.end()) solver.set_tag_offset(static_cast<int>(tag), it->second);
  }
}
#endif

Session::Session(const Scenario& sc, SessionOptions opt)
    : sc_(session_scenario(sc, opt)), opt_(opt), start_ms_(floor_ms(opt.start_unix_us)), collector_(result_) {
  site_ = std::make_shared<const Site>(sc_.site);
  engine_ = std::make_unique<Engine>(make_engine_setup(sc_, site_));
  if (opt_.with_script) driver_ = std::make_unique<ScriptDriver>(sc_, *engine_);
  floor_ids_ = site_->floor_ids();
  ctx_.engine = engine_.get();
  ctx_.site = site_.get();
  ctx_.start_unix_ms = start_ms_;
  for (const SurveyPoint& p : site_->survey_points) marks_.push_back({p.id, {}, 0});
  for (const PersonDef& p : sc_.people) {
    if (!p.tag) continue;
    const int tag = engine_->tag_index(*p.tag);
    if (tag < 0) continue;
    if (person_of_tag_.size() <= static_cast<size_t>(tag)) person_of_tag_.resize(static_cast<size_t>(tag) + 1, -1);
    person_of_tag_[static_cast<size_t>(tag)] = engine_->person_index(p.id);
    if (tag_ids_.size() <= static_cast<size_t>(tag)) tag_ids_.resize(static_cast<size_t>(tag) + 1);
    tag_ids_[static_cast<size_t>(tag)] = *p.tag;
  }
  pending_.resize(tag_ids_.size());
  fix_hash_log_ = std::make_unique<FixLog>();
#ifdef PLANTTWIN_HAS_SOLVER
  solver_ = std::make_unique<Solver>(*site_);
  set_tag_offsets(*solver_);
#endif
  if (opt_.checkpoint_every > 0) checkpoint_next_ = opt_.checkpoint_every;
}

Session::~Session() = default;

void Session::submit(Input in, std::optional<Micros> measured) {
  if (const auto* f = std::get_if<FixInput>(&in.body)) log_fix(*f, measured.value_or(in.t));
  if (opt_.history || fix_observer_)
    if (const auto* f = std::get_if<FixInput>(&in.body)) {
      const int p = f->tag >= 0 && static_cast<size_t>(f->tag) < person_of_tag_.size() ? person_of_tag_[static_cast<size_t>(f->tag)] : -1;
      if (p >= 0) {
        const PersonDef& who = sc_.people[static_cast<size_t>(p)];
        const std::string floor = f->floor >= 0 ? floor_ids_.at(static_cast<size_t>(f->floor)) : std::string();
        if (opt_.history && !history_paused_) opt_.history->fix({who.id, unix_ms(start_ms_, in.t), to_cm(f->x), to_cm(f->y), to_cm(f->z), floor});
        if (fix_observer_) fix_observer_(in.t, who.id, who.tag.value_or(""), *f, floor);
      }
    }
  if (const auto* f = std::get_if<FixInput>(&in.body)) {
    ++fixes_;
    // report-time regularity, for advice(): a fix later than its tag's previous interval
    if (f->tag >= 0) {
      if (tag_reports_.size() <= static_cast<size_t>(f->tag)) tag_reports_.resize(static_cast<size_t>(f->tag) + 1, {-1, -1});
      auto& [last, interval] = tag_reports_[static_cast<size_t>(f->tag)];
      if (last >= 0 && in.t > last) {
        const Micros now_interval = in.t - last;
        if (interval > 0 && now_interval < sc_.site.rules.tag_offline_after) {
          ++counters_.fix_intervals;
          if (now_interval > interval + interval / 100) ++counters_.late_fixes;  // 1 %: clock granularity is no jitter
          counters_.longest_interval = std::max(counters_.longest_interval, now_interval);
        }
        interval = now_interval;
      }
      if (in.t > last) last = in.t;
    }
  }
  if (input_log_) input_log_->push_back(in);
  if (calls_) calls_(EngineCall{in.t, in});
  engine_->submit(std::move(in));
}

void Session::log_fix(const FixInput& f, Micros measured) {
  const std::string floor = f.floor >= 0 && static_cast<size_t>(f.floor) < floor_ids_.size() ? floor_ids_[static_cast<size_t>(f.floor)] : std::string();
  const bool known = f.tag >= 0 && static_cast<size_t>(f.tag) < tag_ids_.size();
  FixRow row{measured, known ? tag_ids_[static_cast<size_t>(f.tag)] : std::to_string(f.tag), f.x, f.y, f.z, floor, std::nullopt, std::nullopt};
  const std::uint64_t seq = fix_hash_log_->count();
  fix_hash_log_->add(row);  // the hash in feed order; errors are not part of it
  if (!fix_csv_) return;
  if (!known) {  // cannot happen (decoding refuses unknown tags); written at once
    fix_csv_->add(row);
    return;
  }
  settle_pending(f.tag);  // the tag's previous fix can no longer be marked
  pending_[static_cast<size_t>(f.tag)] = PendingRow{seq, std::move(row)};
}

void Session::settle_pending(int tag) {
  std::optional<PendingRow>& p = pending_[static_cast<size_t>(tag)];
  if (!p) return;
  fix_csv_->add(p->row);
  p.reset();
}

void Session::settle_all() {
  if (!fix_csv_) return;
  // the rows still pending, in feed order
  std::vector<int> tags;
  for (size_t i = 0; i < pending_.size(); ++i)
    if (pending_[i]) tags.push_back(static_cast<int>(i));
  std::sort(tags.begin(), tags.end(), [this](int a, int b) { return pending_[static_cast<size_t>(a)]->seq < pending_[static_cast<size_t>(b)]->seq; });
  for (int tag : tags) settle_pending(tag);
}

bool Session::open_fixes_csv(std::string& error) {
  if (opt_.fixes_csv.empty() || fix_csv_) return true;
  auto csv = std::make_unique<FixLog>();
  if (!csv->open_csv(opt_.fixes_csv, error)) return false;
  fix_csv_ = std::move(csv);
  return true;
}

std::string Session::fix_hash() const { return fix_hash_log_->hash_hex(); }

void Session::before(Micros t) {
  if (driver_) driver_->play_until(t, [this](Input in) { submit(std::move(in)); });
  if (opt_.replay) return;  // replay: windows close where the recording says
  // collection windows that closed by t, oldest first (tag order on ties)
  while (true) {
    int tag = -1;
    Micros best = 0;
    for (const auto& [k, e] : epochs_)
      if (e.first_arrival + opt_.solve_window <= t && (tag < 0 || e.first_arrival < best)) tag = k, best = e.first_arrival;
    if (tag < 0) break;
    if (recorder_) recorder_->solve(t, tag);
    solve(t, tag);
  }
}

void Session::solve(Micros t, int tag) {
  auto it = epochs_.find(tag);
  if (it == epochs_.end()) return;
  Epoch ep = std::move(it->second);
  epochs_.erase(it);
#ifdef PLANTTWIN_HAS_SOLVER
  const Micros measured = (ep.ts_ms - start_ms_) * kMillisecond;
  const std::optional<SolvedFix> s =
      ep.tdoa ? solver_->solve_tdoa(tag, measured, ep.diffs) : solver_->solve_twr(tag, measured, ep.ranges);
  if (!s) {
    ++counters_.solver_no_fix;
    return;
  }
  ++counters_.solved_fixes;
  FixInput f;
  f.tag = tag;
  f.x = s->x;
  f.y = s->y;
  f.z = s->z;
  f.floor = s->floor.empty() ? -1 : engine_->floor_index(s->floor);
  // the fix reaches the engine now, when the epoch is solved; it was measured at the epoch's ts
  submit({t, 0, f}, measured);
#else
  (void)t;
  ++counters_.solver_no_fix;
#endif
}

void Session::solve_recorded(Micros t, int tag) {
  checkpoints_before(t);
  before(t);
  solve(t, tag);
  advance_engine(t);
  drain();
}

std::optional<Micros> Session::next_solve_deadline() const {
  std::optional<Micros> d;
  for (const auto& [k, e] : epochs_)
    if (!d || e.first_arrival + opt_.solve_window < *d) d = e.first_arrival + opt_.solve_window;
  return d;
}

void Session::drop(Micros t, const DecodeError& e, std::string_view topic) {
  ++counters_.dropped;
  ++counters_.dropped_by_reason[e.reason];
  if (publish_) {
    publish_(encode_error(unix_ms(start_ms_, t), e, topic));
    ++counters_.published;
  }
}

void Session::on_bad_frames(Micros t, std::size_t frames, std::string_view first_frame) {
  checkpoints_before(t);
  ++counters_.received;
  if (!held_) advance(t);
  drop(t, {"bad_frames", "a message has 2 frames [topic, body], this one had " + std::to_string(frames)}, frames ? first_frame : "");
}

bool Session::on_message(Micros t, std::string_view topic, std::string_view body, std::int64_t* ts_ms) {
  checkpoints_before(t);
  ++counters_.received;
  before(t);
  Decoded d;
  DecodeError err;
  bool ok = decode(topic, body, ctx_, d, err);
  if (ok && !opt_.replay) {
    const std::int64_t arrival_ms = unix_ms(start_ms_, t);
    const std::int64_t skew = d.ts_ms - arrival_ms;
    if (std::llabs(skew) * kMillisecond > opt_.max_skew) {
      ok = false;
      err = {"skew", "ts " + std::to_string(d.ts_ms) + " lies " + std::to_string(skew) + " ms from the arrival " +
                         std::to_string(arrival_ms) + " (more than --max-skew)"};
    }
  }
#ifndef PLANTTWIN_HAS_SOLVER
  if (ok && (d.topic == Topic::range || d.topic == Topic::tdoa)) {
    ok = false;
    err = {"unsupported", "this build has no positioning solver for range / tdoa"};
  }
#endif
  if (!ok) {
    if (!held_) {
      advance_engine(t);
      drain();
    }
    drop(t, err, topic);
    return false;
  }
  ++counters_.accepted;
  switch (d.topic) {
    case Topic::fix: ++counters_.fix_messages; break;
    case Topic::range: ++counters_.range_messages; break;
    case Topic::tdoa: ++counters_.tdoa_messages; break;
    case Topic::mark: ++counters_.mark_messages; break;
    default: break;
  }
  if (ts_ms) *ts_ms = d.ts_ms;
  // recorded before it is applied
  if (recorder_) recorder_->input(t, d.ts_ms, topic, body);
  switch (d.topic) {
    case Topic::range:
    case Topic::tdoa: {
      const bool tdoa = d.topic == Topic::tdoa;
      const int tag = tdoa ? d.tdoa.tag : d.range.tag;
      auto it = epochs_.find(tag);
      // a new epoch of this tag: the previous one is complete
      if (it != epochs_.end() && (it->second.ts_ms != d.ts_ms || it->second.tdoa != tdoa)) {
        solve(t, tag);
        it = epochs_.end();
      }
      if (it == epochs_.end()) it = epochs_.emplace(tag, Epoch{d.ts_ms, tdoa, t, {}, {}}).first;
      if (tdoa) it->second.diffs.push_back({d.tdoa.anchor_a, d.tdoa.anchor_b, d.tdoa.dd});
      else it->second.ranges.push_back({d.range.anchor, d.range.d, d.range.rx_dbm, d.range.fp_dbm});
      break;
    }
    case Topic::mark: {
      advance_engine(t);
      MarkStats& m = marks_[static_cast<size_t>(d.mark.point)];
      const int p = static_cast<size_t>(d.mark.tag) < person_of_tag_.size() ? person_of_tag_[static_cast<size_t>(d.mark.tag)] : -1;
      const Engine::PersonView v = p >= 0 ? engine_->person(p) : Engine::PersonView{};
      if (!v.has_fix) {
        ++m.without_fix;
      } else {
        const SurveyPoint& sp = site_->survey_points[static_cast<size_t>(d.mark.point)];
        m.errors.push_back(std::hypot(v.pos.x - sp.at[0], v.pos.y - sp.at[1]));
        // the mark is the truth for the tag's latest fix: its fixes.csv row gets the errors
        // (against the point's surveyed position, 3D with its height; the last mark wins)
        const size_t tag = static_cast<size_t>(d.mark.tag);
        if (tag < pending_.size() && pending_[tag]) {
          FixRow& row = pending_[tag]->row;
          const double e2 = std::hypot(row.x - sp.at[0], row.y - sp.at[1]);
          row.error_2d = e2;
          row.error_3d = std::sqrt(e2 * e2 + (row.z - sp.at[2]) * (row.z - sp.at[2]));
        }
      }
      break;
    }
    case Topic::fix:
      // measured at the device's ts (µs since the session's start); it reaches the engine now
      d.input.t = t;
      submit(std::move(d.input), (d.ts_ms - start_ms_) * kMillisecond);
      break;
    default:
      d.input.t = t;
      submit(std::move(d.input));
      break;
  }
  if (!held_) {
    advance_engine(t);
    drain();
  }
  return true;
}

void Session::advance_engine(Micros t) {
  if (calls_) calls_(EngineCall{t, std::nullopt});
  engine_->advance_to(t);
  now_ = std::max(now_, t);
}

void Session::advance(Micros t) {
  checkpoints_before(t);
  before(t);
  advance_engine(t);
  drain();
}

void Session::drain() {
  if (engine_->outputs().empty()) return;
  for (const Output& o : engine_->outputs()) {
    if (publish_) {
      scratch_.clear();
      encode_output(*engine_, o, start_ms_, scratch_);
      for (const WireMessage& m : scratch_) publish_(m);
      counters_.published += scratch_.size();
    }
    if (observer_) observer_(*engine_, o);
  }
  collector_.drain(*engine_);
}

// ---- checkpoints ---------------------------------------------------------------------------

namespace {

// The RUNNER record of a session's checkpoint: version, then the session's identity (checked on
// restore), then its state.
// 2: accepted messages by topic, fix_hash, fixes.csv's length and its pending rows (issue 19).
constexpr std::uint32_t kSessionStateVersion = 2;

void save_counters(ByteWriter& w, const SessionCounters& c) {
  w.u64(c.received), w.u64(c.accepted), w.u64(c.dropped);
  w.size(c.dropped_by_reason.size());
  for (const auto& [reason, n] : c.dropped_by_reason) w.str(reason), w.u64(n);
  w.u64(c.solved_fixes), w.u64(c.solver_no_fix), w.u64(c.published);
  w.u64(c.fix_intervals), w.u64(c.late_fixes), w.i64(c.longest_interval);
  w.u64(c.fix_messages), w.u64(c.range_messages), w.u64(c.tdoa_messages), w.u64(c.mark_messages);
}

void load_counters(ByteReader& r, SessionCounters& c) {
  c.received = r.u64(), c.accepted = r.u64(), c.dropped = r.u64();
  const std::size_t n = r.size(16);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string reason = r.str();
    c.dropped_by_reason[reason] = r.u64();
  }
  c.solved_fixes = r.u64(), c.solver_no_fix = r.u64(), c.published = r.u64();
  c.fix_intervals = r.u64(), c.late_fixes = r.u64(), c.longest_interval = r.i64();
  c.fix_messages = r.u64(), c.range_messages = r.u64(), c.tdoa_messages = r.u64(), c.mark_messages = r.u64();
}

std::string unix_us_text(std::int64_t us) {
  char b[64];
  std::snprintf(b, sizeof b, "%lld us after the Unix epoch", static_cast<long long>(us));
  return b;
}

}  // namespace

RunCheckpoint Session::checkpoint() const {
  RunCheckpoint c;
  c.meta = checkpoint_meta(sc_, *engine_, now_, "live");
  c.engine = encode_state(engine_->state());
  ByteWriter w;
  w.u32(kSessionStateVersion);
  w.i64(opt_.start_unix_us);
  w.boolean(opt_.with_script);
  w.i64(opt_.solve_window);
  put_collected(w, result_);
  save_counters(w, counters_);
  w.size(marks_.size());
  for (const MarkStats& m : marks_) {
    w.str(m.point);
    w.size(m.errors.size());
    for (double e : m.errors) w.f64(e);
    w.u64(m.without_fix);
  }
  w.size(tag_reports_.size());
  for (const auto& [last, interval] : tag_reports_) w.i64(last), w.i64(interval);
  w.size(epochs_.size());
  for (const auto& [tag, e] : epochs_) {
    w.i32(tag);
    w.i64(e.ts_ms);
    w.boolean(e.tdoa);
    w.i64(e.first_arrival);
    w.size(e.ranges.size());
    for (const RangeObs& o : e.ranges) w.i32(o.anchor), w.f64(o.d), w.f64(o.rx_dbm), w.f64(o.fp_dbm);
    w.size(e.diffs.size());
    for (const TdoaObs& o : e.diffs) w.i32(o.anchor_a), w.i32(o.anchor_b), w.f64(o.dd);
  }
  w.u64(fixes_);
  // fix_hash, then fixes.csv: its length so far (0: none) and the rows not yet written
  fix_hash_log_->save(w);
  if (fix_csv_) {
    fix_csv_->save(w);
  } else {
    FixLog none;
    none.save(w);
  }
  std::size_t pending = 0;
  for (const auto& p : pending_) pending += p.has_value();
  w.size(pending);
  for (size_t tag = 0; tag < pending_.size(); ++tag) {
    if (!pending_[tag]) continue;
    const PendingRow& p = *pending_[tag];
    w.i32(static_cast<std::int32_t>(tag)), w.u64(p.seq), w.i64(p.row.t);
    w.f64(p.row.x), w.f64(p.row.y), w.f64(p.row.z), w.str(p.row.floor);
    w.boolean(p.row.error_2d.has_value()), w.f64(p.row.error_2d.value_or(0));
    w.boolean(p.row.error_3d.has_value()), w.f64(p.row.error_3d.value_or(0));
  }
  c.runner = w.take();
#ifdef PLANTTWIN_HAS_SOLVER
  ByteWriter sim;
  solver_->save(sim);
  c.sim = sim.take();
#endif
  return c;
}

bool Session::checkpoint_start(const RunCheckpoint& ck, std::int64_t& start_unix_us, std::string& error) {
  if (ck.meta.positioning != "live") {
    error = "the checkpoint is of a `planttwin run` (" + ck.meta.positioning + " positioning), not of a live session or replay";
    return false;
  }
  ByteReader r(ck.runner);
  const std::uint32_t version = r.u32();
  if (r.ok() && version != kSessionStateVersion) {
    error = "the checkpoint's session state has version " + std::to_string(version) + "; this planttwin reads version " +
            std::to_string(kSessionStateVersion);
    return false;
  }
  start_unix_us = r.i64();
  if (!r.ok()) {
    error = "damaged checkpoint: session state: " + r.error();
    return false;
  }
  return true;
}

bool Session::restore(const RunCheckpoint& ck, std::string& error) {
  const std::string head = "cannot resume the session: ";
  if (counters_.received > 0 || now_ > 0 || engine_->state().started || fixes_ > 0 || fix_csv_) {
    error = head + "the session has already started (restore a fresh one)";
    return false;
  }
  std::string why;
  // the scenario and site first (the model's fingerprint also covers the session's start: that
  // is checked below with a clearer message)
  CheckpointMeta named = ck.meta;
  named.model_fingerprint = engine_->model().fingerprint;
  if (!checkpoint_matches(named, sc_, engine_->model().fingerprint, why)) {
    error = head + why;
    return false;
  }
  if (ck.meta.positioning != "live") {
    error = head + "the checkpoint is of a `planttwin run` (" + ck.meta.positioning + " positioning), not of a live session or replay";
    return false;
  }
  ByteReader r(ck.runner);
  const std::uint32_t version = r.u32();
  if (r.ok() && version != kSessionStateVersion) {
    error = head + "the checkpoint's session state has version " + std::to_string(version) + "; this planttwin reads version " +
            std::to_string(kSessionStateVersion);
    return false;
  }
  const std::int64_t start_us = r.i64();
  const bool with_script = r.boolean();
  const Micros solve_window = r.i64();
  if (!r.ok()) {
    error = head + "damaged checkpoint: session state: " + r.error();
    return false;
  }
  if (start_us != opt_.start_unix_us) {
    error = head + "the checkpoint is of another session of this scenario (started " + unix_us_text(start_us) + ", this one " +
            unix_us_text(opt_.start_unix_us) + ")";
    return false;
  }
  if (with_script != opt_.with_script) {
    error = head + std::string("the checkpoint's session ") + (with_script ? "played" : "did not play") + " the scenario's script, this one " +
            (opt_.with_script ? "does" : "does not");
    return false;
  }
  if (solve_window != opt_.solve_window) {
    error = head + "the checkpoint's session had a solve window of " + std::to_string(solve_window) + " us, this one " +
            std::to_string(opt_.solve_window) + " us";
    return false;
  }
  if (ck.meta.model_fingerprint != engine_->model().fingerprint) {
    error = head + "the checkpoint was written for another engine set-up (people, zones or rules differ)";
    return false;
  }
  RunResult collected;
  get_collected(r, collected);
  SessionCounters counters;
  load_counters(r, counters);
  std::vector<MarkStats> marks(r.size(17));
  bool consistent = marks.size() == marks_.size();
  for (size_t i = 0; i < marks.size() && r.ok(); ++i) {
    marks[i].point = r.str();
    marks[i].errors.resize(r.size(8));
    for (double& e : marks[i].errors) e = r.f64();
    marks[i].without_fix = static_cast<std::size_t>(r.u64());
    consistent = consistent && i < marks_.size() && marks[i].point == marks_[i].point;
  }
  std::vector<std::pair<Micros, Micros>> tag_reports(r.size(16));
  for (auto& [last, interval] : tag_reports) last = r.i64(), interval = r.i64();
  const int tags = static_cast<int>(person_of_tag_.size());
  consistent = consistent && tag_reports.size() <= person_of_tag_.size();
  std::map<int, Epoch> epochs;
  const std::size_t ne = r.size(37);
  const int anchors = static_cast<int>(site_->anchors.size());
  auto anchor_ok = [anchors](int a) { return a >= 0 && a < anchors; };
  for (std::size_t i = 0; i < ne && r.ok(); ++i) {
    const int tag = r.i32();
    Epoch e;
    e.ts_ms = r.i64();
    e.tdoa = r.boolean();
    e.first_arrival = r.i64();
    e.ranges.resize(r.size(28));
    for (RangeObs& o : e.ranges) {
      o.anchor = r.i32(), o.d = r.f64(), o.rx_dbm = r.f64(), o.fp_dbm = r.f64();
      consistent = consistent && anchor_ok(o.anchor);
    }
    e.diffs.resize(r.size(16));
    for (TdoaObs& o : e.diffs) {
      o.anchor_a = r.i32(), o.anchor_b = r.i32(), o.dd = r.f64();
      consistent = consistent && anchor_ok(o.anchor_a) && anchor_ok(o.anchor_b);
    }
    consistent = consistent && tag >= 0 && tag < tags && epochs.emplace(tag, std::move(e)).second;
  }
  const std::size_t fixes = static_cast<std::size_t>(r.u64());
  auto hash_log = std::make_unique<FixLog>();
  std::uint64_t unused = 0, csv_bytes = 0;
  consistent = hash_log->load(r, unused) && consistent;
  auto csv = std::make_unique<FixLog>();  // its chain (rows in the order written) and length
  consistent = csv->load(r, csv_bytes) && consistent;
  std::vector<std::optional<PendingRow>> pending(pending_.size());
  const std::size_t np = r.size(66);
  for (std::size_t i = 0; i < np && r.ok(); ++i) {
    const int tag = r.i32();
    PendingRow p;
    p.seq = r.u64();
    p.row.t = r.i64();
    p.row.x = r.f64(), p.row.y = r.f64(), p.row.z = r.f64();
    p.row.floor = r.str();
    const bool has2 = r.boolean();
    const double e2 = r.f64();
    const bool has3 = r.boolean();
    const double e3 = r.f64();
    if (has2) p.row.error_2d = e2;
    if (has3) p.row.error_3d = e3;
    const bool ok = tag >= 0 && static_cast<size_t>(tag) < pending.size() && !pending[static_cast<size_t>(tag)];
    consistent = consistent && ok;
    if (!ok) break;
    p.row.tag = tag_ids_[static_cast<size_t>(tag)];
    pending[static_cast<size_t>(tag)] = std::move(p);
  }
  if (!r.ok() || !r.at_end() || !consistent) {
    error = head + "damaged checkpoint: session state: " +
            (!r.ok() ? r.error() : !r.at_end() ? std::string("left-over bytes") : std::string("inconsistent with this scenario"));
    return false;
  }
#ifdef PLANTTWIN_HAS_SOLVER
  auto solver = std::make_unique<Solver>(*site_);
  set_tag_offsets(*solver);
  ByteReader sr(ck.sim);
  if (ck.sim.empty() || !solver->load(sr) || !sr.at_end()) {
    error = head + "damaged checkpoint: solver state: " +
            (ck.sim.empty() ? std::string("missing") : sr.ok() ? std::string("left-over bytes") : sr.error());
    return false;
  }
#endif
  // fixes.csv continues the interrupted session's file, cut back to the checkpoint's length (done
  // last before the engine: a refused restore leaves at most that file cut back)
  if (opt_.fixes_csv.empty()) {
    csv.reset();
  } else {
    if (csv_bytes == 0) {
      error = head + opt_.fixes_csv + ": the checkpoint's session wrote no fixes.csv, so this one cannot write a complete one "
                     "(resume without a report folder, or replay from the start)";
      return false;
    }
    if (!csv->open_csv(opt_.fixes_csv, why, csv_bytes)) {
      error = head + why + " (resume into the report folder of the interrupted session, or copy its fixes.csv there)";
      return false;
    }
  }
  EngineState st;
  if (!decode_state(ck.engine, st, why) || !engine_->restore(std::move(st), &why)) {
    error = head + "damaged checkpoint: " + why;
    return false;
  }
  // nothing can fail from here on
#ifdef PLANTTWIN_HAS_SOLVER
  solver_ = std::move(solver);
#endif
  collected.checkpoints.clear();
  result_ = std::move(collected);
  result_.resumed_at = to_seconds(ck.meta.t);
  counters_ = std::move(counters);
  marks_ = std::move(marks);
  tag_reports_ = std::move(tag_reports);
  epochs_ = std::move(epochs);
  fixes_ = fixes;
  fix_hash_log_ = std::move(hash_log);
  fix_csv_ = std::move(csv);
  pending_ = fix_csv_ ? std::move(pending) : std::vector<std::optional<PendingRow>>(pending_.size());
  now_ = ck.meta.t;
  // the script up to the checkpoint: its inputs are in the engine's state already
  if (driver_) driver_->play_until(ck.meta.t, [](Input) {});
  if (opt_.checkpoint_every > 0) checkpoint_next_ = (ck.meta.t / opt_.checkpoint_every + 1) * opt_.checkpoint_every;
  return true;
}

void Session::checkpoints_before(Micros t) {
  // checkpoint c is written once the session's time passes it: every call with a time <= c has
  // been handled, so everything at or before c is decided
  while (checkpoint_next_ < t) {
    const Micros c = checkpoint_next_;
    if (c < now_) {  // a call went back in time: skip what is already behind the session
      checkpoint_next_ = (now_ / opt_.checkpoint_every + 1) * opt_.checkpoint_every;
      continue;
    }
    // the script up to c and the engine to c (advancing in other steps changes nothing, docs/engine.md);
    // solver windows are left open: they close at the next call, as without checkpoints
    if (driver_) driver_->play_until(c, [this](Input in) { submit(std::move(in)); });
    advance_engine(c);
    drain();
    const std::string path = (fs::path(opt_.checkpoint_dir) / checkpoint_file_name(sc_.name, c)).string();
    std::string err;
    if (!write_checkpoint_file(path, checkpoint(), err)) {
      checkpoint_error_ = err;
      checkpoint_next_ = kNever;
      return;
    }
    result_.checkpoints.push_back(path);
    checkpoint_next_ = c + opt_.checkpoint_every;
  }
}

AccuracyStats mark_accuracy(const std::vector<MarkStats>& marks) {
  std::vector<double> all;
  for (const MarkStats& m : marks) all.insert(all.end(), m.errors.begin(), m.errors.end());
  AccuracyStats a;
  a.n = all.size();
  if (!all.empty()) {
    double sumsq = 0;
    for (double e : all) sumsq += e * e;
    a.mean = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
    a.rmse = std::sqrt(sumsq / static_cast<double>(all.size()));
    a.median = quantile_nearest_rank(all, 0.5);
    a.cdf68 = quantile_nearest_rank(all, 0.6827);
    a.cdf95 = quantile_nearest_rank(all, 0.95);
    a.p95 = a.cdf95;
    a.max = *std::max_element(all.begin(), all.end());
    a.curve = accuracy_curve(std::move(all));
  }
  return a;
}

void Session::finish(Micros t, RunResult& r) {
  advance(t);
  if (recorder_) {
    recorder_->end(t);
    recorder_->flush();
  }
  finish_result(*engine_, result_);
  result_.fixes = fixes_;
  result_.fix_hash = fix_hash_log_->hash_hex();
  if (fix_csv_) {
    settle_all();
    std::string err;
    if (!fix_csv_->close(err) && fixes_csv_error_.empty()) fixes_csv_error_ = err;
    fix_csv_.reset();
  }
  SessionProvenance prov;
  prov.replay = opt_.replay;
  prov.duration_s = to_seconds(t);
  prov.fix_messages = counters_.fix_messages;
  prov.range_messages = counters_.range_messages;
  prov.tdoa_messages = counters_.tdoa_messages;
  prov.mark_messages = counters_.mark_messages;
  prov.solver_epochs = counters_.solved_fixes + counters_.solver_no_fix;
  result_.session = prov;
  if (std::any_of(marks_.begin(), marks_.end(), [](const MarkStats& m) { return !m.errors.empty(); }))
    result_.accuracy = mark_accuracy(marks_);
  // the report's per-point section (AQ 3064.3 App. A static test), as a simulated run fills it
  result_.survey_points.clear();
  for (const MarkStats& m : marks_) {
    if (m.errors.empty()) continue;
    const AccuracyStats a = mark_accuracy({m});
    result_.survey_points.push_back({m.point, a.n, a.mean, a.cdf68, a.cdf95});
  }
  check_expectations(sc_, result_);
  if (opt_.history) feed_history(sc_, result_, *opt_.history, start_ms_);
  r = result_;
}

// ---- report --------------------------------------------------------------------------------

namespace {

std::string iso_ms(std::int64_t unix_ms_v, int offset_min) {
  const std::int64_t local = unix_ms_v + offset_min * 60000LL;
  const std::int64_t days = local >= 0 ? local / 86400000LL : -((-local + 86399999LL) / 86400000LL);
  const std::int64_t in_day = local - days * 86400000LL;
  int y = 0, mo = 0, d = 0;
  civil_from_days(days, y, mo, d);
  const int off = std::abs(offset_min);
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", y, mo, d, static_cast<int>(in_day / 3600000),
                static_cast<int>(in_day / 60000 % 60), static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000),
                offset_min < 0 ? '-' : '+', off / 60, off % 60);
  return b;
}

}  // namespace

std::vector<std::string> Session::advice() const {
  std::vector<std::string> out;
  const SessionCounters& c = counters_;
  // the default gathering rule counts a person while their fix is younger than their tag's last
  // interval: with irregular report times a late fix drops them again and again (docs/engine.md)
  if (sc_.site.rules.gathering.fix_max_age == 0 && c.fix_intervals >= 20 && c.late_fixes * 10 >= c.fix_intervals) {
    const double pct = 100.0 * static_cast<double>(c.late_fixes) / static_cast<double>(c.fix_intervals);
    // a little more than the longest interval seen, in half seconds
    const double suggest = std::ceil(to_seconds(c.longest_interval) * 1.25 * 2) / 2;
    char b[640];
    std::snprintf(b, sizeof b,
                  "gathering: %.0f%% of fixes came later than their tag's previous report interval, so people keep "
                  "dropping out of gathering candidates and a gathering may never form; set rules.gathering.fix_max_age "
                  "in the scenario (e.g. %.1fs: the longest interval seen was %.2f s) / 聚集判定：%.0f%%的定位晚于该标签上一次的"
                  "上报间隔，人员会反复退出聚集候选，可能永远不会形成聚集；请在场景中设置 rules.gathering.fix_max_age（例如 %.1fs）",
                  pct, suggest, to_seconds(c.longest_interval), pct, suggest);
    out.push_back(b);
  }
  return out;
}

bool write_live_report(const std::string& dir, const Scenario& sc, const RunResult& r, const LiveSummary& s, std::string& error) {
  nlohmann::ordered_json j = report_json(sc, r);
  nlohmann::ordered_json live;
  live["mode"] = s.replay ? "replay" : "live";
  live["start"] = iso_ms(s.start_unix_ms, s.utc_offset_min);
  live["start_unix_ms"] = s.start_unix_ms;
  live["duration_s"] = to_seconds(s.end_t);
  live["received"] = s.counters.received;
  live["accepted"] = s.counters.accepted;
  live["dropped"] = s.counters.dropped;
  live["dropped_by_reason"] = s.counters.dropped_by_reason;
  live["solved_fixes"] = s.counters.solved_fixes;
  live["solver_no_fix"] = s.counters.solver_no_fix;
  if (s.latency_us_p50) live["latency_us_p50"] = *s.latency_us_p50;
  if (s.latency_us_p99) live["latency_us_p99"] = *s.latency_us_p99;
  if (s.device_ms_p50) live["decision_minus_ts_ms_p50"] = *s.device_ms_p50;
  if (s.device_ms_p99) live["decision_minus_ts_ms_p99"] = *s.device_ms_p99;
  nlohmann::ordered_json marks = nlohmann::ordered_json::array();
  for (const MarkStats& m : s.marks) {
    if (m.errors.empty() && !m.without_fix) continue;
    const AccuracyStats a = mark_accuracy({m});
    const double mx = m.errors.empty() ? 0 : *std::max_element(m.errors.begin(), m.errors.end());
    marks.push_back({{"point", m.point}, {"n", a.n}, {"without_fix", m.without_fix}, {"mean", a.mean}, {"cdf68", a.cdf68}, {"cdf95", a.cdf95}, {"max", mx}});
  }
  live["marks"] = marks;
  if (!s.marks.empty()) {
    const AccuracyStats a = mark_accuracy(s.marks);
    live["mark_accuracy"] = {{"n", a.n}, {"mean", a.mean}, {"cdf68", a.cdf68}, {"cdf95", a.cdf95}};
  }
  live["advice"] = s.advice;
  if (!s.sources.empty()) {
    nlohmann::ordered_json src = nlohmann::ordered_json::object();
    for (const auto& [name, st] : s.sources)
      src[name] = {{"received", st.received}, {"accepted", st.accepted}, {"dropped", st.dropped},
                   {"dropped_by_reason", st.dropped_by_reason}, {"disconnects", st.disconnects}};
    live["sources"] = src;
  }
  if (!s.recording.empty()) live["recording"] = s.recording;
  if (s.replay) {
    live["torn_tail"] = s.torn.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.torn);
    live["torn_bytes"] = s.torn_bytes;
  }
  j["live"] = live;

  std::string md = report_markdown(sc, r);
  char b[512];
  md += std::string("\n## ") + (s.replay ? "回放 Replay" : "现场会话 Live session") + "\n\n| 项目 Item | 值 Value |\n|---|---|\n";
  md += "| 会话开始 Session start | " + iso_ms(s.start_unix_ms, s.utc_offset_min) + " |\n";
  std::snprintf(b, sizeof b, "| 会话时长 Session length | %.3f s |\n", to_seconds(s.end_t));
  md += b;
  std::snprintf(b, sizeof b, "| 收到 / 接受 / 丢弃 Received / accepted / dropped | %llu / %llu / %llu |\n",
                static_cast<unsigned long long>(s.counters.received), static_cast<unsigned long long>(s.counters.accepted),
                static_cast<unsigned long long>(s.counters.dropped));
  md += b;
  for (const auto& [reason, n] : s.counters.dropped_by_reason) md += "| 丢弃原因 Dropped: `" + reason + "` | " + std::to_string(n) + " |\n";
  for (const auto& [name, st] : s.sources) {
    std::snprintf(b, sizeof b, "| 输入源 Source `%s`: 收到 / 接受 / 丢弃 / 断线 received / accepted / dropped / disconnects | %llu / %llu / %llu / %llu |\n",
                  name.c_str(), static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.accepted),
                  static_cast<unsigned long long>(st.dropped), static_cast<unsigned long long>(st.disconnects));
    md += b;
    for (const auto& [reason, n] : st.dropped_by_reason) md += "| 丢弃原因 Dropped (" + name + "): `" + reason + "` | " + std::to_string(n) + " |\n";
  }
  if (s.latency_us_p50 && s.latency_us_p99) {
    std::snprintf(b, sizeof b, "| 到达→判定时延 Arrival→decision latency | p50 %.0f µs, p99 %.0f µs |\n", *s.latency_us_p50, *s.latency_us_p99);
    md += b;
  }
  if (s.device_ms_p50 && s.device_ms_p99) {
    std::snprintf(b, sizeof b, "| 设备时间→判定 Device ts→decision | p50 %.0f ms, p99 %.0f ms |\n", *s.device_ms_p50, *s.device_ms_p99);
    md += b;
  }
  if (!s.recording.empty()) md += "| 记录文件 Recording | `" + s.recording + "` |\n";
  for (const std::string& a : s.advice) md += "| 建议 Advice | " + a + " |\n";
  if (s.replay)
    md += std::string("| 记录尾部 Recording tail | ") + (s.torn.empty() ? "完整 intact" : "残缺，已使用完整部分 torn, intact prefix used: " + s.torn) + " |\n";
  bool any_mark = false;
  for (const MarkStats& m : s.marks) any_mark = any_mark || !m.errors.empty() || m.without_fix;
  if (any_mark) {
    // per-point errors are in the report's survey-point section; here what it does not show
    md += "\n### 测试点标记 Marks at surveyed points\n\n| 测试点 Point | 标记 Marks | 无定位 No fix | 最大误差 Max error m |\n|---|---|---|---|\n";
    for (const MarkStats& m : s.marks) {
      if (m.errors.empty() && !m.without_fix) continue;
      const double mx = m.errors.empty() ? 0 : *std::max_element(m.errors.begin(), m.errors.end());
      std::snprintf(b, sizeof b, "| %s | %zu | %zu | %.3f |\n", m.point.c_str(), m.errors.size() + m.without_fix, m.without_fix, mx);
      md += b;
    }
  }
  // report.html: the same page as a run's, with the session's counters in its provenance
  std::vector<HtmlFact> facts;
  facts.push_back({"会话开始", "Session start", iso_ms(s.start_unix_ms, s.utc_offset_min)});
  std::snprintf(b, sizeof b, "%llu / %llu / %llu", static_cast<unsigned long long>(s.counters.received),
                static_cast<unsigned long long>(s.counters.accepted), static_cast<unsigned long long>(s.counters.dropped));
  facts.push_back({"收到 / 接受 / 丢弃", "Received / accepted / dropped", b});
  for (const auto& [reason, n] : s.counters.dropped_by_reason) facts.push_back({"丢弃原因", "Dropped: " + reason, std::to_string(n)});
  if (s.latency_us_p50 && s.latency_us_p99) {
    std::snprintf(b, sizeof b, "p50 %.0f µs, p99 %.0f µs", *s.latency_us_p50, *s.latency_us_p99);
    facts.push_back({"到达→判定时延", "Arrival→decision latency", b});
  }
  if (!s.recording.empty()) facts.push_back({"记录文件", "Recording", s.recording});
  for (const std::string& a : s.advice) facts.push_back({"建议", "Advice", a});
  if (s.replay) facts.push_back({"记录尾部", "Recording tail", s.torn.empty() ? "完整 intact" : "残缺 torn: " + s.torn});
  if (!write_text_file((fs::path(dir) / "report.json").string(), j.dump(2) + "\n", error) ||
      !write_text_file((fs::path(dir) / "report.md").string(), md, error) ||
      !write_text_file((fs::path(dir) / "report.html").string(), report_html(sc, r, facts), error))
    return false;
  for (const PermitRecord& p : r.permits)
    if (!write_text_file((fs::path(dir) / "permits" / (p.id + ".html")).string(), permit_html(sc, r, p), error)) return false;
  return true;
}

}  // namespace planttwin::hil
