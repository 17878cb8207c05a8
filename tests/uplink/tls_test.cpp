// The uplink over https (PL-11: the park platform is reached over the internet): TLS with the
// server's certificate verified against a CA file and its name against the URL's host, extra
// headers (a token) on every request, and a clear refusal of a server that cannot be verified.
// The certificates are made here with OpenSSL (a throwaway CA per test run); the server is a
// Boost.Beast https receiver on 127.0.0.1.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "hardware-in-loop/uplink/http_client.h"
#include "hardware-in-loop/uplink/uplink.h"
#include "tests/common/test_certs.h"

namespace planttwin::test {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "uplink-tls";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

// An https receiver: answers every request 200 with a batch id and records its headers and body.
class TlsReceiver {
 public:
  struct Request {
    std::string authorization, key, host;
    std::string body;
  };
  explicit TlsReceiver(const Pem& pem) : ctx_(ssl::context::tls_server) {
    ctx_.use_certificate_chain(net::buffer(pem.cert));
    ctx_.use_private_key(net::buffer(pem.key), ssl::context::pem);
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsReceiver() {
    stop_ = true;
    beast::error_code ignored;
    // wake the accept
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), port_}, ignored);
    thread_.join();
  }
  unsigned short port() const { return port_; }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int handshakes_failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return handshakes_failed_;
  }

 private:
  void serve() {
    while (!stop_) {
      beast::error_code ec;
      net::ip::tcp::socket sock(ioc_);
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), ctx_);
      stream.next_layer().expires_after(5s);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) {
        std::lock_guard<std::mutex> lock(mu_);
        ++handshakes_failed_;
        continue;
      }
      beast::flat_buffer buf;
      for (;;) {
        http::request<http::string_body> req;
        http::read(stream, buf, req, ec);
        if (ec) break;
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back({std::string(req[http::field::authorization]), std::string(req["Idempotency-Key"]),
                               std::string(req[http::field::host]), req.body()});
        }
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(req.keep_alive());
        res.body() = R"({"batch_id":"PB1"})";
        res.prepare_payload();
        http::write(stream, res, ec);
        if (ec || !req.keep_alive()) break;
      }
    }
  }

  ssl::context ctx_;
  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  int handshakes_failed_ = 0;
};

TEST(UplinkTls, PL11_HttpsVerifiedAgainstTheCaFileWithTheTokenHeader) {
  const Pem server = make_cert("platform", "DNS:localhost,IP:127.0.0.1");
  TlsReceiver rx(server);
  const std::string ca = write_file("ca-ok.pem", server.cert);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    const auto target = uplink::parse_http_url("https://" + host + ":" + std::to_string(rx.port()) + "/aq3064/upload");
    EXPECT_TRUE(target.tls);
    uplink::HttpClient client(target, {ca, {{"Authorization", "Bearer s3cret"}}});
    const uplink::HttpResult r = client.post(R"({"batch_seq":1})", "K1", 5 * kSecond);
    ASSERT_TRUE(r.answered) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(nlohmann::json::parse(r.body)["batch_id"], "PB1");
    // a second request on the same (kept-alive) connection
    const uplink::HttpResult r2 = client.post(R"({"batch_seq":2})", "K2", 5 * kSecond);
    ASSERT_TRUE(r2.answered) << r2.error;
  }
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& q : reqs) EXPECT_EQ(q.authorization, "Bearer s3cret");
  EXPECT_EQ(reqs[0].key, "K1");
  EXPECT_EQ(reqs[1].body, R"({"batch_seq":2})");
  EXPECT_EQ(reqs[0].host, "127.0.0.1:" + std::to_string(rx.port()));
}

TEST(UplinkTls, PL11_AServerThatCannotBeVerifiedGetsNothing) {
  const Pem server = make_cert("platform", "DNS:localhost,IP:127.0.0.1");
  const Pem stranger = make_cert("someone-else", "DNS:localhost,IP:127.0.0.1");
  const Pem other_name = make_cert("platform", "DNS:platform.example");
  {
    // trusted CA file, but the server's certificate is not from it
    TlsReceiver rx(server);
    uplink::HttpClient client(uplink::parse_http_url("https://127.0.0.1:" + std::to_string(rx.port()) + "/"),
                              {write_file("ca-stranger.pem", stranger.cert), {{"Authorization", "Bearer s3cret"}}});
    const uplink::HttpResult r = client.post("{}", "K1", 5 * kSecond);
    EXPECT_FALSE(r.answered);
    EXPECT_NE(r.error.find("TLS"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
    std::printf("refused: %s\n", r.error.c_str());
    EXPECT_TRUE(rx.requests().empty()) << "the token went to an unverified server";
  }
  {
    // the right CA, but the certificate names another host
    TlsReceiver rx(other_name);
    uplink::HttpClient client(uplink::parse_http_url("https://127.0.0.1:" + std::to_string(rx.port()) + "/"),
                              {write_file("ca-other-name.pem", other_name.cert), {}});
    const uplink::HttpResult r = client.post("{}", "K1", 5 * kSecond);
    EXPECT_FALSE(r.answered);
    EXPECT_NE(r.error.find("TLS"), std::string::npos) << r.error;
    EXPECT_TRUE(rx.requests().empty());
  }
  {
    // without a CA file the system's CAs are used: a self-signed server is refused too
    TlsReceiver rx(server);
    uplink::HttpClient client(uplink::parse_http_url("https://127.0.0.1:" + std::to_string(rx.port()) + "/"), {});
    const uplink::HttpResult r = client.post("{}", "K1", 5 * kSecond);
    EXPECT_FALSE(r.answered);
    EXPECT_TRUE(rx.requests().empty());
  }
}

TEST(UplinkTls, PL11_UplinkDeliversOverHttpsExactlyOnce) {
  const Pem server = make_cert("platform", "IP:127.0.0.1");
  TlsReceiver rx(server);
  Site site;
  site.name = "tls";
  UplinkOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(rx.port()) + "/aq3064/upload";
  o.ca_file = write_file("ca-uplink.pem", server.cert);
  o.headers = {{"Authorization", "Bearer s3cret"}};
  o.outbox = write_file("outbox.sqlite", "");
  fs::remove(o.outbox);
  o.idle_poll = 50 * kMillisecond;
  Uplink up(site, WallClock{}, o);
  for (int n = 1; n <= 3; ++n) {
    Alarm a;
    a.id = "A00000" + std::to_string(n);
    a.type = AlarmType::sos;
    a.level = AlarmLevel::red;
    AlarmEvent e;
    e.t = n * kSecond;
    e.kind = AlarmEventKind::raised;
    e.level = AlarmLevel::red;
    a.events.push_back(e);
    up.on_alarm(e.t, a, e);
  }
  ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].authorization, "Bearer s3cret");
    EXPECT_EQ(nlohmann::json::parse(reqs[i].body)["batch_seq"], static_cast<int>(i) + 1);
  }
  EXPECT_EQ(up.stats().sent, 3u);
}

TEST(UplinkTls, UrlsAndHeadersAreChecked) {
  const auto t = uplink::parse_http_url("https://platform.example/up");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(uplink::parse_http_url("http://platform.example/up").port, "80");
  EXPECT_FALSE(uplink::parse_http_url("http://platform.example/up").tls);
  EXPECT_EQ(uplink::parse_http_url("https://platform.example:8443").port, "8443");
  const auto h = uplink::parse_http_header("Authorization:   Bearer abc  ");
  EXPECT_EQ(h.first, "Authorization");
  EXPECT_EQ(h.second, "Bearer abc");
  for (const char* bad : {"no colon", ": empty name", "Bad Name: x", "X-Token: a\nb"}) EXPECT_THROW(uplink::parse_http_header(bad), std::runtime_error) << bad;
  // an unreadable CA file is named
  try {
    uplink::HttpClient c(uplink::parse_http_url("https://127.0.0.1:1/"), {"/nonexistent/ca.pem", {}});
    FAIL() << "a missing CA file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace planttwin::test
