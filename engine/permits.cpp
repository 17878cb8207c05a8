// Special work (scenario-v1 "Special work"): reservations, permits and their linkage with positions.
// This file holds the dispatch and what the rules share; each stage has its own file:
// engine/rules/permit_reservation.cpp, permit_approval.cpp, permit_gas.cpp, permit_linkage.cpp,
// permit_validity.cpp, permit_acceptance.cpp.
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

#include <algorithm>
#include <utility>

#include "engine/alarm.h"
#include "engine/rules/permit_common.h"

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

const char* to_string(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::reserved: return "reserved";
    case ReservationStatus::approved: return "approved";
    case ReservationStatus::rejected: return "rejected";
  }
  return "reserved";
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

PermitDeskModel::PermitDeskModel(std::shared_ptr<const Site> s, std::vector<PermitPerson> p)
    : site(std::move(s)), people(std::move(p)) {
  for (size_t i = 0; i < people.size(); ++i) person_index.emplace(people[i].id, static_cast<int>(i));
}

int PermitDeskModel::index_of(const std::string& id) const {
  const auto it = person_index.find(id);
  return it == person_index.end() ? -1 : it->second;
}

const PermitPerson* PermitDeskModel::person(const std::string& id) const {
  const int i = index_of(id);
  return i < 0 ? nullptr : &people[static_cast<size_t>(i)];
}

namespace permit_rules {

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!has(v, s)) v.push_back(s);
}

AlarmLevel level_of(AlarmType type) {
  if (type == AlarmType::guardian_absent || type == AlarmType::unauthorized_in_work_area ||
      type == AlarmType::work_without_permit || type == AlarmType::permit_expired)
    return AlarmLevel::red;
  return AlarmLevel::orange;
}

Vec2 centroid_of(const Polygon& area) { return area.pts.empty() ? Vec2{} : area.centroid(); }

namespace {
double orient(Vec2 a, Vec2 b, Vec2 c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }

// proper crossing only; touching and collinear overlaps put a vertex on the other outline,
// which the containment tests in overlaps() catch
bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = orient(c, d, a), d2 = orient(c, d, b), d3 = orient(a, b, c), d4 = orient(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}
}  // namespace

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

bool live(PermitStatus s) {
  return s == PermitStatus::applied || s == PermitStatus::signed_ || s == PermitStatus::in_progress ||
         s == PermitStatus::paused;
}

void fail_once(std::vector<Failure>& fails, Aq2Code code, const std::vector<std::string>& who) {
  for (const Failure& f : fails)
    if (f.code == code) return;
  fails.push_back(coded(code, who));
}

std::vector<std::string> default_who(const PermitCommand& c, const std::vector<std::string>& workers) {
  if (!c.by.empty()) return {c.by};
  return workers;
}

int raise(PermitWorld& world, Micros t, AlarmType type, Aq2Code code, std::vector<std::string> who, const std::string& permit,
          Vec2 pos, const std::string& floor, bool condition, const std::string& zone, const std::string& holder) {
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

void refuse_plain(PermitWorld& world, Micros t, const PermitCommand& c) { world.refuse(t, c.id, c.action, {}); }

void refuse(PermitWorld& world, Micros t, const PermitCommand& c, const std::vector<Failure>& fails, const Polygon& area,
            const std::string& floor) {
  std::vector<std::string> codes;
  for (const Failure& f : fails)
    if (f.code != Aq2Code::none) add_unique(codes, to_string(f.code));
  world.refuse(t, c.id, c.action, codes);
  const Vec2 at = centroid_of(area);
  for (const Failure& f : fails) raise(world, t, f.type, f.code, f.who, c.id, at, floor, false, "", f.holder);
}

void set_status(Permit& p, Micros t, PermitStatus s, PermitWorld& world) {
  const bool was_running = p.rec.status == PermitStatus::in_progress;
  p.rec.status = s;
  if (s != PermitStatus::expired) p.rec.aq2_code = aq2_status_code(s);
  p.rec.history.emplace_back(t, to_string(s));
  world.status(t, p.rec.id, to_string(s));
  if (was_running && s != PermitStatus::in_progress) stop_linkage(p, t, world);
}

void stop_linkage(Permit& p, Micros t, PermitWorld& world) {
  world.clear(p.guardian_alarm, t);
  p.guardian_away_since.reset();
  for (auto& [who, timer] : p.intruders) world.clear(timer.alarm, t);
  p.intruders.clear();
  world.clear(p.record_alarm, t);
  world.clear(p.daily_alarm, t);
}

Permit* find_permit(PermitDeskState& s, const std::string& id) {
  const auto it = s.permit_index.find(id);
  return it == s.permit_index.end() ? nullptr : &s.permits[it->second];
}
const Permit* find_permit(const PermitDeskState& s, const std::string& id) {
  const auto it = s.permit_index.find(id);
  return it == s.permit_index.end() ? nullptr : &s.permits[it->second];
}

}  // namespace permit_rules

void permit_command(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world) {
  using namespace permit_rules;
  const std::string& a = c.action;
  if (a == "reserve") return reserve(s, t, c, world);
  if (a == "approve_reservation") return review_reservation(s, t, c, world, true);
  if (a == "reject_reservation") return review_reservation(s, t, c, world, false);
  if (a == "apply") return apply(m, s, t, c, world);

  Permit* pp = find_permit(s, c.id);
  if (!pp) return refuse_plain(world, t, c);
  Permit& p = *pp;
  expire_if_due(p, t, world);
  if (a == "risk_analysis" || a == "confirm_measures") {
    if (!live(p.rec.status)) return refuse_plain(world, t, c);
    (a == "risk_analysis" ? p.risk_analysis : p.measures_confirmed) = true;
    p.rec.history.emplace_back(t, a == "risk_analysis" ? "risk_analysis" : "measures_confirmed");
  } else if (a == "gas") {
    gas(t, c, p, world);
  } else if (a == "approve") {
    approve(m, s, t, c, p, world);
  } else if (a == "brief") {
    brief(t, c, p, world);
  } else if (a == "start") {
    start(*m.site, t, c, p, world);
  } else if (a == "pause") {
    pause(t, c, p, world);
  } else if (a == "resume") {
    resume(*m.site, t, c, p, world);
  } else if (a == "handover") {
    handover(m, t, c, p, world);
  } else if (a == "accept") {
    accept(t, c, p, world);
  } else if (a == "revoke") {
    revoke(t, c, p, world);
  } else if (a == "void") {
    void_permit(t, c, p, world);
  } else {
    refuse_plain(world, t, c);
  }
}

void permit_step(const PermitDeskModel& m, PermitDeskState& s, Micros t, PermitWorld& world) {
  using namespace permit_rules;
  for (Permit& p : s.permits) expire_if_due(p, t, world);
  for (Permit& p : s.permits)
    if (p.rec.status == PermitStatus::in_progress) {
      linkage(m, p, t, world);
      gas_timers(*m.site, p, t, world);
    }
  work_without_permit(m, s, t, world);
}

std::vector<PermitRecord> permit_records(const PermitDeskState& s) {
  std::vector<PermitRecord> out;
  out.reserve(s.permits.size());
  for (const Permit& p : s.permits) {
    PermitRecord r = p.rec;
    for (const PermitGasRecord& g : p.gas) r.gas.push_back({g.t, g.by, g.readings});
    r.risk_analysis = p.risk_analysis;
    r.measures_confirmed = p.measures_confirmed;
    r.briefed = p.briefed;
    r.blind = p.blind;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace planttwin
