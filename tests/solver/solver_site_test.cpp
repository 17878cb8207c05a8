// The solver on the AQ 3064.3 test field (scenarios/aq3064/sites/site-aq3064.yaml) with a crude
// stand-in for the radio: the 8 nearest anchors, Gaussian LOS noise, and on a share of the links
// an NLOS bias (0.1 m + exponential, mean 0.3 m, rtls-and-radio.md section 5) or a 3-5 m outlier.
// The real radio model (sim/radio) is richer; this checks the solver's own share of the error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "sim/motion.h"
#include "sim/solver/solver.h"

namespace planttwin {
namespace {

Site field() {
  Site s;
  auto err = load_site_file(std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/aq3064/sites/site-aq3064.yaml", s);
  EXPECT_FALSE(err) << (err ? err->message : "");
  return s;
}

std::vector<RangeObs> noisy_ranges(const Site& s, double x, double y, GaussianStream& g, double nlos_share,
                                   double outlier_share) {
  std::vector<std::pair<double, int>> near;
  for (int a = 0; a < static_cast<int>(s.anchors.size()); ++a) {
    const double* p = s.anchors[static_cast<size_t>(a)].at;
    near.push_back({std::sqrt((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) + (1.2 - p[2]) * (1.2 - p[2])), a});
  }
  std::sort(near.begin(), near.end());
  std::vector<RangeObs> r;
  for (size_t i = 0; i < 8 && i < near.size(); ++i) {
    double d = near[i].first + 0.05 * g.next();
    double u = g.uniform();
    if (u < outlier_share) d += 3 + 2 * g.uniform();
    else if (u < outlier_share + nlos_share) d += 0.1 - 0.3 * std::log(1 - g.uniform());
    r.push_back({near[i].second, d});
  }
  return r;
}

TEST(SolverOnTestField, H06_StaticPointsWithNlosStayWellInsideThreeMetres) {
  const Site s = field();
  ASSERT_EQ(s.survey_points.size(), 106u);
  Solver solver(s);
  GaussianStream g(stream_seed(3064, 1));
  std::vector<double> err;
  for (int tag = 0; tag < 6; ++tag) {
    const SurveyPoint& sp = s.survey_points[static_cast<size_t>(tag)];
    for (int k = 0; k < 300; ++k) {
      auto f = solver.solve_twr(tag, k * 2 * kSecond, noisy_ranges(s, sp.at[0], sp.at[1], g, 0.3, 0.02));
      ASSERT_TRUE(f) << sp.id << " " << k;
      err.push_back(std::hypot(f->x - sp.at[0], f->y - sp.at[1]));
      EXPECT_EQ(f->floor, "1");
    }
  }
  std::sort(err.begin(), err.end());
  const double cdf68 = err[static_cast<size_t>(std::ceil(0.6827 * static_cast<double>(err.size()))) - 1];
  RecordProperty("cdf68_mm", static_cast<int>(cdf68 * 1000));
  EXPECT_LT(cdf68, 0.3);  // AQ 3064.3 asks <= 3 m; the solver's share must be a small part of it
  EXPECT_LT(err.back(), 1.5);
}

TEST(SolverOnTestField, H06_DynamicRouteWithNlosFollowsTheWalker) {
  const Site s = field();
  Solver solver(s);
  GaussianStream g(stream_seed(3064, 2));
  std::vector<double> err;
  // walk the marks R001..R100 at 1 m/s, a fix per second (straight between consecutive marks)
  double px = 12, py = 10;
  Micros t = 0;
  for (size_t m = 6; m < s.survey_points.size(); ++m) {
    const double mx = s.survey_points[m].at[0], my = s.survey_points[m].at[1];
    for (int k = 1; k <= 5; ++k) {
      t += kSecond;
      const double x = px + (mx - px) * k / 5.0, y = py + (my - py) * k / 5.0;
      auto f = solver.solve_twr(1, t, noisy_ranges(s, x, y, g, 0.3, 0.02));
      if (!f) continue;
      err.push_back(std::hypot(f->x - x, f->y - y));
    }
    px = mx, py = my;
  }
  ASSERT_GT(err.size(), 480u);  // no more than 4 % of the epochs without a fix
  std::sort(err.begin(), err.end());
  const double cdf68 = err[static_cast<size_t>(std::ceil(0.6827 * static_cast<double>(err.size()))) - 1];
  RecordProperty("cdf68_mm", static_cast<int>(cdf68 * 1000));
  EXPECT_LT(cdf68, 0.5);
}

}  // namespace
}  // namespace planttwin
