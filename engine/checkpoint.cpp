#include "engine/checkpoint.h"

#include <utility>

namespace planttwin {

namespace {

// ---- writing ----------------------------------------------------------------------------------

void put(ByteWriter& w, Vec2 v) {
  w.f64(v.x);
  w.f64(v.y);
}
void put(ByteWriter& w, const Polygon& p) {
  w.size(p.pts.size());
  for (Vec2 v : p.pts) put(w, v);
  put(w, p.box.min);
  put(w, p.box.max);
}
void put_pts(ByteWriter& w, const std::vector<Vec2>& v) {
  w.size(v.size());
  for (Vec2 p : v) put(w, p);
}
void put_ints(ByteWriter& w, const std::vector<int>& v) {
  w.size(v.size());
  for (int x : v) w.i32(x);
}
void put(ByteWriter& w, const std::array<int, kCategoryCount>& a) {
  for (int x : a) w.i32(x);
}
void put_opt_bool(ByteWriter& w, const std::optional<bool>& v) {
  w.boolean(v.has_value());
  if (v) w.boolean(*v);
}
void put_opt_str(ByteWriter& w, const std::optional<std::string>& v) {
  w.boolean(v.has_value());
  if (v) w.str(*v);
}
void put(ByteWriter& w, const GasReadings& g) {
  w.opt_f64(g.flammable_volpct);
  w.opt_f64(g.gas_lel_pct);
  w.opt_f64(g.o2_volpct);
  w.size(g.toxic.size());
  for (const auto& [k, v] : g.toxic) w.str(k), w.f64(v);
}

void put(ByteWriter& w, const Input& in) {
  w.i64(in.t);
  w.u64(in.seq);
  w.u8(static_cast<std::uint8_t>(in.body.index()));
  if (const auto* f = std::get_if<FixInput>(&in.body)) {
    w.i32(f->tag), w.f64(f->x), w.f64(f->y), w.f64(f->z), w.i32(f->floor);
  } else if (const auto* s = std::get_if<SosInput>(&in.body)) {
    w.i32(s->tag);
  } else if (const auto* st = std::get_if<TagStatusInput>(&in.body)) {
    w.i32(st->tag), w.opt_f64(st->battery), put_opt_bool(w, st->online);
  } else if (const auto* g = std::get_if<GateInput>(&in.body)) {
    w.i32(g->person), w.boolean(g->in), w.str(g->gate_id);
  } else if (const auto* a = std::get_if<std::shared_ptr<const AlarmAction>>(&in.body)) {
    w.boolean(*a != nullptr);
    if (!*a) return;
    const AlarmAction& x = **a;
    w.u8(static_cast<std::uint8_t>(x.kind));
    put_opt_str(w, x.alarm_id);
    w.boolean(x.type.has_value());
    if (x.type) w.u8(static_cast<std::uint8_t>(*x.type));
    put_opt_str(w, x.who);
    w.str(x.by), w.str(x.note);
  } else if (const auto* c = std::get_if<std::shared_ptr<const PermitCommand>>(&in.body)) {
    w.boolean(*c != nullptr);
    if (!*c) return;
    const PermitCommand& x = **c;
    w.str(x.action), w.str(x.id), w.str(x.by), w.str(x.reservation), w.str(x.type), w.str(x.grade);
    put_pts(w, x.area);
    w.str(x.floor), w.strs(x.workers), w.str(x.guardian), w.str(x.approver), w.strs(x.linked);
    w.opt_i64(x.from), w.opt_i64(x.to), w.boolean(x.urgent), w.opt_f64(x.load_t), w.opt_f64(x.height_m);
    w.strs(x.hazard_factors), w.str(x.blind);
    put(w, x.readings);
    w.strs(x.signed_by), w.str(x.note);
  }
}

void put(ByteWriter& w, const Alarm& a) {
  w.str(a.id);
  w.u8(static_cast<std::uint8_t>(a.type)), w.u8(static_cast<std::uint8_t>(a.level)), w.u8(static_cast<std::uint8_t>(a.code));
  w.strs(a.who);
  w.str(a.zone), w.str(a.permit), w.str(a.of), w.str(a.holder);
  put(w, a.pos);
  w.str(a.floor);
  w.i64(a.raised_at);
  w.opt_i64(a.cleared_at), w.opt_i64(a.acknowledged_at), w.opt_i64(a.handled_at), w.opt_i64(a.closed_at);
  w.str(a.routed_to);
  w.boolean(a.needs_confirmation), w.boolean(a.condition);
  w.size(a.events.size());
  for (const AlarmEvent& e : a.events) {
    w.i64(e.t), w.u8(static_cast<std::uint8_t>(e.kind)), w.u8(static_cast<std::uint8_t>(e.level)), w.str(e.by), w.str(e.note);
  }
  w.strs(a.cameras);
}

void put(ByteWriter& w, const PermitRecord& r) {
  w.str(r.id), w.str(r.reservation), w.str(r.type), w.str(r.grade), w.str(r.floor);
  put_pts(w, r.area);
  w.strs(r.workers), w.strs(r.linked), w.strs(r.approvals);
  w.str(r.guardian), w.str(r.approver);
  w.i64(r.from), w.i64(r.to);
  w.u8(static_cast<std::uint8_t>(r.status));
  w.i32(r.aq2_code);
  w.size(r.history.size());
  for (const auto& [t, s] : r.history) w.i64(t), w.str(s);
  w.size(r.gas.size());
  for (const PermitGasEntry& g : r.gas) w.i64(g.t), w.str(g.by), put(w, g.readings);
  w.boolean(r.risk_analysis), w.boolean(r.measures_confirmed);
  w.strs(r.briefed);
  w.str(r.blind);
}

void put(ByteWriter& w, const PermitTimer& t) { w.i64(t.since), w.i32(t.alarm); }

void put(ByteWriter& w, const PermitDeskState& d) {
  w.size(d.reservations.size());
  for (const auto& [id, r] : d.reservations) {
    w.str(id);
    w.str(r.id), w.str(r.type), w.str(r.grade), w.u8(static_cast<std::uint8_t>(r.status)), w.i64(r.from), w.i64(r.to);
  }
  w.size(d.permits.size());
  for (const Permit& p : d.permits) {
    put(w, p.rec);
    put(w, p.area);
    w.str(p.blind);
    w.boolean(p.explosion), w.boolean(p.risk_analysis), w.boolean(p.measures_confirmed);
    w.size(p.gas.size());
    for (const PermitGasRecord& g : p.gas) w.i64(g.t), w.i64(g.day), w.str(g.by), put(w, g.readings);
    w.strs(p.briefed);
    w.i64(p.started_at), w.i64(p.paused_at), w.i64(p.checked_day);
    w.opt_i64(p.guardian_away_since);
    w.i32(p.guardian_alarm), w.i32(p.record_alarm), w.i32(p.daily_alarm);
    w.size(p.intruders.size());
    for (const auto& [who, t] : p.intruders) w.i32(who), put(w, t);
  }
  w.size(d.permit_index.size());
  for (const auto& [id, i] : d.permit_index) w.str(id), w.u64(i);
  w.size(d.unpermitted.size());
  for (const auto& [key, t] : d.unpermitted) w.u64(key.first), w.i32(key.second), put(w, t);
}

void put(ByteWriter& w, const Output& o) {
  w.i64(o.t);
  w.u8(static_cast<std::uint8_t>(o.body.index()));
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, AlarmOutput>) {
          w.i32(b.alarm), w.i32(b.event);
        } else if constexpr (std::is_same_v<T, WarnOutput>) {
          w.str(b.tag), w.str(b.alarm_id), w.str(b.reason);
        } else if constexpr (std::is_same_v<T, ZoneCountOutput>) {
          w.i32(b.zone), w.i32(b.count), put(w, b.by_category);
        } else if constexpr (std::is_same_v<T, GatheringOutput>) {
          w.str(b.alarm_id), w.u8(static_cast<std::uint8_t>(b.level)), w.strs(b.members), put(w, b.center), w.str(b.floor), w.f64(b.radius);
        } else if constexpr (std::is_same_v<T, RefusalOutput>) {
          w.str(b.permit), w.str(b.action), w.strs(b.codes);
        } else if constexpr (std::is_same_v<T, StatusOutput>) {
          w.str(b.id), w.str(b.status);
        } else if constexpr (std::is_same_v<T, EntryOutput>) {
          w.i32(b.zone), w.i32(b.person), w.u8(static_cast<std::uint8_t>(b.category));
        } else if constexpr (std::is_same_v<T, CameraCallOutput>) {
          w.str(b.alarm_id), w.strs(b.cameras);
        }
      },
      o.body);
}

// ---- reading ----------------------------------------------------------------------------------

// Adds a decoded map entry. The writer gives a std::map's entries in key order, so a key that
// repeats or goes back marks a damaged state: refused, since taking it would decode to a different
// state than the bytes say (a repeated key would be dropped or overwrite the first).
template <class Map>
void add_in_order(ByteReader& r, Map& m, typename Map::key_type key, typename Map::mapped_type v, const char* what) {
  if (!r.ok()) return;
  if (!m.empty() && !(m.rbegin()->first < key)) {
    r.fail(std::string(what) + ": an entry repeats or is out of key order");
    return;
  }
  m.emplace_hint(m.end(), std::move(key), std::move(v));
}

Vec2 vec2(ByteReader& r) {
  Vec2 v;
  v.x = r.f64();
  v.y = r.f64();
  return v;
}
std::vector<Vec2> pts(ByteReader& r) {
  std::vector<Vec2> v(r.size(16));
  for (Vec2& p : v) p = vec2(r);
  return v;
}
Polygon polygon(ByteReader& r) {
  Polygon p;
  p.pts = pts(r);
  p.box.min = vec2(r);
  p.box.max = vec2(r);
  return p;
}
std::vector<int> ints(ByteReader& r) {
  std::vector<int> v(r.size(4));
  for (int& x : v) x = r.i32();
  return v;
}
std::array<int, kCategoryCount> cats(ByteReader& r) {
  std::array<int, kCategoryCount> a{};
  for (int& x : a) x = r.i32();
  return a;
}
std::optional<bool> opt_bool(ByteReader& r) {
  if (!r.boolean()) return std::nullopt;
  return r.boolean();
}
std::optional<std::string> opt_str(ByteReader& r) {
  if (!r.boolean()) return std::nullopt;
  return r.str();
}
GasReadings gas(ByteReader& r) {
  GasReadings g;
  g.flammable_volpct = r.opt_f64();
  g.gas_lel_pct = r.opt_f64();
  g.o2_volpct = r.opt_f64();
  const std::size_t n = r.size(16);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    const double ppm = r.f64();
    add_in_order(r, g.toxic, std::move(k), ppm, "gas readings' toxic substances");
  }
  return g;
}

Input input(ByteReader& r) {
  Input in;
  in.t = r.i64();
  in.seq = r.u64();
  const std::uint8_t kind = r.u8();
  switch (kind) {
    case 0: {
      FixInput f;
      f.tag = r.i32(), f.x = r.f64(), f.y = r.f64(), f.z = r.f64(), f.floor = r.i32();
      in.body = f;
      break;
    }
    case 1: in.body = SosInput{r.i32()}; break;
    case 2: {
      TagStatusInput s;
      s.tag = r.i32();
      s.battery = r.opt_f64();
      s.online = opt_bool(r);
      in.body = s;
      break;
    }
    case 3: {
      GateInput g;
      g.person = r.i32();
      g.in = r.boolean();
      g.gate_id = r.str();
      in.body = g;
      break;
    }
    case 4: {
      if (!r.boolean()) {
        in.body = std::shared_ptr<const AlarmAction>();
        break;
      }
      AlarmAction a;
      a.kind = r.enumeration<AlarmAction::Kind>(3);
      a.alarm_id = opt_str(r);
      if (r.boolean()) a.type = r.enumeration<AlarmType>(kAlarmTypeCount);
      a.who = opt_str(r);
      a.by = r.str();
      a.note = r.str();
      in.body = std::make_shared<const AlarmAction>(std::move(a));
      break;
    }
    case 5: {
      if (!r.boolean()) {
        in.body = std::shared_ptr<const PermitCommand>();
        break;
      }
      PermitCommand c;
      c.action = r.str(), c.id = r.str(), c.by = r.str(), c.reservation = r.str(), c.type = r.str(), c.grade = r.str();
      c.area = pts(r);
      c.floor = r.str(), c.workers = r.strs(), c.guardian = r.str(), c.approver = r.str(), c.linked = r.strs();
      c.from = r.opt_i64(), c.to = r.opt_i64(), c.urgent = r.boolean(), c.load_t = r.opt_f64(), c.height_m = r.opt_f64();
      c.hazard_factors = r.strs(), c.blind = r.str();
      c.readings = gas(r);
      c.signed_by = r.strs(), c.note = r.str();
      in.body = std::make_shared<const PermitCommand>(std::move(c));
      break;
    }
    default: r.fail("unknown input kind " + std::to_string(kind));
  }
  return in;
}

Alarm alarm(ByteReader& r) {
  Alarm a;
  a.id = r.str();
  a.type = r.enumeration<AlarmType>(kAlarmTypeCount);
  a.level = r.enumeration<AlarmLevel>(5);
  a.code = r.enumeration<Aq2Code>(kAq2CodeCount);
  a.who = r.strs();
  a.zone = r.str(), a.permit = r.str(), a.of = r.str(), a.holder = r.str();
  a.pos = vec2(r);
  a.floor = r.str();
  a.raised_at = r.i64();
  a.cleared_at = r.opt_i64(), a.acknowledged_at = r.opt_i64(), a.handled_at = r.opt_i64(), a.closed_at = r.opt_i64();
  a.routed_to = r.str();
  a.needs_confirmation = r.boolean(), a.condition = r.boolean();
  a.events.resize(r.size(11));
  for (AlarmEvent& e : a.events) {
    e.t = r.i64();
    e.kind = r.enumeration<AlarmEventKind>(6);
    e.level = r.enumeration<AlarmLevel>(5);
    e.by = r.str();
    e.note = r.str();
  }
  a.cameras = r.strs();
  return a;
}

PermitRecord permit_record(ByteReader& r) {
  PermitRecord p;
  p.id = r.str(), p.reservation = r.str(), p.type = r.str(), p.grade = r.str(), p.floor = r.str();
  p.area = pts(r);
  p.workers = r.strs(), p.linked = r.strs(), p.approvals = r.strs();
  p.guardian = r.str(), p.approver = r.str();
  p.from = r.i64(), p.to = r.i64();
  p.status = r.enumeration<PermitStatus>(8);
  p.aq2_code = r.i32();
  p.history.resize(r.size(16));
  for (auto& [t, s] : p.history) t = r.i64(), s = r.str();
  p.gas.resize(r.size(16));
  for (PermitGasEntry& g : p.gas) g.t = r.i64(), g.by = r.str(), g.readings = gas(r);
  p.risk_analysis = r.boolean(), p.measures_confirmed = r.boolean();
  p.briefed = r.strs();
  p.blind = r.str();
  return p;
}

PermitTimer timer(ByteReader& r) {
  PermitTimer t;
  t.since = r.i64();
  t.alarm = r.i32();
  return t;
}

PermitDeskState desk(ByteReader& r) {
  PermitDeskState d;
  std::size_t n = r.size(8);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string key = r.str();
    Reservation v;
    v.id = r.str(), v.type = r.str(), v.grade = r.str(), v.status = r.enumeration<ReservationStatus>(3), v.from = r.i64(), v.to = r.i64();
    add_in_order(r, d.reservations, std::move(key), std::move(v), "the permit desk's reservations");
  }
  d.permits.resize(r.size(64));
  for (Permit& p : d.permits) {
    p.rec = permit_record(r);
    p.area = polygon(r);
    p.blind = r.str();
    p.explosion = r.boolean(), p.risk_analysis = r.boolean(), p.measures_confirmed = r.boolean();
    p.gas.resize(r.size(24));
    for (PermitGasRecord& g : p.gas) g.t = r.i64(), g.day = r.i64(), g.by = r.str(), g.readings = gas(r);
    p.briefed = r.strs();
    p.started_at = r.i64(), p.paused_at = r.i64(), p.checked_day = r.i64();
    p.guardian_away_since = r.opt_i64();
    p.guardian_alarm = r.i32(), p.record_alarm = r.i32(), p.daily_alarm = r.i32();
    n = r.size(16);
    for (std::size_t i = 0; i < n && r.ok(); ++i) {
      const int who = r.i32();
      add_in_order(r, p.intruders, who, timer(r), "a permit's people not on it");
    }
  }
  n = r.size(16);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string id = r.str();
    const auto at = static_cast<std::size_t>(r.u64());
    add_in_order(r, d.permit_index, std::move(id), at, "the permit desk's index");
  }
  n = r.size(24);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const auto z = static_cast<std::size_t>(r.u64());
    const int p = r.i32();
    add_in_order(r, d.unpermitted, std::pair<std::size_t, int>{z, p}, timer(r), "the permit desk's work without a permit");
  }
  return d;
}

Output output(ByteReader& r) {
  Output o;
  o.t = r.i64();
  const std::uint8_t kind = r.u8();
  switch (kind) {
    case 0: {
      AlarmOutput a;
      a.alarm = r.i32(), a.event = r.i32();
      o.body = a;
      break;
    }
    case 1: {
      WarnOutput w;
      w.tag = r.str(), w.alarm_id = r.str(), w.reason = r.str();
      o.body = std::move(w);
      break;
    }
    case 2: {
      ZoneCountOutput z;
      z.zone = r.i32(), z.count = r.i32(), z.by_category = cats(r);
      o.body = z;
      break;
    }
    case 3: {
      GatheringOutput g;
      g.alarm_id = r.str();
      g.level = r.enumeration<AlarmLevel>(5);
      g.members = r.strs();
      g.center = vec2(r);
      g.floor = r.str();
      g.radius = r.f64();
      o.body = std::move(g);
      break;
    }
    case 4: {
      RefusalOutput f;
      f.permit = r.str(), f.action = r.str(), f.codes = r.strs();
      o.body = std::move(f);
      break;
    }
    case 5: {
      StatusOutput s;
      s.id = r.str(), s.status = r.str();
      o.body = std::move(s);
      break;
    }
    case 6: {
      EntryOutput e;
      e.zone = r.i32(), e.person = r.i32(), e.category = r.enumeration<Category>(kCategoryCount);
      o.body = e;
      break;
    }
    case 7: {
      CameraCallOutput c;
      c.alarm_id = r.str(), c.cameras = r.strs();
      o.body = std::move(c);
      break;
    }
    default: r.fail("unknown output kind " + std::to_string(kind));
  }
  return o;
}

}  // namespace

void save_state(const EngineState& s, ByteWriter& w) {
  w.i64(s.now);
  w.boolean(s.started);
  // the queue: only what is not applied yet
  w.size(s.queue.pending.size() - s.queue.head);
  for (std::size_t i = s.queue.head; i < s.queue.pending.size(); ++i) put(w, s.queue.pending[i]);
  w.boolean(s.queue.unsorted);
  w.u64(s.queue.next_seq);
  w.size(s.people.size());
  for (const PersonState& p : s.people) {
    w.boolean(p.has_fix), w.i64(p.last_fix), w.i64(p.report_interval);
    put(w, p.pos);
    w.f64(p.z);
    w.i32(p.floor);
    w.size(p.zones.size());
    for (const ZoneStay& z : p.zones) w.i32(z.zone), w.i64(z.entered), w.boolean(z.authorized), w.i32(z.crossing), w.i32(z.overstay);
    put(w, p.still_anchor);
    w.i64(p.still_since), w.i32(p.stationary_alarm), w.i32(p.offline_alarm);
    w.f64(p.battery);
    w.i32(p.battery_alarm);
    w.boolean(p.on_site);
    w.opt_i64(p.gate_in_at);
    w.boolean(p.fix_since_gate);
    w.i32(p.untagged_alarm);
    w.size(p.left_stay_inside.size());
    for (const auto& [z, a] : p.left_stay_inside) w.i32(z), w.i32(a);
    put_ints(w, p.visited);
  }
  w.size(s.zones.size());
  for (const ZoneState& z : s.zones) {
    w.i32(z.count), put(w, z.by_category), w.i32(z.emitted_count), put(w, z.emitted_by_category);
    w.boolean(z.active), w.i64(z.over_since), w.i32(z.capacity_alarm), w.i32(z.staffing_alarm);
  }
  w.u64(s.alarm_seq);
  w.size(s.alarms.size());
  for (const Alarm& a : s.alarms) put(w, a);
  // the acknowledgement watch: only what is still watched
  w.size(s.ack.watch.size() - s.ack.head);
  for (std::size_t i = s.ack.head; i < s.ack.watch.size(); ++i) w.i32(s.ack.watch[i]);
  put_ints(w, s.ack.unack_of);
  w.size(s.gatherings.size());
  for (const GatheringTrack& g : s.gatherings) {
    w.i32(g.floor);
    w.size(g.members.size());
    for (const auto& [p, since] : g.members) w.i32(p), w.i64(since);
    put(w, g.center);
    w.i32(g.alarm), w.boolean(g.broken), w.i64(g.broken_since);
    put_ints(w, g.warned);
  }
  put(w, s.desk);
  w.size(s.outputs.size());
  for (const Output& o : s.outputs) put(w, o);
  const EngineCounters& c = s.counters;
  w.u64(c.inputs), w.u64(c.fixes), w.u64(c.steps), w.u64(c.late_inputs), w.u64(c.unknown_tag), w.u64(c.unmatched_actions),
      w.u64(c.permit_commands), w.u64(c.invalid_fixes);
  w.size(s.stats.zone_entries.size());
  for (const auto& a : s.stats.zone_entries) put(w, a);
  w.size(s.stats.zone_visitors.size());
  for (const auto& a : s.stats.zone_visitors) put(w, a);
  put(w, s.stats.gate_entries);
}

bool load_state(ByteReader& r, EngineState& out) {
  EngineState s;
  s.now = r.i64();
  s.started = r.boolean();
  s.queue.pending.resize(r.size(17));
  for (Input& in : s.queue.pending) in = input(r);
  s.queue.unsorted = r.boolean();
  s.queue.next_seq = r.u64();
  s.people.resize(r.size(64));
  for (PersonState& p : s.people) {
    p.has_fix = r.boolean(), p.last_fix = r.i64(), p.report_interval = r.i64();
    p.pos = vec2(r);
    p.z = r.f64();
    p.floor = r.i32();
    p.zones.resize(r.size(21));
    for (ZoneStay& z : p.zones) z.zone = r.i32(), z.entered = r.i64(), z.authorized = r.boolean(), z.crossing = r.i32(), z.overstay = r.i32();
    p.still_anchor = vec2(r);
    p.still_since = r.i64(), p.stationary_alarm = r.i32(), p.offline_alarm = r.i32();
    p.battery = r.f64();
    p.battery_alarm = r.i32();
    p.on_site = r.boolean();
    p.gate_in_at = r.opt_i64();
    p.fix_since_gate = r.boolean();
    p.untagged_alarm = r.i32();
    p.left_stay_inside.resize(r.size(8));
    for (auto& [z, a] : p.left_stay_inside) z = r.i32(), a = r.i32();
    p.visited = ints(r);
  }
  s.zones.resize(r.size(49));
  for (ZoneState& z : s.zones) {
    z.count = r.i32(), z.by_category = cats(r), z.emitted_count = r.i32(), z.emitted_by_category = cats(r);
    z.active = r.boolean(), z.over_since = r.i64(), z.capacity_alarm = r.i32(), z.staffing_alarm = r.i32();
  }
  s.alarm_seq = r.u64();
  s.alarms.resize(r.size(64));
  for (Alarm& a : s.alarms) a = alarm(r);
  s.ack.watch = ints(r);
  s.ack.unack_of = ints(r);
  s.gatherings.resize(r.size(40));
  for (GatheringTrack& g : s.gatherings) {
    g.floor = r.i32();
    g.members.resize(r.size(12));
    for (auto& [p, since] : g.members) p = r.i32(), since = r.i64();
    g.center = vec2(r);
    g.alarm = r.i32(), g.broken = r.boolean(), g.broken_since = r.i64();
    g.warned = ints(r);
  }
  s.desk = desk(r);
  s.outputs.resize(r.size(9));
  for (Output& o : s.outputs) o = output(r);
  EngineCounters& c = s.counters;
  c.inputs = r.u64(), c.fixes = r.u64(), c.steps = r.u64(), c.late_inputs = r.u64(), c.unknown_tag = r.u64(),
  c.unmatched_actions = r.u64(), c.permit_commands = r.u64(), c.invalid_fixes = r.u64();
  s.stats.zone_entries.resize(r.size(16));
  for (auto& a : s.stats.zone_entries) a = cats(r);
  s.stats.zone_visitors.resize(r.size(16));
  for (auto& a : s.stats.zone_visitors) a = cats(r);
  s.stats.gate_entries = cats(r);
  if (!r.ok()) return false;
  out = std::move(s);
  return true;
}

std::string encode_state(const EngineState& s) {
  ByteWriter w;
  save_state(s, w);
  return w.take();
}

bool decode_state(std::string_view bytes, EngineState& out, std::string& why) {
  ByteReader r(bytes);
  if (!load_state(r, out)) {
    why = "engine state: " + r.error();
    return false;
  }
  if (!r.at_end()) {
    why = "engine state: " + std::to_string(bytes.size() - r.position()) + " bytes left over after the state";
    return false;
  }
  return true;
}

}  // namespace planttwin
