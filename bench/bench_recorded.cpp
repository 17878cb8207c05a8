// Recorded positioning (issue 19): a real 187 s UWB walk (Hanyang LOS Trajectory B case 3, 6,645
// ranges at ~10 Hz to 4 anchors) through `run` as a recorded scenario: reading the CSV logs, the
// solver on every epoch, the engine, truth and accuracy. Target: a 4-minute walk in under 2 s.
// Counters: walk_s_per_s (seconds of walk per second of CPU), epochs_per_s. The `...WithTwin`
// variant also simulates the walk's twin (ray casts, radio, solver) as the scenario asks.
#include <benchmark/benchmark.h>

#include <string>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

void recorded_walk(benchmark::State& state, bool twin) {
  Scenario sc;
  const std::string file = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/recorded/hanyang/los-b3/scenario.yaml";
  if (auto err = load_scenario_file(file, sc)) {
    state.SkipWithError(err->to_string().c_str());
    return;
  }
  if (!twin) sc.recorded.twin_scenario.reset();
  std::uint64_t epochs = 0;
  for (auto _ : state) {
    RunResult r;
    std::string error;
    if (!run_scenario(sc, RunOptions{}, r, error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    epochs += r.recorded->epochs;
    benchmark::DoNotOptimize(r.fix_hash);
  }
  const double walk_s = to_seconds(sc.duration) * static_cast<double>(state.iterations());
  state.counters["walk_s_per_s"] = benchmark::Counter(walk_s, benchmark::Counter::kIsRate);
  state.counters["epochs_per_s"] = benchmark::Counter(static_cast<double>(epochs), benchmark::Counter::kIsRate);
}

void BM_RecordedWalk(benchmark::State& state) { recorded_walk(state, false); }
void BM_RecordedWalkWithTwin(benchmark::State& state) { recorded_walk(state, true); }
BENCHMARK(BM_RecordedWalk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RecordedWalkWithTwin)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace planttwin
