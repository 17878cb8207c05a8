// Uplink outbox benchmarks (PL-11; docs/uplink.md): what the real-time loop pays per record.
// No sender (send = false): only the outbox writes the loop thread does. The site has an origin,
// so every position goes through PROJ as well.
//
//   BM_UplinkOnFix         one position sample (record built, CGCS2000, one SQLite row); items/s.
//   BM_UplinkPositionBatch tick() forming one position batch of N people's latest samples.
//   BM_UplinkOnAlarm       one alarm event -> one batch (record, envelope, one transaction).
//   BM_PlatformEnvelope    one outbox batch -> the platform's request (field map, encryption,
//                          signature; docs/platform.md), per profile variant and batch size; items = records.
//   BM_PlatformEndToEnd    position batches through the sender to an in-process `planttwin platform`
//                          (decrypt, check, validate, store in SQLite, answer) until acknowledged; items = records.
// The plain variants are the baseline of the same run.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hardware-in-loop/uplink/platform.h"
#include "hardware-in-loop/uplink/profile.h"
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

// ---- park-platform profiles (docs/platform.md)

const char* kBenchPaths =
    "paths: {person: /p, zone: /z, position: /pos, person_alarm: /pa, zone_alarm: /za, gathering: /g, other_alarm: /o, "
    "permit: /t, permit_alarm: /ta}\n";

// plain (no envelope, no signature), or a cipher with the key from SM3 of the secret, a random
// prefixed IV and an HMAC signature over the aq3064-sm4 canonical string
uplink::UplinkProfile bench_profile(const std::string& cipher) {
  std::string text = kBenchPaths;
  if (cipher != "plain") {
    const std::string mac = cipher == "sm4-cbc" ? "hmac-sm3" : "hmac-sha256";
    text += "envelope: {cipher: " + cipher + ", key: " + (cipher == "aes-128-cbc" || cipher == "sm4-cbc" ? "sm3" : "sha256") +
            ", iv: random-prefixed}\n"
            "credentials:\n  signature: " + mac + "\n  string: \"{app_id}\\n{timestamp}\\n{nonce}\\n{path}\\n{body}\"\n"
            "  headers: {X-App-Id: \"{app_id}\", X-Timestamp: \"{timestamp}\", X-Nonce: \"{nonce}\", X-Signature: \"{signature}\"}\n";
  }
  uplink::UplinkProfile p;
  std::string err;
  if (!uplink::parse_uplink_profile(text, "bench.yaml", p, err)) throw std::runtime_error(err);
  return p;
}

const char* kCiphers[] = {"plain", "aes-128-cbc", "aes-256-cbc", "sm4-cbc"};

std::string bench_batch(int n) {
  nlohmann::json b = {{"batch_seq", 1}, {"outbox_id", "0123456789abcdef"}, {"idempotency_key", "0123456789abcdef-1"}, {"kind", "position"},
                      {"COMPANY_CODE", "91330000TEST0001"}, {"TIME_ZONE", "+08:00"}, {"CREATE_TIME", "2026-01-05 08:00:30"}};
  b["records"] = nlohmann::json::array();
  for (int i = 0; i < n; ++i)
    b["records"].push_back({{"PERSON_ID", "P" + std::to_string(1000 + i)}, {"TAG_ID", "T" + std::to_string(1000 + i)}, {"X", 120.00012345},
                            {"Y", 30.00054321}, {"Z", 1.5}, {"FLOOR_NO", "1"}, {"TIME_STAMP", "2026-01-05 08:00:29"}});
  return b.dump();
}

// arg 0: the cipher (index into kCiphers), arg 1: records per batch
void BM_PlatformEnvelope(benchmark::State& state) {
  const std::string cipher = kCiphers[state.range(0)];
  const uplink::UplinkProfile p = bench_profile(cipher);
  const uplink::PlatformCredentials c{"APP-0001", "the-enterprise-secret"};
  const int n = static_cast<int>(state.range(1));
  const std::string body = bench_batch(n);
  std::int64_t now = 1767571230000;
  size_t bytes = 0;
  for (auto _ : state) {
    uplink::PlatformRequest r = uplink::build_request(p, c, body, ++now, "0123456789abcdef");
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(cipher);
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_PlatformEnvelope)->ArgsProduct({{0, 1, 2, 3}, {1, 100}})->Unit(benchmark::kMicrosecond);

// arg 0: plain or sm4-cbc (0, 3), arg 1: records per position batch; 20 batches per iteration
void BM_PlatformEndToEnd(benchmark::State& state) {
  const std::string cipher = kCiphers[state.range(0)];
  const int n = static_cast<int>(state.range(1));
  auto prof = std::make_shared<uplink::UplinkProfile>(bench_profile(cipher));
  const uplink::PlatformCredentials c{"APP-0001", "the-enterprise-secret"};
  const std::filesystem::path store = std::filesystem::temp_directory_path() / ("planttwin-bench-platform-" + cipher);
  std::filesystem::remove_all(store);
  uplink::PlatformOptions po;
  po.store_dir = store.string();
  uplink::MockPlatform platform(*prof, c, po);
  std::thread serving([&] { platform.run(); });
  UplinkOptions o = bench_options(("e2e-" + cipher).c_str());
  o.send = true;
  o.base_data = false;
  o.url = "http://127.0.0.1:" + std::to_string(platform.port());
  o.position_every = kSecond;
  o.idle_poll = kMillisecond;
  o.profile = prof;
  o.credentials = c;
  {
    Uplink up(bench_site(), WallClock{}, o);
    const auto people = ids("P", n), tags = ids("T", n);
    Micros t = 0;
    for (auto _ : state) {
      for (int b = 0; b < 20; ++b) {
        for (int k = 0; k < n; ++k) up.on_fix(t, people[static_cast<size_t>(k)], tags[static_cast<size_t>(k)], k, k, 0, "1");
        up.tick(t);
        t += kSecond;
      }
      if (!up.flush(60 * kSecond)) state.SkipWithError(("not acknowledged: " + up.last_error()).c_str());
    }
    state.SetLabel(cipher);
    state.SetItemsProcessed(state.iterations() * 20 * n);
    state.counters["batches_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * 20), benchmark::Counter::kIsRate);
  }
  platform.stop();
  serving.join();
}
BENCHMARK(BM_PlatformEndToEnd)->ArgsProduct({{0, 3}, {1, 100}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
