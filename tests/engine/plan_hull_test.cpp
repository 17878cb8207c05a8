// H-02, PL-08 (issue 15): dropping the points that cannot be on a plan hull (engine/plan_hull.h)
// changes no hull: the monotone chains of the plant model (tolerance 1e-12) and of the model
// loader (0) give the same vertices, in the same order, with and without the drop, on random
// clouds, grids full of collinear points, rings, far-off coordinates and degenerate sets.
#include <gtest/gtest.h>

#include <random>

#include "engine/plan_hull.h"

namespace planttwin {
namespace {

std::vector<PlanPoint> chain(std::vector<PlanPoint> p, double tol) {
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  if (p.size() < 3) return p;
  const auto cross = [](const PlanPoint& o, const PlanPoint& a, const PlanPoint& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  std::vector<PlanPoint> h(2 * p.size() + 1);
  std::size_t k = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= tol) --k;
    h[k++] = p[i];
  }
  for (std::size_t i = p.size() - 1, lo = k + 1; i-- > 0;) {
    while (k >= lo && cross(h[k - 2], h[k - 1], p[i]) <= tol) --k;
    h[k++] = p[i];
  }
  h.resize(k > 1 ? k - 1 : k);
  return h;
}

void expect_same_hulls(const std::vector<PlanPoint>& cloud, std::size_t& dropped) {
  std::vector<PlanPoint> rim = cloud;
  drop_interior_points(rim);
  dropped += cloud.size() - rim.size();
  for (double tol : {0.0, 1e-12}) EXPECT_EQ(chain(rim, tol), chain(cloud, tol)) << "tolerance " << tol << ", " << cloud.size() << " points";
}

TEST(PlanHull, H02_DroppingInteriorPointsChangesNoHull) {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  std::size_t dropped = 0, total = 0;
  for (int round = 0; round < 240; ++round) {
    const int kind = round % 6;
    const double off = (round % 4 == 3) ? 4.5e5 : 0;  // survey coordinates far from the origin
    const double size = 0.5 + 200 * u(rng);
    const int n = 64 + static_cast<int>(u(rng) * 3000);
    std::vector<PlanPoint> c;
    for (int i = 0; i < n; ++i) {
      double x = u(rng) * size, y = u(rng) * size;
      if (kind == 1) {  // a disk
        const double a = 6.283185307179586 * u(rng), r = size * std::sqrt(u(rng));
        x = r * std::cos(a), y = r * std::sin(a);
      } else if (kind == 2) {  // a grid: rows and columns of collinear points, rims included
        x = std::floor(u(rng) * 24) * 3.5, y = std::floor(u(rng) * 24) * 3.5;
      } else if (kind == 3) {  // a ring of 32 sides, every vertex many times
        const double a = 6.283185307179586 * std::floor(u(rng) * 32) / 32;
        x = size * std::cos(a), y = size * std::sin(a);
      } else if (kind == 4) {  // on one line (a sheet)
        y = 0.5 * x;
      } else if (kind == 5 && i % 2) {  // a box's corners with noise inside
        x = (i % 4 == 1) ? 0 : size, y = (i % 8 < 4) ? 0 : size;
      }
      c.push_back({x + off, y + off});
    }
    total += c.size();
    expect_same_hulls(c, dropped);
  }
  // and it does drop: most points of clouds, disks and grids are inside
  EXPECT_GT(dropped, total / 3);
}

TEST(PlanHull, H02_From64PointsOnly) {
  // a square's corners and points inside it: 63 points are left alone, 64 lose the inside ones
  auto square = [](std::size_t n) {
    std::vector<PlanPoint> p = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
    for (std::size_t i = 4; i < n; ++i) p.push_back({1 + 0.1 * static_cast<double>(i), 5});
    return p;
  };
  std::vector<PlanPoint> p63 = square(63), p64 = square(64);
  drop_interior_points(p63);
  drop_interior_points(p64);
  EXPECT_EQ(p63.size(), 63u);
  EXPECT_EQ(p64.size(), 4u);
  EXPECT_EQ(chain(p64, 0), chain(square(64), 0));
}

TEST(PlanHull, H02_SmallOrDegenerateSetsAreLeftAlone) {
  std::vector<PlanPoint> few = {{0, 0}, {1, 0}, {0.5, 0.2}, {0, 1}};
  drop_interior_points(few);
  EXPECT_EQ(few.size(), 4u);  // under 64 points
  std::vector<PlanPoint> same(100, PlanPoint{3, 4});
  drop_interior_points(same);
  EXPECT_EQ(same.size(), 100u);
}

}  // namespace
}  // namespace planttwin
