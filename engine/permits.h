// Special work (permit to work, 特殊作业): reservations and permits for the eight work types of
// GB 30871-2022, every rule of scenario-v1 "Special work" with its AQ 3064.2 code, and the
// linkage with positions (PL-12): approver on site, guardian absent, people not on the permit in
// the work area, work without a permit.
//
// The desk is part of the deterministic engine: it reads no clock; time, positions and people
// come from the engine through PermitWorld, and every decision goes back through it, in a fixed
// order (commands in input order; in a step, permits in the order they were applied for, people
// in id order).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/geometry.h"
#include "engine/inputs.h"
#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

struct Certificate {
  std::string type, number;
  std::int64_t expires_day = 0;  // local day number (days since 1970-01-01); valid through that day
  std::string holder;            // the name printed on it
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
  std::string type;   // scenario-v1 alarm type
  std::string level;  // red, orange, yellow, blue
  std::string code;   // AQ 3064.2 code, "" when the rule has none
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

enum class PermitStatus { applied, signed_, in_progress, paused, accepted, void_, revoked, expired };
const char* to_string(PermitStatus s);
// AQ 3064.2 App. A status code: 0 unsigned, 1 signed, 2 in progress, 3 accepted, 4 void,
// 5 revoked, 6 paused; an expired permit keeps the code it had (-1 never happens).
int aq2_status_code(PermitStatus s);

struct PermitGasEntry {
  Micros t = 0;
  std::string by;
  GasReadings readings;
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
};

class PermitDesk {
 public:
  // people: in the engine's person order (by id)
  PermitDesk(const Site& site, std::vector<PermitPerson> people);
  ~PermitDesk();
  PermitDesk(const PermitDesk&) = delete;
  PermitDesk& operator=(const PermitDesk&) = delete;

  // Applies one command at time t: accepted, or refused through world.refuse with its codes.
  void command(Micros t, const PermitCommand& c, PermitWorld& world);
  // Rules that run with time and positions: expiry (10), daily analysis (04), gas records (05),
  // guardian absent (31), people not on the permit in the work area, work without a permit (60).
  void step(Micros t, PermitWorld& world);

  std::vector<PermitRecord> permits() const;  // in application order

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
