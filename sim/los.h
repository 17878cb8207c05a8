// Line of sight through the plant's 3D model, as the radio model needs it. The Bullet model
// (sim/plant) implements it; the radio model and its tests only see this interface.
#pragma once
#include <string>
#include <vector>

namespace planttwin {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

// One solid the straight path passes through.
struct Crossing {
  int material = 0;      // index into LineOfSight::materials()
  double length_m = 0;   // length of the path inside the solid (e.g. a wall's thickness along the ray)
};

class LineOfSight {
 public:
  virtual ~LineOfSight() = default;
  // Material names (site-v1: concrete, steel, brick, glass, wood, and any the site names).
  virtual const std::vector<std::string>& materials() const = 0;
  // Every solid the segment a -> b passes through, in order from a; empty when in line of sight.
  // `out` is cleared first. Safe to call from several threads at once.
  virtual void trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out) const = 0;
};

}  // namespace planttwin
