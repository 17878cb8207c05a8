// First paths from the plant's geometry (H-02, issue 20; docs/radio.md "First paths"). For a link
// whose straight path crosses solids, the candidate paths a blink can take:
//
//  - the straight path, when every solid it crosses is penetrable: late by (sqrt(eps) - 1) x the
//    length inside each solid, weaker by each material's loss;
//  - diffraction around the opaque solids that block it: over their tops and under their bottoms
//    (in the vertical plane of the link) and around their vertical edges (in plan), as the taut
//    string around the blockers' convex outline, each bend a knife edge with the ITU-R P.526
//    loss J(v), v = 2 sqrt(excess / wavelength), cascaded per solid (Epstein-Peterson); a detour
//    that runs into another opaque solid is retried around both (PathParams::max_rounds);
//  - first-order specular reflections off the vertical faces of solids (image method), searched
//    only when no earlier path is heard for sure, and only up to that path's length.
//
// Each path's legs are traced through the BVH (PlantModel::trace): penetrable solids on a leg add
// their delay and loss, an opaque one rules the leg out. A reflection's leg that certainly passes
// through one of the straight path's opaque blockers (certainly_through) is ruled out untraced.
// Per anchor the reflectors it can see are cached when the finder is built (the plant does not
// move). Results are a pure function of the
// geometry, the tag's position and the anchor: no state changes after construction, so any number
// of threads may call find() at once and the result never depends on the thread.
#pragma once
#include <array>
#include <span>
#include <utility>
#include <vector>

#include "sim/los.h"
#include "sim/radio/radio.h"

namespace planttwin {

// A solid that is its prism (SolidShape::exact), ready for certainly_through(): its faces' inner
// unit normals and offsets in plan, its box. Not exact: nothing is certain.
struct Prism {
  explicit Prism(const SolidShape& sh);
  bool exact = false;
  double z0 = 0, z1 = 0;
  std::array<double, 2> lo{}, hi{};
  std::vector<std::array<double, 3>> planes;  // per hull edge: nx, ny, c (inside: nx x + ny y >= c)
};

class FirstPathFinder {
 public:
  FirstPathFinder(const LineOfSight& los, const RadioChannel& channel);

  // The link tag -> anchor given its straight path's crossings (los.trace(tag, anchor_at(anchor))).
  // Line of sight: exactly RadioChannel::geometry (the straight path alone).
  LinkGeometry find(const Vec3& tag, int anchor, std::span<const Crossing> direct) const;

  // The same search for any two points (tests, benchmarks): the candidate paths, earliest first.
  LinkGeometry find_between(const Vec3& a, const Vec3& b, std::span<const Crossing> direct, int anchor = -1) const;

  // A vertical face that can reflect.
  struct Face {
    std::array<double, 2> p0, p1, n;  // ends in plan, outward unit normal
    double width = 0, z0 = 0, z1 = 0;
    int solid = 0, material = 0;
  };
  const std::vector<Face>& faces() const { return faces_; }
  // Number of traces find() made so far is not kept (find is const and lock-free).

 private:
  const LineOfSight& los_;
  const RadioChannel& ch_;
  std::vector<Face> faces_;
  // per anchor: faces within reach that face it, with their distance in plan, nearest first
  std::vector<std::vector<std::pair<double, int>>> anchor_faces_;
  std::vector<std::vector<std::array<double, 2>>> sorted_hulls_;  // per solid: its outline's corners, sorted
  std::vector<Prism> prisms_;                                     // per solid (certainly_through)
  double reach_m_ = 0;
};

// Whether the segment p -> q certainly passes through the solid of `sh` (only when sh.exact: the
// solid is its prism): it runs at least 2 x margin inside it, and enters or leaves it from an end
// at least `margin` outside the face it crosses, at a point at least `margin` from that face's
// edges. Then the plant model's trace() reports the solid (FirstPath differential test); a
// segment wholly inside crosses no face and is not certain.
bool certainly_through(const SolidShape& sh, const Vec3& p, const Vec3& q, double margin);
bool certainly_through(const Prism& pr, const Vec3& p, const Vec3& q, double margin);
// The margin find_between takes for a link a -> b: 1 cm, plus 2e-6 of the largest coordinate (the
// single-precision face test's rounding grows with the distance from the origin).
double certainty_margin(const Vec3& a, const Vec3& b);

// ITU-R P.526 knife-edge loss J(v), dB (0 for v <= -0.78).
double knife_edge_loss_db(double v);

}  // namespace planttwin
