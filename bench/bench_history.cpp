// History store benchmarks (PL-03; docs/history.md). The fixed data set: 100 people for 7 days at
// 0.5 Hz (30,240,000 fixes), half walking at 1.2 m/s between random waypoints on a 500 m x 500 m
// plant, half standing with 0.1 m of jitter (Gaussian, per axis); times carry 0..19 ms of jitter,
// positions are in whole centimetres. Seeded; generated once per process, in time order (as a
// live feed delivers it). Each ingest runs once: it is the whole week.
//
//   BM_HistoryIngest       the store: counters bytes_per_fix (database + WAL after a checkpoint,
//                          per fix) and items_per_second. Targets <= 4 B/fix, >= 500,000 fixes/s.
//   BM_HistoryIngestNaive  the same data, one row per fix with an index on (person, t).
//   BM_HistoryTrackQuery8h one person's 8-hour track from the first benchmark's file; target
//                          <= 50 ms; roundtrip_errors counts fixes that differ from the input.
//   BM_HistoryFlushOpenBuckets/S  a live feed's second (5,000 people at 1 Hz: 5,000 fixes, then
//                          the flush that commits them) with the 10-minute buckets S seconds
//                          full (filled by a flush every second, as live). A flush appends what
//                          came since the last one, so its time should not grow with S.
//   BM_HistoryFlushBucketEnd  the second at which all 5,000 buckets end: the flush also seals them.
//   BM_HistoryFixDuringFlush/S  the flush of second S (590: buckets nearly full; 600: every bucket
//                          ends) in one thread while another feeds the next seconds: fix_max_us,
//                          how long an input waits for the store (docs/history.md "Threads").
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "history/sqlite_history.h"

namespace fs = std::filesystem;
using namespace planttwin;

namespace {

constexpr int kPeople = 100;
constexpr std::int64_t kDays = 7;
constexpr std::int64_t kPeriodMs = 2000;                 // 0.5 Hz
constexpr std::int64_t kStartMs = 1767571200000;         // 2026-01-05T08:00:00+08:00
constexpr std::int64_t kTicks = kDays * 86400 * 1000 / kPeriodMs;

struct BenchFix {
  std::int64_t t_ms;
  std::int32_t x_cm, y_cm, z_cm;
  std::uint8_t person, floor;
};

const std::vector<BenchFix>& dataset() {
  static const std::vector<BenchFix> data = [] {
    std::mt19937_64 rng(20260305);
    auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    std::normal_distribution<double> jitter(0.0, 0.1);
    struct Walker {
      double x, y, tx, ty;
      bool walking;
      int floor;
    };
    std::vector<Walker> w(kPeople);
    for (int p = 0; p < kPeople; ++p)
      w[static_cast<size_t>(p)] = {500 * uniform(), 500 * uniform(), 500 * uniform(), 500 * uniform(), p % 2 == 0, 1 + p % 3};
    std::vector<BenchFix> v;
    v.reserve(static_cast<size_t>(kTicks) * kPeople);
    const double step = 1.2 * static_cast<double>(kPeriodMs) / 1000.0;
    for (std::int64_t k = 0; k < kTicks; ++k)
      for (int p = 0; p < kPeople; ++p) {
        Walker& m = w[static_cast<size_t>(p)];
        double x = m.x, y = m.y;
        if (m.walking) {
          double left = step;
          while (left > 0) {
            const double d = std::hypot(m.tx - m.x, m.ty - m.y);
            if (d <= left) {
              m.x = m.tx, m.y = m.ty, left -= d;
              m.tx = 500 * uniform(), m.ty = 500 * uniform();
            } else {
              m.x += (m.tx - m.x) * left / d, m.y += (m.ty - m.y) * left / d, left = 0;
            }
          }
          x = m.x, y = m.y;
        } else {
          x = m.x + jitter(rng), y = m.y + jitter(rng);
        }
        const std::int64_t t = kStartMs + k * kPeriodMs + static_cast<std::int64_t>(rng() % 20);
        v.push_back({t, to_cm(x), to_cm(y), m.walking ? 0 : (m.floor - 1) * 450, static_cast<std::uint8_t>(p),
                     static_cast<std::uint8_t>(m.walking ? 1 : m.floor)});
      }
    return v;
  }();
  return data;
}

std::string person_id(int p) {
  char b[8];
  std::snprintf(b, sizeof b, "P%03d", p);
  return b;
}

fs::path bench_dir() {
  const fs::path d = fs::temp_directory_path() / "planttwin-bench-history";
  fs::create_directories(d);
  return d;
}

std::uintmax_t file_bytes(const fs::path& db) {
  std::uintmax_t n = 0;
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const auto s = fs::file_size(db.string() + suffix, ec);
    if (!ec && std::string(suffix) != "-shm") n += s;
  }
  return n;
}

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
}

// ingests the whole data set into a fresh store; returns false on error
bool ingest(const fs::path& db, std::string& err) {
  remove_db(db);
  auto store = SqliteHistory::open(db.string(), HistoryOptions{}, err);
  if (!store) return false;
  std::vector<std::string> ids, floors = {"", "1", "2", "3"};
  for (int p = 0; p < kPeople; ++p) {
    ids.push_back(person_id(p));
    store->person({ids.back(), "", p % 4 == 3 ? "contractor" : "employee"});
  }
  HistoryFix f;
  for (const BenchFix& b : dataset()) {
    f.person = ids[b.person];
    f.t_ms = b.t_ms, f.x_cm = b.x_cm, f.y_cm = b.y_cm, f.z_cm = b.z_cm;
    f.floor = floors[b.floor];
    store->fix(f);
  }
  store->checkpoint();
  return true;
}

fs::path ingested_db() { return bench_dir() / "store.db"; }
bool g_ingested = false;  // this process wrote ingested_db()

void BM_HistoryIngest(benchmark::State& state) {
  dataset();  // generated outside the timing
  const fs::path db = ingested_db();
  for (auto _ : state) {
    std::string err;
    if (!ingest(db, err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    g_ingested = true;
  }
  const auto n = static_cast<std::int64_t>(dataset().size());
  state.SetItemsProcessed(n * static_cast<std::int64_t>(state.iterations()));
  state.counters["bytes_per_fix"] = static_cast<double>(file_bytes(db)) / static_cast<double>(n);
  state.counters["fixes"] = static_cast<double>(n);
}
BENCHMARK(BM_HistoryIngest)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

void BM_HistoryIngestNaive(benchmark::State& state) {
  dataset();
  const fs::path db = bench_dir() / "naive.db";
  for (auto _ : state) {
    remove_db(db);
    sqlite3* h = nullptr;
    sqlite3_open(db.string().c_str(), &h);
    sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "CREATE TABLE fix(person INTEGER NOT NULL, t INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,"
                    " z INTEGER NOT NULL, floor INTEGER NOT NULL);"
                    "CREATE INDEX fix_by_person ON fix(person, t);", nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(h, "INSERT INTO fix VALUES(?,?,?,?,?,?)", -1, &ins, nullptr);
    // one transaction per 500,000 fixes: about a second of wall time at the store's rate
    size_t i = 0;
    sqlite3_exec(h, "BEGIN", nullptr, nullptr, nullptr);
    for (const BenchFix& b : dataset()) {
      sqlite3_bind_int(ins, 1, b.person);
      sqlite3_bind_int64(ins, 2, b.t_ms);
      sqlite3_bind_int(ins, 3, b.x_cm);
      sqlite3_bind_int(ins, 4, b.y_cm);
      sqlite3_bind_int(ins, 5, b.z_cm);
      sqlite3_bind_int(ins, 6, b.floor);
      sqlite3_step(ins);
      sqlite3_reset(ins);
      if (++i % 500000 == 0) sqlite3_exec(h, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
    }
    sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_finalize(ins);
    sqlite3_wal_checkpoint_v2(h, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_close(h);
  }
  const auto n = static_cast<std::int64_t>(dataset().size());
  state.SetItemsProcessed(n * static_cast<std::int64_t>(state.iterations()));
  state.counters["bytes_per_fix"] = static_cast<double>(file_bytes(db)) / static_cast<double>(n);
  state.counters["fixes"] = static_cast<double>(n);
  remove_db(db);  // gigabytes
}
BENCHMARK(BM_HistoryIngestNaive)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

void BM_HistoryTrackQuery8h(benchmark::State& state) {
  const fs::path db = ingested_db();
  std::string err;
  if (!g_ingested && !ingest(db, err)) {
    state.SkipWithError(err.c_str());
    return;
  }
  g_ingested = true;
  auto store = SqliteHistory::open(db.string(), HistoryOptions{}, err);
  if (!store) {
    state.SkipWithError(err.c_str());
    return;
  }
  // P042 (walking: even persons walk) on day 3, 08:00 to 16:00 local
  constexpr int kWho = 42;
  const std::int64_t from = kStartMs + 2 * 86400000LL, to = from + 8 * 3600000LL;
  std::vector<BenchFix> want;
  for (const BenchFix& b : dataset())
    if (b.person == kWho && b.t_ms >= from && b.t_ms <= to) want.push_back(b);
  const std::string who = person_id(kWho);
  const std::string floors[] = {"", "1", "2", "3"};
  std::vector<HistoryFix> got;
  for (auto _ : state) {
    got.clear();
    if (!store->track(who, from, to, got, err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    benchmark::DoNotOptimize(got.data());
  }
  // integers at 1 cm and 1 ms: any difference is more than 0.5 cm or 0.5 ms
  std::size_t errors = want.size() > got.size() ? want.size() - got.size() : got.size() - want.size();
  for (std::size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
    const BenchFix& a = want[i];
    const HistoryFix& b = got[i];
    if (a.t_ms != b.t_ms || a.x_cm != b.x_cm || a.y_cm != b.y_cm || a.z_cm != b.z_cm || floors[a.floor] != b.floor) ++errors;
  }
  state.counters["fixes"] = static_cast<double>(got.size());
  state.counters["roundtrip_errors"] = static_cast<double>(errors);
}
BENCHMARK(BM_HistoryTrackQuery8h)->UseRealTime()->Unit(benchmark::kMillisecond);

// A live feed: 5,000 people, one fix a second each, times spread over the second.
struct LiveFeed {
  static constexpr int kPeople = 5000;
  std::unique_ptr<SqliteHistory> store;
  std::vector<std::string> ids;
  std::int64_t bucket0 = kStartMs / 600000 * 600000;
  std::int64_t second = 0;
  HistoryFix f;
  std::vector<double> fix_us;  // when timing each fix()

  bool open(const fs::path& db, bool background, std::string& err) {
    remove_db(db);
    HistoryOptions o;
    o.background_flush = background;
    if (!background) o.flush_every_ms = 1000LL * 1000 * 1000;  // only the explicit flushes
    store = SqliteHistory::open(db.string(), o, err);
    for (int p = 0; p < kPeople; ++p) ids.push_back("L" + std::to_string(p));
    f.floor = "1";
    return static_cast<bool>(store);
  }
  void feed_second(bool timed = false) {
    for (int p = 0; p < kPeople; ++p) {
      f.person = ids[static_cast<size_t>(p)];
      f.t_ms = bucket0 + second * 1000 + p % 997;
      f.x_cm = static_cast<std::int32_t>(10000 + p * 37 + second * 120);
      f.y_cm = static_cast<std::int32_t>(20000 + p * 53 + (second % 7) * 11);
      f.z_cm = 120;
      if (!timed) {
        store->fix(f);
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      store->fix(f);
      fix_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    ++second;
  }
  // up to second `until` (exclusive), flushed every second as the live loop's store is
  void fill_to(std::int64_t until) {
    while (second < until) {
      feed_second();
      store->flush();
    }
  }
};

void BM_HistoryFlushOpenBuckets(benchmark::State& state) {
  const std::int64_t filled_s = state.range(0);
  const fs::path db = bench_dir() / "flush.db";
  LiveFeed live;
  std::string err;
  if (!live.open(db, false, err)) {
    state.SkipWithError(err.c_str());
    return;
  }
  live.fill_to(filled_s);
  for (auto _ : state) {
    live.feed_second();
    live.store->flush();
  }
  state.counters["bucket_seconds_full"] = static_cast<double>(filled_s);
  state.SetItemsProcessed(LiveFeed::kPeople * static_cast<std::int64_t>(state.iterations()));
  {
    // what the open buckets cost in the file: the track_log rows' bytes per fix
    sqlite3* h = nullptr;
    sqlite3_stmt* q = nullptr;
    if (sqlite3_open_v2(db.string().c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT SUM(length(data)), SUM(n) FROM track_log", -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 1) > 0)
      state.counters["log_bytes_per_fix"] = static_cast<double>(sqlite3_column_int64(q, 0)) / static_cast<double>(sqlite3_column_int64(q, 1));
    sqlite3_finalize(q);
    sqlite3_close(h);
  }
  live.store.reset();
  remove_db(db);
}
BENCHMARK(BM_HistoryFlushOpenBuckets)->Arg(10)->Arg(300)->Arg(590)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// The second at which every open bucket ends: the 5,000 people's fixes of second 600 open their
// next bucket, and the flush seals the 5,000 buckets they left (each filled by 600 flushes).
void BM_HistoryFlushBucketEnd(benchmark::State& state) {
  const fs::path db = bench_dir() / "bucket-end.db";
  LiveFeed live;
  std::string err;
  if (!live.open(db, false, err)) {
    state.SkipWithError(err.c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    live.fill_to((live.second / 600 + 1) * 600);  // to the end of the current bucket
    state.ResumeTiming();
    live.feed_second();
    live.store->flush();
  }
  state.SetItemsProcessed(LiveFeed::kPeople * static_cast<std::int64_t>(state.iterations()));
  live.store.reset();
  remove_db(db);
}
BENCHMARK(BM_HistoryFlushBucketEnd)->Iterations(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// What the live loop feels while the store flushes: one thread flushes second S (S = 590: the
// buckets nearly full; S = 600: every bucket ends, so the flush also seals the 5,000 buckets just
// left) while this one goes on feeding the next seconds (at most 10), each fix() timed.
// fix_max_us is the longest an input waited for the store (the soak's latency spikes came from
// there), fix_p99_us the 99th percentile; the time reported is the flush's.
void BM_HistoryFixDuringFlush(benchmark::State& state) {
  const fs::path db = bench_dir() / "fix-during.db";
  LiveFeed live;
  std::string err;
  if (!live.open(db, false, err)) {
    state.SkipWithError(err.c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    live.fill_to(state.range(0));
    live.feed_second();  // second S, flushed below
    state.ResumeTiming();
    std::atomic<bool> done{false};
    std::thread flusher([&] {
      live.store->flush();
      done = true;
    });
    for (int k = 0; k < 10 && !done; ++k) live.feed_second(true);
    flusher.join();
  }
  std::vector<double> v = live.fix_us;
  std::sort(v.begin(), v.end());
  state.counters["fix_max_us"] = v.empty() ? 0 : v.back();
  state.counters["fix_p99_us"] = v.empty() ? 0 : v[v.size() * 99 / 100];
  state.counters["fixes_timed"] = static_cast<double>(v.size());
  live.store.reset();
  remove_db(db);
}
BENCHMARK(BM_HistoryFixDuringFlush)->Arg(590)->Arg(600)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
