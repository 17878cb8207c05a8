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
#include "tests/common/test_certs.h"
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

// ---- TLS and login (docs/mqtt.md, "Security") ----

std::string write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

// A broker that takes only TLS clients with a certificate it trusts and a login (mosquitto_passwd),
// and the files each side needs: planttwin logs in as `planttwin`, the vendor as `vendor`.
struct SecuredBroker {
  std::string server_ca;                // what clients trust: the broker's own (self-signed) certificate
  std::string client_cert, client_key;  // the certificate the broker trusts
  std::string password_file;            // planttwin's password, first line
  std::unique_ptr<Mosquitto> broker;
};

SecuredBroker secured_broker(const std::filesystem::path& dir) {
  SecuredBroker b;
  const planttwin::test::Pem server = planttwin::test::make_cert("broker", "DNS:localhost,IP:127.0.0.1");
  const planttwin::test::Pem client = planttwin::test::make_cert("vendor-gateway", "DNS:gateway");
  BrokerSecurity sec;
  b.server_ca = write_text(dir / "broker.pem", server.cert);
  sec.certfile = b.server_ca;
  sec.keyfile = write_text(dir / "broker.key", server.key);
  sec.cafile = b.client_cert = write_text(dir / "client.pem", client.cert);
  b.client_key = write_text(dir / "client.key", client.key);
  sec.require_certificate = true;
  sec.password_file = (dir / "passwd").string();
  const std::string mk = "/usr/bin/mosquitto_passwd -b -c " + sec.password_file + " planttwin s3cret && /usr/bin/mosquitto_passwd -b " +
                         sec.password_file + " vendor v3ndor";
  EXPECT_EQ(std::system(mk.c_str()), 0) << mk;
  b.password_file = write_text(dir / "planttwin.password", "s3cret\n");
  b.broker = std::make_unique<Mosquitto>(dir, free_port(), sec);
  return b;
}

ClientSecurity vendor_login(const SecuredBroker& b) { return {b.server_ca, b.client_cert, b.client_key, "vendor", "v3ndor"}; }

MqttOptions secured_options(const SecuredBroker& b, const std::filesystem::path& dir) {
  MqttOptions mo;
  mo.url = b.broker->url();
  mo.profile = pozyx_profile_file(dir);
  mo.ca_file = b.server_ca;
  mo.cert_file = b.client_cert;
  mo.key_file = b.client_key;
  mo.username = "planttwin";
  mo.password_file = b.password_file;
  return mo;
}

TEST(MqttLive, H03_PL06_TlsWithAClientCertificateAndALoginReachASecuredBroker) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  const auto dir = temp_dir("mqtt-tls");
  SecuredBroker b = secured_broker(dir);
  ASSERT_TRUE(b.broker->start());
  EXPECT_EQ(b.broker->url().rfind("mqtts://", 0), 0u);
  LiveOptions o;
  std::string err;
  auto ch = make_mqtt_channel(load_live_scenario(), secured_options(b, dir), err);
  ASSERT_TRUE(ch) << err;
  EXPECT_NE(ch->describe().find("mqtts://"), std::string::npos);
  o.channels.push_back(ch);
  ChannelSession s(o);
  ASSERT_TRUE(s.opened());
  MqttClient vendor(b.broker->port(), {"planttwin/#"}, vendor_login(b));
  ASSERT_TRUE(wait_until([&] { return !vendor.find("/stats", [](const json& j) { return j["sources"]["mqtt"]["connected"] == true; }).empty(); }, 15s));
  ASSERT_TRUE(vendor.publish("tags", pozyx(4, 30, 30)));
  ASSERT_TRUE(vendor.publish("tags", pozyx(4, 70, 70)));
  auto alarm = vendor.wait("planttwin/live-vendor-start/alarm", 5s, [](const json& j) { return j["type"] == "boundary_crossing"; });
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ((*alarm)["who"], json::array({"P4"}));
  s.stop();
  EXPECT_EQ(s.loop().summary().sources.at("mqtt").accepted, 2u);
  std::filesystem::remove_all(dir);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A wrong password, and a broker whose certificate the session does not trust: each is said on
// stderr once (libmosquitto keeps retrying with back-off), nothing is accepted, and the session runs
// and stops cleanly; it never connects to a broker it cannot verify.
TEST(MqttLive, H03_RefusedLoginAndUntrustedBrokerAreSaidOnceAndRetriedWhileTheSessionRuns) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  const auto dir = temp_dir("mqtt-refused");
  SecuredBroker b = secured_broker(dir);
  ASSERT_TRUE(b.broker->start());
  const planttwin::test::Pem stranger = planttwin::test::make_cert("someone-else", "DNS:localhost,IP:127.0.0.1");
  struct Case {
    const char* what;
    MqttOptions mo;
    std::string said;
  };
  MqttOptions wrong_password = secured_options(b, dir);
  wrong_password.password_file = write_text(dir / "wrong.password", "guess\n");
  MqttOptions untrusted = secured_options(b, dir);
  untrusted.ca_file = write_text(dir / "stranger.pem", stranger.cert);
  for (const Case& c : {Case{"wrong password", wrong_password, "not authorised"}, Case{"untrusted broker", untrusted, "certificate verify failed"}}) {
    SCOPED_TRACE(c.what);
    std::string err;
    auto ch = make_mqtt_channel(load_live_scenario(), c.mo, err);
    ASSERT_TRUE(ch) << err;
    LiveOptions o;
    o.channels.push_back(ch);
    testing::internal::CaptureStderr();
    {
      ChannelSession s(o);
      EXPECT_TRUE(s.opened());
      std::this_thread::sleep_for(3500ms);  // the first attempt and at least two retries (1 s, 2 s)
      s.stop();
      EXPECT_TRUE(s.run_ok()) << s.run_error();
      const SourceStats& st = s.loop().summary().sources.at("mqtt");
      EXPECT_FALSE(st.connected);
      EXPECT_EQ(st.accepted, 0u);
    }
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_EQ(count_of(said, c.said), 1u) << said;
    EXPECT_NE(said.find(b.broker->url()), std::string::npos) << said;
  }
  std::filesystem::remove_all(dir);
}

TEST(MqttCommand, H03_TlsAndLoginOptionsAreCheckedAtTheStart) {
  const auto dir = temp_dir("mqtt-tls-options");
  const std::string pem = write_text(dir / "ca.pem", planttwin::test::make_cert("ca", "DNS:localhost").cert);
  const std::string empty = write_text(dir / "empty.password", "\n");
  struct Case {
    MqttOptions mo;
    std::string error;
  };
  auto opt = [](std::string url) {
    MqttOptions mo;
    mo.url = std::move(url);
    mo.profile = "generic";
    return mo;
  };
  std::vector<Case> cases;
  {
    MqttOptions m = opt("mqtt://127.0.0.1:1883");
    m.ca_file = pem;
    cases.push_back({m, "--mqtt-ca " + pem + ": TLS options need an mqtts:// URL"});
  }
  {
    MqttOptions m = opt("mqtts://127.0.0.1");
    m.cert_file = pem;
    cases.push_back({m, "--mqtt-cert and --mqtt-key: give both"});
  }
  {
    MqttOptions m = opt("mqtts://127.0.0.1");
    m.ca_file = (dir / "missing.pem").string();
    cases.push_back({m, "--mqtt-ca " + m.ca_file + ": cannot read the file"});
  }
  {
    MqttOptions m = opt("mqtt://127.0.0.1");
    m.password_file = empty;
    cases.push_back({m, "--mqtt-password-file " + empty + ": needs --mqtt-username"});
  }
  {
    MqttOptions m = opt("mqtt://127.0.0.1");
    m.username = "u";
    m.password_file = empty;
    cases.push_back({m, "--mqtt-password-file " + empty + ": line 1: empty"});
  }
  cases.push_back({opt("mqtt://user:pw@127.0.0.1"), "not an MQTT URL"});
  cases.push_back({opt("https://127.0.0.1"), "not an MQTT URL"});
  for (const Case& c : cases) {
    std::string err;
    EXPECT_FALSE(make_mqtt_channel(load_live_scenario(), c.mo, err)) << c.error;
    EXPECT_NE(err.find(c.error), std::string::npos) << err;
  }
  // mqtts:// alone is enough (the system's CAs), on port 8883 unless given
  std::string err;
  auto ch = make_mqtt_channel(load_live_scenario(), opt("mqtts://broker.example"), err);
  ASSERT_TRUE(ch) << err;

  // the command: a TLS or login option without --mqtt is refused, exit 2, naming it
  const std::string cmd = std::string(PLANTTWIN_COMMAND " live ") + live_scenario_path() + " --bind tcp://127.0.0.1:1 --mqtt-username u --duration 1s > " +
                          (dir / "out.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(dir / "out.txt");
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(out.find("--mqtt-username"), std::string::npos) << out;
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
// the loop is bounded (--mqtt-max-queued messages, --mqtt-max-queued-bytes of topic and payload);
// the rest is dropped, counted per MQTT message as `overloaded` in the source's stats, and nothing
// else is lost: every message is either converted (its four fixes accepted) or counted. Both bounds
// are tried at their edge: exactly three messages fit, the fourth does not.
enum class Bound { kMessages, kBytes };

void flood_beyond_the_queue(Bound bound) {
  const auto dir = temp_dir(bound == Bound::kMessages ? "mqtt-flood" : "mqtt-flood-bytes");
  Mosquitto broker(dir, free_port());
  ASSERT_TRUE(broker.start());
  constexpr int kSent = 10, kFit = 3;
  const double t0 = static_cast<double>(now_unix_ms()) / 1000.0;
  std::vector<std::string> payloads;
  for (int i = 0; i < kSent; ++i) payloads.push_back(pozyx_four(t0 + i * 0.1, 10 + i * 0.1));
  LiveOptions o;
  MqttOptions mo;
  mo.url = broker.url();
  mo.profile = pozyx_profile_file(dir);
  if (bound == Bound::kMessages) {
    mo.max_queued = kFit;
  } else {
    mo.max_queued = 0;  // no message bound: the bytes alone
    mo.max_queued_bytes = 0;
    for (int i = 0; i < kFit; ++i) mo.max_queued_bytes += std::string("tags").size() + payloads[static_cast<std::size_t>(i)].size();
  }
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
  for (const std::string& p : payloads) ASSERT_TRUE(vendor.publish("tags", p));
  std::this_thread::sleep_for(2s);  // loopback: the broker hands them all to planttwin's MQTT thread
  blocker->release();
  auto mqtt_stats = [&](std::uint64_t accepted) {
    return vendor.wait("planttwin/live-vendor-start/stats", 15s, [accepted](const json& j) {
      return j["sources"]["mqtt"]["accepted"].get<std::uint64_t>() >= accepted;
    });
  };
  auto st = mqtt_stats(4 * kFit);  // the three that waited, four fixes each
  ASSERT_TRUE(st.has_value()) << vendor.find("/stats").back().dump();
  EXPECT_EQ((*st)["sources"]["mqtt"]["accepted"], 4 * kFit) << st->dump();
  EXPECT_EQ((*st)["sources"]["mqtt"]["dropped_by_reason"]["overloaded"], kSent - kFit) << st->dump();
  // free again: the next payload goes through
  ASSERT_TRUE(vendor.publish("tags", pozyx_four(t0 + kSent * 0.1, 12)));
  st = mqtt_stats(4 * kFit + 4);
  ASSERT_TRUE(st.has_value()) << vendor.find("/stats").back().dump();
  s.stop();
  const SourceStats& m = s.loop().summary().sources.at("mqtt");
  EXPECT_EQ(m.dropped_by_reason.at("overloaded"), static_cast<std::uint64_t>(kSent - kFit));
  EXPECT_EQ(m.accepted, static_cast<std::uint64_t>(4 * kFit + 4));
  EXPECT_EQ(m.dropped, static_cast<std::uint64_t>(kSent - kFit));
  EXPECT_EQ(m.received, m.accepted + m.dropped);
  std::filesystem::remove_all(dir);
}

TEST(MqttLive, H03_FloodBeyondTheQueueIsDroppedCountedAndShownInStats) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  flood_beyond_the_queue(Bound::kMessages);
}

TEST(MqttLive, H03_FloodBeyondTheQueuedBytesIsDroppedCountedAndShownInStats) {
  if (!Mosquitto::available()) GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
  flood_beyond_the_queue(Bound::kBytes);
}

}  // namespace
}  // namespace planttwin::hil::test
