#include "hardware-in-loop/mqtt/mqtt_channel.h"

#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace planttwin::hil {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr const char* kSource = "mqtt";

struct LibInit {
  LibInit() { mosquitto_lib_init(); }
};

class MqttChannel final : public Channel {
 public:
  MqttChannel(const Scenario& sc, MqttOptions o, mqtt::Profile p) : opt_(std::move(o)), profile_(std::move(p)) {
    prefix_ = "planttwin/" + sc.name + "/";
  }
  ~MqttChannel() override {
    stop();
    if (mosq_) mosquitto_destroy(mosq_);
  }

  bool parse_url(std::string& error) {
    static const std::regex re(R"(^(mqtts?)://([^:/@]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?/?$)");
    std::smatch m;
    if (!std::regex_match(opt_.url, m, re)) {
      error = "--mqtt " + opt_.url + ": not an MQTT URL (mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS; "
              "a login goes in --mqtt-username and --mqtt-password-file, not in the URL)";
      return false;
    }
    tls_ = m[1].str() == "mqtts";
    host_ = m[2].str();
    if (!host_.empty() && host_.front() == '[') host_ = host_.substr(1, host_.size() - 2);
    port_ = m[3].matched ? std::stoi(m[3].str()) : (tls_ ? 8883 : 1883);
    if (port_ <= 0 || port_ > 65535) {
      error = "--mqtt " + opt_.url + ": port out of range";
      return false;
    }
    return true;
  }

  // The TLS and login options: each file readable, each option where it means something.
  bool check_security(std::string& error) {
    if (!tls_) {
      for (const auto& [opt, value] : std::initializer_list<std::pair<const char*, const std::string*>>{{"--mqtt-ca", &opt_.ca_file}, {"--mqtt-cert", &opt_.cert_file}, {"--mqtt-key", &opt_.key_file}})
        if (!value->empty()) {
          error = std::string(opt) + " " + *value + ": TLS options need an mqtts:// URL (--mqtt " + opt_.url + ")";
          return false;
        }
    }
    if (opt_.cert_file.empty() != opt_.key_file.empty()) {
      error = "--mqtt-cert and --mqtt-key: give both (a client certificate and its key) or neither";
      return false;
    }
    for (const auto& [opt, value] : std::initializer_list<std::pair<const char*, const std::string*>>{{"--mqtt-ca", &opt_.ca_file}, {"--mqtt-cert", &opt_.cert_file}, {"--mqtt-key", &opt_.key_file},
                                     {"--mqtt-password-file", &opt_.password_file}})
      if (!value->empty() && !std::ifstream(*value)) {
        error = std::string(opt) + " " + *value + ": cannot read the file";
        return false;
      }
    if (!opt_.password_file.empty()) {
      if (opt_.username.empty()) {
        error = "--mqtt-password-file " + opt_.password_file + ": needs --mqtt-username";
        return false;
      }
      std::ifstream f(opt_.password_file);
      std::getline(f, password_);
      if (!password_.empty() && password_.back() == '\r') password_.pop_back();
      if (password_.empty()) {
        error = "--mqtt-password-file " + opt_.password_file + ": line 1: empty; the file's first line is the password";
        return false;
      }
    }
    return true;
  }

  bool open(boost::asio::io_context& io, std::string& error) override {
    static LibInit init;
    io_ = &io;
    if (!parse_url(error) || !check_security(error)) return false;
    const std::string id = opt_.client_id.empty() ? "planttwin-" + prefix_.substr(10, prefix_.size() - 11) + "-" + std::to_string(::getpid()) : opt_.client_id;
    mosq_ = mosquitto_new(id.c_str(), true, this);
    if (!mosq_) {
      error = "--mqtt: cannot create an MQTT client (libmosquitto)";
      return false;
    }
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) { static_cast<MqttChannel*>(self)->on_connect(m, rc); });
    mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int rc) { static_cast<MqttChannel*>(self)->on_disconnect(rc); });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) { static_cast<MqttChannel*>(self)->on_subscribed(); });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* msg) { static_cast<MqttChannel*>(self)->on_message(msg); });
    // libmosquitto's own errors (a TLS handshake refused, a certificate that does not verify) are
    // said once each on stderr: otherwise a broker that can never be reached is silent
    mosquitto_log_callback_set(mosq_, [](mosquitto*, void* self, int level, const char* text) {
      if (level & MOSQ_LOG_ERR) static_cast<MqttChannel*>(self)->on_library_error(text ? text : "");
    });
    if (!opt_.username.empty() &&
        mosquitto_username_pw_set(mosq_, opt_.username.c_str(), opt_.password_file.empty() ? nullptr : password_.c_str()) != MOSQ_ERR_SUCCESS) {
      error = "--mqtt-username " + opt_.username + ": not accepted by libmosquitto (at most 65,535 bytes of UTF-8)";
      return false;
    }
    if (tls_) {
      const char* ca = opt_.ca_file.empty() ? nullptr : opt_.ca_file.c_str();
      const char* ca_dir = opt_.ca_file.empty() ? "/etc/ssl/certs" : nullptr;
      const char* cert = opt_.cert_file.empty() ? nullptr : opt_.cert_file.c_str();
      const char* key = opt_.key_file.empty() ? nullptr : opt_.key_file.c_str();
      const int rc = mosquitto_tls_set(mosq_, ca, ca_dir, cert, key, nullptr);
      if (rc != MOSQ_ERR_SUCCESS) {
        error = "--mqtt " + opt_.url + ": TLS set-up refused (" + mosquitto_strerror(rc) + "): check --mqtt-ca, --mqtt-cert and --mqtt-key";
        return false;
      }
      // the broker's certificate must verify (SSL_VERIFY_PEER) and name the host: libmosquitto's default
      mosquitto_tls_opts_set(mosq_, 1, nullptr, nullptr);
      mosquitto_tls_insecure_set(mosq_, false);
    }
    // back-off: 1 s, doubling to 30 s, between reconnection attempts
    mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    return true;
  }

  std::string describe() const override {
    return "MQTT " + opt_.url + " (profile " + profile_.name + (profile_.file.empty() ? "" : ", " + profile_.file) + "; outputs on " + prefix_ + "<topic>)";
  }

  void start(ChannelHost& host) override {
    host_api_ = &host;
    SourceStats& st = host.source(kSource);
    st.connected = false;
    started_ = true;
    retry_ = std::make_unique<boost::asio::steady_timer>(*io_);
    try_connect();
  }

  void output(const WireMessage& m) override {
    if (!loop_running_ || stopped_) return;
    const std::string topic = prefix_ + m.topic;
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(m.body.size()), m.body.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) ++publish_failed_;
  }

  void stop() override {
    if (!started_ || stopped_) return;
    stopped_ = true;
    retry_.reset();  // cancels a pending retry; the timer goes before the io_context
    if (!loop_running_) return;
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
  }

 private:
  // The first connection: libmosquitto's own thread reconnects with back-off only once a
  // connection was started, so a broker that is not up yet is retried here (1 s doubling to 30 s).
  void try_connect() {
    if (stopped_) return;
    const int rc = mosquitto_connect_async(mosq_, host_.c_str(), port_, opt_.keepalive_s);
    if (rc == MOSQ_ERR_SUCCESS) {
      loop_running_ = mosquitto_loop_start(mosq_) == MOSQ_ERR_SUCCESS;
      return;
    }
    if (!warned_)
      std::cerr << "planttwin live: MQTT 代理暂不可达，将重试 broker " << opt_.url << " not reachable yet (" << mosquitto_strerror(rc) << "), retrying\n";
    warned_ = true;
    retry_->expires_after(backoff_);
    backoff_ = std::min<std::chrono::seconds>(backoff_ * 2, std::chrono::seconds(30));
    retry_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) try_connect();
    });
  }

  // ---- libmosquitto's thread ----
  void on_connect(mosquitto* m, int rc) {
    if (rc != 0) {  // refused (a login, a client id): libmosquitto retries with back-off; said once per reason
      boost::asio::post(*io_, [this, rc] {
        if (refusals_said_.insert(rc).second)
          std::cerr << "planttwin live: MQTT 代理拒绝连接，将重试 broker " << opt_.url << " refused the connection: " << mosquitto_connack_string(rc)
                    << " (CONNACK " << rc << "); retrying with back-off" << (rc == 4 || rc == 5 ? "; check --mqtt-username and --mqtt-password-file" : "")
                    << "\n";
      });
      return;
    }
    for (const std::string& t : profile_.topics) mosquitto_subscribe(m, nullptr, t.c_str(), 1);
  }
  void on_subscribed() {
    if (subscribed_count_.fetch_add(1) + 1 < static_cast<int>(profile_.topics.size())) return;
    boost::asio::post(*io_, [this] {
      SourceStats& st = host_api_->source(kSource);
      if (!st.connected && ever_connected_)
        std::cerr << "planttwin live: MQTT 已重新连接 reconnected to " << opt_.url << "\n";
      st.connected = true;
      ever_connected_ = true;
    });
  }
  void on_library_error(std::string text) {
    if (stopped_) return;
    boost::asio::post(*io_, [this, text = std::move(text)] {
      if (library_errors_said_.size() < 16 && library_errors_said_.insert(text).second)
        std::cerr << "planttwin live: MQTT 连接错误 " << opt_.url << ": " << text << "\n";
    });
  }
  void on_disconnect(int rc) {
    subscribed_count_ = 0;
    if (stopped_ || rc == 0) return;
    boost::asio::post(*io_, [this] {
      SourceStats& st = host_api_->source(kSource);
      if (st.connected) {
        ++st.disconnects;
        std::cerr << "planttwin live: MQTT 代理连接中断，正在重连 connection to " << opt_.url << " lost, reconnecting with back-off\n";
      }
      st.connected = false;
    });
  }
  void on_message(const mosquitto_message* msg) {
    Pending p{SteadyClock::now(), msg->topic ? msg->topic : "",
              std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen))};
    bool post = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      post = queue_.empty() && overloaded_ == 0;
      const std::size_t bytes = p.topic.size() + p.payload.size();
      if ((opt_.max_queued && queue_.size() >= opt_.max_queued) || (opt_.max_queued_bytes && queued_bytes_ + bytes > opt_.max_queued_bytes)) {
        ++overloaded_;  // bounded memory: dropped here, counted on the loop's thread (drain)
      } else {
        queued_bytes_ += bytes;
        queue_.push_back(std::move(p));
      }
    }
    if (post) boost::asio::post(*io_, [this] { drain(); });
  }

  // ---- the loop's thread ----
  void drain() {
    std::deque<Pending> batch;
    std::uint64_t overloaded = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      batch.swap(queue_);
      queued_bytes_ = 0;
      overloaded = overloaded_;
      overloaded_ = 0;
    }
    if (overloaded > 0) {
      for (std::uint64_t i = 0; i < overloaded; ++i) host_api_->rejected(kSource, "overloaded");
      if (!warned_overload_) {
        warned_overload_ = true;
        std::cerr << "planttwin live: MQTT 输入超过处理能力，已丢弃消息（见 stats 的 overloaded）input faster than the engine: messages dropped "
                     "beyond --mqtt-max-queued " << opt_.max_queued << " / --mqtt-max-queued-bytes " << opt_.max_queued_bytes
                  << " (counted as 'overloaded' in stats)\n";
      }
    }
    for (const Pending& p : batch) {
      converted_.clear();
      rejected_.clear();
      std::size_t no_position = 0;
      mqtt::convert(profile_, p.payload, host_api_->now_unix_ms(), converted_, rejected_, no_position);
      for (const mqtt::Converted& c : converted_) host_api_->deliver(kSource, c.topic, c.body, p.arrival);
      for (std::size_t i = 0; i < no_position; ++i) host_api_->rejected(kSource, "no_position");
      for (const mqtt::Rejected& r : rejected_) {
        host_api_->rejected(kSource, r.reason);
        // answered on planttwin/<scenario>/error, as live-v1's `error` (topic: the MQTT topic)
        output(encode_error(host_api_->now_unix_ms(), {r.reason, r.detail}, p.topic));
      }
    }
    host_api_->batch_done();
  }

  struct Pending {
    SteadyClock::time_point arrival;
    std::string topic, payload;
  };

  MqttOptions opt_;
  mqtt::Profile profile_;
  std::string prefix_, host_;
  int port_ = 1883;
  bool tls_ = false;
  std::string password_;                 // read from --mqtt-password-file at start
  std::set<int> refusals_said_;          // the loop's thread: CONNACK codes already said
  std::set<std::string> library_errors_said_;  // the loop's thread
  boost::asio::io_context* io_ = nullptr;
  ChannelHost* host_api_ = nullptr;
  mosquitto* mosq_ = nullptr;
  bool started_ = false, loop_running_ = false, warned_ = false;
  std::unique_ptr<boost::asio::steady_timer> retry_;
  std::chrono::seconds backoff_{1};
  std::atomic<bool> stopped_{false};
  bool ever_connected_ = false;
  std::atomic<int> subscribed_count_{0};
  std::uint64_t publish_failed_ = 0;
  std::mutex mu_;
  std::deque<Pending> queue_;       // guarded by mu_
  std::size_t queued_bytes_ = 0;    // guarded by mu_: topic + payload bytes in queue_
  std::uint64_t overloaded_ = 0;    // guarded by mu_: dropped since the last drain
  bool warned_overload_ = false;    // the loop's thread
  std::vector<mqtt::Converted> converted_;
  std::vector<mqtt::Rejected> rejected_;
};

}  // namespace

std::shared_ptr<Channel> make_mqtt_channel(const Scenario& sc, const MqttOptions& o, std::string& error) {
  mqtt::Profile p;
  if (!load_profile(o.profile.empty() ? "generic" : o.profile, p, error)) return nullptr;
  auto c = std::make_shared<MqttChannel>(sc, o, std::move(p));
  if (!c->parse_url(error) || !c->check_security(error)) return nullptr;
  return c;
}

}  // namespace planttwin::hil
