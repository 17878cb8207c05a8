// The engine: the input queue, the dispatch of inputs to the rules, and the step that runs the
// time-driven rules in the order docs/engine.md documents. The rules themselves are in
// engine/rules/ (one file each); the alarm lifecycle in engine/alarm_lifecycle.cpp.
#include "engine/engine.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin {

namespace {

// The permit desk's view of the engine (engine/permits.h): positions from the state, alarms and
// outputs through the alarm lifecycle.
class DeskWorld final : public PermitWorld {
 public:
  DeskWorld(const EngineModel& m, EngineState& s) : m_(m), s_(s) {}

  PersonWhere where(int person) const override {
    PersonWhere w;
    if (person < 0 || person >= m_.person_count()) return w;
    const PersonState& p = s_.people[static_cast<size_t>(person)];
    if (!p.has_fix || s_.now - p.last_fix > m_.rules().tag_offline_after) return w;
    w.known = true;
    w.pos = p.pos;
    w.floor = m_.floor_name(p.floor);
    return w;
  }
  LocalTime local(Micros t) const override { return local_time(m_.clock, t); }
  std::int64_t unix_seconds(Micros t) const override {
    return m_.clock.start_unix_s + (t >= 0 ? t / kSecond : -((-t + kSecond - 1) / kSecond));
  }
  int raise(const PermitAlarm& a) override {
    const int idx = raise_alarm(m_, s_, a.t, a.type, a.level, a.who, a.zone, a.pos, m_.lookup_floor(a.floor), a.condition);
    Alarm& al = s_.alarms[static_cast<size_t>(idx)];
    al.code = a.code;
    al.permit = a.permit;
    al.holder = a.holder;
    al.floor = a.floor;
    return idx;
  }
  void clear(int& handle, Micros t) override { clear_alarm(s_, handle, t); }
  void refuse(Micros t, const std::string& permit, const std::string& action, const std::vector<std::string>& codes) override {
    s_.outputs.push_back({t, RefusalOutput{permit, action, codes}});
  }
  void status(Micros t, const std::string& id, const std::string& st) override { s_.outputs.push_back({t, StatusOutput{id, st}}); }

 private:
  const EngineModel& m_;
  EngineState& s_;
};

}  // namespace

EngineState initial_state(const EngineModel& m) {
  EngineState s;
  s.people.resize(m.people.size());
  s.zones.resize(m.site->zones.size());
  s.stats.zone_entries.assign(s.zones.size(), {});
  s.stats.zone_visitors.assign(s.zones.size(), {});
  return s;
}

Engine::Engine(EngineSetup setup) : Engine(EngineModel::build(std::move(setup))) {}

Engine::Engine(std::shared_ptr<const EngineModel> model)
    : model_(std::move(model)), scratch_(std::make_unique<rules::GatheringScratch>()) {
  assert(model_ && model_->site && "Engine needs a model with a site");
  state_ = initial_state(*model_);
}

Engine::~Engine() = default;

bool Engine::restore(EngineState s, std::string* why) {
  const EngineModel& m = *model_;
  auto fail = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  // session time: from 0 to a century (fuzz_checkpoint found a state near the end of Micros: the
  // next evaluation tick overflowed and advance_to never ended)
  constexpr Micros kLongestSession = 100LL * 366 * 24 * 3600 * kSecond;
  if (s.now < 0 || s.now > kLongestSession) return fail("the state's time is out of range (0 to a century of session time)");
  if (s.people.size() != m.people.size()) return fail("the state has another number of people than the model");
  if (s.zones.size() != m.site->zones.size()) return fail("the state has another number of zones than the model");
  if (s.stats.zone_entries.size() != s.zones.size() || s.stats.zone_visitors.size() != s.zones.size())
    return fail("the state's statistics do not match the zones");
  if (s.ack.unack_of.size() != s.alarms.size()) return fail("the state's acknowledgement watch does not match its alarms");
  if (s.queue.head > s.queue.pending.size() || s.ack.head > s.ack.watch.size()) return fail("the state's queue heads are out of range");
  // fuzz_checkpoint found it (a 20 s timeout): an input waiting with a time before the state's
  // took the engine's time back, and from a century of session time advance_to then stepped
  // forward again second by second. The engine never keeps such a state: submit() moves a late
  // input to the current time, and the queue is in time order unless marked unsorted.
  if (!s.started && s.now != 0) return fail("the state has a time but has not started (a state not started is at time 0)");
  for (std::size_t k = s.queue.head; k < s.queue.pending.size(); ++k) {
    const Micros t = s.queue.pending[k].t;
    if (t < 0 || t > kLongestSession) return fail("a waiting input's time is out of range (0 to a century of session time)");
    if (s.started && t < s.now) return fail("a waiting input is stamped before the state's time (the past cannot change)");
    if (!s.queue.unsorted && k > s.queue.head && t < s.queue.pending[k - 1].t)
      return fail("the state's waiting inputs are out of time order but not marked unsorted");
  }
  const int n_alarms = static_cast<int>(s.alarms.size());
  auto alarm_ok = [&](int a) { return a >= -1 && a < n_alarms; };
  const int n_zones = static_cast<int>(s.zones.size()), n_people = static_cast<int>(s.people.size());
  for (const PersonState& p : s.people) {
    if (!alarm_ok(p.stationary_alarm) || !alarm_ok(p.offline_alarm) || !alarm_ok(p.battery_alarm) || !alarm_ok(p.untagged_alarm))
      return fail("a person's alarm index is out of range");
    if (p.floor >= static_cast<int>(std::max<size_t>(1, m.floor_ids.size()))) return fail("a person's floor is out of range");
    for (const ZoneStay& z : p.zones)
      if (z.zone < 0 || z.zone >= n_zones || !alarm_ok(z.crossing) || !alarm_ok(z.overstay)) return fail("a zone stay is out of range");
    for (const auto& [z, a] : p.left_stay_inside)
      if (z < 0 || z >= n_zones || !alarm_ok(a)) return fail("a stay-inside crossing is out of range");
    for (int z : p.visited)
      if (z < 0 || z >= n_zones) return fail("a visited zone is out of range");
  }
  // every time the state keeps lies within a century either side of the session's start (a
  // zone's over_since may also be "never"): fuzz_checkpoint found a still_since near the end of
  // Micros, whose age (t - still_since) overflowed in the stationary rule. Between two such times
  // every difference the rules take fits in Micros.
  auto when = [](Micros x) { return x >= -kLongestSession && x <= kLongestSession; };
  auto when_opt = [&](const std::optional<Micros>& x) { return !x || when(*x); };
  auto times_ok = [&]() {
    for (const Input& in : s.queue.pending) if (!when(in.t)) return false;
    for (const PersonState& p : s.people) {
      if (!when(p.last_fix) || !when(p.report_interval) || !when(p.still_since) || !when_opt(p.gate_in_at)) return false;
      for (const ZoneStay& z : p.zones) if (!when(z.entered)) return false;
    }
    for (const ZoneState& z : s.zones) if (z.over_since != kNever && !when(z.over_since)) return false;
    for (const Alarm& a : s.alarms) {
      if (!when(a.raised_at) || !when_opt(a.cleared_at) || !when_opt(a.acknowledged_at) || !when_opt(a.handled_at) ||
          !when_opt(a.closed_at))
        return false;
      for (const AlarmEvent& e : a.events) if (!when(e.t)) return false;
    }
    for (const GatheringTrack& g : s.gatherings) {
      if (!when(g.broken_since)) return false;
      for (const auto& [who, since] : g.members) if (!when(since)) return false;
    }
    for (const auto& [id, r] : s.desk.reservations) if (!when(r.from) || !when(r.to)) return false;
    for (const Permit& p : s.desk.permits) {
      if (!when(p.rec.from) || !when(p.rec.to) || !when(p.started_at) || !when(p.paused_at) || !when(p.checked_day) ||
          !when_opt(p.guardian_away_since))
        return false;
      for (const auto& [t, what] : p.rec.history) if (!when(t)) return false;
      for (const PermitGasEntry& g : p.rec.gas) if (!when(g.t)) return false;
      for (const PermitGasRecord& g : p.gas) if (!when(g.t) || !when(g.day)) return false;
      for (const auto& [who, tm] : p.intruders) if (!when(tm.since)) return false;
    }
    for (const auto& [key, tm] : s.desk.unpermitted) if (!when(tm.since)) return false;
    for (const Output& o : s.outputs) if (!when(o.t)) return false;
    return true;
  };
  if (!times_ok()) return fail("a time in the state is out of range (a century either side of the session's start)");
  // positions: finite (fuzz_checkpoint found a NaN position reaching the gathering finder's grid,
  // an undefined conversion); the engine never keeps another, as apply() drops such fixes
  auto finite = [](Vec2 v) { return std::isfinite(v.x) && std::isfinite(v.y); };
  for (const PersonState& p : s.people)
    if (!finite(p.pos) || !std::isfinite(p.z) || !finite(p.still_anchor)) return fail("a person's position is not finite");
  for (const GatheringTrack& g : s.gatherings)
    if (!finite(g.center)) return fail("a gathering track's centre is not finite");
  for (const Permit& p : s.desk.permits) {
    bool ok = finite(p.area.box.min) && finite(p.area.box.max);
    for (Vec2 v : p.area.pts) ok = ok && finite(v);
    for (Vec2 v : p.rec.area) ok = ok && finite(v);
    if (!ok) return fail("a permit's work area is not finite");
  }
  for (const ZoneState& z : s.zones)
    if (!alarm_ok(z.capacity_alarm) || !alarm_ok(z.staffing_alarm)) return fail("a zone's alarm index is out of range");
  for (int a : s.ack.watch)
    if (a < 0 || a >= n_alarms) return fail("the acknowledgement watch names an unknown alarm");
  for (int a : s.ack.unack_of)
    if (!alarm_ok(a)) return fail("an unacknowledged link names an unknown alarm");
  for (const GatheringTrack& g : s.gatherings) {
    if (!alarm_ok(g.alarm) || g.floor < 0 || g.floor >= static_cast<int>(std::max<size_t>(1, m.floor_ids.size())))
      return fail("a gathering track is out of range");
    for (const auto& [p, since] : g.members)
      if (p < 0 || p >= n_people) return fail("a gathering member is out of range");
    for (int p : g.warned)
      if (p < 0 || p >= n_people) return fail("a warned person is out of range");
  }
  for (const Permit& p : s.desk.permits) {
    if (!alarm_ok(p.guardian_alarm) || !alarm_ok(p.record_alarm) || !alarm_ok(p.daily_alarm)) return fail("a permit's alarm index is out of range");
    for (const auto& [who, tm] : p.intruders)
      if (who < 0 || who >= n_people || !alarm_ok(tm.alarm)) return fail("a permit's intruder is out of range");
  }
  for (const auto& [id, i] : s.desk.permit_index)
    if (i >= s.desk.permits.size() || s.desk.permits[i].rec.id != id) return fail("the permit index does not match the permits");
  for (const auto& [key, tm] : s.desk.unpermitted)
    if (key.first >= s.zones.size() || key.second < 0 || key.second >= n_people || !alarm_ok(tm.alarm))
      return fail("a work-without-permit timer is out of range");
  for (const Output& o : s.outputs)
    if (const auto* a = std::get_if<AlarmOutput>(&o.body))
      if (a->alarm < 0 || a->alarm >= n_alarms || a->event < 0 ||
          a->event >= static_cast<int>(s.alarms[static_cast<size_t>(a->alarm)].events.size()))
        return fail("an alarm output names an unknown alarm event");
  state_ = std::move(s);
  return true;
}

int Engine::tag_index(std::string_view tag) const {
  auto it = model_->tag_ids.find(std::string(tag));
  return it == model_->tag_ids.end() ? -1 : it->second;
}
int Engine::person_index(std::string_view id) const {
  auto it = model_->person_ids.find(std::string(id));
  return it == model_->person_ids.end() ? -1 : it->second;
}
int Engine::floor_index(std::string_view f) const { return model_->lookup_floor(f); }
int Engine::zone_index(std::string_view z) const {
  auto it = model_->zone_index.find(std::string(z));
  return it == model_->zone_index.end() ? -1 : it->second;
}

void Engine::submit(Input in) {
  InputQueue& q = state_.queue;
  in.seq = q.next_seq++;
  if (state_.started && in.t < state_.now) {
    // the past cannot change: a late input is applied at the current time, and counted
    ++state_.counters.late_inputs;
    in.t = state_.now;
  }
  if (q.pending.size() > q.head && in.t < q.pending.back().t) q.unsorted = true;
  q.pending.push_back(std::move(in));
}

void Engine::advance_to(Micros until) {
  InputQueue& q = state_.queue;
  if (q.unsorted) {
    std::stable_sort(q.pending.begin() + static_cast<long>(q.head), q.pending.end(),
                     [](const Input& a, const Input& b) { return a.t < b.t; });
    q.unsorted = false;
  }
  const Micros every = std::max<Micros>(1, model_->rules().evaluate_every);
  while (true) {
    const Micros next_input = q.head < q.pending.size() ? q.pending[q.head].t : kNever;
    // the tick after `now`, without overflowing near the end of Micros (then: no further tick)
    const Micros next_tick = !state_.started ? 0 : state_.now / every >= kNever / every - 1 ? kNever : (state_.now / every + 1) * every;
    const Micros t = std::min(next_input, next_tick);
    if (t > until || t == kNever) break;
    const Micros previous = state_.started ? state_.now : kNever;
    state_.now = t;
    state_.started = true;
    while (q.head < q.pending.size() && q.pending[q.head].t == t) apply(q.pending[q.head++]);
    step(t, previous);
  }
  if (q.head == q.pending.size()) {
    q.pending.clear();
    q.head = 0;
  } else if (q.head > 4096 && q.head * 2 > q.pending.size()) {
    q.pending.erase(q.pending.begin(), q.pending.begin() + static_cast<long>(q.head));
    q.head = 0;
  }
}

void Engine::apply(const Input& in) {
  const EngineModel& m = *model_;
  EngineState& s = state_;
  ++s.counters.inputs;
  const Micros t = in.t;
  auto person_of_tag = [&](int tag) {
    if (tag < 0 || tag >= static_cast<int>(m.tag_person.size())) {
      ++s.counters.unknown_tag;
      return -1;
    }
    return m.tag_person[static_cast<size_t>(tag)];
  };
  if (const auto* f = std::get_if<FixInput>(&in.body)) {
    const int pi = person_of_tag(f->tag);
    if (pi < 0) return;
    // not a position: every reader refuses such a fix, but the engine is the last guard (a NaN
    // reaching the gathering finder's grid is undefined behaviour)
    if (!std::isfinite(f->x) || !std::isfinite(f->y) || !std::isfinite(f->z)) {
      ++s.counters.invalid_fixes;
      return;
    }
    PersonState& p = s.people[static_cast<size_t>(pi)];
    ++s.counters.fixes;
    const Vec2 pos{f->x, f->y};
    if (p.has_fix && t > p.last_fix) p.report_interval = t - p.last_fix;
    p.pos = pos;
    p.z = f->z;
    p.floor = f->floor >= 0 ? f->floor : m.floor_from_z(pos, f->z);
    p.last_fix = t;
    rules::stationary_on_fix(m, s, pi, pos, t);
    s.people[static_cast<size_t>(pi)].has_fix = true;
    rules::tags_on_fix(s, pi, t);
    rules::update_zones(m, s, pi, t);
  } else if (const auto* sos = std::get_if<SosInput>(&in.body)) {
    const int pi = person_of_tag(sos->tag);
    if (pi >= 0) rules::sos(m, s, pi, t);
  } else if (const auto* st = std::get_if<TagStatusInput>(&in.body)) {
    const int pi = person_of_tag(st->tag);
    if (pi >= 0) rules::tag_status(m, s, pi, *st, t);
  } else if (const auto* g = std::get_if<GateInput>(&in.body)) {
    rules::gate(m, s, *g, t);
  } else if (const auto* c = std::get_if<std::shared_ptr<const PermitCommand>>(&in.body)) {
    ++s.counters.permit_commands;
    if (*c) {
      DeskWorld world(m, s);
      permit_command(m.desk, s.desk, t, **c, world);
    }
  } else if (const auto* a = std::get_if<std::shared_ptr<const AlarmAction>>(&in.body)) {
    if (*a) rules::operator_action(s, **a, t);
  }
}

void Engine::use_reference_gathering_finder(bool on) { scratch_->use_reference = on; }

void Engine::step(Micros t, Micros previous) {
  const EngineModel& m = *model_;
  EngineState& s = state_;
  ++s.counters.steps;
  rules::zone_schedules(m, s, t);
  rules::zone_counts(m, s, t);
  const int n = m.person_count();
  for (int p = 0; p < n; ++p) {
    const PersonState& ps = s.people[static_cast<size_t>(p)];
    if (!ps.zones.empty() || !ps.left_stay_inside.empty()) rules::fences(m, s, p, t);
  }
  rules::capacity(m, s, t);
  for (int p = 0; p < n; ++p) {
    rules::stationary(m, s, p, t);
    rules::tag_offline(m, s, p, t);
    if (s.people[static_cast<size_t>(p)].gate_in_at) rules::untagged_entry(m, s, p, t);
  }
  {
    DeskWorld world(m, s);
    permit_step(m.desk, s.desk, t, world);
  }
  // the gathering rule at every step, or (gathering.every) at the first step at or after each
  // multiple of it: a function of engine time and the step before, both state, so a resumed engine
  // runs it at the same steps
  const Micros every = m.rules().gathering.every;
  if (every <= 0 || previous == kNever || t / every > previous / every) rules::gathering(m, s, *scratch_, t);
  rules::acknowledgement(m, s, t);
}

int Engine::zone_count(int zone) const { return state_.zones.at(static_cast<size_t>(zone)).count; }
std::array<int, kCategoryCount> Engine::zone_count_by_category(int zone) const {
  return state_.zones.at(static_cast<size_t>(zone)).by_category;
}
bool Engine::zone_active(int zone) const { return state_.zones.at(static_cast<size_t>(zone)).active; }
int Engine::person_count() const { return model_->person_count(); }
std::vector<PermitRecord> Engine::permits() const { return permit_records(state_.desk); }
std::vector<std::string> Engine::cameras_at(std::string_view floor, Vec2 p) const { return model_->cameras_at(floor, p); }

Snapshot Engine::snapshot() const {
  const EngineModel& m = *model_;
  const EngineState& st = state_;
  Snapshot s;
  s.t = st.now;
  s.people.reserve(st.people.size());
  for (size_t i = 0; i < st.people.size(); ++i) {
    const PersonState& p = st.people[i];
    const PersonSetup& def = m.people[i];
    Snapshot::Person sp;
    sp.id = def.id;
    sp.name = def.name;
    sp.tag = def.tag;
    sp.category = def.category;
    sp.has_fix = p.has_fix;
    sp.pos = p.pos;
    sp.z = p.z;
    sp.floor = m.floor_name(p.floor);
    sp.last_fix = p.last_fix;
    sp.battery = p.battery;
    sp.offline = p.offline_alarm >= 0;
    if (p.has_fix) sp.cameras = m.cameras_at(sp.floor, p.pos);
    s.people.push_back(std::move(sp));
  }
  for (const Alarm& a : st.alarms)
    if (!a.closed_at) s.open_alarms.push_back(a);
  for (const GatheringTrack& g : st.gatherings) {
    if (g.alarm < 0) continue;
    const Alarm& a = st.alarms[static_cast<size_t>(g.alarm)];
    if (a.cleared_at) continue;
    Snapshot::Gathering sg;
    sg.alarm_id = a.id;
    sg.level = a.level;
    for (const auto& mem : g.members) sg.members.push_back(m.people[static_cast<size_t>(mem.first)].id);
    sg.center = g.center;
    sg.radius = m.rules().gathering.radius;
    sg.floor = m.floor_name(g.floor);
    s.gatherings.push_back(std::move(sg));
  }
  for (size_t z = 0; z < st.zones.size(); ++z) {
    Snapshot::ZoneState zs;
    zs.id = m.site->zones[z].id;
    zs.active = st.zones[z].active;
    zs.count = st.zones[z].count;
    zs.by_category = st.zones[z].by_category;
    s.zones.push_back(std::move(zs));
  }
  s.permits = permit_records(st.desk);
  return s;
}

Engine::PersonView Engine::person(int index) const {
  const PersonState& p = state_.people.at(static_cast<size_t>(index));
  return {model_->people[static_cast<size_t>(index)].id, p.has_fix, p.pos, model_->floor_name(p.floor), p.last_fix, p.battery};
}

std::string canonical_alarm_line(const Alarm& a, const AlarmEvent& e) {
  std::string who;
  for (size_t i = 0; i < a.who.size(); ++i) who += (i ? "," : "") + a.who[i];
  char t[32];
  std::snprintf(t, sizeof t, "%lld", static_cast<long long>(e.t));
  return std::string(t) + '\t' + a.id + '\t' + to_string(e.kind) + '\t' + to_string(a.type) + '\t' + to_string(e.level) + '\t' +
         to_string(a.code) + '\t' + who + '\t' + a.zone + '\t' + a.permit + '\t' + a.of + '\t' + e.by + '\n';
}

}  // namespace planttwin
