// Every person carries a working tag (PL-09; AQ 3064.3 5.1): tag_offline (yellow) when a tagged
// person on site sent no fix for more than rules.tag_offline_after, counted from the last fix, else
// from the gate entry or the start; low_battery (blue) when a reported level is below
// rules.low_battery (exactly the limit is not low); untagged_entry (orange) when a `gate: in` is
// followed by no fix from the person's tag for more than rules.untagged_after (a person without a
// tag always). A fix clears offline and untagged; `gate: out` takes the person off site and clears
// both; gate entries are counted by category (PL-07).
#include <algorithm>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {
std::string first_zone(const EngineModel& m, const PersonState& p) {
  return p.zones.empty() ? "" : m.site->zones[static_cast<size_t>(p.zones.front().zone)].id;
}
}  // namespace

void tags_on_fix(EngineState& s, int person, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  p.fix_since_gate = true;
  clear_alarm(s, p.offline_alarm, t);
  clear_alarm(s, p.untagged_alarm, t);
}

void tag_status(const EngineModel& m, EngineState& s, int person, const TagStatusInput& in, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  if (!in.battery) return;
  p.battery = *in.battery;
  if (p.battery < m.rules().low_battery) {
    if (p.battery_alarm < 0) {
      const int a = raise_alarm(m, s, t, AlarmType::low_battery, AlarmLevel::blue, {m.people[static_cast<size_t>(person)].id},
                                first_zone(m, p), p.pos, p.floor);
      s.people[static_cast<size_t>(person)].battery_alarm = a;
    }
  } else {
    clear_alarm(s, p.battery_alarm, t);
  }
}

void gate(const EngineModel& m, EngineState& s, const GateInput& in, Micros t) {
  if (in.person < 0 || in.person >= m.person_count()) {
    ++s.counters.unknown_tag;
    return;
  }
  PersonState& p = s.people[static_cast<size_t>(in.person)];
  if (in.in) {
    ++s.stats.gate_entries[static_cast<size_t>(m.people[static_cast<size_t>(in.person)].category)];
    p.on_site = true;
    p.gate_in_at = t;
    p.fix_since_gate = false;
  } else {
    p.on_site = false;
    p.gate_in_at.reset();
    p.fix_since_gate = true;
    clear_alarm(s, p.untagged_alarm, t);
    clear_alarm(s, p.offline_alarm, t);
  }
}

void tag_offline(const EngineModel& m, EngineState& s, int person, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  if (m.person_tag[static_cast<size_t>(person)] < 0 || !p.on_site || p.offline_alarm >= 0) return;
  const Micros since = p.has_fix ? p.last_fix : std::max<Micros>(0, p.gate_in_at.value_or(0));
  if (t - since > m.rules().tag_offline_after) {
    const int a = raise_alarm(m, s, t, AlarmType::tag_offline, AlarmLevel::yellow, {m.people[static_cast<size_t>(person)].id},
                              first_zone(m, p), p.pos, p.floor);
    s.people[static_cast<size_t>(person)].offline_alarm = a;
  }
}

void untagged_entry(const EngineModel& m, EngineState& s, int person, Micros t) {
  PersonState& p = s.people[static_cast<size_t>(person)];
  if (p.gate_in_at && !p.fix_since_gate && p.untagged_alarm < 0 && t - *p.gate_in_at > m.rules().untagged_after) {
    const int a = raise_alarm(m, s, t, AlarmType::untagged_entry, AlarmLevel::orange, {m.people[static_cast<size_t>(person)].id}, "",
                              p.pos, p.floor);
    s.people[static_cast<size_t>(person)].untagged_alarm = a;
  }
}

}  // namespace planttwin::rules
