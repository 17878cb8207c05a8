// The deterministic rules engine for one site (DESIGN.md sections 1 and 3).
//
// Determinism: inputs enter one queue and are applied in (t, seq) order; after all inputs of one
// instant, the rules run once for that instant ("a step"), and steps also run at every multiple
// of rules.evaluate_every when no input arrives. Rules run in a fixed order (zones, fences,
// capacity, stationary, overstay, tags, gathering, acknowledgement), people in id order, zones in
// site order. Alarm ids are sequential. The engine reads no clock, no environment and no random
// source, so the same inputs give the same outputs byte for byte.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/alarm.h"
#include "engine/camera_map.h"
#include "engine/gathering_geometry.h"
#include "engine/inputs.h"
#include "engine/permits.h"
#include "engine/site.h"
#include "engine/snapshot.h"
#include "engine/time.h"

namespace planttwin {

struct PersonSetup {
  std::string id, name;
  Category category = Category::employee;
  std::vector<std::string> roles;
  std::string company;
  std::string tag;  // "" when the person carries no tag
  std::vector<Certificate> certificates;
};

struct DutyAssignment {
  std::string person;
  Micros from = 0, to = 0;  // [from, to]
};

struct EngineSetup {
  std::shared_ptr<const Site> site;  // rules and calendar already merged with the scenario's
  WallClock clock;
  std::vector<PersonSetup> people;
  std::vector<DutyAssignment> duty;
  // Which cameras see which spot (PL-13), computed from the 3D model by the simulator (sim/plant)
  // when the site loads. None: alarms name no cameras.
  std::shared_ptr<const CameraVisibility> cameras;
};

// Outputs, in the order they were decided.
struct AlarmOutput {
  int alarm = -1;  // index into Engine::alarms()
  int event = -1;  // index into that alarm's events
};
struct WarnOutput {
  std::string tag, alarm_id, reason;
};
struct ZoneCountOutput {
  int zone = -1;
  int count = 0;
  std::array<int, kCategoryCount> by_category{};
};
struct GatheringOutput {
  std::string alarm_id, level;
  std::vector<std::string> members;
  Vec2 center;
  std::string floor;
  double radius = 0;
};
struct RefusalOutput {
  std::string permit, action;
  std::vector<std::string> codes;
};
// An alarm was raised where cameras see it (PL-13): call up their feeds. Follows the alarm's
// `raised` output; not emitted when no camera sees the spot.
struct CameraCallOutput {
  std::string alarm_id;
  std::vector<std::string> cameras;  // camera ids, site order
};
// A person entered a zone (statistics: entries by zone, category and day).
struct EntryOutput {
  int zone = -1;
  int person = -1;  // index, people in id order
  Category category = Category::employee;
};
// A reservation's or permit's new status (scenario-v1 status names).
struct StatusOutput {
  std::string id, status;
};
struct Output {
  Micros t = 0;
  std::variant<AlarmOutput, WarnOutput, ZoneCountOutput, GatheringOutput, RefusalOutput, StatusOutput, EntryOutput,
               CameraCallOutput>
      body;
};

// Soft anomalies: counted, never fatal; the step completes.
struct EngineCounters {
  std::uint64_t inputs = 0, fixes = 0, steps = 0;
  std::uint64_t late_inputs = 0;       // submitted with t earlier than the engine's time: applied now
  std::uint64_t unknown_tag = 0;       // fix/sos/status for a tag index not in the setup
  std::uint64_t unmatched_actions = 0; // ack/handle/close that matched no alarm, or a close refused
  std::uint64_t permit_commands = 0;   // special-work commands applied (accepted or refused)
};

// Counts for statistics (PL-07): entries into each zone and through the gate, by category.
struct EngineStats {
  std::vector<std::array<int, kCategoryCount>> zone_entries;   // per zone: enter events
  std::vector<std::array<int, kCategoryCount>> zone_visitors;  // per zone: distinct people
  std::array<int, kCategoryCount> gate_entries{};              // `gate: in` events
};

class Engine {
 public:
  explicit Engine(EngineSetup setup);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Index look-ups for sources (-1 when unknown).
  int tag_index(std::string_view tag) const;
  int person_index(std::string_view id) const;
  int floor_index(std::string_view floor_id) const;
  int zone_index(std::string_view zone_id) const;

  // Queues an input; it is applied when the engine advances past its time.
  void submit(Input in);
  // Applies every queued input with t <= until and runs every step due up to `until`.
  void advance_to(Micros until);
  Micros now() const { return now_; }

  const Site& site() const { return *site_; }
  const std::vector<Alarm>& alarms() const { return alarms_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  void clear_outputs() { outputs_.clear(); }
  const EngineCounters& counters() const { return counters_; }
  const EngineStats& stats() const { return stats_; }
  // Every reservation and permit, with its status and history (special work).
  std::vector<PermitRecord> permits() const;

  // Current state, for snapshots and expectations.
  int zone_count(int zone) const;
  std::array<int, kCategoryCount> zone_count_by_category(int zone) const;
  bool zone_active(int zone) const;
  struct PersonView {
    std::string id;
    bool has_fix = false;
    Vec2 pos;
    std::string floor;
    Micros last_fix = 0;
    double battery = 1;
  };
  PersonView person(int index) const;
  int person_count() const;
  // Everything a viewer shows, copied out (engine/snapshot.h).
  Snapshot snapshot() const;
  // Camera ids (site order) that see `p` on `floor`; empty without camera visibility.
  std::vector<std::string> cameras_at(std::string_view floor, Vec2 p) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<const Site> site_;
  Micros now_ = 0;
  bool started_ = false;
  std::vector<Alarm> alarms_;
  std::vector<Output> outputs_;
  EngineCounters counters_;
  EngineStats stats_;
};

// The canonical alarm stream: one line per alarm event, in output order (docs/hash.md). The
// report's `hash` is the SHA-256 of this text.
std::string canonical_alarm_line(const Alarm& a, const AlarmEvent& e);

}  // namespace planttwin
