// Shared by the radio tests: an analytic line of sight (axis-aligned boxes) so that they do not
// depend on the Bullet model, and a small open site.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "engine/site.h"
#include "sim/los.h"

namespace planttwin::radio_fixtures {

// Axis-aligned boxes, each of one material; trace() by slab clipping; shapes() for the first-path
// search (each box a prism).
class BoxesLos final : public LineOfSight {
 public:
  struct Box {
    Vec3 lo, hi;
    int material;
  };
  explicit BoxesLos(std::vector<std::string> mats) : mats_(std::move(mats)) {}
  void add(Vec3 lo, Vec3 hi, const std::string& mat) {
    const int m = static_cast<int>(std::find(mats_.begin(), mats_.end(), mat) - mats_.begin());
    boxes_.push_back({lo, hi, m});
    shapes_.push_back({{{lo.x, lo.y}, {hi.x, lo.y}, {hi.x, hi.y}, {lo.x, hi.y}}, lo.z, hi.z, m});
  }
  const std::vector<SolidShape>& shapes() const override { return shapes_; }
  const std::vector<std::string>& materials() const override { return mats_; }
  void trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out) const override {
    out.clear();
    const double d[3] = {b.x - a.x, b.y - a.y, b.z - a.z}, o[3] = {a.x, a.y, a.z};
    const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (size_t k = 0; k < boxes_.size(); ++k) {
      const Box& bx = boxes_[k];
      const double lo[3] = {bx.lo.x, bx.lo.y, bx.lo.z}, hi[3] = {bx.hi.x, bx.hi.y, bx.hi.z};
      double t0 = 0, t1 = 1;
      bool hit = true;
      for (int i = 0; i < 3 && hit; ++i) {
        if (std::abs(d[i]) < 1e-12) {
          hit = o[i] >= lo[i] && o[i] <= hi[i];
          continue;
        }
        double ta = (lo[i] - o[i]) / d[i], tb = (hi[i] - o[i]) / d[i];
        if (ta > tb) std::swap(ta, tb);
        t0 = std::max(t0, ta);
        t1 = std::min(t1, tb);
        hit = t0 < t1;
      }
      if (hit) out.push_back({bx.material, (t1 - t0) * len, static_cast<int>(k)});
    }
  }

 private:
  std::vector<std::string> mats_;
  std::vector<Box> boxes_;
  std::vector<SolidShape> shapes_;
};

inline const std::vector<std::string> kMats = {"concrete", "steel", "brick", "glass", "wood", "metal", "plastic", "cardboard", "foam"};

inline Site square_site() {
  Site s;
  s.anchors.push_back({"A1", {0, 0, 5}});
  s.anchors.push_back({"A2", {30, 0, 5}});
  s.anchors.push_back({"A3", {30, 30, 5}});
  s.anchors.push_back({"A4", {0, 30, 5}});
  s.anchors.push_back({"A5", {15, 15, 5}});
  return s;
}

}  // namespace planttwin::radio_fixtures
