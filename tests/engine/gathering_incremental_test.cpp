// PL-02 / H-01, issue 18: the gathering finder the engine uses (GatheringFinder, which carries
// work across evaluations) against the reference finder (ReferenceGatheringFinder: the finder as of
// commit ed588e7) and the textbook method (find_gatherings_naive), evaluation by evaluation: the
// same groups, members and centres bit for bit. The populations evolve as the engine sees them:
// people move up to a couple of metres between evaluations (some stand still, to the last bit),
// enter and leave (a fix too old), change floors; crowds, lines, rings, walkers, grid-snapped
// positions (ties, coincident people, pairs exactly 2R apart).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include "engine/gathering_geometry.h"
#include "engine/gathering_reference.h"

namespace planttwin {
namespace {

bool same_groups(const std::vector<DiskGroup>& a, const std::vector<DiskGroup>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].members != b[i].members || a[i].center.x != b[i].center.x || a[i].center.y != b[i].center.y) return false;
  return true;
}

std::string describe(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt) {
  std::ostringstream os;
  os.precision(17);
  os << "radius " << opt.radius << " min_size " << opt.min_size << ", " << points.size() << " people:";
  for (const GatherPoint& p : points) os << " (" << p.key << ": " << p.p.x << ", " << p.p.y << ")";
  return os.str();
}

enum class Layout { crowd, crowds, line, ring, walkers, snapped, mixed, count };

// One population evolving over a sequence of evaluations.
struct Population {
  std::vector<Vec2> pos;
  std::vector<Vec2> goal;
  std::vector<int> floor;
  std::vector<char> present;  // fix current (entered, not left, fix young enough)
  std::vector<std::uint32_t> key;
  std::vector<char> still;    // stands still: the same position to the last bit
};

struct Generator {
  std::mt19937_64 rng;
  double uniform(double lo, double hi) { return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1.0p-53); }
  bool chance(double p) { return uniform(0, 1) < p; }
  int integer(int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); }

  Vec2 in_disk(Vec2 c, double r, double inner = 0) {
    const double rr = r * std::sqrt(inner * inner + (1 - inner * inner) * uniform(0, 1));
    const double a = uniform(0, 2 * std::numbers::pi);
    return {c.x + rr * std::cos(a), c.y + rr * std::sin(a)};
  }

  Population make(Layout layout, int n, double radius, int floors) {
    Population p;
    p.pos.resize(static_cast<std::size_t>(n));
    const double r = radius;
    for (int i = 0; i < n; ++i) {
      Vec2& at = p.pos[static_cast<std::size_t>(i)];
      switch (layout) {
        case Layout::crowd: at = in_disk({50, 50}, uniform(0.6, 1.4) * r); break;
        case Layout::crowds: at = in_disk({40.0 * integer(0, 2), 40.0 * integer(0, 1)}, uniform(0.5, 1.3) * r); break;
        case Layout::line: {
          const double s = uniform(0, 1) * n * uniform(0.3, 1.2) * r;
          at = {s + uniform(-0.3, 0.3), 0.5 * s + uniform(-0.3, 0.3)};
          break;
        }
        case Layout::ring: at = in_disk({0, 0}, uniform(0.95, 1.08) * r, 0.98); break;
        case Layout::walkers: at = {uniform(0, 10 * r), uniform(0, 10 * r)}; break;
        case Layout::snapped: at = {std::round(uniform(0, 4 * r)), std::round(uniform(0, 4 * r))}; break;
        case Layout::mixed:
        case Layout::count: at = chance(0.5) ? in_disk({0, 0}, r) : Vec2{uniform(-3 * r, 3 * r), uniform(-3 * r, 3 * r)}; break;
      }
    }
    p.goal = p.pos;
    p.floor.resize(p.pos.size());
    for (int& f : p.floor) f = chance(0.8) ? 0 : integer(0, floors - 1);
    p.present.resize(p.pos.size());
    for (char& c : p.present) c = chance(0.9);
    p.key.resize(p.pos.size());
    std::iota(p.key.begin(), p.key.end(), 0u);
    if (chance(0.5)) std::shuffle(p.key.begin(), p.key.end(), rng);
    p.still.resize(p.pos.size());
    const double still = uniform(0, 1);
    for (char& c : p.still) c = chance(still);
    return p;
  }

  // One evaluation interval: up to 1.2 m walking (sometimes up to 3 m: a jump of the fix),
  // snapped layouts stay on whole metres; people enter and leave, rarely change floors.
  void move(Population& p, Layout layout, int floors) {
    for (std::size_t i = 0; i < p.pos.size(); ++i) {
      if (chance(0.03)) p.present[i] = !p.present[i];
      if (chance(0.005)) p.floor[i] = integer(0, floors - 1);
      if (p.still[i]) {
        if (chance(0.02)) p.still[i] = 0;
        continue;
      }
      if (chance(0.02)) p.still[i] = 1;
      if (layout == Layout::snapped) {
        p.pos[i] = {p.pos[i].x + integer(-1, 1), p.pos[i].y + integer(-1, 1)};
        continue;
      }
      Vec2& at = p.pos[i];
      Vec2& g = p.goal[i];
      const double d = dist(at, g);
      const double step = chance(0.05) ? uniform(0, 3) : uniform(0, 1.2);
      if (d <= step) {
        at = g;
        g = {at.x + uniform(-30, 30), at.y + uniform(-30, 30)};
      } else {
        at = {at.x + step * (g.x - at.x) / d, at.y + step * (g.y - at.y) / d};
      }
    }
  }
};

struct Counts {
  long evaluations = 0, naive = 0, groups = 0, members = 0;
  std::uint64_t solved = 0, reused = 0;  // components the incremental finder solved or reused
};

// Runs `sequences` populations of `steps` evaluations each; per floor one GatheringFinder and one
// ReferenceGatheringFinder live through the sequence, as in the engine's rule.
void run_differential(std::uint64_t seed, int sequences, int steps, int min_people, int max_people, int naive_every,
                      Counts& counts) {
  Generator gen{std::mt19937_64(seed)};
  std::vector<GatherPoint> points;
  std::vector<DiskGroup> fast, reference;
  for (int s = 0; s < sequences; ++s) {
    const auto layout = static_cast<Layout>(s % static_cast<int>(Layout::count));
    const int floors = gen.integer(1, 3);
    const double radius = gen.chance(0.8) ? 15.0 : gen.uniform(3, 25);
    const int min_size = gen.chance(0.8) ? 3 : gen.integer(1, 5);
    const GatheringGeometryOptions opt{radius, min_size};
    Population p = gen.make(layout, gen.integer(min_people, max_people), radius, floors);
    std::vector<GatheringFinder> finders(static_cast<std::size_t>(floors));
    std::vector<ReferenceGatheringFinder> references(static_cast<std::size_t>(floors));
    for (int step = 0; step < steps; ++step) {
      for (int f = 0; f < floors; ++f) {
        points.clear();
        for (std::size_t i = 0; i < p.pos.size(); ++i)
          if (p.present[i] && p.floor[i] == f) points.push_back({p.pos[i], p.key[i]});
        finders[static_cast<std::size_t>(f)].find(points, opt, fast);
        references[static_cast<std::size_t>(f)].find(points, opt, reference);
        ++counts.evaluations;
        if (!same_groups(fast, reference)) {
          ADD_FAILURE() << "incremental and reference finders differ: seed " << seed << " sequence " << s << " step " << step
                        << " floor " << f << ", " << describe(points, opt);
          return;
        }
        if (naive_every > 0 && counts.evaluations % naive_every == 0 && points.size() <= 80) {
          ++counts.naive;
          if (!same_groups(fast, find_gatherings_naive(points, opt))) {
            ADD_FAILURE() << "incremental and naive finders differ: seed " << seed << " sequence " << s << " step " << step
                          << " floor " << f << ", " << describe(points, opt);
            return;
          }
        }
        counts.groups += static_cast<long>(fast.size());
        for (const DiskGroup& g : fast) counts.members += static_cast<long>(g.members.size());
      }
      gen.move(p, layout, floors);
    }
    for (const GatheringFinder& f : finders) counts.solved += f.counts().solved, counts.reused += f.counts().reused;
  }
}

// The million evaluations: small populations (3-40 people per floor), 25 evaluations each. Under a
// sanitizer (scripts/sanitize) a tenth of them: the same code paths, checked for memory errors and
// undefined behaviour, at a tenth of ten times the cost; the Release run makes the million.
#ifdef PLANTTWIN_SANITIZED
constexpr int kSequences = 2400;
constexpr long kAtLeast = 100000;
#else
constexpr int kSequences = 24000;
constexpr long kAtLeast = 1000000;
#endif
TEST(GatheringIncremental, PL02_H01_MatchesReferenceAndNaiveOnAMillionEvaluations) {
  Counts c;
  run_differential(18, kSequences, 25, 3, 40, 10, c);
  RecordProperty("evaluations", static_cast<int>(c.evaluations));
  std::printf("[ differential ] %ld evaluations, %ld also against the naive method, %ld groups, %ld members; "
              "components solved %llu, reused %llu\n",
              c.evaluations, c.naive, c.groups, c.members, static_cast<unsigned long long>(c.solved),
              static_cast<unsigned long long>(c.reused));
  EXPECT_GE(c.evaluations, kAtLeast);
  EXPECT_GT(c.reused, c.solved / 20);  // still people: the carried work is exercised
  EXPECT_GT(c.groups, c.evaluations / 4);
}

// Larger populations (components of hundreds, crowds solved by the heap) over longer sequences.
TEST(GatheringIncremental, PL02_H01_MatchesReferenceOnLargerPopulations) {
  Counts c;
  run_differential(1818, 42, 30, 100, 400, 20, c);
  std::printf("[ differential ] %ld evaluations, %ld also against the naive method, %ld groups; components solved "
              "%llu, reused %llu\n",
              c.evaluations, c.naive, c.groups, static_cast<unsigned long long>(c.solved),
              static_cast<unsigned long long>(c.reused));
  EXPECT_GT(c.groups, 1000);
}

// The same finder reused across unrelated inputs and options gives what a fresh one gives.
TEST(GatheringIncremental, PL02_ReusedFinderEqualsAFreshOneAcrossOptionChanges) {
  Generator gen{std::mt19937_64(99)};
  GatheringFinder reused;
  std::vector<DiskGroup> a, b;
  for (int k = 0; k < 300; ++k) {
    const GatheringGeometryOptions opt{k % 5 == 0 ? 10.0 : 15.0, 2 + k % 3};
    Population p = gen.make(static_cast<Layout>(k % static_cast<int>(Layout::count)), gen.integer(3, 60), 15, 1);
    std::vector<GatherPoint> points;
    for (std::size_t i = 0; i < p.pos.size(); ++i) points.push_back({p.pos[i], p.key[i]});
    for (int repeat = 0; repeat < 2; ++repeat) {
      reused.find(points, opt, a);
      GatheringFinder fresh;
      fresh.find(points, opt, b);
      ASSERT_TRUE(same_groups(a, b)) << describe(points, opt);
    }
  }
}


// The benchmarks' densities, evaluation after evaluation, against the reference finder: 5,000
// random-waypoint walkers at 1.2 m/s on 1 km2 (one connected component of about 5,000 people and
// hundreds of groups: BM_EngineIngestDense), 2,000 on 400 m x 300 m (about 55 people within 2R each:
// BM_SimRealtimeFactor/2000) and 1,500 on 150 m x 150 m (about 190 each: member sets of three and
// four 64-bit words).
TEST(GatheringIncremental, PL02_H01_MatchesReferenceAtTheBenchmarksDensities) {
  struct Case {
    int people;
    double width, height;
    int steps;
  };
#ifdef PLANTTWIN_SANITIZED
  const Case cases[] = {{5000, 1000, 1000, 2}, {2000, 400, 300, 2}, {1500, 150, 150, 1}};
#else
  const Case cases[] = {{5000, 1000, 1000, 30}, {2000, 400, 300, 20}, {1500, 150, 150, 6}};
#endif
  for (const Case& c : cases) {
    Generator gen{std::mt19937_64(static_cast<std::uint64_t>(c.people))};
    std::vector<Vec2> pos(static_cast<std::size_t>(c.people)), goal(pos.size());
    for (std::size_t i = 0; i < pos.size(); ++i)
      pos[i] = {gen.uniform(0, c.width), gen.uniform(0, c.height)}, goal[i] = {gen.uniform(0, c.width), gen.uniform(0, c.height)};
    GatheringFinder finder;
    ReferenceGatheringFinder reference;
    std::vector<GatherPoint> points;
    std::vector<DiskGroup> fast, slow;
    const GatheringGeometryOptions opt{15, 3};
    long groups = 0;
    for (int step = 0; step < c.steps; ++step) {
      points.clear();
      for (std::size_t i = 0; i < pos.size(); ++i) points.push_back({pos[i], static_cast<std::uint32_t>(i)});
      finder.find(points, opt, fast);
      reference.find(points, opt, slow);
      ASSERT_TRUE(same_groups(fast, slow)) << c.people << " people, step " << step;
      groups += static_cast<long>(fast.size());
      for (std::size_t i = 0; i < pos.size(); ++i) {
        const double d = dist(pos[i], goal[i]);
        if (d < 1.2) goal[i] = {gen.uniform(0, c.width), gen.uniform(0, c.height)};
        else pos[i] = {pos[i].x + 1.2 * (goal[i].x - pos[i].x) / d, pos[i].y + 1.2 * (goal[i].y - pos[i].y) / d};
      }
    }
    std::printf("[ differential ] %d people on %g m x %g m: %d evaluations, %ld groups\n", c.people, c.width, c.height,
                c.steps, groups);
    EXPECT_GT(groups, 20L * c.steps);  // dozens to hundreds of groups per evaluation: the greedy order is exercised
  }
}


// The memory bound on kept candidate sets (GatheringGeometryOptions::kept_set_words) changes only
// the speed: with none kept, a thousand words (a few dozen people), or the default, the groups
// are the reference finder's, evaluation after evaluation, at the simulator's density.
TEST(GatheringIncremental, PL02_KeptSetsBoundChangesOnlyTheSpeed) {
  Generator gen{std::mt19937_64(27)};
  std::vector<Vec2> pos(2000), goal(pos.size());
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = {gen.uniform(0, 400), gen.uniform(0, 300)}, goal[i] = {gen.uniform(0, 400), gen.uniform(0, 300)};
  const std::size_t bounds[] = {0, 1000, GatheringGeometryOptions{}.kept_set_words};
  std::vector<GatheringFinder> finders(3);
  ReferenceGatheringFinder reference;
  std::vector<GatherPoint> points;
  std::vector<DiskGroup> fast, slow;
  long groups = 0;
  for (int step = 0; step < 5; ++step) {
    points.clear();
    for (std::size_t i = 0; i < pos.size(); ++i) points.push_back({pos[i], static_cast<std::uint32_t>(i)});
    reference.find(points, {15, 3}, slow);
    for (int f = 0; f < 3; ++f) {
      GatheringGeometryOptions opt{15, 3};
      opt.kept_set_words = bounds[f];
      finders[static_cast<std::size_t>(f)].find(points, opt, fast);
      ASSERT_TRUE(same_groups(fast, slow)) << "kept_set_words " << bounds[f] << ", step " << step;
    }
    groups += static_cast<long>(slow.size());
    for (std::size_t i = 0; i < pos.size(); ++i) {
      const double d = dist(pos[i], goal[i]);
      if (d < 1.2) goal[i] = {gen.uniform(0, 400), gen.uniform(0, 300)};
      else pos[i] = {pos[i].x + 1.2 * (goal[i].x - pos[i].x) / d, pos[i].y + 1.2 * (goal[i].y - pos[i].y) / d};
    }
  }
  EXPECT_GT(groups, 250L);
}

}  // namespace
}  // namespace planttwin
