// Electronic fences: boundary crossing (PL-04, PL-05; AQ 3064.3 5.2.4 越界). A person not on an
// active fence's authorisation list (people, roles, categories) inside it for rules.crossing_delay
// raises boundary_crossing (orange) and is warned; an authorised person who leaves an active
// stay_inside fence likewise. Not cleared more than rules.crossing_escalate_after after the raise:
// escalated to red (the recorded boundary event, "not cleared within 30 s"). Cleared when the
// person leaves (with hysteresis: zones.cpp), is back inside, or the fence becomes inactive.
#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {

// not cleared more than crossing_escalate_after after the raise: the recorded boundary event
void escalate_crossing(const EngineModel& m, EngineState& s, int idx, Micros t) {
  const Alarm& a = s.alarms[static_cast<size_t>(idx)];
  if (a.level != AlarmLevel::red && t - a.raised_at > m.rules().crossing_escalate_after) escalate_alarm(s, idx, t, AlarmLevel::red);
}

}  // namespace

void fences(const EngineModel& m, EngineState& s, int person, Micros t) {
  const Rules& rules = m.rules();
  const PersonSetup& def = m.people[static_cast<size_t>(person)];
  for (size_t k = 0; k < s.people[static_cast<size_t>(person)].zones.size(); ++k) {
    PersonState& p = s.people[static_cast<size_t>(person)];
    ZoneStay& st = p.zones[k];
    const Zone& z = m.site->zones[static_cast<size_t>(st.zone)];
    const ZoneState& zs = s.zones[static_cast<size_t>(st.zone)];
    const bool intruder = zs.active && !st.authorized;
    if (intruder) {
      if (st.crossing < 0 && t - st.entered >= rules.crossing_delay) {
        const int a = raise_alarm(m, s, t, AlarmType::boundary_crossing, AlarmLevel::orange, {def.id}, z.id, p.pos, p.floor);
        s.people[static_cast<size_t>(person)].zones[k].crossing = a;
        warn_person(m, s, t, person, s.alarms[static_cast<size_t>(a)].id, "entered_unauthorized_fence");
      } else if (st.crossing >= 0) {
        escalate_crossing(m, s, st.crossing, t);
      }
    } else {
      clear_alarm(s, st.crossing, t);
    }
    overstay(m, s, person, s.people[static_cast<size_t>(person)].zones[k], t);
  }
  // a stay-inside crossing escalates like an entry, and ends when the fence is no longer active
  std::vector<std::pair<int, int>>& left = s.people[static_cast<size_t>(person)].left_stay_inside;
  for (size_t k = 0; k < left.size();) {
    if (!s.zones[static_cast<size_t>(left[k].first)].active) {
      clear_alarm(s, left[k].second, t);
      left.erase(left.begin() + static_cast<long>(k));
      continue;
    }
    escalate_crossing(m, s, left[k].second, t);
    ++k;
  }
}

void stay_inside_left(const EngineModel& m, EngineState& s, int person, const ZoneStay& stay, Micros t) {
  const Zone& z = m.site->zones[static_cast<size_t>(stay.zone)];
  if (!(z.stay_inside && s.zones[static_cast<size_t>(stay.zone)].active && stay.authorized && z.authorized.present)) return;
  const PersonState& p = s.people[static_cast<size_t>(person)];
  const int a = raise_alarm(m, s, t, AlarmType::boundary_crossing, AlarmLevel::orange, {m.people[static_cast<size_t>(person)].id}, z.id,
                            p.pos, p.floor);
  s.people[static_cast<size_t>(person)].left_stay_inside.emplace_back(stay.zone, a);
  warn_person(m, s, t, person, s.alarms[static_cast<size_t>(a)].id, "left_stay_inside_fence");
}

void stay_inside_reentered(EngineState& s, int person, int zone, Micros t) {
  // back inside a stay-inside fence: that crossing has cleared
  std::vector<std::pair<int, int>>& left = s.people[static_cast<size_t>(person)].left_stay_inside;
  for (size_t k = 0; k < left.size(); ++k)
    if (left[k].first == zone) {
      clear_alarm(s, left[k].second, t);
      left.erase(left.begin() + static_cast<long>(k));
      break;
    }
}

}  // namespace planttwin::rules
