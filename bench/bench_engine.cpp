// BM_EngineIngest: the whole rules engine under load. N tags walk at 1.2 m/s between random
// waypoints in a plant with 200 fences (8-20-vertex polygons covering about a fifth of the area,
// so about a fifth of the people are inside fences; half with authorisation lists, all with
// capacities), 1 fix per second each, gathering evaluated every second of engine time, every rule
// on. The plant is 2.5 km x 2.5 km (6.25 km2, 800 people per km2 at 5,000 tags: a large
// petrochemical complex). BM_EngineIngestDense packs the same people into 1 km2, where random
// walkers form hundreds of three-person gatherings every second; BM_EngineIngestNoGathering turns
// the gathering rule off, to show its share; BM_EngineIngestDenseReference runs the dense load with the
// reference gathering finder (the finder before issue 18) for a same-binary comparison.
//
// BM_Checkpoint: the BM_EngineIngest/5000 engine after 120 s of engine time (zone stays, fence,
// capacity, gathering and unacknowledged alarms, candidate and raised gathering tracks; outputs
// drained) saved to bytes (engine/checkpoint.h), decoded and restored into a second engine on the
// same model, checked equal once. Counters: bytes_per_person, save_ms, restore_ms (decode +
// restore), wall time per checkpoint. Closed alarms stay in the state, so the size grows with the
// run's length: about 161 bytes a person after 60 s, 194 after 120 s, 221 after 179 s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "engine/checkpoint.h"
#include "engine/engine.h"

namespace planttwin {
namespace {

constexpr int kZones = 200;
constexpr int kSeconds = 180;       // pre-computed walk, then the engine restarts

struct Load {
  std::shared_ptr<const Site> site;
  std::vector<PersonSetup> people;
  std::vector<std::vector<FixInput>> fixes;  // [second][person]
};

Polygon star(std::mt19937_64& rng, Vec2 c, double r) {
  std::uniform_int_distribution<int> nv(8, 20);
  std::uniform_real_distribution<double> jitter(0.75, 1.15);
  const int n = nv(rng);
  Polygon p;
  for (int i = 0; i < n; ++i) {
    const double a = 2 * M_PI * i / n;
    const double rr = r * jitter(rng);
    p.pts.push_back({c.x + rr * std::cos(a), c.y + rr * std::sin(a)});
  }
  p.finalize();
  return p;
}

const Load& load(int n, double side) {
  static std::map<std::pair<int, double>, std::unique_ptr<Load>> cache;
  auto& slot = cache[{n, side}];
  if (slot) return *slot;
  slot = std::make_unique<Load>();
  std::mt19937_64 rng(20261128);
  std::uniform_real_distribution<double> coord(0, side);
  auto site = std::make_shared<Site>();
  site->name = "bench";
  site->floors = {{"1", -1, 4}};
  // zone radius so that 200 zones cover about 20 % of the plant
  const double r = std::sqrt(0.2 * side * side / kZones / M_PI);
  for (int i = 0; i < kZones; ++i) {
    Zone z;
    z.id = "Z" + std::to_string(i);
    z.polygon = star(rng, {coord(rng), coord(rng)}, r);
    z.capacity = 12;
    if (i % 2 == 0) {
      z.authorized.present = true;
      z.authorized.roles = {"operator"};
    }
    site->zones.push_back(std::move(z));
  }
  slot->site = site;
  for (int i = 0; i < n; ++i) {
    PersonSetup p;
    p.id = "P" + std::to_string(100000 + i);
    p.tag = "T" + std::to_string(100000 + i);
    p.category = i % 3 == 0 ? Category::contractor : Category::employee;
    if (i % 2 == 0) p.roles = {"operator"};
    slot->people.push_back(p);
  }
  // random waypoint walkers at 1.2 m/s
  std::vector<Vec2> pos(static_cast<size_t>(n)), goal(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = {coord(rng), coord(rng)}, goal[static_cast<size_t>(i)] = {coord(rng), coord(rng)};
  slot->fixes.resize(kSeconds);
  for (int t = 0; t < kSeconds; ++t) {
    for (int i = 0; i < n; ++i) {
      Vec2& p = pos[static_cast<size_t>(i)];
      Vec2& g = goal[static_cast<size_t>(i)];
      const double d = dist(p, g);
      if (d < 1.2) g = {coord(rng), coord(rng)};
      else p = {p.x + 1.2 * (g.x - p.x) / d, p.y + 1.2 * (g.y - p.y) / d};
      FixInput f;
      f.tag = i;  // tags are indexed in person-id order, which is creation order here
      f.x = p.x;
      f.y = p.y;
      f.z = 1.2;
      f.floor = 0;
      slot->fixes[static_cast<size_t>(t)].push_back(f);
    }
  }
  return *slot;
}

EngineSetup ingest_setup(const Load& l, bool gathering) {
  EngineSetup setup;
  if (gathering) {
    setup.site = l.site;
  } else {
    auto site = std::make_shared<Site>(*l.site);
    site->rules.gathering.yellow = site->rules.gathering.orange = site->rules.gathering.red = 1 << 30;
    setup.site = site;
  }
  setup.people = l.people;
  return setup;
}

// One second of the walk: every fix of `second`, the engine advanced to it, outputs drained.
void ingest_second(Engine& engine, const Load& l, int second) {
  const Micros t = second * kSecond;
  for (const FixInput& f : l.fixes[static_cast<size_t>(second)]) engine.submit({t, 0, f});
  engine.advance_to(t);
  engine.clear_outputs();
}

void run_ingest(benchmark::State& state, double side, bool gathering, bool reference = false) {
  const int n = static_cast<int>(state.range(0));
  const Load& l = load(n, side);
  const EngineSetup setup = ingest_setup(l, gathering);
  auto engine = std::make_unique<Engine>(setup);
  engine->use_reference_gathering_finder(reference);
  int second = 0;
  std::uint64_t alarms = 0, fixes = 0;
  for (auto _ : state) {
    if (second == kSeconds) {
      state.PauseTiming();
      alarms += engine->alarms().size();
      engine = std::make_unique<Engine>(setup);
      engine->use_reference_gathering_finder(reference);
      second = 0;
      state.ResumeTiming();
    }
    ingest_second(*engine, l, second);
    fixes += static_cast<std::uint64_t>(n);
    ++second;
  }
  alarms += engine->alarms().size();
  state.SetItemsProcessed(static_cast<std::int64_t>(fixes));
  state.counters["alarms"] = static_cast<double>(alarms);
  state.counters["zones"] = kZones;
}

void BM_EngineIngest(benchmark::State& state) { run_ingest(state, 2500, true); }
void BM_EngineIngestDense(benchmark::State& state) { run_ingest(state, 1000, true); }
void BM_EngineIngestNoGathering(benchmark::State& state) { run_ingest(state, 2500, false); }
// The dense load with the gathering finder as it was before issue 18 (engine/gathering_reference.h),
// for a same-binary comparison.
void BM_EngineIngestDenseReference(benchmark::State& state) { run_ingest(state, 1000, true, true); }
BENCHMARK(BM_EngineIngest)->Arg(5000)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_EngineIngestDense)->Arg(5000)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_EngineIngestNoGathering)->Arg(5000)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_EngineIngestDenseReference)->Arg(5000)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_Checkpoint(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const int n = static_cast<int>(state.range(0));
  const Load& l = load(n, 2500);
  Engine engine(ingest_setup(l, true));
  constexpr int kWarmSeconds = 120;
  for (int second = 0; second < kWarmSeconds; ++second) ingest_second(engine, l, second);
  Engine other(engine.shared_model());
  std::string why;
  std::size_t bytes = 0;
  Clock::duration save{}, restore{};
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const std::string saved = encode_state(engine.state());
    const auto t1 = Clock::now();
    EngineState decoded;
    if (!decode_state(saved, decoded, why) || !other.restore(std::move(decoded), &why)) {
      state.SkipWithError(why.c_str());
      break;
    }
    const auto t2 = Clock::now();
    save += t1 - t0;
    restore += t2 - t1;
    bytes = saved.size();
  }
  if (state.error_occurred()) return;
  if (!(other.state() == engine.state())) {
    state.SkipWithError("the restored state differs from the saved one");
    return;
  }
  const double iterations = static_cast<double>(state.iterations());
  auto ms = [&](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count() / iterations; };
  state.counters["bytes_per_person"] = static_cast<double>(bytes) / n;
  state.counters["save_ms"] = ms(save);
  state.counters["restore_ms"] = ms(restore);
  state.counters["alarms"] = static_cast<double>(engine.alarms().size());
  state.counters["gatherings"] = static_cast<double>(engine.state().gatherings.size());
}
BENCHMARK(BM_Checkpoint)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace planttwin
