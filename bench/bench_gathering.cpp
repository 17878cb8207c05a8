// PL-02 gathering geometry: the exact decomposition against the textbook method.
// Targets: exact at 10,000 people <= 5 ms; exact >= 100x faster than naive at 1,000.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/crowds.h"
#include "engine/gathering_geometry.h"

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

void run_finder(benchmark::State& state, const std::vector<GatherPoint>& people) {
  const GatheringGeometryOptions opt;
  GatheringFinder finder;
  std::vector<DiskGroup> groups;
  for (auto _ : state) {
    finder.find(people, opt, groups);
    benchmark::DoNotOptimize(groups.data());
  }
  set_counters(state, groups.size(), people.size());
}

void BM_GatheringExact(benchmark::State& state) {
  run_finder(state, crowd_layout({.people = static_cast<int>(state.range(0))}));
}
BENCHMARK(BM_GatheringExact)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

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

}  // namespace
}  // namespace planttwin
