#include "hardware-in-loop/uplink/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <chrono>
#include <optional>
#include <cctype>
#include <stdexcept>
#include <string_view>

namespace planttwin::uplink {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

HttpTarget parse_http_url(const std::string& url) {
  HttpTarget t;
  std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) scheme = "https://", t.tls = true;
  else if (url.rfind(scheme, 0) != 0) throw std::runtime_error("uplink URL " + url + ": must start with http:// or https://");
  const std::string default_port = t.tls ? "443" : "80";
  std::string rest = url.substr(scheme.size());
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
    t.port = after.empty() ? default_port : (after[0] == ':' ? after.substr(1) : "");
  } else {
    size_t colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    t.port = colon == std::string::npos ? default_port : authority.substr(colon + 1);
  }
  if (t.host.empty()) throw std::runtime_error("uplink URL " + url + ": no host");
  if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos || t.port.size() > 5 ||
      std::stoi(t.port) == 0 || std::stoi(t.port) > 65535)
    throw std::runtime_error("uplink URL " + url + ": bad port '" + t.port + "'");
  return t;
}

std::pair<std::string, std::string> parse_http_header(const std::string& line) {
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error("header '" + line + "': write it as 'Name: value'");
  const std::string name = line.substr(0, colon);
  for (unsigned char c : name)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      throw std::runtime_error("header '" + name + "': not a valid header name (letters, digits and !#$%&'*+-.^_`|~)");
  std::string value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.pop_back();
  for (unsigned char c : value)
    if (c < 0x20 && c != '\t') throw std::runtime_error("header '" + name + "': the value must be one line of printable characters");
  return {name, value};
}

struct HttpClient::Impl {
  HttpTarget target;
  HttpClientOptions opt;
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  std::optional<ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> stream;                     // http
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;     // https
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

  beast::tcp_stream& tcp_layer() { return tls ? tls->next_layer() : *stream; }

  template <class Stream>
  void write_and_read(Stream& s) {
    http::async_write(s, req, [this, &s](beast::error_code ec, std::size_t) {
      if (ec) return finish(ec);
      parser.emplace();
      parser->body_limit(1 << 20);
      http::async_read(s, buffer, *parser, [this](beast::error_code ec2, std::size_t n) {
        got_bytes = got_bytes || n > 0;
        finish(ec2);
      });
    });
  }
  void do_write() {
    if (tls) write_and_read(*tls);
    else write_and_read(*stream);
  }

  void start() {
    if (connected) return do_write();
    buffer.clear();
    if (target.tls) {
      tls.emplace(ioc, *tls_ctx);
      // SNI (for a host name; RFC 6066 has none for an address), and the certificate must name
      // the URL's host or address (RFC 2818 rules)
      beast::error_code not_ip;
      (void)net::ip::make_address(target.host, not_ip);
      if (not_ip && !SSL_set_tlsext_host_name(tls->native_handle(), target.host.c_str()))
        return finish(beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
      tls->set_verify_callback(ssl::host_name_verification(target.host));
    } else {
      stream.emplace(ioc);
    }
    resolver.async_resolve(target.host, target.port, [this](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return finish(ec);
      tcp_layer().async_connect(r, [this](beast::error_code ec2, const tcp::endpoint& peer) {
        if (ec2) return finish(ec2);
        // A platform on this machine that is down: the kernel may give the connection the
        // platform's own port as its local one (TCP simultaneous open with itself). The request
        // would come back as its own answer, and the port stay taken so the platform cannot listen
        // again (found by the soak, docs/soak.md). Treated as refused.
        beast::error_code le;
        if (tcp_layer().socket().local_endpoint(le) == peer && !le) {
          drop_connection();
          return finish(net::error::connection_refused);
        }
        if (!tls) {
          connected = true;
          return do_write();
        }
        tls->async_handshake(ssl::stream_base::client, [this](beast::error_code ec3) {
          if (ec3) return finish(ec3);
          connected = true;
          do_write();
        });
      });
    });
  }

  void drop_connection() {
    if (stream || tls) {
      beast::error_code ignored;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp_layer().close();
    }
    connected = false;
  }

  // a transport error as an operator reads it (TLS errors name the verification failure)
  std::string describe(const beast::error_code& ec) {
    std::string m = ec.message();
    if (ec.category() == net::error::get_ssl_category()) {
      m = "TLS: " + m;
      if (tls) {
        const long v = SSL_get_verify_result(tls->native_handle());
        if (v != X509_V_OK) m += " (" + std::string(X509_verify_cert_error_string(v)) + ")";
      }
    }
    return m;
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
      if (stream || tls) tcp_layer().close();
    });
    start();
    ioc.run();
    if (cancelled) {
      drop_connection();
      out.error = "cancelled";
      return out;
    }
    if (result || timed_out) {
      out.error = timed_out ? "timed out after " + std::to_string(timeout / kMillisecond) + " ms" : describe(result);
      drop_connection();
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

HttpClient::HttpClient(HttpTarget target, HttpClientOptions opt) : impl_(std::make_unique<Impl>()) {
  impl_->target = std::move(target);
  impl_->opt = std::move(opt);
  if (impl_->target.tls) {
    ssl::context& c = impl_->tls_ctx.emplace(ssl::context::tls_client);
    c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                  ssl::context::no_tlsv1_1);
    c.set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (impl_->opt.ca_file.empty()) c.set_default_verify_paths(ec);
    else c.load_verify_file(impl_->opt.ca_file, ec);
    if (ec)
      throw std::runtime_error(impl_->opt.ca_file.empty() ? "TLS: cannot load the system's CA certificates: " + ec.message()
                                                          : impl_->opt.ca_file + ": cannot load CA certificates (PEM): " + ec.message());
  }
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::post(const std::string& body, const std::string& idempotency_key, Micros timeout) {
  return post("", body, idempotency_key, {}, timeout);
}

const std::string& HttpClient::base_path() const { return impl_->target.target; }

HttpResult HttpClient::post(const std::string& path, const std::string& body, const std::string& idempotency_key,
                            const std::vector<std::pair<std::string, std::string>>& headers, Micros timeout) {
  Impl& m = *impl_;
  m.req = {};
  m.req.method(http::verb::post);
  m.req.target(path.empty() ? m.target.target : path);
  m.req.version(11);
  const bool default_port = m.target.port == (m.target.tls ? "443" : "80");
  m.req.set(http::field::host, default_port ? m.target.host : m.target.host + ":" + m.target.port);
  m.req.set(http::field::user_agent, "planttwin-uplink/1");
  m.req.set(http::field::content_type, "application/json; charset=utf-8");
  m.req.set("Idempotency-Key", idempotency_key);
  for (const auto& [name, value] : m.opt.headers) m.req.set(name, value);
  for (const auto& [name, value] : headers) m.req.set(name, value);
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
