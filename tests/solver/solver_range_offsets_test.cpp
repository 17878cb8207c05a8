// Range offsets in the solver (issue 19, `planttwin calibrate`; H-02, PL-01): a site's
// range_offsets per anchor and the caller's per-tag offset are taken off TWR ranges, so a biased
// range log gives an unbiased fix once calibrated; TDoA differences are left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim/solver/solver.h"

namespace planttwin {
namespace {

Site yard() {
  Site s;
  s.name = "yard";
  s.floors = {{"1", -1, 4}};
  const double pts[6][2] = {{0, 0}, {40, 0}, {40, 40}, {0, 40}, {20, 0}, {20, 40}};
  for (int i = 0; i < 6; ++i) {
    Anchor a;
    a.id = "A" + std::to_string(i);
    a.at[0] = pts[i][0];
    a.at[1] = pts[i][1];
    a.at[2] = 3;
    s.anchors.push_back(a);
  }
  return s;
}

const double kAnchorOffset[6] = {-0.22, 0.10, 0.05, -0.12, 0.18, -0.03};
constexpr double kTagOffset = 0.07;

// ranges from (x, y, 1.2 m) as an uncalibrated tag measures them: + anchor offset + tag offset
std::vector<RangeObs> biased(const Site& s, double x, double y) {
  std::vector<RangeObs> r;
  for (int a = 0; a < 6; ++a) {
    const double* p = s.anchors[static_cast<size_t>(a)].at;
    const double d = std::sqrt((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) + (1.2 - p[2]) * (1.2 - p[2]));
    r.push_back({a, d + kAnchorOffset[a] + kTagOffset});
  }
  return r;
}

SolverParams plain() {
  SolverParams p;
  p.kalman = false;
  return p;
}

TEST(SolverRangeOffsets, H02_PL01_BiasedRangesGiveAnUnbiasedFixOnceCalibrated) {
  Site raw = yard();
  Site calibrated = yard();
  for (int a = 0; a < 6; ++a) calibrated.range_offsets.anchors["A" + std::to_string(a)] = kAnchorOffset[a];
  Solver before(raw, plain()), after(calibrated, plain()), anchors_only(calibrated, plain());
  after.set_tag_offset(7, kTagOffset);
  double worst_before = 0, worst_after = 0, worst_anchors_only = 0;
  for (double x = 5; x <= 35; x += 5)
    for (double y = 5; y <= 35; y += 10) {
      const auto r = biased(raw, x, y);
      const auto b = before.solve_twr(7, 0, r), a = after.solve_twr(7, 0, r), o = anchors_only.solve_twr(7, 0, r);
      ASSERT_TRUE(b && a && o);
      worst_before = std::max(worst_before, std::hypot(b->x - x, b->y - y));
      worst_after = std::max(worst_after, std::hypot(a->x - x, a->y - y));
      worst_anchors_only = std::max(worst_anchors_only, std::hypot(o->x - x, o->y - y));
      EXPECT_LT(a->residual_rms, 1e-4);
    }
  EXPECT_GT(worst_before, 0.1);  // the offsets pull the uncalibrated fix off by decimetres
  EXPECT_LT(worst_after, 1e-3);  // exact once both offsets come off
  EXPECT_GT(worst_anchors_only, worst_after);  // the tag's 7 cm left in: a small error remains
}

TEST(SolverRangeOffsets, H02_TagOffsetsAreKeptPerTagAndAbsentOffsetsChangeNothing) {
  Site s = yard();
  Solver a(s, plain()), b(s, plain());
  a.set_tag_offset(1, 0.0);  // an explicit zero is the same as none
  const auto r = biased(s, 12, 17);
  const auto fa = a.solve_twr(1, 0, r), fb = b.solve_twr(1, 0, r);
  ASSERT_TRUE(fa && fb);
  EXPECT_EQ(fa->x, fb->x);  // bit for bit
  EXPECT_EQ(fa->y, fb->y);
  // tag 2's offset does not touch tag 1
  a.set_tag_offset(2, 0.5);
  const auto fc = a.solve_twr(1, 0, r);
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->x, fb->x);
}

TEST(SolverRangeOffsets, H02_TdoaDifferencesAreNotCorrected) {
  Site raw = yard(), calibrated = yard();
  for (int a = 0; a < 6; ++a) calibrated.range_offsets.anchors["A" + std::to_string(a)] = kAnchorOffset[a];
  Solver s1(raw, plain()), s2(calibrated, plain());
  s2.set_tag_offset(3, 0.4);
  std::vector<TdoaObs> d;
  const auto r = biased(raw, 14, 22);
  for (int a = 1; a < 6; ++a) d.push_back({0, a, r[static_cast<size_t>(a)].d - r[0].d});
  const auto f1 = s1.solve_tdoa(3, 0, d), f2 = s2.solve_tdoa(3, 0, d);
  ASSERT_TRUE(f1 && f2);
  EXPECT_EQ(f1->x, f2->x);
  EXPECT_EQ(f1->y, f2->y);
}

}  // namespace
}  // namespace planttwin
