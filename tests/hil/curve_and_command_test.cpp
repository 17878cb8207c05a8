// CURVE: only allowed client keys get through (the handshake refuses others), and the command
// end to end: `planttwin live ... --duration` exit codes and `planttwin replay`.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "hardware-in-loop/curve.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// --bind with CURVE: the PULL and the PUB are CURVE servers admitting only the allowed client
// keys. An allowed client's inputs arrive and it hears the outputs; a stranger's inputs never
// arrive, and neither a stranger nor a plaintext subscriber hears anything (positions and alarms
// are personal data).
TEST(Curve, H03_AllowedClientGetsThroughUnknownClientIsRefused) {
  const fs::path d = temp_dir("curve");
  const CurveCert server = make_curve_cert(), allowed = make_curve_cert(), stranger = make_curve_cert();
  std::string err;
  ASSERT_TRUE(write_zcert((d / "server_secret").string(), server, err)) << err;
  fs::create_directories(d / "clients");
  ASSERT_TRUE(write_zcert((d / "clients" / "vendor.key").string(), {allowed.public_z85, ""}, err)) << err;
  CurveCert back;
  ASSERT_TRUE(read_zcert((d / "server_secret").string(), back, err)) << err;
  EXPECT_EQ(back.secret_z85, server.secret_z85);
  EXPECT_EQ(back.public_z85, server.public_z85);

  LiveOptions o;
  o.curve_secret_key = (d / "server_secret").string();
  o.curve_allowed_clients = (d / "clients").string();
  LiveSession s(o);
  zmq::context_t ctx(1);
  auto client = [&](const CurveCert* me) {
    auto c = std::make_unique<TestClient>(s.in(), "", &ctx);
    for (zmq::socket_t* sock : {&c->push, &c->sub})
      if (me) {
        sock->set(zmq::sockopt::curve_serverkey, server.public_z85);
        sock->set(zmq::sockopt::curve_publickey, me->public_z85);
        sock->set(zmq::sockopt::curve_secretkey, me->secret_z85);
      }
    c->push.set(zmq::sockopt::linger, 0);
    c->sub.connect(s.out());
    return c;
  };
  auto good = client(&allowed);
  ASSERT_TRUE(good->wait_stats()) << "an allowed subscriber hears the PUB";
  auto bad = client(&stranger);
  bad->connect_push();
  auto plain = client(nullptr);
  for (int i = 0; i < 5; ++i) bad->send("sos", json{{"v", 1}, {"tag", "T3"}, {"ts", now_unix_ms()}});
  good->send("sos", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}});
  auto sos = good->next("alarm", 3000ms, [](const json& j) { return j["type"] == "sos"; });
  ASSERT_TRUE(sos.has_value());
  EXPECT_EQ((*sos)["who"], json::array({"P1"}));
  // the stranger's messages never arrive
  EXPECT_FALSE(good->next("alarm", 700ms, [](const json& j) { return j["who"] == json::array({"P3"}); }).has_value());
  // nothing published reaches the stranger's or a plaintext subscriber (stats go out every second)
  EXPECT_FALSE(bad->next("stats", 1200ms).has_value());
  EXPECT_FALSE(plain->next("stats", 100ms).has_value());
  EXPECT_TRUE(bad->seen.empty());
  EXPECT_TRUE(plain->seen.empty());
  s.stop();
  EXPECT_EQ(s.loop().summary().counters.received, 1u);
  EXPECT_GE(s.loop().live_stats().curve_denied, 2u);   // the stranger's PUSH and SUB
  EXPECT_GE(s.loop().live_stats().curve_allowed, 2u);  // the allowed PUSH and SUB
  fs::remove_all(d);
}

// --connect with CURVE: planttwin's SUB is a CURVE client of the vendor's PUB, which it trusts by
// the vendor's public certificate. With the right key the vendor's messages arrive; with another
// key (a man in the middle, a misconfiguration) nothing does.
TEST(Curve, H03_ConnectToAVendorPubAsACurveClient) {
  const fs::path d = temp_dir("curve-connect");
  const CurveCert vendor = make_curve_cert(), impostor = make_curve_cert(), ours = make_curve_cert(), viewer = make_curve_cert();
  std::string err;
  ASSERT_TRUE(write_zcert((d / "planttwin_secret").string(), ours, err)) << err;
  ASSERT_TRUE(write_zcert((d / "vendor.pub").string(), {vendor.public_z85, ""}, err)) << err;
  fs::create_directories(d / "clients");
  ASSERT_TRUE(write_zcert((d / "clients" / "viewer.key").string(), {viewer.public_z85, ""}, err)) << err;
  for (const CurveCert* pub_key : {&vendor, &impostor}) {
    SCOPED_TRACE(pub_key == &vendor ? "the vendor's key" : "another key");
    zmq::context_t ctx(1);
    zmq::socket_t pub(ctx, zmq::socket_type::pub);
    pub.set(zmq::sockopt::linger, 0);
    pub.set(zmq::sockopt::curve_server, 1);
    pub.set(zmq::sockopt::curve_secretkey, pub_key->secret_z85);
    pub.bind("tcp://127.0.0.1:*");
    LiveOptions o;
    o.connect = pub.get(zmq::sockopt::last_endpoint);
    o.curve_secret_key = (d / "planttwin_secret").string();
    o.curve_server_key = (d / "vendor.pub").string();
    o.curve_allowed_clients = (d / "clients").string();  // for planttwin's own PUB
    LiveSession s(o);
    // PUB/SUB: keep sending until the subscription is up (or 1.5 s)
    for (int i = 0; i < 30; ++i) {
      const std::string body = json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}}.dump();
      pub.send(zmq::buffer(std::string("sos")), zmq::send_flags::sndmore);
      pub.send(zmq::buffer(body), zmq::send_flags::none);
      std::this_thread::sleep_for(50ms);
    }
    s.stop();
    if (pub_key == &vendor) EXPECT_GE(s.loop().summary().counters.received, 1u);
    else EXPECT_EQ(s.loop().summary().counters.received, 0u);
  }
  fs::remove_all(d);
}

TEST(Curve, H03_MissingKeyFilesAreBadInput) {
  LiveOptions o;
  o.bind = "tcp://127.0.0.1:*";
  o.curve_secret_key = "/nonexistent/server_secret";
  o.curve_allowed_clients = "/nonexistent";
  LiveLoop loop(load_live_scenario(), o);
  std::string err;
  EXPECT_FALSE(loop.open(err));
  EXPECT_NE(err.find("/nonexistent/server_secret"), std::string::npos) << err;
  // the combinations that cannot work say what is missing
  struct Case {
    std::string bind, connect, secret, allowed, server, expect;
  };
  for (const Case& c : {Case{"tcp://127.0.0.1:*", "", "s", "", "", "--curve-allowed-clients"},
                        Case{"tcp://127.0.0.1:*", "", "", "dir", "", "--curve-secret-key"},
                        Case{"tcp://127.0.0.1:*", "", "s", "dir", "v", "--curve-server-key is for --connect"},
                        Case{"", "tcp://127.0.0.1:1", "s", "", "", "--curve-server-key FILE"}}) {
    LiveOptions x;
    x.bind = c.bind;
    x.connect = c.connect;
    x.curve_secret_key = c.secret;
    x.curve_allowed_clients = c.allowed;
    x.curve_server_key = c.server;
    LiveLoop l(load_live_scenario(), x);
    std::string e;
    EXPECT_FALSE(l.open(e));
    EXPECT_NE(e.find(c.expect), std::string::npos) << e;
  }
}

// ---- the command ------------------------------------------------------------------------------

int run_command(const std::string& args, std::string* out = nullptr) {
  const std::string cmd = std::string(PLANTTWIN_BINARY_DIR "/apps/planttwin ") + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  const int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Waits until the file holds `text` (a background command's output), or the timeout passes.
bool wait_for_text(const fs::path& file, const std::string& text, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream f(file);
    const std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (content.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(Command, H03_LiveExitCodesZeroOneTwoAndReplayGivesTheSameHash) {
  const fs::path d = temp_dir("cmd");
  const std::string sc = live_scenario_path();
  std::string out;
  // 0: with the script, P1's SOS at 2 s meets the scenario's expectation
  EXPECT_EQ(run_command("live " + sc + " --bind 'tcp://127.0.0.1:*' --publish 'tcp://127.0.0.1:*' --duration 3s --with-script --record " +
                            (d / "rec.ptrec").string() + " --report " + (d / "live").string(), &out), 0) << out;
  EXPECT_TRUE(fs::exists(d / "live" / "report.json")) << out;
  EXPECT_TRUE(fs::exists(d / "live" / "report.md"));
  std::string replay_out;
  EXPECT_EQ(run_command("replay " + (d / "rec.ptrec").string() + " --report " + (d / "replay").string(), &replay_out), 0) << replay_out;
  std::ifstream a(d / "live" / "report.json"), b(d / "replay" / "report.json");
  const json ja = json::parse(a), jb = json::parse(b);
  EXPECT_EQ(ja["hash"], jb["hash"]);
  EXPECT_EQ(ja["alarms"].size(), 1u);
  EXPECT_EQ(ja["live"]["mode"], "live");
  EXPECT_EQ(jb["live"]["mode"], "replay");

  // 1: no hardware, no script: the expected SOS never comes
  EXPECT_EQ(run_command("live " + sc + " --bind 'tcp://127.0.0.1:*' --duration 1s", &out), 1) << out;
  // 2: bad input
  EXPECT_EQ(run_command("live /nonexistent.yaml --bind 'tcp://127.0.0.1:*' --duration 1s", &out), 2) << out;
  EXPECT_EQ(run_command("live " + sc + " --bind nonsense://x --duration 1s", &out), 2) << out;
  EXPECT_EQ(run_command("live " + sc + " --duration 1s", &out), 2) << out;
  EXPECT_EQ(run_command("replay /nonexistent.ptrec", &out), 2) << out;
  fs::remove_all(d);
}

TEST(Command, H03_SigtermEndsTheSessionCleanlyWithAReport) {
  const fs::path d = temp_dir("sig");
  const std::string cmd = std::string(PLANTTWIN_BINARY_DIR "/apps/planttwin live ") + live_scenario_path() +
                          " --bind 'tcp://127.0.0.1:*' --with-script --report " + (d / "r").string() + " > " + (d / "out.txt").string() +
                          " 2>&1 & echo $! > " + (d / "pid").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // the session's clock starts when it says where its inputs are: wait for that (a slow machine
  // may take long to start the process), then let it run past the script's SOS at 2 s
  ASSERT_TRUE(wait_for_text(d / "out.txt", "inputs on", 30s)) << "the session never started";
  std::this_thread::sleep_for(2600ms);
  std::ifstream pf(d / "pid");
  int pid = 0;
  pf >> pid;
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 50 && !fs::exists(d / "r" / "report.json"); ++i) std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(fs::exists(d / "r" / "report.json"));
  std::ifstream f(d / "r" / "report.json");
  const json j = json::parse(f);
  EXPECT_EQ(j["passed"], true);
  EXPECT_GT(j["live"]["duration_s"].get<double>(), 2.0);
  fs::remove_all(d);
}


TEST(Command, H01_KilledSessionReplaysItsIntactPrefixAndSaysSo) {
  const fs::path d = temp_dir("kill9");
  const std::string rec = (d / "k.ptrec").string();
  const std::string cmd = std::string(PLANTTWIN_BINARY_DIR "/apps/planttwin live ") + live_scenario_path() +
                          " --bind 'tcp://127.0.0.1:*' --with-script --record " + rec + " > " + (d / "out.txt").string() +
                          " 2>&1 & echo $! > " + (d / "pid").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(wait_for_text(d / "out.txt", "inputs on", 30s)) << "the session never started";
  std::this_thread::sleep_for(2800ms);  // past the script's SOS at 2 s of session time
  std::ifstream pf(d / "pid");
  int pid = 0;
  pf >> pid;
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(200ms);
  std::string out;
  // the SOS expectation still passes on the intact prefix; the missing end is reported
  EXPECT_EQ(run_command("replay " + rec + " --report " + (d / "r").string(), &out), 0) << out;
  EXPECT_NE(out.find("torn tail: no end record"), std::string::npos) << out;
  std::ifstream f(d / "r" / "report.json");
  const json j = json::parse(f);
  EXPECT_EQ(j["alarms"].size(), 1u);
  EXPECT_TRUE(j["live"]["torn_tail"].is_string());
  fs::remove_all(d);
}

}  // namespace
}  // namespace planttwin::hil::test
