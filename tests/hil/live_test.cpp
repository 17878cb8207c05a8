// The live bridge over loopback: a test client plays a vendor's hardware (H-03).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;

TEST(Live, H03_StatsComeEverySecondFromTheStart) {
  LiveSession s;
  TestClient c("", s.out());
  auto first = c.next("stats", 3000ms);
  ASSERT_TRUE(first.has_value());
  auto second = c.next("stats", 3000ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ((*first)["v"], 1);
  for (const char* k : {"ts", "inputs", "dropped", "latency_us_p50", "latency_us_p99"}) EXPECT_TRUE(first->contains(k)) << k;
  const std::int64_t gap = (*second)["ts"].get<std::int64_t>() - (*first)["ts"].get<std::int64_t>();
  EXPECT_GE(gap, 900);
  EXPECT_LE(gap, 1100);
  // ts is Unix ms: close to this machine's clock
  EXPECT_LT(std::llabs((*second)["ts"].get<std::int64_t>() - now_unix_ms()), 5000);
}

TEST(Live, H03_ClientPushesFixesSosAckAndPermitAndReadsAlarmsCountsRefusals) {
  LiveSession s;
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  // a visitor walks into the tank farm (only operators may): crossing alarm, warn, headcount
  c.send("fix", fix("T4", 30, 30));
  c.send("fix", fix("T4", 70, 70));
  auto crossing = c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(crossing.has_value());
  EXPECT_EQ((*crossing)["event"], "raised");
  EXPECT_EQ((*crossing)["who"], json::array({"P4"}));
  EXPECT_EQ((*crossing)["zone"], "tank-farm");
  EXPECT_EQ((*crossing)["v"], 1);
  for (const char* k : {"ts", "id", "level", "x", "y", "floor"}) EXPECT_TRUE(crossing->contains(k)) << k;
  auto warn = c.next("warn", 2000ms);
  ASSERT_TRUE(warn.has_value());
  EXPECT_EQ((*warn)["tag"], "T4");
  EXPECT_EQ((*warn)["alarm_id"], (*crossing)["id"]);
  bool counted = false;
  for (const auto& [t, j] : c.seen)
    if (t == "zone_count" && j["zone"] == "tank-farm" && j["count"] == 1 && j["by_category"]["visitor"] == 1) counted = true;
  EXPECT_TRUE(counted);

  // SOS, then the duty operator acknowledges it by id
  c.send("sos", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}});
  auto sos = c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "sos"; });
  ASSERT_TRUE(sos.has_value());
  c.send("ack", json{{"v", 1}, {"ts", now_unix_ms()}, {"alarm_id", (*sos)["id"]}, {"action", "ack"}, {"by", "S1"}});
  auto acked = c.next("alarm", 3000ms, [&](const json& j) { return j["id"] == (*sos)["id"] && j["event"] == "acknowledged"; });
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ((*acked)["by"], "S1");

  // approving a permit that does not exist is refused
  c.send("permit", json{{"v", 1}, {"ts", now_unix_ms()}, {"action", "approve"}, {"id", "W9"}, {"by", "S1"}});
  auto refusal = c.next("refusal", 3000ms);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ((*refusal)["permit"], "W9");
  EXPECT_EQ((*refusal)["action"], "approve");

  s.stop();
  const RunResult& r = s.loop().result();
  EXPECT_TRUE(r.passed);  // the scenario expects the SOS of P1
  EXPECT_EQ(s.loop().summary().counters.accepted, 5u);
  EXPECT_EQ(s.loop().summary().counters.dropped, 0u);
  ASSERT_TRUE(s.loop().summary().latency_us_p99.has_value());
  EXPECT_GT(*s.loop().summary().latency_us_p99, 0);
}

TEST(Live, H03_MarkGivesPerPointErrorAtSurveyedPoints) {
  LiveSession s;
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  c.send("fix", fix("T1", 10.3, 10.4));  // SP-1 is at (10, 10): 0.5 m off
  c.send("mark", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}, {"point", "SP-1"}});
  c.send("mark", json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}, {"point", "SP-2"}});  // T2 has no fix yet
  c.send("mark", json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}, {"point", "SP-9"}});  // no such point
  ASSERT_TRUE(c.next("error", 3000ms).has_value());
  s.stop();
  const auto& marks = s.loop().summary().marks;
  ASSERT_EQ(marks.size(), 2u);
  ASSERT_EQ(marks[0].errors.size(), 1u);
  EXPECT_NEAR(marks[0].errors[0], 0.5, 1e-9);
  EXPECT_EQ(marks[1].without_fix, 1u);
  ASSERT_TRUE(s.loop().result().accuracy.has_value());
  EXPECT_NEAR(s.loop().result().accuracy->cdf68, 0.5, 1e-9);
  ASSERT_EQ(s.loop().result().survey_points.size(), 1u);  // the report's per-point section
  EXPECT_EQ(s.loop().result().survey_points[0].point, "SP-1");
}

TEST(Live, H03_ConnectSubscribesToAVendorsPub) {
  zmq::context_t ctx(1);
  zmq::socket_t vendor(ctx, zmq::socket_type::pub);
  vendor.bind("tcp://127.0.0.1:*");
  LiveOptions o;
  o.connect = vendor.get(zmq::sockopt::last_endpoint);
  LiveSession s(o);
  TestClient c("", s.out());
  ASSERT_TRUE(c.next("stats", 3000ms).has_value());
  // a PUB drops until the SUB has joined: send until the engine answers
  std::optional<json> sos;
  for (int i = 0; i < 50 && !sos; ++i) {
    vendor.send(zmq::str_buffer("sos"), zmq::send_flags::sndmore);
    vendor.send(zmq::buffer(json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}}.dump()));
    sos = c.next("alarm", 100ms, [](const json& j) { return j["type"] == "sos"; });
  }
  ASSERT_TRUE(sos.has_value());
  EXPECT_EQ((*sos)["who"], json::array({"P2"}));
}

}  // namespace
}  // namespace planttwin::hil::test
