#include "engine/alarm.h"

#include <algorithm>
#include <map>

namespace planttwin {

const char* to_string(AlarmEventKind k) {
  switch (k) {
    case AlarmEventKind::raised: return "raised";
    case AlarmEventKind::escalated: return "escalated";
    case AlarmEventKind::cleared: return "cleared";
    case AlarmEventKind::acknowledged: return "acknowledged";
    case AlarmEventKind::handled: return "handled";
    case AlarmEventKind::closed: return "closed";
  }
  return "raised";
}

bool parse_alarm_event(const std::string& s, AlarmEventKind& out) {
  for (auto k : {AlarmEventKind::raised, AlarmEventKind::escalated, AlarmEventKind::cleared,
                 AlarmEventKind::acknowledged, AlarmEventKind::handled, AlarmEventKind::closed})
    if (s == to_string(k)) {
      out = k;
      return true;
    }
  return false;
}

const char* Alarm::handling_status() const {
  if (closed_at) return "closed";
  if (handled_at) return "handled";
  if (acknowledged_at) return "acknowledged";
  return "raised";
}

}  // namespace planttwin
