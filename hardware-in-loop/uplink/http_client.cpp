#include "hardware-in-loop/uplink/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>

namespace planttwin::uplink {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

HttpTarget parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw std::runtime_error("uplink URL " + url + ": https is not supported; use http:// (e.g. through a TLS proxy)");
  if (url.rfind(scheme, 0) != 0) throw std::runtime_error("uplink URL " + url + ": must start with http://");
  std::string rest = url.substr(scheme.size());
  HttpTarget t;
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos)
    throw std::runtime_error("uplink URL " + url + ": user information in the URL is not supported");
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) throw std::runtime_error("uplink URL " + url + ": unterminated [IPv6] host");
    t.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    t.port = after.empty() ? "80" : (after[0] == ':' ? after.substr(1) : "");
  } else {
    size_t colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    t.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (t.host.empty()) throw std::runtime_error("uplink URL " + url + ": no host");
  if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos || t.port.size() > 5 ||
      std::stoi(t.port) == 0 || std::stoi(t.port) > 65535)
    throw std::runtime_error("uplink URL " + url + ": bad port '" + t.port + "'");
  return t;
}

struct HttpClient::Impl {
  HttpTarget target;
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  std::optional<beast::tcp_stream> stream;
  net::steady_timer deadline{ioc};
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  std::atomic<bool> cancelled{false};
  bool connected = false, timed_out = false, got_bytes = false;
  beast::error_code result;

  void finish(beast::error_code ec) {
    result = ec;
    deadline.cancel();
  }

  void do_write() {
    http::async_write(*stream, req, [this](beast::error_code ec, std::size_t) {
      if (ec) return finish(ec);
      parser.emplace();
      parser->body_limit(1 << 20);
      http::async_read(*stream, buffer, *parser, [this](beast::error_code ec2, std::size_t n) {
        got_bytes = got_bytes || n > 0;
        finish(ec2);
      });
    });
  }

  void start() {
    if (connected) return do_write();
    stream.emplace(ioc);
    buffer.clear();
    resolver.async_resolve(target.host, target.port, [this](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return finish(ec);
      stream->async_connect(r, [this](beast::error_code ec2, const tcp::endpoint&) {
        if (ec2) return finish(ec2);
        connected = true;
        do_write();
      });
    });
  }

  void drop_connection() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    connected = false;
  }

  // one attempt on the current or a new connection
  HttpResult attempt(Micros timeout) {
    HttpResult out;
    result = {};
    timed_out = false;
    got_bytes = false;
    ioc.restart();
    if (cancelled) {
      out.error = "cancelled";
      return out;
    }
    deadline.expires_after(std::chrono::microseconds(timeout));
    deadline.async_wait([this](beast::error_code ec) {
      if (ec) return;  // cancelled: the request finished first
      timed_out = true;
      resolver.cancel();
      if (stream) stream->close();
    });
    start();
    ioc.run();
    if (cancelled) {
      drop_connection();
      out.error = "cancelled";
      return out;
    }
    if (result || timed_out) {
      drop_connection();
      out.error = timed_out ? "timed out after " + std::to_string(timeout / kMillisecond) + " ms" : result.message();
      return out;
    }
    auto& res = parser->get();
    out.answered = true;
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    if (!res.keep_alive()) drop_connection();
    return out;
  }
};

HttpClient::HttpClient(HttpTarget target) : impl_(std::make_unique<Impl>()) { impl_->target = std::move(target); }

HttpClient::~HttpClient() = default;

HttpResult HttpClient::post(const std::string& body, const std::string& idempotency_key, Micros timeout) {
  Impl& m = *impl_;
  m.req = {};
  m.req.method(http::verb::post);
  m.req.target(m.target.target);
  m.req.version(11);
  m.req.set(http::field::host, m.target.port == "80" ? m.target.host : m.target.host + ":" + m.target.port);
  m.req.set(http::field::user_agent, "planttwin-uplink/1");
  m.req.set(http::field::content_type, "application/json; charset=utf-8");
  m.req.set("Idempotency-Key", idempotency_key);
  m.req.keep_alive(true);
  m.req.body() = body;
  m.req.prepare_payload();
  bool reused = m.connected;
  HttpResult r = m.attempt(timeout);
  // a kept-alive connection the server had closed: try once more on a new one
  if (!r.answered && reused && !m.timed_out && !m.cancelled && !m.got_bytes) r = m.attempt(timeout);
  return r;
}

void HttpClient::cancel() {
  impl_->cancelled = true;
  impl_->ioc.stop();
}

}  // namespace planttwin::uplink
