#include "engine/engine.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>
#include <utility>

namespace planttwin {

namespace {

constexpr Micros kNever = std::numeric_limits<Micros>::max();

// One person's stay in one zone.
struct ZoneStay {
  int zone = -1;
  Micros entered = 0;
  bool authorized = true;  // on the zone's authorisation list (or the zone has none)
  int crossing = -1;  // boundary_crossing alarm while inside without authorisation
  int overstay = -1;
};

struct PersonState {
  PersonSetup def;
  int tag = -1;
  bool has_fix = false;
  Micros last_fix = 0;
  Micros report_interval = 0;  // between the last two fixes; 0 until known
  Vec2 pos;
  double z = 0;
  int floor = -1;
  std::vector<ZoneStay> zones;  // ascending zone index
  // stationary: every fix since still_since lies within the radius of still_anchor
  Vec2 still_anchor;
  Micros still_since = 0;
  int stationary_alarm = -1;
  int offline_alarm = -1;
  double battery = 1;
  int battery_alarm = -1;
  bool on_site = true;
  std::optional<Micros> gate_in_at;
  bool fix_since_gate = true;
  int untagged_alarm = -1;
  std::vector<std::pair<int, int>> left_stay_inside;  // (zone, boundary_crossing alarm)
  std::vector<int> visited;  // zones entered at least once, ascending (statistics)
};

struct ZoneState {
  int count = 0;
  std::array<int, kCategoryCount> by_category{};
  int emitted_count = 0;
  std::array<int, kCategoryCount> emitted_by_category{};
  bool active = true;
  std::vector<int> floors;  // floor indices; empty: every floor (unless a z band is set)
  Micros over_since = kNever;
  int capacity_alarm = -1;
  int staffing_alarm = -1;
};

// A gathering being watched: a candidate until it reaches a tier, then an alarm.
struct GatheringTrack {
  int floor = -1;
  std::vector<std::pair<int, Micros>> members;  // (person, since), ascending person
  Vec2 center;
  int alarm = -1;
  bool broken = false;
  Micros broken_since = 0;
  std::vector<int> warned;  // people already warned for this alarm, ascending
};

}  // namespace

struct Engine::Impl : PermitWorld {
  Engine& e;
  const Site& site;
  const Rules& rules;
  WallClock clock;
  std::vector<PersonState> people;  // ascending id
  std::vector<ZoneState> zones;
  std::vector<std::string> floor_ids;
  std::vector<std::string> tags;                              // tag index -> tag id
  std::vector<int> tag_person;                                // tag index -> person
  std::unordered_map<std::string, int> tag_ids, person_ids, floor_index, zone_index;
  std::vector<DutyAssignment> duty;
  // zone grid: cell -> zones whose bounding box touches it
  double cell = 25;
  Box2 grid_box;
  int grid_w = 0, grid_h = 0;
  std::vector<std::vector<int>> grid;
  // pending inputs, applied in (t, seq) order
  std::vector<Input> pending;
  size_t head = 0;
  bool unsorted = false;
  std::uint64_t next_seq = 1;
  std::uint64_t alarm_seq = 0;
  // acknowledgement watch: alarm indices in raise order
  std::vector<int> ack_watch;
  size_t ack_head = 0;
  std::vector<int> unack_of;  // alarm index -> its unacknowledged alarm, or -1
  // gathering
  std::vector<GatheringTrack> tracks;
  std::vector<GatheringFinder> finders;  // one per floor
  std::vector<std::vector<GatherPoint>> floor_points;
  std::vector<DiskGroup> groups;
  std::vector<int> track_of;                     // gathering: person -> track index
  std::vector<char> matched;                     // gathering scratch, reused every step
  std::vector<GatheringTrack> fresh_tracks, kept;
  std::vector<std::pair<int, Micros>> next_members;
  std::vector<std::vector<std::pair<int, Micros>>> spare_members;
  std::unique_ptr<PermitDesk> desk;  // special work (engine/permits.h)
  std::vector<std::pair<int, int>> overlap;      // gathering: (track, shared members)
  std::shared_ptr<const CameraVisibility> cameras;  // PL-13, may be null

  Impl(Engine& engine, const EngineSetup& setup)
      : e(engine), site(*setup.site), rules(setup.site->rules), clock(setup.clock), duty(setup.duty), cameras(setup.cameras) {
    floor_ids = site.floor_ids();
    for (size_t i = 0; i < floor_ids.size(); ++i) floor_index.emplace(floor_ids[i], static_cast<int>(i));
    // people in id order: the order every rule iterates them in
    std::vector<PersonSetup> defs = setup.people;
    std::stable_sort(defs.begin(), defs.end(), [](const PersonSetup& a, const PersonSetup& b) { return a.id < b.id; });
    for (const PersonSetup& d : defs) {
      PersonState p;
      p.def = d;
      if (!d.tag.empty()) {
        p.tag = static_cast<int>(tags.size());
        tags.push_back(d.tag);
        tag_person.push_back(static_cast<int>(people.size()));
        tag_ids.emplace(d.tag, p.tag);
      }
      person_ids.emplace(d.id, static_cast<int>(people.size()));
      people.push_back(std::move(p));
    }
    zones.resize(site.zones.size());
    for (size_t z = 0; z < site.zones.size(); ++z) {
      zone_index.emplace(site.zones[z].id, static_cast<int>(z));
      for (const std::string& f : site.zones[z].floors) {
        auto it = floor_index.find(f);
        if (it != floor_index.end()) zones[z].floors.push_back(it->second);
      }
    }
    e.stats_.zone_entries.assign(zones.size(), {});
    e.stats_.zone_visitors.assign(zones.size(), {});
    build_grid();
    finders.resize(std::max<size_t>(1, floor_ids.size()));
    floor_points.resize(finders.size());
    std::vector<PermitPerson> desk_people;
    for (const PersonState& p : people)
      desk_people.push_back({p.def.id, p.def.name.empty() ? p.def.id : p.def.name, p.def.category, p.def.roles, p.def.certificates});
    desk = std::make_unique<PermitDesk>(site, std::move(desk_people));
  }

  // ---- the permit desk's view of the world (PermitWorld) -------------------------------------

  PersonWhere where(int person) const override {
    PersonWhere w;
    if (person < 0 || person >= static_cast<int>(people.size())) return w;
    const PersonState& p = people[static_cast<size_t>(person)];
    if (!p.has_fix || e.now_ - p.last_fix > rules.tag_offline_after) return w;
    w.known = true;
    w.pos = p.pos;
    w.floor = floor_name(p.floor);
    return w;
  }
  LocalTime local(Micros t) const override { return local_time(clock, t); }
  std::int64_t unix_seconds(Micros t) const override {
    return clock.start_unix_s + (t >= 0 ? t / kSecond : -((-t + kSecond - 1) / kSecond));
  }
  int raise(const PermitAlarm& a) override {
    const int idx = raise(a.t, a.type, a.level, a.who, a.zone, a.pos, lookup_floor(a.floor), a.condition);
    Alarm& al = e.alarms_[static_cast<size_t>(idx)];
    al.code = a.code;
    al.permit = a.permit;
    al.holder = a.holder;
    al.floor = a.floor;
    return idx;
  }
  void refuse(Micros t, const std::string& permit, const std::string& action, const std::vector<std::string>& codes) override {
    e.outputs_.push_back({t, RefusalOutput{permit, action, codes}});
  }
  void status(Micros t, const std::string& id, const std::string& st) override {
    e.outputs_.push_back({t, StatusOutput{id, st}});
  }

  static bool is_authorized(const PersonSetup& p, const Authorization& a) {
    if (!a.present) return true;
    if (std::find(a.people.begin(), a.people.end(), p.id) != a.people.end()) return true;
    if (std::find(a.categories.begin(), a.categories.end(), p.category) != a.categories.end()) return true;
    for (const std::string& r : p.roles)
      if (std::find(a.roles.begin(), a.roles.end(), r) != a.roles.end()) return true;
    return false;
  }

  void build_grid() {
    for (const Zone& z : site.zones) {
      grid_box.add(z.polygon.box.min);
      grid_box.add(z.polygon.box.max);
    }
    if (site.zones.empty()) return;
    // about 25 m cells, at most 4096 x 4096
    const double w = grid_box.max.x - grid_box.min.x, h = grid_box.max.y - grid_box.min.y;
    cell = std::max({25.0, w / 4096, h / 4096});
    grid_w = static_cast<int>(w / cell) + 1;
    grid_h = static_cast<int>(h / cell) + 1;
    grid.assign(static_cast<size_t>(grid_w) * static_cast<size_t>(grid_h), {});
    for (size_t zi = 0; zi < site.zones.size(); ++zi) {
      const Box2& b = site.zones[zi].polygon.box;
      const int x0 = cell_x(b.min.x), x1 = cell_x(b.max.x), y0 = cell_y(b.min.y), y1 = cell_y(b.max.y);
      for (int cy = y0; cy <= y1; ++cy)
        for (int cx = x0; cx <= x1; ++cx) grid[static_cast<size_t>(cy) * static_cast<size_t>(grid_w) + static_cast<size_t>(cx)].push_back(static_cast<int>(zi));
    }
  }
  int cell_x(double x) const { return std::clamp(static_cast<int>((x - grid_box.min.x) / cell), 0, grid_w - 1); }
  int cell_y(double y) const { return std::clamp(static_cast<int>((y - grid_box.min.y) / cell), 0, grid_h - 1); }

  std::vector<std::string> cameras_at(std::string_view floor, Vec2 p) const {
    std::vector<std::string> out;
    if (!cameras || floor.empty()) return out;
    for (int c : cameras->at(floor, p))
      if (c >= 0 && c < static_cast<int>(site.cameras.size())) out.push_back(site.cameras[static_cast<size_t>(c)].id);
    return out;
  }
  std::string floor_name(int f) const { return f >= 0 && f < static_cast<int>(floor_ids.size()) ? floor_ids[static_cast<size_t>(f)] : ""; }

  // floor from height when a fix carries none: a building's storey inside its footprint, else an
  // outdoor band
  int floor_from_z(Vec2 p, double z) const {
    for (const Building& b : site.buildings)
      if (b.footprint.contains(p))
        for (const Floor& f : b.floors)
          if (z >= f.z0 && z < f.z1) return lookup_floor(f.id);
    for (const Floor& f : site.floors)
      if (z >= f.z0 && z < f.z1) return lookup_floor(f.id);
    return floor_ids.empty() ? -1 : 0;
  }
  int lookup_floor(const std::string& id) const {
    auto it = floor_index.find(id);
    return it == floor_index.end() ? -1 : it->second;
  }

  bool level_matches(const PersonState& p, int zi) const {
    const Zone& z = site.zones[static_cast<size_t>(zi)];
    if (z.z) return p.z >= z.z->first && p.z <= z.z->second;
    const std::vector<int>& fl = zones[static_cast<size_t>(zi)].floors;
    return fl.empty() || std::find(fl.begin(), fl.end(), p.floor) != fl.end();
  }

  // ---- alarms ----------------------------------------------------------------------------

  std::string duty_at(Micros t) const {
    for (const DutyAssignment& d : duty)
      if (t >= d.from && t <= d.to) return d.person;
    return "";
  }

  int raise(Micros t, const std::string& type, const std::string& level, std::vector<std::string> who,
            const std::string& zone, Vec2 pos, int floor, bool condition = true) {
    Alarm a;
    char id[16];
    std::snprintf(id, sizeof id, "A%06llu", static_cast<unsigned long long>(++alarm_seq));
    a.id = id;
    a.type = type;
    a.level = level;
    std::sort(who.begin(), who.end());
    a.who = std::move(who);
    a.zone = zone;
    a.pos = pos;
    a.floor = floor_name(floor);
    a.raised_at = t;
    a.routed_to = duty_at(t);
    a.condition = condition;
    e.alarms_.push_back(std::move(a));
    const int idx = static_cast<int>(e.alarms_.size()) - 1;
    unack_of.push_back(-1);
    add_event(idx, t, AlarmEventKind::raised, "system", "");
    if (type != "unacknowledged") ack_watch.push_back(idx);
    // video linkage (PL-13): the cameras that see the spot, named on the alarm and called up
    std::vector<std::string> seen = cameras_at(e.alarms_[static_cast<size_t>(idx)].floor, pos);
    if (!seen.empty()) {
      e.alarms_[static_cast<size_t>(idx)].cameras = seen;
      e.outputs_.push_back({t, CameraCallOutput{e.alarms_[static_cast<size_t>(idx)].id, std::move(seen)}});
    }
    return idx;
  }

  void add_event(int idx, Micros t, AlarmEventKind kind, const std::string& by, const std::string& note) {
    Alarm& a = e.alarms_[static_cast<size_t>(idx)];
    switch (kind) {
      case AlarmEventKind::cleared: a.cleared_at = t; break;
      case AlarmEventKind::acknowledged: a.acknowledged_at = t; break;
      case AlarmEventKind::handled: a.handled_at = t; break;
      case AlarmEventKind::closed: a.closed_at = t; break;
      default: break;
    }
    a.events.push_back({t, kind, a.level, by, note});
    e.outputs_.push_back({t, AlarmOutput{idx, static_cast<int>(a.events.size()) - 1}});
  }

  void escalate(int idx, Micros t, const std::string& level) {
    e.alarms_[static_cast<size_t>(idx)].level = level;
    add_event(idx, t, AlarmEventKind::escalated, "system", "");
  }

  // The condition ended: cleared, and closed too unless a person must confirm.
  void clear(int& idx, Micros t) override {
    if (idx < 0) return;
    Alarm& a = e.alarms_[static_cast<size_t>(idx)];
    if (!a.cleared_at) {
      add_event(idx, t, AlarmEventKind::cleared, "system", "");
      if (!e.alarms_[static_cast<size_t>(idx)].needs_confirmation && !a.closed_at)
        add_event(idx, t, AlarmEventKind::closed, "system", "");
    }
    idx = -1;
  }

  void warn(Micros t, const PersonState& p, const std::string& alarm_id, const std::string& reason) {
    if (p.tag < 0) return;
    e.outputs_.push_back({t, WarnOutput{tags[static_cast<size_t>(p.tag)], alarm_id, reason}});
  }

  // ---- inputs ----------------------------------------------------------------------------

  void apply(const Input& in) {
    ++e.counters_.inputs;
    std::visit([&](const auto& body) { apply_body(in.t, body); }, in.body);
  }

  PersonState* person_of_tag(int tag) {
    if (tag < 0 || tag >= static_cast<int>(tag_person.size())) {
      ++e.counters_.unknown_tag;
      return nullptr;
    }
    return &people[static_cast<size_t>(tag_person[static_cast<size_t>(tag)])];
  }

  void apply_body(Micros t, const FixInput& f) {
    PersonState* pp = person_of_tag(f.tag);
    if (!pp) return;
    PersonState& p = *pp;
    ++e.counters_.fixes;
    const Vec2 pos{f.x, f.y};
    if (p.has_fix && t > p.last_fix) p.report_interval = t - p.last_fix;
    p.pos = pos;
    p.z = f.z;
    p.floor = f.floor >= 0 ? f.floor : floor_from_z(pos, f.z);
    p.last_fix = t;
    if (!p.has_fix || dist2(pos, p.still_anchor) > rules.stationary_radius * rules.stationary_radius) {
      p.still_anchor = pos;
      p.still_since = t;
      clear(p.stationary_alarm, t);
    }
    p.has_fix = true;
    p.fix_since_gate = true;
    clear(p.offline_alarm, t);
    clear(p.untagged_alarm, t);
    update_zones(p, t);
  }

  void update_zones(PersonState& p, Micros t) {
    // leaving: only once more than exit_margin outside the outline (hysteresis on leaving only)
    for (size_t k = 0; k < p.zones.size();) {
      const int zi = p.zones[k].zone;
      const Polygon& poly = site.zones[static_cast<size_t>(zi)].polygon;
      const bool still = level_matches(p, zi) &&
                         (poly.contains(p.pos) || poly.distance_to_edge(p.pos) <= rules.crossing_exit_margin);
      if (still) {
        ++k;
        continue;
      }
      exit_zone(p, k, t);
    }
    if (grid.empty()) return;
    const auto& cand = grid[static_cast<size_t>(cell_y(p.pos.y)) * static_cast<size_t>(grid_w) + static_cast<size_t>(cell_x(p.pos.x))];
    for (int zi : cand) {
      const Zone& z = site.zones[static_cast<size_t>(zi)];
      if (!z.polygon.box.contains(p.pos)) continue;
      auto it = std::lower_bound(p.zones.begin(), p.zones.end(), zi, [](const ZoneStay& s, int v) { return s.zone < v; });
      if (it != p.zones.end() && it->zone == zi) continue;
      if (!level_matches(p, zi) || !z.polygon.contains(p.pos)) continue;
      ZoneStay s;
      s.zone = zi;
      s.entered = t;
      s.authorized = is_authorized(p.def, z.authorized);
      p.zones.insert(it, s);
      ZoneState& zs = zones[static_cast<size_t>(zi)];
      ++zs.count;
      ++zs.by_category[static_cast<size_t>(p.def.category)];
      const size_t cat = static_cast<size_t>(p.def.category);
      ++e.stats_.zone_entries[static_cast<size_t>(zi)][cat];
      e.outputs_.push_back({t, EntryOutput{zi, static_cast<int>(&p - people.data()), p.def.category}});
      auto seen = std::lower_bound(p.visited.begin(), p.visited.end(), zi);
      if (seen == p.visited.end() || *seen != zi) {
        p.visited.insert(seen, zi);
        ++e.stats_.zone_visitors[static_cast<size_t>(zi)][cat];
      }
      // back inside a stay-inside fence: that crossing has cleared
      for (size_t k = 0; k < p.left_stay_inside.size(); ++k)
        if (p.left_stay_inside[k].first == zi) {
          clear(p.left_stay_inside[k].second, t);
          p.left_stay_inside.erase(p.left_stay_inside.begin() + static_cast<long>(k));
          break;
        }
    }
  }

  void exit_zone(PersonState& p, size_t k, Micros t) {
    ZoneStay s = p.zones[k];
    p.zones.erase(p.zones.begin() + static_cast<long>(k));
    ZoneState& zs = zones[static_cast<size_t>(s.zone)];
    --zs.count;
    --zs.by_category[static_cast<size_t>(p.def.category)];
    clear(s.crossing, t);
    clear(s.overstay, t);
    const Zone& z = site.zones[static_cast<size_t>(s.zone)];
    if (z.stay_inside && zs.active && s.authorized && z.authorized.present) {
      const int a = raise(t, "boundary_crossing", "orange", {p.def.id}, z.id, p.pos, p.floor);
      p.left_stay_inside.emplace_back(s.zone, a);
      warn(t, p, e.alarms_[static_cast<size_t>(a)].id, "left_stay_inside_fence");
    }
  }

  void apply_body(Micros t, const SosInput& s) {
    PersonState* pp = person_of_tag(s.tag);
    if (!pp) return;
    raise(t, "sos", "red", {pp->def.id}, first_zone(*pp), pp->pos, pp->floor, /*condition=*/false);
  }

  void apply_body(Micros t, const TagStatusInput& s) {
    PersonState* pp = person_of_tag(s.tag);
    if (!pp) return;
    if (s.battery) {
      pp->battery = *s.battery;
      if (pp->battery < rules.low_battery) {
        if (pp->battery_alarm < 0)
          pp->battery_alarm = raise(t, "low_battery", "blue", {pp->def.id}, first_zone(*pp), pp->pos, pp->floor);
      } else {
        clear(pp->battery_alarm, t);
      }
    }
  }

  void apply_body(Micros t, const GateInput& g) {
    if (g.person < 0 || g.person >= static_cast<int>(people.size())) {
      ++e.counters_.unknown_tag;
      return;
    }
    PersonState& p = people[static_cast<size_t>(g.person)];
    if (g.in) {
      ++e.stats_.gate_entries[static_cast<size_t>(p.def.category)];
      p.on_site = true;
      p.gate_in_at = t;
      p.fix_since_gate = false;
    } else {
      p.on_site = false;
      p.gate_in_at.reset();
      p.fix_since_gate = true;
      clear(p.untagged_alarm, t);
      clear(p.offline_alarm, t);
    }
  }

  void apply_body(Micros t, const std::shared_ptr<const PermitCommand>& c) {
    ++e.counters_.permit_commands;
    if (c) desk->command(t, *c, *this);
  }

  void apply_body(Micros t, const std::shared_ptr<const AlarmAction>& ap) {
    if (!ap) return;
    const AlarmAction& act = *ap;
    auto applicable = [&](const Alarm& a) {
      switch (act.kind) {
        case AlarmAction::Kind::ack: return !a.acknowledged_at.has_value();
        case AlarmAction::Kind::handle: return !a.handled_at.has_value();
        case AlarmAction::Kind::close: return !a.closed_at.has_value();
      }
      return false;
    };
    int found = -1;
    for (size_t i = 0; i < e.alarms_.size() && found < 0; ++i) {
      const Alarm& a = e.alarms_[i];
      if (act.alarm_id && a.id != *act.alarm_id) continue;
      if (act.type && a.type != *act.type) continue;
      if (act.who && std::find(a.who.begin(), a.who.end(), *act.who) == a.who.end()) continue;
      if (!applicable(a)) continue;
      found = static_cast<int>(i);
    }
    if (found < 0) {
      ++e.counters_.unmatched_actions;
      return;
    }
    Alarm& a = e.alarms_[static_cast<size_t>(found)];
    // a person must confirm dispersal: only once the gathering has cleared (AQ3 5.2.3 c)
    if (act.kind == AlarmAction::Kind::close && a.needs_confirmation && a.condition && !a.cleared_at) {
      ++e.counters_.unmatched_actions;
      return;
    }
    if (!a.acknowledged_at) acknowledge(found, t, act.by, act.kind == AlarmAction::Kind::ack ? act.note : "");
    if (act.kind == AlarmAction::Kind::handle) add_event(found, t, AlarmEventKind::handled, act.by, act.note);
    if (act.kind == AlarmAction::Kind::close) add_event(found, t, AlarmEventKind::closed, act.by, act.note);
  }

  void acknowledge(int idx, Micros t, const std::string& by, const std::string& note) {
    add_event(idx, t, AlarmEventKind::acknowledged, by, note);
    int& un = unack_of[static_cast<size_t>(idx)];
    if (un >= 0) clear(un, t);
  }

  std::string first_zone(const PersonState& p) const {
    return p.zones.empty() ? "" : site.zones[static_cast<size_t>(p.zones.front().zone)].id;
  }

  // ---- the step: rules that depend on time or on everyone -------------------------------

  void step(Micros t) {
    ++e.counters_.steps;
    const LocalTime lt = local_time(clock, t);
    for (size_t z = 0; z < zones.size(); ++z) {
      zones[z].active = schedule_active(site.zones[z].schedule, site.calendar, lt);
    }
    emit_zone_counts(t);
    fences(t);
    capacity(t);
    person_timers(t);
    desk->step(t, *this);
    gathering(t);
    acknowledgement(t);
  }

  void emit_zone_counts(Micros t) {
    for (size_t z = 0; z < zones.size(); ++z) {
      ZoneState& zs = zones[z];
      if (zs.count == zs.emitted_count && zs.by_category == zs.emitted_by_category) continue;
      zs.emitted_count = zs.count;
      zs.emitted_by_category = zs.by_category;
      e.outputs_.push_back({t, ZoneCountOutput{static_cast<int>(z), zs.count, zs.by_category}});
    }
  }

  void fences(Micros t) {
    for (PersonState& p : people) {
      for (ZoneStay& s : p.zones) {
        const Zone& z = site.zones[static_cast<size_t>(s.zone)];
        const ZoneState& zs = zones[static_cast<size_t>(s.zone)];
        const bool intruder = zs.active && !s.authorized;
        if (intruder) {
          if (s.crossing < 0 && t - s.entered >= rules.crossing_delay) {
            s.crossing = raise(t, "boundary_crossing", "orange", {p.def.id}, z.id, p.pos, p.floor);
            warn(t, p, e.alarms_[static_cast<size_t>(s.crossing)].id, "entered_unauthorized_fence");
          } else if (s.crossing >= 0) {
            escalate_crossing(s.crossing, t);
          }
        } else {
          clear(s.crossing, t);
        }
        if (z.overstay_after && s.overstay < 0 && t - s.entered > *z.overstay_after)
          s.overstay = raise(t, "overstay", "yellow", {p.def.id}, z.id, p.pos, p.floor);
      }
      // a stay-inside crossing escalates like an entry, and ends when the fence is no longer active
      for (size_t k = 0; k < p.left_stay_inside.size();) {
        if (!zones[static_cast<size_t>(p.left_stay_inside[k].first)].active) {
          clear(p.left_stay_inside[k].second, t);
          p.left_stay_inside.erase(p.left_stay_inside.begin() + static_cast<long>(k));
          continue;
        }
        escalate_crossing(p.left_stay_inside[k].second, t);
        ++k;
      }
    }
  }

  // not cleared more than crossing_escalate_after after the raise: the recorded boundary event
  void escalate_crossing(int idx, Micros t) {
    const Alarm& a = e.alarms_[static_cast<size_t>(idx)];
    if (a.level != "red" && t - a.raised_at > rules.crossing_escalate_after) escalate(idx, t, "red");
  }

  std::vector<std::string> people_in_zone(int zi) const {
    std::vector<std::string> ids;
    for (const PersonState& p : people)
      for (const ZoneStay& s : p.zones)
        if (s.zone == zi) ids.push_back(p.def.id);
    return ids;
  }

  void capacity(Micros t) {
    for (size_t z = 0; z < zones.size(); ++z) {
      ZoneState& zs = zones[z];
      const Zone& zd = site.zones[z];
      const bool over = zs.active && zd.capacity && zs.count > *zd.capacity;
      if (over) {
        if (zs.over_since == kNever) zs.over_since = t;
        if (zs.capacity_alarm < 0 && t - zs.over_since >= rules.capacity_delay)
          zs.capacity_alarm = raise(t, "over_capacity", "orange", people_in_zone(static_cast<int>(z)), zd.id,
                                    zd.polygon.centroid(), zone_floor(z));
      } else {
        zs.over_since = kNever;
        clear(zs.capacity_alarm, t);
      }
      const bool under = zs.active && zd.min_staff && zs.count < *zd.min_staff;
      if (under) {
        if (zs.staffing_alarm < 0)
          zs.staffing_alarm = raise(t, "under_staffing", "yellow", people_in_zone(static_cast<int>(z)), zd.id,
                                    zd.polygon.centroid(), zone_floor(z));
      } else {
        clear(zs.staffing_alarm, t);
      }
    }
  }

  int zone_floor(size_t z) const { return zones[z].floors.empty() ? -1 : zones[z].floors.front(); }

  void person_timers(Micros t) {
    for (PersonState& p : people) {
      const bool fresh = p.has_fix && t - p.last_fix <= rules.tag_offline_after;
      // stationary / man-down: a zone's stationary_after overrides the site-wide time inside it
      if (fresh && p.stationary_alarm < 0) {
        Micros limit = rules.stationary_after;
        bool zoned = false;
        for (const ZoneStay& s : p.zones) {
          const auto& za = site.zones[static_cast<size_t>(s.zone)].stationary_after;
          if (za) limit = zoned ? std::min(limit, *za) : *za, zoned = true;
        }
        if (t - p.still_since > limit)
          p.stationary_alarm = raise(t, "stationary", "red", {p.def.id}, first_zone(p), p.pos, p.floor);
      }
      if (p.tag >= 0 && p.on_site && p.offline_alarm < 0) {
        const Micros since = p.has_fix ? p.last_fix : std::max<Micros>(0, p.gate_in_at.value_or(0));
        if (t - since > rules.tag_offline_after)
          p.offline_alarm = raise(t, "tag_offline", "yellow", {p.def.id}, first_zone(p), p.pos, p.floor);
      }
      if (p.gate_in_at && !p.fix_since_gate && p.untagged_alarm < 0 && t - *p.gate_in_at > rules.untagged_after)
        p.untagged_alarm = raise(t, "untagged_entry", "orange", {p.def.id}, "", p.pos, p.floor);
    }
  }

  // ---- gathering (PL-02) ----------------------------------------------------------------

  std::string tier(const GatheringTrack& g, Micros t) const {
    int n = 0;
    for (const auto& m : g.members)
      if (t - m.second > rules.gathering.dwell) ++n;
    if (n >= rules.gathering.red) return "red";
    if (n >= rules.gathering.orange) return "orange";
    if (n >= rules.gathering.yellow) return "yellow";
    return "";
  }

  void gathering(Micros t) {
    const GatheringRules& gr = rules.gathering;
    for (auto& fp : floor_points) fp.clear();
    // only people whose latest fix is current count: a missing fix is not bridged (scenario-v1
    // "Alarms"); a raised gathering rides out the gap through clear_after instead
    for (size_t pi = 0; pi < people.size(); ++pi) {
      const PersonState& p = people[pi];
      if (!p.has_fix || !p.on_site || p.floor < 0) continue;
      const Micros age = t - p.last_fix;
      if (gr.fix_max_age > 0) {
        if (age > gr.fix_max_age) continue;
      } else if (p.report_interval > 0 ? age >= p.report_interval : age > rules.tag_offline_after) {
        continue;
      }
      floor_points[static_cast<size_t>(p.floor)].push_back({p.pos, static_cast<std::uint32_t>(pi)});
    }
    matched.assign(tracks.size(), 0);
    // person -> the track they were last in, so matching costs O(members), not O(tracks)
    track_of.assign(people.size(), -1);
    for (size_t k = 0; k < tracks.size(); ++k)
      for (const auto& m : tracks[k].members)
        if (track_of[static_cast<size_t>(m.first)] < 0) track_of[static_cast<size_t>(m.first)] = static_cast<int>(k);
    fresh_tracks.clear();
    const GatheringGeometryOptions opt{gr.radius, gr.yellow};
    for (size_t f = 0; f < floor_points.size(); ++f) {
      if (static_cast<int>(floor_points[f].size()) < gr.yellow) continue;
      finders[f].find(floor_points[f], opt, groups);
      for (const DiskGroup& g : groups) {
        // continue the track that shares the most people with this group (oldest on a tie)
        overlap.clear();
        for (std::uint32_t m : g.members) {
          const int k = track_of[m];
          if (k < 0 || matched[static_cast<size_t>(k)] || tracks[static_cast<size_t>(k)].floor != static_cast<int>(f)) continue;
          auto it = std::find_if(overlap.begin(), overlap.end(), [k](const std::pair<int, int>& o) { return o.first == k; });
          if (it == overlap.end()) overlap.emplace_back(k, 1);
          else ++it->second;
        }
        int best = -1, best_overlap = 0;
        for (const auto& [k, n] : overlap)
          if (n > best_overlap || (n == best_overlap && k < best)) best_overlap = n, best = k;
        next_members.clear();
        for (std::uint32_t m : g.members) next_members.emplace_back(static_cast<int>(m), t);
        if (best >= 0) {
          GatheringTrack& old = tracks[static_cast<size_t>(best)];
          matched[static_cast<size_t>(best)] = 1;
          for (auto& m : next_members) {
            auto it = std::lower_bound(old.members.begin(), old.members.end(), m.first,
                                       [](const std::pair<int, Micros>& a, int v) { return a.first < v; });
            if (it != old.members.end() && it->first == m.first) m.second = it->second;
          }
          std::swap(old.members, next_members);
          old.center = g.center;
          old.broken = false;
        } else {
          // most groups of walkers last a step: their buffers are reused rather than reallocated
          GatheringTrack& fresh = fresh_tracks.emplace_back();
          if (!spare_members.empty()) {
            fresh.members = std::move(spare_members.back());
            spare_members.pop_back();
          }
          fresh.members.assign(next_members.begin(), next_members.end());
          fresh.floor = static_cast<int>(f);
          fresh.center = g.center;
        }
      }
    }
    // tracks no group continued: a candidate ends at once; a raised gathering clears once broken
    // for more than clear_after, so one noisy fix does not flap it
    kept.clear();
    for (size_t k = 0; k < tracks.size(); ++k) {
      GatheringTrack& g = tracks[k];
      bool ended = false;
      if (!matched[k]) {
        if (g.alarm < 0) {
          ended = true;
        } else {
          if (!g.broken) g.broken = true, g.broken_since = t;
          if (t - g.broken_since > gr.clear_after) {
            int a = g.alarm;
            clear(a, t);
            ended = true;
          }
        }
      }
      if (ended) spare_members.push_back(std::move(g.members));
      else kept.push_back(std::move(g));
    }
    for (auto& g : fresh_tracks) kept.push_back(std::move(g));
    std::swap(tracks, kept);
    for (GatheringTrack& g : tracks) {
      if (g.broken) continue;
      const std::string level = tier(g, t);
      if (level.empty()) continue;
      bool changed = false;
      if (g.alarm < 0) {
        std::vector<std::string> who;
        for (const auto& m : g.members) who.push_back(people[static_cast<size_t>(m.first)].def.id);
        g.alarm = raise(t, "gathering", level, who, zone_at(g.center, g.floor), g.center, g.floor);
        changed = true;
      } else if (level_rank(level) > level_rank(e.alarms_[static_cast<size_t>(g.alarm)].level)) {
        escalate(g.alarm, t, level);
        changed = true;
      }
      Alarm& a = e.alarms_[static_cast<size_t>(g.alarm)];
      a.needs_confirmation = level_rank(a.level) >= level_rank(to_string(gr.confirm_close_from));
      // the people in the group are warned (AQ3 5.2.3 b), newcomers too
      for (const auto& m : g.members) {
        auto it = std::lower_bound(g.warned.begin(), g.warned.end(), m.first);
        if (it != g.warned.end() && *it == m.first) continue;
        g.warned.insert(it, m.first);
        const std::string& id = people[static_cast<size_t>(m.first)].def.id;
        if (std::find(a.who.begin(), a.who.end(), id) == a.who.end()) {
          a.who.insert(std::lower_bound(a.who.begin(), a.who.end(), id), id);
          changed = true;
        }
        warn(t, people[static_cast<size_t>(m.first)], a.id, "gathering");
      }
      if (changed) {
        GatheringOutput out;
        out.alarm_id = a.id;
        out.level = a.level;
        for (const auto& m : g.members) out.members.push_back(people[static_cast<size_t>(m.first)].def.id);
        out.center = g.center;
        out.floor = floor_name(g.floor);
        out.radius = gr.radius;
        e.outputs_.push_back({t, std::move(out)});
      }
    }
  }

  std::string zone_at(Vec2 p, int floor) const {
    for (const Zone& z : site.zones) {
      if (!z.polygon.contains(p)) continue;
      const std::vector<int>& fl = zones[static_cast<size_t>(&z - site.zones.data())].floors;
      if (!fl.empty() && std::find(fl.begin(), fl.end(), floor) == fl.end()) continue;
      return z.id;
    }
    return "";
  }

  // ---- unacknowledged (PL-10) -----------------------------------------------------------

  void acknowledgement(Micros t) {
    // alarms enter the watch in raise order, and ack_within is one constant, so the oldest
    // is always at the head
    while (ack_head < ack_watch.size()) {
      const int idx = ack_watch[ack_head];
      const Alarm& a = e.alarms_[static_cast<size_t>(idx)];
      if (a.acknowledged_at) {
        ++ack_head;
        continue;
      }
      if (t - a.raised_at <= rules.ack_within) break;
      ++ack_head;
      const Alarm copy = a;  // raise() may reallocate alarms_
      const int un = raise(t, "unacknowledged", "orange", copy.who, copy.zone, copy.pos, lookup_floor(copy.floor));
      e.alarms_[static_cast<size_t>(un)].of = copy.id;
      e.alarms_[static_cast<size_t>(un)].permit = copy.permit;
      unack_of[static_cast<size_t>(idx)] = un;
    }
    if (ack_head > 4096 && ack_head * 2 > ack_watch.size()) {
      ack_watch.erase(ack_watch.begin(), ack_watch.begin() + static_cast<long>(ack_head));
      ack_head = 0;
    }
  }
};

Engine::Engine(EngineSetup setup) : site_(setup.site) {
  assert(site_ && "EngineSetup.site must be set");
  impl_ = std::make_unique<Impl>(*this, setup);
}

Engine::~Engine() = default;

int Engine::tag_index(std::string_view tag) const {
  auto it = impl_->tag_ids.find(std::string(tag));
  return it == impl_->tag_ids.end() ? -1 : it->second;
}
int Engine::person_index(std::string_view id) const {
  auto it = impl_->person_ids.find(std::string(id));
  return it == impl_->person_ids.end() ? -1 : it->second;
}
int Engine::floor_index(std::string_view f) const { return impl_->lookup_floor(std::string(f)); }
int Engine::zone_index(std::string_view z) const {
  auto it = impl_->zone_index.find(std::string(z));
  return it == impl_->zone_index.end() ? -1 : it->second;
}

void Engine::submit(Input in) {
  Impl& m = *impl_;
  in.seq = m.next_seq++;
  if (started_ && in.t < now_) {
    // the past cannot change: a late input is applied at the current time, and counted
    ++counters_.late_inputs;
    in.t = now_;
  }
  if (m.pending.size() > m.head && in.t < m.pending.back().t) m.unsorted = true;
  m.pending.push_back(std::move(in));
}

void Engine::advance_to(Micros until) {
  Impl& m = *impl_;
  if (m.unsorted) {
    std::stable_sort(m.pending.begin() + static_cast<long>(m.head), m.pending.end(),
                     [](const Input& a, const Input& b) { return a.t < b.t; });
    m.unsorted = false;
  }
  const Micros every = std::max<Micros>(1, site_->rules.evaluate_every);
  while (true) {
    const Micros next_input = m.head < m.pending.size() ? m.pending[m.head].t : kNever;
    const Micros next_tick = started_ ? (now_ / every + 1) * every : 0;
    const Micros t = std::min(next_input, next_tick);
    if (t > until) break;
    now_ = t;
    started_ = true;
    while (m.head < m.pending.size() && m.pending[m.head].t == t) m.apply(m.pending[m.head++]);
    m.step(t);
  }
  if (m.head == m.pending.size()) {
    m.pending.clear();
    m.head = 0;
  } else if (m.head > 4096 && m.head * 2 > m.pending.size()) {
    m.pending.erase(m.pending.begin(), m.pending.begin() + static_cast<long>(m.head));
    m.head = 0;
  }
}

int Engine::zone_count(int zone) const { return impl_->zones.at(static_cast<size_t>(zone)).count; }
std::array<int, kCategoryCount> Engine::zone_count_by_category(int zone) const {
  return impl_->zones.at(static_cast<size_t>(zone)).by_category;
}
bool Engine::zone_active(int zone) const { return impl_->zones.at(static_cast<size_t>(zone)).active; }
int Engine::person_count() const { return static_cast<int>(impl_->people.size()); }
std::vector<PermitRecord> Engine::permits() const { return impl_->desk->permits(); }
std::vector<std::string> Engine::cameras_at(std::string_view floor, Vec2 p) const { return impl_->cameras_at(floor, p); }

Snapshot Engine::snapshot() const {
  const Impl& m = *impl_;
  Snapshot s;
  s.t = now_;
  s.people.reserve(m.people.size());
  for (const PersonState& p : m.people) {
    Snapshot::Person sp;
    sp.id = p.def.id;
    sp.name = p.def.name;
    sp.tag = p.def.tag;
    sp.category = p.def.category;
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
  for (const Alarm& a : alarms_)
    if (!a.closed_at) s.open_alarms.push_back(a);
  for (const GatheringTrack& g : m.tracks) {
    if (g.alarm < 0) continue;
    const Alarm& a = alarms_[static_cast<size_t>(g.alarm)];
    if (a.cleared_at) continue;
    Snapshot::Gathering sg;
    sg.alarm_id = a.id;
    sg.level = a.level;
    for (const auto& mem : g.members) sg.members.push_back(m.people[static_cast<size_t>(mem.first)].def.id);
    sg.center = g.center;
    sg.radius = site_->rules.gathering.radius;
    sg.floor = m.floor_name(g.floor);
    s.gatherings.push_back(std::move(sg));
  }
  for (size_t z = 0; z < m.zones.size(); ++z) {
    Snapshot::ZoneState zs;
    zs.id = site_->zones[z].id;
    zs.active = m.zones[z].active;
    zs.count = m.zones[z].count;
    zs.by_category = m.zones[z].by_category;
    s.zones.push_back(std::move(zs));
  }
  s.permits = m.desk->permits();
  return s;
}

Engine::PersonView Engine::person(int index) const {
  const PersonState& p = impl_->people.at(static_cast<size_t>(index));
  return {p.def.id, p.has_fix, p.pos, impl_->floor_name(p.floor), p.last_fix, p.battery};
}

std::string canonical_alarm_line(const Alarm& a, const AlarmEvent& e) {
  std::string who;
  for (size_t i = 0; i < a.who.size(); ++i) who += (i ? "," : "") + a.who[i];
  char t[32];
  std::snprintf(t, sizeof t, "%lld", static_cast<long long>(e.t));
  return std::string(t) + '\t' + a.id + '\t' + to_string(e.kind) + '\t' + a.type + '\t' + e.level + '\t' + a.code +
         '\t' + who + '\t' + a.zone + '\t' + a.permit + '\t' + a.of + '\t' + e.by + '\n';
}

}  // namespace planttwin
