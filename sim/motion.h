// Ground truth for truth-mode runs: people move by the script (straight lines and polylines at a
// given speed, or jumps), and tags are sampled at fix instants. Seeded Gaussian noise can be added
// to the reported fixes (positioning: {mode: truth, noise_sigma}).
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/geometry.h"
#include "engine/time.h"

namespace planttwin {

class ByteWriter;
class ByteReader;

struct TruthPose {
  Vec2 p;
  double z = 0;  // metres: the tag's height
  std::string floor;
};

struct MotionPersonDef {
  Vec2 at;
  std::optional<double> z;  // absent: floor surface + tag_height
  std::string floor;
  double floor_surface = 0;  // metres
};

// Piecewise-linear motion of every person. Commands must come in time order.
class Motion {
 public:
  static constexpr double kTagHeight = 1.2;  // metres above the floor surface: a tag worn on the chest

  explicit Motion(std::vector<MotionPersonDef> people);
  // walk the polyline from the current position at speed (m/s), starting at t
  void walk(int person, Micros t, const std::vector<Vec2>& path, double speed_mps,
            const std::optional<std::string>& floor, double floor_surface, std::optional<double> z);
  // appear at p at once
  void place(int person, Micros t, Vec2 p, const std::optional<std::string>& floor, double floor_surface,
             std::optional<double> z);
  TruthPose pose(int person, Micros t) const;
  int size() const { return static_cast<int>(people_.size()); }

 private:
  struct Leg {
    Micros t0 = 0, t1 = 0;  // start and arrival
    Vec2 a, b;
  };
  struct State {
    std::vector<Leg> legs;  // the current plan; before legs.front().t0 the person stands at legs' start
    Vec2 rest;              // where the person stands when no plan is running
    double z = 0;
    std::string floor;
  };
  Vec2 position(const State& s, Micros t) const;
  std::vector<State> people_;
};

// Seeded Gaussian generator with a portable algorithm (mt19937_64 and Box-Muller written out), so
// that the same seed gives the same numbers with any standard library.
class GaussianStream {
 public:
  explicit GaussianStream(std::uint64_t seed) : rng_(seed) {}
  double next();  // N(0, 1)
  double uniform();  // [0, 1)

  // Checkpoints: the generator's state (the standard text form of mt19937_64, as a string) and
  // the pending Box-Muller spare. load() returns false, with r.fail(), on bad input and then
  // leaves the stream unchanged; a loaded stream continues with the same numbers as the saved one.
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);

 private:
  std::mt19937_64 rng_;
  bool have_spare_ = false;
  double spare_ = 0;
};

// Stream seeds per subsystem, derived from the scenario's seed (SplitMix64), so that adding a
// stream never shifts another.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream_id);

}  // namespace planttwin
