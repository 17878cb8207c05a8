// Jumping back in the viewer's timeline (docs/viewer.md, "Time and seeking"; target: at most
// 100 ms a jump, at least 20x faster than re-running from the start). No window, no display.
//
// The session: one hour of 2,000 people on the viewer benchmarks' 400 m x 300 m plant (a dense
// crowd, bench/viewer_crowd.h), each walking to a new random point twelve times (once in every
// five minutes), truth mode, 1 fix per second. Set-up plays the timeline to the end once. Each
// iteration is one jump back to a random time: the times are drawn once (seeded) and sorted
// latest first, so that every jump is a jump back from the previous one and nothing is replayed
// between jumps; the first jump leaves from the end.
//
// BM_TimelineSeekBack restores the latest checkpoint at or before the target and plays on from
// it (the default options). BM_TimelineSeekBackRerun does the same jumps the old way
// (TimelineOptions::checkpoint_every = 0: a re-run from the start); it makes fewer jumps (the
// first ones of the same seeded sequence), since each costs up to a whole run.
//
// Counters: ms_per_jump (mean wall time of a jump, also the benchmark's Time; CPU is the main
// thread's), max_ms, mean_target_s (the jumps' mean target time: the two runs' samples are
// alike), play_s and play_cpu_s (the set-up: playing the hour once), rss_play_MiB (how much the
// process's resident memory grew while playing: the engine, kept snapshots, alarm stream and the
// checkpoints), checkpoints, checkpoint_every_s and checkpoint_MiB after
// playing to the end (estimated, as the budget counts them), alarms (raised in the hour),
// restores, reruns.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bench/viewer_crowd.h"
#include "scenarios/loader.h"
#include "viewer/timeline.h"

namespace {

using namespace planttwin;

constexpr int kSessionSeconds = 3600;
constexpr int kWalks = 12;
constexpr int kJumps = 48;       // with checkpoints
constexpr int kRerunJumps = 6;   // re-running from the start

const Scenario* session(int people, std::string& error) {
  static std::map<int, std::unique_ptr<Scenario>> cache;
  auto& slot = cache[people];
  if (!slot) {
    auto sc = std::make_unique<Scenario>();
    if (auto err = load_scenario_text(bench::crowd_scenario(people, 0, kSessionSeconds, kWalks), "viewer-seek.yaml", *sc)) {
      error = err->to_string();
      return nullptr;
    }
    slot = std::move(sc);
  }
  return slot.get();
}

// `n` jump targets in [0, duration), the same first ones for any n, sorted latest first.
std::vector<Micros> jump_targets(Micros duration, int n) {
  std::mt19937_64 rng(20261201);
  std::vector<Micros> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<Micros>(rng() % static_cast<std::uint64_t>(duration)));
  std::sort(v.begin(), v.end(), std::greater<>());
  return v;
}

// The process's resident memory (MiB), from /proc/self/status; 0 elsewhere.
double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      in >> kb;
      return kb / 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void seek_back(benchmark::State& state, bool checkpoints, int jumps) {
  std::string error;
  const Scenario* sc = session(static_cast<int>(state.range(0)), error);
  if (!sc) {
    state.SkipWithError(error.c_str());
    return;
  }
  viewer::TimelineOptions opt;
  if (!checkpoints) opt.checkpoint_every = 0;
  auto tl = viewer::Timeline::create(*sc, opt, error);
  if (!tl) {
    state.SkipWithError(error.c_str());
    return;
  }
#ifdef __GLIBC__
  malloc_trim(0);  // what an earlier benchmark freed leaves the resident set
#endif
  const double rss_before = rss_mib();
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  tl->seek(sc->duration);  // play the hour once
  const double play_s = seconds_since(t0);
  const double play_cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  const double rss_played = rss_mib() - rss_before;
  const std::size_t checkpoints_at_end = tl->checkpoint_count(), bytes_at_end = tl->checkpoint_bytes();
  const Micros every_at_end = tl->checkpoint_every();
  const std::size_t alarms_at_end = tl->alarms().size();

  const std::vector<Micros> targets = jump_targets(sc->duration, jumps);
  std::size_t i = 0;
  double total_s = 0, max_s = 0, target_sum_s = 0;
  for (auto _ : state) {
    const Micros t = targets[i++ % targets.size()];
    const auto j0 = std::chrono::steady_clock::now();
    tl->seek(t);
    const double s = seconds_since(j0);
    total_s += s;
    max_s = std::max(max_s, s);
    target_sum_s += to_seconds(t);
    benchmark::DoNotOptimize(tl->snapshot().people.data());
  }
  const double n = static_cast<double>(std::max<std::size_t>(i, 1));
  state.counters["people"] = static_cast<double>(sc->people.size());
  state.counters["ms_per_jump"] = 1000 * total_s / n;
  state.counters["max_ms"] = 1000 * max_s;
  state.counters["mean_target_s"] = target_sum_s / n;
  state.counters["play_s"] = play_s;
  state.counters["play_cpu_s"] = play_cpu_s;
  state.counters["rss_play_MiB"] = rss_played;
  state.counters["checkpoints"] = static_cast<double>(checkpoints_at_end);
  state.counters["checkpoint_every_s"] = to_seconds(every_at_end);
  state.counters["checkpoint_MiB"] = static_cast<double>(bytes_at_end) / (1 << 20);
  state.counters["restores"] = tl->restores();
  state.counters["reruns"] = tl->reruns();
  state.counters["alarms"] = static_cast<double>(alarms_at_end);
}

void BM_TimelineSeekBack(benchmark::State& state) { seek_back(state, true, kJumps); }
void BM_TimelineSeekBackRerun(benchmark::State& state) { seek_back(state, false, kRerunJumps); }
BENCHMARK(BM_TimelineSeekBack)->Arg(2000)->Iterations(kJumps)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TimelineSeekBackRerun)->Arg(2000)->Iterations(kRerunJumps)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
