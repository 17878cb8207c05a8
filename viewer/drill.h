// Drill scoring (H-07, PL-10): for every alarm routed to the person on duty, the time to
// acknowledge and the time to handle, each measured from the raise, against the scenario's
// `drill: {ack, handle}` targets. docs/drill.md describes the rules and the report.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/alarm.h"
#include "engine/time.h"
#include "scenarios/scenario.h"

namespace planttwin::viewer {

enum class Verdict {
  pass,     // done within the target (at the target exactly included)
  late,     // done, after the target
  missed,   // not done, and the target passed before the drill ended
  not_due,  // not done, and the drill ended before the target: not scored
};
const char* to_string(Verdict v);
const char* verdict_zh(Verdict v);

struct DrillGoals {
  Micros ack = 60 * kSecond;      // Default: rules.ack_within (60 s)
  Micros handle = 5 * kMinute;    // Default: 5 min
};

struct ScoredAlarm {
  std::string id, routed_to;
  AlarmType type = AlarmType::gathering;
  AlarmLevel level = AlarmLevel::none;
  std::vector<std::string> who;
  std::string zone;
  Micros raised_at = 0;
  std::optional<Micros> ack_delay, handle_delay;  // from the raise
  std::string ack_by, handle_by;
  Verdict ack = Verdict::missed, handle = Verdict::missed;
  double points = 0;  // 0..100: earned over possible, not_due parts left out
  bool scored = true;  // false when both parts are not_due
};

struct DrillScore {
  std::string scenario, duty;  // duty: the people on duty, comma-separated
  Micros ended_at = 0;         // drill time when it ended
  Micros ack_target = 0, handle_target = 0;
  std::vector<ScoredAlarm> alarms;   // routed to the duty person, in raise order (escalations excluded)
  int escalations = 0;               // `unacknowledged` alarms raised during the drill
  int passed = 0, late = 0, missed = 0;  // counts over acknowledgements and handlings
  double total = 0;                  // 0..100: mean points over scored alarms (100 when none)
  bool all_on_time = true;           // nothing late or missed
  int operator_actions = 0;          // actions the trainee took in the viewer
};

// Targets of a scenario: its `drill` values, else the defaults above (ack: rules.ack_within).
DrillGoals drill_targets(const Scenario& sc);

// One verdict: `done_after` is the delay from the raise when done. Edge: a delay equal to the
// target passes; one microsecond later is late.
Verdict judge(std::optional<Micros> done_after, Micros target, Micros raised_at, Micros ended_at);

// Scores every alarm routed to a person on duty. Per alarm: acknowledgement 50 (pass) / 25 (late)
// / 0 (missed), handling the same, as a share of the parts that are due (0..100).
DrillScore score_drill(const Scenario& sc, const AlarmLog& alarms, Micros ended_at);

// Writes DIR/drill.json, DIR/drill.md and DIR/drill.html (Chinese and English). Returns false with `error`.
bool write_drill_report(const DrillScore& s, const std::string& dir, std::string& error);
std::string drill_json(const DrillScore& s);
std::string drill_markdown(const DrillScore& s);
// The printable page (viewer/drill_html.cpp): score, targets, a chart of every alarm's time to
// acknowledge and to handle against the targets (drawn, saying so, when there are none), the alarms.
std::string drill_html(const DrillScore& s);

}  // namespace planttwin::viewer
