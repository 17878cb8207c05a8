// Issue 19 (H-02, PL-01): what real outdoor walks showed. A Mahalanobis innovation gate instead of
// the trace gate; degenerate solves (anchors on one line in plan) published only through the filter,
// flagged; residual- and innovation-based NLOS tests; a static tag with uncalibrated anchor offsets
// no worse than plain least squares; why there was no fix; the new per-tag state in checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "engine/byte_codec.h"
#include "sim/motion.h"
#include "sim/solver/solver.h"

namespace planttwin {
namespace {

void add_anchor(Site& s, double x, double y, double z) {
  Anchor a;
  a.id = "A" + std::to_string(s.anchors.size());
  a.at[0] = x;
  a.at[1] = y;
  a.at[2] = z;
  s.anchors.push_back(a);
}

Site square(int anchors) {
  Site s;
  s.floors = {{"1", -1, 4}};
  const double pts[6][2] = {{0, 0}, {40, 0}, {40, 40}, {0, 40}, {20, 0}, {20, 40}};
  for (int i = 0; i < anchors; ++i) add_anchor(s, pts[i][0], pts[i][1], 3);
  return s;
}

// Anchors 0-2 nearly on one line in plan (y = 0 .. 0.3), anchor 3 off it. A tag out along the
// line's extension that hears only anchors 0-2 has a well-determined x and an almost unobserved y.
Site line_site() {
  Site s;
  s.floors = {{"1", -1, 4}};
  add_anchor(s, 0, 0, 3);
  add_anchor(s, 6, 0.3, 3);
  add_anchor(s, 12, 0, 3);
  add_anchor(s, 6, 25, 3);
  return s;
}

double range(const Site& s, int a, double x, double y, double z) {
  const double* p = s.anchors[static_cast<size_t>(a)].at;
  return std::sqrt((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) + (z - p[2]) * (z - p[2]));
}

std::vector<RangeObs> ranges(const Site& s, double x, double y, int first, int count, GaussianStream* g = nullptr,
                             double sigma = 0) {
  std::vector<RangeObs> r;
  for (int a = first; a < first + count; ++a) r.push_back({a, range(s, a, x, y, 1.2) + (g ? sigma * g->next() : 0)});
  return r;
}

// H-02 / PL-01: three anchors on (nearly) one line in plan used to give fixes tens of metres off
// along the unobserved axis (the trace gate let them through, issue 19). Now no published fix is
// more than a few metres off (the filter holds along the unobserved axis), those epochs are flagged
// degenerate, and at least 90 % of the epochs have a fix. The bound is loose on purpose: on this
// synthetic line the worst error is 2.8 m (docs/solver.md, "Known limits").
TEST(SolverIssue19, H02_PL01_CollinearInPlanAnchorsGiveNoSpikes) {
  const Site s = line_site();
  Solver solver(s);
  GaussianStream g(19);
  int epochs = 0, fixes = 0, degenerate = 0;
  double worst = 0;
  for (int k = 0; k < 600; ++k) {  // 60 s at 10 Hz, 0.5 m/s east along y = 1, beyond the line's end
    const double x = 16 + 0.05 * k, y = 1.0;
    const bool only_line = (k / 20) % 2 == 1;  // anchor 3 missing for 2 s out of every 4
    auto r = ranges(s, x, y, 0, only_line ? 3 : 4, &g, 0.1);
    ++epochs;
    auto f = solver.solve_twr(1, k * 100 * kMillisecond, r);
    if (!f) continue;
    ++fixes;
    degenerate += f->degenerate ? 1 : 0;
    const double e = std::hypot(f->x - x, f->y - y);
    worst = std::max(worst, e);
    if (f->degenerate) {
      EXPECT_GT(f->solve_sigma_major_m, SolverParams{}.degenerate_sigma_m) << k;
    }
  }
  EXPECT_LT(worst, 4.0);
  EXPECT_GE(fixes, epochs * 9 / 10);
  EXPECT_GT(degenerate, 100);  // the line-only epochs are really degenerate, and flagged
}

// H-02 / PL-01: the same geometry, unfiltered, a tag that hears only the three line anchors: no fix
// (nothing to lean on), reason "degenerate"; with the fourth anchor a normal fix.
TEST(SolverIssue19, H02_PL01_DegenerateSolveWithoutFilterGivesNoFix) {
  const Site s = line_site();
  SolverParams p;
  p.kalman = false;
  Solver solver(s, p);
  EXPECT_FALSE(solver.solve_twr(1, 0, ranges(s, 30, 1, 0, 3)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::degenerate);
  auto f = solver.solve_twr(1, kSecond, ranges(s, 30, 1, 0, 4));
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->degenerate);
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::none);
  EXPECT_NEAR(f->x, 30, 0.01);
  EXPECT_NEAR(f->y, 1, 0.01);
}

// H-02 / PL-01: a 3 m jump along the well-observed axis 0.1 s after the last fix, in an epoch with a
// degenerate axis. The old gate (jump > v_max dt + 3 sqrt(trace R + trace P)) accepted it because
// trace R is huge on the other axis (checked below from the geometry alone, a lower bound of
// the old threshold). The Mahalanobis gate (S = P_pred + R) refuses it.
TEST(SolverIssue19, H02_PL01_MahalanobisGateRefusesJumpAlongTheGoodAxis) {
  const Site s = line_site();
  Solver solver(s);
  Micros t = 0;
  for (int k = 0; k < 30; ++k, t += 100 * kMillisecond) ASSERT_TRUE(solver.solve_twr(1, t, ranges(s, 30, 1, 0, 4)));
  // the old threshold's lower bound at (33, 1) with anchors 0-2: R = sigma^2 (J^T J)^-1 (the
  // solver scales R by a factor >= 1 and adds trace P >= 0)
  const double sig = SolverParams{}.range_sigma_m;
  double a = 0, b = 0, c = 0;
  for (int k = 0; k < 3; ++k) {
    const double* p = s.anchors[static_cast<size_t>(k)].at;
    const double d = range(s, k, 33, 1, 1.2);
    const double ux = (33 - p[0]) / d, uy = (1 - p[1]) / d;
    a += ux * ux, b += ux * uy, c += uy * uy;
  }
  const double trace_r = sig * sig * (a + c) / (a * c - b * b);
  const double old_bound = SolverParams{}.max_speed_mps * 0.1 + SolverParams{}.gate_sigma * std::sqrt(trace_r);
  ASSERT_GT(old_bound, 3.0);  // the old gate let the 3 m jump through
  EXPECT_FALSE(solver.solve_twr(1, t, ranges(s, 33, 1, 0, 3)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::gated);
  t += 100 * kMillisecond;
  auto back = solver.solve_twr(1, t, ranges(s, 30, 1, 0, 4));
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->x, 30, 0.05);
  EXPECT_NEAR(back->y, 1, 0.05);
  // the same jump with all four anchors (no degenerate axis) is refused as well, and a tag that
  // really moved is followed within gate_reset_span (1 s): the gate widens as the prediction ages,
  // and agreeing refusals for that long restart the filter there
  t += 100 * kMillisecond;
  EXPECT_FALSE(solver.solve_twr(1, t, ranges(s, 33, 1, 0, 4)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::gated);
  const Micros first_refused = t;
  std::optional<SolvedFix> moved;
  for (int k = 0; k < 20 && !moved; ++k) {
    t += 100 * kMillisecond;
    moved = solver.solve_twr(1, t, ranges(s, 33, 1, 0, 4));
  }
  ASSERT_TRUE(moved);
  EXPECT_LE(t - first_refused, SolverParams{}.gate_reset_span);
  EXPECT_NEAR(moved->x, 33, 0.05);
}

// H-02 / PL-01: refused fixes that disagree with each other (scattered outliers) never restart the
// filter; the track goes on.
TEST(SolverIssue19, H02_PL01_ScatteredGatedFixesDoNotRestartTheFilter) {
  const Site s = square(4);
  Solver solver(s);
  Micros t = 0;
  for (int k = 0; k < 20; ++k, t += 100 * kMillisecond) ASSERT_TRUE(solver.solve_twr(1, t, ranges(s, 20, 20, 0, 4)));
  const double far[4][2] = {{30, 20}, {20, 32}, {8, 20}, {20, 6}};
  for (const auto& q : far) {
    EXPECT_FALSE(solver.solve_twr(1, t, ranges(s, q[0], q[1], 0, 4)));
    EXPECT_EQ(solver.last_no_fix(), NoFixReason::gated);
    t += 100 * kMillisecond;
  }
  auto f = solver.solve_twr(1, t, ranges(s, 20, 20, 0, 4));
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->x, 20, 0.05);
  EXPECT_NEAR(f->y, 20, 0.05);
}

// H-02 / PL-01: a range biased by +0.6 m (under nlos_reject_m, so leave-one-out keeps it and
// there is no power reading) is flagged by the residual test unfiltered, and by the innovation test
// against the filter's prediction when filtered, where it is also down-weighted.
TEST(SolverIssue19, H02_PL01_ResidualNlosTestFlagsBiasedRange) {
  const Site s = square(6);
  SolverParams unf;
  unf.kalman = false;
  Solver raw(s, unf);
  auto clean = raw.solve_twr(1, 0, ranges(s, 14, 23, 0, 6));
  ASSERT_TRUE(clean);
  EXPECT_EQ(clean->nlos_suspected, 0);
  auto r = ranges(s, 14, 23, 0, 6);
  r[1].d += 0.6;
  auto biased = raw.solve_twr(1, kSecond, r);
  ASSERT_TRUE(biased);
  EXPECT_EQ(biased->nlos_suspected, 1);
  EXPECT_EQ(biased->anchors_rejected, 0);
  // the power gap alone counts as well
  auto pg = ranges(s, 14, 23, 0, 6);
  pg[2].rx_dbm = -80;
  pg[2].fp_dbm = -95;
  auto f_pg = raw.solve_twr(1, 2 * kSecond, pg);
  ASSERT_TRUE(f_pg);
  EXPECT_EQ(f_pg->nlos_suspected, 1);

  // filtered: a tag walking at 1 m/s, 10 Hz; one epoch with anchor 4's range +0.6 m
  Solver filt(s);
  GaussianStream g(5);
  Micros t = 0;
  double x = 10;
  for (int k = 0; k < 50; ++k, t += 100 * kMillisecond, x += 0.1)
    ASSERT_TRUE(filt.solve_twr(1, t, ranges(s, x, 23, 0, 6, &g, 0.05)));
  auto rb = ranges(s, x, 23, 0, 6, &g, 0.05);
  rb[4].d += 0.6;
  auto fb = filt.solve_twr(1, t, rb);
  ASSERT_TRUE(fb);
  EXPECT_GE(fb->nlos_suspected, 1);
  EXPECT_LT(std::hypot(fb->x - x, fb->y - 23), 0.15);
}

// H-02 / PL-01: a tag standing still, uncalibrated constant anchor offsets of +0.05 .. +0.31 m and
// Gaussian noise (sigma 0.1 m), 10 Hz for 60 s: the default solver's mean horizontal error is no
// worse than plain least squares (robust = false, kalman = false) on the same ranges.
TEST(SolverIssue19, H02_PL01_StaticOffsetsNoWorseThanPlainLeastSquares) {
  const Site s = square(4);
  const double offset[4] = {0.05, 0.13, 0.22, 0.31};
  const double pts[3][2] = {{13, 22}, {20, 20}, {31, 9}};
  for (const auto& q : pts) {
    SolverParams plain;
    plain.robust = false;
    plain.kalman = false;
    Solver def(s), ls(s, plain);
    GaussianStream g(stream_seed(19, static_cast<std::uint64_t>(q[0])));
    double e_def = 0, e_ls = 0;
    int n = 0;
    for (int k = 0; k < 600; ++k) {
      auto r = ranges(s, q[0], q[1], 0, 4, &g, 0.1);
      for (int a = 0; a < 4; ++a) r[static_cast<size_t>(a)].d += offset[a];
      auto fd = def.solve_twr(1, k * 100 * kMillisecond, r);
      auto fl = ls.solve_twr(1, k * 100 * kMillisecond, r);
      ASSERT_TRUE(fd && fl) << k;
      e_def += std::hypot(fd->x - q[0], fd->y - q[1]);
      e_ls += std::hypot(fl->x - q[0], fl->y - q[1]);
      ++n;
    }
    e_def /= n;
    e_ls /= n;
    RecordProperty("mean_error_mm_default", static_cast<int>(e_def * 1000));
    RecordProperty("mean_error_mm_plain_ls", static_cast<int>(e_ls * 1000));
    EXPECT_LE(e_def, e_ls) << "at (" << q[0] << ", " << q[1] << ")";
  }
}

// H-02 / PL-01: last_no_fix() for each reason, none after a fix, and the names.
TEST(SolverIssue19, H02_PL01_NoFixReasons) {
  EXPECT_STREQ(to_string(NoFixReason::none), "none");
  EXPECT_STREQ(to_string(NoFixReason::too_few_anchors), "too_few_anchors");
  EXPECT_STREQ(to_string(NoFixReason::inconsistent), "inconsistent");
  EXPECT_STREQ(to_string(NoFixReason::gated), "gated");
  EXPECT_STREQ(to_string(NoFixReason::degenerate), "degenerate");

  const Site s = square(4);
  Solver solver(s);
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::none);
  EXPECT_FALSE(solver.solve_twr(1, 0, ranges(s, 10, 10, 0, 2)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::too_few_anchors);
  // ranges no point fits: residual RMS far above max_residual_rms_m even without the worst anchor
  std::vector<RangeObs> wild = {{0, 80}, {1, 2}, {2, 80}, {3, 2}};
  EXPECT_FALSE(solver.solve_twr(9, 0, wild));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::inconsistent);
  ASSERT_TRUE(solver.solve_twr(1, 0, ranges(s, 10, 10, 0, 4)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::none);
  ASSERT_TRUE(solver.solve_twr(1, kSecond, ranges(s, 10, 10, 0, 4)));
  EXPECT_FALSE(solver.solve_twr(1, 2 * kSecond, ranges(s, 35, 30, 0, 4)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::gated);
  ASSERT_TRUE(solver.solve_twr(1, 3 * kSecond, ranges(s, 10, 10, 0, 4)));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::none);
  // TDoA with too few anchors
  std::vector<TdoaObs> d = {{0, 1, 1.0}, {0, 2, 2.0}};
  EXPECT_FALSE(solver.solve_tdoa(2, 0, d));
  EXPECT_EQ(solver.last_no_fix(), NoFixReason::too_few_anchors);
  // a new tag that hears only three anchors on a line in plan, far out along it: degenerate
  const Site ls = line_site();
  Solver line(ls);
  EXPECT_FALSE(line.solve_twr(1, 0, ranges(ls, 30, 1, 0, 3)));
  EXPECT_EQ(line.last_no_fix(), NoFixReason::degenerate);
}

std::string saved(const Solver& s) {
  ByteWriter w;
  s.save(w);
  return w.take();
}

// H-01 / H-02 / PL-01: the new per-tag state (the last gated fix, which a restart must agree with)
// is saved: a solver loaded between two refusals restarts exactly where the uninterrupted one does.
TEST(SolverIssue19, H01_H02_PL01_CheckpointKeepsTheGatedFix) {
  const Site s = square(4);
  std::vector<std::pair<Micros, std::vector<RangeObs>>> steps;
  Micros t = 0;
  for (int k = 0; k < 20; ++k, t += 100 * kMillisecond) steps.push_back({t, ranges(s, 10 + 0.1 * k, 10, 0, 4)});
  for (int k = 0; k < 15; ++k, t += 100 * kMillisecond) steps.push_back({t, ranges(s, 30 + 0.05 * k, 30, 0, 4)});
  Solver ref(s);
  std::vector<std::optional<SolvedFix>> want;
  for (const auto& [tt, r] : steps) want.push_back(ref.solve_twr(1, tt, r));
  for (size_t i = 20; i < 30; ++i) ASSERT_FALSE(want[i]) << i;
  ASSERT_TRUE(want[30]);  // agreeing refusals for 1 s restart the filter
  for (size_t cut : {20u, 21u, 25u, 30u}) {
    Solver a(s);
    for (size_t i = 0; i < cut; ++i) a.solve_twr(1, steps[i].first, steps[i].second);
    const std::string bytes = saved(a);
    std::uint32_t version = 0;
    std::memcpy(&version, bytes.data() + 4, 4);
    EXPECT_EQ(version, 2u);
    Solver b(s);
    ByteReader r(bytes);
    ASSERT_TRUE(b.load(r)) << r.error();
    EXPECT_TRUE(saved(b) == bytes);
    for (size_t i = cut; i < steps.size(); ++i) {
      auto f = b.solve_twr(1, steps[i].first, steps[i].second);
      ASSERT_EQ(f.has_value(), want[i].has_value()) << cut << " " << i;
      if (!f) continue;
      EXPECT_EQ(std::memcmp(&f->x, &want[i]->x, sizeof(double)), 0) << i;
      EXPECT_EQ(std::memcmp(&f->y, &want[i]->y, sizeof(double)), 0) << i;
      EXPECT_EQ(std::memcmp(&f->sigma_major_m, &want[i]->sigma_major_m, sizeof(double)), 0) << i;
    }
  }
}

}  // namespace
}  // namespace planttwin
