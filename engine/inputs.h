// Everything that changes the engine enters as a stamped input through one ordered queue
// (DESIGN.md section 3). Inputs are applied in (t, seq) order; seq is the submission order.
//
// Thread-safety: plain values; an Input is moved into one engine. Held commands are shared const.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/geometry.h"
#include "engine/time.h"
#include "engine/vocabulary.h"

namespace planttwin {

// A position fix from the positioning system (or the truth driver). Tag and floor are indices
// resolved by the source (Engine::tag_index, Engine::floor_index), so the hot path never hashes
// strings.
struct FixInput {
  int tag = -1;
  double x = 0, y = 0, z = 0;  // metres, site frame
  int floor = -1;              // floor index; -1: derive from z
  bool operator==(const FixInput&) const = default;
};

struct SosInput {
  int tag = -1;
  bool operator==(const SosInput&) const = default;
};

struct TagStatusInput {
  int tag = -1;
  std::optional<double> battery;  // 0..1
  std::optional<bool> online;
  bool operator==(const TagStatusInput&) const = default;
};

struct GateInput {
  int person = -1;
  bool in = true;
  std::string gate_id;
  bool operator==(const GateInput&) const = default;
};

// A duty operator's action on an alarm: by id (live `ack`), or on the oldest matching open alarm
// (scenario `alarm` action).
struct AlarmAction {
  enum class Kind { ack, handle, close };
  Kind kind = Kind::ack;
  std::optional<std::string> alarm_id;
  std::optional<AlarmType> type;
  std::optional<std::string> who;  // a person id the alarm must name
  std::string by;
  std::string note;
  bool operator==(const AlarmAction&) const = default;
};

struct GasReadings {
  std::optional<double> flammable_volpct, gas_lel_pct, o2_volpct;
  std::map<std::string, double> toxic;  // substance -> ppm
  bool operator==(const GasReadings&) const = default;
};

// A special-work command (scenario-v1 "Special work"). Times are engine times (relative to the
// scenario's start; absolute date-times are converted by the loader).
struct PermitCommand {
  std::string action;  // reserve, approve_reservation, ..., void
  std::string id;
  std::string by;
  std::string reservation;
  std::string type;
  std::string grade;  // "" when none given
  std::vector<Vec2> area;
  std::string floor;
  std::vector<std::string> workers;
  std::string guardian;
  std::string approver;
  std::vector<std::string> linked;
  std::optional<Micros> from, to;
  bool urgent = false;
  std::optional<double> load_t, height_m;
  std::vector<std::string> hazard_factors;
  std::string blind;  // insert, remove, both, or ""
  GasReadings readings;
  std::vector<std::string> signed_by;
  std::string note;
  bool operator==(const PermitCommand&) const = default;
};

struct Input {
  Micros t = 0;
  std::uint64_t seq = 0;  // assigned by Engine::submit
  // Rare, large inputs are held by pointer so that the queue stays small for fixes.
  std::variant<FixInput, SosInput, TagStatusInput, GateInput, std::shared_ptr<const AlarmAction>,
               std::shared_ptr<const PermitCommand>>
      body;
  // Equal inputs: same time, sequence and content (held commands compared by value, not address).
  bool operator==(const Input& o) const;
};

// One call that changes an engine, as a log entry: submit(*input), or advance_to(t) when there is
// no input. A second engine set up the same way and given the same calls in the same order is in
// the same state (H-01); the viewer follows a live session so.
struct EngineCall {
  Micros t = 0;
  std::optional<Input> input;
};

}  // namespace planttwin
