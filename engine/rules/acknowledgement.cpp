// Acknowledgement, handling and escalation (PL-07, PL-10; AQ 3064.3 5.2.1-5.2.2 and 5.2.3 c).
// Operators act with ack, handle and close, on an alarm by id (live `ack`) or on the oldest alarm
// matching a type and a person for which the action is still open (scenario `alarm` actions);
// handle and close acknowledge first when nobody has; closing a gathering that needs confirmation
// before it has cleared is refused (counted: people must disperse first). An alarm nobody
// acknowledged for more than rules.ack_within (cleared or not) raises `unacknowledged` (orange)
// naming it in `of`; that alarm never escalates itself and clears when the first is acknowledged.
#include <algorithm>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {

void acknowledge(EngineState& s, int idx, Micros t, const std::string& by, const std::string& note) {
  add_alarm_event(s, idx, t, AlarmEventKind::acknowledged, by, note);
  int& un = s.ack.unack_of[static_cast<size_t>(idx)];
  if (un >= 0) clear_alarm(s, un, t);
}

}  // namespace

void operator_action(EngineState& s, const AlarmAction& act, Micros t) {
  auto applicable = [&](const Alarm& a) {
    switch (act.kind) {
      case AlarmAction::Kind::ack: return !a.acknowledged_at.has_value();
      case AlarmAction::Kind::handle: return !a.handled_at.has_value();
      case AlarmAction::Kind::close: return !a.closed_at.has_value();
    }
    return false;
  };
  int found = -1;
  for (size_t i = 0; i < s.alarms.size() && found < 0; ++i) {
    const Alarm& a = s.alarms[i];
    if (act.alarm_id && a.id != *act.alarm_id) continue;
    if (act.type && a.type != *act.type) continue;
    if (act.who && std::find(a.who.begin(), a.who.end(), *act.who) == a.who.end()) continue;
    if (!applicable(a)) continue;
    found = static_cast<int>(i);
  }
  if (found < 0) {
    ++s.counters.unmatched_actions;
    return;
  }
  const Alarm& a = s.alarms[static_cast<size_t>(found)];
  // a person must confirm dispersal: only once the gathering has cleared (AQ3 5.2.3 c)
  if (act.kind == AlarmAction::Kind::close && a.needs_confirmation && a.condition && !a.cleared_at) {
    ++s.counters.unmatched_actions;
    return;
  }
  if (!a.acknowledged_at) acknowledge(s, found, t, act.by, act.kind == AlarmAction::Kind::ack ? act.note : "");
  if (act.kind == AlarmAction::Kind::handle) add_alarm_event(s, found, t, AlarmEventKind::handled, act.by, act.note);
  if (act.kind == AlarmAction::Kind::close) add_alarm_event(s, found, t, AlarmEventKind::closed, act.by, act.note);
}

void acknowledgement(const EngineModel& m, EngineState& s, Micros t) {
  // alarms enter the watch in raise order, and ack_within is one constant, so the oldest is
  // always at the head
  AckWatch& w = s.ack;
  while (w.head < w.watch.size()) {
    const int idx = w.watch[w.head];
    const Alarm& a = s.alarms[static_cast<size_t>(idx)];
    if (a.acknowledged_at) {
      ++w.head;
      continue;
    }
    if (t - a.raised_at <= m.rules().ack_within) break;
    ++w.head;
    const Alarm copy = a;  // raise_alarm() may reallocate the alarms
    const int un = raise_alarm(m, s, t, AlarmType::unacknowledged, AlarmLevel::orange, copy.who, copy.zone, copy.pos,
                               m.lookup_floor(copy.floor));
    s.alarms[static_cast<size_t>(un)].of = copy.id;
    s.alarms[static_cast<size_t>(un)].permit = copy.permit;
    s.ack.unack_of[static_cast<size_t>(idx)] = un;
  }
  if (w.head > 4096 && w.head * 2 > w.watch.size()) {
    w.watch.erase(w.watch.begin() + 0, w.watch.begin() + static_cast<long>(w.head));
    w.head = 0;
  }
}

}  // namespace planttwin::rules
