// BM_SimRealtimeFactor/N: the simulated pipeline through the runner, as `planttwin run` does it
// for a `positioning: simulated` scenario: N workers walk between random waypoints in a plant as
// dense as the demo plant (400 m x 300 m, anchors at 7 m on a 39 m x 45 m grid, steel tanks, pipe
// racks, concrete buildings), 1 blink per second each, up to 8 links per blink (ray casts in the
// Bullet model on 2 threads, radio, solver) and the engine. The per-link histograms of the report
// are off (RunOptions::radio_link_stats). Variants: .../oracle runs the oracle twin as well (a
// second engine on true positions, as every simulated `planttwin run` does); .../NoGathering
// turns the engine's gathering rule off; BM_SimPipeline/N is rays + radio + solver alone.
// Counters: realtime_factor = simulated seconds per wall second; realtime_factor_cpu = simulated
// seconds per CPU second of the whole process (all threads; robust on a loaded machine);
// rays_per_second (wall).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>

#include "scenarios/runner.h"
#include "sim/radio/plant_los.h"
#include "sim/radio/positioning.h"

namespace planttwin {
namespace {

constexpr double kSimSeconds = 60;

// One 400 m x 300 m block as dense as the demo plant, repeated tiles x tiles times (0: one block).
Site dense_plant(int tiles = 1) {
  Site s;
  s.name = "bench-plant";
  s.floors.push_back(Floor{"1", -1, 4});
  for (int ti = 0; ti < tiles; ++ti)
    for (int tj = 0; tj < tiles; ++tj) {
      Site b = dense_plant(0);
      const double dx = 400.0 * ti, dy = 300.0 * tj;
      const std::string suffix = "@" + std::to_string(ti) + "-" + std::to_string(tj);
      for (Anchor a : b.anchors) a.id += suffix, a.at[0] += dx, a.at[1] += dy, s.anchors.push_back(a);
      for (Obstacle o : b.obstacles) {
        o.id += suffix;
        o.center.x += dx, o.center.y += dy, o.min[0] += dx, o.max[0] += dx, o.min[1] += dy, o.max[1] += dy;
        s.obstacles.push_back(o);
      }
      for (Building bd : b.buildings) {
        bd.id += suffix;
        for (Vec2& p : bd.footprint.pts) p.x += dx, p.y += dy;
        bd.footprint.finalize();
        for (Floor& f : bd.floors) f.id += suffix;
        s.buildings.push_back(bd);
      }
    }
  if (tiles > 0) return s;
  for (int i = 0; i <= 10; ++i)
    for (int j = 0; j <= 6; ++j) {
      Anchor a;
      char id[32];
      std::snprintf(id, sizeof id, "A%d-%d", i, j);  // (GCC 12 warns falsely on string + here)
      a.id = id;
      a.at[0] = 5 + 39.0 * i, a.at[1] = 5 + 45.0 * j, a.at[2] = 7;
      s.anchors.push_back(a);
    }
  for (int k = 0; k < 6; ++k) {  // tank farm
    Obstacle o;
    o.id = "TK-" + std::to_string(k);
    o.shape = Obstacle::Shape::cylinder;
    o.center = {280.0 + 35 * (k % 3), 205.0 + 50 * (k / 3)};
    o.radius = 12, o.z0 = 0, o.z1 = 18;
    s.obstacles.push_back(o);
  }
  for (int k = 0; k < 8; ++k) {  // pipe racks
    Obstacle o;
    o.id = "PR-" + std::to_string(k);
    o.min[0] = 120 + 12.0 * k, o.min[1] = 60, o.min[2] = 3;
    o.max[0] = o.min[0] + 2, o.max[1] = 240, o.max[2] = 9;
    s.obstacles.push_back(o);
  }
  for (int k = 0; k < 4; ++k) {  // process buildings and sheds
    Building b;
    b.id = "B" + std::to_string(k);
    const double x = 20 + 60.0 * k, y = 20;
    b.footprint.pts = {{x, y}, {x + 40, y}, {x + 40, y + 30}, {x, y + 30}};
    b.footprint.finalize();
    b.floors.push_back(Floor{"B" + std::to_string(k) + "-1", 0, 6});
    s.buildings.push_back(b);
  }
  return s;
}

Scenario walkers(int n, int tiles = 1) {
  Scenario sc;
  sc.name = "bench-sim";
  sc.file = "bench_sim";
  sc.site = dense_plant(tiles);
  sc.duration = from_seconds(kSimSeconds);
  sc.seed = 3;
  sc.positioning.mode = Positioning::Mode::simulated;
  sc.fix_rate = 1;
  std::mt19937_64 rng(20261128);
  auto u = [&rng](double lo, double hi) { return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  for (int i = 0; i < n; ++i) {
    PersonDef p;
    p.id = "W" + std::to_string(100000 + i);
    p.name = p.id;
    p.tag = "T" + std::to_string(100000 + i);
    // outdoors, north of the buildings of a random tile
    const double ox = 400.0 * std::floor(u(0, tiles)), oy = 300.0 * std::floor(u(0, tiles));
    p.at = {ox + u(10, 390), oy + u(60, 290), std::nullopt};
    sc.people.push_back(p);
    ScriptAction a;
    a.kind = ScriptAction::Kind::walk;
    a.who = {p.id};
    for (int k = 0; k < 4; ++k) a.path.push_back({ox + u(10, 390), oy + u(60, 290), std::nullopt});
    a.speed = 1.2;
    sc.script.push_back(a);
  }
  return sc;
}

void report(benchmark::State& state, double wall, double cpu, double rays, double fixes) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["realtime_factor"] = kSimSeconds * iters / wall;
  state.counters["realtime_factor_cpu"] = kSimSeconds * iters / cpu;
  state.counters["rays_per_second"] = rays / wall;
  state.counters["fixes_per_second"] = fixes / wall;
}

double process_cpu_s() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

void run_bench(benchmark::State& state, bool oracle, bool gathering = true, int tiles = 1) {
  Scenario sc = walkers(static_cast<int>(state.range(0)), tiles);
  if (!gathering) sc.site.rules.gathering.yellow = sc.site.rules.gathering.orange = sc.site.rules.gathering.red = 1 << 30;
  RunOptions opt;
  opt.threads = 2;
  opt.radio_link_stats = false;
  opt.oracle = oracle;
  double wall = 0, cpu = 0, rays = 0, fixes = 0;
  for (auto _ : state) {
    RunResult r;
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_s();
    if (!run_scenario(sc, opt, r, error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    cpu += process_cpu_s() - c0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rays += static_cast<double>(r.simulation->rays);
    fixes += static_cast<double>(r.simulation->fixes);
  }
  report(state, wall, cpu, rays, fixes);
}

void BM_SimRealtimeFactor(benchmark::State& state) { run_bench(state, false); }
void BM_SimRealtimeFactorWithOracle(benchmark::State& state) { run_bench(state, true); }
// The same 2,000 workers on a plant of realistic density: the block tiled 3 x 3 (1.2 km x 0.9 km,
// about 1,900 people per km2, 693 anchors), each worker walking within one block.
void BM_SimRealtimeFactorTiled(benchmark::State& state) { run_bench(state, false, true, 3); }
void BM_SimRealtimeFactorTiledWithOracle(benchmark::State& state) { run_bench(state, true, true, 3); }
BENCHMARK(BM_SimRealtimeFactorTiled)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SimRealtimeFactorTiledWithOracle)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
// The engine without its gathering rule: at this density the rule dominates (docs/radio.md).
void BM_SimRealtimeFactorNoGathering(benchmark::State& state) { run_bench(state, false, false); }
BENCHMARK(BM_SimRealtimeFactor)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SimRealtimeFactorWithOracle)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SimRealtimeFactorNoGathering)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Rays + radio + solver alone: the same walkers' true positions at whole seconds, no engine.
void BM_SimPipeline(benchmark::State& state) {
  const Scenario sc = walkers(static_cast<int>(state.range(0)));
  std::string error;
  std::unique_ptr<LineOfSight> los = make_plant_los(sc.site, error);
  if (!los) {
    state.SkipWithError(error.c_str());
    return;
  }
  // straight-line walks to the first waypoint, at 1.2 m/s
  std::vector<std::vector<Blink>> seconds(static_cast<size_t>(kSimSeconds));
  for (size_t i = 0; i < sc.people.size(); ++i) {
    const Point3 a = sc.people[i].at, b = sc.script[i].path[0];
    const double len = std::hypot(b.x - a.x, b.y - a.y);
    for (size_t s = 0; s < seconds.size(); ++s) {
      const double f = len > 0 ? std::min(1.0, 1.2 * static_cast<double>(s) / len) : 0;
      seconds[s].push_back({static_cast<Micros>(s) * kSecond, static_cast<int>(i), s,
                            {a.x + f * (b.x - a.x), a.y + f * (b.y - a.y), 1.2}, "1"});
    }
  }
  double wall = 0, cpu = 0, rays = 0, fixes = 0;
  for (auto _ : state) {
    SimulatedPositioning pipe(sc.site, radio_defaults(sc.site), *los, 3, PipelineOptions{2, false});
    std::vector<SimFix> out;
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_s();
    for (const std::vector<Blink>& b : seconds) {
      out.clear();
      pipe.process(b, 1.0, out);
    }
    cpu += process_cpu_s() - c0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rays += static_cast<double>(pipe.counters().rays);
    fixes += static_cast<double>(pipe.counters().fixes);
  }
  report(state, wall, cpu, rays, fixes);
}
BENCHMARK(BM_SimPipeline)->Arg(2000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace planttwin
