// The vendor channels under load (issue 14; H-03, H-08), beside BM_LiveIngest (ZeroMQ, bench_live.cpp)
// as the baseline of the same run:
//   planttwin_bench --benchmark_filter='BM_(Live|Mqtt|Omlox)Ingest|BM_MqttBrokerOnly'
// - BM_MqttIngest: a real mosquitto broker (started here on a free loopback port, in a temporary
//   folder) between a libmosquitto publisher (generic profile payloads, QoS 1) and the session.
// - BM_OmloxIngest: one WebSocket client publishing one Location per wrapper object on
//   location_updates to the session's --omlox-listen.
// - BM_MqttBrokerOnly: the same publisher through the same broker to a subscriber that only
//   counts: the ceiling of the broker path on the machine, without planttwin.
// `per_msg`: updates per message (an MQTT payload that is a JSON array, as Pozyx publishes; an
// omlox wrapper object whose payload holds that many Locations); msgs and rate count updates.
// Counters as BM_LiveIngest's: msgs_per_second (accepted / wall time from the first send to the
// answer to the last message), lost (sent - accepted), p50_us / p99_us (arrival at the channel -> decision
// in the engine, for every message), sent_per_second (what the producer managed).
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "hardware-in-loop/live.h"
#include "hardware-in-loop/mqtt/mqtt_channel.h"
#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/omlox/server.h"
#include "hardware-in-loop/vendor_time.h"
#include "scenarios/loader.h"

namespace {

using namespace planttwin;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool load(Scenario& sc, benchmark::State& state) {
  const std::string path = (std::filesystem::path(__FILE__).parent_path().parent_path() / "scenarios/live/vendor-start.yaml").string();
  if (auto err = load_scenario_file(path, sc)) {
    state.SkipWithError(err->to_string().c_str());
    return false;
  }
  return true;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void pace(std::int64_t i, std::int64_t rate, Clock::time_point t0) {
  // bursts of rate/1000 every millisecond, sleeping in between (the producer shares the cores)
  if (rate > 0 && i % std::max<std::int64_t>(1, rate / 1000) == 0)
    std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(i * 1000000000LL / rate));
}

void report(benchmark::State& state, hil::LiveLoop& loop, const char* source, std::int64_t total, double secs, double send_secs, bool answered) {
  const hil::LiveSummary& s = loop.summary();
  const auto it = s.sources.find(source);
  const double accepted = (it == s.sources.end() ? 0.0 : static_cast<double>(it->second.accepted)) - 1;  // the last message
  state.SetIterationTime(secs);
  state.counters["msgs_per_second"] = accepted / secs;
  state.counters["lost"] = static_cast<double>(total) - accepted;
  state.counters["p50_us"] = s.latency_us_p50.value_or(0);
  state.counters["p99_us"] = s.latency_us_p99.value_or(0);
  state.counters["dropped"] = static_cast<double>(s.counters.dropped);
  state.counters["sent_per_second"] = static_cast<double>(total) / send_secs;
  if (!answered) state.SkipWithError("the last message was never answered");
}

// ---- MQTT ------------------------------------------------------------------------------------

// A mosquitto broker on 127.0.0.1:port with its config in `dir`, up when this returns (or after 5 s).
pid_t start_mosquitto(const std::filesystem::path& dir, int port) {
  std::ofstream(dir / "mosquitto.conf") << "listener " << port << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                                        << "max_queued_messages 0\nmax_inflight_messages 1000\nlog_dest none\n";
  const pid_t broker = ::fork();
  if (broker == 0) {
    ::execl("/usr/sbin/mosquitto", "/usr/sbin/mosquitto", "-c", (dir / "mosquitto.conf").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 500 && !port_open(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return broker;
}

struct Inbox {
  std::atomic<bool> stats{false}, sos{false};
};

void BM_MqttIngest(benchmark::State& state) {
  const std::int64_t total = state.range(0), rate = state.range(1);
  const int qos = static_cast<int>(state.range(2));  // the producer's QoS (the session subscribes with 1)
  // updates per MQTT message: 1, or a JSON array of them as Pozyx publishes (`total` and `rate`
  // count updates)
  const std::int64_t per_msg = std::max<std::int64_t>(1, state.range(3));
  if (::access("/usr/sbin/mosquitto", X_OK) != 0) {
    state.SkipWithError("mosquitto is not installed (scripts/setup)");
    return;
  }
  Scenario sc;
  if (!load(sc, state)) return;
  mosquitto_lib_init();
  for (auto _ : state) {
    const auto dir = std::filesystem::temp_directory_path() / ("planttwin-bench-mqtt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const int port = free_port();
    const pid_t broker = start_mosquitto(dir, port);
    hil::LiveOptions o;
    o.max_skew = 3600 * kSecond;
    hil::MqttOptions mo;
    mo.url = "mqtt://127.0.0.1:" + std::to_string(port);
    mo.profile = "generic";
    std::string err;
    auto ch = hil::make_mqtt_channel(sc, mo, err);
    if (!ch) {
      state.SkipWithError(err.c_str());
      break;
    }
    o.channels.push_back(ch);
    hil::LiveLoop loop(sc, o);
    if (!loop.open(err)) {
      state.SkipWithError(err.c_str());
      break;
    }
    std::thread runner([&] { loop.run(err); });
    Inbox inbox;
    mosquitto* m = mosquitto_new(nullptr, true, &inbox);
    // QoS 1 with a bounded window: libmosquitto looks up each PUBACK in its in-flight list
    mosquitto_max_inflight_messages_set(m, 200);
    mosquitto_connect_callback_set(m, [](mosquitto* c, void*, int rc) {
      if (rc == 0) mosquitto_subscribe(c, nullptr, "planttwin/#", 1);
    });
    mosquitto_message_callback_set(m, [](mosquitto*, void* p, const mosquitto_message* msg) {
      auto* in = static_cast<Inbox*>(p);
      const std::string t = msg->topic;
      // stats that says the session's subscription stands: the session hears us
      if (t.size() > 6 && t.compare(t.size() - 6, 6, "/stats") == 0 &&
          std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen)).find("\"connected\":true") != std::string::npos)
        in->stats = true;
      if (t.size() > 6 && t.compare(t.size() - 6, 6, "/alarm") == 0 &&
          std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen)).find("\"sos\"") != std::string::npos)
        in->sos = true;
    });
    mosquitto_connect(m, "127.0.0.1", port, 30);
    mosquitto_loop_start(m);
    for (int i = 0; i < 1000 && !inbox.stats; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const char* tags[] = {"T1", "T2", "T3", "T4"};
    std::vector<std::string> bodies;
    const std::int64_t ts = now_ms();
    for (int i = 0; i < 4096; ++i) {
      json a = json::array();
      for (std::int64_t k = 0; k < per_msg; ++k) {
        const std::int64_t j = i * per_msg + k;
        a.push_back(json{{"tag", tags[j % 4]}, {"ts", ts}, {"x", 5 + (j % 40)}, {"y", 5 + (j / 40 % 40)}, {"floor", 1}});
      }
      bodies.push_back(per_msg == 1 ? a[0].dump() : a.dump());
    }
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < total / per_msg; ++i) {
      pace(i, rate / per_msg, t0);
      const std::string& b = bodies[static_cast<size_t>(i) % bodies.size()];
      while (mosquitto_publish(m, nullptr, "planttwin/in/bench", static_cast<int>(b.size()), b.data(), qos, false) == MOSQ_ERR_NOMEM)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const double send_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::string sos = json{{"tag", "T1"}, {"ts", ts}, {"sos", true}}.dump();  // no x, y: an SOS alone
    mosquitto_publish(m, nullptr, "planttwin/in/bench", static_cast<int>(sos.size()), sos.data(), 1, false);
    const auto until = Clock::now() + std::chrono::seconds(120);
    while (!inbox.sos && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    loop.stop();
    runner.join();
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    ::kill(broker, SIGKILL);
    ::waitpid(broker, nullptr, 0);
    std::filesystem::remove_all(dir);
    report(state, loop, "mqtt", total, secs, send_secs, inbox.sos);
  }
}
// 200,000 as fast as the producer can, then 100,000 paced at 20,000 per second; QoS 1 and 0
BENCHMARK(BM_MqttIngest)
    ->ArgNames({"msgs", "rate", "qos", "per_msg"})
    ->Args({200000, 0, 1, 1})
    ->Args({100000, 20000, 1, 1})
    ->Args({200000, 0, 0, 1})
    ->Args({100000, 20000, 0, 1})
    ->Args({500000, 0, 1, 10})      // Pozyx-style arrays of ten updates per message
    ->Args({200000, 20000, 1, 10})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The broker path alone, without planttwin: the same publisher (QoS 1, one update per message)
// through the same mosquitto to a plain libmosquitto subscriber that only counts. What the machine's
// broker and client library carry is the ceiling of BM_MqttIngest with one update per message.
void BM_MqttBrokerOnly(benchmark::State& state) {
  const std::int64_t total = state.range(0);
  if (::access("/usr/sbin/mosquitto", X_OK) != 0) {
    state.SkipWithError("mosquitto is not installed (scripts/setup)");
    return;
  }
  mosquitto_lib_init();
  for (auto _ : state) {
    const auto dir = std::filesystem::temp_directory_path() / ("planttwin-bench-mqtt-only-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const int port = free_port();
    const pid_t broker = start_mosquitto(dir, port);
    struct Counter {
      std::atomic<std::int64_t> n{0};
      std::atomic<bool> subscribed{false};
    } counter;
    mosquitto* sub = mosquitto_new(nullptr, true, &counter);
    mosquitto_connect_callback_set(sub, [](mosquitto* c, void*, int rc) {
      if (rc == 0) mosquitto_subscribe(c, nullptr, "bench/#", 1);
    });
    mosquitto_subscribe_callback_set(sub, [](mosquitto*, void* p, int, int, const int*) { static_cast<Counter*>(p)->subscribed = true; });
    mosquitto_message_callback_set(sub, [](mosquitto*, void* p, const mosquitto_message*) { ++static_cast<Counter*>(p)->n; });
    mosquitto_connect(sub, "127.0.0.1", port, 30);
    mosquitto_loop_start(sub);
    mosquitto* pub = mosquitto_new(nullptr, true, nullptr);
    mosquitto_max_inflight_messages_set(pub, 200);
    mosquitto_connect(pub, "127.0.0.1", port, 30);
    mosquitto_loop_start(pub);
    for (int i = 0; i < 1000 && !counter.subscribed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::string b = json{{"tag", "T1"}, {"ts", now_ms()}, {"x", 5}, {"y", 5}, {"floor", 1}}.dump();
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < total; ++i)
      while (mosquitto_publish(pub, nullptr, "bench/in", static_cast<int>(b.size()), b.data(), 1, false) == MOSQ_ERR_NOMEM)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    const auto until = Clock::now() + std::chrono::seconds(120);
    while (counter.n < total && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(secs);
    state.counters["msgs_per_second"] = static_cast<double>(counter.n) / secs;
    state.counters["lost"] = static_cast<double>(total - counter.n);
    for (mosquitto* m : {pub, sub}) {
      mosquitto_disconnect(m);
      mosquitto_loop_stop(m, false);
      mosquitto_destroy(m);
    }
    ::kill(broker, SIGKILL);
    ::waitpid(broker, nullptr, 0);
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_MqttBrokerOnly)->ArgNames({"msgs"})->Arg(200000)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---- omlox -------------------------------------------------------------------------------------

void BM_OmloxIngest(benchmark::State& state) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  using tcp = asio::ip::tcp;
  const std::int64_t total = state.range(0), rate = state.range(1);
  // Locations per wrapper object (its payload is an array): `total` and `rate` count Locations
  const std::int64_t per_msg = std::max<std::int64_t>(1, state.range(2));
  Scenario sc;
  if (!load(sc, state)) return;
  for (auto _ : state) {
    hil::LiveOptions o;
    o.max_skew = 3600 * kSecond;
    hil::OmloxOptions oo;
    oo.listen = "127.0.0.1:0";
    std::string err;
    if (!hil::make_omlox_channels(sc, oo, o.channels, err)) {
      state.SkipWithError(err.c_str());
      break;
    }
    auto server = std::dynamic_pointer_cast<hil::omlox::Server>(o.channels.back());
    hil::LiveLoop loop(sc, o);
    if (!loop.open(err)) {
      state.SkipWithError(err.c_str());
      break;
    }
    std::thread runner([&] { loop.run(err); });
    const std::string ep = server->endpoint();  // http://127.0.0.1:PORT/v2
    const std::string port = ep.substr(ep.rfind(':') + 1, ep.rfind('/') - ep.rfind(':') - 1);
    asio::io_context io;
    beast::websocket::stream<tcp::socket> ws(io);
    tcp::resolver r(io);
    asio::connect(ws.next_layer(), r.resolve("127.0.0.1", port));
    ws.handshake("127.0.0.1:" + port, "/v2/ws/socket");
    ws.text(true);
    ws.write(asio::buffer(json{{"event", "subscribe"}, {"topic", "planttwin:alarms"}}.dump()));
    beast::flat_buffer buf;
    ws.read(buf);  // subscribed
    buf.consume(buf.size());
    const char* tags[] = {"T1", "T2", "T3", "T4"};
    std::vector<std::string> frames;
    const std::string when = hil::iso8601_utc_ms(now_ms());
    for (int i = 0; i < 4096; ++i) {
      json payload = json::array();
      for (std::int64_t k = 0; k < per_msg; ++k) {
        const std::int64_t j = i * per_msg + k;
        payload.push_back({{"position", {{"type", "Point"}, {"coordinates", {5 + (j % 40), 5 + (j / 40 % 40)}}}},
                           {"source", "bench"}, {"provider_type", "uwb"}, {"provider_id", tags[j % 4]},
                           {"timestamp_generated", when}, {"crs", "local"}, {"floor", 1}});
      }
      frames.push_back(json{{"event", "message"}, {"topic", "location_updates"}, {"payload", payload}}.dump());
    }
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < total / per_msg; ++i) {
      pace(i, rate / per_msg, t0);
      ws.write(asio::buffer(frames[static_cast<size_t>(i) % frames.size()]));
    }
    const double send_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    // the last Location takes T4 into the tank farm: its crossing alarm answers everything before
    ws.write(asio::buffer(json{{"event", "message"},
                               {"topic", "location_updates"},
                               {"payload", json::array({{{"position", {{"type", "Point"}, {"coordinates", {70, 70}}}},
                                                         {"provider_id", "T4"}, {"timestamp_generated", when}}})}}
                              .dump()));
    bool answered = false;
    beast::get_lowest_layer(ws).non_blocking(false);
    ::timeval tv{120, 0};
    ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (!answered) {
      beast::error_code ec;
      ws.read(buf, ec);
      if (ec) break;
      answered = beast::buffers_to_string(buf.data()).find("boundary_crossing") != std::string::npos;
      buf.consume(buf.size());
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    beast::error_code ec;
    ws.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    ws.next_layer().close(ec);
    loop.stop();
    runner.join();
    report(state, loop, "omlox", total, secs, send_secs, answered);
  }
}
BENCHMARK(BM_OmloxIngest)
    ->ArgNames({"msgs", "rate", "per_msg"})
    ->Args({200000, 0, 1})
    ->Args({100000, 20000, 1})
    ->Args({500000, 0, 10})  // ten Locations per wrapper object
    ->Args({200000, 20000, 10})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
