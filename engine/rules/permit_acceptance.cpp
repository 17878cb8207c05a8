// A permit's life after signing (SO-03 briefing, interruption and resume; SO-04 acceptance,
// revoke, void; AQ 3064.2 App. A status codes and code 70): start needs fresh gas where the type
// needs it (permit_gas.cpp) and a briefing signed by every worker and the current guardian (70);
// pause and resume (with re-analysis after a long pause); accept (acceptance sign-off) from in
// progress or paused; revoke before work (applied, signed); void when signed, in progress or
// paused. Expired, accepted, void and revoked are final.
#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

void brief(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (!live(p.rec.status)) return refuse_plain(world, t, c);
  std::string note = "brief";
  for (const std::string& id : c.signed_by) {
    add_unique(p.briefed, id);
    note += " " + id;
  }
  p.rec.history.emplace_back(t, note);
}

void start(const Site& site, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (p.rec.status != PermitStatus::signed_) return refuse_plain(world, t, c);
  std::vector<Failure> fails;
  if (needs_gas(p)) check_gas(site, p, t, default_who(c, p.rec.workers), fails);
  std::vector<std::string> unsigned_people;
  for (const std::string& w : p.rec.workers)
    if (!has(p.briefed, w)) add_unique(unsigned_people, w);
  if (!p.rec.guardian.empty() && !has(p.briefed, p.rec.guardian)) add_unique(unsigned_people, p.rec.guardian);
  if (!unsigned_people.empty()) fails.push_back(coded(Aq2Code::c70, unsigned_people));
  if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
  p.started_at = t;
  p.checked_day = world.local(t).days_since_epoch;
  set_status(p, t, PermitStatus::in_progress, world);
}

void pause(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (p.rec.status != PermitStatus::in_progress) return refuse_plain(world, t, c);
  p.paused_at = t;
  set_status(p, t, PermitStatus::paused, world);
}

void resume(const Site& site, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (p.rec.status != PermitStatus::paused) return refuse_plain(world, t, c);
  std::vector<Failure> fails;
  check_reanalysis(site, p, t, c, fails);
  if (!fails.empty()) return refuse(world, t, c, fails, p.area, p.rec.floor);
  set_status(p, t, PermitStatus::in_progress, world);
}

void accept(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  const PermitStatus s = p.rec.status;
  if (s != PermitStatus::in_progress && s != PermitStatus::paused) return refuse_plain(world, t, c);
  set_status(p, t, PermitStatus::accepted, world);
}

void revoke(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  const PermitStatus s = p.rec.status;
  if (s != PermitStatus::applied && s != PermitStatus::signed_) return refuse_plain(world, t, c);
  set_status(p, t, PermitStatus::revoked, world);
}

void void_permit(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  const PermitStatus s = p.rec.status;
  if (s != PermitStatus::signed_ && s != PermitStatus::in_progress && s != PermitStatus::paused) return refuse_plain(world, t, c);
  set_status(p, t, PermitStatus::void_, world);
}

}  // namespace planttwin::permit_rules
