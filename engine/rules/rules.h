// Every positioning rule of the engine, one file each (docs/engine.md "Alarms" has the table of
// rule -> file:function). Each rule is a function of (model, state, time): it reads the immutable
// EngineModel, changes the EngineState, and raises or clears alarms through
// engine/alarm_lifecycle.h. engine/engine.cpp applies inputs and calls the rules of a step in the
// documented order; the per-person and per-stay rules are called from one sweep so that alarms
// keep the documented order (people in id order, zones in site order).
//
// Special-work rules: engine/rules/permit_*.cpp, through engine/permits.h.
// Thread-safety: none; the caller owns the state.
#pragma once
#include <vector>

#include "engine/gathering_geometry.h"
#include "engine/gathering_reference.h"
#include "engine/model.h"
#include "engine/state.h"

namespace planttwin::rules {

// ---- zones.cpp: membership, headcounts, schedules (PL-01, PL-04, PL-07) ----
void zone_schedules(const EngineModel& m, EngineState& s, Micros t);
void zone_counts(const EngineModel& m, EngineState& s, Micros t);
// after a fix: leave zones (with hysteresis), enter zones
void update_zones(const EngineModel& m, EngineState& s, int person, Micros t);

// ---- fences.cpp: boundary crossing, stay-inside fences (PL-05) ----
// one person's fences at a step: entry crossings (with escalation), overstay (overstay.cpp),
// stay-inside crossings
void fences(const EngineModel& m, EngineState& s, int person, Micros t);
void stay_inside_left(const EngineModel& m, EngineState& s, int person, const ZoneStay& stay, Micros t);
void stay_inside_reentered(EngineState& s, int person, int zone, Micros t);

// ---- overstay.cpp (PL-06) ----
void overstay(const EngineModel& m, EngineState& s, int person, ZoneStay& stay, Micros t);
void overstay_left(EngineState& s, ZoneStay& stay, Micros t);

// ---- capacity.cpp: over capacity, under-staffing (PL-04) ----
void capacity(const EngineModel& m, EngineState& s, Micros t);

// ---- stationary.cpp: man-down (PL-06) ----
// on a fix, before has_fix is set: a fix beyond the radius starts a new still period
void stationary_on_fix(const EngineModel& m, EngineState& s, int person, Vec2 pos, Micros t);
void stationary(const EngineModel& m, EngineState& s, int person, Micros t);

// ---- sos.cpp (PL-06) ----
void sos(const EngineModel& m, EngineState& s, int person, Micros t);

// ---- tags.cpp: offline, low battery, untagged entry, gate passages (PL-09) ----
void tags_on_fix(EngineState& s, int person, Micros t);
void tag_status(const EngineModel& m, EngineState& s, int person, const TagStatusInput& in, Micros t);
void gate(const EngineModel& m, EngineState& s, const GateInput& in, Micros t);
void tag_offline(const EngineModel& m, EngineState& s, int person, Micros t);
void untagged_entry(const EngineModel& m, EngineState& s, int person, Micros t);

// ---- gathering.cpp (PL-02) ----
// Buffers reused between steps; not state (a copy starts empty).
struct GatheringScratch {
  std::vector<GatheringFinder> finders;  // one per floor; each carries its solved components over
  // differential tests only (issue 18): the reference finder instead, with identical results
  bool use_reference = false;
  std::vector<ReferenceGatheringFinder> reference_finders;
  std::vector<std::vector<GatherPoint>> floor_points;
  std::vector<DiskGroup> groups;
  std::vector<int> track_of;
  std::vector<char> matched;
  std::vector<GatheringTrack> fresh_tracks, kept;
  std::vector<std::pair<int, Micros>> next_members;
  std::vector<std::vector<std::pair<int, Micros>>> spare_members;
  std::vector<std::pair<int, int>> overlap;
};
void gathering(const EngineModel& m, EngineState& s, GatheringScratch& scratch, Micros t);

// ---- acknowledgement.cpp: operator actions, unacknowledged escalation (PL-07, PL-10) ----
void operator_action(EngineState& s, const AlarmAction& act, Micros t);
void acknowledgement(const EngineModel& m, EngineState& s, Micros t);

}  // namespace planttwin::rules
