#include "engine/alarm_lifecycle.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace planttwin {

int raise_alarm(const EngineModel& m, EngineState& s, Micros t, AlarmType type, AlarmLevel level, std::vector<std::string> who,
                const std::string& zone, Vec2 pos, int floor, bool condition) {
  Alarm a;
  char id[24];
  std::snprintf(id, sizeof id, "A%06llu", static_cast<unsigned long long>(++s.alarm_seq));
  a.id = id;
  a.type = type;
  a.level = level;
  std::sort(who.begin(), who.end());
  a.who = std::move(who);
  a.zone = zone;
  a.pos = pos;
  a.floor = m.floor_name(floor);
  a.raised_at = t;
  a.routed_to = m.duty_at(t);
  a.condition = condition;
  s.alarms.push_back(std::move(a));
  const int idx = static_cast<int>(s.alarms.size()) - 1;
  s.ack.unack_of.push_back(-1);
  add_alarm_event(s, idx, t, AlarmEventKind::raised, "system", "");
  if (type != AlarmType::unacknowledged) s.ack.watch.push_back(idx);
  // video linkage (PL-13): the cameras that see the spot, named on the alarm and called up
  std::vector<std::string> seen = m.cameras_at(s.alarms[static_cast<size_t>(idx)].floor, pos);
  if (!seen.empty()) {
    s.alarms[static_cast<size_t>(idx)].cameras = seen;
    s.outputs.push_back({t, CameraCallOutput{s.alarms[static_cast<size_t>(idx)].id, std::move(seen)}});
  }
  return idx;
}

void add_alarm_event(EngineState& s, int idx, Micros t, AlarmEventKind kind, const std::string& by, const std::string& note) {
  Alarm& a = s.alarms[static_cast<size_t>(idx)];
  switch (kind) {
    case AlarmEventKind::cleared: a.cleared_at = t; break;
    case AlarmEventKind::acknowledged: a.acknowledged_at = t; break;
    case AlarmEventKind::handled: a.handled_at = t; break;
    case AlarmEventKind::closed: a.closed_at = t; break;
    default: break;
  }
  a.events.push_back({t, kind, a.level, by, note});
  s.outputs.push_back({t, AlarmOutput{idx, static_cast<int>(a.events.size()) - 1}});
}

void escalate_alarm(EngineState& s, int idx, Micros t, AlarmLevel level) {
  s.alarms[static_cast<size_t>(idx)].level = level;
  add_alarm_event(s, idx, t, AlarmEventKind::escalated, "system", "");
}

void clear_alarm_slow(EngineState& s, int& idx, Micros t) {
  const Alarm& a = s.alarms[static_cast<size_t>(idx)];
  if (!a.cleared_at) {
    const bool close_too = !a.needs_confirmation && !a.closed_at;
    add_alarm_event(s, idx, t, AlarmEventKind::cleared, "system", "");
    if (close_too) add_alarm_event(s, idx, t, AlarmEventKind::closed, "system", "");
  }
  idx = -1;
}

void warn_person(const EngineModel& m, EngineState& s, Micros t, int person, const std::string& alarm_id, const std::string& reason) {
  const int tag = m.person_tag[static_cast<size_t>(person)];
  if (tag < 0) return;
  s.outputs.push_back({t, WarnOutput{m.tags[static_cast<size_t>(tag)], alarm_id, reason}});
}

}  // namespace planttwin
