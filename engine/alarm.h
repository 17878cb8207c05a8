// Alarms and their lifecycle (PL-07, PL-10): raised -> acknowledged -> handled -> closed, with who,
// when and a note; `cleared` when the condition ends. One alarm keeps one id from raise to close.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/geometry.h"
#include "engine/time.h"

namespace planttwin {

enum class AlarmEventKind { raised, escalated, cleared, acknowledged, handled, closed };
const char* to_string(AlarmEventKind k);
bool parse_alarm_event(const std::string& s, AlarmEventKind& out);

struct AlarmEvent {
  Micros t = 0;
  AlarmEventKind kind = AlarmEventKind::raised;
  std::string level;  // the alarm's level at this event
  std::string by;     // person id for operator actions; "system" for automatic ones
  std::string note;
};

struct Alarm {
  std::string id;    // "A000001": sequential in raise order
  std::string type;  // scenario-v1 alarm TYPE
  std::string level; // red, orange, yellow, blue
  std::string code;  // AQ 3064.2 code for special-work alarms, else ""
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
};

// Alarm types of scenario-v1, in a fixed order (reports list them this way).
const std::vector<std::string>& alarm_types();
bool is_alarm_type(const std::string& s);
// Chinese name of an alarm type, for operators and inspectors.
const char* alarm_type_zh(const std::string& type);
// The special-work alarm codes of AQ 3064.2 Table A.4, in order, each with its alarm type.
const std::vector<std::pair<std::string, std::string>>& aq2_alarm_codes();
// The alarm type of an AQ 3064.2 code; "" for an unknown code.
const char* alarm_type_of_code(const std::string& code);
// Level names: red, orange, yellow, blue; rank 4..1 (0 for unknown).
int level_rank(const std::string& level);
const char* level_zh(const std::string& level);

}  // namespace planttwin
