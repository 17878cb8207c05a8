// Line of sight through the plant's 3D model, as the radio model needs it. The Bullet model
// (sim/plant) implements it; the radio model and its tests only see this interface.
#pragma once
#include <array>
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
  int solid = -1;        // index into LineOfSight::shapes(); -1 when the model has no shapes
};

// A solid as the first-path search sees it (sim/radio/first_path.h): a vertical prism, its
// footprint the convex hull of the solid's vertices (counter-clockwise), between two heights.
// Every solid of the plant model is such a prism (wall panels, slabs, boxes, tanks as polygons).
struct SolidShape {
  std::vector<std::array<double, 2>> hull;  // counter-clockwise, metres
  double z0 = 0, z1 = 0;
  int material = 0;  // index into LineOfSight::materials()
  // The solid is exactly this prism (a box, a tank, a wall panel, a slab over a convex outline),
  // not only inside it (a model's mesh, a slab over a concave outline): a path through the prism
  // is a path through the solid.
  bool exact = false;
};

class LineOfSight {
 public:
  virtual ~LineOfSight() = default;
  // Material names (site-v1: concrete, steel, brick, glass, wood, and any the site names).
  virtual const std::vector<std::string>& materials() const = 0;
  // Every solid the segment a -> b passes through, in order from a; empty when in line of sight.
  // `out` is cleared first. Safe to call from several threads at once.
  virtual void trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out) const = 0;
  // The solids as prisms, indexed by Crossing::solid. Empty when the model cannot say (then the
  // radio model knows only the straight path: no diffraction, no reflections).
  virtual const std::vector<SolidShape>& shapes() const {
    static const std::vector<SolidShape> none;
    return none;
  }
};

}  // namespace planttwin
