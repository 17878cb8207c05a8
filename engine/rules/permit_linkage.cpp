// Linkage of special work with positions (PL-12, SO-07; AQ 3064.2 5.5.2 and codes 30, 31, 60):
// the approver must be on site to sign (inside the area or within rules.linkage_on_site_radius of
// it, any floor); while a permit is in progress, its guardian farther than
// rules.linkage_guardian_margin outside the area (or unknown) for more than rules.linkage_grace
// raises guardian_absent (31, red), and anyone not on the permit inside the area for more than the
// grace raises unauthorized_in_work_area (red, one per person); people of rules.work_roles
// (contractors by default) inside a permit_required zone not covered by a running permit for more
// than rules.work_without_permit_after raise work_without_permit (60, red, one per zone and
// person). A guardian handover is recorded, checks the new guardian's certificates and restarts the
// guardian's timer.
#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

bool on_site(const PermitDeskModel& m, const std::string& id, const Permit& p, const PermitWorld& world) {
  const int i = m.index_of(id);
  if (i < 0) return false;
  const PersonWhere w = world.where(i);
  if (!w.known) return false;
  return p.area.contains(w.pos) || p.area.distance_to_edge(w.pos) <= m.site->rules.linkage_on_site_radius + kEps;
}

void handover(const PermitDeskModel& m, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (!live(p.rec.status) || c.guardian.empty()) return refuse_plain(world, t, c);
  std::vector<Failure> fails;
  check_certificates(m, c.guardian, guardian_cert_types(*m.site, p.rec.type), world.local(t).days_since_epoch, fails);
  if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
  p.rec.guardian = c.guardian;
  p.rec.history.emplace_back(t, "handover " + c.guardian);
  world.clear(p.guardian_alarm, t);
  p.guardian_away_since.reset();
}

void linkage(const PermitDeskModel& m, Permit& p, Micros t, PermitWorld& world) {
  const Rules& rules = m.site->rules;
  // guardian absent (31)
  {
    const int g = m.index_of(p.rec.guardian);
    const PersonWhere w = g >= 0 ? world.where(g) : PersonWhere{};
    const bool away = !w.known ||
                      (!p.area.contains(w.pos) && p.area.distance_to_edge(w.pos) > rules.linkage_guardian_margin + kEps);
    if (away) {
      if (!p.guardian_away_since) p.guardian_away_since = t;
      if (p.guardian_alarm < 0 && t - *p.guardian_away_since > rules.linkage_grace)
        p.guardian_alarm = raise(world, t, AlarmType::guardian_absent, Aq2Code::c31, {p.rec.guardian}, p.rec.id,
                                 w.known ? w.pos : centroid_of(p.area), w.known ? w.floor : p.rec.floor, true);
    } else {
      p.guardian_away_since.reset();
      world.clear(p.guardian_alarm, t);
    }
  }
  // people not on the permit in the work area
  for (size_t i = 0; i < m.people.size(); ++i) {
    const int idx = static_cast<int>(i);
    const std::string& id = m.people[i].id;
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
    PermitTimer& timer = it != p.intruders.end() ? it->second : p.intruders.emplace(idx, PermitTimer{t, -1}).first->second;
    if (timer.alarm < 0 && t - timer.since > rules.linkage_grace)
      timer.alarm = raise(world, t, AlarmType::unauthorized_in_work_area, Aq2Code::none, {id}, p.rec.id, w.pos, w.floor, true);
  }
}

namespace {

bool works(const Site& site, const PermitPerson& pp) {
  const std::vector<std::string>& roles = site.rules.work_roles;
  if (roles.empty()) return pp.category == Category::contractor;
  for (const std::string& r : pp.roles)
    if (has(roles, r)) return true;
  return false;
}

bool covered(const PermitDeskState& s, const PersonWhere& w) {
  for (const Permit& p : s.permits)
    if (p.rec.status == PermitStatus::in_progress && (p.rec.floor.empty() || p.rec.floor == w.floor) && p.area.contains(w.pos))
      return true;
  return false;
}

}  // namespace

void work_without_permit(const PermitDeskModel& m, PermitDeskState& s, Micros t, PermitWorld& world) {
  const Site& site = *m.site;
  for (size_t z = 0; z < site.zones.size(); ++z) {
    const Zone& zone = site.zones[z];
    if (!zone.permit_required) continue;
    for (size_t i = 0; i < m.people.size(); ++i) {
      // whether a person works does not change, so others never hold a timer here
      if (!works(site, m.people[i])) continue;
      const int idx = static_cast<int>(i);
      const PersonWhere w = world.where(idx);
      const bool unpermitted_work = w.known && (zone.floors.empty() || has(zone.floors, w.floor)) &&
                                    zone.polygon.contains(w.pos) && !covered(s, w);
      const auto key = std::make_pair(z, idx);
      const auto it = s.unpermitted.find(key);
      if (!unpermitted_work) {
        if (it != s.unpermitted.end()) {
          world.clear(it->second.alarm, t);
          s.unpermitted.erase(it);
        }
        continue;
      }
      PermitTimer& timer = it != s.unpermitted.end() ? it->second : s.unpermitted.emplace(key, PermitTimer{t, -1}).first->second;
      if (timer.alarm < 0 && t - timer.since > site.rules.work_without_permit_after)
        timer.alarm = raise(world, t, AlarmType::work_without_permit, Aq2Code::c60, {m.people[i].id}, "", w.pos, w.floor, true,
                            zone.id);
    }
  }
}

}  // namespace planttwin::permit_rules
