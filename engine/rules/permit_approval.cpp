// Applying for and approving a permit (SO-02, SO-10, PL-12; GB 30871-2022 App. B; AQ 3064.2 5.5
// and Table A.4 codes 20, 30, 40-43, 50-52, 61, 62, 80, 90).
//
// apply: a reservation that was approved, the validity (permit_validity.cpp), one blind-plate
// operation per permit (20), the grade from the type (hot work special/1/2; height from metres and
// hazard factors; lifting from tonnes), workers' and guardian's certificates (50 none, 51 expired,
// 52 another holder), and hot work on a holiday, rest day, at night or in a special period not one
// grade up (40-43: alarms, not a refusal). approve: the authority (the named approver, or the next
// role of the type's chain), risk analysis (80) and measures (90), gas (permit_gas.cpp), linked
// permits (61 missing, 62 not linked back, or hot work over a confined space without a link) and
// the approver on site (30).
#include <algorithm>

#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

namespace {

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

// the permit's grade, or false when the given grade does not belong to the type
bool grade_for(const PermitCommand& c, std::string& grade) {
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

bool in_explosion_zone(const Site& site, const Polygon& area, const std::string& floor) {
  for (const Zone& z : site.zones)
    if (z.explosion_hazard && zone_has_floor(z, floor) && overlaps(area, z.polygon)) return true;
  return false;
}

std::vector<std::string> worker_cert_types(const Site& site, const std::string& type) {
  std::vector<std::string> out;
  const auto t = site.rules.certificates.find(type);
  if (t != site.rules.certificates.end()) {
    const auto w = t->second.find("workers");
    if (w != t->second.end()) out.push_back(w->second);
  }
  return out;
}

bool has_role(const PermitDeskModel& m, const std::string& id, const std::string& role) {
  const PermitPerson* pp = m.person(id);
  return pp && has(pp->roles, role);
}

// Why hot work over [from, to) must be one grade up: any part of it on a holiday (40), a rest
// day (41), at night (42) or in a special period (43).
std::vector<Aq2Code> upgrade_reasons(const Site& site, Micros from, Micros to, const PermitWorld& world) {
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
  std::vector<Aq2Code> codes;
  if (holiday) codes.push_back(Aq2Code::c40);
  if (rest_day) codes.push_back(Aq2Code::c41);
  if (night) codes.push_back(Aq2Code::c42);
  if (special) codes.push_back(Aq2Code::c43);
  return codes;
}

}  // namespace

std::vector<std::string> guardian_cert_types(const Site& site, const std::string& type) {
  std::vector<std::string> out;
  if (const std::string* g = lookup(site.rules.certificates, "guardian", "")) add_unique(out, *g);
  const auto t = site.rules.certificates.find(type);
  if (t != site.rules.certificates.end()) {
    const auto g = t->second.find("guardian");
    if (g != t->second.end()) add_unique(out, g->second);
  }
  return out;
}

void check_certificates(const PermitDeskModel& m, const std::string& id, const std::vector<std::string>& types,
                        std::int64_t today, std::vector<Failure>& fails) {
  const PermitPerson* pp = m.person(id);
  for (const std::string& type : types) {
    std::vector<const Certificate*> certs;
    if (pp)
      for (const Certificate& c : pp->certificates)
        if (c.type == type) certs.push_back(&c);
    if (certs.empty()) {
      fails.push_back(coded(Aq2Code::c50, {id}));
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
      fails.push_back(coded(Aq2Code::c52, {id}, holder_of(unexpired_other)));
    else
      fails.push_back(coded(Aq2Code::c51, {id}, holder_of(latest)));
  }
}

void apply(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world) {
  const Site& site = *m.site;
  std::string grade;
  if (c.id.empty() || s.permit_index.count(c.id) || !c.from || !c.to || c.area.size() < 3 || !grade_for(c, grade))
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
  p.explosion = in_explosion_zone(site, p.area, c.floor);

  // every apply-time rule, in order
  std::vector<Failure> fails;
  const std::vector<std::string> who = default_who(c, c.workers);
  const auto res = s.reservations.find(c.reservation);
  if (res == s.reservations.end() || res->second.status != ReservationStatus::approved)
    fails.push_back({Aq2Code::none, AlarmType::reservation_not_approved, who, ""});
  if (validity_too_long(site, c.type, grade, *c.from, *c.to))
    fails.push_back({Aq2Code::none, AlarmType::validity_too_long, who, ""});
  if (c.blind == "both") fails.push_back(coded(Aq2Code::c20, who));
  const std::int64_t today = world.local(t).days_since_epoch;
  const std::vector<std::string> worker_types = worker_cert_types(site, c.type);
  for (const std::string& w : c.workers) check_certificates(m, w, worker_types, today, fails);
  if (!c.guardian.empty()) check_certificates(m, c.guardian, guardian_cert_types(site, c.type), today, fails);

  // hot work on a holiday, rest day, at night or in a special period: one grade up (not refused)
  std::vector<Aq2Code> upgrade_codes;
  if (c.type == "hot_work") {
    const int base = p.explosion ? 1 : 0;
    if (hot_rank(grade) < base + 1) upgrade_codes = upgrade_reasons(site, *c.from, *c.to, world);
  }
  auto raise_upgrades = [&] {
    for (Aq2Code code : upgrade_codes)
      raise(world, t, AlarmType::hot_work_not_upgraded, code, who, c.id, centroid_of(p.area), c.floor, false);
  };

  if (!fails.empty()) {
    refuse(world, t, c, fails, p.area, c.floor);
    raise_upgrades();
    return;
  }
  s.permit_index.emplace(c.id, s.permits.size());
  s.permits.push_back(std::move(p));
  Permit& added = s.permits.back();
  added.rec.status = PermitStatus::applied;
  added.rec.aq2_code = aq2_status_code(PermitStatus::applied);
  added.rec.history.emplace_back(t, "applied");
  world.status(t, c.id, to_string(PermitStatus::applied));
  raise_upgrades();
}

void approve(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  const Site& site = *m.site;
  if (p.rec.status != PermitStatus::applied || c.by.empty()) return refuse_plain(world, t, c);
  // authority: the named approver, or the next role of a configured chain
  const std::vector<std::string>* chain = lookup(site.rules.approval, p.rec.type, p.rec.grade);
  if (chain && chain->empty()) chain = nullptr;
  if (chain) {
    const size_t k = p.rec.approvals.size();
    if (k >= chain->size() || !has_role(m, c.by, (*chain)[k])) return refuse_plain(world, t, c);
  } else if (c.by != p.rec.approver) {
    return refuse_plain(world, t, c);
  }

  std::vector<Failure> fails;
  const std::vector<std::string> who = {c.by};
  if (!p.risk_analysis) fails.push_back(coded(Aq2Code::c80, who));
  if (!p.measures_confirmed) fails.push_back(coded(Aq2Code::c90, who));
  if (needs_gas(p)) check_gas(site, p, t, who, fails);
  for (const std::string& id : p.rec.linked) {
    const Permit* other = find_permit(static_cast<const PermitDeskState&>(s), id);
    if (!other || other->rec.status == PermitStatus::void_ || other->rec.status == PermitStatus::revoked)
      fail_once(fails, Aq2Code::c61, who);
    else if (!has(other->rec.linked, p.rec.id))
      fail_once(fails, Aq2Code::c62, who);
  }
  if (p.rec.type == "hot_work")
    for (const Permit& other : s.permits) {
      if (other.rec.type != "confined_space" || has(p.rec.linked, other.rec.id)) continue;
      if (!live(other.rec.status)) continue;
      const bool same_floor = p.rec.floor.empty() || other.rec.floor.empty() || p.rec.floor == other.rec.floor;
      const bool same_time = p.rec.from <= other.rec.to && other.rec.from <= p.rec.to;
      if (same_floor && same_time && overlaps(p.area, other.area)) fail_once(fails, Aq2Code::c62, who);
    }
  if (!on_site(m, c.by, p, world)) fails.push_back(coded(Aq2Code::c30, who));
  if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);

  p.rec.approvals.push_back(c.by);
  p.rec.history.emplace_back(t, "approval " + c.by);
  if (!chain || p.rec.approvals.size() == chain->size()) set_status(p, t, PermitStatus::signed_, world);
}

}  // namespace planttwin::permit_rules
