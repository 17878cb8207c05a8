// The omlox hub API (issue 14; H-03, PL-01, PL-06, PL-11). The client here is written from the omlox
// hub specification (the WebSocket wrapper object {event, topic, subscription_id, payload, params};
// error events {event: error, code, description}; Location with a GeoJSON Point; FenceEvent with
// event_type region_entry / region_exit; REST under /v2), not from planttwin's code: it speaks
// only JSON over Beast's WebSocket and HTTP. A live session serves the API on a free loopback port;
// the client subscribes to fence_events and planttwin:alarms, publishes Locations over the
// WebSocket and over REST, and gets fence events and alarms within 5 s; a second planttwin with
// --omlox-connect follows the first; the recording replays to the same hash.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>
#include <regex>

#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/omlox/server.h"
#include "hardware-in-loop/vendor_time.h"
#include "tests/hil/vendor_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// ---- a spec-written omlox client ---------------------------------------------------------------

struct HubAddress {
  std::string host, port, base;  // base: "/v2"
};

HubAddress parse_hub(const std::string& url) {
  std::smatch m;
  static const std::regex re(R"(^http://([^:/]+):(\d+)(/.*)$)");
  EXPECT_TRUE(std::regex_match(url, m, re)) << url;
  return {m[1].str(), m[2].str(), m[3].str()};
}

class OmloxWebSocket {
 public:
  explicit OmloxWebSocket(const HubAddress& a) : ws_(io_) {
    tcp::resolver r(io_);
    beast::get_lowest_layer(ws_).connect(r.resolve(a.host, a.port));
    ws_.handshake(a.host + ":" + a.port, a.base + "/ws/socket");
    read();
  }
  ~OmloxWebSocket() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  void send(const json& wrapper) {
    ws_.text(true);
    ws_.write(asio::buffer(wrapper.dump()));
  }
  // The next wrapper object `match` accepts (others stay in the backlog), within `timeout`.
  std::optional<json> next(const std::function<bool(const json&)>& match, std::chrono::milliseconds timeout = 5000ms) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (auto it = backlog_.begin(); it != backlog_.end(); ++it)
        if (match(*it)) {
          json j = *it;
          backlog_.erase(it);
          return j;
        }
      const auto now = std::chrono::steady_clock::now();
      if (now >= until || failed_) return std::nullopt;
      io_.restart();
      io_.run_for(std::min<std::chrono::steady_clock::duration>(until - now, 50ms));
    }
  }
  // subscribe, and the subscription id from `subscribed`
  std::optional<int> subscribe(const std::string& topic) {
    send({{"event", "subscribe"}, {"topic", topic}});
    auto r = next([&](const json& j) { return (j["event"] == "subscribed" && j["topic"] == topic) || j["event"] == "error"; });
    if (!r || (*r)["event"] != "subscribed") return std::nullopt;
    return (*r)["subscription_id"].get<int>();
  }

 private:
  void read() {
    ws_.async_read(buf_, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        failed_ = true;
        return;
      }
      backlog_.push_back(json::parse(beast::buffers_to_string(buf_.data()), nullptr, false));
      buf_.consume(buf_.size());
      read();
    });
  }
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::deque<json> backlog_;
  bool failed_ = false;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply http_call(const HubAddress& a, http::verb method, const std::string& path, const std::string& body = "") {
  asio::io_context io;
  beast::tcp_stream s(io);
  tcp::resolver r(io);
  s.connect(r.resolve(a.host, a.port));
  s.expires_after(10s);
  http::request<http::string_body> req{method, a.base + path, 11};
  req.set(http::field::host, a.host + ":" + a.port);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  beast::error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body()};
}

// An omlox Location in the site's local frame, generated now.
json location(const std::string& provider, double x, double y) {
  return {{"position", {{"type", "Point"}, {"coordinates", {x, y}}}},
          {"source", "test-zone"},
          {"provider_type", "uwb"},
          {"provider_id", provider},
          {"timestamp_generated", iso8601_utc_ms(now_unix_ms())},
          {"crs", "local"},
          {"accuracy", 0.3}};
}

bool fence_event(const json& w, const std::string& type, const std::string& provider, const std::string& foreign_id) {
  if (w["event"] != "message" || w["topic"] != "fence_events" || !w["payload"].is_array()) return false;
  for (const json& e : w["payload"])
    if (e["event_type"] == type && e["provider_id"] == provider && e["foreign_id"] == foreign_id) return true;
  return false;
}

bool alarm_message(const json& w, const std::string& type) {
  if (w["event"] != "message" || w["topic"] != "planttwin:alarms") return false;
  for (const json& p : w["payload"])
    if (p["topic"] == "alarm" && p["body"]["type"] == type) return true;
  return false;
}

std::shared_ptr<omlox::Server> omlox_server(LiveOptions& o, const std::string& listen = "127.0.0.1:0") {
  OmloxOptions oo;
  oo.listen = listen;
  std::string err;
  EXPECT_TRUE(make_omlox_channels(load_live_scenario(), oo, o.channels, err)) << err;
  return std::dynamic_pointer_cast<omlox::Server>(o.channels.back());
}

// ---- tests -------------------------------------------------------------------------------------

TEST(Omlox, H03_LocationToFixHonoursCrsFloorTimeAndRefusesBadLocations) {
  Site site;
  site.origin = std::array<double, 3>{30.0, 120.0, 0.0};
  omlox::GeoToSite geo(site);
  std::string body, reason, detail;
  // EPSG:4326 about 96 m east and 111 m north of the origin
  json loc = location("T1", 120.001, 30.001);
  loc["crs"] = "EPSG:4326";
  loc["floor"] = 1;
  loc["timestamp_generated"] = "2026-03-02T01:00:00.250Z";
  ASSERT_TRUE(omlox::location_to_fix(loc, "", 0, geo, body, reason, detail)) << reason << detail;
  json f = json::parse(body);
  EXPECT_NEAR(f["x"].get<double>(), 96.3, 0.5);
  EXPECT_NEAR(f["y"].get<double>(), 110.9, 0.5);
  EXPECT_EQ(f["floor"], 1);
  EXPECT_EQ(f["ts"], 1772413200250);
  loc["crs"] = "4490";  // CGCS2000: the same place within a metre
  ASSERT_TRUE(omlox::location_to_fix(loc, "", 0, geo, body, reason, detail)) << reason << detail;
  EXPECT_NEAR(json::parse(body)["x"].get<double>(), 96.3, 1.0);
  // local is the default; no timestamp: now
  json local = {{"position", {{"type", "Point"}, {"coordinates", {1.5, 2.5, 1.2}}}}, {"provider_id", "T2"}, {"source", "x"}};
  ASSERT_TRUE(omlox::location_to_fix(local, "", 777, geo, body, reason, detail));
  f = json::parse(body);
  EXPECT_EQ(f["ts"], 777);
  EXPECT_EQ(f["z"], 1.2);
  // refusals
  EXPECT_FALSE(omlox::location_to_fix(local, "T3", 0, geo, body, reason, detail));  // path and body disagree
  json bad = local;
  bad["position"]["type"] = "Polygon";
  EXPECT_FALSE(omlox::location_to_fix(bad, "", 0, geo, body, reason, detail));
  bad = local;
  bad["crs"] = "EPSG:3857";
  EXPECT_FALSE(omlox::location_to_fix(bad, "", 0, geo, body, reason, detail));
  EXPECT_EQ(reason, "bad_field");
  Site no_origin;
  omlox::GeoToSite geo2(no_origin);
  EXPECT_FALSE(omlox::location_to_fix(loc, "", 0, geo2, body, reason, detail));
}

TEST(Omlox, H03_PL06_SpecClientGetsFenceEventsAndAlarmsOverWebSocketAndRest) {
  const auto dir = temp_dir("omlox-live");
  LiveOptions o;
  auto server = omlox_server(o);
  ASSERT_TRUE(server);
  o.record = (dir / "session.ptrec").string();
  ChannelSession s(o);
  ASSERT_TRUE(s.opened());
  const HubAddress hub = parse_hub(server->endpoint());

  OmloxWebSocket ws(hub);
  // wait for the first stats before sending (docs/live-v1.md "Synchronising")
  ASSERT_TRUE(ws.subscribe("planttwin:stats").has_value());
  ASSERT_TRUE(ws.next([](const json& j) { return j["topic"] == "planttwin:stats"; }).has_value());
  const auto fence_sid = ws.subscribe("fence_events");
  ASSERT_TRUE(fence_sid.has_value());
  const auto alarm_sid = ws.subscribe("planttwin:alarms");
  ASSERT_TRUE(alarm_sid.has_value());
  EXPECT_NE(*fence_sid, *alarm_sid);

  // REST: the site as omlox objects
  HttpReply r = http_call(hub, http::verb::get, "/providers");
  ASSERT_EQ(r.status, 200);
  json providers = json::parse(r.body);
  ASSERT_EQ(providers.size(), 4u);
  EXPECT_EQ(providers[0]["id"], "T1");
  r = http_call(hub, http::verb::get, "/fences");
  ASSERT_EQ(r.status, 200);
  json fences = json::parse(r.body);
  bool tank = false;
  for (const json& f : fences)
    if (f["foreign_id"] == "tank-farm") {
      tank = true;
      EXPECT_EQ(f["crs"], "local");
      EXPECT_EQ(f["name"], "储罐区 tank farm");
      EXPECT_EQ(f["region"]["type"], "Polygon");
      EXPECT_EQ(f["region"]["coordinates"][0].size(), 5u);  // closed ring
    }
  EXPECT_TRUE(tank);
  r = http_call(hub, http::verb::get, "/zones");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).size(), 1u);

  // WebSocket: a visitor's tag walks into the tank farm -> region_entry and the crossing alarm
  ws.send({{"event", "message"}, {"topic", "location_updates"}, {"payload", json::array({location("T4", 30, 30)})}});
  ws.send({{"event", "message"}, {"topic", "location_updates"}, {"payload", json::array({location("T4", 70, 70)})}});
  auto entry = ws.next([](const json& j) { return fence_event(j, "region_entry", "T4", "tank-farm"); }, 5000ms);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ((*entry)["subscription_id"], *fence_sid);
  const json& ev = (*entry)["payload"][0];
  EXPECT_EQ(ev["object_type"], "location_provider");
  EXPECT_TRUE(ev.contains("entry_time"));
  EXPECT_EQ(ev["location"]["source"], "test-zone");  // the Location's source is kept
  EXPECT_EQ(ev["location"]["accuracy"], 0.3);
  auto alarm = ws.next([](const json& j) { return alarm_message(j, "boundary_crossing"); }, 5000ms);
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ((*alarm)["subscription_id"], *alarm_sid);

  // REST: PUT a Location out of the tank farm -> 204 and region_exit
  r = http_call(hub, http::verb::put, "/providers/T4/location", location("T4", 40, 40).dump());
  EXPECT_EQ(r.status, 204) << r.body;
  ASSERT_TRUE(ws.next([](const json& j) { return fence_event(j, "region_exit", "T4", "tank-farm"); }, 5000ms).has_value());

  // bad input: answered with error events / HTTP errors, counted for the source
  ws.send(json("not a wrapper"));
  auto e1 = ws.next([](const json& j) { return j["event"] == "error"; });
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ((*e1)["code"], 10005);
  ws.send({{"event", "subscribe"}, {"topic", "no_such_topic"}});
  auto e2 = ws.next([](const json& j) { return j["event"] == "error"; });
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ((*e2)["code"], 10001);
  ws.send({{"event", "message"}, {"topic", "location_updates"}, {"payload", json::array({location("NOBODY", 1, 1)})}});
  auto e3 = ws.next([](const json& j) { return j["event"] == "error"; });
  ASSERT_TRUE(e3.has_value());
  EXPECT_NE((*e3)["description"].get<std::string>().find("unknown_tag"), std::string::npos) << *e3;
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/NOBODY/location", location("NOBODY", 1, 1).dump()).status, 404);
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T1/location", "{oops").status, 400);
  EXPECT_EQ(http_call(hub, http::verb::get, "/trackables").status, 404);
  // unsubscribe
  ws.send({{"event", "unsubscribe"}, {"subscription_id", *fence_sid}});
  EXPECT_TRUE(ws.next([&](const json& j) { return j["event"] == "unsubscribed" && j["subscription_id"] == *fence_sid; }).has_value());

  s.stop();
  ASSERT_TRUE(s.run_ok()) << s.run_error();
  const SourceStats& st = s.loop().summary().sources.at("omlox");
  EXPECT_EQ(st.accepted, 3u);
  EXPECT_EQ(st.dropped, 4u);  // the wrapper, NOBODY twice, bad JSON
  // the recording of an omlox session replays to the same hash
  Scenario rsc;
  RunResult rr;
  LiveSummary rs;
  std::string err;
  ASSERT_TRUE(replay_recording(o.record, rsc, rr, rs, err)) << err;
  EXPECT_EQ(rr.hash, s.loop().result().hash);
  EXPECT_EQ(rs.counters.accepted, 3u);
  std::filesystem::remove_all(dir);
}

TEST(Omlox, H03_SecondPlanttwinWithOmloxConnectFollowsTheFirst) {
  LiveOptions o1;
  auto server = omlox_server(o1);
  ASSERT_TRUE(server);
  ChannelSession first(o1);
  ASSERT_TRUE(first.opened());

  LiveOptions o2;
  o2.publish = "tcp://127.0.0.1:*";
  OmloxOptions oo;
  oo.connect = server->endpoint();
  std::string err;
  ASSERT_TRUE(make_omlox_channels(load_live_scenario(), oo, o2.channels, err)) << err;
  ChannelSession second(o2);
  ASSERT_TRUE(second.opened());
  TestClient out2("", second.loop().publish_endpoint());
  // the follower is subscribed when its stats say so
  ASSERT_TRUE(out2.next("stats", 10000ms, [](const json& j) {
    return j.contains("sources") && j["sources"]["omlox-client"]["connected"] == true;
  }).has_value());

  const HubAddress hub = parse_hub(server->endpoint());
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T4/location", location("T4", 30, 30).dump()).status, 204);
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T4/location", location("T4", 70, 70).dump()).status, 204);
  // the second planttwin decides the same alarm from the first's location_updates
  auto alarm = out2.next("alarm", 5000ms, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ((*alarm)["who"], json::array({"P4"}));
  second.stop();
  first.stop();
  ASSERT_TRUE(second.run_ok()) << second.run_error();
  EXPECT_EQ(second.loop().summary().sources.at("omlox-client").accepted, 2u);
}

// The hub goes away (its session ends, the port closes) and comes back on the same port: the
// follower says it lost the hub, retries with back-off, subscribes again, and decides from the new
// hub's location_updates; only what was sent while nobody listened is missing.
TEST(Omlox, H03_FollowerReconnectsWhenTheHubComesBack) {
  std::shared_ptr<omlox::Server> server;
  LiveOptions o1;
  server = omlox_server(o1);
  ASSERT_TRUE(server);
  auto first = std::make_unique<ChannelSession>(o1);
  ASSERT_TRUE(first->opened());
  const std::string endpoint = server->endpoint();
  const HubAddress hub = parse_hub(endpoint);

  LiveOptions o2;
  o2.publish = "tcp://127.0.0.1:*";
  OmloxOptions oo;
  oo.connect = endpoint;
  std::string err;
  ASSERT_TRUE(make_omlox_channels(load_live_scenario(), oo, o2.channels, err)) << err;
  ChannelSession follower(o2);
  ASSERT_TRUE(follower.opened());
  TestClient out("", follower.loop().publish_endpoint());
  auto source_is = [](bool connected, int disconnects) {
    return [=](const json& j) {
      return j.contains("sources") && j["sources"].contains("omlox-client") && j["sources"]["omlox-client"]["connected"] == connected &&
             j["sources"]["omlox-client"]["disconnects"] == disconnects;
    };
  };
  ASSERT_TRUE(out.next("stats", 10000ms, source_is(true, 0)).has_value());
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T1/location", location("T1", 10, 10).dump()).status, 204);
  ASSERT_TRUE(out.next("stats", 5000ms, [](const json& j) {
    return j.contains("sources") && j["sources"].contains("omlox-client") && j["sources"]["omlox-client"]["accepted"] == 1;
  }).has_value());

  // the hub goes away: the follower notices and says so in its stats
  first->stop();
  first.reset();
  o1.channels.clear();
  server.reset();
  ASSERT_TRUE(out.next("stats", 10000ms, source_is(false, 1)).has_value());

  // a new hub on the same address: the follower comes back by itself (back-off 1 s, 2 s, ...)
  LiveOptions o3;
  server = omlox_server(o3, hub.host + ":" + hub.port);
  ASSERT_TRUE(server);
  ChannelSession second(o3);
  ASSERT_TRUE(second.opened());
  ASSERT_EQ(server->endpoint(), endpoint);
  ASSERT_TRUE(out.next("stats", 40000ms, source_is(true, 1)).has_value());
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T4/location", location("T4", 30, 30).dump()).status, 204);
  EXPECT_EQ(http_call(hub, http::verb::put, "/providers/T4/location", location("T4", 70, 70).dump()).status, 204);
  auto alarm = out.next("alarm", 5000ms, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ((*alarm)["who"], json::array({"P4"}));
  follower.stop();
  second.stop();
  ASSERT_TRUE(follower.run_ok()) << follower.run_error();
  const SourceStats& st = follower.loop().summary().sources.at("omlox-client");
  EXPECT_EQ(st.accepted, 3u);
  EXPECT_EQ(st.disconnects, 1u);
  EXPECT_TRUE(st.connected);
}

}  // namespace
}  // namespace planttwin::hil::test
