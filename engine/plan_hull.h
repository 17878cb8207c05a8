// Plan-view convex hulls of many points (a mesh obstacle's outline, a solid's prism): the points
// that cannot be on the hull are dropped before the hull's sort (Akl-Toussaint). Pure geometry, no
// state; used by the model loader (scenarios/mesh) and the plant model (sim/plant).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace planttwin {

using PlanPoint = std::array<double, 2>;

// Drops the points strictly inside the polygon of the set's extreme points in eight directions
// (least and greatest x, y, x + y, x - y), by a margin far above rounding (1e-9 of the set's
// extent, at least 1e-9 m). None of them can be a vertex of the set's convex hull or lie on its
// boundary, so a monotone chain over what is left gives the same hull, vertex for vertex; the
// sort before it then orders the rim only (a process unit's model: 60,000 points, a few thousand
// on the rim). Order of the points left: as given. Fewer than 64 points: left alone.
inline void drop_interior_points(std::vector<PlanPoint>& p) {
  if (p.size() < 64) return;
  // support points, counter-clockwise by the direction's angle: -y, x-y, x, x+y, y, y-x, -x, -x-y
  PlanPoint e[8];
  std::fill(std::begin(e), std::end(e), p[0]);
  double lo_x = p[0][0], hi_x = p[0][0], lo_y = p[0][1], hi_y = p[0][1];
  for (const PlanPoint& q : p) {
    const double x = q[0], y = q[1];
    lo_x = std::min(lo_x, x), hi_x = std::max(hi_x, x), lo_y = std::min(lo_y, y), hi_y = std::max(hi_y, y);
    if (y < e[0][1]) e[0] = q;
    if (x - y > e[1][0] - e[1][1]) e[1] = q;
    if (x > e[2][0]) e[2] = q;
    if (x + y > e[3][0] + e[3][1]) e[3] = q;
    if (y > e[4][1]) e[4] = q;
    if (y - x > e[5][1] - e[5][0]) e[5] = q;
    if (x < e[6][0]) e[6] = q;
    if (-x - y > -e[7][0] - e[7][1]) e[7] = q;
  }
  if (!std::isfinite(hi_x - lo_x) || !std::isfinite(hi_y - lo_y)) return;
  const double margin = 1e-9 * (1 + std::max(hi_x - lo_x, hi_y - lo_y));
  // edges of that polygon with their length (repeated support points give none)
  struct Edge {
    PlanPoint a;
    double dx, dy, min_cross;
  };
  Edge edges[8];
  int n = 0;
  for (int i = 0; i < 8; ++i) {
    const PlanPoint& a = e[i];
    const PlanPoint& b = e[(i + 1) % 8];
    const double dx = b[0] - a[0], dy = b[1] - a[1];
    const double len = std::hypot(dx, dy);
    if (len > 0) edges[n++] = {a, dx, dy, margin * len};
  }
  if (n < 3) return;  // the support points span no area: nothing is strictly inside
  const auto inside = [&](const PlanPoint& q) {
    for (int i = 0; i < n; ++i) {
      const Edge& g = edges[i];
      if (g.dx * (q[1] - g.a[1]) - g.dy * (q[0] - g.a[0]) <= g.min_cross) return false;
    }
    return true;
  };
  p.erase(std::remove_if(p.begin(), p.end(), inside), p.end());
}

}  // namespace planttwin
