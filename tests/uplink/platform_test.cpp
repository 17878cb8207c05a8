// The uplink through the real `planttwin platform` process (issue 16, PL-11, SO-09;
// docs/platform.md): a round trip with every shipped profile; a platform that answers its busy code
// or loses answers (then answers its own "duplicate" code); a wrong key and a wrong signature kept
// in the outbox until fixed; late and malformed records in the platform's verdict. Counts come from
// the platform's store (GET /batches) and verdict (GET /verdict): nothing lost, nothing twice.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "hardware-in-loop/uplink/platform.h"
#include "scenarios/report_html.h"
#include "hardware-in-loop/uplink/profile.h"
#include "hardware-in-loop/uplink/uplink.h"

extern char** environ;

namespace planttwin {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kBinary = std::string(PLANTTWIN_COMMAND);

fs::path test_dir(const std::string& name) {
  const fs::path d = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "uplink-platform" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

// `planttwin platform` on 127.0.0.1, port picked by the process (read from its first line)
class PlatformProcess {
 public:
  PlatformProcess(const fs::path& dir, const std::string& profile, const std::string& credentials, std::vector<std::string> extra = {}) {
    out_ = (dir / "platform.out").string();
    std::vector<std::string> args = {kBinary, "platform", "--listen", "127.0.0.1:0", "--profile", profile, "--store", (dir / "store").string()};
    if (!credentials.empty()) args.insert(args.end(), {"--credentials", credentials});
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (out_ + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, kBinary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && pid_ > 0 && port_ == 0; ++i) {  // safety net 10 s
      std::ifstream in(out_);
      std::string line;
      std::getline(in, line);
      const auto at = line.find("://127.0.0.1:") != std::string::npos ? line.find("://127.0.0.1:") + 13 : std::string::npos;
      if (at != std::string::npos && line.find(' ', at) != std::string::npos) port_ = std::atoi(line.c_str() + at);
      else std::this_thread::sleep_for(20ms);
    }
  }
  ~PlatformProcess() { stop(); }
  // SIGTERM; the exit code (0 expected)
  int stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      rc_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      pid_ = -1;
    }
    return rc_;
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string get(const std::string& path) const {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(5s);
    s.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
    http::request<http::empty_body> req(http::verb::get, path, 11);
    req.set(http::field::host, "127.0.0.1");
    http::write(s, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(s, b, res);
    return res.body();
  }
  Json verdict() const { return Json::parse(get("/verdict")); }
  Json batches() const { return Json::parse(get("/batches")); }

 private:
  pid_t pid_ = -1;
  int port_ = 0, rc_ = -1;
  std::string out_;
};

Site test_site() {
  Site s;
  s.name = "platform-test";
  s.origin = std::array<double, 3>{30.0, 120.0, 10.0};
  Zone z;
  z.id = "Z1";
  z.name = "罐区 tank farm";
  z.kind = ZoneKind::major_hazard;
  z.risk = Risk::red;
  z.polygon.pts = {{0, 0}, {50, 0}, {50, 50}, {0, 50}};
  z.polygon.finalize();
  s.zones.push_back(z);
  return s;
}

UplinkOptions options(const PlatformProcess& p, const fs::path& dir, const std::string& profile, const uplink::PlatformCredentials& c) {
  UplinkOptions o;
  o.url = p.url();
  o.outbox = (dir / "outbox.sqlite").string();
  o.position_every = 30 * kSecond;
  o.backoff_first = 10 * kMillisecond;
  o.backoff_max = 40 * kMillisecond;
  o.request_timeout = 2 * kSecond;
  o.idle_poll = 20 * kMillisecond;
  o.company_code = "91330000TEST0001";
  o.company_name = "测试化工有限公司";
  o.park_code = "PARK01";
  o.people = {{"P01", {"张三", Category::employee}}, {"P02", {"李四", Category::contractor}}, {"P03", {"王五", Category::employee}}};
  auto prof = std::make_shared<uplink::UplinkProfile>();
  std::string err;
  if (!uplink::load_uplink_profile(profile, *prof, err)) ADD_FAILURE() << err;
  o.profile = prof;
  o.credentials = c;
  return o;
}

const uplink::PlatformCredentials kCreds{"APP-0001", "the-enterprise-secret"};

std::string credentials_file(const fs::path& dir, const uplink::PlatformCredentials& c) {
  return write(dir / "credentials.yaml", "app_id: " + c.app_id + "\napp_secret: " + c.app_secret + "\n");
}

std::pair<Alarm, AlarmEvent> alarm(int n, Micros t) {
  Alarm a;
  a.id = "A00000" + std::to_string(n);
  a.type = AlarmType::boundary_crossing;
  a.level = AlarmLevel::red;
  a.who = {"P01"};
  a.zone = "Z1";
  a.pos = {10, 20};
  a.floor = "1";
  a.raised_at = t;
  AlarmEvent e;
  e.t = t;
  e.kind = AlarmEventKind::raised;
  e.level = AlarmLevel::red;
  e.by = "system";
  a.events.push_back(e);
  return {a, e};
}

PermitRecord permit(const std::string& type = "hot_work") {
  PermitRecord p;
  p.id = "W1";
  p.type = type;
  p.grade = "2";
  p.floor = "1";
  p.area = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  p.workers = {"P02"};
  p.guardian = "P03";
  p.approver = "P01";
  p.from = 60 * kSecond;
  p.to = 4 * kHour;
  p.history = {{42 * kSecond, "applied"}};
  return p;
}

// every key once in the platform's store
std::set<std::string> unique_keys(const Json& batches) {
  std::set<std::string> keys;
  for (const Json& b : batches) EXPECT_TRUE(keys.insert(b["key"].get<std::string>()).second) << "stored twice: " << b["key"];
  return keys;
}

TEST(Platform, PL11_SO09_RoundTripWithEveryShippedProfile) {
  for (const char* profile : {"aq3064-sm4", "plain"}) {
    SCOPED_TRACE(profile);
    const fs::path dir = test_dir(std::string("roundtrip-") + profile);
    PlatformProcess pf(dir, profile, credentials_file(dir, kCreds));
    ASSERT_GT(pf.port(), 0) << "the platform did not start";
    {
      Uplink up(test_site(), WallClock{}, options(pf, dir, profile, kCreds));
      for (Micros t = 0; t <= 90 * kSecond; t += 5 * kSecond) {
        up.on_fix(t, "P01", "T01", 10, 10, 0, "1");
        up.on_fix(t, "P02", "T02", 20 + static_cast<double>(t / kSecond) * 0.1, 15, 0, "1");
        up.tick(t);
      }
      auto [a, e] = alarm(1, 50 * kSecond);
      up.on_alarm(50 * kSecond, a, e);
      // a tag-offline alarm: no AQ3 table; aq3064-sm4 has no path for it (not posted), plain has
      auto [off, off_e] = alarm(2, 55 * kSecond);
      off.type = AlarmType::tag_offline;
      up.on_alarm(55 * kSecond, off, off_e);
      PermitRecord p = permit();
      p.status = PermitStatus::signed_;
      p.history.push_back({100 * kSecond, "signed"});
      up.on_permit(100 * kSecond, p, "signed");
      p.status = PermitStatus::accepted;
      p.history.push_back({2 * kHour, "accepted"});
      up.on_permit(2 * kHour, p, "accepted");
      ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
      const Uplink::Stats s = up.stats();
      EXPECT_EQ(s.rejected, 0u) << up.last_error();
      EXPECT_EQ(s.duplicates, 0u);
      // base data (persons, zones), 4 position batches (0, 30, 60, 90 s), 2 alarms, 2 permits
      EXPECT_EQ(s.queued, 2u + 4u + 2u + 2u);
      EXPECT_EQ(s.skipped, std::string(profile) == "aq3064-sm4" ? 1u : 0u);
      const Json batches = pf.batches();
      EXPECT_EQ(unique_keys(batches).size(), s.sent);
      EXPECT_EQ(batches.size(), s.queued - s.skipped);
    }
    const Json v = pf.verdict();
    EXPECT_EQ(v["records"]["position"], 8);
    EXPECT_EQ(v["records"]["person"], 3);
    EXPECT_EQ(v["records"]["zone"], 1);
    EXPECT_EQ(v["records"]["person_alarm"], 1);
    EXPECT_EQ(v["records"].contains("other_alarm"), std::string(profile) == "plain");
    EXPECT_EQ(v["records"]["permit"], 2);
    EXPECT_EQ(v["malformed"], 0) << v["findings"].dump(1);
    EXPECT_EQ(v["PL-11"]["passed"], true) << v["PL-11"].dump();
    EXPECT_EQ(v["PL-11"]["max_gap_s"], 30.0);
    EXPECT_EQ(v["PL-11"]["people"], 2);
    EXPECT_EQ(v["SO-09"]["passed"], true) << v["SO-09"].dump();
    EXPECT_EQ(v["SO-09"]["permits"]["W1"]["signed"], true);
    EXPECT_EQ(v["SO-09"]["permits"]["W1"]["accepted"], true);
    const std::string page = pf.get("/");
    EXPECT_NE(page.find("模拟园区平台 Mock park platform"), std::string::npos);
    EXPECT_NE(page.find("PASS 通过"), std::string::npos);
    // the section live --platform-verdict adds to the report: the session's permit W1 was signed and accepted
    PermitRecord w1 = permit();
    w1.history.push_back({100 * kSecond, "signed"});
    w1.history.push_back({2 * kHour, "accepted"});
    nlohmann::ordered_json section;
    std::string md, err;
    ASSERT_TRUE(uplink::platform_report_section(pf.url() + "/verdict", {w1}, section, md, err)) << err;
    EXPECT_EQ(section["PL-11"]["passed"], true);
    EXPECT_EQ(section["SO-09"]["passed"], true) << section["SO-09"].dump();
    EXPECT_EQ(section["SO-09"]["session_permits_checked"], 1);
    EXPECT_NE(md.find("## 园区平台 Park platform"), std::string::npos);
    EXPECT_NE(md.find("| SO-09 作业票签发、验收时上报 | 通过 PASS |"), std::string::npos) << md;
    EXPECT_EQ(pf.stop(), 0);
  }
}

// The platform answers its busy code twice, then stores two batches and loses the answers; the
// uplink sends those again and the platform answers its own "duplicate" code: delivered, once.
TEST(Platform, PL11_BusyAndLostAnswersThenDuplicateCodeNothingLostNothingTwice) {
  const fs::path dir = test_dir("faults");
  PlatformProcess pf(dir, "aq3064-sm4", credentials_file(dir, kCreds), {"--fail-first", "2", "--lose-answers", "2"});
  ASSERT_GT(pf.port(), 0);
  Uplink up(test_site(), WallClock{}, options(pf, dir, "aq3064-sm4", kCreds));
  for (int i = 1; i <= 6; ++i) {
    auto [a, e] = alarm(i, i * kSecond);
    up.on_alarm(i * kSecond, a, e);
  }
  ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
  const Uplink::Stats s = up.stats();
  EXPECT_EQ(s.queued, 8u);  // persons, zones, 6 alarms
  EXPECT_EQ(s.sent, 8u);
  EXPECT_EQ(s.duplicates, 2u);
  // 2 busy answers; a lost answer on a kept-alive connection may be retried at once inside the
  // same attempt (http_client.h), so it need not count as a failed attempt
  EXPECT_GE(s.attempts_failed, 2u);
  const Json batches = pf.batches();
  EXPECT_EQ(batches.size(), 8u);
  EXPECT_EQ(unique_keys(batches).size(), 8u);
  const Json v = pf.verdict();
  EXPECT_EQ(v["answers"]["busy"], 2);
  EXPECT_EQ(v["answers"]["lost"], 2);
  EXPECT_EQ(v["answers"]["duplicate"], 2);
  EXPECT_EQ(v["records"]["person_alarm"], 6);
}

std::string bundled_text(const std::string& from, const std::string& to, const std::string& from2 = "", const std::string& to2 = "") {
  std::ifstream in(std::string(PLANTTWIN_SOURCE_DIR) + "/profiles/uplink/aq3064-sm4.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  for (auto [f, r] : {std::pair{from, to}, std::pair{from2, to2}}) {
    if (f.empty()) continue;
    const auto at = t.find(f);
    EXPECT_NE(at, std::string::npos) << f;
    if (at != std::string::npos) t.replace(at, f.size(), r);
  }
  return t;
}

// A wrong app secret (refused by the signature), a wrong key alone (profile without signature: the
// body does not open) and a wrong canonical string (signature): the platform stores nothing and
// answers a retry code, so every batch stays in the outbox; with the right set-up, a new Uplink on
// the same outbox delivers each batch once.
TEST(Platform, PL11_WrongKeyOrSignatureKeepsEverythingUntilFixed) {
  const std::string sig_line = "  signature: hmac-sm3      # key: the app secret";
  const std::string sig_header = "    X-Signature: \"{signature}\"\n";
  const std::string canon = "  string: \"{app_id}\\n{timestamp}\\n{nonce}\\n{path}\\n{body}\"";
  struct Case {
    const char* name;
    std::string platform_profile, uplink_profile;  // "" : the bundled aq3064-sm4
    uplink::PlatformCredentials uplink_creds;
    const char* refused_as;
  } cases[] = {
      {"wrong-secret", "", "", {"APP-0001", "not-the-secret"}, "bad_credentials"},
      {"wrong-key", bundled_text(sig_line, "  signature: none", sig_header, ""), bundled_text(sig_line, "  signature: none", sig_header, ""),
       {"APP-0001", "not-the-secret"}, "bad_body"},
      {"wrong-signature", "", bundled_text(canon, "  string: \"{app_id}{timestamp}{body}\""), kCreds, "bad_credentials"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path dir = test_dir(std::string("refused-") + c.name);
    const std::string pprof = c.platform_profile.empty() ? "aq3064-sm4" : write(dir / "platform.yaml", c.platform_profile);
    const std::string uprof = c.uplink_profile.empty() ? "aq3064-sm4" : write(dir / "uplink.yaml", c.uplink_profile);
    PlatformProcess pf(dir, pprof, credentials_file(dir, kCreds));
    ASSERT_GT(pf.port(), 0);
    {
      UplinkOptions o = options(pf, dir, uprof, c.uplink_creds);
      o.base_data = false;
      Uplink up(test_site(), WallClock{}, o);
      for (int i = 1; i <= 3; ++i) {
        auto [a, e] = alarm(i, i * kSecond);
        up.on_alarm(i * kSecond, a, e);
      }
      // refused at least three times (the first batch, retried with back-off), never stored
      for (int i = 0; i < 250 && pf.verdict()["requests"].get<int>() < 3; ++i) std::this_thread::sleep_for(20ms);
      EXPECT_GE(pf.verdict()["answers"][c.refused_as].get<int>(), 3);
      EXPECT_EQ(up.stats().sent, 0u);
      EXPECT_EQ(up.stats().pending, 3u);
      EXPECT_EQ(up.stats().rejected, 0u);
      EXPECT_NE(up.last_error().find("platform code"), std::string::npos) << up.last_error();
    }
    EXPECT_EQ(pf.batches().size(), 0u);
    const Json refused = pf.verdict()["refused"];
    ASSERT_FALSE(refused.empty());
    EXPECT_EQ(refused[0]["answer"], c.refused_as);
    // fixed: the right profile and secret on the same outbox
    {
      UplinkOptions o = options(pf, dir, pprof, kCreds);
      o.base_data = false;
      Uplink up(test_site(), WallClock{}, o);
      ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
      EXPECT_EQ(up.stats().sent, 3u);
    }
    const Json batches = pf.batches();
    EXPECT_EQ(batches.size(), 3u);
    EXPECT_EQ(unique_keys(batches).size(), 3u);
  }
}

// A position 45 s after the person's previous one is late (PL-11 fails); a permit without its
// ticket type is malformed: the platform answers its fatal "invalid" code, the uplink keeps the
// batch as rejected, and the page and the verdict show both.
TEST(Platform, PL11_SO09_LateAndMalformedRecordsAreReported) {
  const fs::path dir = test_dir("findings");
  PlatformProcess pf(dir, "aq3064-sm4", credentials_file(dir, kCreds));
  ASSERT_GT(pf.port(), 0);
  {
    UplinkOptions o = options(pf, dir, "aq3064-sm4", kCreds);
    o.base_data = false;
    Uplink up(test_site(), WallClock{}, o);
    up.on_fix(0, "P01", "T01", 10, 10, 0, "1");
    up.tick(0);
    up.on_fix(30 * kSecond, "P02", "T02", 10, 10, 0, "1");  // P01 silent at 30 s
    up.tick(30 * kSecond);
    up.on_fix(45 * kSecond, "P01", "T01", 10, 10, 0, "1");
    up.tick(45 * kSecond);
    up.tick(60 * kSecond);
    PermitRecord p = permit("juggling");  // no AQ2 Table A.2 code
    p.status = PermitStatus::signed_;
    p.history.push_back({100 * kSecond, "signed"});
    up.on_permit(100 * kSecond, p, "signed");
    ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
    EXPECT_EQ(up.stats().rejected, 1u);
    EXPECT_NE(up.last_error().find("4220"), std::string::npos) << up.last_error();
  }
  const Json v = pf.verdict();
  EXPECT_EQ(v["late"], 1);
  EXPECT_EQ(v["PL-11"]["passed"], false);
  EXPECT_EQ(v["PL-11"]["max_gap_s"], 45.0);  // P01 at 0 s (batch at 0 s), then at 45 s (batch at 60 s)
  EXPECT_EQ(v["malformed"], 1);
  EXPECT_EQ(v["answers"]["invalid"], 1);
  bool late_found = false, malformed_found = false;
  for (const Json& f : v["findings"]) {
    late_found = late_found || (f["late"] == true && f["what"].get<std::string>().find("P01") != std::string::npos);
    malformed_found = malformed_found || (f["kind"] == "permit" && f["what"].get<std::string>().find("missing TICKETTYPE") != std::string::npos);
  }
  EXPECT_TRUE(late_found) << v["findings"].dump(1);
  EXPECT_TRUE(malformed_found) << v["findings"].dump(1);
  // in the report: W1 arrived signed; W2, signed and accepted in the session, never arrived
  PermitRecord w1 = permit("juggling"), w2 = permit();
  w1.history.push_back({100 * kSecond, "signed"});
  w2.id = "W2";
  w2.history.push_back({100 * kSecond, "signed"});
  w2.history.push_back({2 * kHour, "accepted"});
  nlohmann::ordered_json section;
  std::string md, err;
  const std::string verdict_file = write(dir / "verdict.json", v.dump());
  ASSERT_TRUE(uplink::platform_report_section(verdict_file, {w1, w2}, section, md, err)) << err;
  EXPECT_EQ(section["PL-11"]["passed"], false);
  EXPECT_EQ(section["SO-09"]["passed"], false);
  EXPECT_EQ(section["SO-09"]["missing"], Json::array({"W2 signed 签发", "W2 accepted 验收"}));
  EXPECT_NE(md.find("不通过 FAIL"), std::string::npos);
  EXPECT_FALSE(uplink::platform_report_section((dir / "none.json").string(), {}, section, md, err));
  const std::string page = pf.get("/");
  EXPECT_NE(page.find("迟报与不合规 Late and malformed"), std::string::npos);
  EXPECT_NE(page.find("missing TICKETTYPE"), std::string::npos);
  EXPECT_NE(page.find("FAIL 不通过"), std::string::npos);
}

// fuzz_uplink_answer found it: a verdict whose PL-11 has no "passed" was read out of range (an
// assertion in a Debug build, undefined behaviour in Release). Every malformed verdict is refused
// with the file and the reason; a well-formed one without "passed" is judged as nothing to judge.
TEST(Platform, PL11_SO09_MalformedVerdictsAreRefusedNeverRead) {
  const fs::path dir = fs::temp_directory_path() / ("planttwin-verdict-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  PermitRecord w1 = permit();
  w1.history.push_back({100 * kSecond, "signed"});
  const std::vector<std::string> bad = {
      R"({"PL-11": [], "SO-09": {}})",
      R"({"PL-11": {}, "SO-09": "yes"})",
      R"({"profile": 7, "PL-11": {}, "SO-09": {}})",
      R"({"PL-11": {"passed": "yes"}, "SO-09": {}})",
      R"({"PL-11": {"positions": "many"}, "SO-09": {}})",
      R"({"PL-11": {}, "SO-09": {"passed": 1}})",
      R"({"PL-11": {}, "SO-09": {"permits": {"W1": ["signed"]}}})",
      // counts that no integer holds (fuzz_uplink_answer, 2026-12-03: 3.8e52 converted to int, UB)
      R"({"PL-11": {"positions": 3.7777777777777777e52, "passed": true}, "SO-09": {}})",
      R"({"batches": 2.5, "PL-11": {}, "SO-09": {}})",
      R"({"late": -1, "PL-11": {}, "SO-09": {}})",
      R"({"PL-11": {"people": 1e300}, "SO-09": {}})",
      R"([1, 2])"};
  int n = 0;
  for (const std::string& text : bad) {
    const std::string f = write(dir / ("bad-" + std::to_string(++n) + ".json"), text);
    nlohmann::ordered_json section;
    std::string md, err;
    EXPECT_FALSE(uplink::platform_report_section(f, {w1}, section, md, err)) << text;
    EXPECT_NE(err.find(f), std::string::npos) << text << ": " << err;
    EXPECT_NE(err.find("not a platform verdict"), std::string::npos) << text << ": " << err;
  }
  // the fuzzer's input, trimmed: counts present, "passed" absent from PL-11
  const std::string f = write(dir / "no-passed.json", R"({"profile": "plain", "batches": 4, "PL-11": {"people": 3, "max_gap_s": 1.0},
                                                        "SO-09": {"permits": {"W1": {"signed": true}}, "passed": true}})");
  nlohmann::ordered_json section;
  std::string md, err;
  ASSERT_TRUE(uplink::platform_report_section(f, {w1}, section, md, err)) << err;
  EXPECT_NE(md.find("| PL-11 位置上报间隔 ≤ 30 s | — 无数据 nothing to judge |"), std::string::npos) << md;
  EXPECT_EQ(section["SO-09"]["passed"], true);
  fs::remove_all(dir);
}

// The whole path an acceptance day takes (docs/platform.md): `live --report DIR --platform-verdict
// FILE` puts the platform's verdict into report.json, report.md and report.html (a section before
// the provenance, linked from the contents line).
TEST(Platform, PL11_SO09_LiveWritesTheVerdictIntoReportJsonMarkdownAndHtml) {
  const fs::path dir = test_dir("live-verdict");
  const std::string verdict = write(dir / "verdict.json", R"({"profile": "aq3064-sm4", "batches": 12, "malformed": 1, "late": 2,
      "PL-11": {"passed": false, "positions": 480, "people": 4, "max_gap_s": 45.0, "max_gap_allowed_s": 30.0, "late": 2, "malformed": 1},
      "SO-09": {"permits": {}}})");
  const std::string report = (dir / "report").string();
  const std::string cmd = kBinary + " live " + PLANTTWIN_SOURCE_DIR + "/scenarios/live/vendor-start.yaml --bind 'tcp://127.0.0.1:*' --duration 1s --report " +
                          report + " --platform-verdict " + verdict + " > " + (dir / "out.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  std::ifstream log(dir / "out.txt");
  std::stringstream ls;
  ls << log.rdbuf();
  ASSERT_NE(WEXITSTATUS(rc), 2) << ls.str();
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const Json j = Json::parse(read(fs::path(report) / "report.json"));
  EXPECT_EQ(j["platform"]["PL-11"]["passed"], false);
  EXPECT_EQ(j["platform"]["batches"], 12);
  EXPECT_TRUE(j["platform"]["SO-09"]["passed"].is_null()) << j["platform"]["SO-09"].dump();  // no permit signed in the session: nothing to judge
  EXPECT_NE(read(fs::path(report) / "report.md").find("| PL-11 位置上报间隔 ≤ 30 s | 不通过 FAIL |"), std::string::npos);
  const std::string html = read(fs::path(report) / "report.html");
  const std::size_t platform = html.find("<section class=\"sec\" id=\"platform\">");
  const std::size_t provenance = html.find("<section class=\"sec\" id=\"provenance\">");
  ASSERT_NE(platform, std::string::npos);
  ASSERT_NE(provenance, std::string::npos);
  EXPECT_LT(platform, provenance);
  const std::string sec = html.substr(platform, provenance - platform);
  EXPECT_NE(sec.find("<td>PL-11</td>"), std::string::npos) << sec;
  EXPECT_NE(sec.find("<td class=\"fail\">"), std::string::npos) << sec;        // PL-11: a 45 s gap
  EXPECT_NE(sec.find("<td class=\"untested\">"), std::string::npos) << sec;    // SO-09: nothing to judge
  EXPECT_NE(sec.find("480 / 4 / 45 s / 30 s / 2 / 1"), std::string::npos) << sec;
  EXPECT_NE(sec.find(html_escape(verdict)), std::string::npos) << sec;
  EXPECT_NE(html.find("<a href=\"#platform\">"), std::string::npos);
  EXPECT_EQ(html.find("id=\"platform\"", platform + std::string("<section class=\"sec\" id=\"platform\">").size()), std::string::npos);  // once
}

// `run --uplink` (docs/platform.md "From a run"): the acceptance suite's own scenario feeds the mock
// platform through the SM4 profile — positions of its four tagged people, its permits at signing
// and acceptance, its alarms — and `--platform-verdict` puts the platform's verdict into the run's
// report: PL-11 and SO-09 pass, nothing pending, nothing refused.
TEST(Platform, PL11_SO09_RunFeedsThePlatformAndItsVerdictReachesTheReport) {
  const fs::path dir = test_dir("run-uplink");
  PlatformProcess pf(dir, "aq3064-sm4", credentials_file(dir, kCreds));
  ASSERT_GT(pf.port(), 0);
  const std::string report = (dir / "report").string();
  const std::string cmd = kBinary + " run " + PLANTTWIN_SOURCE_DIR + "/scenarios/acceptance/so04-lifecycle.yaml --report " + report + " --uplink " +
                          pf.url() + " --uplink-profile aq3064-sm4 --uplink-credentials " + credentials_file(dir, kCreds) + " --uplink-outbox " +
                          (dir / "outbox.sqlite").string() + " --uplink-company-code 91330000TEST0001 --uplink-company-name 测试化工有限公司 --uplink-park-code PARK01" +
                          " --uplink-wait 60s --platform-verdict " + pf.url() + "/verdict > " +
                          (dir / "out.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir / "out.txt");
  std::stringstream ls;
  ls << log.rdbuf();
  ASSERT_TRUE(WIFEXITED(rc));
  ASSERT_EQ(WEXITSTATUS(rc), 0) << ls.str();
  EXPECT_NE(ls.str().find(" 0 pending in the outbox, 0 refused by the platform"), std::string::npos) << ls.str();
  std::ifstream in(fs::path(report) / "report.json");
  const Json j = Json::parse(in);
  ASSERT_TRUE(j.contains("platform")) << ls.str();
  EXPECT_EQ(j["platform"]["PL-11"]["passed"], true) << j["platform"].dump();
  EXPECT_EQ(j["platform"]["PL-11"]["people"], 4) << j["platform"].dump();
  EXPECT_EQ(j["platform"]["SO-09"]["passed"], true) << j["platform"].dump();
  EXPECT_GE(j["platform"]["SO-09"]["session_permits_checked"].get<int>(), 2) << j["platform"].dump();
  EXPECT_EQ(j["platform"]["malformed"], 0) << j["platform"].dump();
  const Json v = pf.verdict();
  EXPECT_GT(v["records"]["position"].get<int>(), 0);
  EXPECT_GT(v["records"]["permit"].get<int>(), 0);
  std::ifstream hin(fs::path(report) / "report.html");
  std::stringstream hs;
  hs << hin.rdbuf();
  EXPECT_NE(hs.str().find("<section class=\"sec\" id=\"platform\">"), std::string::npos);
  EXPECT_EQ(pf.stop(), 0);

  // one scenario only, and the verdict needs a report
  const std::string two = kBinary + " run " + PLANTTWIN_SOURCE_DIR + "/scenarios/acceptance/so04-lifecycle.yaml " + PLANTTWIN_SOURCE_DIR +
                          "/scenarios/acceptance/so04-validity.yaml --uplink http://127.0.0.1:1 > /dev/null 2>&1";
  const int rc2 = std::system(two.c_str());
  ASSERT_TRUE(WIFEXITED(rc2));
  EXPECT_EQ(WEXITSTATUS(rc2), 2);
  const std::string no_report = kBinary + " run " + PLANTTWIN_SOURCE_DIR + "/scenarios/acceptance/so04-lifecycle.yaml --platform-verdict " +
                                (dir / "v.json").string() + " > /dev/null 2>&1";
  const int rc3 = std::system(no_report.c_str());
  ASSERT_TRUE(WIFEXITED(rc3));
  EXPECT_EQ(WEXITSTATUS(rc3), 2);
  // an --uplink-* option without --uplink would be ignored: refused, naming it, by run and by live
  for (const std::string& command : {std::string(" run ") + PLANTTWIN_SOURCE_DIR + "/scenarios/acceptance/so04-lifecycle.yaml",
                                     std::string(" live ") + PLANTTWIN_SOURCE_DIR + "/scenarios/live/vendor-start.yaml --bind 'tcp://127.0.0.1:*' --duration 1s"}) {
    const std::string cmd4 = kBinary + command + " --uplink-profile aq3064-sm4 > " + (dir / "alone.txt").string() + " 2>&1";
    const int rc4 = std::system(cmd4.c_str());
    ASSERT_TRUE(WIFEXITED(rc4));
    EXPECT_EQ(WEXITSTATUS(rc4), 2) << command;
    std::ifstream alone(dir / "alone.txt");
    std::stringstream as;
    as << alone.rdbuf();
    EXPECT_NE(as.str().find("--uplink-profile 需要 --uplink needs --uplink URL"), std::string::npos) << as.str();
  }
}

// PL-11: --uplink-position-every sets the engine time between position batches; the platform's own
// cadence check sees it. 10 s: positions at most 10 s apart, PL-11 passed. 45 s: beyond the 30 s
// PL-11 allows, taken (to rehearse the platform's lateness check) with a note, and the platform
// finds the positions late. Bad values and the option without --uplink exit 2, naming it.
TEST(Platform, PL11_UplinkPositionEverySetsTheCadenceThePlatformChecks) {
  const fs::path dir = test_dir("position-every");
  const std::string scenario = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/acceptance/so04-lifecycle.yaml";
  auto run = [&](const std::string& url, const std::string& every, const std::string& name) {
    const std::string cmd = kBinary + " run " + scenario + " --uplink " + url + " --uplink-profile aq3064-sm4 --uplink-credentials " +
                            credentials_file(dir, kCreds) + " --uplink-outbox " + (dir / (name + ".sqlite")).string() +
                            " --uplink-company-code 91330000TEST0001 --uplink-wait 60s --uplink-position-every " + every + " > " +
                            (dir / (name + ".txt")).string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream log(dir / (name + ".txt"));
    std::stringstream ls;
    ls << log.rdbuf();
    return std::pair{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ls.str()};
  };
  {
    fs::create_directories(dir / "p10");  // each platform its own store
    PlatformProcess pf(dir / "p10", "aq3064-sm4", credentials_file(dir, kCreds));
    ASSERT_GT(pf.port(), 0);
    const auto [rc, out] = run(pf.url(), "10s", "every10");
    ASSERT_EQ(rc, 0) << out;
    const Json v = pf.verdict();
    EXPECT_GT(v["PL-11"]["positions"].get<int>(), 4 * 20) << v.dump();  // 4 people, 300 s, one every 10 s
    EXPECT_LE(v["PL-11"]["max_gap_s"].get<double>(), 10.0 + 1e-9) << v.dump();
    EXPECT_GE(v["PL-11"]["max_gap_s"].get<double>(), 10.0 - 1e-9) << v.dump();
    EXPECT_EQ(v["PL-11"]["passed"], true) << v.dump();
    EXPECT_EQ(out.find("超过 PL-11"), std::string::npos) << out;
    EXPECT_EQ(pf.stop(), 0);
  }
  {
    fs::create_directories(dir / "p45");
    PlatformProcess pf(dir / "p45", "aq3064-sm4", credentials_file(dir, kCreds));
    ASSERT_GT(pf.port(), 0);
    const auto [rc, out] = run(pf.url(), "45s", "every45");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("--uplink-position-every 45s: 超过 PL-11 要求的 30 s"), std::string::npos) << out;
    EXPECT_NE(out.find("the platform will find the positions late"), std::string::npos) << out;
    const Json v = pf.verdict();
    EXPECT_GE(v["PL-11"]["max_gap_s"].get<double>(), 45.0 - 1e-9) << v.dump();
    EXPECT_GT(v["PL-11"]["late"].get<int>(), 0) << v.dump();
    EXPECT_EQ(v["PL-11"]["passed"], false) << v.dump();
    EXPECT_EQ(pf.stop(), 0);
  }
  // refused before anything is sent: not a duration, below 1 s, above 1 h (port 1: nobody listens)
  for (const std::string bad : {"0s", "500ms", "2h", "soon", "-5s"}) {
    const auto [rc, out] = run("http://127.0.0.1:1", bad, "bad");
    EXPECT_EQ(rc, 2) << bad << ": " << out;
    EXPECT_NE(out.find("--uplink-position-every " + bad + ": 应为 1s 至 1h 的时长 must be a duration from 1s to 1h"), std::string::npos) << out;
  }
  // without --uplink it would be ignored: refused, naming it
  const std::string alone = kBinary + " run " + scenario + " --uplink-position-every 10s > " + (dir / "alone.txt").string() + " 2>&1";
  const int rc = std::system(alone.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(dir / "alone.txt");
  std::stringstream as;
  as << in.rdbuf();
  EXPECT_NE(as.str().find("--uplink-position-every 需要 --uplink needs --uplink URL"), std::string::npos) << as.str();
}

// --tls: the platform serves https; the uplink verifies it against the certificate (its own CA)
TEST(Platform, PL11_RoundTripOverHttps) {
  if (std::system("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "the openssl command is missing (Debian package openssl)";
  const fs::path dir = test_dir("https");
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string make = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
                           "-addext subjectAltName=IP:127.0.0.1 -days 2 -keyout " + key + " -out " + cert + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(make.c_str()), 0);
  PlatformProcess pf(dir, "aq3064-sm4", credentials_file(dir, kCreds), {"--tls", cert, key});
  ASSERT_GT(pf.port(), 0);
  {
    UplinkOptions o = options(pf, dir, "aq3064-sm4", kCreds);
    o.url = "https://127.0.0.1:" + std::to_string(pf.port());
    o.ca_file = cert;
    Uplink up(test_site(), WallClock{}, o);
    auto [a, e] = alarm(1, kSecond);
    up.on_alarm(kSecond, a, e);
    ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
    EXPECT_EQ(up.stats().sent, 3u);  // persons, zones, the alarm
  }
  EXPECT_EQ(pf.stop(), 0);
}

TEST(Platform, ABadProfileExits2NamingFileLineAndKey) {
  const fs::path dir = test_dir("bad-profile");
  const std::string bad = write(dir / "bad.yaml", bundled_text("  cipher: sm4-cbc", "  cipher: rot13"));
  const std::string cmd = kBinary + " platform --profile " + bad + " --credentials " + credentials_file(dir, kCreds) + " 2> " +
                          (dir / "err.txt").string();
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(dir / "err.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(bad + ":"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find(": key 'envelope.cipher': 'rot13'"), std::string::npos) << ss.str();
}

}  // namespace
}  // namespace planttwin
