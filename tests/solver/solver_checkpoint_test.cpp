// Solver checkpoints (issue 12, H-01): a Solver saved in the middle of a track and loaded into a
// fresh one goes on with bit-identical fixes; its state splits over and merges from solvers that
// own disjoint tags; damaged or foreign input is refused without a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "engine/byte_codec.h"
#include "sim/motion.h"
#include "sim/solver/solver.h"

namespace planttwin {
namespace {

std::uint64_t bits(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

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

// A yard with anchors at 3 m, and a two-storey building with anchors at two heights inside (3D
// solves there), so that the state holds 2D and 3D heights, buildings and floors.
Site yard_with_building() {
  Site s;
  s.name = "yard";
  s.floors = {{"1", -1, 4}};
  Building b;
  b.id = "B";
  b.footprint = rect(10, 10, 22, 22);
  b.floors = {{"B1", -1, 4}, {"B2", 4, 8}};
  s.buildings.push_back(b);
  const double yard[8][2] = {{0, 0}, {40, 0}, {40, 40}, {0, 40}, {20, 0}, {40, 20}, {20, 40}, {0, 20}};
  for (const auto& p : yard) add_anchor(s, p[0], p[1], 3);
  add_anchor(s, 11, 11, 0.5);
  add_anchor(s, 21, 11, 7.5);
  add_anchor(s, 21, 21, 0.5);
  add_anchor(s, 11, 21, 7.5);
  add_anchor(s, 16, 16, 4.0);
  return s;
}

// One call to make on a solver: an epoch of one tag, maybe after set_floor.
struct Step {
  int tag = 0;
  Micros t = 0;
  std::vector<RangeObs> ranges;
  std::vector<TdoaObs> diffs;
  std::string set_floor;  // "" : none
};

// Six tags over `epochs` seconds: walking circles in the yard and in the building (one upstairs),
// Gaussian noise, 3 % outliers of 3-5 m, a silence longer than the filter's reset (tag 3), a jump
// at 100 s that the speed gate refuses until it restarts there (tag 4), a late epoch older than the
// filter (tag 5).
std::vector<Step> track(const Site& s, int epochs, bool tdoa) {
  GaussianStream g(stream_seed(12, 1));
  std::vector<Step> steps;
  for (int e = 0; e < epochs; ++e) {
    for (int tag = 0; tag < 6; ++tag) {
      if (tag == 3 && e >= 60 && e < 76) continue;
      const double a = 0.05 * e + tag;
      double x = 0, y = 0;
      const double z = tag == 1 ? 5.2 : 1.2;
      const std::string floor(tag == 0 ? "B1" : tag == 1 ? "B2" : "1");
      if (tag < 2) {  // in the building, tag 1 upstairs
        x = 16 + 4 * std::cos(a), y = 16 + 4 * std::sin(a);
      } else {
        x = 20 + 14 * std::cos(a), y = 20 + 14 * std::sin(a);
        if (tag == 4 && e >= 100) x = 38 + 0.5 * std::cos(a), y = 2 + 0.5 * std::sin(a);  // a 39 m jump
      }
      Step st;
      st.tag = tag;
      st.t = e * kSecond + tag * 10 * kMillisecond;
      if (tag == 5 && e % 50 == 49) st.t -= 3 * kSecond;  // late: behind the filter
      if (e == 0 || (tag == 1 && e == 100)) st.set_floor = floor;
      std::vector<double> d;
      for (const Anchor& an : s.anchors) {
        double r = std::sqrt((x - an.at[0]) * (x - an.at[0]) + (y - an.at[1]) * (y - an.at[1]) + (z - an.at[2]) * (z - an.at[2]));
        r += 0.08 * g.next();
        if (g.uniform() < 0.03) r += 3 + 2 * g.uniform();
        d.push_back(r);
      }
      for (int k = 0; k < static_cast<int>(d.size()); ++k) {
        if (!tdoa) st.ranges.push_back({k, d[static_cast<size_t>(k)]});
        else if (k > 0) st.diffs.push_back({0, k, d[static_cast<size_t>(k)] - d[0]});
      }
      steps.push_back(std::move(st));
    }
  }
  return steps;
}

std::optional<SolvedFix> apply(Solver& s, const Step& st) {
  if (!st.set_floor.empty()) s.set_floor(st.tag, st.set_floor);
  return st.diffs.empty() ? s.solve_twr(st.tag, st.t, st.ranges) : s.solve_tdoa(st.tag, st.t, st.diffs);
}

void expect_same(const std::optional<SolvedFix>& a, const std::optional<SolvedFix>& b, size_t i) {
  ASSERT_EQ(a.has_value(), b.has_value()) << "step " << i;
  if (!a) return;
  EXPECT_EQ(a->t_measured, b->t_measured) << i;
  EXPECT_EQ(a->t_available, b->t_available) << i;
  EXPECT_EQ(bits(a->x), bits(b->x)) << i;
  EXPECT_EQ(bits(a->y), bits(b->y)) << i;
  EXPECT_EQ(bits(a->z), bits(b->z)) << i;
  EXPECT_EQ(bits(a->residual_rms), bits(b->residual_rms)) << i;
  EXPECT_EQ(bits(a->sigma_m), bits(b->sigma_m)) << i;
  EXPECT_EQ(a->floor, b->floor) << i;
  EXPECT_EQ(a->z_solved, b->z_solved) << i;
  EXPECT_EQ(a->anchors_used, b->anchors_used) << i;
  EXPECT_EQ(a->anchors_heard, b->anchors_heard) << i;
  EXPECT_EQ(a->anchors_rejected, b->anchors_rejected) << i;
}

std::string saved(const Solver& s) {
  ByteWriter w;
  s.save(w);
  return w.take();
}

void resume_mid_track(bool tdoa, bool kalman) {
  const Site site = yard_with_building();
  SolverParams p;
  p.kalman = kalman;
  const std::vector<Step> steps = track(site, 200, tdoa);
  // the uninterrupted run
  std::vector<std::optional<SolvedFix>> ref;
  {
    Solver s(site, p);
    for (const Step& st : steps) ref.push_back(apply(s, st));
  }
  // checkpoints every 7 steps (every tag's state at many moments: in a gate, after a silence, up-
  // and downstairs), each loaded into a fresh solver that goes on for 40 steps
  Solver a(site, p);
  int fixes = 0, gated = 0, z3d = 0;
  for (size_t cut = 0; cut < steps.size(); ++cut) {
    if (cut % 7 == 0) {
      const std::string bytes = saved(a);
      Solver b(site, p);
      ByteReader r(bytes);
      ASSERT_TRUE(b.load(r)) << r.error();
      EXPECT_TRUE(r.at_end());
      EXPECT_TRUE(saved(b) == bytes) << "state at step " << cut << " not the same after a round trip";
      for (size_t i = cut; i < std::min(steps.size(), cut + 40); ++i) expect_same(ref[i], apply(b, steps[i]), i);
    }
    const auto f = apply(a, steps[cut]);
    expect_same(ref[cut], f, cut);
    fixes += f ? 1 : 0;
    gated += f ? 0 : 1;
    z3d += f && f->z_solved ? 1 : 0;
  }
  // from the middle to the end, and the states at the end
  const size_t half = steps.size() / 2;
  Solver c(site, p);
  for (size_t i = 0; i < half; ++i) apply(c, steps[i]);
  Solver d(site, p);
  const std::string bytes = saved(c);
  ByteReader r(bytes);
  ASSERT_TRUE(d.load(r)) << r.error();
  for (size_t i = half; i < steps.size(); ++i) expect_same(ref[i], apply(d, steps[i]), i);
  EXPECT_TRUE(saved(d) == saved(a)) << "states at the end differ";
  // the track exercised what the state holds
  EXPECT_GT(fixes, static_cast<int>(steps.size()) * 8 / 10);
  if (kalman) {
    EXPECT_GT(gated, 0);  // the speed gate refused the jump
  }
  if (!tdoa) {
    EXPECT_GT(z3d, 0);
  }
}

TEST(SolverCheckpoint, H01_ResumedMidTrackGivesIdenticalFixes) { resume_mid_track(false, true); }
TEST(SolverCheckpoint, H01_ResumedMidTrackGivesIdenticalFixesTdoa) { resume_mid_track(true, true); }
TEST(SolverCheckpoint, H01_ResumedMidTrackGivesIdenticalFixesUnfiltered) { resume_mid_track(false, false); }

TEST(SolverCheckpoint, H01_StateSplitsOverAndMergesFromSolversByTag) {
  const Site site = yard_with_building();
  const std::vector<Step> steps = track(site, 120, false);
  const size_t half = steps.size() / 2;
  Solver all(site), even(site), odd(site);
  for (size_t i = 0; i < half; ++i) {
    apply(all, steps[i]);
    apply(steps[i].tag % 2 ? odd : even, steps[i]);
  }
  // merged from two solvers: byte for byte the single solver's state, in either order
  const Solver* parts[] = {&odd, &even};
  ByteWriter merged;
  Solver::save_merged(merged, parts);
  EXPECT_TRUE(merged.bytes() == saved(all)) << "merged state differs";
  // split by tag into three solvers, which go on as the single one
  std::vector<Solver> lanes;
  for (int i = 0; i < 3; ++i) {
    lanes.emplace_back(site);
    ByteReader r(merged.bytes());
    ASSERT_TRUE(lanes.back().load(r, [i](int tag) { return tag % 3 == i; })) << r.error();
  }
  for (size_t i = half; i < steps.size(); ++i)
    expect_same(apply(all, steps[i]), apply(lanes[static_cast<size_t>(steps[i].tag % 3)], steps[i]), i);
}

TEST(SolverCheckpoint, H01_EmptySolverRoundTrips) {
  const Site site = yard_with_building();
  Solver a(site), b(site);
  const std::string bytes = saved(a);
  ByteReader r(bytes);
  EXPECT_TRUE(b.load(r)) << r.error();
  EXPECT_TRUE(r.at_end());
}

TEST(SolverCheckpoint, H01_ForeignSiteAndBadInputAreRefusedAndChangeNothing) {
  const Site site = yard_with_building();
  const std::vector<Step> steps = track(site, 40, false);
  Solver a(site);
  for (size_t i = 0; i < steps.size() / 2; ++i) apply(a, steps[i]);
  const std::string bytes = saved(a);

  // another site: one anchor fewer, or no building
  Site fewer = site;
  fewer.anchors.pop_back();
  Solver f(fewer);
  ByteReader r1(bytes);
  EXPECT_FALSE(f.load(r1));
  EXPECT_NE(r1.error().find("anchors"), std::string::npos) << r1.error();
  Site flat = site;
  flat.buildings.clear();
  Solver g(flat);
  ByteReader r2(bytes);
  EXPECT_FALSE(g.load(r2));

  // not a solver state at all; a later version
  Solver b(site);
  for (size_t i = 0; i < steps.size() / 2; ++i) apply(b, steps[i]);
  const std::string before = saved(b);
  ByteReader r3("garbage garbage garbage");
  EXPECT_FALSE(b.load(r3));
  std::string later = bytes;
  later[4] = 3;  // the current version is 2 (issue 19 added the gated-fix state); 3 is a later one
  ByteReader r4(later);
  EXPECT_FALSE(b.load(r4));
  EXPECT_NE(r4.error().find("version"), std::string::npos) << r4.error();
  EXPECT_TRUE(saved(b) == before);  // a refused load leaves the solver as it was

  // a building index the site lacks: the field right before the last tag's floor string
  ByteWriter one;
  {
    Solver c(site);
    c.set_floor(7, "B2");
    c.save(one);
  }
  std::string bad = one.bytes();
  const size_t building_at = bad.size() - 8 - 2 - 4;  // floor: u64 length + "B2"; building: i32
  bad[building_at] = 5;
  ByteReader r5(bad);
  EXPECT_FALSE(b.load(r5));
  EXPECT_NE(r5.error().find("building"), std::string::npos) << r5.error();
  EXPECT_TRUE(saved(b) == before);
}

TEST(SolverCheckpoint, H01_EveryTruncationIsRefusedAndByteFlipsNeverCrash) {
  const Site site = yard_with_building();
  const std::vector<Step> steps = track(site, 30, false);
  Solver a(site);
  for (size_t i = 0; i < steps.size() / 2; ++i) apply(a, steps[i]);
  const std::string bytes = saved(a);
  ASSERT_GT(bytes.size(), 6u * 200);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Solver b(site);
    ByteReader r(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(b.load(r)) << "prefix of " << n << " bytes";
    EXPECT_FALSE(r.ok());
  }
  // every byte flipped in turn: refused, or loaded and the solver still runs
  int refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ (0x5A + (i % 7)));
    Solver b(site);
    ByteReader r(bad);
    if (!b.load(r)) {
      ++refused;
      continue;
    }
    for (size_t k = steps.size() / 2; k < steps.size() / 2 + 12; ++k) apply(b, steps[k]);
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace planttwin
