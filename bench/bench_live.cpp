// The live bridge under load (H-03, H-08): a PUSH producer over loopback TCP sends `fix` messages
// to a live session (scenarios/live/vendor-start.yaml) as fast as it can (rate 0) or paced at a
// fixed rate; the session stamps, validates and applies each one and publishes the outputs.
// Counters: msgs_per_second (accepted by the engine / wall time from the first send to the answer
// to the last message), lost (sent - accepted; PUSH blocks at the high-water mark instead of
// dropping, so anything lost was lost by the bridge), p50_us / p99_us (arrival -> decision in the
// engine, measured by the loop for every message).
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "hardware-in-loop/live.h"
#include "scenarios/loader.h"

namespace {

using namespace planttwin;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void BM_LiveIngest(benchmark::State& state) {
  const std::int64_t total = state.range(0);
  const std::int64_t rate = state.range(1);  // messages per second; 0: as fast as possible
  const bool record = state.range(2) != 0;   // with --record (to the temporary folder)
  Scenario sc;
  // the source tree from this file's path (bench/CMakeLists.txt defines no source folder)
  const std::string path = (std::filesystem::path(__FILE__).parent_path().parent_path() / "scenarios/live/vendor-start.yaml").string();
  if (auto err = load_scenario_file(path, sc)) {
    state.SkipWithError(err->to_string().c_str());
    return;
  }
  for (auto _ : state) {
    hil::LiveOptions o;
    o.bind = "tcp://127.0.0.1:*";
    o.publish = "tcp://127.0.0.1:*";
    o.max_skew = 3600 * kSecond;
    const std::string rec = (std::filesystem::temp_directory_path() / "planttwin-bench-live.ptrec").string();
    if (record) o.record = rec;
    hil::LiveLoop loop(sc, o);
    std::string err;
    if (!loop.open(err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    std::thread runner([&] { loop.run(err); });
    zmq::context_t ctx(1);
    zmq::socket_t sub(ctx, zmq::socket_type::sub), push(ctx, zmq::socket_type::push);
    sub.set(zmq::sockopt::subscribe, "");
    sub.set(zmq::sockopt::rcvhwm, 0);
    sub.connect(loop.publish_endpoint());
    push.set(zmq::sockopt::sndhwm, 100000);
    // the spec's synchronisation: wait for the first stats
    for (bool synced = false; !synced;) {
      zmq::message_t t, b;
      if (sub.recv(t)) {
        (void)sub.recv(b);
        synced = t.to_string() == "stats";
      }
    }
    push.connect(loop.input_endpoint());
    // bodies prepared up front: the producer measures the bridge, not JSON encoding
    const char* tags[] = {"T1", "T2", "T3", "T4"};
    std::vector<std::string> bodies;
    const std::int64_t ts = now_ms();
    for (int i = 0; i < 4096; ++i)
      bodies.push_back(json{{"v", 1}, {"tag", tags[i % 4]}, {"ts", ts}, {"x", 5 + (i % 40)}, {"y", 5 + (i / 40 % 40)}, {"floor", 1}}.dump());
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < total; ++i) {
      // paced: bursts of rate/1000 every millisecond, sleeping in between (no spinning: the
      // producer shares the cores with the loop)
      if (rate > 0 && i % std::max<std::int64_t>(1, rate / 1000) == 0)
        std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(i * 1000000000LL / rate));
      push.send(zmq::str_buffer("fix"), zmq::send_flags::sndmore);
      const std::string& b = bodies[static_cast<size_t>(i) % bodies.size()];
      push.send(zmq::buffer(b), zmq::send_flags::none);
    }
    const double send_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    // a last SOS: its alarm means everything before it was handled (one PUSH keeps order)
    push.send(zmq::str_buffer("sos"), zmq::send_flags::sndmore);
    push.send(zmq::buffer(json{{"v", 1}, {"tag", "T1"}, {"ts", ts}}.dump()), zmq::send_flags::none);
    sub.set(zmq::sockopt::rcvtimeo, 30000);
    bool answered = false;
    while (!answered) {
      zmq::message_t t, b;
      if (!sub.recv(t)) break;
      (void)sub.recv(b);
      answered = t.to_string() == "alarm" && b.to_string().find("\"sos\"") != std::string::npos;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    loop.stop();
    runner.join();
    const hil::LiveSummary& s = loop.summary();
    const double accepted = static_cast<double>(s.counters.accepted) - 1;  // the SOS
    state.SetIterationTime(secs);
    state.counters["msgs_per_second"] = accepted / secs;
    state.counters["lost"] = static_cast<double>(total) - accepted;
    state.counters["p50_us"] = s.latency_us_p50.value_or(0);
    state.counters["p99_us"] = s.latency_us_p99.value_or(0);
    state.counters["dropped"] = static_cast<double>(s.counters.dropped);
    state.counters["sent_per_second"] = static_cast<double>(total) / send_secs;  // what the producer managed
    if (record) std::filesystem::remove(rec);
    if (!answered) state.SkipWithError("the last message was never answered");
  }
}
// 500,000 fixes as fast as the producer can send (without and with a recording); then 250,000
// paced at 50,000 per second; 100,000 paced at 20,000 per second (the baseline of BM_MqttIngest and
// BM_OmloxIngest, bench_live_vendor.cpp)
BENCHMARK(BM_LiveIngest)->ArgNames({"msgs", "rate", "record"})->Args({500000, 0, 0})->Args({500000, 0, 1})->Args({250000, 50000, 0})->Args({100000, 20000, 0})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
