// H-02 / H-08 positioning solver: TWR and TDoA solves per second, with the Kalman filter on.
// Precomputed noisy measurements (seeded) for 256 tag positions are cycled; every position is its
// own tag epoch one second after the last, so the filter and its gate run as in the simulator.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "sim/motion.h"
#include "sim/solver/solver.h"

namespace planttwin {
namespace {

// anchors on a 25 m grid at 3 m (and every other one at 8 m for the 3D case)
Site grid_site(int anchors, bool three_d) {
  Site s;
  s.name = "bench";
  s.floors = {{"1", -1, 4}};
  const int cols = anchors <= 4 ? 2 : 4;
  for (int i = 0; i < anchors; ++i) {
    Anchor a;
    a.id = "A" + std::to_string(i);
    a.at[0] = 25.0 * (i % cols);
    a.at[1] = 25.0 * (i / cols);
    a.at[2] = three_d && i % 2 ? 8 : 3;
    s.anchors.push_back(a);
  }
  return s;
}

struct Epochs {
  std::vector<std::vector<RangeObs>> twr;
  std::vector<std::vector<TdoaObs>> tdoa;
};

Epochs make_epochs(const Site& s, double nlos_share) {
  GaussianStream g(5);
  Epochs e;
  double xmax = 0, ymax = 0;
  for (const Anchor& a : s.anchors) xmax = std::max(xmax, a.at[0]), ymax = std::max(ymax, a.at[1]);
  for (int k = 0; k < 256; ++k) {
    // a walker going round the site at 1 m/s
    const double x = 0.5 * xmax + 0.3 * xmax * std::cos(k / 40.0), y = 0.5 * ymax + 0.3 * ymax * std::sin(k / 40.0);
    std::vector<RangeObs> r;
    std::vector<TdoaObs> d;
    double r0 = 0;
    for (int a = 0; a < static_cast<int>(s.anchors.size()); ++a) {
      const double* p = s.anchors[static_cast<size_t>(a)].at;
      double dist = std::sqrt((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) + (1.2 - p[2]) * (1.2 - p[2]));
      double meas = dist + 0.1 * g.next() + (g.uniform() < nlos_share ? 0.5 + 3 * g.uniform() : 0);
      r.push_back({a, meas});
      if (a == 0) r0 = meas;
      else d.push_back({0, a, meas - r0});
    }
    e.twr.push_back(std::move(r));
    e.tdoa.push_back(std::move(d));
  }
  return e;
}

void run_twr(benchmark::State& state, double nlos_share) {
  const Site site = grid_site(static_cast<int>(state.range(0)), false);
  const Epochs e = make_epochs(site, nlos_share);
  Solver solver(site);
  Micros t = 0;
  size_t i = 0;
  int64_t fixes = 0;
  for (auto _ : state) {
    auto f = solver.solve_twr(1, t, e.twr[i]);
    fixes += f ? 1 : 0;
    benchmark::DoNotOptimize(f);
    t += kSecond;
    i = (i + 1) % e.twr.size();
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["fix_share"] = static_cast<double>(fixes) / static_cast<double>(state.iterations());
}
// argument: anchors heard. LOS ranges, sigma 0.1 m.
void BM_SolverTwr(benchmark::State& state) { run_twr(state, 0); }
BENCHMARK(BM_SolverTwr)->Arg(4)->Arg(8)->Arg(16);
// 10 % of the ranges carry an NLOS bias of 0.5-3.5 m: robust weighting and leave-one-out rejection
void BM_SolverTwrNlos(benchmark::State& state) { run_twr(state, 0.10); }
BENCHMARK(BM_SolverTwrNlos)->Arg(8);

void BM_SolverTwr3D(benchmark::State& state) {
  const Site site = grid_site(8, true);
  const Epochs e = make_epochs(site, 0);
  Solver solver(site);
  Micros t = 0;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(solver.solve_twr(1, t, e.twr[i]));
    t += kSecond;
    i = (i + 1) % e.twr.size();
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SolverTwr3D);

void BM_SolverTdoa(benchmark::State& state) {
  const Site site = grid_site(static_cast<int>(state.range(0)), false);
  const Epochs e = make_epochs(site, 0);
  Solver solver(site);
  Micros t = 0;
  size_t i = 0;
  int64_t fixes = 0;
  for (auto _ : state) {
    auto f = solver.solve_tdoa(1, t, e.tdoa[i]);
    fixes += f ? 1 : 0;
    benchmark::DoNotOptimize(f);
    t += kSecond;
    i = (i + 1) % e.tdoa.size();
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["fix_share"] = static_cast<double>(fixes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SolverTdoa)->Arg(8);

}  // namespace
}  // namespace planttwin
