// One-key alarm (PL-06; AQ 3064.3 5.2.6, pushed within 5 s by 7.2.2): the tag's button raises sos
// (red) at once, at the person's last known position and first zone. An event alarm: it has no
// clearing condition, a person closes it.
#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

void sos(const EngineModel& m, EngineState& s, int person, Micros t) {
  const PersonState& p = s.people[static_cast<size_t>(person)];
  const std::string zone = p.zones.empty() ? "" : m.site->zones[static_cast<size_t>(p.zones.front().zone)].id;
  raise_alarm(m, s, t, AlarmType::sos, AlarmLevel::red, {m.people[static_cast<size_t>(person)].id}, zone, p.pos, p.floor,
              /*condition=*/false);
}

}  // namespace planttwin::rules
