// Test helpers for the live bridge: a live session on loopback in a thread, and a small client
// that plays a vendor's hardware (PUSH inputs, SUB outputs).
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "hardware-in-loop/live.h"
#include "scenarios/loader.h"

namespace planttwin::hil::test {

// A fresh folder for one test, named after it and this process.
inline std::filesystem::path temp_dir(const std::string& name) {
  std::filesystem::path d = std::filesystem::temp_directory_path() / ("planttwin-hil-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

using json = nlohmann::json;

inline std::string live_scenario_path() { return PLANTTWIN_SOURCE_DIR "/scenarios/live/vendor-start.yaml"; }

inline Scenario load_live_scenario() {
  Scenario sc;
  auto err = load_scenario_file(live_scenario_path(), sc);
  EXPECT_FALSE(err.has_value()) << (err ? err->to_string() : "");
  return sc;
}

inline std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A live session on 127.0.0.1 with ports picked at run time, running in its own thread.
class LiveSession {
 public:
  explicit LiveSession(LiveOptions o = {}, std::optional<Scenario> sc = std::nullopt) : sc_(sc ? std::move(*sc) : load_live_scenario()) {
    if (o.bind.empty() && o.connect.empty()) o.bind = "tcp://127.0.0.1:*";
    if (o.publish.empty()) o.publish = "tcp://127.0.0.1:*";
    loop_ = std::make_unique<LiveLoop>(sc_, o);
    std::string err;
    opened_ = loop_->open(err);
    EXPECT_TRUE(opened_) << err;
    if (opened_) thread_ = std::thread([this] { run_ok_ = loop_->run(run_error_); });
  }
  ~LiveSession() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      loop_->stop();
      thread_.join();
    }
  }
  std::string in() const { return loop_->input_endpoint(); }
  std::string out() const { return loop_->publish_endpoint(); }
  LiveLoop& loop() { return *loop_; }
  bool run_ok() const { return run_ok_; }
  const std::string& run_error() const { return run_error_; }
  const Scenario& scenario() const { return sc_; }

 private:
  Scenario sc_;
  std::unique_ptr<LiveLoop> loop_;
  std::thread thread_;
  bool opened_ = false, run_ok_ = false;
  std::string run_error_;
};

// A vendor's client: PUSH to the engine's PULL, SUB to its PUB.
class TestClient {
 public:
  TestClient(const std::string& in, const std::string& out, zmq::context_t* ctx = nullptr)
      : own_(ctx ? nullptr : std::make_unique<zmq::context_t>(1)), ctx_(ctx ? *ctx : *own_), push(ctx_, zmq::socket_type::push),
        sub(ctx_, zmq::socket_type::sub) {
    push.set(zmq::sockopt::linger, 2000);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "");
    sub.set(zmq::sockopt::rcvhwm, 0);
    if (!out.empty()) sub.connect(out);
    in_ = in;
  }
  void connect_push() { push.connect(in_); }

  // Waits for the first `stats` (the spec's synchronisation), then connects the PUSH socket.
  bool wait_stats(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const bool ok = next("stats", timeout).has_value();
    connect_push();
    return ok;
  }
  void send(const std::string& topic, const std::string& body) {
    push.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    push.send(zmq::buffer(body), zmq::send_flags::none);
  }
  void send(const std::string& topic, const json& body) { send(topic, body.dump()); }
  void send_frames(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      push.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  // The next message on `topic` (others are kept in `seen`), or nothing after the timeout.
  std::optional<json> next(const std::string& topic, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                           const std::function<bool(const json&)>& match = nullptr) {
    // messages that came while waiting for another topic count too
    for (auto it = backlog.begin(); it != backlog.end(); ++it)
      if (it->first == topic && (!match || match(it->second))) {
        json j = it->second;
        backlog.erase(it);
        return j;
      }
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t t, b;
      if (!sub.recv(t, zmq::recv_flags::dontwait)) continue;
      (void)sub.recv(b, zmq::recv_flags::none);
      const std::string tp = t.to_string();
      json j = json::parse(b.to_string(), nullptr, false);
      seen.push_back({tp, j});
      if (tp == topic && (!match || match(j))) return j;
      backlog.push_back({tp, j});
    }
    return std::nullopt;
  }

  std::vector<std::pair<std::string, json>> seen;     // every message received
  std::deque<std::pair<std::string, json>> backlog;  // received, not yet returned by next()
  std::string in_;
  std::unique_ptr<zmq::context_t> own_;
  zmq::context_t& ctx_;
  zmq::socket_t push, sub;
};

inline json fix(const std::string& tag, double x, double y, std::int64_t ts = now_unix_ms()) {
  return {{"v", 1}, {"tag", tag}, {"ts", ts}, {"x", x}, {"y", y}, {"floor", 1}};
}

}  // namespace planttwin::hil::test
