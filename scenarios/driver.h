// The truth side of every run: plays a scenario's script (motion, SOS, tags, gate, permits, alarm
// actions) and gives each person's true pose at any time. The headless runner, the simulated
// positioning pipeline, `live --with-script` and drills all drive the engine through it, so a
// script means the same thing everywhere.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "scenarios/scenario.h"
#include "sim/motion.h"

namespace planttwin {

class ScriptDriver {
 public:
  // `engine` is used for index look-ups only (tags, people, floors); it must outlive the driver.
  ScriptDriver(const Scenario& sc, const Engine& engine);

  // Plays every not-yet-played script action with t <= until, in time order (file order on ties):
  // motion commands change the truth, the others become engine inputs handed to `sink` (with the
  // action's time and seq 0). Call with non-decreasing `until`.
  void play_until(Micros until, const std::function<void(Input)>& sink);
  // Plays every action left, whatever its time.
  void play_all(const std::function<void(Input)>& sink);
  // Time of the next action not yet played.
  std::optional<Micros> next_action() const;

  TruthPose pose(int person, Micros t) const { return motion_.pose(person, t); }
  // The fix a perfect positioning system would give for the person at that pose (tag, x, y, z,
  // floor index).
  FixInput true_fix(int person, const TruthPose& pose) const;
  // People in id order: the order fixes are emitted in (a stable, documented order).
  const std::vector<int>& fix_order() const { return order_; }
  // The engine's tag index of a person, -1 when untagged.
  int tag_index(int person) const { return tag_idx_[static_cast<size_t>(person)]; }
  // false after the script switched the person's tag off (tag_off), until tag_on.
  bool tag_on(int person) const { return tag_on_[static_cast<size_t>(person)] != 0; }
  int person_count() const { return static_cast<int>(sc_.people.size()); }
  const Scenario& scenario() const { return sc_; }

  // Everything play_until changes (the script position, tags on or off, the motion plans), as a
  // plain copy: restore() it into a driver of the same scenario and engine model to continue
  // exactly from there (the viewer's checkpoints).
  struct Progress {
    Motion motion{std::vector<MotionPersonDef>{}};
    std::vector<char> tag_on;
    size_t next = 0;
  };
  Progress progress() const { return {motion_, tag_on_, next_}; }
  // How many script actions were played.
  size_t played() const { return next_; }
  void restore(Progress p) {
    motion_ = std::move(p.motion);
    tag_on_ = std::move(p.tag_on);
    next_ = p.next;
  }

 private:
  void play(const ScriptAction& a, const std::function<void(Input)>& sink);
  const Scenario& sc_;
  const Engine& engine_;
  Motion motion_;
  std::vector<int> order_;
  std::map<std::string, int> person_of_;
  std::vector<char> tag_on_;
  std::vector<int> tag_idx_;
  std::vector<size_t> script_;  // script indices in time order
  size_t next_ = 0;
};

// The floor's walking surface (metres): where a person placed on it stands.
double floor_surface(const Site& site, const std::string& floor);

}  // namespace planttwin
