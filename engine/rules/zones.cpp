// Zone membership, headcounts and schedules (PL-01, PL-04, PL-07; AQ 3064.3 5.1 and 7.2.3).
// A person is inside a zone from its outline (the edge counts) on a matching level (the zone's
// floors, its z band against the tag's height, or every floor); leaving needs more than
// rules.crossing_exit_margin outside (hysteresis on leaving only). Headcounts per zone and category
// are emitted at a step when they changed; every entry is an output (statistics count entries from
// these). A zone is active while its schedule says so.
#include <algorithm>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {

bool level_matches(const EngineModel& m, const PersonState& p, int zi) {
  const Zone& z = m.site->zones[static_cast<size_t>(zi)];
  if (z.z) return p.z >= z.z->first && p.z <= z.z->second;
  const std::vector<int>& fl = m.zone_floors[static_cast<size_t>(zi)];
  return fl.empty() || std::find(fl.begin(), fl.end(), p.floor) != fl.end();
}

void exit_zone(const EngineModel& m, EngineState& s, int person, size_t k, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  ZoneStay stay = p.zones[k];
  p.zones.erase(p.zones.begin() + static_cast<long>(k));
  ZoneState& zs = s.zones[static_cast<size_t>(stay.zone)];
  const Category cat = m.people[static_cast<size_t>(person)].category;
  --zs.count;
  --zs.by_category[static_cast<size_t>(cat)];
  clear_alarm(s, stay.crossing, t);  // an entry crossing ends when the person leaves (fences.cpp)
  overstay_left(s, stay, t);
  stay_inside_left(m, s, person, stay, t);
}

}  // namespace

void zone_schedules(const EngineModel& m, EngineState& s, Micros t) {
  const LocalTime lt = local_time(m.clock, t);
  for (size_t z = 0; z < s.zones.size(); ++z)
    s.zones[z].active = schedule_active(m.site->zones[z].schedule, m.site->calendar, lt);
}

void zone_counts(const EngineModel& m, EngineState& s, Micros t) {
  (void)m;
  for (size_t z = 0; z < s.zones.size(); ++z) {
    ZoneState& zs = s.zones[z];
    if (zs.count == zs.emitted_count && zs.by_category == zs.emitted_by_category) continue;
    zs.emitted_count = zs.count;
    zs.emitted_by_category = zs.by_category;
    s.outputs.push_back({t, ZoneCountOutput{static_cast<int>(z), zs.count, zs.by_category}});
  }
}

void update_zones(const EngineModel& m, EngineState& s, int person, Micros t) {
  const Site& site = *m.site;
  const Rules& rules = site.rules;
  PersonState& p = s.people[static_cast<size_t>(person)];
  // leaving: only once more than exit_margin outside the outline (hysteresis on leaving only)
  for (size_t k = 0; k < p.zones.size();) {
    const int zi = p.zones[k].zone;
    const Polygon& poly = site.zones[static_cast<size_t>(zi)].polygon;
    const bool still = level_matches(m, p, zi) &&
                       (poly.contains(p.pos) || poly.distance_to_edge(p.pos) <= rules.crossing_exit_margin);
    if (still) {
      ++k;
      continue;
    }
    exit_zone(m, s, person, k, t);
  }
  if (m.grid.cells.empty()) return;
  const PersonSetup& def = m.people[static_cast<size_t>(person)];
  const size_t cat = static_cast<size_t>(def.category);
  for (int zi : m.grid.at(p.pos)) {
    const Zone& z = site.zones[static_cast<size_t>(zi)];
    if (!z.polygon.box.contains(p.pos)) continue;
    auto it = std::lower_bound(p.zones.begin(), p.zones.end(), zi, [](const ZoneStay& st, int v) { return st.zone < v; });
    if (it != p.zones.end() && it->zone == zi) continue;
    if (!level_matches(m, p, zi) || !z.polygon.contains(p.pos)) continue;
    ZoneStay st;
    st.zone = zi;
    st.entered = t;
    st.authorized = EngineModel::is_authorized(def, z.authorized);
    p.zones.insert(it, st);
    ZoneState& zs = s.zones[static_cast<size_t>(zi)];
    ++zs.count;
    ++zs.by_category[cat];
    ++s.stats.zone_entries[static_cast<size_t>(zi)][cat];
    s.outputs.push_back({t, EntryOutput{zi, person, def.category}});
    auto seen = std::lower_bound(p.visited.begin(), p.visited.end(), zi);
    if (seen == p.visited.end() || *seen != zi) {
      p.visited.insert(seen, zi);
      ++s.stats.zone_visitors[static_cast<size_t>(zi)][cat];
    }
    stay_inside_reentered(s, person, zi, t);
  }
}

}  // namespace planttwin::rules
