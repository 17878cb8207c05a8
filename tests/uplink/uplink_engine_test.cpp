// The uplink fed by a real engine run (acceptance scenarios, truth positions), the way the live
// loop feeds it: every fix, every output through on_output, a tick per fix round.
#include <gtest/gtest.h>

#include <filesystem>

#include "hardware-in-loop/uplink/uplink.h"
#include "scenarios/driver.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/uplink/receiver.h"

namespace planttwin {
namespace {

using test::Receiver;
using Json = nlohmann::json;

struct EngineRun {
  std::size_t alarm_events = 0, fixes = 0;
  AlarmLog alarms;
};

// runs the scenario to its end, feeding `up`; returns what the engine decided
EngineRun run_into(const Scenario& sc, Uplink& up) {
  auto site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, site));
  ScriptDriver driver(sc, engine);
  EngineRun run;
  auto feed_outputs = [&] {
    for (const Output& o : engine.outputs()) up.on_output(engine, o);
    engine.clear_outputs();
  };
  auto submit = [&](Input in) { engine.submit(std::move(in)); };
  for (std::int64_t k = 0;; ++k) {
    const Micros tf = from_seconds(static_cast<double>(k) / sc.fix_rate);
    if (tf > sc.duration) break;
    driver.play_until(tf, submit);
    for (int i : driver.fix_order()) {
      if (driver.tag_index(i) < 0 || !driver.tag_on(i)) continue;
      const TruthPose pose = driver.pose(i, tf);
      const FixInput f = driver.true_fix(i, pose);
      engine.submit({tf, 0, f});
      const PersonDef& p = sc.people[static_cast<size_t>(i)];
      up.on_fix(tf, p.id, p.tag.value_or(""), f.x, f.y, f.z, pose.floor);
      ++run.fixes;
    }
    engine.advance_to(tf);
    feed_outputs();
    up.tick(tf);
  }
  engine.advance_to(sc.duration);
  feed_outputs();
  up.tick(sc.duration);
  run.alarms = engine.alarms();
  for (const Alarm& a : run.alarms) run.alarm_events += a.events.size();
  return run;
}

Scenario load(const std::string& rel) {
  Scenario sc;
  auto err = load_scenario_file(std::string(PLANTTWIN_SOURCE_DIR) + "/" + rel, sc);
  EXPECT_FALSE(err.has_value()) << rel;
  return sc;
}

UplinkOptions options_for(const Scenario& sc, const Receiver& rx, const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(PLANTTWIN_BINARY_DIR) / "test-out" / "uplink";
  std::filesystem::create_directories(dir);
  UplinkOptions o;
  o.url = rx.url();
  o.outbox = (dir / (name + ".sqlite")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(o.outbox + suffix);
  o.backoff_first = 20 * kMillisecond;
  o.backoff_max = 80 * kMillisecond;
  o.idle_poll = 50 * kMillisecond;
  o.company_code = "91370300TEST0001";
  for (const PersonDef& p : sc.people) o.people[p.id] = {p.name, p.category};
  return o;
}

TEST(UplinkEngine, PL11_CanonicalRunEveryAlarmEventAndGatheringArrivesInCgcs2000) {
  Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  ASSERT_TRUE(sc.site.origin.has_value());
  Receiver rx;
  Uplink up(sc.site, sc.clock, options_for(sc, rx, "engine_h01"));
  EngineRun run = run_into(sc, up);
  ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
  std::vector<Json> stored = rx.stored();
  ASSERT_EQ(stored.size(), up.stats().queued);

  std::size_t alarm_batches = 0, gatherings = 0, positions = 0;
  std::map<std::string, std::string> last_position_time;
  for (const Json& b : stored) {
    EXPECT_EQ(b["COORDINATE_SYSTEM"], "CGCS2000");
    EXPECT_EQ(b["COMPANY_CODE"], "91370300TEST0001");
    if (b["kind"] == "alarm") ++alarm_batches;
    if (b["kind"] == "gathering") {
      ++gatherings;
      const Json& r = b["records"][0];
      EXPECT_EQ(r["TABLE"], "AQ3064.3-B.5");
      ASSERT_GE(r["ALARM_AREA"].size(), 3u);
      for (const Json& m : r["ALARM_AREA"]) {
        // the demo plant is near Zibo (36.7951 N, 118.0642 E): members within a kilometre of it
        EXPECT_NEAR(m["X"].get<double>(), 118.0642, 0.012);
        EXPECT_NEAR(m["Y"].get<double>(), 36.7951, 0.01);
        EXPECT_FALSE(m["NAME"].get<std::string>().empty());
      }
    }
    if (b["kind"] == "position") {
      ++positions;
      for (const Json& r : b["records"]) {
        std::string id = r["PERSON_ID"], ts = r["TIME_STAMP"];
        last_position_time[id] = ts;
      }
    }
  }
  // one batch per alarm event, in engine order
  EXPECT_EQ(alarm_batches, run.alarm_events);
  EXPECT_GE(gatherings, 1u);
  // 180 s: batches at 0, 30, ..., 180 s
  EXPECT_EQ(positions, 7u);
  EXPECT_EQ(last_position_time.size(), sc.people.size());
}

TEST(UplinkEngine, SO09_PermitSignedAndAcceptedGoOutAtTheirStatusTime) {
  Scenario sc = load("scenarios/acceptance/so04-lifecycle.yaml");
  Receiver rx;
  Uplink up(sc.site, sc.clock, options_for(sc, rx, "engine_so04"));
  run_into(sc, up);
  ASSERT_TRUE(up.flush(10 * kSecond)) << up.last_error();
  std::vector<std::pair<std::string, Json>> ac1;  // (status event, record)
  for (const Json& b : rx.stored())
    if (b["kind"] == "permit" && b["records"][0]["ID"] == "AC1")
      ac1.emplace_back(b["records"][0]["STATUS_EVENT"].get<std::string>(), b["records"][0]);
  std::vector<std::string> events;
  for (const auto& [e, r] : ac1) events.push_back(e);
  EXPECT_EQ(events, (std::vector<std::string>{"applied", "signed", "in_progress", "accepted"}));
  for (const auto& [e, r] : ac1) {
    EXPECT_EQ(r["TICKETTYPE"], "22") << "height 10 m is grade II";
    EXPECT_EQ(r["SUPERVISORNAME"], "刘监护");
    EXPECT_EQ(r["WORKERNAME"], "陈师傅");
    EXPECT_EQ(r["ISCONTRACTORWORK"], 1);
    if (e == "signed") {
      EXPECT_EQ(r["TICKETSTATUS"], "1");
      EXPECT_EQ(r["UPDATEDATE"], r["ISSUETIME"]);  // formed at the signing itself
    }
    if (e == "accepted") {
      EXPECT_EQ(r["TICKETSTATUS"], "3");
      EXPECT_EQ(r["UPDATEDATE"], r["CHECKEDTIME"]);
      EXPECT_NE(r["CHECKEDTIME"], "");
    }
  }
}

}  // namespace
}  // namespace planttwin
