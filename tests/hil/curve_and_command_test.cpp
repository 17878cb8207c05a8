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
  const std::string cmd = std::string(PLANTTWIN_COMMAND " ") + args + " 2>&1";
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
  const std::string cmd = std::string(PLANTTWIN_COMMAND " live ") + live_scenario_path() +
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
  const std::string cmd = std::string(PLANTTWIN_COMMAND " live ") + live_scenario_path() +
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

// Reads a background command's pid file.
int read_pid(const fs::path& f) {
  std::ifstream pf(f);
  int pid = 0;
  pf >> pid;
  return pid;
}

// The input endpoint a background `live` printed ("inputs on tcp://127.0.0.1:PORT, ...").
std::string printed_input(const fs::path& out) {
  std::ifstream f(out);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = text.find("inputs on ");
  if (at == std::string::npos) return "";
  const auto from = at + 10;
  return text.substr(from, text.find_first_of(", \n", from) - from);
}

// H-01, H-03 (issue 17 soak): a session killed with SIGKILL is started again with --resume from
// its last checkpoint and the same --record and --report: the inputs recorded after the checkpoint
// are read again, the recording goes on in the same file, and one replay of that file gives the
// resumed session's hash, fix hash and alarms (the script's SOS at 2 s once, not twice).
TEST(Command, H01_H03_KilledSessionResumesFromItsCheckpointAndOneReplayGivesItsHash) {
  const fs::path d = temp_dir("resume9");
  const std::string rec = (d / "s.ptrec").string(), ck = (d / "ck").string(), rep = (d / "r").string();
  const std::string base = std::string(PLANTTWIN_COMMAND " live ") + live_scenario_path() +
                           " --bind 'tcp://127.0.0.1:*' --with-script --record " + rec + " --checkpoint-every 1s --checkpoint-dir " + ck +
                           " --report " + rep;
  ASSERT_EQ(std::system((base + " > " + (d / "out1.txt").string() + " 2>&1 & echo $! > " + (d / "pid1").string()).c_str()), 0);
  ASSERT_TRUE(wait_for_text(d / "out1.txt", "inputs on", 30s)) << "the session never started";
  const auto started = std::chrono::steady_clock::now();
  int sent = 0;
  {
    TestClient c(printed_input(d / "out1.txt"), "");
    c.connect_push();
    // fixes until 2.7 s of session time: past the checkpoints at 1 s and 2 s and the SOS at 2 s
    while (std::chrono::steady_clock::now() - started < 2700ms) {
      c.send("fix", fix("T1", 10 + 0.1 * sent, 10));
      ++sent;
      std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(100ms);  // the last fixes are received and recorded (flushed each loop turn)
  }
  const int pid1 = read_pid(d / "pid1");
  ASSERT_GT(pid1, 0);
  ::kill(pid1, SIGKILL);
  std::this_thread::sleep_for(300ms);
  std::vector<fs::path> cks;
  for (const auto& e : fs::directory_iterator(ck)) cks.push_back(e.path());
  std::sort(cks.begin(), cks.end());
  ASSERT_GE(cks.size(), 2u) << "checkpoints at 1 s and 2 s";
  const std::string last = cks.back().string();

  // resumed (ended by SIGTERM once its fixes are in: a --duration counts from the original start,
  // and a loaded machine may take seconds to start the process)
  ASSERT_EQ(std::system(("(" + base + " --resume " + last + " > " + (d / "out2.txt").string() + " 2>&1 & echo $! > " +
                         (d / "pid2").string() + "; wait $!; echo $? > " + (d / "rc2").string() + ") &").c_str()), 0);
  ASSERT_TRUE(wait_for_text(d / "out2.txt", "inputs on", 30s)) << "the resumed session never started";
  {
    TestClient c(printed_input(d / "out2.txt"), "");
    c.connect_push();
    for (int i = 0; i < 10; ++i, ++sent) {
      c.send("fix", fix("T2", 12, 10 + 0.1 * i));
      std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(wait_for_text(d / "pid2", "\n", 5s));
  const int pid2 = read_pid(d / "pid2");
  ASSERT_GT(pid2, 0);
  ::kill(pid2, SIGTERM);
  ASSERT_TRUE(wait_for_text(d / "rc2", "\n", 30s)) << "the resumed session did not end";
  std::ifstream rc(d / "rc2");
  int code = -1;
  rc >> code;
  std::ifstream o2(d / "out2.txt");
  const std::string out2((std::istreambuf_iterator<char>(o2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(code, 0) << out2;
  EXPECT_NE(out2.find("Resumed from " + last), std::string::npos) << out2;
  const json live = json::parse(std::ifstream(fs::path(rep) / "report.json"));
  // the fixes sent between the last checkpoint and the kill were read again from the recording
  EXPECT_EQ(out2.find(" 0 records of the interrupted"), std::string::npos) << out2;

  std::string out;
  ASSERT_EQ(run_command("replay " + rec + " --report " + (d / "replay").string(), &out), 0) << out;
  EXPECT_EQ(out.find("torn"), std::string::npos) << "one recording, continued, with its end: " << out;
  const json replay = json::parse(std::ifstream(d / "replay" / "report.json"));
  EXPECT_EQ(live["hash"], replay["hash"]);
  EXPECT_EQ(live["fix_hash"], replay["fix_hash"]);
  EXPECT_EQ(live["alarms"].size(), 1u) << "the SOS once";
  EXPECT_EQ(replay["alarms"], live["alarms"]);
  EXPECT_EQ(live["live"]["accepted"], replay["live"]["accepted"]);
  EXPECT_EQ(replay["live"]["accepted"].get<int>(), sent) << "every fix sent, before and after the kill, is in the recording: " << live["live"].dump();
  EXPECT_EQ(run_command("replay " + rec + " --resume " + last + " --report " + (d / "r3").string(), &out), 2)
      << "the resumed replay needs the interrupted replay's fixes.csv: " << out;

  // refused: the recording of another session; --resume with --view
  const std::string other = (d / "other.ptrec").string();
  ASSERT_EQ(run_command("live " + live_scenario_path() + " --bind 'tcp://127.0.0.1:*' --duration 300ms --record " + other, &out) / 2, 0) << out;
  EXPECT_EQ(run_command("live " + live_scenario_path() + " --bind 'tcp://127.0.0.1:*' --with-script --duration 5s --record " + other +
                            " --resume " + last, &out), 2) << out;
  EXPECT_NE(out.find("not the interrupted session's recording"), std::string::npos) << out;
  EXPECT_EQ(run_command("live " + live_scenario_path() + " --bind 'tcp://127.0.0.1:*' --with-script --record " + (d / "none.ptrec").string() +
                            " --resume " + last, &out), 2) << out;
  EXPECT_NE(out.find("is not there"), std::string::npos) << out;
  fs::remove_all(d);
}

}  // namespace
}  // namespace planttwin::hil::test
