// The viewer's model layer, without a display: snapshots over time, seeking backwards (a re-run
// equals a fresh run), speed and step, operator actions applied at the current time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <thread>
#include <string>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/viewer/timeline_fixtures.h"
#include "viewer/timeline.h"

namespace planttwin::viewer {
namespace {

using namespace test;

TEST(Timeline, SnapshotsFollowTheScenario) {
  const Scenario sc = load("scenarios/examples/first-gathering.yaml");
  auto tl = make(sc);
  EXPECT_EQ(tl->now(), 0);
  ASSERT_EQ(tl->snapshot().people.size(), 3u);
  EXPECT_TRUE(tl->snapshot().people[0].has_fix);  // fixes at t = 0 are in
  // the gathering is raised at 70 s (examples/first-gathering.yaml): not at 69 s, yes at 70 s
  tl->seek(69 * kSecond);
  EXPECT_TRUE(tl->snapshot().gatherings.empty());
  tl->seek(70 * kSecond);
  ASSERT_EQ(tl->snapshot().gatherings.size(), 1u);
  EXPECT_EQ(tl->snapshot().gatherings[0].level, AlarmLevel::yellow);
  EXPECT_EQ(tl->snapshot().t, 70 * kSecond);
  // truth: P3 walks west from x = 80 at 1.2 m/s and stops at 48
  EXPECT_NEAR(tl->truth()[2].p.x, 48, 1e-9);
  // snapshots kept every 0.5 s: 0, 0.5, ..., 70
  EXPECT_EQ(tl->kept().size(), 141u);
  EXPECT_EQ(tl->kept().back().snap.t, 70 * kSecond);
  EXPECT_EQ(tl->kept().back().on_site, 3);  // counted when kept (the headcount plot reads it)
  EXPECT_EQ(tl->kept().front().on_site, 3);
}

TEST(Timeline, SeekBackwardsEqualsAFreshRun) {
  const Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  // from the latest checkpoint (the default), and re-run from the start (no checkpoints)
  for (const Micros every : {TimelineOptions{}.checkpoint_every, Micros{0}}) {
    TimelineOptions o;
    o.checkpoint_every = every;
    auto a = make(sc, o);
    a->seek(150 * kSecond);
    a->seek(83500 * kMillisecond);  // backwards, between fixes
    EXPECT_EQ(a->reruns(), every ? 0 : 1);
    EXPECT_EQ(a->restores(), every ? 1 : 0);
    auto b = make(sc);
    b->seek(83500 * kMillisecond);
    EXPECT_EQ(dump(*a), dump(*b));
    EXPECT_EQ(stream(a->alarms()), stream(b->alarms()));
    EXPECT_EQ(a->canonical_stream(), b->canonical_stream());
  }
}

TEST(Timeline, ToTheEndEqualsRun) {
  for (const char* f : {"scenarios/acceptance/h01-mixed-canonical.yaml", "scenarios/acceptance/pl10-duty-ack.yaml",
                        "scenarios/acceptance/pl12-linkage.yaml"}) {
    const Scenario sc = load(f);
    RunResult r;
    std::string error;
    ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
    auto tl = make(sc);
    // arbitrary, uneven steps (as frames would take them) change nothing
    for (Micros t = 0; t < sc.duration; t += 337 * kMillisecond) tl->seek(t);
    tl->seek(sc.duration);
    EXPECT_EQ(tl->canonical_stream(), r.canonical_stream) << f;
  }
}

// H-04: a simulated scenario (radio, solver) plays in the viewer and decides exactly what `run`
// decides, with the estimates' errors, and a backward jump replays the same inputs.
// Recorded runs (issue 19): the viewer plays the run's inputs, and the true position it draws is the
// truth log's (interpolated at the epochs), not the script's standing person.
TEST(Timeline, H04_RecordedPositioningShowsTheTruthLog) {
  const Scenario sc = load("scenarios/recorded/hanyang/los-b3/scenario.yaml");
  ASSERT_EQ(sc.positioning.mode, Positioning::Mode::recorded);
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
  auto tl = make(sc);
  ASSERT_TRUE(tl);
  tl->seek(100 * kSecond);
  ASSERT_EQ(tl->truth().size(), 1u);
  // at 100 s the walker is about 13 m from where the script places them (0, -4.27)
  const TruthPose& t = tl->truth()[0];
  EXPECT_GT(std::hypot(t.p.x - 0.0, t.p.y + 4.27), 5.0);
  const auto& p = tl->snapshot().people[0];
  ASSERT_TRUE(p.has_fix);
  EXPECT_LT(std::hypot(p.pos.x - t.p.x, p.pos.y - t.p.y), 3.0);  // estimate and truth agree
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
}

TEST(Timeline, H04_SimulatedPositioningPlaysExactlyAsRun) {
  const Scenario sc = load("scenarios/aq3064/fence-quality.yaml");
  ASSERT_EQ(sc.positioning.mode, Positioning::Mode::simulated);
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
  auto tl = make(sc);
  ASSERT_TRUE(tl);
  for (Micros t = 0; t < sc.duration; t += 1234 * kMillisecond) tl->seek(t);
  tl->seek(sc.duration);
  EXPECT_FALSE(r.canonical_stream.empty());
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  // every fix that reached the engine by the end (a fix measured in the last blinks arrives after it)
  EXPECT_LE(tl->fix_errors().size(), r.fixes);
  EXPECT_GE(tl->fix_errors().size() + sc.people.size(), r.fixes);
  ASSERT_TRUE(r.accuracy);
  std::vector<double> e = tl->fix_errors();
  EXPECT_NEAR(quantile_nearest_rank(e, 0.6827), r.accuracy->cdf68, 0.01);  // the report's CDF uses bins
  const std::string end = tl->canonical_stream();
  tl->seek(sc.duration / 2);
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), end);
}

// H-04 frame time: with background_steps the engine steps run on a worker thread while the UI
// keeps drawing the last published state; the engines still see the same inputs at the same
// times, so playing to the end decides exactly what `run` decides (scripted operator actions
// included), and seek / act wait for a running step.
TEST(Timeline, H04_BackgroundStepsDecideExactlyAsRun) {
  for (const char* f : {"scenarios/acceptance/h01-mixed-canonical.yaml", "scenarios/acceptance/pl10-duty-ack.yaml",
                        "scenarios/aq3064/fence-quality.yaml"}) {
    const Scenario sc = load(f);
    RunResult r;
    std::string error;
    ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
    TimelineOptions o;
    o.background_steps = true;
    auto tl = make(sc, o);
    ASSERT_TRUE(tl);
    tl->set_speed(100);
    tl->play();
    int busy_ticks = 0, ticks = 0;
    Micros last = tl->now();
    while ((tl->playing() || tl->busy()) && ticks < 1000000) {
      tl->tick(1.0 / 60);
      ++ticks;
      if (tl->busy()) ++busy_ticks, std::this_thread::sleep_for(std::chrono::microseconds(50));  // as a frame would take
      // what the UI reads is one consistent state: the snapshot is at now(), time never goes back
      EXPECT_EQ(tl->snapshot().t, tl->now());
      EXPECT_GE(tl->now(), last);
      last = tl->now();
    }
    EXPECT_GT(busy_ticks, 0) << f << ": no step ran in the background";
    EXPECT_FALSE(tl->busy());
    EXPECT_EQ(tl->now(), sc.duration) << f;
    EXPECT_EQ(tl->canonical_stream(), r.canonical_stream) << f;
    EXPECT_EQ(stream(tl->alarms()), sorted_lines(r.canonical_stream)) << f;
  }
  // a jump while a step runs waits for it, then lands exactly where asked
  const Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  TimelineOptions o;
  o.background_steps = true;
  auto bg = make(sc, o);
  bg->set_speed(100);
  bg->play();
  while (!bg->busy() && bg->playing()) bg->tick(1.0 / 60);
  ASSERT_TRUE(bg->busy());
  bg->seek(83500 * kMillisecond);
  EXPECT_FALSE(bg->busy());
  auto fg = make(sc);
  fg->seek(83500 * kMillisecond);
  EXPECT_EQ(dump(*bg), dump(*fg));
  EXPECT_EQ(bg->canonical_stream(), fg->canonical_stream());
}

TEST(Timeline, SpeedStepAndPlay) {
  const Scenario sc = load("scenarios/examples/first-gathering.yaml");
  auto tl = make(sc);
  tl->set_speed(0.01);
  EXPECT_DOUBLE_EQ(tl->speed(), 0.1);
  tl->set_speed(1000);
  EXPECT_DOUBLE_EQ(tl->speed(), 100);
  tl->set_speed(10);
  tl->tick(1.0);  // paused: nothing moves
  EXPECT_EQ(tl->now(), 0);
  tl->play();
  tl->tick(1.0);
  EXPECT_EQ(tl->now(), 10 * kSecond);
  tl->tick(0.25);
  EXPECT_EQ(tl->now(), 12500 * kMillisecond);
  tl->pause();
  tl->step();  // to the next fix instant (1 Hz)
  EXPECT_EQ(tl->now(), 13 * kSecond);
  tl->step();
  EXPECT_EQ(tl->now(), 14 * kSecond);
  tl->set_speed(100);
  tl->play();
  tl->tick(5.0);  // past the end: stops at the end and pauses
  EXPECT_EQ(tl->now(), sc.duration);
  EXPECT_FALSE(tl->playing());
  tl->step();
  EXPECT_EQ(tl->now(), sc.duration);
}

TEST(Timeline, OperatorActionsApplyAtTheCurrentTime) {
  const Scenario sc = load("scenarios/acceptance/pl10-duty-ack.yaml");
  TimelineOptions opt;
  opt.scripted_alarm_actions = false;  // the operator is us
  auto tl = make(sc, opt);
  tl->seek(15500 * kMillisecond);
  ASSERT_EQ(tl->snapshot().open_alarms.size(), 1u);  // O01's SOS at 10 s
  const std::string id = tl->snapshot().open_alarms[0].id;
  EXPECT_EQ(tl->duty_person(tl->now()), "D01");
  AlarmAction ack;
  ack.kind = AlarmAction::Kind::ack;
  ack.alarm_id = id;
  ack.note = "seen";
  tl->act(ack);  // `by` defaults to the person on duty
  const Alarm& a = tl->snapshot().open_alarms[0];
  ASSERT_TRUE(a.acknowledged_at);
  EXPECT_EQ(*a.acknowledged_at, 15500 * kMillisecond);
  EXPECT_EQ(a.events.back().by, "D01");
  EXPECT_EQ(a.events.back().note, "seen");
  // the scripted actions are off: at 40 s nobody else acknowledged anything
  tl->seek(100 * kSecond);
  for (const Alarm& x : tl->alarms()) {
    if (x.id == id) continue;
    EXPECT_FALSE(x.acknowledged_at) << x.id;
  }
  // O02's SOS at 20 s was never acknowledged: unacknowledged at 81 s; O01's was, so only one
  int unack = 0;
  for (const Alarm& x : tl->alarms()) unack += x.type == AlarmType::unacknowledged;
  EXPECT_EQ(unack, 1);

  // backwards past the action: a re-run replays it at 15.5 s
  const std::string before = stream(tl->alarms());
  tl->seek(20 * kSecond);
  tl->seek(100 * kSecond);
  EXPECT_EQ(stream(tl->alarms()), before);
  // backwards before it: undone
  tl->seek(15 * kSecond);
  EXPECT_TRUE(tl->actions().empty());
  tl->seek(100 * kSecond);
  unack = 0;
  for (const Alarm& x : tl->alarms()) unack += x.type == AlarmType::unacknowledged;
  EXPECT_EQ(unack, 2);
}

TEST(Timeline, DrillRefusesToGoBack) {
  const Scenario sc = load("scenarios/acceptance/pl10-duty-ack.yaml");
  TimelineOptions opt;
  opt.drill = true;
  auto tl = make(sc, opt);
  tl->seek(30 * kSecond);
  std::string why;
  EXPECT_FALSE(tl->seek(29 * kSecond, &why));
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(tl->now(), 30 * kSecond);
  EXPECT_TRUE(tl->seek(31 * kSecond));
}

TEST(Timeline, KeptSnapshotsStayWithinTheBudget) {
  const Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  TimelineOptions opt;
  opt.keep_budget_bytes = 64 * 1024;
  auto tl = make(sc, opt);
  tl->seek(sc.duration);
  EXPECT_GT(tl->keep_every(), 500 * kMillisecond);  // thinned out
  EXPECT_GE(tl->kept().size(), 2u);
  for (size_t i = 1; i < tl->kept().size(); ++i) EXPECT_LT(tl->kept()[i - 1].snap.t, tl->kept()[i].snap.t);
}

TEST(Timeline, NoisyFixesGiveEstimatesAndErrors) {
  Scenario sc;
  const std::string text = R"(
scenario: noisy
site: {site: yard, bounds: [[0, 0], [100, 0], [100, 100], [0, 100]]}
duration: 60s
positioning: {mode: truth, noise_sigma: 0.5}
people:
  - {id: P1, tag: T1, at: [10, 10]}
  - {id: P2, tag: T2, at: [50, 50]}
script:
  - {t: 0s, who: P1, go_to: [90, 10]}
)";
  ASSERT_FALSE(load_scenario_text(text, "noisy.yaml", sc));
  auto tl = make(sc);
  tl->seek(30 * kSecond);
  EXPECT_TRUE(tl->estimates_differ());
  EXPECT_EQ(tl->fix_errors().size(), 62u);  // 31 instants x 2 people
  const auto& p = tl->snapshot().people[0];
  EXPECT_NE(p.pos.x, tl->truth()[0].p.x);
  EXPECT_NEAR(p.pos.x, tl->truth()[0].p.x, 3);
  ASSERT_TRUE(tl->oracle_alarms());
  // the same noise as `run`: the accuracy at the end matches the report's
  tl->seek(sc.duration);
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
  ASSERT_TRUE(r.accuracy);
  EXPECT_EQ(tl->fix_errors().size(), r.accuracy->n);
  EXPECT_DOUBLE_EQ(quantile_nearest_rank(tl->fix_errors(), 0.6827), r.accuracy->cdf68);
}

}  // namespace
}  // namespace planttwin::viewer
