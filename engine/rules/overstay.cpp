// Overstay (PL-05; AQ 3064.3 5.2.4 滞留): in a zone with overstay_after for more than that raises
// overstay (yellow, once per stay); cleared when the person leaves. Checked in the fence sweep,
// right after the stay's crossing (fences.cpp), so alarms keep the documented order.
#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

void overstay(const EngineModel& m, EngineState& s, int person, ZoneStay& stay, Micros t) {
  const Zone& z = m.site->zones[static_cast<size_t>(stay.zone)];
  if (!z.overstay_after || stay.overstay >= 0 || t - stay.entered <= *z.overstay_after) return;
  const PersonState& p = s.people[static_cast<size_t>(person)];
  stay.overstay = raise_alarm(m, s, t, AlarmType::overstay, AlarmLevel::yellow, {m.people[static_cast<size_t>(person)].id}, z.id,
                              p.pos, p.floor);
}

void overstay_left(EngineState& s, ZoneStay& stay, Micros t) { clear_alarm(s, stay.overstay, t); }

}  // namespace planttwin::rules
