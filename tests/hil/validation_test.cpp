// Every bad input the spec lists is dropped, counted, answered on `error`, and changes nothing
// (H-03, docs/live-v1.md "Errors"). In-process through the session (no sockets), and one test
// over loopback; plus a seeded fuzz of the decoder.
#include <gtest/gtest.h>

#include <random>

#include "hardware-in-loop/session.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kStartUs = 1'800'000'000'000'000;  // a fixed session start
constexpr std::int64_t kStartMs = kStartUs / 1000;

struct Bad {
  const char* name;
  std::string topic, body;
  const char* reason;
};

std::vector<Bad> bad_inputs() {
  const std::string ts = std::to_string(kStartMs + 1000);
  return {
      {"bad_json", "fix", "{\"v\":1,\"tag\":\"T1\",", "bad_json"},
      {"not_an_object", "fix", "[1,2,3]", "bad_json"},
      {"version_2", "fix", R"({"v":2,"tag":"T1","ts":)" + ts + R"(,"x":1,"y":2})", "bad_version"},
      {"version_missing", "fix", R"({"tag":"T1","ts":)" + ts + R"(,"x":1,"y":2})", "missing_field"},
      {"version_string", "fix", R"({"v":"1","tag":"T1","ts":)" + ts + R"(,"x":1,"y":2})", "bad_version"},
      {"missing_x", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"y":2})", "missing_field"},
      {"missing_ts", "sos", R"({"v":1,"tag":"T1"})", "missing_field"},
      {"mistyped_x", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":"1","y":2})", "bad_field"},
      {"mistyped_tag", "sos", R"({"v":1,"tag":7,"ts":)" + ts + "}", "bad_field"},
      {"overflowing_x", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":1e999,"y":2})", "bad_json"},
      {"nan_literal", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":NaN,"y":2})", "bad_json"},
      {"unknown_tag", "fix", R"({"v":1,"tag":"T99","ts":)" + ts + R"(,"x":1,"y":2})", "unknown_tag"},
      {"unknown_person", "gate", R"({"v":1,"person":"P99","ts":)" + ts + R"(,"direction":"in"})", "unknown_person"},
      {"unknown_topic", "teleport", R"({"v":1,"tag":"T1","ts":)" + ts + "}", "unknown_topic"},
      {"unknown_floor", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":1,"y":2,"floor":"9"})", "unknown_floor"},
      {"bad_direction", "gate", R"({"v":1,"person":"P1","ts":)" + ts + R"(,"direction":"up"})", "bad_field"},
      {"battery_over_1", "tag_status", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"battery":1.5})", "bad_field"},
      {"ack_bad_action", "ack", R"({"v":1,"ts":)" + ts + R"(,"alarm_id":"A000001","action":"ignore","by":"S1"})", "bad_field"},
      {"permit_bad_action", "permit", R"({"v":1,"ts":)" + ts + R"(,"action":"burn","id":"W1"})", "bad_field"},
      {"permit_unknown_worker", "permit",
       R"({"v":1,"ts":)" + ts + R"(,"action":"apply","id":"W1","type":"hot_work","area":[[0,0],[1,0],[1,1]],"workers":["X"],"guardian":"P1","approver":"P2","from":0,"to":3600})",
       "unknown_person"},
      {"unknown_anchor", "range", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"anchor":"A9","d":3})", "unknown_anchor"},
      {"skew_past", "fix", R"({"v":1,"tag":"T1","ts":)" + std::to_string(kStartMs + 1000 - 61000) + R"(,"x":1,"y":2})", "skew"},
      {"skew_future", "fix", R"({"v":1,"tag":"T1","ts":)" + std::to_string(kStartMs + 1000 + 61000) + R"(,"x":1,"y":2})", "skew"},
      {"body_too_large", "fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":1,"y":2,"pad":")" + std::string(70000, 'x') + "\"}",
       "body_too_large"},
  };
}

struct Harness {
  Scenario sc = load_live_scenario();
  std::vector<WireMessage> published;
  std::unique_ptr<Session> s;
  explicit Harness(SessionOptions o = {}) {
    o.start_unix_us = kStartUs;
    s = std::make_unique<Session>(sc, o);
    s->set_publisher([this](const WireMessage& m) { published.push_back(m); });
  }
};

TEST(Validation, H03_EveryBadInputIsDroppedCountedAndAnsweredOnError) {
  for (const Bad& b : bad_inputs()) {
    SCOPED_TRACE(b.name);
    Harness h;
    EXPECT_FALSE(h.s->on_message(kSecond, b.topic, b.body));
    EXPECT_EQ(h.s->counters().dropped, 1u);
    EXPECT_EQ(h.s->counters().accepted, 0u);
    EXPECT_EQ(h.s->counters().dropped_by_reason.count(b.reason), 1u) << "reason";
    ASSERT_FALSE(h.published.empty());
    const WireMessage& e = h.published.back();
    EXPECT_EQ(e.topic, "error");
    const json j = json::parse(e.body);
    EXPECT_EQ(j["v"], 1);
    EXPECT_EQ(j["reason"], b.reason);
    EXPECT_EQ(j["topic"], b.topic);
    EXPECT_EQ(j["ts"], kStartMs + 1000);
    // never changes the engine
    EXPECT_EQ(h.s->engine().counters().inputs, 0u);
    EXPECT_TRUE(h.s->engine().alarms().empty());
  }
}

TEST(Validation, H03_WrongFrameCountIsDroppedAndAnswered) {
  Harness h;
  h.s->on_bad_frames(kSecond, 1, "fix");
  h.s->on_bad_frames(kSecond, 3, "sos");
  EXPECT_EQ(h.s->counters().dropped_by_reason.at("bad_frames"), 2u);
  ASSERT_EQ(h.published.size(), 2u);
  EXPECT_EQ(json::parse(h.published[1].body)["topic"], "sos");
  EXPECT_EQ(h.s->engine().counters().inputs, 0u);
}

TEST(Validation, H03_GoodInputsOfEveryTopicAreAccepted) {
  Harness h;
  const std::string ts = std::to_string(kStartMs + 1000);
  const std::vector<std::pair<std::string, std::string>> good = {
      {"fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":1,"y":2,"z":1.2,"floor":"1","quality":0.9})"},
      {"fix", R"({"v":1,"tag":"T2","ts":)" + ts + R"(,"x":1,"y":2,"floor":1})"},
      {"sos", R"({"v":1,"tag":"T1","ts":)" + ts + "}"},
      {"tag_status", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"battery":0.5,"online":true})"},
      {"gate", R"({"v":1,"person":"P1","ts":)" + ts + R"(,"direction":"in","gate":"G1"})"},
      {"mark", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"point":"SP-1"})"},
      {"permit", R"({"v":1,"ts":)" + ts + R"(,"action":"reserve","id":"R1","type":"hot_work","grade":2,"area":[[0,0],[5,0],[5,5]],"from":"10s","to":"2030-01-01T10:00:00+08:00","urgent":true})"},
      {"ack", R"({"v":1,"ts":)" + ts + R"(,"alarm_id":"A000001","action":"ack","by":"S1","note":"on my way"})"},
  };
  for (const auto& [topic, body] : good) EXPECT_TRUE(h.s->on_message(kSecond, topic, body)) << topic << " " << (h.published.empty() ? "" : h.published.back().body);
  EXPECT_EQ(h.s->counters().dropped, 0u);
  EXPECT_EQ(h.s->engine().counters().inputs, 7u);  // mark stays in the bridge
}

TEST(Validation, H03_BadJsonOverLoopbackIsAnsweredOnErrorAndCountedInStats) {
  LiveSession s;
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  c.send("fix", std::string("{not json"));
  c.send_frames({"fix"});
  c.send_frames({"fix", "{}", "extra"});
  auto e1 = c.next("error", 3000ms);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ((*e1)["reason"], "bad_json");
  auto e2 = c.next("error", 3000ms);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ((*e2)["reason"], "bad_frames");
  auto e3 = c.next("error", 3000ms);
  ASSERT_TRUE(e3.has_value());
  auto stats = c.next("stats", 3000ms, [](const json& j) { return j["dropped"] == 3; });
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ((*stats)["inputs"], 0);
}

// Seeded random mutations of valid messages: the decoder never crashes, and a session fed every
// mutation ends exactly like one fed only the accepted ones (rejected ones change nothing).
TEST(Validation, H03_FuzzedMessagesNeverCrashAndRejectedOnesChangeNothing) {
  const std::string ts = std::to_string(kStartMs + 1000);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"fix", R"({"v":1,"tag":"T1","ts":)" + ts + R"(,"x":61.5,"y":62,"floor":"1"})"},
      {"fix", R"({"v":1,"tag":"T4","ts":)" + ts + R"(,"x":70,"y":70})"},
      {"sos", R"({"v":1,"tag":"T3","ts":)" + ts + "}"},
      {"tag_status", R"({"v":1,"tag":"T2","ts":)" + ts + R"(,"battery":0.1})"},
      {"gate", R"({"v":1,"person":"P2","ts":)" + ts + R"(,"direction":"in"})"},
      {"permit", R"({"v":1,"ts":)" + ts + R"(,"action":"reserve","id":"R1","type":"hot_work","area":[[0,0],[5,0],[5,5]],"from":0,"to":3600,"urgent":true})"},
      {"ack", R"({"v":1,"ts":)" + ts + R"(,"alarm_id":"A000001","action":"ack","by":"S1"})"},
  };
  const std::string alphabet = "{}[]\",:0123456789.-eE+ abcdefghijklmnopqrstuvwxyzTNa\\\x01\xff";
  std::mt19937_64 rng(20260316);
  Harness all, accepted_only;
  std::size_t accepted = 0, rejected = 0;
  Micros t = kSecond;
  for (int i = 0; i < 5000; ++i) {
    auto [topic, body] = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !body.empty(); ++k) {
      const size_t pos = rng() % body.size();
      switch (rng() % 5) {
        case 0: body[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: body.erase(pos, 1 + rng() % 3); break;
        case 2: body.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 3: body = body.substr(0, pos); break;
        case 4: if (rng() % 8 == 0) topic = topic.substr(0, topic.size() / 2); break;
      }
    }
    t += 1000;
    if (all.s->on_message(t, topic, body)) {
      ++accepted;
      EXPECT_TRUE(accepted_only.s->on_message(t, topic, body));
    } else {
      ++rejected;
      accepted_only.s->advance(t);
    }
  }
  EXPECT_GT(accepted, 50u);
  EXPECT_GT(rejected, 2000u);
  EXPECT_EQ(all.s->counters().dropped, rejected);
  RunResult a, b;
  all.s->finish(t + kSecond, a);
  accepted_only.s->finish(t + kSecond, b);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.canonical_stream, b.canonical_stream);
  EXPECT_EQ(a.counters.inputs, b.counters.inputs);
  EXPECT_EQ(a.refusals.size(), b.refusals.size());
}

}  // namespace
}  // namespace planttwin::hil::test
