// Reservations (SO-01; AQ 3064.2 5.3): a normal reservation at least one day ahead, an urgent one
// for the same local day; reviewed (approve_reservation / reject_reservation) before a permit may
// be applied for on it (apply checks an approved reservation: permit_approval.cpp).
#include <utility>

#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

void reserve(PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world) {
  if (c.id.empty() || s.reservations.count(c.id) || !c.from || !c.to) return refuse_plain(world, t, c);
  const bool one_day_ahead = *c.from >= t + kDay;
  const bool same_day = world.local(*c.from).days_since_epoch == world.local(t).days_since_epoch;
  if (!one_day_ahead && !(c.urgent && same_day)) return refuse_plain(world, t, c);
  Reservation r;
  r.id = c.id;
  r.type = c.type;
  r.grade = c.grade;
  r.from = *c.from;
  r.to = *c.to;
  r.status = ReservationStatus::reserved;
  s.reservations.emplace(c.id, std::move(r));
  world.status(t, c.id, to_string(ReservationStatus::reserved));
}

void review_reservation(PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world, bool approve) {
  const auto it = s.reservations.find(c.id);
  if (it == s.reservations.end() || it->second.status != ReservationStatus::reserved) return refuse_plain(world, t, c);
  it->second.status = approve ? ReservationStatus::approved : ReservationStatus::rejected;
  world.status(t, c.id, to_string(it->second.status));
}

}  // namespace planttwin::permit_rules
