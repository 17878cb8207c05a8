// PL-02 gathering geometry: the exact decomposition against the textbook method.
// Targets: exact at 10,000 people <= 5 ms; exact >= 100x faster than naive at 1,000.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "bench/crowds.h"
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

void set_counters(benchmark::State& state, std::size_t groups, std::size_t people) {
  state.counters["groups"] = static_cast<double>(groups);
  state.counters["people"] = static_cast<double>(people);
}

template <class Finder = GatheringFinder>
void run_finder(benchmark::State& state, const std::vector<GatherPoint>& people) {
  const GatheringGeometryOptions opt;
  Finder finder;
  std::vector<DiskGroup> groups;
  for (auto _ : state) {
    if constexpr (requires { finder.forget(); }) finder.forget();  // from nothing: else reused verbatim
    finder.find(people, opt, groups);
    benchmark::DoNotOptimize(groups.data());
  }
  set_counters(state, groups.size(), people.size());
}

void BM_GatheringExact(benchmark::State& state) {
  run_finder(state, crowd_layout({.people = static_cast<int>(state.range(0))}));
}
BENCHMARK(BM_GatheringExact)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
// The same with the finder as it was before issue 18 (engine/gathering_reference.h).
void BM_GatheringExactReference(benchmark::State& state) {
  run_finder<ReferenceGatheringFinder>(state, crowd_layout({.people = static_cast<int>(state.range(0))}));
}
BENCHMARK(BM_GatheringExactReference)->Arg(10000)->Unit(benchmark::kMicrosecond);

// BM_GatheringIncremental/N: the BM_GatheringExact crowds, and the same crowds after the people of
// `moving` (percent) of the crowds moved up to 1.2 m in random directions; one finder evaluates the two in
// turn, so every evaluation follows one where they moved (what the engine's rule sees every
// second). /N: everyone moves; BM_GatheringIncrementalFewMoved: a tenth of the crowds move, the
// rest stand still to the last bit, and the finder reuses their components. Counter reused: share of the
// components reused from the previous evaluation.
void run_incremental(benchmark::State& state, int moving_percent) {
  const auto before = crowd_layout({.people = static_cast<int>(state.range(0))});
  auto after = before;
  std::mt19937_64 rng(181818);
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  // crowd_layout's people come crowd by crowd, 50 to a crowd
  constexpr std::size_t kCrowd = 50;
  std::vector<char> moves((after.size() + kCrowd - 1) / kCrowd);
  for (char& m : moves) m = uniform() * 100 < moving_percent;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (!moves[i / kCrowd]) continue;
    const double step = 1.2 * uniform(), a = 2 * std::numbers::pi * uniform();
    after[i].p = {after[i].p.x + step * std::cos(a), after[i].p.y + step * std::sin(a)};
  }
  const GatheringGeometryOptions opt;
  GatheringFinder finder;
  std::vector<DiskGroup> groups;
  finder.find(before, opt, groups);
  bool odd = true;
  for (auto _ : state) {
    finder.find(odd ? after : before, opt, groups);
    odd = !odd;
    benchmark::DoNotOptimize(groups.data());
  }
  set_counters(state, groups.size(), before.size());
  const auto c = finder.counts();
  state.counters["reused"] = static_cast<double>(c.reused) / static_cast<double>(std::max<std::uint64_t>(1, c.solved + c.reused));
}
void BM_GatheringIncremental(benchmark::State& state) { run_incremental(state, 100); }
void BM_GatheringIncrementalFewMoved(benchmark::State& state) { run_incremental(state, 10); }
BENCHMARK(BM_GatheringIncremental)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GatheringIncrementalFewMoved)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Crowds spread over 20 m do not fit one disk: every crowd takes the sweep, not the shortcut.
void BM_GatheringExactLooseCrowds(benchmark::State& state) {
  run_finder(state, crowd_layout({.people = static_cast<int>(state.range(0)), .spread = 20}));
}
BENCHMARK(BM_GatheringExactLooseCrowds)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_GatheringNaive(benchmark::State& state) {
  const auto people = crowd_layout({.people = static_cast<int>(state.range(0))});
  const GatheringGeometryOptions opt;
  GatheringFinder finder;
  std::vector<DiskGroup> exact;
  finder.find(people, opt, exact);
  std::vector<DiskGroup> groups = find_gatherings_naive(people, opt);
  if (!same_groups(groups, exact)) {
    state.SkipWithError("naive and exact gatherings differ");
    return;
  }
  for (auto _ : state) {
    groups = find_gatherings_naive(people, opt);
    benchmark::DoNotOptimize(groups.data());
  }
  set_counters(state, groups.size(), people.size());
}
BENCHMARK(BM_GatheringNaive)->Arg(1000)->Unit(benchmark::kMillisecond);


// Random-waypoint walkers at 1.2 m/s in a side x side square (BM_EngineIngestDense: 5,000 in 1 km2),
// one finder evaluating consecutive seconds, as the engine's gathering rule does: everyone moved up
// to 1.2 m since the previous evaluation. Keys are the people's indices.
std::vector<std::vector<GatherPoint>> walker_steps(int n, double side, int steps) {
  std::mt19937_64 rng(20261128);
  auto uniform = [&rng, side] { return side * (static_cast<double>(rng() >> 11) * 0x1.0p-53); };
  std::vector<Vec2> pos(static_cast<std::size_t>(n)), goal(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = {uniform(), uniform()}, goal[i] = {uniform(), uniform()};
  std::vector<std::vector<GatherPoint>> out(static_cast<std::size_t>(steps));
  for (auto& step : out) {
    for (std::size_t i = 0; i < pos.size(); ++i) {
      Vec2& p = pos[i];
      Vec2& g = goal[i];
      const double d = dist(p, g);
      if (d < 1.2) g = {uniform(), uniform()};
      else p = {p.x + 1.2 * (g.x - p.x) / d, p.y + 1.2 * (g.y - p.y) / d};
      step.push_back({p, static_cast<std::uint32_t>(i)});
    }
  }
  return out;
}

// One iteration evaluates all 60 seconds in order (so every iteration does the same work); the
// counter evaluations is per second (CPU time).
template <class Finder>
void run_walkers(benchmark::State& state) {
  const auto steps = walker_steps(static_cast<int>(state.range(0)), static_cast<double>(state.range(1)), 60);
  const GatheringGeometryOptions opt;
  Finder finder;
  std::vector<DiskGroup> groups;
  std::size_t total = 0;
  for (auto _ : state) {
    for (const auto& step : steps) {
      finder.find(step, opt, groups);
      total += groups.size();
      benchmark::DoNotOptimize(groups.data());
    }
  }
  const double evaluations = static_cast<double>(state.iterations() * steps.size());
  set_counters(state, static_cast<std::size_t>(static_cast<double>(total) / evaluations), steps[0].size());
  state.counters["evaluations"] = benchmark::Counter(evaluations, benchmark::Counter::kIsRate);
}
void BM_GatheringWalkers(benchmark::State& state) { run_walkers<GatheringFinder>(state); }
void BM_GatheringWalkersReference(benchmark::State& state) { run_walkers<ReferenceGatheringFinder>(state); }
BENCHMARK(BM_GatheringWalkersReference)->Args({5000, 1000})->Args({5000, 2500})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GatheringWalkers)->Args({5000, 1000})->Args({5000, 2500})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace planttwin
