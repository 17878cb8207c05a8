// The engine's model (as MuJoCo's mjModel): everything that is constant for a run — the site with
// its rules and calendar, the people and their tags, duty shifts, the camera map — plus the look-ups
// derived from them (id -> index tables, the zone grid). Built once from an EngineSetup, then shared
// `const` by any number of engines (a run and its oracle twin, a viewer's checkpoints). The state
// (engine/state.h) refers to it by index only, so a copied state stays valid.
//
// Thread-safety: immutable after build(); safe to read from any thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/camera_map.h"
#include "engine/permits.h"
#include "engine/site.h"
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

// Zones whose bounding box touches each cell of a uniform grid (about 25 m cells).
struct ZoneGrid {
  double cell = 25;
  Box2 box;
  int w = 0, h = 0;
  std::vector<std::vector<int>> cells;
  const std::vector<int>& at(Vec2 p) const {  // call only when !cells.empty()
    // clamped before the conversion: a position far outside the grid (a vendor may send 1e36 m)
    // must not convert an out-of-range double to int, which is undefined (fuzz_live_wire)
    const int cx = static_cast<int>(std::clamp((p.x - box.min.x) / cell, 0.0, static_cast<double>(w - 1)));
    const int cy = static_cast<int>(std::clamp((p.y - box.min.y) / cell, 0.0, static_cast<double>(h - 1)));
    return cells[static_cast<size_t>(cy) * static_cast<size_t>(w) + static_cast<size_t>(cx)];
  }
};

struct EngineModel {
  std::shared_ptr<const Site> site;
  WallClock clock;
  std::vector<PersonSetup> people;  // ascending id: the order every rule visits people in
  std::vector<DutyAssignment> duty;
  std::shared_ptr<const CameraVisibility> cameras;  // may be null

  // derived
  std::vector<std::string> floor_ids;
  std::vector<std::string> tags;        // tag index -> tag id
  std::vector<int> tag_person;          // tag index -> person
  std::vector<int> person_tag;          // person -> tag index, -1 untagged
  std::unordered_map<std::string, int> tag_ids, person_ids, floor_index, zone_index;
  std::vector<std::vector<int>> zone_floors;  // per zone: floor indices; empty: every floor
  ZoneGrid grid;
  PermitDeskModel desk;
  // A fingerprint of what decides the engine's behaviour (site, rules, calendar, clock, people,
  // duty), so that a checkpoint is not restored into another scenario's engine.
  std::uint64_t fingerprint = 0;

  static std::shared_ptr<const EngineModel> build(EngineSetup setup);

  const Rules& rules() const { return site->rules; }
  int person_count() const { return static_cast<int>(people.size()); }
  int lookup_floor(std::string_view id) const;   // -1 when unknown
  std::string floor_name(int f) const;           // "" when out of range
  // the floor from height when a fix carries none: a building's storey inside its footprint, else
  // an outdoor band
  int floor_from_z(Vec2 p, double z) const;
  int zone_floor(int z) const;                   // a zone's first floor, -1 for every floor
  std::string zone_at(Vec2 p, int floor) const;  // the first zone (site order) containing p on floor
  std::string duty_at(Micros t) const;           // the person on duty at t, "" nobody
  std::vector<std::string> cameras_at(std::string_view floor, Vec2 p) const;
  // on the zone's authorisation list (people, categories, roles), or the zone has none
  static bool is_authorized(const PersonSetup& p, const Authorization& a);
};

}  // namespace planttwin
