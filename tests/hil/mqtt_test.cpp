// MQTT profiles and the MQTT channel (issue 14; H-03, PL-01, PL-06, PL-11): profile files and the
// Pozyx payload, then a real mosquitto broker (Debian `mosquitto`) started here on a free loopback
// port: a vendor client publishes Pozyx payloads, the alarms come back over MQTT, bad payloads are
// answered on planttwin/<scenario>/error, and the broker is killed and restarted mid-session with
// nothing lost but the outage.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <fstream>
#include <atomic>
#include <future>
#include <thread>

#include "hardware-in-loop/mqtt/mqtt_channel.h"
#include "hardware-in-loop/mqtt/profile.h"
#include "tests/hil/vendor_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;

TEST(MqttProfile, H03_BundledProfilesLoadAndPozyxIsMillimetresAndSeconds) {
  for (const char* name : {"pozyx", "nooploop", "generic"}) {
    mqtt::Profile p;
    std::string err;
    EXPECT_TRUE(mqtt::load_profile(name, p, err)) << name << ": " << err;
  }
  mqtt::Profile p;
  std::string err;
  ASSERT_TRUE(mqtt::load_profile("pozyx", p, err)) << err;
  EXPECT_EQ(p.topics, std::vector<std::string>{"tags"});
  // Pozyx: an array; timestamp in seconds; coordinates in mm; success false has no position
  const std::string payload = R"([{"tagId":"T1","timestamp":1767225600.25,"success":true,"data":{"coordinates":{"x":12345,"y":-500,"z":1200}}},
                                  {"tagId":"T2","timestamp":1767225600.5,"success":false,"data":{}}])";
  std::vector<mqtt::Converted> out;
  std::vector<mqtt::Rejected> rej;
  std::size_t no_position = 0;
  mqtt::convert(p, payload, 0, out, rej, no_position);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(rej.empty());
  EXPECT_EQ(no_position, 1u);
  EXPECT_EQ(out[0].topic, "fix");
  const json f = json::parse(out[0].body);
  EXPECT_EQ(f["tag"], "T1");
  EXPECT_EQ(f["ts"], 1767225600250);
  EXPECT_DOUBLE_EQ(f["x"].get<double>(), 12.345);
  EXPECT_DOUBLE_EQ(f["y"].get<double>(), -0.5);
  EXPECT_DOUBLE_EQ(f["z"].get<double>(), 1.2);
}

TEST(MqttProfile, H03_GenericGivesSosAndBatteryAndRefusesBadRecords) {
  mqtt::Profile p;
  std::string err;
  ASSERT_TRUE(mqtt::load_profile("generic", p, err)) << err;
  std::vector<mqtt::Converted> out;
  std::vector<mqtt::Rejected> rej;
  std::size_t np = 0;
  mqtt::convert(p, R"({"tag":"T1","ts":1000,"x":1,"y":2,"sos":true,"battery":0.5})", 5, out, rej, np);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].topic, "fix");
  EXPECT_EQ(out[1].topic, "sos");
  EXPECT_EQ(out[2].topic, "tag_status");
  EXPECT_EQ(json::parse(out[2].body)["battery"], 0.5);
  out.clear();
  mqtt::convert(p, "{not json", 5, out, rej, np);
  mqtt::convert(p, R"({"tag":"T1","ts":1000,"x":"a lot","y":2})", 5, out, rej, np);
  mqtt::convert(p, R"({"ts":1000,"x":1,"y":2})", 5, out, rej, np);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(rej.size(), 3u);
  EXPECT_EQ(rej[0].reason, "bad_json");
  EXPECT_EQ(rej[1].reason, "missing_field");
  EXPECT_EQ(rej[2].reason, "missing_field");
}

TEST(MqttProfile, H03_TransformRotatesScalesAndShiftsIntoTheSiteFrame) {
  mqtt::Profile p;
  std::string err;
  ASSERT_TRUE(mqtt::parse_profile("topics: [t]\nfields: {tag: /id, x: /x, y: /y}\nunits: cm\n"
                                  "transform: {rotate_deg: 90, scale: 2, translate: [10, 20]}\n",
                                  "rot.yaml", p, err))
      << err;
  std::vector<mqtt::Converted> out;
  std::vector<mqtt::Rejected> rej;
  std::size_t np = 0;
  mqtt::convert(p, R"({"id":7,"x":100,"y":0})", 42, out, rej, np);
  ASSERT_EQ(out.size(), 1u);
  const json f = json::parse(out[0].body);
  EXPECT_EQ(f["tag"], "7");
  EXPECT_EQ(f["ts"], 42);  // no time field: the arrival
  EXPECT_NEAR(f["x"].get<double>(), 10.0, 1e-9);  // (1 m, 0) turned 90 deg, doubled: (0, 2) + (10, 20)
  EXPECT_NEAR(f["y"].get<double>(), 22.0, 1e-9);
}

TEST(MqttProfile, H03_BadProfileFileIsRefusedWithFileLineAndKey) {
  const auto dir = temp_dir("mqtt-profile");
  const std::string file = (dir / "bad.yaml").string();
  std::ofstream(file) << "topics: [tags]\nfields:\n  tag: /tagId\n  x: /x\n  y: data/y\n";
  mqtt::Profile p;
  std::string err;
  EXPECT_FALSE(mqtt::load_profile(file, p, err));
  EXPECT_NE(err.find(file + ":5: key 'fields.y'"), std::string::npos) << err;
  std::ofstream(file) << "topics: [tags]\nfields: {tag: /t, x: /x, y: /y}\nunits: furlong\n";
  EXPECT_FALSE(mqtt::load_profile(file, p, err));
  EXPECT_NE(err.find(file + ":3: key 'units'"), std::string::npos) << err;
  std::ofstream(file) << "topics: [tags]\nfields: {tag: /t, x: /x, y: /y}\ncolour: blue\n";
  EXPECT_FALSE(mqtt::load_profile(file, p, err));
  EXPECT_NE(err.find(file + ":3: key 'colour'"), std::string::npos) << err;
  EXPECT_FALSE(mqtt::load_profile((dir / "missing.yaml").string(), p, err));
  std::filesystem::remove_all(dir);
}

// fuzz_mqtt found it: a complex YAML key (`? tag: ...`) threw YAML::TypedBadConversion out of the
// profile loader (a crash of `planttwin live` at start instead of exit 2 with file and line).
TEST(MqttProfile, H03_ProfileWithAComplexKeyIsRefusedWithFileAndLine) {
  mqtt::Profile p;
  std::string err;
  EXPECT_FALSE(mqtt::parse_profile("profile: pozyx\ntopics: [tags]\nfields:\n ? tag: /tag\n : 1\n", "odd.yaml", p, err));
  EXPECT_EQ(err.rfind("odd.yaml:", 0), 0u) << err;
  EXPECT_FALSE(mqtt::parse_profile("? [a, b]\n: 1\n", "odd.yaml", p, err));
  EXPECT_EQ(err.rfind("odd.yaml:", 0), 0u) << err;
}

TEST(MqttCommand, H03_BadProfileFileExitsTwoNamingFileLineAndKey) {
  const auto dir = temp_dir("mqtt-cmd");
  const std::string file = (dir / "bad.yaml").string();
  std::ofstream(file) << "topics: [tags]\nfields: {tag: /t, x: /x, y: /y}\ntime_format: fortnights\n";
  const std::string cmd = std::string(PLANTTWIN_COMMAND " live ") + live_scenario_path() +
                          " --mqtt mqtt://127.0.0.1:1 --mqtt-profile " + file + " --duration 1s > " + (dir / "out.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(dir / "out.txt");
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(out.find(file + ":3: key 'time_format'"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

// A Pozyx test profile: the bundled one with the site's tag ids (T1..T4) for Pozyx numbers 1..4.
std::string pozyx_profile_file(const std::filesystem::path& dir) {
  const std::string f = (dir / "pozyx-site.yaml").string();
  std::ofstream(f) << "profile: pozyx-site\ntopics: [tags]\nfields:\n  tag: /tagId\n  x: /data/coordinates/x\n  y: /data/coordinates/y\n"
                      "  time: /timestamp\n  valid: /success\nunits: mm\ntime_format: unix_s\ntag_prefix: T\n";
  return f;
}

std::string pozyx(int tag, double x_m, double y_m) {
  const double ts = static_cast<double>(now_unix_ms()) / 1000.0;
  return json::array({{{"tagId", std::to_string(tag)}, {"timestamp", ts}, {"success", true},
                       {"data", {{"coordinates", {{"x", x_m * 1000}, {"y", y_m * 1000}, {"z", 1200}}}}}}})
      .dump();
}

std::uint64_t mqtt_accepted(MqttClient& c) {
  std::uint64_t n = 0;
  for (const json& s : c.find("/stats"))
    if (s.contains("sources") && s["sources"].contains("mqtt")) n = std::max<std::uint64_t>(n, s["sources"]["mqtt"]["accepted"].get<std::uint64_t>());
  return n;
}

TEST(MqttLive, H03_PL06_PozyxOverRealMosquittoAlarmsBackAndBrokerRestartLosesOnlyTheOutage) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  const auto dir = temp_dir("mqtt-live");
  Mosquitto broker(dir, free_port());
  ASSERT_TRUE(broker.start());

  LiveOptions o;
  MqttOptions mo;
  mo.url = broker.url();
  mo.profile = pozyx_profile_file(dir);
  std::string err;
  auto ch = make_mqtt_channel(load_live_scenario(), mo, err);
  ASSERT_TRUE(ch) << err;
  o.channels.push_back(ch);
  o.record = (dir / "session.ptrec").string();
  ChannelSession s(o);  // no ZeroMQ input: MQTT alone
  ASSERT_TRUE(s.opened());

  MqttClient vendor(broker.port());
  // the spec's synchronisation, over MQTT: wait for a `stats`
  ASSERT_TRUE(vendor.wait("planttwin/live-vendor-start/stats", 10s).has_value());
  ASSERT_TRUE(wait_until([&] { return !vendor.find("/stats", [](const json& j) { return j["sources"]["mqtt"]["connected"] == true; }).empty(); }, 10s));

  // a visitor (Pozyx tag 4 -> T4) walks into the tank farm: the alarm comes back on MQTT
  ASSERT_TRUE(vendor.publish("tags", pozyx(4, 30, 30)));
  ASSERT_TRUE(vendor.publish("tags", pozyx(4, 70, 70)));
  auto alarm = vendor.wait("planttwin/live-vendor-start/alarm", 5s, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ((*alarm)["who"], json::array({"P4"}));
  EXPECT_TRUE(vendor.wait("planttwin/live-vendor-start/warn", 5s).has_value());

  // bad input: answered on planttwin/<scenario>/error, counted for the source
  ASSERT_TRUE(vendor.publish("tags", "{not json"));
  ASSERT_TRUE(vendor.publish("tags", pozyx(9, 1, 1)));  // T9 is no tag of the site
  auto bad = vendor.wait("planttwin/live-vendor-start/error", 5s, [](const json& j) { return j["reason"] == "bad_json"; });
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ((*bad)["topic"], "tags");
  EXPECT_TRUE(vendor.wait("planttwin/live-vendor-start/error", 5s, [](const json& j) { return j["reason"] == "unknown_tag"; }).has_value());

  // phase 1: 20 fixes, all accepted
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(vendor.publish("tags", pozyx(1, 10 + i * 0.1, 10)));
  ASSERT_TRUE(wait_until([&] { return mqtt_accepted(vendor) >= 22; }, 10s)) << mqtt_accepted(vendor);

  // the broker goes away (killed) and comes back on the same port
  broker.kill();
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(broker.start());
  // planttwin reconnects with back-off and says so in stats (connected again, one disconnect)
  vendor.clear();
  ASSERT_TRUE(wait_until([&] {
    return !vendor.find("/stats", [](const json& j) {
              return j["sources"]["mqtt"]["connected"] == true && j["sources"]["mqtt"]["disconnects"] == 1;
            }).empty();
  }, 40s));
  // phase 3: 20 more, all accepted: nothing but the outage (when nobody sent) was lost
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(vendor.publish("tags", pozyx(2, 12 + i * 0.1, 10)));
  ASSERT_TRUE(wait_until([&] { return mqtt_accepted(vendor) >= 42; }, 10s)) << mqtt_accepted(vendor);
  s.stop();
  ASSERT_TRUE(s.run_ok()) << s.run_error();
  const LiveSummary& sum = s.loop().summary();
  ASSERT_TRUE(sum.sources.count("mqtt"));
  const SourceStats& st = sum.sources.at("mqtt");
  EXPECT_EQ(st.accepted, 42u);  // 2 walking + 20 + 20
  EXPECT_EQ(st.dropped, 2u);    // bad JSON, unknown tag
  EXPECT_EQ(st.dropped_by_reason.at("bad_json"), 1u);
  EXPECT_EQ(st.dropped_by_reason.at("unknown_tag"), 1u);
  EXPECT_EQ(st.disconnects, 1u);
  EXPECT_EQ(sum.sources.count("zeromq"), 0u);

  // H-01 / PL-11: the recording of an MQTT session replays to the same hash
  Scenario rsc;
  RunResult rr;
  LiveSummary rs;
  ASSERT_TRUE(replay_recording(o.record, rsc, rr, rs, err)) << err;
  EXPECT_EQ(rr.hash, s.loop().result().hash);
  EXPECT_EQ(rr.alarms.size(), s.loop().result().alarms.size());
  EXPECT_EQ(rs.counters.accepted, 42u);
  std::filesystem::remove_all(dir);
}

TEST(MqttLive, H03_BrokerNotUpAtTheStartIsRetriedWithBackOff) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  const auto dir = temp_dir("mqtt-late");
  Mosquitto broker(dir, free_port());
  LiveOptions o;
  MqttOptions mo;
  mo.url = broker.url();
  mo.profile = "generic";
  std::string err;
  auto ch = make_mqtt_channel(load_live_scenario(), mo, err);
  ASSERT_TRUE(ch) << err;
  o.channels.push_back(ch);
  ChannelSession s(o);  // the broker is not there yet: the session runs regardless
  ASSERT_TRUE(s.opened());
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(broker.start());
  MqttClient vendor(broker.port());
  ASSERT_TRUE(wait_until([&] { return !vendor.find("/stats", [](const json& j) { return j["sources"]["mqtt"]["connected"] == true; }).empty(); }, 40s));
  // the generic profile: metres in the site frame, ms since the epoch
  ASSERT_TRUE(vendor.publish("planttwin/in/yard", json{{"tag", "T1"}, {"ts", now_unix_ms()}, {"sos", true}}.dump()));
  EXPECT_TRUE(vendor.wait("planttwin/live-vendor-start/alarm", 5s, [](const json& j) { return j["type"] == "sos"; }).has_value());
  s.stop();
  EXPECT_EQ(s.loop().summary().sources.at("mqtt").accepted, 1u);
  std::filesystem::remove_all(dir);
}

// A channel that does nothing but let the test hold the session's loop, as an engine that cannot
// keep up would: block() posts a handler that waits until release().
class LoopBlocker final : public Channel {
 public:
  bool open(boost::asio::io_context& io, std::string&) override {
    io_ = &io;
    return true;
  }
  std::string describe() const override { return "loop blocker (test)"; }
  void start(ChannelHost&) override {}
  void output(const WireMessage&) override {}
  void stop() override { release(); }
  void block() {
    auto entered = std::make_shared<std::promise<void>>();
    auto f = entered->get_future();
    boost::asio::post(*io_, [this, entered] {
      entered->set_value();
      release_.get_future().wait();
    });
    f.wait();
  }
  void release() {
    if (!released_.exchange(true)) release_.set_value();
  }

 private:
  boost::asio::io_context* io_ = nullptr;
  std::promise<void> release_;
  std::atomic<bool> released_{false};
};

// Four tags (Pozyx 1..4 -> T1..T4) in one payload, at time `ts` seconds since the epoch.
std::string pozyx_four(double ts, double x_m) {
  json a = json::array();
  for (int tag = 1; tag <= 4; ++tag)
    a.push_back({{"tagId", std::to_string(tag)}, {"timestamp", ts}, {"success", true},
                 {"data", {{"coordinates", {{"x", (x_m + tag) * 1000}, {"y", 10000}, {"z", 1200}}}}}});
  return a.dump();
}

// H-03 (issue 17, resource limits): a vendor floods MQTT faster than the engine goes. What waits for
// the loop is bounded (--mqtt-max-queued); the rest is dropped, counted per MQTT message as
// `overloaded` in the source's stats, and nothing else is lost: every message is either converted
// (its four fixes accepted) or counted.
TEST(MqttLive, H03_FloodBeyondTheQueueIsDroppedCountedAndShownInStats) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  const auto dir = temp_dir("mqtt-flood");
  Mosquitto broker(dir, free_port());
  ASSERT_TRUE(broker.start());
  LiveOptions o;
  MqttOptions mo;
  mo.url = broker.url();
  mo.profile = pozyx_profile_file(dir);
  mo.max_queued = 3;
  std::string err;
  auto ch = make_mqtt_channel(load_live_scenario(), mo, err);
  ASSERT_TRUE(ch) << err;
  auto blocker = std::make_shared<LoopBlocker>();
  o.channels.push_back(ch);
  o.channels.push_back(blocker);
  ChannelSession s(o);
  ASSERT_TRUE(s.opened());
  MqttClient vendor(broker.port());
  ASSERT_TRUE(wait_until([&] { return !vendor.find("/stats", [](const json& j) { return j["sources"]["mqtt"]["connected"] == true; }).empty(); }, 10s));

  // the engine is held: ten payloads arrive, three wait, seven are dropped
  blocker->block();
  const double t0 = static_cast<double>(now_unix_ms()) / 1000.0;
  constexpr int kSent = 10;
  for (int i = 0; i < kSent; ++i) ASSERT_TRUE(vendor.publish("tags", pozyx_four(t0 + i * 0.1, 10 + i * 0.1)));
  std::this_thread::sleep_for(2s);  // loopback: the broker hands them all to planttwin's MQTT thread
  blocker->release();
  auto mqtt_stats = [&](std::uint64_t accepted) {
    return vendor.wait("planttwin/live-vendor-start/stats", 15s, [accepted](const json& j) {
      return j["sources"]["mqtt"]["accepted"].get<std::uint64_t>() >= accepted;
    });
  };
  auto st = mqtt_stats(12);  // the three that waited, four fixes each
  ASSERT_TRUE(st.has_value()) << vendor.find("/stats").back().dump();
  EXPECT_EQ((*st)["sources"]["mqtt"]["accepted"], 12) << st->dump();
  EXPECT_EQ((*st)["sources"]["mqtt"]["dropped_by_reason"]["overloaded"], 7) << st->dump();
  // free again: the next payload goes through
  ASSERT_TRUE(vendor.publish("tags", pozyx_four(t0 + kSent * 0.1, 12)));
  st = mqtt_stats(16);
  ASSERT_TRUE(st.has_value()) << vendor.find("/stats").back().dump();
  s.stop();
  const SourceStats& m = s.loop().summary().sources.at("mqtt");
  EXPECT_EQ(m.dropped_by_reason.at("overloaded"), 7u);
  EXPECT_EQ(m.accepted, 16u);
  EXPECT_EQ(m.dropped, 7u);
  EXPECT_EQ(m.received, m.accepted + m.dropped);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace planttwin::hil::test
