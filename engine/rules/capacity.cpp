// Over capacity and under-staffing (PL-04, PL-05; AQ 3064.3 5.2.4 超员, 缺员): an active zone
// holding more than its capacity for rules.capacity_delay raises over_capacity (orange); an active
// zone with min_staff holding fewer (none included) raises under_staffing (yellow). Each names the
// people inside, is placed at the zone's centroid, and clears when the count is back or the zone
// becomes inactive.
#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {

std::vector<std::string> people_in_zone(const EngineModel& m, const EngineState& s, int zi) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < s.people.size(); ++i)
    for (const ZoneStay& st : s.people[i].zones)
      if (st.zone == zi) ids.push_back(m.people[i].id);
  return ids;
}

}  // namespace

void capacity(const EngineModel& m, EngineState& s, Micros t) {
  const Rules& rules = m.rules();
  for (size_t z = 0; z < s.zones.size(); ++z) {
    const Zone& zd = m.site->zones[z];
    const int zi = static_cast<int>(z);
    {
      ZoneState& zs = s.zones[z];
      const bool over = zs.active && zd.capacity && zs.count > *zd.capacity;
      if (over) {
        if (zs.over_since == kNever) zs.over_since = t;
        if (zs.capacity_alarm < 0 && t - zs.over_since >= rules.capacity_delay) {
          const int a = raise_alarm(m, s, t, AlarmType::over_capacity, AlarmLevel::orange, people_in_zone(m, s, zi), zd.id,
                                    zd.polygon.centroid(), m.zone_floor(zi));
          s.zones[z].capacity_alarm = a;
        }
      } else {
        zs.over_since = kNever;
        clear_alarm(s, zs.capacity_alarm, t);
      }
    }
    ZoneState& zs = s.zones[z];
    const bool under = zs.active && zd.min_staff && zs.count < *zd.min_staff;
    if (under) {
      if (zs.staffing_alarm < 0) {
        const int a = raise_alarm(m, s, t, AlarmType::under_staffing, AlarmLevel::yellow, people_in_zone(m, s, zi), zd.id,
                                  zd.polygon.centroid(), m.zone_floor(zi));
        s.zones[z].staffing_alarm = a;
      }
    } else {
      clear_alarm(s, zs.staffing_alarm, t);
    }
  }
}

}  // namespace planttwin::rules
