#include "engine/gathering_geometry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

namespace planttwin {
namespace {

constexpr double kR = 15;

// People in the given order get keys 0, 1, 2, ...
std::vector<GatherPoint> people_at(const std::vector<Vec2>& positions) {
  std::vector<GatherPoint> out;
  for (const Vec2& p : positions) out.push_back({p, static_cast<std::uint32_t>(out.size())});
  return out;
}

Vec2 on_circle(Vec2 centre, double radius, double degrees) {
  const double a = degrees * std::numbers::pi / 180;
  return {centre.x + radius * std::cos(a), centre.y + radius * std::sin(a)};
}

// Equilateral triangle with the given circumradius.
std::vector<GatherPoint> triangle(Vec2 centre, double circumradius) {
  return people_at({on_circle(centre, circumradius, 90), on_circle(centre, circumradius, 210),
                    on_circle(centre, circumradius, 330)});
}

std::vector<DiskGroup> gatherings(const std::vector<GatherPoint>& points, GatheringGeometryOptions opt = {}) {
  GatheringFinder finder;
  std::vector<DiskGroup> groups;
  finder.find(points, opt, groups);
  return groups;
}

using Keys = std::vector<std::uint32_t>;

std::vector<Keys> members_of(const std::vector<DiskGroup>& groups) {
  std::vector<Keys> out;
  for (const DiskGroup& g : groups) out.push_back(g.members);
  return out;
}

// Centres are compared exactly: both methods take them from the same circle over the same keys.
void expect_same_groups(const std::vector<DiskGroup>& a, const std::vector<DiskGroup>& b) {
  ASSERT_EQ(members_of(a), members_of(b));
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].center.x, b[i].center.x) << "group " << i;
    EXPECT_EQ(a[i].center.y, b[i].center.y) << "group " << i;
  }
}

// n people uniform in a side x side square, keys in random order; snap > 0 rounds coordinates to
// that step, which makes ties, coincident people and pairs exactly 2R apart common.
std::vector<GatherPoint> random_layout(std::mt19937& rng, int n, double side, double snap = 0) {
  std::uniform_real_distribution<double> coordinate(0, side);
  std::vector<std::uint32_t> keys(n);
  std::iota(keys.begin(), keys.end(), 0u);
  std::shuffle(keys.begin(), keys.end(), rng);
  std::vector<GatherPoint> out;
  for (int i = 0; i < n; ++i) {
    Vec2 p{coordinate(rng), coordinate(rng)};
    if (snap > 0) p = {std::round(p.x / snap) * snap, std::round(p.y / snap) * snap};
    out.push_back({p, keys[i]});
  }
  return out;
}

// Every group is disjoint from the others, at least min_size, inside the documented disk around
// its centre, and the list is in greedy order.
void expect_valid_groups(const std::vector<GatherPoint>& points, const std::vector<DiskGroup>& groups,
                         const GatheringGeometryOptions& opt) {
  const double cover = opt.radius * (1 + 1e-9) + 1e-9;
  std::vector<Vec2> at(points.size());
  for (const GatherPoint& p : points) at[p.key] = p.p;
  std::vector<bool> taken(points.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const Keys& m = groups[i].members;
    EXPECT_GE(m.size(), static_cast<std::size_t>(opt.min_size));
    EXPECT_TRUE(std::is_sorted(m.begin(), m.end()));
    for (std::uint32_t k : m) {
      EXPECT_FALSE(taken[k]) << "person " << k << " in two groups";
      taken[k] = true;
      EXPECT_LE(dist(groups[i].center, at[k]), cover) << "person " << k << " outside the disk of group " << i;
    }
    if (i > 0) {
      const Keys& prev = groups[i - 1].members;
      EXPECT_TRUE(prev.size() > m.size() || (prev.size() == m.size() && prev < m)) << "group " << i << " out of order";
    }
  }
}

TEST(GatheringGeometry, PL02_TriangleCircumradius14_5mGathers) {
  const auto points = triangle({100, 50}, 14.5);
  // no person-centred 15 m disk holds the other two (the sides are 25.1 m)
  EXPECT_GT(dist(points[0].p, points[1].p), kR);
  const auto groups = gatherings(points);
  ASSERT_EQ(members_of(groups), (std::vector<Keys>{{0, 1, 2}}));
  EXPECT_NEAR(groups[0].center.x, 100, 1e-9);
  EXPECT_NEAR(groups[0].center.y, 50, 1e-9);
}

TEST(GatheringGeometry, PL02_EquilateralSide29mDoesNotGather) {
  const double circumradius = 29 / std::sqrt(3.0);  // 16.74 m
  EXPECT_TRUE(gatherings(triangle({0, 0}, circumradius)).empty());
}

TEST(GatheringGeometry, PL02_CircumradiusJustBelowRGathers) {
  EXPECT_EQ(gatherings(triangle({37.25, -12.5}, kR - 1e-4)).size(), 1u);
}

TEST(GatheringGeometry, PL02_CircumradiusAtRGathers) {
  EXPECT_EQ(gatherings(triangle({37.25, -12.5}, kR)).size(), 1u);
  // exactly representable: the hypotenuse is a 30 m diameter
  EXPECT_EQ(gatherings(people_at({{0, 0}, {30, 0}, {15, 15}})).size(), 1u);
}

TEST(GatheringGeometry, PL02_CircumradiusJustAboveRDoesNotGather) {
  EXPECT_TRUE(gatherings(triangle({37.25, -12.5}, kR + 1e-4)).empty());
  EXPECT_TRUE(gatherings(people_at({{0, 0}, {30.0002, 0}, {15.0001, 15}})).empty());
}

TEST(GatheringGeometry, PL02_PairExactly2RApartShareADisk) {
  const GatheringGeometryOptions pairs{.radius = kR, .min_size = 2};
  EXPECT_EQ(members_of(gatherings(people_at({{0, 0}, {30, 0}}), pairs)), (std::vector<Keys>{{0, 1}}));
  EXPECT_TRUE(gatherings(people_at({{0, 0}, {30.0001, 0}}), pairs).empty());
}

TEST(GatheringGeometry, PL02_TwoPeopleOnlyNoGroup) {
  EXPECT_TRUE(gatherings(people_at({{0, 0}, {1, 0}})).empty());
  EXPECT_TRUE(gatherings({}).empty());
}

TEST(GatheringGeometry, PL02_CloseFourthPersonOutsideTheDiskIsNotMember) {
  // a triangle of circumradius 14.9 m, and a fourth person 2 m beyond its top corner
  auto points = triangle({0, 0}, 14.9);
  points.push_back({on_circle({0, 0}, 16.9, 90), 3});
  std::vector<Vec2> all;
  for (const GatherPoint& p : points) all.push_back(p.p);
  ASSERT_GT(smallest_enclosing_radius(all), kR);
  ASSERT_LT(dist(points[0].p, points[3].p), 2.01);

  const auto groups = gatherings(points);
  EXPECT_EQ(members_of(groups), (std::vector<Keys>{{0, 1, 2}}));
}

TEST(GatheringGeometry, PL02_TieGoesToSmallestKeys) {
  // four people on a line 10 m apart, R = 10 m: either end's three fit, not all four
  const std::vector<GatherPoint> points{{{0, 0}, 3}, {{10, 0}, 0}, {{20, 0}, 1}, {{30, 0}, 2}};
  const GatheringGeometryOptions opt{.radius = 10, .min_size = 3};
  EXPECT_EQ(members_of(gatherings(points, opt)), (std::vector<Keys>{{0, 1, 2}}));
  expect_same_groups(gatherings(points, opt), find_gatherings_naive(points, opt));
}

TEST(GatheringGeometry, PL02_DisjointCrowdsGiveDisjointGroupsLargestFirst) {
  std::vector<Vec2> positions;
  for (int i = 0; i < 3; ++i) positions.push_back(on_circle({0, 200}, 5, 120.0 * i));   // keys 0-2
  for (int i = 0; i < 5; ++i) positions.push_back(on_circle({0, 0}, 8, 72.0 * i));     // keys 3-7
  for (int i = 0; i < 7; ++i) positions.push_back(on_circle({200, 0}, 10, 51.0 * i));  // keys 8-14
  const auto groups = gatherings(people_at(positions));
  EXPECT_EQ(members_of(groups),
            (std::vector<Keys>{{8, 9, 10, 11, 12, 13, 14}, {3, 4, 5, 6, 7}, {0, 1, 2}}));
}

TEST(GatheringGeometry, PL02_GreedyTakesLargestThenTheRest) {
  // five around (0, 0), three more around (32, 0), linked (within 2R) but no disk holds any of
  // the three with the five: the five go first
  std::vector<Vec2> positions;
  for (int i = 0; i < 5; ++i) positions.push_back(on_circle({0, 0}, 6, 72.0 * i));
  for (int i = 0; i < 3; ++i) positions.push_back(on_circle({32, 0}, 3, 120.0 * i + 60));
  ASSERT_LT(dist(positions[0], positions[6]), 2 * kR);
  const auto points = people_at(positions);
  const auto groups = gatherings(points);
  EXPECT_EQ(members_of(groups), (std::vector<Keys>{{0, 1, 2, 3, 4}, {5, 6, 7}}));
  expect_same_groups(groups, find_gatherings_naive(points, {}));
}

TEST(GatheringGeometry, PL02_ResultIndependentOfInputOrder) {
  std::mt19937 rng(2024);
  GatheringFinder finder;
  for (int layout = 0; layout < 20; ++layout) {
    auto points = random_layout(rng, 200, 150);
    std::vector<DiskGroup> reference, shuffled;
    finder.find(points, {}, reference);
    ASSERT_FALSE(reference.empty());
    for (int round = 0; round < 3; ++round) {
      std::shuffle(points.begin(), points.end(), rng);
      finder.find(points, {}, shuffled);
      expect_same_groups(reference, shuffled);
    }
  }
}

TEST(GatheringGeometry, PL02_MatchesNaiveOnRandomLayouts) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size(5, 40);
  GatheringFinder finder;  // one finder for all layouts: buffers are reused
  std::vector<DiskGroup> fast;
  int groups_seen = 0;
  for (int layout = 0; layout < 300; ++layout) {
    const auto points = random_layout(rng, size(rng), 60);
    const GatheringGeometryOptions opt{.radius = layout % 3 == 0 ? 8.0 : kR, .min_size = 2 + layout % 2};
    finder.find(points, opt, fast);
    SCOPED_TRACE(layout);
    expect_same_groups(fast, find_gatherings_naive(points, opt));
    expect_valid_groups(points, fast, opt);
    groups_seen += static_cast<int>(fast.size());
  }
  EXPECT_GT(groups_seen, 300);
}

TEST(GatheringGeometry, PL02_MatchesNaiveOnSparseLayouts) {
  // people spread thin (a few neighbours each within 2R), the case of walkers across a plant,
  // which the finder solves by listing candidate disks; half snapped to whole metres for ties
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> size(30, 160);
  GatheringFinder finder;
  std::vector<DiskGroup> fast;
  int groups_seen = 0;
  for (int layout = 0; layout < 120; ++layout) {
    const auto points = random_layout(rng, size(rng), 300, layout % 2 == 0 ? 0.0 : 1.0);
    const GatheringGeometryOptions opt{.radius = kR, .min_size = 3 + layout % 3};
    finder.find(points, opt, fast);
    SCOPED_TRACE(layout);
    expect_same_groups(fast, find_gatherings_naive(points, opt));
    expect_valid_groups(points, fast, opt);
    groups_seen += static_cast<int>(fast.size());
  }
  EXPECT_GT(groups_seen, 200);
}

TEST(GatheringGeometry, PL02_MatchesNaiveOnGridSnappedLayouts) {
  // whole-metre positions: ties, people on the same spot and pairs exactly 2R apart
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> size(5, 40);
  GatheringFinder finder;
  std::vector<DiskGroup> fast;
  for (int layout = 0; layout < 200; ++layout) {
    const auto points = random_layout(rng, size(rng), 60, layout % 2 == 0 ? 1.0 : 5.0);
    const GatheringGeometryOptions opt{.radius = layout % 4 < 2 ? 10.0 : kR, .min_size = 3};
    finder.find(points, opt, fast);
    SCOPED_TRACE(layout);
    expect_same_groups(fast, find_gatherings_naive(points, opt));
    expect_valid_groups(points, fast, opt);
  }
}

TEST(GatheringGeometry, PL02_MatchesNaiveOnSeveralCrowds) {
  // 150 people in a 200 m square: several components, some fitting one disk, some not
  std::mt19937 rng(5);
  GatheringFinder finder;
  std::vector<DiskGroup> fast;
  for (int layout = 0; layout < 10; ++layout) {
    const auto points = random_layout(rng, 150, 200);
    finder.find(points, {}, fast);
    SCOPED_TRACE(layout);
    expect_same_groups(fast, find_gatherings_naive(points, {}));
    expect_valid_groups(points, fast, {});
  }
}

TEST(GatheringGeometry, PL02_GroupMembersFitInDiskAroundCenter) {
  std::mt19937 rng(3);
  GatheringFinder finder;
  std::vector<DiskGroup> groups;
  for (int layout = 0; layout < 20; ++layout) {
    const auto points = random_layout(rng, 2000, 400);
    finder.find(points, {}, groups);
    ASSERT_FALSE(groups.empty());
    expect_valid_groups(points, groups, {});
  }
}

TEST(GatheringGeometry, PL02_SmallestEnclosingRadiusKnownValues) {
  Vec2 c;
  EXPECT_EQ(smallest_enclosing_radius({}), 0);
  const std::vector<Vec2> one{{3, 4}};
  EXPECT_EQ(smallest_enclosing_radius(one, &c), 0);
  EXPECT_EQ(c.x, 3);

  const std::vector<Vec2> pair{{0, 0}, {10, 0}};
  EXPECT_DOUBLE_EQ(smallest_enclosing_radius(pair, &c), 5);
  EXPECT_DOUBLE_EQ(c.x, 5);

  const std::vector<Vec2> right{{0, 0}, {6, 0}, {0, 8}};  // half the hypotenuse
  EXPECT_DOUBLE_EQ(smallest_enclosing_radius(right, &c), 5);
  EXPECT_DOUBLE_EQ(c.x, 3);
  EXPECT_DOUBLE_EQ(c.y, 4);

  const std::vector<Vec2> obtuse{{0, 0}, {20, 0}, {10, 2}};  // half the longest side
  EXPECT_DOUBLE_EQ(smallest_enclosing_radius(obtuse), 10);

  const std::vector<Vec2> equilateral{{0, 0}, {29, 0}, {14.5, 29 * std::sqrt(3.0) / 2}};
  EXPECT_NEAR(smallest_enclosing_radius(equilateral), 29 / std::sqrt(3.0), 1e-12);

  const std::vector<Vec2> square{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {5, 5}, {2, 7}};
  EXPECT_NEAR(smallest_enclosing_radius(square, &c), 5 * std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(c.x, 5, 1e-12);

  const std::vector<Vec2> collinear{{0, 0}, {4, 0}, {1, 0}, {9, 0}, {4, 0}};
  EXPECT_DOUBLE_EQ(smallest_enclosing_radius(collinear), 4.5);
}

TEST(GatheringGeometry, PL02_SmallestEnclosingRadiusCoversRandomPoints) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> coordinate(-50, 50);
  for (int round = 0; round < 100; ++round) {
    std::vector<Vec2> pts(2 + round);
    for (Vec2& p : pts) p = {coordinate(rng), coordinate(rng)};
    Vec2 c;
    const double r = smallest_enclosing_radius(pts, &c);
    double farthest = 0;
    for (const Vec2& p : pts) farthest = std::max(farthest, dist(c, p));
    EXPECT_NEAR(farthest, r, 1e-9);  // everyone inside, someone on the edge
  }
}

// AQ 3064.3 App. A: a disk of radius 15 m that need not be centred on anyone.
TEST(GatheringGeometry, PL02_Aq3064AppA_CentrePlusFiveOn12mCircleGatherSix) {
  std::vector<Vec2> positions{{500, 300}};
  for (int i = 0; i < 5; ++i) positions.push_back(on_circle({500, 300}, 12, 72.0 * i + 10));
  EXPECT_EQ(members_of(gatherings(people_at(positions))), (std::vector<Keys>{{0, 1, 2, 3, 4, 5}}));
}

TEST(GatheringGeometry, PL02_Aq3064AppA_PersonOutside18mCircleIsNotInTheGroup) {
  std::vector<Vec2> positions{{500, 300}};
  for (int i = 0; i < 4; ++i) positions.push_back(on_circle({500, 300}, 12, 90.0 * i));
  positions.push_back(on_circle({500, 300}, 18.5, 0));  // key 5
  // no disk holds all six; the five without the outer person fit (other fives tie on size and
  // lose on keys)
  std::vector<Vec2> five(positions.begin(), positions.end() - 1);
  EXPECT_GT(smallest_enclosing_radius(positions), kR);
  EXPECT_LE(smallest_enclosing_radius(five), kR);
  const auto points = people_at(positions);
  EXPECT_EQ(members_of(gatherings(points)), (std::vector<Keys>{{0, 1, 2, 3, 4}}));
  expect_same_groups(gatherings(points), find_gatherings_naive(points, {}));
}

TEST(GatheringGeometry, PL02_CopiedFinderGivesTheSameGroups) {
  std::mt19937 rng(17);
  const auto points = random_layout(rng, 300, 150);
  GatheringFinder original;
  std::vector<DiskGroup> a, b;
  original.find(points, {}, a);
  GatheringFinder copy = original;
  copy.find(points, {}, b);
  expect_same_groups(a, b);
}

}  // namespace
}  // namespace planttwin
