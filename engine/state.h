// The engine's state (as MuJoCo's mjData): everything a run changes, as plain data — the input
// queue, people, zone memberships and timers, gathering tracks, alarms, the permit desk, pending
// outputs, counters and statistics. Copyable and comparable (operator==, exact: doubles bit for
// bit); it refers to the model (engine/model.h) by index only, never by pointer, so a copy, or a
// state restored from a checkpoint (engine/checkpoint.h), is as good as the original.
//
// Scratch buffers that only make a step fast (the gathering finder's grid, reused vectors) are not
// state: they live in Engine and start empty in a copy.
//
// Thread-safety: plain data; the owner of an engine owns its state.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/alarm.h"
#include "engine/geometry.h"
#include "engine/inputs.h"
#include "engine/permits.h"
#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

constexpr Micros kNever = std::numeric_limits<Micros>::max();

// ---- outputs, in the order they were decided --------------------------------------------------

struct AlarmOutput {
  int alarm = -1;  // index into Engine::alarms()
  int event = -1;  // index into that alarm's events
  bool operator==(const AlarmOutput&) const = default;
};
struct WarnOutput {
  std::string tag, alarm_id, reason;
  bool operator==(const WarnOutput&) const = default;
};
struct ZoneCountOutput {
  int zone = -1;
  int count = 0;
  std::array<int, kCategoryCount> by_category{};
  bool operator==(const ZoneCountOutput&) const = default;
};
struct GatheringOutput {
  std::string alarm_id;
  AlarmLevel level = AlarmLevel::none;
  std::vector<std::string> members;
  Vec2 center;
  std::string floor;
  double radius = 0;
  bool operator==(const GatheringOutput&) const = default;
};
struct RefusalOutput {
  std::string permit, action;
  std::vector<std::string> codes;
  bool operator==(const RefusalOutput&) const = default;
};
// An alarm was raised where cameras see it (PL-13): call up their feeds. Follows the alarm's
// `raised` output; not emitted when no camera sees the spot.
struct CameraCallOutput {
  std::string alarm_id;
  std::vector<std::string> cameras;  // camera ids, site order
  bool operator==(const CameraCallOutput&) const = default;
};
// A person entered a zone (statistics: entries by zone, category and day).
struct EntryOutput {
  int zone = -1;
  int person = -1;  // index, people in id order
  Category category = Category::employee;
  bool operator==(const EntryOutput&) const = default;
};
// A reservation's or permit's new status (scenario-v1 status names).
struct StatusOutput {
  std::string id, status;
  bool operator==(const StatusOutput&) const = default;
};
struct Output {
  Micros t = 0;
  std::variant<AlarmOutput, WarnOutput, ZoneCountOutput, GatheringOutput, RefusalOutput, StatusOutput, EntryOutput,
               CameraCallOutput>
      body;
  bool operator==(const Output&) const = default;
};

// Soft anomalies: counted, never fatal; the step completes.
struct EngineCounters {
  std::uint64_t inputs = 0, fixes = 0, steps = 0;
  std::uint64_t late_inputs = 0;       // submitted with t earlier than the engine's time: applied now
  std::uint64_t unknown_tag = 0;       // fix/sos/status for a tag index not in the setup
  std::uint64_t unmatched_actions = 0; // ack/handle/close that matched no alarm, or a close refused
  std::uint64_t permit_commands = 0;   // special-work commands applied (accepted or refused)
  std::uint64_t invalid_fixes = 0;     // fixes with a coordinate that is not finite: not applied
  bool operator==(const EngineCounters&) const = default;
};

// Counts for statistics (PL-07): entries into each zone and through the gate, by category.
struct EngineStats {
  std::vector<std::array<int, kCategoryCount>> zone_entries;   // per zone: enter events
  std::vector<std::array<int, kCategoryCount>> zone_visitors;  // per zone: distinct people
  std::array<int, kCategoryCount> gate_entries{};              // `gate: in` events
  bool operator==(const EngineStats&) const = default;
};

// ---- the state proper -----------------------------------------------------------------------

// Inputs not yet applied, in (t, seq) order once sorted. Only pending[head..] is state; what came
// before was applied and is kept only until the buffer is compacted.
struct InputQueue {
  std::vector<Input> pending;
  std::size_t head = 0;
  bool unsorted = false;
  std::uint64_t next_seq = 1;
  bool operator==(const InputQueue& o) const;
};

// One person's stay in one zone.
struct ZoneStay {
  int zone = -1;
  Micros entered = 0;
  bool authorized = true;  // on the zone's authorisation list (or the zone has none)
  int crossing = -1;       // boundary_crossing alarm while inside without authorisation
  int overstay = -1;
  bool operator==(const ZoneStay&) const = default;
};

struct PersonState {
  bool has_fix = false;
  Micros last_fix = 0;
  Micros report_interval = 0;  // between the last two fixes; 0 until known
  Vec2 pos;
  double z = 0;
  int floor = -1;
  std::vector<ZoneStay> zones;  // ascending zone index
  // stationary: every fix since still_since lies within the radius of still_anchor
  Vec2 still_anchor;
  Micros still_since = 0;
  int stationary_alarm = -1;
  int offline_alarm = -1;
  double battery = 1;
  int battery_alarm = -1;
  bool on_site = true;
  std::optional<Micros> gate_in_at;
  bool fix_since_gate = true;
  int untagged_alarm = -1;
  std::vector<std::pair<int, int>> left_stay_inside;  // (zone, boundary_crossing alarm)
  std::vector<int> visited;  // zones entered at least once, ascending (statistics)
  bool operator==(const PersonState&) const = default;
};

struct ZoneState {
  int count = 0;
  std::array<int, kCategoryCount> by_category{};
  int emitted_count = 0;
  std::array<int, kCategoryCount> emitted_by_category{};
  bool active = true;
  Micros over_since = kNever;
  int capacity_alarm = -1;
  int staffing_alarm = -1;
  bool operator==(const ZoneState&) const = default;
};

// A gathering being watched: a candidate until it reaches a tier, then an alarm.
struct GatheringTrack {
  int floor = -1;
  std::vector<std::pair<int, Micros>> members;  // (person, since), ascending person
  Vec2 center;
  int alarm = -1;
  bool broken = false;
  Micros broken_since = 0;
  std::vector<int> warned;  // people already warned for this alarm, ascending
  bool operator==(const GatheringTrack&) const = default;
};

// Alarms waiting to be acknowledged (PL-10), in raise order; only watch[head..] is state.
struct AckWatch {
  std::vector<int> watch;
  std::size_t head = 0;
  std::vector<int> unack_of;  // alarm index -> its unacknowledged alarm, or -1
  bool operator==(const AckWatch& o) const;
};

struct EngineState {
  Micros now = 0;
  bool started = false;
  InputQueue queue;
  std::vector<PersonState> people;  // model order (ascending id)
  std::vector<ZoneState> zones;     // site order
  std::uint64_t alarm_seq = 0;
  AlarmLog alarms;                  // raise order; index = handle; references stay valid (alarm.h)
  AckWatch ack;
  std::vector<GatheringTrack> gatherings;
  PermitDeskState desk;
  std::vector<Output> outputs;      // decided, not yet drained by the caller
  EngineCounters counters;
  EngineStats stats;
  bool operator==(const EngineState&) const = default;
};

}  // namespace planttwin
