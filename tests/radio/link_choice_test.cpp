// Which anchors a blink tries (H-02): the radio.max_anchors nearest within the link's reach, by 3D
// distance with the lower anchor index first on a tie, whatever the number of threads. The pipeline
// keeps the k nearest while it visits the anchor grid's cells and skips cells wholly farther than
// the k-th so far (sim/radio/positioning.cpp); this checks it against a brute-force choice over
// every anchor, on a grid of anchors where ties abound (blinks on cell corners, centres and edges,
// at several heights) and on random blinks, with several values of max_anchors, including 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/radio/positioning.h"
#include "sim/radio/radio.h"
#include "tests/radio/radio_fixtures.h"

namespace planttwin {
namespace {

using radio_fixtures::BoxesLos;

// anchors on a 20 m x 25 m grid, some higher than others, plus a few off the grid
Site grid_site() {
  Site s;
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 9; ++j) s.anchors.push_back({"G" + std::to_string(i) + "-" + std::to_string(j), {20.0 * i, 25.0 * j, (i + j) % 3 == 0 ? 8.0 : 5.0}});
  s.anchors.push_back({"X1", {33.3, 41.7, 6}});
  s.anchors.push_back({"X2", {33.3, 41.7, 6}});  // the same spot: a tie broken by the index
  s.anchors.push_back({"X3", {-50, -40, 3}});
  return s;
}

std::set<int> brute_force(const Site& s, const Vec3& at, double reach, int k) {
  std::vector<std::pair<double, int>> all;
  for (std::size_t a = 0; a < s.anchors.size(); ++a) {
    const double* q = s.anchors[a].at;
    const double d2 = (q[0] - at.x) * (q[0] - at.x) + (q[1] - at.y) * (q[1] - at.y) + (q[2] - at.z) * (q[2] - at.z);
    if (d2 <= reach * reach) all.emplace_back(d2, static_cast<int>(a));
  }
  std::sort(all.begin(), all.end());
  std::set<int> out;
  for (int i = 0; i < k && i < static_cast<int>(all.size()); ++i) out.insert(all[static_cast<std::size_t>(i)].second);
  return out;
}

TEST(LinkChoice, H02_TheNearestAnchorsWithinReachLowerIndexOnATieAtAnyThreadCount) {
  const Site site = grid_site();
  BoxesLos los(radio_fixtures::kMats);
  std::vector<Vec3> at;
  for (int i = -2; i < 10; ++i)
    for (int j = -2; j < 8; ++j)
      for (double z : {1.2, 8.0}) at.push_back({10.0 * i, 12.5 * j, z});  // corners, centres, edges
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> x(-150, 370), y(-150, 350), z(0, 12);
  for (int i = 0; i < 300; ++i) at.push_back({x(rng), y(rng), z(rng)});
  std::size_t compared = 0, ties = 0;
  for (int k : {0, 1, 8, 20}) {
    RadioParams p = radio_defaults(site);
    p.max_anchors = k;
    const double margin_db = p.rx_at_1m_dbm - p.sensitivity_dbm + 3 * p.shadowing_db;
    const double reach = std::pow(10.0, margin_db / (10 * p.pathloss_exponent));
    for (int threads : {1, 2}) {
      SimulatedPositioning pipe(site, p, los, 11, PipelineOptions{threads, true, false});
      std::vector<Blink> blinks;
      for (std::size_t b = 0; b < at.size(); ++b) blinks.push_back({0, static_cast<int>(b), 0, at[b], ""});
      std::vector<SimFix> out;
      pipe.process(blinks, 1.0, out);
      // each tag blinked once: the anchors it tried are the links it has statistics for
      std::vector<std::set<int>> tried(at.size());
      for (const auto& [key, stats] : pipe.link_stats()) {
        ASSERT_EQ(stats.tries, 1u);
        tried[static_cast<std::size_t>(key.first)].insert(key.second);
      }
      for (std::size_t b = 0; b < at.size(); ++b) {
        const std::set<int> want = brute_force(site, at[b], reach, k);
        ASSERT_EQ(tried[b], want) << "blink " << b << " at " << at[b].x << ", " << at[b].y << ", " << at[b].z << ", k " << k
                                  << ", threads " << threads;
        ++compared;
        ties += want.count(static_cast<int>(site.anchors.size()) - 3) + want.count(static_cast<int>(site.anchors.size()) - 2) == 1;
      }
    }
  }
  EXPECT_EQ(compared, 4u * 2u * (12u * 10u * 2u + 300u));
  EXPECT_GT(ties, 0u);  // some blinks took exactly one of the two anchors on one spot: the lower index
}

}  // namespace
}  // namespace planttwin
