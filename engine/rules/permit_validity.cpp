// Validity and expiry (SO-04; GB 30871-2022 5.2.8 and the per-type clauses; AQ 3064.2 code 10):
// an application longer than the type's and grade's maximum (rules.validity) is refused, exactly
// the maximum is accepted; a signed, running or paused permit past its `to` expires, checked in
// every step and before every command on it, with a red permit_expired event alarm (10) naming the
// workers and the guardian. The record keeps the AQ2 status code it had.
#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

bool validity_too_long(const Site& site, const std::string& type, const std::string& grade, Micros from, Micros to) {
  const Micros* max = lookup(site.rules.validity, type, grade);
  return max && to - from > *max;
}

void expire_if_due(Permit& p, Micros t, PermitWorld& world) {
  const PermitStatus s = p.rec.status;
  if (s != PermitStatus::signed_ && s != PermitStatus::in_progress && s != PermitStatus::paused) return;
  if (t <= p.rec.to) return;
  set_status(p, t, PermitStatus::expired, world);
  std::vector<std::string> who = p.rec.workers;
  who.push_back(p.rec.guardian);
  raise(world, t, AlarmType::permit_expired, Aq2Code::c10, who, p.rec.id, centroid_of(p.area), p.rec.floor, false);
}

}  // namespace planttwin::permit_rules
