// Special work (permit to work, 特殊作业): reservations and permits for the eight work types of
// GB 30871-2022, every rule of scenario-v1 "Special work" with its AQ 3064.2 code, and the
// linkage with positions (PL-12): approver on site, guardian absent, people not on the permit in
// the work area, work without a permit.
//
// Model and data apart, like the engine: PermitDeskModel (the shared site and the people, const)
// and PermitDeskState (plain, copyable, comparable data: reservations, permits, timers). The rules
// are functions of (model, state, time) in engine/rules/permit_*.cpp, one file per stage; the
// dispatch and the shared pieces are in engine/permits.cpp. The desk reads no clock; time,
// positions and people come from the engine through PermitWorld, and every decision goes back
// through it, in a fixed order (commands in input order; in a step, permits in the order they were
// applied for, people in id order).
//
// Thread-safety: none; the engine that owns a desk state owns it. The model is immutable and may
// be shared between threads.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/geometry.h"
#include "engine/inputs.h"
#include "engine/site.h"
#include "engine/time.h"
#include "engine/vocabulary.h"

namespace planttwin {

struct Certificate {
  std::string type, number;
  std::int64_t expires_day = 0;  // local day number (days since 1970-01-01); valid through that day
  std::string holder;            // the name printed on it
  bool operator==(const Certificate&) const = default;
};

// A person as the desk sees them. `index` is the engine's person index (people in id order).
struct PermitPerson {
  std::string id, name;
  Category category = Category::employee;
  std::vector<std::string> roles;
  std::vector<Certificate> certificates;
};

// Where a person is, as far as the positioning system knows.
struct PersonWhere {
  bool known = false;  // false: no fix yet, or the tag is offline
  Vec2 pos;
  std::string floor;
};

// One alarm the desk asks the engine to raise.
struct PermitAlarm {
  Micros t = 0;
  AlarmType type = AlarmType::permit_expired;
  AlarmLevel level = AlarmLevel::orange;
  Aq2Code code = Aq2Code::none;  // none when the rule has no code
  std::vector<std::string> who;
  std::string zone, permit;
  std::string holder;  // certificate alarms: the name on the certificate
  Vec2 pos;
  std::string floor;
  bool condition = true;  // false for event alarms (refusals): they do not clear
};

// Implemented by the engine.
class PermitWorld {
 public:
  virtual ~PermitWorld() = default;
  virtual PersonWhere where(int person) const = 0;
  virtual LocalTime local(Micros t) const = 0;
  virtual std::int64_t unix_seconds(Micros t) const = 0;  // wall-clock time of engine time t
  // raises an alarm and returns its handle; clear() ends a condition alarm (handle set to -1)
  virtual int raise(const PermitAlarm& alarm) = 0;
  virtual void clear(int& handle, Micros t) = 0;
  // a refused command, with its codes (possibly none)
  virtual void refuse(Micros t, const std::string& permit, const std::string& action, const std::vector<std::string>& codes) = 0;
  // a reservation's or permit's new status (scenario-v1 status names)
  virtual void status(Micros t, const std::string& id, const std::string& status) = 0;
};

enum class PermitStatus : std::uint8_t { applied, signed_, in_progress, paused, accepted, void_, revoked, expired };
const char* to_string(PermitStatus s);
// AQ 3064.2 App. A status code: 0 unsigned, 1 signed, 2 in progress, 3 accepted, 4 void,
// 5 revoked, 6 paused; an expired permit keeps the code it had (-1 never happens).
int aq2_status_code(PermitStatus s);

struct PermitGasEntry {
  Micros t = 0;
  std::string by;
  GasReadings readings;
  bool operator==(const PermitGasEntry&) const = default;
};

// A permit as recorded, for reports, snapshots and the printable permit.
struct PermitRecord {
  std::string id, reservation, type, grade, floor;
  std::vector<Vec2> area;
  std::vector<std::string> workers, linked, approvals;  // approvals: who approved, in order
  std::string guardian, approver;
  Micros from = 0, to = 0;
  PermitStatus status = PermitStatus::applied;
  int aq2_code = 0;
  std::vector<std::pair<Micros, std::string>> history;  // (time, status or event such as "handover P07")
  std::vector<PermitGasEntry> gas;                      // every gas analysis, in time order
  bool risk_analysis = false, measures_confirmed = false;
  std::vector<std::string> briefed;  // who signed the safety briefing
  std::string blind;                 // blind plate: insert or remove
  bool operator==(const PermitRecord&) const = default;
};

// ---- the desk's model: constant for a run, shared -------------------------------------------

struct PermitDeskModel {
  std::shared_ptr<const Site> site;   // shared with the engine, never copied
  std::vector<PermitPerson> people;   // the engine's person order (by id)
  std::map<std::string, int> person_index;

  PermitDeskModel() = default;
  PermitDeskModel(std::shared_ptr<const Site> site, std::vector<PermitPerson> people);
  int index_of(const std::string& id) const;               // -1 when unknown
  const PermitPerson* person(const std::string& id) const;  // nullptr when unknown
};

// ---- the desk's data: part of EngineState, saved in checkpoints -----------------------------

// a condition held since `since`; alarm is the raised alarm's index, -1 before
struct PermitTimer {
  Micros since = 0;
  int alarm = -1;
  bool operator==(const PermitTimer&) const = default;
};

struct PermitGasRecord {
  Micros t = 0;
  std::int64_t day = 0;  // local day of t
  std::string by;
  GasReadings readings;
  bool operator==(const PermitGasRecord&) const = default;
};

enum class ReservationStatus : std::uint8_t { reserved, approved, rejected };
const char* to_string(ReservationStatus s);

struct Reservation {
  std::string id, type, grade;
  ReservationStatus status = ReservationStatus::reserved;
  Micros from = 0, to = 0;
  bool operator==(const Reservation&) const = default;
};

struct Permit {
  PermitRecord rec;
  Polygon area;
  std::string blind;
  bool explosion = false;  // the area overlaps an explosion_hazard zone
  bool risk_analysis = false, measures_confirmed = false;
  std::vector<PermitGasRecord> gas;
  std::vector<std::string> briefed;
  Micros started_at = 0, paused_at = 0;
  std::int64_t checked_day = 0;  // 04: the last local day looked at
  std::optional<Micros> guardian_away_since;
  int guardian_alarm = -1, record_alarm = -1, daily_alarm = -1;
  std::map<int, PermitTimer> intruders;  // person index -> time inside
  bool operator==(const Permit&) const = default;
};

struct PermitDeskState {
  std::map<std::string, Reservation> reservations;
  std::vector<Permit> permits;  // application order
  std::map<std::string, std::size_t> permit_index;
  std::map<std::pair<std::size_t, int>, PermitTimer> unpermitted;  // (zone, person) -> time working there
  bool operator==(const PermitDeskState&) const = default;
};

// Applies one command at time t: accepted, or refused through world.refuse with its codes.
void permit_command(const PermitDeskModel& m, PermitDeskState& s, Micros t, const PermitCommand& c, PermitWorld& world);
// Rules that run with time and positions: expiry (10), daily analysis (04), gas records (05),
// guardian absent (31), people not on the permit in the work area, work without a permit (60).
void permit_step(const PermitDeskModel& m, PermitDeskState& s, Micros t, PermitWorld& world);
// Every permit as recorded, in application order.
std::vector<PermitRecord> permit_records(const PermitDeskState& s);

// A model and a state together: the desk on its own (tests, tools).
class PermitDesk {
 public:
  // people: in the engine's person order (by id)
  PermitDesk(std::shared_ptr<const Site> site, std::vector<PermitPerson> people)
      : model_(std::move(site), std::move(people)) {}

  void command(Micros t, const PermitCommand& c, PermitWorld& world) { permit_command(model_, state_, t, c, world); }
  void step(Micros t, PermitWorld& world) { permit_step(model_, state_, t, world); }
  std::vector<PermitRecord> permits() const { return permit_records(state_); }
  const PermitDeskState& state() const { return state_; }

 private:
  PermitDeskModel model_;
  PermitDeskState state_;
};

}  // namespace planttwin
