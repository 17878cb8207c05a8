// Uplink outbox benchmarks (PL-11; docs/uplink.md): what the real-time loop pays per record.
// No sender (send = false): only the outbox writes the loop thread does. The site has an origin,
// so every position goes through PROJ as well.
//
//   BM_UplinkOnFix         one position sample (record built, CGCS2000, one SQLite row); items/s.
//   BM_UplinkPositionBatch tick() forming one position batch of N people's latest samples.
//   BM_UplinkOnAlarm       one alarm event -> one batch (record, envelope, one transaction).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hardware-in-loop/uplink/uplink.h"

using namespace planttwin;

namespace {

std::string bench_outbox(const char* name) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / (std::string("planttwin-bench-") + name + ".sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

Site bench_site() {
  Site s;
  s.name = "bench";
  s.origin = std::array<double, 3>{30.0, 120.0, 10.0};
  return s;
}

UplinkOptions bench_options(const char* name) {
  UplinkOptions o;
  o.send = false;
  o.outbox = bench_outbox(name);
  o.position_every = 30 * kSecond;
  return o;
}

std::vector<std::string> ids(const char* prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(1000 + i));
  return out;
}

void BM_UplinkOnFix(benchmark::State& state) {
  Uplink up(bench_site(), WallClock{}, bench_options("onfix"));
  const auto people = ids("P", 1000), tags = ids("T", 1000);
  Micros t = 0;
  size_t i = 0;
  for (auto _ : state) {
    up.on_fix(t, people[i], tags[i], 100.0 + static_cast<double>(i % 97), 50.0, 1.2, "1");
    if (++i == people.size()) i = 0;
    t += kMillisecond;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["store_errors"] = static_cast<double>(up.stats().store_errors);
}
BENCHMARK(BM_UplinkOnFix)->Unit(benchmark::kMicrosecond);

void BM_UplinkPositionBatch(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Uplink up(bench_site(), WallClock{}, bench_options("posbatch"));
  const auto people = ids("P", n), tags = ids("T", n);
  Micros t = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < n; ++k) up.on_fix(t, people[static_cast<size_t>(k)], tags[static_cast<size_t>(k)], k, k, 0, "1");
    state.ResumeTiming();
    up.tick(t);
    t += 30 * kSecond;
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["batches"] = static_cast<double>(up.stats().queued);
}
BENCHMARK(BM_UplinkPositionBatch)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_UplinkOnAlarm(benchmark::State& state) {
  Uplink up(bench_site(), WallClock{}, bench_options("onalarm"));
  // std::string values, not literals: GCC 12 reports a false -Wrestrict for literal assignments here
  using S = std::string;
  Alarm a;
  a.id = S("A000001");
  a.type = AlarmType::boundary_crossing;
  a.level = AlarmLevel::red;
  a.who = {S("P01")};
  a.zone = S("Z1");
  a.pos = {10, 20};
  a.floor = S("1");
  AlarmEvent e;
  e.level = AlarmLevel::red;
  e.by = S("system");
  Micros t = 0;
  for (auto _ : state) {
    e.t = t;
    up.on_alarm(t, a, e);
    t += kMillisecond;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UplinkOnAlarm)->Unit(benchmark::kMicrosecond);

}  // namespace
