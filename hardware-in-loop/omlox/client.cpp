// `--omlox-connect http://HOST:PORT/v2`: planttwin as the client of a vendor's omlox hub. It opens
// the hub's WebSocket (BASE/ws/socket), subscribes to location_updates and feeds every Location to
// the session (source "omlox-client"). A lost hub is retried with back-off (1 s doubling to 30 s).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <iostream>
#include <regex>

#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/omlox/server.h"

namespace planttwin::hil {

namespace omlox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr const char* kSource = "omlox-client";
}

class Client final : public Channel, public std::enable_shared_from_this<Client> {
 public:
  Client(const Scenario& sc, std::string url) : url_(std::move(url)), geo_(sc.site) {}

  bool parse(std::string& error) {
    static const std::regex re(R"(^http://([^:/]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?(/[^?#]*)?$)");
    std::smatch m;
    if (!std::regex_match(url_, m, re)) {
      error = "--omlox-connect " + url_ + ": not an omlox hub URL (http://HOST:PORT/v2)";
      return false;
    }
    host_ = m[1].str();
    port_ = m[2].matched ? m[2].str() : "80";
    std::string base = m[3].matched ? m[3].str() : "/v2";
    while (!base.empty() && base.back() == '/') base.pop_back();
    path_ = base + "/ws/socket";
    return true;
  }

  bool open(asio::io_context& io, std::string& error) override {
    io_ = &io;
    timer_ = std::make_unique<asio::steady_timer>(io);
    return parse(error);
  }
  std::string describe() const override { return "following the omlox hub " + url_ + " (WebSocket " + path_ + ", location_updates)"; }

  void start(ChannelHost& host) override {
    host_api_ = &host;
    host.source(kSource).connected = false;
    connect();
  }
  void output(const WireMessage&) override {}
  void stop() override {
    stopped_ = true;
    // the timer goes before the io_context it belongs to: the caller's LiveOptions may keep this
    // channel after the loop (and its io_context) is gone (ASan: heap-use-after-free in ~Client)
    timer_.reset();
    if (ws_) {
      beast::error_code ec;
      beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(*ws_).close();
    }
    ws_.reset();  // handlers still hold it until the io_context drops them
  }

 private:
  void connect() {
    if (stopped_) return;
    ws_ = std::make_shared<websocket::stream<beast::tcp_stream>>(*io_);
    auto ws = ws_;
    auto resolver = std::make_shared<tcp::resolver>(*io_);
    resolver->async_resolve(host_, port_, [this, ws, resolver](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec) return failed("resolve: " + ec.message());
      beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(5));
      beast::get_lowest_layer(*ws).async_connect(results, [this, ws](beast::error_code ec2, const tcp::endpoint&) {
        if (ec2) return failed("connect: " + ec2.message());
        beast::get_lowest_layer(*ws).expires_never();
        ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        ws->read_message_max(16 << 20);
        ws->async_handshake(host_ + ":" + port_, path_, [this, ws](beast::error_code ec3) {
          if (ec3) return failed("WebSocket handshake: " + ec3.message());
          sub_ = std::make_shared<std::string>(json{{"event", "subscribe"}, {"topic", "location_updates"}}.dump());
          ws->text(true);
          ws->async_write(asio::buffer(*sub_), [this, ws](beast::error_code ec4, std::size_t) {
            if (ec4) return failed("subscribe: " + ec4.message());
            read(ws);
          });
        });
      });
    });
  }

  void read(const std::shared_ptr<websocket::stream<beast::tcp_stream>>& ws) {
    ws->async_read(buf_, [this, ws](beast::error_code ec, std::size_t) {
      if (ec) return failed("read: " + ec.message());
      const SteadyClock::time_point arrival = SteadyClock::now();
      const std::string text = beast::buffers_to_string(buf_.data());
      buf_.consume(buf_.size());
      handle(text, arrival);
      read(ws);
    });
  }

  void handle(const std::string& text, SteadyClock::time_point arrival) {
    ChannelHost& host = *host_api_;
    const json w = json::parse(text, nullptr, false);
    if (!w.is_object() || !w.contains("event") || !w["event"].is_string()) {
      host.rejected(kSource, w.is_discarded() ? "bad_json" : "bad_wrapper");
      return;
    }
    const std::string event = w["event"].get<std::string>();
    if (event == "subscribed") {
      SourceStats& st = host.source(kSource);
      if (ever_) std::cerr << "planttwin live: omlox 已重新连接 reconnected to the hub " << url_ << "\n";
      st.connected = true;
      ever_ = true;
      backoff_ = std::chrono::seconds(1);
      return;
    }
    if (event == "error") {
      std::cerr << "planttwin live: omlox hub " << url_ << " error " << w.value("code", json()).dump() << ": " << w.value("description", json()).dump() << "\n";
      return;
    }
    const auto topic = w.find("topic");  // a hub's wrong types are dropped, never thrown (fuzz_omlox)
    if (event != "message" || topic == w.end() || !topic->is_string() || topic->get<std::string>() != "location_updates") return;
    if (!w.contains("payload") || !w["payload"].is_array()) {
      host.rejected(kSource, "bad_wrapper");
      return;
    }
    for (const json& loc : w["payload"]) {
      std::string body, reason, detail;
      if (!location_to_fix(loc, "", host.now_unix_ms(), geo_, body, reason, detail)) {
        host.rejected(kSource, reason);
        continue;
      }
      host.deliver(kSource, "fix", body, arrival);
    }
    host.batch_done();
  }

  void failed(const std::string& what) {
    if (stopped_) return;
    SourceStats& st = host_api_->source(kSource);
    if (st.connected) {
      ++st.disconnects;
      std::cerr << "planttwin live: omlox 集线器连接中断，正在重连 connection to the hub " << url_ << " lost (" << what << "), reconnecting with back-off\n";
    } else if (!warned_) {
      std::cerr << "planttwin live: omlox 集线器暂不可达，将重试 hub " << url_ << " not reachable (" << what << "), retrying\n";
      warned_ = true;
    }
    st.connected = false;
    buf_.consume(buf_.size());
    timer_->expires_after(backoff_);
    backoff_ = std::min<std::chrono::seconds>(backoff_ * 2, std::chrono::seconds(30));
    timer_->async_wait([this](beast::error_code ec) {
      if (!ec) connect();
    });
  }

  std::string url_, host_, port_, path_;
  GeoToSite geo_;
  asio::io_context* io_ = nullptr;
  ChannelHost* host_api_ = nullptr;
  std::unique_ptr<asio::steady_timer> timer_;
  std::shared_ptr<websocket::stream<beast::tcp_stream>> ws_;
  std::shared_ptr<std::string> sub_;
  beast::flat_buffer buf_;
  std::chrono::seconds backoff_{1};
  bool stopped_ = false, ever_ = false, warned_ = false;
};

}  // namespace omlox

bool make_omlox_channels(const Scenario& sc, const OmloxOptions& o, std::vector<std::shared_ptr<Channel>>& out, std::string& error) {
  if (!o.listen.empty()) out.push_back(std::make_shared<omlox::Server>(sc, o.listen));
  if (!o.connect.empty()) {
    auto c = std::make_shared<omlox::Client>(sc, o.connect);
    if (!c->parse(error)) return false;
    out.push_back(c);
  }
  return true;
}

}  // namespace planttwin::hil
