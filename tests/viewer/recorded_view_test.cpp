// H-04: "a recorded run and a live one look the same" to the viewer. A live session's recording
// (docs/recording.md) is replayed once (hardware-in-loop), every input its engine received is
// logged, and the viewer's timeline queues them into its own engine: it decides exactly what the
// replay decided, at every time it is asked, backwards too; and `planttwin view REC.ptrec` draws it.
#include <gtest/gtest.h>

#ifdef PLANTTWIN_TEST_HAS_HIL
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <chrono>
#include <future>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/live.h"
#include "hardware-in-loop/recording.h"
#include "tests/hil/live_fixture.h"
#include "scenarios/loader.h"
#include "tests/viewer/timeline_fixtures.h"
#include "viewer/timeline.h"

namespace planttwin::viewer {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kStartUs = 1'800'000'000'000'000;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A 40-second session of the vendor-start yard: three operators stand together (a gathering after
// the 5 s dwell), the visitor walks into the tank farm (a fence alarm), an operator presses SOS.
std::string write_session(const std::string& name) {
  const fs::path dir = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "viewer";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  hil::RecordingHeader h;
  h.product_version = "test";
  h.start_unix_us = kStartUs;
  h.utc_offset_min = 480;
  h.solve_window = 50 * kMillisecond;
  h.scenario_path = PLANTTWIN_SOURCE_DIR "/scenarios/live/vendor-start.yaml";
  h.scenario_text = read_text(h.scenario_path);
  h.scenario_sha256 = sha256_hex(h.scenario_text);
  hil::RecordingWriter w;
  std::string err;
  EXPECT_TRUE(w.open(path, h, err)) << err;
  auto fix = [&](Micros t, const char* tag, double x, double y) {
    const std::int64_t ts = kStartUs / 1000 + t / kMillisecond;
    const std::string body = nlohmann::json{{"v", 1}, {"tag", tag}, {"ts", ts}, {"x", x}, {"y", y}, {"floor", 1}}.dump();
    w.input(t, ts, "fix", body);
  };
  for (int s = 1; s <= 40; ++s) {
    const Micros t = s * kSecond;
    fix(t + 1000, "T1", 20, 20);
    fix(t + 2000, "T2", 22, 20);
    fix(t + 3000, "T3", 21, 22);
    fix(t + 4000, "T4", 30 + 1.5 * s, 30 + 1.5 * s);  // into the tank farm (60..90) at about 20 s
    if (s == 25) w.input(t + 5000, kStartUs / 1000 + 25000, "sos", nlohmann::json{{"v", 1}, {"tag", "T2"}, {"ts", kStartUs / 1000 + 25000}}.dump());
    w.reached(t + 500 * kMillisecond);
  }
  w.end(41 * kSecond);
  EXPECT_TRUE(w.flush()) << w.error();
  w.close();
  return path;
}

TEST(RecordedView, H04_ARecordingPlaysInTheViewerExactlyAsReplayDecides) {
  const std::string rec = write_session("session.ptrec");
  Scenario sc;
  RunResult r;
  hil::LiveSummary summary;
  std::vector<Input> inputs;
  std::string err;
  ASSERT_TRUE(hil::replay_recording(rec, sc, r, summary, err, &inputs)) << err;
  ASSERT_FALSE(inputs.empty());
  for (const char* type : {"gathering", "boundary_crossing", "sos"})
    EXPECT_NE(r.canonical_stream.find(type), std::string::npos) << type << " not in\n" << r.canonical_stream;
  sc.duration = summary.end_t;

  TimelineOptions o;
  auto tl = Timeline::create_recorded(sc, inputs, o);
  ASSERT_TRUE(tl);
  EXPECT_TRUE(tl->recorded());
  EXPECT_FALSE(tl->estimates_differ());      // hardware positions: nothing to compare with
  EXPECT_EQ(tl->oracle_alarms(), nullptr);
  tl->seek(12 * kSecond);
  // P1 stands where T1 reported
  const auto& people = tl->snapshot().people;
  auto p1 = std::find_if(people.begin(), people.end(), [](const auto& p) { return p.id == "P1"; });
  ASSERT_NE(p1, people.end());
  EXPECT_TRUE(p1->has_fix);
  EXPECT_DOUBLE_EQ(p1->pos.x, 20);
  EXPECT_DOUBLE_EQ(p1->pos.y, 20);
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  // backwards (a re-run from the recorded inputs) and forwards again: the same
  tl->seek(7 * kSecond);
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  // playing in the background as the window does
  o.background_steps = true;
  auto bg = Timeline::create_recorded(sc, inputs, o);
  bg->set_speed(100);
  bg->play();
  for (int i = 0; i < 100000 && (bg->playing() || bg->busy()); ++i) {
    bg->tick(1.0 / 60);
    if (bg->busy()) std::this_thread::sleep_for(std::chrono::microseconds(200));  // as a frame would take
  }
  EXPECT_FALSE(bg->busy());
  EXPECT_EQ(bg->now(), sc.duration);
  EXPECT_EQ(bg->canonical_stream(), r.canonical_stream);
}

// H-04 / H-01: a backward jump in a recording restores the latest checkpoint (which points into the
// recorded inputs instead of copying them) and decides exactly what a fresh replay to that time does.
TEST(RecordedView, H04_H01_ARecordingJumpsBackFromCheckpoints) {
  const std::string rec = write_session("session-jumps.ptrec");
  Scenario sc;
  RunResult r;
  hil::LiveSummary summary;
  std::vector<Input> inputs;
  std::string err;
  ASSERT_TRUE(hil::replay_recording(rec, sc, r, summary, err, &inputs)) << err;
  sc.duration = summary.end_t;
  TimelineOptions o;
  o.checkpoint_every = 3 * kSecond;
  auto fresh_end = Timeline::create_recorded(sc, inputs, o);
  fresh_end->seek(sc.duration);
  ASSERT_EQ(fresh_end->canonical_stream(), r.canonical_stream);
  auto tl = Timeline::create_recorded(sc, inputs, o);
  tl->seek(sc.duration);
  EXPECT_GT(tl->checkpoint_count(), 10u);
  const auto times = test::random_times(sc.duration, 24, 41);
  for (size_t i = 0; i < times.size(); ++i) {
    tl->seek(times[i]);
    if (i % 3 == 0) {
      auto fresh = Timeline::create_recorded(sc, inputs, o);
      fresh->seek(times[i]);
      test::expect_same(*tl, *fresh, "recording at " + std::to_string(times[i]));
    }
  }
  tl->seek(sc.duration);
  test::expect_same(*tl, *fresh_end, "recording at the end after the jumps");
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  EXPECT_EQ(tl->reruns(), 0);
  EXPECT_GT(tl->restores(), 8);
}

TEST(RecordedView, H04_ViewDrawsARecording) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  const std::string rec = write_session("session-view.ptrec");
  const fs::path png = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "viewer" / "recording-30s.png";
  fs::remove(png);
  const std::string out = (fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "viewer" / "recording-30s.out").string();
  const int rc = std::system(("xvfb-run -a -s \"-screen 0 1280x800x24\" " PLANTTWIN_COMMAND " view " + rec +
                              " --at 30s --screenshot " + png.string() + " > " + out + " 2>&1")
                                 .c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << read_text(out);
  EXPECT_TRUE(fs::exists(png));
  EXPECT_NE(read_text(out).find("\"t\": 30.000000"), std::string::npos) << read_text(out);
  // beyond the recording's end is refused like any time outside a scenario
  const int late = std::system((PLANTTWIN_COMMAND " view " + rec + " --at 99s --screenshot /tmp/never.png > /dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(late), 2);
}

// `planttwin live --view`: the viewer's engine follows the live session through its engine calls,
// so it shows what the session decides as it happens; an acknowledgement in the viewer goes to the
// session (which publishes it on the wire) and comes back; at the end both engines agree.
TEST(FollowLive, H04_TheViewerFollowsALiveSessionAndActsThroughIt) {
  auto feed = std::make_shared<LiveFeed>();
  std::promise<Scenario> started;
  auto started_f = started.get_future();
  hil::LiveOptions o;
  o.engine_calls = [feed](const EngineCall& c) { feed->push(c); };
  o.on_start = [&started](const Scenario& s) { started.set_value(s); };
  hil::test::LiveSession s(o);
  ASSERT_EQ(started_f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Scenario ssc = started_f.get();
  auto tl = Timeline::create_following(ssc, feed, [&s](const AlarmAction& a) { s.loop().act(a); }, {});
  ASSERT_TRUE(tl->following());
  tl->play();
  hil::test::TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  auto until = [&](auto pred) {
    for (int i = 0; i < 500; ++i) {
      tl->tick(0.01);
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  c.send("fix", hil::test::fix("T1", 20, 20));
  c.send("sos", nlohmann::json{{"v", 1}, {"tag", "T1"}, {"ts", hil::test::now_unix_ms()}});
  // the viewer sees the alarm the session raised, where T1 is
  ASSERT_TRUE(until([&] { return !tl->snapshot().open_alarms.empty(); })) << "the SOS never reached the viewer";
  const Alarm sos = tl->snapshot().open_alarms.front();
  EXPECT_EQ(sos.type, AlarmType::sos);
  EXPECT_GT(tl->duration(), 0);
  // acknowledged in the viewer: the session applies it and publishes it on the wire ...
  AlarmAction ack;
  ack.kind = AlarmAction::Kind::ack;
  ack.alarm_id = sos.id;
  ack.by = "S1";
  ack.note = "on my way";
  tl->act(ack);
  auto on_wire = c.next("alarm", std::chrono::milliseconds(3000),
                        [&](const nlohmann::json& j) { return j["id"] == sos.id && j["event"] == "acknowledged"; });
  ASSERT_TRUE(on_wire.has_value()) << "the acknowledgement did not reach the session";
  EXPECT_EQ((*on_wire)["by"], "S1");
  // ... and the viewer shows it once it comes back through the feed
  ASSERT_TRUE(until([&] {
    for (const Alarm& a : tl->alarms())
      if (a.id == sos.id && a.acknowledged_at) return true;
    return false;
  }));
  s.stop();
  // after the end, the viewer's engine agrees with the session's, also after a re-run
  tl->tick(0);
  tl->seek(tl->duration());
  EXPECT_EQ(tl->canonical_stream(), s.loop().result().canonical_stream);
  tl->seek(0);
  tl->seek(tl->duration());
  EXPECT_EQ(tl->canonical_stream(), s.loop().result().canonical_stream);
  EXPECT_FALSE(s.loop().result().canonical_stream.empty());
}

}  // namespace
}  // namespace planttwin::viewer
#endif
