// The omlox hub API v2 server (`--omlox-listen`), on the live loop's io_context (one thread: no
// locks). Beast for HTTP and WebSocket. docs/omlox.md.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <iostream>
#include <map>
#include <set>

#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/omlox/server.h"
#include "hardware-in-loop/vendor_time.h"

namespace planttwin::hil::omlox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr const char* kSource = "omlox";
constexpr std::size_t kMaxQueued = 20000;  // messages queued for one slow WebSocket client before it is dropped
const std::set<std::string> kTopics = {"location_updates", "fence_events", "planttwin:alarms", "planttwin:stats"};

json error_event(int code, const std::string& description, const std::string& topic = "") {
  json e = {{"event", "error"}, {"code", code}, {"description", description}};
  if (!topic.empty()) e["topic"] = topic;
  return e;
}
}  // namespace

// ---- one WebSocket client ----------------------------------------------------------------------

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket s, Server& server) : ws_(std::move(s)), server_(server) {}

  void accept(http::request<http::string_body> req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(1 << 20);
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->server_.add(self);
      self->read();
    });
  }

  // topic -> subscription ids of this client
  const std::multimap<std::string, int>& subscriptions() const { return subs_; }

  void send(std::string text) {
    if (closed_) return;
    if (out_.size() >= kMaxQueued) {  // a client that does not read: closed rather than grow without bound
      closed_ = true;
      beast::get_lowest_layer(ws_).close();
      return;
    }
    out_.push_back(std::move(text));
    if (out_.size() == 1) write();
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  bool closed() const { return closed_; }

 private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        return;
      }
      const SteadyClock::time_point arrival = SteadyClock::now();
      const std::string text = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      self->handle(text, arrival);
      self->read();
    });
  }

  void write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        self->out_.clear();
        return;
      }
      self->out_.pop_front();
      if (!self->out_.empty()) self->write();
    });
  }

  void handle(const std::string& text, SteadyClock::time_point arrival) {
    ChannelHost& host = *server_.host();
    const json w = json::parse(text, nullptr, false);
    if (w.is_discarded() || !w.is_object() || !w.contains("event") || !w["event"].is_string()) {
      host.rejected(kSource, w.is_discarded() ? "bad_json" : "bad_wrapper");
      send(error_event(kInvalidPayload, w.is_discarded() ? "not JSON" : "not an omlox wrapper object (no event)").dump());
      return;
    }
    const std::string event = w["event"].get<std::string>();
    const std::string topic = w.contains("topic") && w["topic"].is_string() ? w["topic"].get<std::string>() : "";
    if (event == "subscribe") {
      if (!kTopics.count(topic)) {
        send(error_event(kUnknownTopic, "unknown topic '" + topic + "' (location_updates, fence_events, planttwin:alarms, planttwin:stats)", topic).dump());
        return;
      }
      const int sid = server_.next_subscription_id();
      subs_.emplace(topic, sid);
      json r = {{"event", "subscribed"}, {"topic", topic}, {"subscription_id", sid}};
      if (w.contains("params")) r["params"] = w["params"];
      send(r.dump());
    } else if (event == "unsubscribe") {
      const int sid = w.contains("subscription_id") && w["subscription_id"].is_number_integer() ? w["subscription_id"].get<int>() : -1;
      for (auto it = subs_.begin(); it != subs_.end(); ++it)
        if (it->second == sid) {
          const std::string t = it->first;
          subs_.erase(it);
          send(json{{"event", "unsubscribed"}, {"topic", t}, {"subscription_id", sid}}.dump());
          return;
        }
      send(error_event(kUnsubscribeFailed, "no subscription " + std::to_string(sid) + " on this connection", topic).dump());
    } else if (event == "message") {
      if (topic != "location_updates") {
        host.rejected(kSource, "unknown_topic");
        send(error_event(kUnknownTopic, "clients publish on location_updates only, not '" + topic + "'", topic).dump());
        return;
      }
      if (!w.contains("payload") || !w["payload"].is_array()) {
        host.rejected(kSource, "bad_wrapper");
        send(error_event(kInvalidPayload, "payload is not an array of Location objects", topic).dump());
        return;
      }
      for (const json& loc : w["payload"]) {
        std::string body, reason, detail;
        if (!location_to_fix(loc, "", host.now_unix_ms(), server_.geo(), body, reason, detail)) {
          host.rejected(kSource, reason);
          send(error_event(kInvalidPayload, reason + ": " + detail, topic).dump());
          continue;
        }
        server_.remember(loc);
        const Delivery d = host.deliver(kSource, "fix", body, arrival);
        if (!d.accepted) send(error_event(kInvalidPayload, d.reason + ": " + d.detail, topic).dump());
      }
      host.batch_done();
    } else {
      host.rejected(kSource, "bad_wrapper");
      send(error_event(kInvalidPayload, "event '" + event + "' is not one a client sends (subscribe, unsubscribe, message)", topic).dump());
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  Server& server_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  std::multimap<std::string, int> subs_;
  bool closed_ = false;
};

// ---- one HTTP connection (REST, or the upgrade to a WebSocket) ----------------------------------

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket s, Server& server) : stream_(std::move(s)), server_(server) {}
  void run() { read(); }

 private:
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buf_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->handle();
    });
  }

  void handle() {
    const std::string target(req_.target());
    if (websocket::is_upgrade(req_)) {
      if (target == "/v2/ws/socket") {
        stream_.expires_never();
        std::make_shared<WsSession>(stream_.release_socket(), server_)->accept(std::move(req_));
        return;
      }
      return respond(http::status::not_found, error_body("not_found", 404, "WebSocket at /v2/ws/socket"));
    }
    std::string path = target.substr(0, target.find('?'));
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const auto method = req_.method();
    if (path == "/v2/providers" && method == http::verb::get) return respond(http::status::ok, server_.providers().dump());
    if (path == "/v2/fences" && method == http::verb::get) return respond(http::status::ok, server_.fences().dump());
    if (path == "/v2/zones" && method == http::verb::get) return respond(http::status::ok, server_.zones().dump());
    const std::string pre = "/v2/providers/", post = "/location";
    if (path.rfind(pre, 0) == 0 && path.size() > pre.size() + post.size() && path.compare(path.size() - post.size(), post.size(), post) == 0) {
      if (method != http::verb::put) return respond(http::status::method_not_allowed, error_body("method_not_allowed", 405, "PUT a Location here"));
      const std::string id = path.substr(pre.size(), path.size() - pre.size() - post.size());
      return put_location(id);
    }
    respond(http::status::not_found, error_body("not_found", 404, "no such resource: " + path));
  }

  void put_location(const std::string& provider) {
    const SteadyClock::time_point arrival = SteadyClock::now();
    ChannelHost& host = *server_.host();
    const json loc = json::parse(req_.body(), nullptr, false);
    if (loc.is_discarded()) {
      host.rejected(kSource, "bad_json");
      return respond(http::status::bad_request, error_body("bad_request", 400, "bad_json: the body is not JSON"));
    }
    std::string body, reason, detail;
    if (!location_to_fix(loc, provider, host.now_unix_ms(), server_.geo(), body, reason, detail)) {
      host.rejected(kSource, reason);
      return respond(http::status::bad_request, error_body("bad_request", 400, reason + ": " + detail));
    }
    server_.remember(loc, provider);
    const Delivery d = host.deliver(kSource, "fix", body, arrival);
    host.batch_done();
    if (d.accepted) return respond(http::status::no_content, "");
    if (d.reason == "unknown_tag") return respond(http::status::not_found, error_body("not_found", 404, d.reason + ": " + d.detail));
    respond(http::status::bad_request, error_body("bad_request", 400, d.reason + ": " + d.detail));
  }

  static std::string error_body(const std::string& type, int code, const std::string& message) {
    return json{{"type", type}, {"code", code}, {"message", message}}.dump();
  }

  void respond(http::status st, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>(st, req_.version());
    res->set(http::field::server, "planttwin");
    if (!body.empty()) res->set(http::field::content_type, "application/json");
    res->keep_alive(req_.keep_alive());
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!res->keep_alive()) {
        beast::error_code e;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, e);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  Server& server_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
};

// ---- the server ----------------------------------------------------------------------------------

Server::Server(const Scenario& sc, std::string listen) : sc_(sc), listen_(std::move(listen)), geo_(sc.site) {}
Server::~Server() = default;

bool Server::open(asio::io_context& io, std::string& error) {
  io_ = &io;
  const auto colon = listen_.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "--omlox-listen " + listen_ + ": give HOST:PORT, e.g. 127.0.0.1:8080";
    return false;
  }
  std::string h = listen_.substr(0, colon);
  if (h.size() > 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
  if (h == "localhost") h = "127.0.0.1";
  beast::error_code ec;
  const auto addr = asio::ip::make_address(h, ec);
  int port = -1;
  try {
    port = std::stoi(listen_.substr(colon + 1));
  } catch (...) {
  }
  if (ec || port < 0 || port > 65535) {
    error = "--omlox-listen " + listen_ + ": not an IP address and port";
    return false;
  }
  acceptor_ = std::make_unique<tcp::acceptor>(io);
  acceptor_->open(addr.is_v6() ? tcp::v6() : tcp::v4(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(tcp::endpoint(addr, static_cast<unsigned short>(port)), ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "--omlox-listen " + listen_ + ": " + ec.message();
    return false;
  }
  const auto ep = acceptor_->local_endpoint();
  endpoint_ = "http://" + (addr.is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) + ":" + std::to_string(ep.port()) + "/v2";
  return true;
}

std::string Server::describe() const { return "omlox hub API on " + endpoint_ + " (WebSocket " + endpoint_ + "/ws/socket)"; }

void Server::start(ChannelHost& host) {
  host_ = &host;
  host.source(kSource);
  floor_ids_ = sc_.site.floor_ids();
  accept();
}

void Server::accept() {
  if (!acceptor_ || !acceptor_->is_open()) return;
  acceptor_->async_accept([this](beast::error_code ec, tcp::socket s) {
    if (ec) return;  // closed at stop()
    s.set_option(tcp::no_delay(true), ec);
    std::make_shared<HttpSession>(std::move(s), *this)->run();
    accept();
  });
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  acceptor_.reset();  // sockets go before the io_context they belong to
  for (auto& w : clients_)
    if (auto c = w.lock()) c->close();
  clients_.clear();
}

void Server::add(const std::shared_ptr<WsSession>& s) {
  // forget closed clients now and then
  if (clients_.size() > 16)
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [](const std::weak_ptr<WsSession>& w) {
                     auto c = w.lock();
                     return !c || c->closed();
                   }),
                   clients_.end());
  clients_.push_back(s);
}

bool Server::has_subscriber(const std::string& topic) const {
  for (const auto& w : clients_)
    if (auto c = w.lock(); c && !c->closed() && c->subscriptions().count(topic)) return true;
  return false;
}

void Server::broadcast(const std::string& topic, const json& payload) {
  for (const auto& w : clients_) {
    auto c = w.lock();
    if (!c || c->closed()) continue;
    auto [b, e] = c->subscriptions().equal_range(topic);
    for (auto it = b; it != e; ++it)
      c->send(json{{"event", "message"}, {"topic", topic}, {"subscription_id", it->second}, {"payload", payload}}.dump());
  }
}

void Server::remember(const json& loc, const std::string& provider) {
  const std::string id = !provider.empty() ? provider : loc.value("provider_id", "");
  Seen& s = seen_[id];
  if (loc.contains("source") && loc["source"].is_string()) s.source = loc["source"].get<std::string>();
  if (loc.contains("accuracy") && loc["accuracy"].is_number()) s.accuracy = loc["accuracy"].get<double>();
  if (loc.contains("provider_type") && loc["provider_type"].is_string()) s.provider_type = loc["provider_type"].get<std::string>();
}

json Server::location_of(Micros t, const std::string& tag, const FixInput& f) const {
  const std::int64_t ts = unix_ms(host_->start_unix_ms(), t);
  json l = {{"position", {{"type", "Point"}, {"coordinates", {f.x, f.y, f.z}}}},
            {"source", uuid_for("zone:" + sc_.site.name)},
            {"provider_type", "uwb"},
            {"provider_id", tag},
            {"timestamp_generated", iso8601_utc_ms(ts)},
            {"crs", "local"}};
  if (f.floor >= 0 && static_cast<std::size_t>(f.floor) < floor_ids_.size()) {
    const std::string& id = floor_ids_[static_cast<std::size_t>(f.floor)];
    try {
      std::size_t n = 0;
      const double v = std::stod(id, &n);
      if (n == id.size()) l["floor"] = v;
    } catch (...) {
    }
  }
  if (auto it = seen_.find(tag); it != seen_.end()) {
    if (!it->second.source.empty()) l["source"] = it->second.source;
    if (it->second.accuracy) l["accuracy"] = *it->second.accuracy;
    if (!it->second.provider_type.empty()) l["provider_type"] = it->second.provider_type;
  }
  return l;
}

void Server::on_fix(Micros t, const std::string& /*person*/, const std::string& tag, const FixInput& f) {
  if (stopped_ || tag.empty()) return;
  const bool want_loc = has_subscriber("location_updates");
  // fence events: every zone, entry and exit, from each applied fix (2-D: the zone's outline)
  std::vector<int>& inside = inside_[tag];
  std::vector<int> now;
  for (std::size_t z = 0; z < sc_.site.zones.size(); ++z)
    if (sc_.site.zones[z].polygon.contains({f.x, f.y})) now.push_back(static_cast<int>(z));
  // the site's bounds are a fence too (GET /v2/fences: foreign_id site-bounds)
  if (sc_.site.bounds && sc_.site.bounds->contains({f.x, f.y})) now.push_back(static_cast<int>(sc_.site.zones.size()));
  json events = json::array();
  if (now != inside) {
    const json loc = location_of(t, tag, f);
    const std::string when = loc["timestamp_generated"];
    auto event = [&](int z, bool entry) {
      const bool bounds = static_cast<std::size_t>(z) == sc_.site.zones.size();
      const std::string fid = bounds ? std::string("site-bounds") : sc_.site.zones[static_cast<std::size_t>(z)].id;
      json e = {{"id", uuid_for("event:" + std::to_string(++events_))},
                {"fence_id", uuid_for("fence:" + fid)},
                {"foreign_id", fid},
                {"provider_id", tag},
                {"provider_type", loc["provider_type"]},
                {"trackables", json::array()},
                {"location", loc},
                {"event_type", entry ? "region_entry" : "region_exit"},
                {"object_type", "location_provider"}};
      if (entry) e["entry_time"] = when;
      else e["exit_time"] = when;
      events.push_back(e);
    };
    for (int z : inside)
      if (!std::binary_search(now.begin(), now.end(), z)) event(z, false);
    for (int z : now)
      if (!std::binary_search(inside.begin(), inside.end(), z)) event(z, true);
    inside = now;
  }
  if (!events.empty()) broadcast("fence_events", events);
  if (want_loc) broadcast("location_updates", json::array({location_of(t, tag, f)}));
}

void Server::output(const WireMessage& m) {
  if (stopped_) return;
  const bool alarmish = m.topic == "alarm" || m.topic == "warn" || m.topic == "gathering";
  const bool stats = m.topic == "stats";
  if (!alarmish && !stats) return;
  const std::string topic = stats ? "planttwin:stats" : "planttwin:alarms";
  if (!has_subscriber(topic)) return;
  json body = json::parse(m.body, nullptr, false);
  broadcast(topic, json::array({json{{"topic", m.topic}, {"body", body}}}));
}

json Server::providers() const {
  json a = json::array();
  for (const PersonDef& p : sc_.people)
    if (p.tag) a.push_back({{"id", *p.tag}, {"type", "uwb"}, {"name", p.name}, {"properties", {{"person", p.id}}}});
  return a;
}

json Server::zones() const {
  json z = {{"id", uuid_for("zone:" + sc_.site.name)}, {"type", "uwb"}, {"foreign_id", "site"}, {"name", sc_.site.name}};
  if (sc_.site.origin) {
    z["position"] = {{"type", "Point"}, {"coordinates", {(*sc_.site.origin)[1], (*sc_.site.origin)[0], (*sc_.site.origin)[2]}}};
    z["properties"] = {{"crs_of_position", "EPSG:4490"}, {"local_frame", "x east, y north, metres from position"}};
  }
  return json::array({z});
}

json Server::fences() const {
  json a = json::array();
  auto ring = [](const Polygon& poly) {
    json r = json::array();
    for (const Vec2& p : poly.pts) r.push_back({p.x, p.y});
    if (!poly.pts.empty()) r.push_back({poly.pts.front().x, poly.pts.front().y});  // GeoJSON rings are closed
    return r;
  };
  const std::string zone_id = uuid_for("zone:" + sc_.site.name);
  for (const Zone& z : sc_.site.zones)
    a.push_back({{"id", uuid_for("fence:" + z.id)},
                 {"region", {{"type", "Polygon"}, {"coordinates", json::array({ring(z.polygon)})}}},
                 {"crs", "local"},
                 {"zone_id", zone_id},
                 {"foreign_id", z.id},
                 {"name", z.name}});
  if (sc_.site.bounds)
    a.push_back({{"id", uuid_for("fence:site-bounds")},
                 {"region", {{"type", "Polygon"}, {"coordinates", json::array({ring(*sc_.site.bounds)})}}},
                 {"crs", "local"},
                 {"zone_id", zone_id},
                 {"foreign_id", "site-bounds"},
                 {"name", "厂区边界 site fence"}});
  return a;
}

}  // namespace planttwin::hil::omlox
