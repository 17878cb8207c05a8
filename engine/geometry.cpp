#include "engine/geometry.h"

#include <algorithm>
#include <cmath>

namespace planttwin {

double dist(Vec2 a, Vec2 b) { return std::sqrt(dist2(a, b)); }

void Box2::add(Vec2 p) {
  min.x = std::min(min.x, p.x);
  min.y = std::min(min.y, p.y);
  max.x = std::max(max.x, p.x);
  max.y = std::max(max.y, p.y);
}

void Polygon::finalize() {
  box = Box2{};
  for (const Vec2& p : pts) box.add(p);
}

namespace {
double seg_dist2(Vec2 p, Vec2 a, Vec2 b) {
  const Vec2 ab = b - a, ap = p - a;
  const double l2 = dot(ab, ab);
  double u = l2 > 0 ? dot(ap, ab) / l2 : 0;
  u = std::clamp(u, 0.0, 1.0);
  const Vec2 q{a.x + u * ab.x, a.y + u * ab.y};
  return dist2(p, q);
}
constexpr double kEdgeEps = 1e-9;  // metres: a point this close to the outline is on it
}  // namespace

bool Polygon::contains(Vec2 p) const {
  if (!box.contains(p, kEdgeEps)) return false;
  const size_t n = pts.size();
  bool in = false;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Vec2 a = pts[i], b = pts[j];
    // on the edge: inside (zones count a person inside from the polygon's edge)
    if (seg_dist2(p, a, b) <= kEdgeEps * kEdgeEps) return true;
    if ((a.y > p.y) != (b.y > p.y)) {
      const double xi = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < xi) in = !in;
    }
  }
  return in;
}

double Polygon::distance_to_edge(Vec2 p) const {
  double best = 1e300;
  const size_t n = pts.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) best = std::min(best, seg_dist2(p, pts[i], pts[j]));
  return std::sqrt(best);
}

double Polygon::area() const {
  double a = 0;
  const size_t n = pts.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) a += pts[j].x * pts[i].y - pts[i].x * pts[j].y;
  return std::fabs(a) / 2;
}

Vec2 Polygon::centroid() const {
  double a = 0, cx = 0, cy = 0;
  const size_t n = pts.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const double c = pts[j].x * pts[i].y - pts[i].x * pts[j].y;
    a += c;
    cx += (pts[j].x + pts[i].x) * c;
    cy += (pts[j].y + pts[i].y) * c;
  }
  if (std::fabs(a) < 1e-12) {
    Vec2 s;
    for (const Vec2& q : pts) s = s + q;
    return n ? Vec2{s.x / static_cast<double>(n), s.y / static_cast<double>(n)} : Vec2{};
  }
  return {cx / (3 * a), cy / (3 * a)};
}

}  // namespace planttwin
