// Crowd layouts shared by the gathering benchmarks.
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

#include "engine/gathering_geometry.h"

namespace planttwin {

struct CrowdLayout {
  int people = 1000;
  int crowd_size = 50;
  double spacing = 120;     // m between crowd centres, on a square grid
  double spread = 12;       // m: everyone within this of their crowd's centre
  std::uint64_t seed = 20260302;
};

// Crowds of people standing uniformly within `spread` of their crowd's centre; every third crowd
// stands in a ring (the outer third of the spread) around an empty middle, such as a tank, so
// that no disk centred on a person holds it. Keys are a shuffled id order, unrelated to place.
inline std::vector<GatherPoint> crowd_layout(const CrowdLayout& layout) {
  std::mt19937_64 rng(layout.seed);
  // from raw bits, so the layout is the same with every standard library
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const int crowds = (layout.people + layout.crowd_size - 1) / layout.crowd_size;
  const int columns = static_cast<int>(std::ceil(std::sqrt(crowds)));

  std::vector<std::uint32_t> keys(static_cast<std::size_t>(layout.people));
  std::iota(keys.begin(), keys.end(), 0u);
  for (std::size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rng() % i]);

  std::vector<GatherPoint> out;
  out.reserve(keys.size());
  for (int i = 0; i < layout.people; ++i) {
    const int crowd = i / layout.crowd_size;
    const Vec2 centre{layout.spacing * (crowd % columns), layout.spacing * (crowd / columns)};
    const double inner = crowd % 3 == 2 ? 2.0 / 3 : 0;  // as a share of the spread
    const double r = layout.spread * std::sqrt(inner * inner + (1 - inner * inner) * uniform());
    const double a = 2 * std::numbers::pi * uniform();
    out.push_back({{centre.x + r * std::cos(a), centre.y + r * std::sin(a)}, keys[static_cast<std::size_t>(i)]});
  }
  return out;
}

}  // namespace planttwin
