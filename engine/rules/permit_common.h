// Internal to the permit desk: what the permit rules (engine/rules/permit_*.cpp) share. The
// desk's decisions where scenario-v1 is silent are written once, in engine/permits.cpp's opening
// note; each rule file names its own requirement IDs.
//
// Thread-safety: none; functions of (model, state, time) called by the engine's owner.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/permits.h"

namespace planttwin::permit_rules {

constexpr double kEps = 1e-9;  // slack for metres and gas readings compared with a limit

bool has(const std::vector<std::string>& v, const std::string& s);
void add_unique(std::vector<std::string>& v, const std::string& s);
AlarmLevel level_of(AlarmType type);
Vec2 centroid_of(const Polygon& area);
// the two outlines share at least one point (edges count)
bool overlaps(const Polygon& a, const Polygon& b);
bool zone_has_floor(const Zone& z, const std::string& floor);
// applied, signed, in progress or paused
bool live(PermitStatus s);

// rule tables (validity, pause_reanalysis, approval) by [type][grade], then [type][""]
template <class V>
const V* lookup(const std::map<std::string, std::map<std::string, V>>& table, const std::string& type,
                const std::string& grade) {
  const auto t = table.find(type);
  if (t == table.end()) return nullptr;
  if (!grade.empty()) {
    const auto g = t->second.find(grade);
    if (g != t->second.end()) return &g->second;
  }
  const auto any = t->second.find("");
  return any == t->second.end() ? nullptr : &any->second;
}

// one failing rule of a refused command
struct Failure {
  Aq2Code code = Aq2Code::none;
  AlarmType type = AlarmType::gas_over_limit;
  std::vector<std::string> who;
  std::string holder;
};
inline Failure coded(Aq2Code code, std::vector<std::string> who, std::string holder = "") {
  return {code, alarm_type_of(code), std::move(who), std::move(holder)};
}
void fail_once(std::vector<Failure>& fails, Aq2Code code, const std::vector<std::string>& who);
std::vector<std::string> default_who(const PermitCommand& c, const std::vector<std::string>& workers);

int raise(PermitWorld& world, Micros t, AlarmType type, Aq2Code code, std::vector<std::string> who,
          const std::string& permit, Vec2 pos, const std::string& floor, bool condition, const std::string& zone = "",
          const std::string& holder = "");
void refuse_plain(PermitWorld& world, Micros t, const PermitCommand& c);
void refuse(PermitWorld& world, Micros t, const PermitCommand& c, const std::vector<Failure>& fails, const Polygon& area,
            const std::string& floor);
// a new status: recorded, reported; leaving in_progress stops the linkage timers
void set_status(Permit& p, Micros t, PermitStatus s, PermitWorld& world);
void stop_linkage(Permit& p, Micros t, PermitWorld& world);
Permit* find_permit(PermitDeskState& s, const std::string& id);
const Permit* find_permit(const PermitDeskState& s, const std::string& id);

// ---- permit_reservation.cpp (SO-01) ----
void reserve(PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world);
void review_reservation(PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world, bool approve);

// ---- permit_approval.cpp (SO-02, SO-10, PL-12 approver on site) ----
void apply(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world);
void approve(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void check_certificates(const PermitDeskModel& m, const std::string& id, const std::vector<std::string>& types,
                        std::int64_t today, std::vector<Failure>& fails);
std::vector<std::string> guardian_cert_types(const Site& site, const std::string& type);

// ---- permit_gas.cpp (SO-03) ----
bool needs_gas(const Permit& p);
bool within_limits(const GasReadings& r, const Rules::Gas& g);
void check_gas(const Site& site, const Permit& p, Micros t, const std::vector<std::string>& who, std::vector<Failure>& fails);
void gas(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
// resume after a pause: re-analysis (03) or readings over the limits
void check_reanalysis(const Site& site, const Permit& p, Micros t, const PermitCommand& c, std::vector<Failure>& fails);
void gas_timers(const Site& site, Permit& p, Micros t, PermitWorld& world);  // 05, 04

// ---- permit_linkage.cpp (PL-12, SO-07) ----
bool on_site(const PermitDeskModel& m, const std::string& id, const Permit& p, const PermitWorld& world);
void handover(const PermitDeskModel& m, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void linkage(const PermitDeskModel& m, Permit& p, Micros t, PermitWorld& world);  // 31, people in the area
void work_without_permit(const PermitDeskModel& m, PermitDeskState& s, Micros t, PermitWorld& world);  // 60

// ---- permit_validity.cpp (SO-04 validity and expiry) ----
bool validity_too_long(const Site& site, const std::string& type, const std::string& grade, Micros from, Micros to);
void expire_if_due(Permit& p, Micros t, PermitWorld& world);  // 10

// ---- permit_acceptance.cpp (SO-03 briefing, SO-04 lifecycle) ----
void brief(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void start(const Site& site, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void pause(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void resume(const Site& site, Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void accept(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void revoke(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);
void void_permit(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world);

}  // namespace planttwin::permit_rules
