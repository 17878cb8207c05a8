// live --uplink: engine outputs and fixes reach the park-platform uplink's outbox from the loop
// (PL-11 through H-03). No platform is listening here: batches wait in the outbox.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <sqlite3.h>

#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

#ifdef PLANTTWIN_HAS_UPLINK

TEST(UplinkLive, H03_AlarmsAndFixesOfALiveSessionAreQueuedForThePlatform) {
  const fs::path d = fs::temp_directory_path() / ("planttwin-hil-uplink-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  LiveOptions o;
  o.uplink.url = "http://127.0.0.1:9/platform";  // discard port: nobody answers
  o.uplink.outbox = (d / "outbox.sqlite").string();
  o.uplink.company_code = "91370300TEST0001";
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  c.send("fix", fix("T4", 70, 70));
  c.send("sos", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}});
  ASSERT_TRUE(c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "sos"; }).has_value());
  ASSERT_TRUE(c.next("stats", 2000ms).has_value());  // a tick of the uplink after the fix
  s.stop();
  EXPECT_TRUE(s.run_ok()) << s.run_error();
  const LiveStats& st = s.loop().live_stats();
  EXPECT_GE(st.uplink_queued, 2u);  // the crossing and the SOS at least
  EXPECT_EQ(st.uplink_sent, 0u);
  EXPECT_GE(st.uplink_pending, st.uplink_queued);
  EXPECT_TRUE(fs::exists(d / "outbox.sqlite"));
  // PL-11: the enterprise's code given on the command line travels in every batch
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((d / "outbox.sqlite").string().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT body FROM batch", -1, &q, nullptr), SQLITE_OK);
  int batches = 0, with_code = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const std::string body(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
    ++batches;
    if (body.find("91370300TEST0001") != std::string::npos) ++with_code;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  EXPECT_GE(batches, 2);
  EXPECT_EQ(with_code, batches);
  fs::remove_all(d);
}

// A bad uplink set-up stops the session at start as bad input, naming what is wrong: a URL
// scheme other than http / https, a malformed header, an unreadable CA file.
TEST(UplinkLive, H03_ABadUplinkSetUpIsRefusedAsBadInput) {
  struct Case {
    std::string url, header, ca, expect;
  };
  for (const Case& c : {Case{"ftp://platform.example/", "", "", "--uplink"},
                        Case{"https://platform.example/", "Bad Name: x", "", "--uplink-header"},
                        Case{"https://platform.example/", "", "/nonexistent/ca.pem", "/nonexistent/ca.pem"}}) {
    SCOPED_TRACE(c.url + " " + c.header + " " + c.ca);
    LiveOptions o;
    o.uplink.url = c.url;
    if (!c.header.empty()) o.uplink.headers = {c.header};
    o.uplink.ca_file = c.ca;
    o.uplink.outbox = (fs::temp_directory_path() / ("planttwin-hil-uplink-bad-" + std::to_string(::getpid()) + ".sqlite")).string();
    o.duration = 100 * kMillisecond;
    LiveSession s(o);
    s.stop();
    EXPECT_FALSE(s.run_ok());
    EXPECT_NE(s.run_error().find(c.expect), std::string::npos) << s.run_error();
    fs::remove(o.uplink.outbox);
  }
}

#endif

}  // namespace
}  // namespace planttwin::hil::test
