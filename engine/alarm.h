// Alarms and their lifecycle (PL-07, PL-10): raised -> acknowledged -> handled -> closed, with who,
// when and a note; `cleared` when the condition ends. One alarm keeps one id from raise to close.
//
// Plain data: an Alarm is part of EngineState (engine/state.h) and is copied out to reports and
// snapshots. Thread-safety: none of its own; whoever owns the engine owns its alarms.
#pragma once
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/geometry.h"
#include "engine/time.h"
#include "engine/vocabulary.h"

namespace planttwin {

enum class AlarmEventKind : std::uint8_t { raised, escalated, cleared, acknowledged, handled, closed };
const char* to_string(AlarmEventKind k);
bool parse_alarm_event(const std::string& s, AlarmEventKind& out);

struct AlarmEvent {
  Micros t = 0;
  AlarmEventKind kind = AlarmEventKind::raised;
  AlarmLevel level = AlarmLevel::none;  // the alarm's level at this event
  std::string by;     // person id for operator actions; "system" for automatic ones
  std::string note;
  bool operator==(const AlarmEvent&) const = default;
};

struct Alarm {
  std::string id;    // "A000001": sequential in raise order
  AlarmType type = AlarmType::gathering;
  AlarmLevel level = AlarmLevel::none;
  Aq2Code code = Aq2Code::none;  // AQ 3064.2 code for special-work alarms
  std::vector<std::string> who;  // person ids, ascending
  std::string zone, permit;
  std::string of;    // unacknowledged: the id of the alarm nobody acknowledged
  std::string holder;  // certificate alarms: the name printed on the certificate
  Vec2 pos;          // where, metres
  std::string floor;
  Micros raised_at = 0;
  std::optional<Micros> cleared_at, acknowledged_at, handled_at, closed_at;
  std::string routed_to;  // the person on duty at raise time, "" when nobody
  bool needs_confirmation = false;  // a person must close it after it clears (orange/red gathering)
  bool condition = true;            // has a clearing condition (false: SOS, refusals)
  std::vector<AlarmEvent> events;
  std::vector<std::string> cameras;  // cameras that see the location (PL-13), when known

  bool open() const { return !closed_at.has_value(); }
  bool active() const { return !cleared_at.has_value() && condition; }
  // raised, acknowledged, handled or closed: the handling status for statistics
  const char* handling_status() const;
  bool operator==(const Alarm&) const = default;
};

// The engine's alarms in raise order (index = handle). A deque, not a vector: raising an alarm
// appends and never moves the others, so a reference or pointer to an alarm stays valid for as long
// as the engine lives (issue 17: a caller that kept `const Alarm&` across steps read freed memory
// when the vector grew). Only restoring a checkpoint (Engine::restore) replaces the alarms.
using AlarmLog = std::deque<Alarm>;

}  // namespace planttwin
