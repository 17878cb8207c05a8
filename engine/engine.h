// The deterministic rules engine for one site (DESIGN.md sections 1 and 3; docs/engine.md,
// docs/architecture.md).
//
// Model and data apart: an Engine is an immutable, shared EngineModel (engine/model.h: site,
// rules, people, cameras) plus a plain EngineState (engine/state.h: everything a run changes).
// The rules are functions of (model, state, time), one file each under engine/rules/. state() and
// restore() copy the state out and in; engine/checkpoint.h saves it to bytes.
//
// Determinism: inputs enter one queue and are applied in (t, seq) order; after all inputs of one
// instant, the rules run once for that instant ("a step"), and steps also run at every multiple
// of rules.evaluate_every when no input arrives. Rules run in a fixed order (zones, fences,
// capacity, stationary, overstay, tags, gathering, acknowledgement), people in id order, zones in
// site order. Alarm ids are sequential. The engine reads no clock, no environment and no random
// source, so the same inputs give the same outputs byte for byte.
//
// Thread-safety: an Engine is not thread-safe; one thread owns it. Several engines may share one
// model across threads. A reference to an alarm from alarms() stays valid while the engine lives
// (later steps append, they never move alarms; only restore() replaces them). outputs() returns a
// reference that the next submit/advance_to/clear_outputs may invalidate: copy what you keep.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alarm.h"
#include "engine/camera_map.h"
#include "engine/inputs.h"
#include "engine/model.h"
#include "engine/permits.h"
#include "engine/site.h"
#include "engine/snapshot.h"
#include "engine/state.h"
#include "engine/time.h"

namespace planttwin {

namespace rules {
struct GatheringScratch;
}

class Engine {
 public:
  explicit Engine(EngineSetup setup);
  explicit Engine(std::shared_ptr<const EngineModel> model);
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
  Micros now() const { return state_.now; }

  const Site& site() const { return *model_->site; }
  const EngineModel& model() const { return *model_; }
  const std::shared_ptr<const EngineModel>& shared_model() const { return model_; }
  const AlarmLog& alarms() const { return state_.alarms; }
  const std::vector<Output>& outputs() const { return state_.outputs; }
  void clear_outputs() { state_.outputs.clear(); }
  const EngineCounters& counters() const { return state_.counters; }
  const EngineStats& stats() const { return state_.stats; }
  // Every reservation and permit, with its status and history (special work).
  std::vector<PermitRecord> permits() const;

  // The whole state, for checkpoints and comparisons.
  const EngineState& state() const { return state_; }
  // Replaces the state (e.g. from a checkpoint of an engine with the same model). Returns false,
  // leaving the engine unchanged, when its sizes do not fit this model (people, zones, indices).
  bool restore(EngineState state, std::string* why = nullptr);
  // Differential tests only (issue 18): the gathering rule runs the reference finder
  // (engine/gathering_reference.h) instead of the incremental one. Same results by contract, so it
  // is not state and not in a checkpoint.
  void use_reference_gathering_finder(bool on);

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
  void apply(const Input& in);
  void step(Micros t, Micros previous);  // previous: the step before (kNever: none)

  std::shared_ptr<const EngineModel> model_;
  EngineState state_;
  std::unique_ptr<rules::GatheringScratch> scratch_;  // not state: buffers reused between steps
};

// A fresh state for a model: everyone without a fix, every zone empty.
EngineState initial_state(const EngineModel& m);

// The canonical alarm stream: one line per alarm event, in output order (docs/hash.md). The
// report's `hash` is the SHA-256 of this text.
std::string canonical_alarm_line(const Alarm& a, const AlarmEvent& e);

}  // namespace planttwin
