// Special work (scenario-v1 "Special work"): reservations, permits and their linkage with positions.
//
// Order and determinism: commands are applied in input order; a step walks expiry over every
// permit, then linkage over the in-progress permits, both in application order, with people in
// index (id) order, then work without a permit by zone in site order and people in index order.
// Every map below is ordered and keyed by id or index; nothing reads a clock or the environment.
//
// Decisions where scenario-v1 is silent (the spec and its table stay authoritative):
// - Refusals. world.refuse carries the distinct codes in the order the rules are checked; each
//   failing rule also raises its alarm (an event: condition = false) with the permit id set. One
//   alarm per failing person for certificates (who = that person, holder = the name on the
//   certificate), one per code otherwise. who: certificates -> the person; 30 -> the approver;
//   70 -> those who did not sign; otherwise the command's `by`, else the permit's workers.
//   Failures without a code still raise their typed alarm: reservation_not_approved,
//   validity_too_long, gas_over_limit. A command on an unknown permit or reservation, an action in
//   a status that does not allow it, a duplicate id, a missing from/to, a grade that does not
//   belong to the type, or an approve by someone without the authority is refused with no code
//   and no alarm.
// - Statuses that allow each command: approve_reservation / reject_reservation: reserved.
//   risk_analysis, confirm_measures, gas, brief: applied, signed, in_progress, paused.
//   approve: applied. start: signed. pause: in_progress. resume: paused. handover: applied,
//   signed, in_progress, paused. accept: in_progress, paused. revoke: applied, signed. void:
//   signed, in_progress, paused. expired, accepted, void and revoked are final.
// - Reservations: an urgent reservation is accepted when its `from` is on the same local day as
//   the command (before or after the current time) or meets the one-day rule; a normal one needs
//   from >= t + 24 h. The reservation's type, area and times are not compared with the permit's.
//   `apply` without a reservation, or with one that is not approved, is refused.
// - Grades: hot work "special", "1", "2" (default "2"); height from height_m when given
//   (2 <= h <= 5 I, <= 15 II, <= 30 III, above IV; one up with any hazard factor, capped at IV;
//   below 2 m the work is not work at height and the grade is ""), else the given I-IV or "";
//   lifting from load_t when given (> 100 t "1", 40-100 t "2", below 40 t "3"; loads under 10 t need
//   no permit, but one applied for is accepted as "3"), else the given 1-3 or ""; other types
//   are ungraded and a given grade is ignored. A computed grade overrides a given one.
// - Rule tables (validity, pause_reanalysis, approval) are looked up by [type][grade], then
//   [type][""]. Validity exactly at the maximum is accepted.
// - "In an explosion_hazard zone" (hot-work base grade 1, temp_power needing gas analysis): the
//   work area overlaps the zone's outline (a shared edge or vertex counts), on the permit's floor
//   when both name floors. This includes the brief's "centroid or any vertex inside".
// - Hot-work upgrade (40-43) is judged over the permit's whole [from, to): any part on a holiday
//   40; on a rest day (not a working day and not a holiday) 41; at night (the calendar's night
//   window) 42; in a special period 43 (Unix seconds, from PermitWorld::unix_seconds). One alarm
//   per code; the
//   permit is not refused. The grade must be at least one above the base (2 -> 1 -> special).
// - Certificates: workers need rules.certificates[type]["workers"]; the guardian needs
//   rules.certificates["guardian"][""] and, when configured, rules.certificates[type]["guardian"].
//   A certificate is valid through its expiry day (local day of the command). An empty holder
//   reads as the person's name. Per required type: none -> 50; a valid one with the right holder
//   -> fine; else an unexpired one with another holder -> 52; else (all expired) -> 51.
//   An unknown person id has no certificates.
// - Gas: the latest analysis is judged. No analysis -> 01; older than max_age -> 02 (exactly
//   max_age is fresh); its readings over the limits -> gas_over_limit (judged even when stale).
//   Limits: flammable <= flammable_volpct when gas_lel_pct >= 4, else (also when gas_lel_pct is
//   absent) <= flammable_volpct_low_lel; O2 within [o2_min, o2_max]; each toxic substance with a
//   configured limit <= it. A reading that is absent is not judged. Compared with 1e-9 slack.
//   A gas command itself raises nothing.
// - Approve: without a chain (rules.approval has no entry for the type and grade) `by` must be the
//   approver named in apply; with a chain each approve is by a person holding the next role, and
//   the permit is signed after the last. The authority check comes first (no code); then 80, 90,
//   gas (hot_work, confined_space, temp_power in an explosion zone), 61, 62, 30 are all
//   evaluated. On site = the approver's last known position inside the area or within
//   linkage_on_site_radius of its outline, any floor; unknown position = not on site.
//   61: a linked id that does not exist or is void/revoked. 62: a linked permit that does not
//   list this one, or (hot work) an applied/signed/in-progress/paused confined-space permit whose
//   area overlaps on the same floor (either floor empty = same) with overlapping [from, to] and
//   that this permit does not list.
// - Start: gas as at approve; 70 when a worker or the current guardian has not signed a briefing.
//   A start before `from` is not refused. Resume: only when the type has a pause_reanalysis limit
//   (and, for temp_power, only in an explosion zone) and the pause lasted longer than it: the
//   latest gas command at or after the pause began must exist (else 03) and be within the limits
//   (else gas_over_limit).
// - Expiry: checked in every step and before every command on the permit, so that a command at
//   t > to finds it expired. permit_expired (10, red) is an event alarm naming the workers and the
//   guardian; the record keeps the AQ2 code it had.
// - Leaving in_progress (pause, accept, void, expire) clears the permit's condition alarms
//   (guardian absent, people in the area, 04, 05) and resets their timers: linkage runs only
//   while in progress. A handover clears the guardian_absent alarm and restarts its timer.
// - Linkage: guardian absent when the guardian's position is unknown or farther than
//   linkage_guardian_margin outside the area (any floor), for longer than linkage_grace counted
//   from the first step that saw it. People in the area: anyone who is not a worker or the current
//   guardian, with a known position inside the area (on the permit's floor when it has one), for
//   longer than the grace; one alarm per (permit, person). Both are red condition alarms.
// - 05 (confined space in progress): the clock runs from the latest gas record, the entry
//   analysis before the start included (so the alarm is never late); pauses count. 04 (grade-2 hot work in progress): checked once per
//   new local day at the first step in progress that day; one open alarm at a time, cleared by a
//   gas command.
// - 60: people of rules.work_roles (any role matches; empty: every contractor) with a known
//   position inside a permit_required zone (its floors respected; a z band alone is not
//   checked), not covered by the area of an in_progress permit (on its floor when it has one), for
//   longer than work_without_permit_after. One alarm per (zone, person), red.
// - Levels: guardian_absent, unauthorized_in_work_area, work_without_permit, permit_expired red;
//   every other special-work alarm orange. Alarms are placed at the person concerned when the
//   desk knows where they are (linkage, 60), else at the area's centroid on the permit's floor.
#include "engine/permits.h"

#include "engine/alarm.h"

#include <algorithm>
#include <utility>

namespace planttwin {

const char* to_string(PermitStatus s) {
  switch (s) {
    case PermitStatus::applied: return "applied";
    case PermitStatus::signed_: return "signed";
    case PermitStatus::in_progress: return "in_progress";
    case PermitStatus::paused: return "paused";
    case PermitStatus::accepted: return "accepted";
    case PermitStatus::void_: return "void";
    case PermitStatus::revoked: return "revoked";
    case PermitStatus::expired: return "expired";
  }
  return "applied";
}

int aq2_status_code(PermitStatus s) {
  switch (s) {
    case PermitStatus::applied: return 0;
    case PermitStatus::signed_: return 1;
    case PermitStatus::in_progress: return 2;
    case PermitStatus::accepted: return 3;
    case PermitStatus::void_: return 4;
    case PermitStatus::revoked: return 5;
    case PermitStatus::paused: return 6;
    case PermitStatus::expired: return -1;
  }
  return -1;
}

namespace {

constexpr double kEps = 1e-9;  // slack for metres and gas readings compared with a limit

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!has(v, s)) v.push_back(s);
}

const char* alarm_type_of(const std::string& code) { return alarm_type_of_code(code); }

const char* level_of(const std::string& type) {
  if (type == "guardian_absent" || type == "unauthorized_in_work_area" || type == "work_without_permit" ||
      type == "permit_expired")
    return "red";
  return "orange";
}

// ---- geometry ------------------------------------------------------------------------------

double orient(Vec2 a, Vec2 b, Vec2 c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }

// proper crossing only; touching and collinear overlaps put a vertex on the other outline,
// which the containment tests in overlaps() catch
bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = orient(c, d, a), d2 = orient(c, d, b), d3 = orient(a, b, c), d4 = orient(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

// the two outlines share at least one point (edges count)
bool overlaps(const Polygon& a, const Polygon& b) {
  if (a.pts.size() < 3 || b.pts.size() < 3) return false;
  if (a.box.max.x < b.box.min.x - kEps || b.box.max.x < a.box.min.x - kEps || a.box.max.y < b.box.min.y - kEps ||
      b.box.max.y < a.box.min.y - kEps)
    return false;
  for (const Vec2& p : a.pts)
    if (b.contains(p)) return true;
  for (const Vec2& p : b.pts)
    if (a.contains(p)) return true;
  const size_t n = a.pts.size(), m = b.pts.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++)
    for (size_t k = 0, l = m - 1; k < m; l = k++)
      if (segments_cross(a.pts[j], a.pts[i], b.pts[l], b.pts[k])) return true;
  return false;
}

bool zone_has_floor(const Zone& z, const std::string& floor) {
  return floor.empty() || z.floors.empty() || has(z.floors, floor);
}

// ---- grades and rule tables ----------------------------------------------------------------

int hot_rank(const std::string& g) {
  if (g == "2") return 0;
  if (g == "1") return 1;
  if (g == "special") return 2;
  return -1;
}

std::string height_grade(double h, bool hazard_factor) {
  if (h < 2) return "";
  int band = h <= 5 ? 0 : h <= 15 ? 1 : h <= 30 ? 2 : 3;
  if (hazard_factor) band = std::min(band + 1, 3);
  static const char* kNames[] = {"I", "II", "III", "IV"};
  return kNames[band];
}

std::string lifting_grade(double load_t) {
  if (load_t > 100) return "1";
  if (load_t >= 40) return "2";
  return "3";
}

template <class V>
const V* lookup(const std::map<std::string, std::map<std::string, V>>& table, const std::string& type,
                const std::string& grade) {
  const auto t = table.find(type);
  if (t == table.end()) return nullptr;
  if (!grade.empty()) {
    const auto g = t->second.find(grade);
    if (g != t->second.end()) return &g->second;
  }
  const auto any = t->second.find("");
  return any == t->second.end() ? nullptr : &any->second;
}

bool within_limits(const GasReadings& r, const Rules::Gas& g) {
  if (r.flammable_volpct) {
    const bool high_lel = r.gas_lel_pct && *r.gas_lel_pct >= 4;
    const double limit = high_lel ? g.flammable_volpct : g.flammable_volpct_low_lel;
    if (*r.flammable_volpct > limit + kEps) return false;
  }
  if (r.o2_volpct && (*r.o2_volpct < g.o2_min - kEps || *r.o2_volpct > g.o2_max + kEps)) return false;
  for (const auto& [substance, ppm] : r.toxic) {
    const auto lim = g.toxic.find(substance);
    if (lim != g.toxic.end() && ppm > lim->second + kEps) return false;
  }
  return true;
}

struct GasRecord {
  Micros t = 0;
  std::int64_t day = 0;  // local day of t
  std::string by;
  GasReadings readings;
};

// a condition held since `since`; alarm is the raised alarm's handle, -1 before
struct Timer {
  Micros since = 0;
  int alarm = -1;
};

// one failing rule of a refused command
struct Failure {
  std::string code, type;
  std::vector<std::string> who;
  std::string holder;
};

}  // namespace

struct PermitDesk::Impl {
  struct Reservation {
    std::string id, type, grade, status;
    Micros from = 0, to = 0;
  };

  struct Permit {
    PermitRecord rec;
    Polygon area;
    std::string blind;
    bool explosion = false;  // the area overlaps an explosion_hazard zone
    bool risk_analysis = false, measures_confirmed = false;
    std::vector<GasRecord> gas;
    std::vector<std::string> briefed;
    Micros started_at = 0, paused_at = 0;
    std::int64_t checked_day = 0;  // 04: the last local day looked at
    std::optional<Micros> guardian_away_since;
    int guardian_alarm = -1, record_alarm = -1, daily_alarm = -1;
    std::map<int, Timer> intruders;  // person index -> time inside
  };

  Site site;
  std::vector<PermitPerson> people;
  std::map<std::string, int> person_index;
  std::map<std::string, Reservation> reservations;
  std::vector<Permit> permits;  // application order
  std::map<std::string, size_t> permit_index;
  std::map<std::pair<size_t, int>, Timer> unpermitted;  // (zone, person) -> time working there

  Impl(const Site& s, std::vector<PermitPerson> p) : site(s), people(std::move(p)) {
    for (size_t i = 0; i < people.size(); ++i) person_index.emplace(people[i].id, static_cast<int>(i));
    for (Zone& z : site.zones) z.polygon.finalize();
  }

  int index_of(const std::string& id) const {
    const auto it = person_index.find(id);
    return it == person_index.end() ? -1 : it->second;
  }
  const PermitPerson* person(const std::string& id) const {
    const int i = index_of(id);
    return i < 0 ? nullptr : &people[static_cast<size_t>(i)];
  }
  Permit* find_permit(const std::string& id) {
    const auto it = permit_index.find(id);
    return it == permit_index.end() ? nullptr : &permits[it->second];
  }

  // ---- alarms and refusals -------------------------------------------------------------------

  static Vec2 centroid_of(const Polygon& area) { return area.pts.empty() ? Vec2{} : area.centroid(); }

  int raise(PermitWorld& world, Micros t, const std::string& type, const std::string& code,
            std::vector<std::string> who, const std::string& permit, Vec2 pos, const std::string& floor,
            bool condition, const std::string& zone = "", const std::string& holder = "") {
    PermitAlarm a;
    a.t = t;
    a.type = type;
    a.level = level_of(type);
    a.code = code;
    std::sort(who.begin(), who.end());
    who.erase(std::unique(who.begin(), who.end()), who.end());
    a.who = std::move(who);
    a.zone = zone;
    a.permit = permit;
    a.holder = holder;
    a.pos = pos;
    a.floor = floor;
    a.condition = condition;
    return world.raise(a);
  }

  static void refuse_plain(PermitWorld& world, Micros t, const PermitCommand& c) {
    world.refuse(t, c.id, c.action, {});
  }

  void refuse(PermitWorld& world, Micros t, const PermitCommand& c, const std::vector<Failure>& fails,
              const Polygon& area, const std::string& floor) {
    std::vector<std::string> codes;
    for (const Failure& f : fails)
      if (!f.code.empty()) add_unique(codes, f.code);
    world.refuse(t, c.id, c.action, codes);
    const Vec2 at = centroid_of(area);
    for (const Failure& f : fails) raise(world, t, f.type, f.code, f.who, c.id, at, floor, false, "", f.holder);
  }

  static void fail_once(std::vector<Failure>& fails, const std::string& code, const std::vector<std::string>& who) {
    for (const Failure& f : fails)
      if (f.code == code) return;
    fails.push_back({code, alarm_type_of(code), who, ""});
  }

  static std::vector<std::string> default_who(const PermitCommand& c, const std::vector<std::string>& workers) {
    if (!c.by.empty()) return {c.by};
    return workers;
  }

  // ---- status --------------------------------------------------------------------------------

  void set_status(Permit& p, Micros t, PermitStatus s, PermitWorld& world) {
    const bool was_running = p.rec.status == PermitStatus::in_progress;
    p.rec.status = s;
    if (s != PermitStatus::expired) p.rec.aq2_code = aq2_status_code(s);
    p.rec.history.emplace_back(t, to_string(s));
    world.status(t, p.rec.id, to_string(s));
    if (was_running && s != PermitStatus::in_progress) stop_linkage(p, t, world);
  }

  static void stop_linkage(Permit& p, Micros t, PermitWorld& world) {
    world.clear(p.guardian_alarm, t);
    p.guardian_away_since.reset();
    for (auto& [who, timer] : p.intruders) world.clear(timer.alarm, t);
    p.intruders.clear();
    world.clear(p.record_alarm, t);
    world.clear(p.daily_alarm, t);
  }

  static bool live(PermitStatus s) {
    return s == PermitStatus::applied || s == PermitStatus::signed_ || s == PermitStatus::in_progress ||
           s == PermitStatus::paused;
  }

  void expire_if_due(Permit& p, Micros t, PermitWorld& world) {
    const PermitStatus s = p.rec.status;
    if (s != PermitStatus::signed_ && s != PermitStatus::in_progress && s != PermitStatus::paused) return;
    if (t <= p.rec.to) return;
    set_status(p, t, PermitStatus::expired, world);
    std::vector<std::string> who = p.rec.workers;
    who.push_back(p.rec.guardian);
    raise(world, t, "permit_expired", "10", who, p.rec.id, centroid_of(p.area), p.rec.floor, false);
  }

  // ---- rules ---------------------------------------------------------------------------------

  bool needs_gas(const Permit& p) const {
    return p.rec.type == "hot_work" || p.rec.type == "confined_space" || (p.rec.type == "temp_power" && p.explosion);
  }

  bool in_explosion_zone(const Polygon& area, const std::string& floor) const {
    for (const Zone& z : site.zones)
      if (z.explosion_hazard && zone_has_floor(z, floor) && overlaps(area, z.polygon)) return true;
    return false;
  }

  void check_gas(const Permit& p, Micros t, const std::vector<std::string>& who, std::vector<Failure>& fails) const {
    if (p.gas.empty()) {
      fails.push_back({"01", alarm_type_of("01"), who, ""});
      return;
    }
    const GasRecord& last = p.gas.back();
    if (t - last.t > site.rules.gas.max_age) fails.push_back({"02", alarm_type_of("02"), who, ""});
    if (!within_limits(last.readings, site.rules.gas)) fails.push_back({"", "gas_over_limit", who, ""});
  }

  std::vector<std::string> guardian_cert_types(const std::string& type) const {
    std::vector<std::string> out;
    if (const std::string* g = lookup(site.rules.certificates, "guardian", "")) add_unique(out, *g);
    const auto t = site.rules.certificates.find(type);
    if (t != site.rules.certificates.end()) {
      const auto g = t->second.find("guardian");
      if (g != t->second.end()) add_unique(out, g->second);
    }
    return out;
  }

  std::vector<std::string> worker_cert_types(const std::string& type) const {
    std::vector<std::string> out;
    const auto t = site.rules.certificates.find(type);
    if (t != site.rules.certificates.end()) {
      const auto w = t->second.find("workers");
      if (w != t->second.end()) out.push_back(w->second);
    }
    return out;
  }

  void check_certificates(const std::string& id, const std::vector<std::string>& types, std::int64_t today,
                          std::vector<Failure>& fails) const {
    const PermitPerson* pp = person(id);
    for (const std::string& type : types) {
      std::vector<const Certificate*> certs;
      if (pp)
        for (const Certificate& c : pp->certificates)
          if (c.type == type) certs.push_back(&c);
      if (certs.empty()) {
        fails.push_back({"50", alarm_type_of("50"), {id}, ""});
        continue;
      }
      const std::string& name = pp->name.empty() ? pp->id : pp->name;
      auto holder_of = [&](const Certificate* c) { return c->holder.empty() ? name : c->holder; };
      const Certificate* unexpired_other = nullptr;
      const Certificate* latest = nullptr;
      bool ok = false;
      for (const Certificate* c : certs) {
        if (!latest || c->expires_day > latest->expires_day) latest = c;
        if (c->expires_day < today) continue;
        if (holder_of(c) == name) {
          ok = true;
          break;
        }
        if (!unexpired_other) unexpired_other = c;
      }
      if (ok) continue;
      if (unexpired_other)
        fails.push_back({"52", alarm_type_of("52"), {id}, holder_of(unexpired_other)});
      else
        fails.push_back({"51", alarm_type_of("51"), {id}, holder_of(latest)});
    }
  }

  bool on_site(const std::string& id, const Permit& p, const PermitWorld& world) const {
    const int i = index_of(id);
    if (i < 0) return false;
    const PersonWhere w = world.where(i);
    if (!w.known) return false;
    return p.area.contains(w.pos) || p.area.distance_to_edge(w.pos) <= site.rules.linkage_on_site_radius + kEps;
  }

  bool has_role(const std::string& id, const std::string& role) const {
    const PermitPerson* pp = person(id);
    return pp && has(pp->roles, role);
  }

  // Why hot work over [from, to) must be one grade up: any part of it on a holiday (40), a rest
  // day (41), at night (42) or in a special period (43).
  std::vector<std::string> upgrade_reasons(Micros from, Micros to, const PermitWorld& world) const {
    const Calendar& cal = site.calendar;
    const Micros last = std::max(from, to - 1);  // [from, to): a permit ending at midnight does not touch the next day
    const LocalTime first_day = world.local(from), last_day = world.local(last);
    bool holiday = false, rest_day = false;
    for (std::int64_t d = first_day.days_since_epoch; d <= last_day.days_since_epoch && d - first_day.days_since_epoch < 400; ++d) {
      const int weekday = static_cast<int>(((first_day.weekday + (d - first_day.days_since_epoch)) % 7 + 7) % 7);
      if (cal.is_holiday(d)) holiday = true;
      else if (!cal.is_workday(d, weekday)) rest_day = true;
    }
    // night: `from` is at night, or a night begins before `to`
    bool night = cal.is_night(first_day.minute_of_day);
    if (!night && cal.night_from_min != cal.night_to_min) {
      const int wait_min = (cal.night_from_min - first_day.minute_of_day + 1440) % 1440;
      const Micros next_night = from - (first_day.second_of_day % 60) * kSecond + wait_min * kMinute;
      night = next_night < to;
    }
    bool special = false;
    const std::int64_t a_s = world.unix_seconds(from), b_s = world.unix_seconds(last);
    for (const auto& [a, b] : cal.special_periods) special = special || (a_s <= b && b_s >= a);
    std::vector<std::string> codes;
    if (holiday) codes.push_back("40");
    if (rest_day) codes.push_back("41");
    if (night) codes.push_back("42");
    if (special) codes.push_back("43");
    return codes;
  }

  // ---- commands ------------------------------------------------------------------------------

  void reserve(Micros t, const PermitCommand& c, PermitWorld& world) {
    if (c.id.empty() || reservations.count(c.id) || !c.from || !c.to) return refuse_plain(world, t, c);
    const bool one_day_ahead = *c.from >= t + kDay;
    const bool same_day = world.local(*c.from).days_since_epoch == world.local(t).days_since_epoch;
    if (!one_day_ahead && !(c.urgent && same_day)) return refuse_plain(world, t, c);
    Reservation r;
    r.id = c.id;
    r.type = c.type;
    r.grade = c.grade;
    r.from = *c.from;
    r.to = *c.to;
    r.status = "reserved";
    reservations.emplace(c.id, r);
    world.status(t, c.id, "reserved");
  }

  void review_reservation(Micros t, const PermitCommand& c, PermitWorld& world, bool approve) {
    const auto it = reservations.find(c.id);
    if (it == reservations.end() || it->second.status != "reserved") return refuse_plain(world, t, c);
    it->second.status = approve ? "approved" : "rejected";
    world.status(t, c.id, it->second.status);
  }

  // the permit's grade, or false when the given grade does not belong to the type
  static bool grade_for(const PermitCommand& c, std::string& grade) {
    const std::string& type = c.type;
    if (type == "hot_work") {
      grade = c.grade.empty() ? "2" : c.grade;
      return hot_rank(grade) >= 0;
    }
    if (type == "height") {
      if (c.height_m) {
        grade = height_grade(*c.height_m, !c.hazard_factors.empty());
        return true;
      }
      grade = c.grade;
      return grade.empty() || grade == "I" || grade == "II" || grade == "III" || grade == "IV";
    }
    if (type == "lifting") {
      if (c.load_t) {
        grade = lifting_grade(*c.load_t);
        return true;
      }
      grade = c.grade;
      return grade.empty() || grade == "1" || grade == "2" || grade == "3";
    }
    grade.clear();
    return true;
  }

  void apply(Micros t, const PermitCommand& c, PermitWorld& world) {
    std::string grade;
    if (c.id.empty() || permit_index.count(c.id) || !c.from || !c.to || c.area.size() < 3 || !grade_for(c, grade))
      return refuse_plain(world, t, c);

    Permit p;
    p.rec.id = c.id;
    p.rec.reservation = c.reservation;
    p.rec.type = c.type;
    p.rec.grade = grade;
    p.rec.floor = c.floor;
    p.rec.area = c.area;
    p.rec.workers = c.workers;
    p.rec.linked = c.linked;
    p.rec.guardian = c.guardian;
    p.rec.approver = c.approver;
    p.rec.from = *c.from;
    p.rec.to = *c.to;
    p.area.pts = c.area;
    p.area.finalize();
    p.blind = c.blind;
    p.explosion = in_explosion_zone(p.area, c.floor);

    // every apply-time rule, in order
    std::vector<Failure> fails;
    const std::vector<std::string> who = default_who(c, c.workers);
    const auto res = reservations.find(c.reservation);
    if (res == reservations.end() || res->second.status != "approved")
      fails.push_back({"", "reservation_not_approved", who, ""});
    if (const Micros* max = lookup(site.rules.validity, c.type, grade); max && *c.to - *c.from > *max)
      fails.push_back({"", "validity_too_long", who, ""});
    if (c.blind == "both") fails.push_back({"20", alarm_type_of("20"), who, ""});
    const std::int64_t today = world.local(t).days_since_epoch;
    const std::vector<std::string> worker_types = worker_cert_types(c.type);
    for (const std::string& w : c.workers) check_certificates(w, worker_types, today, fails);
    if (!c.guardian.empty()) check_certificates(c.guardian, guardian_cert_types(c.type), today, fails);

    // hot work on a holiday, rest day, at night or in a special period: one grade up (not refused)
    std::vector<std::string> upgrade_codes;
    if (c.type == "hot_work") {
      const int base = p.explosion ? 1 : 0;
      if (hot_rank(grade) < base + 1) upgrade_codes = upgrade_reasons(*c.from, *c.to, world);
    }
    auto raise_upgrades = [&] {
      for (const std::string& code : upgrade_codes)
        raise(world, t, "hot_work_not_upgraded", code, who, c.id, centroid_of(p.area), c.floor, false);
    };

    if (!fails.empty()) {
      refuse(world, t, c, fails, p.area, c.floor);
      raise_upgrades();
      return;
    }
    permit_index.emplace(c.id, permits.size());
    permits.push_back(std::move(p));
    Permit& added = permits.back();
    added.rec.status = PermitStatus::applied;
    added.rec.aq2_code = aq2_status_code(PermitStatus::applied);
    added.rec.history.emplace_back(t, "applied");
    world.status(t, c.id, "applied");
    raise_upgrades();
  }

  void approve(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
    if (p.rec.status != PermitStatus::applied || c.by.empty()) return refuse_plain(world, t, c);
    // authority: the named approver, or the next role of a configured chain
    const std::vector<std::string>* chain = lookup(site.rules.approval, p.rec.type, p.rec.grade);
    if (chain && chain->empty()) chain = nullptr;
    if (chain) {
      const size_t k = p.rec.approvals.size();
      if (k >= chain->size() || !has_role(c.by, (*chain)[k])) return refuse_plain(world, t, c);
    } else if (c.by != p.rec.approver) {
      return refuse_plain(world, t, c);
    }

    std::vector<Failure> fails;
    const std::vector<std::string> who = {c.by};
    if (!p.risk_analysis) fails.push_back({"80", alarm_type_of("80"), who, ""});
    if (!p.measures_confirmed) fails.push_back({"90", alarm_type_of("90"), who, ""});
    if (needs_gas(p)) check_gas(p, t, who, fails);
    for (const std::string& id : p.rec.linked) {
      const Permit* other = find_permit(id);
      if (!other || other->rec.status == PermitStatus::void_ || other->rec.status == PermitStatus::revoked)
        fail_once(fails, "61", who);
      else if (!has(other->rec.linked, p.rec.id))
        fail_once(fails, "62", who);
    }
    if (p.rec.type == "hot_work")
      for (const Permit& other : permits) {
        if (other.rec.type != "confined_space" || has(p.rec.linked, other.rec.id)) continue;
        if (!live(other.rec.status)) continue;
        const bool same_floor = p.rec.floor.empty() || other.rec.floor.empty() || p.rec.floor == other.rec.floor;
        const bool same_time = p.rec.from <= other.rec.to && other.rec.from <= p.rec.to;
        if (same_floor && same_time && overlaps(p.area, other.area)) fail_once(fails, "62", who);
      }
    if (!on_site(c.by, p, world)) fails.push_back({"30", alarm_type_of("30"), who, ""});
    if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);

    p.rec.approvals.push_back(c.by);
    p.rec.history.emplace_back(t, "approval " + c.by);
    if (!chain || p.rec.approvals.size() == chain->size()) set_status(p, t, PermitStatus::signed_, world);
  }

  void start(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
    if (p.rec.status != PermitStatus::signed_) return refuse_plain(world, t, c);
    std::vector<Failure> fails;
    if (needs_gas(p)) check_gas(p, t, default_who(c, p.rec.workers), fails);
    std::vector<std::string> unsigned_people;
    for (const std::string& w : p.rec.workers)
      if (!has(p.briefed, w)) add_unique(unsigned_people, w);
    if (!p.rec.guardian.empty() && !has(p.briefed, p.rec.guardian)) add_unique(unsigned_people, p.rec.guardian);
    if (!unsigned_people.empty()) fails.push_back({"70", alarm_type_of("70"), unsigned_people, ""});
    if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
    p.started_at = t;
    p.checked_day = world.local(t).days_since_epoch;
    set_status(p, t, PermitStatus::in_progress, world);
  }

  void resume(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
    if (p.rec.status != PermitStatus::paused) return refuse_plain(world, t, c);
    std::vector<Failure> fails;
    const Micros* limit = lookup(site.rules.pause_reanalysis, p.rec.type, p.rec.grade);
    const bool gas_type = p.rec.type != "temp_power" || p.explosion;
    if (limit && gas_type && t - p.paused_at > *limit) {
      const GasRecord* after = nullptr;
      for (const GasRecord& g : p.gas)
        if (g.t >= p.paused_at) after = &g;
      const std::vector<std::string> who = default_who(c, p.rec.workers);
      if (!after)
        fails.push_back({"03", alarm_type_of("03"), who, ""});
      else if (!within_limits(after->readings, site.rules.gas))
        fails.push_back({"", "gas_over_limit", who, ""});
    }
    if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
    set_status(p, t, PermitStatus::in_progress, world);
  }

  void handover(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
    if (!live(p.rec.status) || c.guardian.empty()) return refuse_plain(world, t, c);
    std::vector<Failure> fails;
    check_certificates(c.guardian, guardian_cert_types(p.rec.type), world.local(t).days_since_epoch, fails);
    if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
    p.rec.guardian = c.guardian;
    p.rec.history.emplace_back(t, "handover " + c.guardian);
    world.clear(p.guardian_alarm, t);
    p.guardian_away_since.reset();
  }

  void gas(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
    if (!live(p.rec.status)) return refuse_plain(world, t, c);
    p.gas.push_back({t, world.local(t).days_since_epoch, c.by, c.readings});
    p.rec.history.emplace_back(t, c.by.empty() ? std::string("gas") : "gas " + c.by);
    world.clear(p.record_alarm, t);
    world.clear(p.daily_alarm, t);
  }

  void command(Micros t, const PermitCommand& c, PermitWorld& world) {
    const std::string& a = c.action;
    if (a == "reserve") return reserve(t, c, world);
    if (a == "approve_reservation") return review_reservation(t, c, world, true);
    if (a == "reject_reservation") return review_reservation(t, c, world, false);
    if (a == "apply") return apply(t, c, world);

    Permit* pp = find_permit(c.id);
    if (!pp) return refuse_plain(world, t, c);
    Permit& p = *pp;
    expire_if_due(p, t, world);
    const PermitStatus s = p.rec.status;
    if (a == "risk_analysis" || a == "confirm_measures") {
      if (!live(s)) return refuse_plain(world, t, c);
      (a == "risk_analysis" ? p.risk_analysis : p.measures_confirmed) = true;
      p.rec.history.emplace_back(t, a == "risk_analysis" ? "risk_analysis" : "measures_confirmed");
    } else if (a == "gas") {
      gas(t, c, p, world);
    } else if (a == "approve") {
      approve(t, c, p, world);
    } else if (a == "brief") {
      if (!live(s)) return refuse_plain(world, t, c);
      std::string note = "brief";
      for (const std::string& id : c.signed_by) {
        add_unique(p.briefed, id);
        note += " " + id;
      }
      p.rec.history.emplace_back(t, note);
    } else if (a == "start") {
      start(t, c, p, world);
    } else if (a == "pause") {
      if (s != PermitStatus::in_progress) return refuse_plain(world, t, c);
      p.paused_at = t;
      set_status(p, t, PermitStatus::paused, world);
    } else if (a == "resume") {
      resume(t, c, p, world);
    } else if (a == "handover") {
      handover(t, c, p, world);
    } else if (a == "accept") {
      if (s != PermitStatus::in_progress && s != PermitStatus::paused) return refuse_plain(world, t, c);
      set_status(p, t, PermitStatus::accepted, world);
    } else if (a == "revoke") {
      if (s != PermitStatus::applied && s != PermitStatus::signed_) return refuse_plain(world, t, c);
      set_status(p, t, PermitStatus::revoked, world);
    } else if (a == "void") {
      if (s != PermitStatus::signed_ && s != PermitStatus::in_progress && s != PermitStatus::paused)
        return refuse_plain(world, t, c);
      set_status(p, t, PermitStatus::void_, world);
    } else {
      refuse_plain(world, t, c);
    }
  }

  // ---- step ----------------------------------------------------------------------------------

  void linkage(Permit& p, Micros t, PermitWorld& world) {
    const Rules& rules = site.rules;
    // guardian absent (31)
    {
      const int g = index_of(p.rec.guardian);
      const PersonWhere w = g >= 0 ? world.where(g) : PersonWhere{};
      const bool away = !w.known ||
                        (!p.area.contains(w.pos) && p.area.distance_to_edge(w.pos) > rules.linkage_guardian_margin + kEps);
      if (away) {
        if (!p.guardian_away_since) p.guardian_away_since = t;
        if (p.guardian_alarm < 0 && t - *p.guardian_away_since > rules.linkage_grace)
          p.guardian_alarm = raise(world, t, "guardian_absent", "31", {p.rec.guardian}, p.rec.id,
                                   w.known ? w.pos : centroid_of(p.area), w.known ? w.floor : p.rec.floor, true);
      } else {
        p.guardian_away_since.reset();
        world.clear(p.guardian_alarm, t);
      }
    }
    // people not on the permit in the work area
    for (size_t i = 0; i < people.size(); ++i) {
      const int idx = static_cast<int>(i);
      const std::string& id = people[i].id;
      bool inside = false;
      PersonWhere w;
      if (id != p.rec.guardian && !has(p.rec.workers, id)) {
        w = world.where(idx);
        inside = w.known && (p.rec.floor.empty() || w.floor == p.rec.floor) && p.area.contains(w.pos);
      }
      const auto it = p.intruders.find(idx);
      if (!inside) {
        if (it != p.intruders.end()) {
          world.clear(it->second.alarm, t);
          p.intruders.erase(it);
        }
        continue;
      }
      Timer& timer = it != p.intruders.end() ? it->second : p.intruders.emplace(idx, Timer{t, -1}).first->second;
      if (timer.alarm < 0 && t - timer.since > rules.linkage_grace)
        timer.alarm = raise(world, t, "unauthorized_in_work_area", "", {id}, p.rec.id, w.pos, w.floor, true);
    }
    // confined space: a gas record every record_every (05)
    if (p.rec.type == "confined_space") {
      // from the latest record, before or after the start (the entry analysis counts)
      const Micros since = p.gas.empty() ? p.started_at : p.gas.back().t;
      if (p.record_alarm < 0 && t - since > rules.gas.record_every)
        p.record_alarm = raise(world, t, "gas_record_overdue", "05", p.rec.workers, p.rec.id,
                               centroid_of(p.area), p.rec.floor, true);
    }
    // multi-day grade-2 hot work: the day's analysis (04)
    if (p.rec.type == "hot_work" && p.rec.grade == "2") {
      const std::int64_t today = world.local(t).days_since_epoch;
      if (today > p.checked_day) {
        p.checked_day = today;
        bool analysed = false;
        for (const GasRecord& g : p.gas)
          if (g.day == today) analysed = true;
        if (!analysed && p.daily_alarm < 0)
          p.daily_alarm = raise(world, t, "daily_analysis_missing", "04", p.rec.workers, p.rec.id,
                                centroid_of(p.area), p.rec.floor, true);
      }
    }
  }

  bool works(const PermitPerson& pp) const {
    const std::vector<std::string>& roles = site.rules.work_roles;
    if (roles.empty()) return pp.category == Category::contractor;
    for (const std::string& r : pp.roles)
      if (has(roles, r)) return true;
    return false;
  }

  bool covered(const PersonWhere& w) const {
    for (const Permit& p : permits)
      if (p.rec.status == PermitStatus::in_progress && (p.rec.floor.empty() || p.rec.floor == w.floor) &&
          p.area.contains(w.pos))
        return true;
    return false;
  }

  void work_without_permit(Micros t, PermitWorld& world) {
    for (size_t z = 0; z < site.zones.size(); ++z) {
      const Zone& zone = site.zones[z];
      if (!zone.permit_required) continue;
      for (size_t i = 0; i < people.size(); ++i) {
        // whether a person works does not change, so others never hold a timer here
        if (!works(people[i])) continue;
        const int idx = static_cast<int>(i);
        const PersonWhere w = world.where(idx);
        const bool unpermitted_work = w.known && (zone.floors.empty() || has(zone.floors, w.floor)) &&
                                      zone.polygon.contains(w.pos) && !covered(w);
        const auto key = std::make_pair(z, idx);
        const auto it = unpermitted.find(key);
        if (!unpermitted_work) {
          if (it != unpermitted.end()) {
            world.clear(it->second.alarm, t);
            unpermitted.erase(it);
          }
          continue;
        }
        Timer& timer = it != unpermitted.end() ? it->second : unpermitted.emplace(key, Timer{t, -1}).first->second;
        if (timer.alarm < 0 && t - timer.since > site.rules.work_without_permit_after)
          timer.alarm = raise(world, t, "work_without_permit", "60", {people[i].id}, "", w.pos, w.floor, true, zone.id);
      }
    }
  }

  void step(Micros t, PermitWorld& world) {
    for (Permit& p : permits) expire_if_due(p, t, world);
    for (Permit& p : permits)
      if (p.rec.status == PermitStatus::in_progress) linkage(p, t, world);
    work_without_permit(t, world);
  }
};

PermitDesk::PermitDesk(const Site& site, std::vector<PermitPerson> people)
    : impl_(std::make_unique<Impl>(site, std::move(people))) {}
PermitDesk::~PermitDesk() = default;

void PermitDesk::command(Micros t, const PermitCommand& c, PermitWorld& world) { impl_->command(t, c, world); }
void PermitDesk::step(Micros t, PermitWorld& world) { impl_->step(t, world); }

std::vector<PermitRecord> PermitDesk::permits() const {
  std::vector<PermitRecord> out;
  out.reserve(impl_->permits.size());
  for (const auto& p : impl_->permits) {
    PermitRecord r = p.rec;
    for (const GasRecord& g : p.gas) r.gas.push_back({g.t, g.by, g.readings});
    r.risk_analysis = p.risk_analysis;
    r.measures_confirmed = p.measures_confirmed;
    r.briefed = p.briefed;
    r.blind = p.blind;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace planttwin
