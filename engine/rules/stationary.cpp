// Long stationary / man-down (PL-05; AQ 3064.3 5.2.4 静止): every fix over more than T within
// rules.stationary_radius (1 m) of the first fix of that period raises stationary (red); T is the
// smallest stationary_after of the zones the person is in, else rules.stationary_after (300 s).
// Only while the tag reports (a fix younger than tag_offline_after). A fix beyond the radius starts
// a new period and clears the alarm.
#include <algorithm>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

void stationary_on_fix(const EngineModel& m, EngineState& s, int person, Vec2 pos, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  const double r = m.rules().stationary_radius;
  if (!p.has_fix || dist2(pos, p.still_anchor) > r * r) {
    p.still_anchor = pos;
    p.still_since = t;
    clear_alarm(s, p.stationary_alarm, t);
  }
}

void stationary(const EngineModel& m, EngineState& s, int person, Micros t) {
  const Rules& rules = m.rules();
  PersonState& p = s.people[static_cast<size_t>(person)];
  const bool fresh = p.has_fix && t - p.last_fix <= rules.tag_offline_after;
  if (!fresh || p.stationary_alarm >= 0) return;
  // a zone's stationary_after overrides the site-wide time inside it
  Micros limit = rules.stationary_after;
  bool zoned = false;
  for (const ZoneStay& st : p.zones) {
    const auto& za = m.site->zones[static_cast<size_t>(st.zone)].stationary_after;
    if (za) limit = zoned ? std::min(limit, *za) : *za, zoned = true;
  }
  if (t - p.still_since > limit) {
    std::string zone = p.zones.empty() ? "" : m.site->zones[static_cast<size_t>(p.zones.front().zone)].id;
    const int a = raise_alarm(m, s, t, AlarmType::stationary, AlarmLevel::red, {m.people[static_cast<size_t>(person)].id}, zone,
                              p.pos, p.floor);
    s.people[static_cast<size_t>(person)].stationary_alarm = a;
  }
}

}  // namespace planttwin::rules
