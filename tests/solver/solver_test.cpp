// Positioning solver (H-02): multilateration, robust weighting and NLOS rejection, the Kalman
// filter and its speed gate, floors, TDoA, delay and determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "sim/motion.h"
#include "sim/solver/solver.h"

namespace planttwin {
namespace {

Polygon rect(double x0, double y0, double x1, double y1) {
  Polygon p;
  p.pts = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
  p.finalize();
  return p;
}

void add_anchor(Site& s, double x, double y, double z) {
  Anchor a;
  a.id = "A" + std::to_string(s.anchors.size());
  a.at[0] = x;
  a.at[1] = y;
  a.at[2] = z;
  s.anchors.push_back(a);
}

// an open yard with anchors at 3 m on a rectangle's corners (and edge midpoints for 8)
Site yard(int anchors) {
  Site s;
  s.name = "yard";
  s.floors = {{"1", -1, 4}};
  const double pts[8][2] = {{0, 0}, {40, 0}, {40, 40}, {0, 40}, {20, 0}, {40, 20}, {20, 40}, {0, 20}};
  for (int i = 0; i < anchors; ++i) add_anchor(s, pts[i][0], pts[i][1], 3);
  return s;
}

double range(const Site& s, int a, double x, double y, double z) {
  const double* p = s.anchors[static_cast<size_t>(a)].at;
  return std::sqrt((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) + (z - p[2]) * (z - p[2]));
}

std::vector<RangeObs> ranges(const Site& s, double x, double y, double z, GaussianStream* noise = nullptr,
                             double sigma = 0) {
  std::vector<RangeObs> r;
  for (int a = 0; a < static_cast<int>(s.anchors.size()); ++a)
    r.push_back({a, range(s, a, x, y, z) + (noise ? sigma * noise->next() : 0)});
  return r;
}

SolverParams unfiltered() {
  SolverParams p;
  p.kalman = false;
  return p;
}

TEST(Solver, H02_FourLosAnchorsExactRangesRecoverPosition) {
  Site s = yard(4);
  Solver solver(s, unfiltered());
  auto fix = solver.solve_twr(1, 0, ranges(s, 12, 17, 1.2));
  ASSERT_TRUE(fix);
  EXPECT_NEAR(fix->x, 12, 0.01);
  EXPECT_NEAR(fix->y, 17, 0.01);
  EXPECT_FALSE(fix->z_solved);  // coplanar anchors: 2D at the tag height
  EXPECT_DOUBLE_EQ(fix->z, 1.2);
  EXPECT_EQ(fix->anchors_used, 4);
  EXPECT_EQ(fix->floor, "1");
  EXPECT_LT(fix->residual_rms, 1e-3);
}

TEST(Solver, H02_FilteredFirstFixIsTheLsFixAndOutsideTheHullStillSolves) {
  Site s = yard(4);
  Solver solver(s);  // Kalman on: the first fix starts the filter at the LS position
  auto fix = solver.solve_twr(1, 0, ranges(s, 48, 20, 1.2));  // 8 m outside the anchor square
  ASSERT_TRUE(fix);
  EXPECT_NEAR(fix->x, 48, 0.01);
  EXPECT_NEAR(fix->y, 20, 0.01);
}

// two floors (-1 to 4 m, 4 to 8 m), anchors at 0.5 m and 7.5 m around a 30 m square: z observable
Site two_heights() {
  Site s;
  s.floors = {{"1", -1, 4}, {"2", 4, 8}};
  const double pts[4][2] = {{0, 0}, {30, 0}, {30, 30}, {0, 30}};
  for (int i = 0; i < 4; ++i) add_anchor(s, pts[i][0], pts[i][1], 0.5);
  for (int i = 0; i < 4; ++i) add_anchor(s, pts[i][0] + (i % 2 ? -5 : 5), pts[i][1], 7.5);
  return s;
}

TEST(Solver, H02_AnchorsSpreadInHeightGive3DFix) {
  const Site s = two_heights();
  Solver solver(s, unfiltered());
  auto fix = solver.solve_twr(1, 0, ranges(s, 11, 19, 5.3));
  ASSERT_TRUE(fix);
  EXPECT_TRUE(fix->z_solved);
  EXPECT_NEAR(fix->x, 11, 0.01);
  EXPECT_NEAR(fix->y, 19, 0.01);
  EXPECT_NEAR(fix->z, 5.3, 0.02);
  EXPECT_EQ(fix->floor, "2");
}

// Ranges that fit a point below the ground (long NLOS ranges to anchors overhead pull a 3D solve
// down: to 21 m under the demo plant before this rule) give no 3D fix: a person is within
// the floors where they are, from the lowest z0 to the highest z1 widened by floor_hysteresis_m
// (0.5 m): here -1.5 to 8.5 m. Outside, the epoch is solved in 2D at the tag height.
TEST(Solver, H02_ThreeDimensionalSolveOutsideEveryFloorIsRefused) {
  const Site s = two_heights();
  Site no_floors = s;
  no_floors.floors.clear();
  struct Case {
    double z;
    bool three_d;
  };
  for (const Case c : {Case{-9, false}, Case{-1.6, false}, Case{-1.4, true}, Case{8.4, true}, Case{8.6, false}, Case{12, false}}) {
    SCOPED_TRACE(c.z);
    Solver solver(s, unfiltered());
    auto fix = solver.solve_twr(1, 0, ranges(s, 11, 19, c.z));
    ASSERT_TRUE(fix);
    EXPECT_EQ(fix->z_solved, c.three_d);
    if (c.three_d) {
      EXPECT_NEAR(fix->z, c.z, 0.02);
    } else {
      EXPECT_TRUE(fix->z == 1.2 || fix->z == 5.2) << fix->z;  // a floor's surface + the tag height
      EXPECT_GE(fix->z, -1.5);
      EXPECT_LE(fix->z, 8.5);
    }
    // the same ranges on a site without floors: the 3D solve stands
    Solver free_z(no_floors, unfiltered());
    auto fz = free_z.solve_twr(1, 0, ranges(s, 11, 19, c.z));
    ASSERT_TRUE(fz);
    EXPECT_TRUE(fz->z_solved);
    EXPECT_NEAR(fz->z, c.z, 0.02);
    EXPECT_NEAR(fz->x, 11, 0.01);
  }
  // the band's slack is floor_hysteresis_m: 2 m lets a solve at -2.9 m stand, not one at -3.1 m
  SolverParams wide = unfiltered();
  wide.floor_hysteresis_m = 2;
  for (const Case c : {Case{-2.9, true}, Case{-3.1, false}}) {
    SCOPED_TRACE(c.z);
    Solver solver(s, wide);
    auto fix = solver.solve_twr(1, 0, ranges(s, 11, 19, c.z));
    ASSERT_TRUE(fix);
    EXPECT_EQ(fix->z_solved, c.three_d);
  }
}

TEST(Solver, H02_GaussianNoiseErrorWithinExpectedBounds) {
  Site s = yard(8);
  Solver solver(s, unfiltered());
  GaussianStream noise(42);
  std::vector<double> err;
  for (int i = 0; i < 400; ++i) {
    double x = 2 + 36 * noise.uniform(), y = 2 + 36 * noise.uniform();
    auto fix = solver.solve_twr(i, 0, ranges(s, x, y, 1.2, &noise, 0.10));
    ASSERT_TRUE(fix) << i;
    err.push_back(std::hypot(fix->x - x, fix->y - y));
  }
  std::sort(err.begin(), err.end());
  const double cdf68 = err[static_cast<size_t>(0.6827 * static_cast<double>(err.size()))];
  // sigma 0.10 m per range over 8 anchors: about 0.1 m per axis at the 68 % point, well under 0.2
  EXPECT_LT(cdf68, 0.20);
  EXPECT_GT(cdf68, 0.02);  // the noise is really there
  EXPECT_LT(err.back(), 0.60);
}

TEST(Solver, H02_NlosRangeRejectedWhilePlainLsIsPulledOff) {
  Site s = yard(6);
  const double x = 14, y = 23;
  auto r = ranges(s, x, y, 1.2);
  r[1].d += 3.0;  // one NLOS range, +3 m

  Solver robust(s, unfiltered());
  auto fix = robust.solve_twr(1, 0, r);
  ASSERT_TRUE(fix);
  EXPECT_LT(std::hypot(fix->x - x, fix->y - y), 0.3);
  EXPECT_EQ(fix->anchors_rejected, 1);
  EXPECT_EQ(fix->anchors_used, 5);

  SolverParams plain = unfiltered();
  plain.robust = false;
  Solver ls(s, plain);
  auto base = ls.solve_twr(1, 0, r);
  ASSERT_TRUE(base);
  EXPECT_GT(std::hypot(base->x - x, base->y - y), 0.5);
  EXPECT_EQ(base->anchors_rejected, 0);
}

TEST(Solver, H02_NlosRejectedWithNoiseOnEveryRange) {
  Site s = yard(8);
  Solver solver(s, unfiltered());
  GaussianStream noise(7);
  int good = 0;
  for (int i = 0; i < 100; ++i) {
    double x = 5 + 30 * noise.uniform(), y = 5 + 30 * noise.uniform();
    auto r = ranges(s, x, y, 1.2, &noise, 0.1);
    r[static_cast<size_t>(i % 8)].d += 3.0;
    auto fix = solver.solve_twr(i, 0, r);
    ASSERT_TRUE(fix);
    if (std::hypot(fix->x - x, fix->y - y) < 0.3) ++good;
  }
  EXPECT_GE(good, 95);
}

TEST(Solver, H02_PowerGapDownweightsSuspectRange) {
  Site s = yard(6);
  const double x = 14, y = 23;
  auto r = ranges(s, x, y, 1.2);
  r[1].d += 3.0;
  SolverParams plain = unfiltered();
  plain.robust = false;
  Solver ls(s, plain);
  auto without = ls.solve_twr(1, 0, r);
  r[1].rx_dbm = -80;
  r[1].fp_dbm = -95;  // 15 dB gap: NLOS hint
  auto with = ls.solve_twr(1, 0, r);
  ASSERT_TRUE(without && with);
  EXPECT_LT(std::hypot(with->x - x, with->y - y), 0.5 * std::hypot(without->x - x, without->y - y));
}

TEST(Solver, H02_TooFewAnchorsGiveNoFix) {
  Site s = yard(4);
  Solver solver(s);
  auto r = ranges(s, 10, 10, 1.2);
  EXPECT_FALSE(solver.solve_twr(1, 0, std::span(r.data(), 2)));
  // an unknown anchor, a negative range and a duplicate do not make up the count
  std::vector<RangeObs> bad = {r[0], r[1], {17, 5.0}, {2, -1.0}, r[1]};
  EXPECT_FALSE(solver.solve_twr(1, 0, bad));
  EXPECT_TRUE(solver.solve_twr(1, 0, std::span(r.data(), 3)));
  SolverParams four;
  four.min_anchors_2d = 4;
  Solver strict(s, four);
  EXPECT_FALSE(strict.solve_twr(1, 0, std::span(r.data(), 3)));
  EXPECT_TRUE(strict.solve_twr(1, 0, r));
}

// mean horizontal error over a straight 1 m/s walk (after the first 5 s), filtered and raw
std::pair<double, double> walk_errors(double process_noise) {
  Site s = yard(6);
  SolverParams p;
  p.range_sigma_m = 0.3;
  p.process_noise = process_noise;
  SolverParams praw = p;
  praw.kalman = false;
  Solver filtered(s, p), raw(s, praw);
  GaussianStream noise(3);
  double err_f = 0, err_r = 0;
  int n = 0;
  for (int k = 0; k <= 35; ++k) {
    const double x = 3 + 1.0 * k, y = 12;  // 1 m/s east, a fix per second
    auto r = ranges(s, x, y, 1.2, &noise, 0.3);
    auto f = filtered.solve_twr(1, k * kSecond, r);
    auto g = raw.solve_twr(1, k * kSecond, r);
    EXPECT_TRUE(f && g) << k;
    if (!f || !g || k < 5) continue;  // the filter settles on the walking speed first
    err_f += std::hypot(f->x - x, f->y - y);
    err_r += std::hypot(g->x - x, g->y - y);
    ++n;
  }
  return {err_f / n, err_r / n};
}

TEST(Solver, H02_KalmanSmoothsStraightWalk) {
  // default process noise (2 m/s^2 since issue 19: 0.5 lagged behind real walkers at 10 Hz):
  // follows a walker closely and is no worse than raw LS. (Was "< 0.95 of raw" with 0.5 m/s^2; at
  // 1 Hz and sigma 0.3 m the 2 m/s^2 filter smooths little: 0.211 against 0.222 m.)
  auto [f, r] = walk_errors(SolverParams{}.process_noise);
  EXPECT_LT(f, r);
  // a calmer model (0.1 m/s^2) smooths much more on a steady walk
  auto [f2, r2] = walk_errors(0.1);
  EXPECT_LT(f2, 0.75 * r2);
  EXPECT_LT(f2, f);
}

TEST(Solver, H02_SpeedGateRejectsTwentyMetreJumpThenRecovers) {
  Site s = yard(6);
  Solver solver(s);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(solver.solve_twr(1, k * kSecond, ranges(s, 10 + k, 10, 1.2)));
  // one epoch 20 m away (an outlier fix): gated
  EXPECT_FALSE(solver.solve_twr(1, 5 * kSecond, ranges(s, 35, 10, 1.2)));
  // back on the track: accepted
  auto back = solver.solve_twr(1, 6 * kSecond, ranges(s, 16, 10, 1.2));
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->x, 16, 0.3);
  // a tag that really moved 50 m: gated twice (the gate widens with the time since the last
  // accepted fix, 10 m/s x 3 s), the third consecutive gated fix restarts the filter there
  EXPECT_FALSE(solver.solve_twr(1, 7 * kSecond, ranges(s, 16, 60, 1.2)));
  EXPECT_FALSE(solver.solve_twr(1, 8 * kSecond, ranges(s, 16, 60, 1.2)));
  auto moved = solver.solve_twr(1, 9 * kSecond, ranges(s, 16, 60, 1.2));
  ASSERT_TRUE(moved);
  EXPECT_NEAR(moved->y, 60, 0.01);
  // the filter of another tag is independent, and reset() forgets one
  EXPECT_TRUE(solver.solve_twr(2, 9 * kSecond, ranges(s, 35, 10, 1.2)));
  solver.reset(1);
  EXPECT_TRUE(solver.solve_twr(1, 10 * kSecond, ranges(s, 35, 10, 1.2)));
}

// two-storey building in a yard; anchors on both storeys so z is observable inside
Site two_storey() {
  Site s;
  s.floors = {{"1", -1, 4}};
  Building b;
  b.id = "B";
  b.footprint = rect(20, 20, 40, 40);
  b.floors = {{"1", 0, 4}, {"2", 4, 8}};
  s.buildings.push_back(b);
  const double pts[4][2] = {{20, 20}, {40, 20}, {40, 40}, {20, 40}};
  for (int i = 0; i < 4; ++i) add_anchor(s, pts[i][0], pts[i][1], 3);
  for (int i = 0; i < 4; ++i) add_anchor(s, pts[i][0] + (i == 0 || i == 3 ? 10 : -10), pts[i][1], 7.5);
  return s;
}

TEST(Solver, H02_FloorAssignmentTwoStoreyBuildingWithHysteresis) {
  Site s = two_storey();
  Solver solver(s);
  auto f2 = solver.solve_twr(1, 0, ranges(s, 30, 28, 5.2));
  ASSERT_TRUE(f2);
  EXPECT_TRUE(f2->z_solved);
  EXPECT_EQ(f2->floor, "2");
  // 0.2 m below floor 2's band: within the hysteresis, still floor 2
  auto f2b = solver.solve_twr(1, kSecond, ranges(s, 30, 28, 3.8));
  ASSERT_TRUE(f2b);
  EXPECT_EQ(f2b->floor, "2");
  // clearly on floor 1 now
  auto f1 = solver.solve_twr(1, 2 * kSecond, ranges(s, 30, 28, 1.2));
  ASSERT_TRUE(f1);
  EXPECT_EQ(f1->floor, "1");
  // a fresh tag at 3.8 m has no history: the band that contains it
  auto fresh = solver.solve_twr(2, 0, ranges(s, 30, 28, 3.8));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->floor, "1");
  EXPECT_EQ(floor_at(s, 30, 28, 5.2), "2");
  EXPECT_EQ(floor_at(s, 30, 28, 1.2), "1");
}

TEST(Solver, H02_FloorOutdoorsAndTwoDimensionalFloorFromHint) {
  Site s;
  s.floors = {{"G", -1, 4}};
  Building b;
  b.id = "B";
  b.footprint = rect(20, 20, 40, 40);
  b.floors = {{"1F", 0, 4}, {"2F", 4, 8}};
  s.buildings.push_back(b);
  for (double x : {0.0, 60.0})
    for (double y : {0.0, 60.0}) add_anchor(s, x, y, 3);  // coplanar: z is not observable
  Solver solver(s);
  auto out = solver.solve_twr(1, 0, ranges(s, 10, 10, 1.2));
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->z_solved);
  EXPECT_EQ(out->floor, "G");
  EXPECT_EQ(floor_at(s, 10, 10, 1.2), "G");
  // upstairs in the building: the tag's floor comes from a hint, z from that floor
  solver.set_floor(2, "2F");
  auto up = solver.solve_twr(2, 0, ranges(s, 30, 30, 5.2));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->floor, "2F");
  EXPECT_DOUBLE_EQ(up->z, 5.2);
  EXPECT_NEAR(up->x, 30, 0.01);
  // a tag walking in from outdoors keeps its height: ground floor of the building
  solver.reset(1);
  for (int k = 0; k <= 20; ++k) {
    auto f = solver.solve_twr(1, (k + 1) * kSecond, ranges(s, 10 + k, 30, 1.2));
    ASSERT_TRUE(f);
    if (k <= 9) {
      EXPECT_EQ(f->floor, "G") << k;  // x <= 19: outside the footprint
    }
    if (k >= 12) {
      EXPECT_EQ(f->floor, "1F") << k;  // x >= 22: inside
    }
  }
}

std::vector<TdoaObs> diffs(const Site& s, double x, double y, double z) {
  std::vector<TdoaObs> d;
  const double r0 = range(s, 0, x, y, z);
  for (int a = 1; a < static_cast<int>(s.anchors.size()); ++a) d.push_back({0, a, range(s, a, x, y, z) - r0});
  return d;
}

TEST(Solver, H02_TdoaExactDifferencesRecoverPosition) {
  Site s = yard(6);
  Solver solver(s, unfiltered());
  auto fix = solver.solve_tdoa(1, 0, diffs(s, 27, 9, 1.2));
  ASSERT_TRUE(fix);
  EXPECT_NEAR(fix->x, 27, 0.01);
  EXPECT_NEAR(fix->y, 9, 0.01);
  EXPECT_EQ(fix->anchors_used, 6);
  // 4 anchors (3 differences) are enough in 2D; 3 anchors are not
  Site s4 = yard(4);
  Solver four(s4, unfiltered());
  auto f4 = four.solve_tdoa(1, 0, diffs(s4, 27, 9, 1.2));
  ASSERT_TRUE(f4);
  EXPECT_NEAR(f4->x, 27, 0.01);
  auto d3 = diffs(s4, 27, 9, 1.2);
  d3.pop_back();
  EXPECT_FALSE(four.solve_tdoa(1, 0, d3));
  // a difference longer than the anchors' separation is impossible and dropped
  auto bad = diffs(s4, 27, 9, 1.2);
  bad[0].dd = 500;
  EXPECT_FALSE(four.solve_tdoa(1, 0, bad));
}

TEST(Solver, H02_TdoaNlosAnchorRejected) {
  Site s = yard(8);
  Solver solver(s, unfiltered());
  // anchor 3's arrival is 2 m late: every difference with it is off
  auto d = diffs(s, 18, 25, 1.2);
  d[2].dd += 2.0;
  auto fix = solver.solve_tdoa(1, 0, d);
  ASSERT_TRUE(fix);
  EXPECT_LT(std::hypot(fix->x - 18, fix->y - 25), 0.3);
  EXPECT_EQ(fix->anchors_rejected, 1);
}

TEST(Solver, H02_ProcessingDelayApplied) {
  Site s = yard(4);
  SolverParams p;
  p.processing_delay = 250 * kMillisecond;
  Solver solver(s, p);
  auto fix = solver.solve_twr(1, 7 * kSecond, ranges(s, 10, 10, 1.2));
  ASSERT_TRUE(fix);
  EXPECT_EQ(fix->t_measured, 7 * kSecond);
  EXPECT_EQ(fix->t_available, 7 * kSecond + 250 * kMillisecond);
  Solver dflt(s);
  auto f2 = dflt.solve_twr(1, kSecond, ranges(s, 10, 10, 1.2));
  ASSERT_TRUE(f2);
  EXPECT_EQ(f2->t_available - f2->t_measured, 100 * kMillisecond);
}

std::vector<SolvedFix> noisy_run(bool shuffle) {
  Site s = yard(8);
  Solver solver(s);
  GaussianStream noise(11);
  std::vector<SolvedFix> out;
  for (int k = 0; k < 60; ++k) {
    auto r = ranges(s, 5 + 0.5 * k, 8 + 0.3 * k, 1.2, &noise, 0.15);
    if (k % 7 == 3) r[static_cast<size_t>(k % 8)].d += 4;  // the odd NLOS range
    if (shuffle) std::reverse(r.begin(), r.end());
    if (auto f = solver.solve_twr(1, k * kSecond, r)) out.push_back(*f);
    auto d = diffs(s, 30 - 0.2 * k, 20, 1.2);
    if (shuffle) std::reverse(d.begin(), d.end());
    if (auto f = solver.solve_tdoa(2, k * kSecond, d)) out.push_back(*f);
  }
  return out;
}

TEST(Solver, H01_H02_SameInputsGiveIdenticalBits) {
  auto a = noisy_run(false), b = noisy_run(false), c = noisy_run(true);
  ASSERT_EQ(a.size(), 120u);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (const auto* o : {&b[i], &c[i]}) {  // again, and with the measurements in another order
      EXPECT_EQ(std::memcmp(&a[i].x, &o->x, sizeof(double)), 0) << i;
      EXPECT_EQ(std::memcmp(&a[i].y, &o->y, sizeof(double)), 0) << i;
      EXPECT_EQ(std::memcmp(&a[i].z, &o->z, sizeof(double)), 0) << i;
      EXPECT_EQ(a[i].t_available, o->t_available);
      EXPECT_EQ(a[i].anchors_used, o->anchors_used);
    }
  }
}

}  // namespace
}  // namespace planttwin
