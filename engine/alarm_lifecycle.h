// How every rule raises, escalates and clears alarms, and warns tags: the one place that appends
// to EngineState::alarms and emits the matching outputs (docs/engine.md "Alarms"). Alarm ids are
// sequential; an alarm is routed to the person on duty at its raise, and names the cameras that
// see its spot (PL-13), followed by a camera_call output.
//
// Handles: rules keep an alarm's index in the state's alarm vector (int, -1 for none), never a
// pointer or a reference, since raising another alarm may move the vector.
//
// Thread-safety: functions of (model, state); the caller owns the state.
#pragma once
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/state.h"

namespace planttwin {

// Raises an alarm and returns its index. who is sorted here.
int raise_alarm(const EngineModel& m, EngineState& s, Micros t, AlarmType type, AlarmLevel level, std::vector<std::string> who,
                const std::string& zone, Vec2 pos, int floor, bool condition = true);
void add_alarm_event(EngineState& s, int idx, Micros t, AlarmEventKind kind, const std::string& by, const std::string& note);
void escalate_alarm(EngineState& s, int idx, Micros t, AlarmLevel level);
// The condition ended: cleared, and closed too unless a person must confirm. Sets idx to -1.
void clear_alarm_slow(EngineState& s, int& idx, Micros t);
inline void clear_alarm(EngineState& s, int& idx, Micros t) {
  if (idx >= 0) clear_alarm_slow(s, idx, t);
}
// A warning to the person's tag (nothing for an untagged person).
void warn_person(const EngineModel& m, EngineState& s, Micros t, int person, const std::string& alarm_id, const std::string& reason);

}  // namespace planttwin
