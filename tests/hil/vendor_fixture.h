// Test helpers for the vendor channels (issue 14): a real mosquitto broker on a free loopback port
// in a temporary folder, an MQTT client (libmosquitto) that plays the vendor, and a live session
// whose inputs are channels only. Everything talks to 127.0.0.1 only, and every wait is bounded.
#pragma once
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/live.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {

// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Waits for `cond` (polled every 20 ms) up to `timeout`.
inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

inline const char* kMosquittoBinary = "/usr/sbin/mosquitto";

// A broker's TLS listener and logins (mosquitto.conf's own words; files in the test's folder).
struct BrokerSecurity {
  std::string cafile, certfile, keyfile;  // TLS: the CA(s) it trusts for client certificates, its own certificate and key
  bool require_certificate = false;       // clients must present a certificate from `cafile`
  std::string password_file;              // made with mosquitto_passwd; anonymous clients refused
};

// The Debian mosquitto broker, started in `dir` on 127.0.0.1:port; killed with its process id.
class Mosquitto {
 public:
  Mosquitto(std::filesystem::path dir, int port, BrokerSecurity sec = {}) : dir_(std::move(dir)), port_(port), sec_(std::move(sec)) {}
  ~Mosquitto() { kill(); }
  static bool available() { return ::access(kMosquittoBinary, X_OK) == 0; }
  bool start() {
    const std::string conf = (dir_ / "mosquitto.conf").string();
    std::ofstream f(conf);
    f << "listener " << port_ << " 127.0.0.1\npersistence false\nlog_dest stderr\n";
    // the files are read as root before mosquitto drops to its own user (tests run as root)
    if (!sec_.certfile.empty())
      f << "cafile " << sec_.cafile << "\ncertfile " << sec_.certfile << "\nkeyfile " << sec_.keyfile << "\nrequire_certificate "
        << (sec_.require_certificate ? "true" : "false") << "\n";
    if (!sec_.password_file.empty())
      f << "password_file " << sec_.password_file << "\nallow_anonymous false\n";
    else
      f << "allow_anonymous true\n";
    f.close();
    const std::string log = (dir_ / "mosquitto.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      // the broker's log in the test's folder (opened before mosquitto drops root for its own user)
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) ::dup2(fd, 2), ::dup2(fd, 1);
      ::execl(kMosquittoBinary, kMosquittoBinary, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid_ > 0 && wait_until([this] { return port_open(port_); }, std::chrono::seconds(10));
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  std::string url() const { return (sec_.certfile.empty() ? "mqtt://127.0.0.1:" : "mqtts://127.0.0.1:") + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  int port_;
  BrokerSecurity sec_;
  pid_t pid_ = -1;
};

// A vendor client's TLS and login (empty: plain MQTT, anonymous).
struct ClientSecurity {
  std::string cafile, certfile, keyfile;  // cafile set: TLS
  std::string username, password;
};

// A vendor's MQTT client: publishes payloads, keeps every message of its subscriptions.
class MqttClient {
 public:
  explicit MqttClient(int port, std::vector<std::string> subscriptions = {"planttwin/#"}, const ClientSecurity& sec = {})
      : subs_(std::move(subscriptions)) {
    mosquitto_lib_init();
    m_ = mosquitto_new(nullptr, true, this);
    if (!sec.username.empty()) mosquitto_username_pw_set(m_, sec.username.c_str(), sec.password.c_str());
    if (!sec.cafile.empty())
      mosquitto_tls_set(m_, sec.cafile.c_str(), nullptr, sec.certfile.empty() ? nullptr : sec.certfile.c_str(),
                        sec.keyfile.empty() ? nullptr : sec.keyfile.c_str(), nullptr);
    mosquitto_connect_callback_set(m_, [](mosquitto* m, void* self, int rc) {
      auto* c = static_cast<MqttClient*>(self);
      if (rc != 0) return;
      for (const std::string& s : c->subs_) mosquitto_subscribe(m, nullptr, s.c_str(), 1);
      std::lock_guard<std::mutex> lk(c->mu_);
      ++c->connects_;
    });
    mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int*) {
      auto* c = static_cast<MqttClient*>(self);
      std::lock_guard<std::mutex> lk(c->mu_);
      ++c->subscribed_;
    });
    mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
      auto* c = static_cast<MqttClient*>(self);
      std::lock_guard<std::mutex> lk(c->mu_);
      c->messages_.push_back({msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen))});
    });
    mosquitto_reconnect_delay_set(m_, 1, 2, false);
    mosquitto_connect_async(m_, "127.0.0.1", port, 10);
    mosquitto_loop_start(m_);
  }
  ~MqttClient() {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, false);
    mosquitto_destroy(m_);
  }
  bool publish(const std::string& topic, const std::string& payload, int qos = 1) {
    return mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, false) == MOSQ_ERR_SUCCESS;
  }
  int subscribed() {
    std::lock_guard<std::mutex> lk(mu_);
    return subscribed_;
  }
  // Every message so far whose topic ends with `suffix` and that `match` accepts.
  std::vector<nlohmann::json> find(const std::string& suffix, const std::function<bool(const nlohmann::json&)>& match = nullptr) {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& [t, b] : messages_)
      if (t.size() >= suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) {
        nlohmann::json j = nlohmann::json::parse(b, nullptr, false);
        if (!match || match(j)) out.push_back(j);
      }
    return out;
  }
  std::optional<nlohmann::json> wait(const std::string& suffix, std::chrono::milliseconds timeout,
                                     const std::function<bool(const nlohmann::json&)>& match = nullptr) {
    std::optional<nlohmann::json> r;
    wait_until([&] {
      auto v = find(suffix, match);
      if (!v.empty()) r = v.front();
      return r.has_value();
    }, timeout);
    return r;
  }
  void clear() {
    std::lock_guard<std::mutex> lk(mu_);
    messages_.clear();
  }

 private:
  mosquitto* m_ = nullptr;
  std::vector<std::string> subs_;
  std::mutex mu_;
  int connects_ = 0, subscribed_ = 0;
  std::vector<std::pair<std::string, std::string>> messages_;
};

// A live session in its own thread whose inputs are whatever `o` gives (channels, ZeroMQ or both).
class ChannelSession {
 public:
  ChannelSession(LiveOptions o, std::optional<Scenario> sc = std::nullopt) : sc_(sc ? std::move(*sc) : load_live_scenario()) {
    loop_ = std::make_unique<LiveLoop>(sc_, std::move(o));
    std::string err;
    opened_ = loop_->open(err);
    EXPECT_TRUE(opened_) << err;
    if (opened_) thread_ = std::thread([this] { run_ok_ = loop_->run(run_error_); });
  }
  ~ChannelSession() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      loop_->stop();
      thread_.join();
    }
  }
  LiveLoop& loop() { return *loop_; }
  bool opened() const { return opened_; }
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

}  // namespace planttwin::hil::test
