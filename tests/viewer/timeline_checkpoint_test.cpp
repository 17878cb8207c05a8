// H-04 / H-01: a backward jump restores the nearest in-memory checkpoint instead of re-running from
// the start, and decides exactly what a fresh run decides. For truth, noisy truth, simulated
// positioning, a followed live feed and operator actions: play to the end, jump back to many
// times (each compared with a fresh timeline at that time) and forward to the end again; the
// engine's state, the snapshot, the true poses, the alarms (the oracle's too), the canonical stream,
// the fix errors and the kept snapshots equal the fresh run's, and no jump re-ran from the start.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/runner.h"
#include "tests/viewer/timeline_fixtures.h"
#include "viewer/timeline.h"

namespace planttwin::viewer {
namespace {

using namespace test;

// Plays `sc` to the end, then jumps to `jumps` random times (mostly backwards; a fresh timeline is
// compared at every fourth), then to the end again: equal to a fresh run throughout.
void jumps_equal_fresh_runs(const Scenario& sc, const TimelineOptions& o, int jumps, const std::string& what) {
  auto fresh_end = make(sc, o);
  ASSERT_TRUE(fresh_end);
  fresh_end->seek(sc.duration);
  auto tl = make(sc, o);
  tl->seek(sc.duration);
  expect_same(*tl, *fresh_end, what + " at the end");
  EXPECT_GT(tl->checkpoint_count(), 1u) << what;
  int backwards = 0;
  const auto times = random_times(sc.duration, jumps, 20261201);
  for (size_t i = 0; i < times.size(); ++i) {
    const Micros t = times[i];
    backwards += t < tl->now();
    tl->seek(t);
    EXPECT_EQ(tl->now(), t);
    if (i % 4 == 0) {
      auto fresh = make(sc, o);
      fresh->seek(t);
      expect_same(*tl, *fresh, what + " at " + std::to_string(t) + " us");
    }
    if (i % 7 == 6) {  // now and then forward to the end and back
      tl->seek(sc.duration);
      expect_same(*tl, *fresh_end, what + " at the end after " + std::to_string(t) + " us");
    }
  }
  tl->seek(sc.duration);
  expect_same(*tl, *fresh_end, what + " at the end after the jumps");
  EXPECT_EQ(tl->reruns(), 0) << what;
  EXPECT_GE(tl->restores(), backwards) << what;
  EXPECT_GT(tl->restores(), jumps / 3) << what;
}

TimelineOptions every(Micros spacing, std::size_t budget = TimelineOptions{}.checkpoint_budget_bytes) {
  TimelineOptions o;
  o.checkpoint_every = spacing;
  o.checkpoint_budget_bytes = budget;
  return o;
}

TEST(TimelineCheckpoints, H04_H01_TruthJumpsBackAsAFreshRun) {
  for (const char* f : {"scenarios/acceptance/h01-mixed-canonical.yaml", "scenarios/acceptance/pl12-linkage.yaml",
                        "scenarios/acceptance/pl02-gathering-tiers.yaml", "scenarios/acceptance/so04-lifecycle.yaml"}) {
    const Scenario sc = load(f);
    jumps_equal_fresh_runs(sc, {}, 24, f);
    // checkpoints between fix instants (2.3 s), and a budget so small they are thinned out
    jumps_equal_fresh_runs(sc, every(2300 * kMillisecond), 24, std::string(f) + " every 2.3 s");
    jumps_equal_fresh_runs(sc, every(kSecond, 16 * 1024), 24, std::string(f) + " thinned");
  }
}

TEST(TimelineCheckpoints, H04_H01_ThinningKeepsTheBudget) {
  const Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  auto tl = make(sc, every(kSecond, 64 * 1024));
  tl->seek(sc.duration);
  EXPECT_GT(tl->checkpoint_every(), kSecond);  // thinned out
  EXPECT_GE(tl->checkpoint_count(), 3u);
  EXPECT_LE(tl->checkpoint_bytes(), std::size_t{64 * 1024});
  // without checkpoints a backward jump re-runs from the start, as before
  auto old = make(sc, every(0));
  old->seek(sc.duration);
  EXPECT_EQ(old->checkpoint_count(), 0u);
  old->seek(sc.duration / 2);
  EXPECT_EQ(old->reruns(), 1);
  EXPECT_EQ(old->restores(), 0);
  auto fresh = make(sc);
  fresh->seek(sc.duration / 2);
  expect_same(*old, *fresh, "re-run");
}

TEST(TimelineCheckpoints, H04_H01_NoisyTruthJumpsBackAsAFreshRun) {
  // the noise stream and the oracle twin are in the checkpoint
  Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  sc.positioning.noise_sigma = 0.4;
  jumps_equal_fresh_runs(sc, {}, 24, "noisy");
  jumps_equal_fresh_runs(sc, every(2300 * kMillisecond), 24, "noisy every 2.3 s");
  // and the run's stream is `run`'s
  auto tl = make(sc, every(2300 * kMillisecond));
  tl->seek(sc.duration);
  tl->seek(61 * kSecond);
  tl->seek(sc.duration);
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, {}, r, error)) << error;
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  ASSERT_TRUE(r.accuracy);
  EXPECT_EQ(tl->fix_errors().size(), r.accuracy->n);
}

TEST(TimelineCheckpoints, H04_H01_SimulatedJumpsBackAsAFreshRun) {
  // the engines' queues hold the whole run's inputs: checkpoints point into them
  const Scenario sc = load("scenarios/aq3064/fence-quality.yaml");
  ASSERT_EQ(sc.positioning.mode, Positioning::Mode::simulated);
  jumps_equal_fresh_runs(sc, {}, 16, "simulated");
  jumps_equal_fresh_runs(sc, every(7700 * kMillisecond), 16, "simulated every 7.7 s");
  InputLog log;
  RunOptions ro;
  ro.input_log = &log;
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, ro, r, error)) << error;
  auto tl = make(sc);
  tl->seek(sc.duration);
  tl->seek(sc.duration / 3);
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), r.canonical_stream);
  EXPECT_EQ(tl->restores(), 1);
  // a checkpoint holds the engines' states, not the run's queued inputs (the first one would hold them all)
  ASSERT_GT(tl->checkpoint_count(), 0u);
  const std::size_t queued = (log.estimated.size() + log.truth.size()) * sizeof(Input);
  EXPECT_LT(tl->checkpoint_bytes() / tl->checkpoint_count(), queued / 4);
}

// Operator actions: those at or before the target are replayed from the checkpoint, later ones
// are dropped; the result equals a fresh timeline given the same actions at the same times.
TEST(TimelineCheckpoints, H04_H01_OperatorActionsReplayFromACheckpoint) {
  const Scenario sc = load("scenarios/acceptance/pl10-duty-ack.yaml");
  TimelineOptions o;
  o.scripted_alarm_actions = false;  // the operator is us
  o.checkpoint_every = 5 * kSecond;
  auto with_actions = [&](const std::vector<RecordedAction>& acts, Micros end) {
    auto f = make(sc, o);
    for (const RecordedAction& a : acts) {
      f->seek(a.t);
      f->act(a.action);
    }
    f->seek(end);
    return f;
  };
  auto act_on_open = [](Timeline& tl, AlarmAction::Kind kind) {
    for (const Alarm& a : tl.snapshot().open_alarms)
      if (kind == AlarmAction::Kind::ack ? !a.acknowledged_at : (a.acknowledged_at && !a.handled_at)) {
        AlarmAction x;
        x.kind = kind;
        x.alarm_id = a.id;
        x.note = "from the test";
        tl.act(x);
        return true;
      }
    return false;
  };
  auto tl = make(sc, o);
  tl->seek(15500 * kMillisecond);  // O01's SOS (10 s) is open
  ASSERT_TRUE(act_on_open(*tl, AlarmAction::Kind::ack));
  tl->seek(40 * kSecond);  // exactly a checkpoint's time: the action comes after it
  ASSERT_TRUE(act_on_open(*tl, AlarmAction::Kind::handle));
  tl->seek(90300 * kMillisecond);
  ASSERT_TRUE(act_on_open(*tl, AlarmAction::Kind::ack));
  tl->seek(sc.duration);
  ASSERT_EQ(tl->actions().size(), 3u);
  const std::vector<RecordedAction> all = tl->actions();
  auto fresh_end = with_actions(all, sc.duration);
  expect_same(*tl, *fresh_end, "three actions, at the end");
  // backwards to times after the last action: every action is replayed
  for (Micros t : {119 * kSecond, 95 * kSecond, 100 * kSecond, 90300 * kMillisecond, 110 * kSecond}) {
    tl->seek(t);
    auto fresh = with_actions(all, t);
    expect_same(*tl, *fresh, "after the actions, at " + std::to_string(t));
  }
  tl->seek(sc.duration);
  expect_same(*tl, *fresh_end, "three actions, at the end again");
  // back before the last action: it is dropped
  tl->seek(60 * kSecond);
  ASSERT_EQ(tl->actions().size(), 2u);
  const std::vector<RecordedAction> two(all.begin(), all.begin() + 2);
  expect_same(*tl, *with_actions(two, 60 * kSecond), "two actions, at 60 s");
  // between the first two (the second, at a checkpoint's time, is dropped), and a new action there
  tl->seek(40 * kSecond - 1);
  ASSERT_EQ(tl->actions().size(), 1u);
  tl->seek(41 * kSecond);
  ASSERT_TRUE(act_on_open(*tl, AlarmAction::Kind::handle));
  tl->seek(sc.duration);
  const std::vector<RecordedAction> now = tl->actions();
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[1].t, 41 * kSecond);
  expect_same(*tl, *with_actions(now, sc.duration), "a new second action, at the end");
  for (Micros t : {70 * kSecond, 41 * kSecond, 100 * kSecond, 45 * kSecond}) {
    tl->seek(t);
    expect_same(*tl, *with_actions(now, t), "a new second action, at " + std::to_string(t));
  }
  EXPECT_EQ(tl->reruns(), 0);
  EXPECT_EQ(tl->restores(), 8);  // every backward jump
}

// Following a live session: the checkpoint holds how many of the received calls the engine took.
TEST(TimelineCheckpoints, H04_H01_FollowingJumpsBackAsAFreshFollow) {
  // the calls a live engine would have made: a simulated run's inputs as they became available,
  // with an advance every second (inputs first, then the advance, as the live loop does)
  const Scenario sc = load("scenarios/aq3064/fence-quality.yaml");
  InputLog log;
  RunOptions ro;
  ro.radio_link_stats = false;
  ro.input_log = &log;
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, ro, r, error)) << error;
  std::vector<Input> inputs = log.estimated;
  std::stable_sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.t < b.t; });
  std::vector<EngineCall> calls;
  size_t next = 0;
  for (Micros s = 0; s <= sc.duration; s += kSecond) {
    for (; next < inputs.size() && inputs[next].t <= s; ++next) calls.push_back({inputs[next].t, inputs[next]});
    calls.push_back({s, std::nullopt});
  }
  auto follow = [&](TimelineOptions o) {
    auto feed = std::make_shared<LiveFeed>();
    for (const EngineCall& c : calls) feed->push(c);
    auto tl = Timeline::create_following(sc, feed, nullptr, o);
    tl->tick(0);  // takes the calls
    return tl;
  };
  // The kept snapshots are left out of the comparison: a followed timeline stopped between two calls
  // keeps its next snapshot at the time it stopped (not at the 0.5 s grid), with or without
  // checkpoints, so they depend on where it stopped before.
  TimelineOptions o;
  o.checkpoint_every = 20 * kSecond;
  auto fresh_end = follow(o);
  fresh_end->seek(fresh_end->duration());
  ASSERT_EQ(fresh_end->duration(), sc.duration);
  auto tl = follow(o);
  tl->seek(tl->duration());
  expect_same(*tl, *fresh_end, "following, at the end", false);
  const auto times = random_times(sc.duration, 16, 7);
  for (size_t i = 0; i < times.size(); ++i) {
    tl->seek(times[i]);
    if (i % 3 == 0) {
      auto fresh = follow(o);
      fresh->seek(times[i]);
      expect_same(*tl, *fresh, "following, at " + std::to_string(times[i]), false);
    }
  }
  tl->seek(tl->duration());
  expect_same(*tl, *fresh_end, "following, at the end after the jumps", false);
  EXPECT_EQ(tl->reruns(), 0);
  EXPECT_GT(tl->restores(), 4);
}

// The window plays in the background: checkpoints are taken on the worker thread too, and a jump
// back after playing to the end restores one.
TEST(TimelineCheckpoints, H04_H01_BackgroundPlayKeepsCheckpoints) {
  const Scenario sc = load("scenarios/acceptance/h01-mixed-canonical.yaml");
  TimelineOptions o;
  o.background_steps = true;
  o.checkpoint_every = 3 * kSecond;
  auto tl = make(sc, o);
  tl->set_speed(100);
  tl->play();
  for (int i = 0; i < 1000000 && (tl->playing() || tl->busy()); ++i) {
    tl->tick(1.0 / 60);
    if (tl->busy()) std::this_thread::sleep_for(std::chrono::microseconds(50));  // as a frame would take
  }
  ASSERT_EQ(tl->now(), sc.duration);
  EXPECT_GT(tl->checkpoint_count(), 10u);
  auto fresh_end = make(sc);
  fresh_end->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), fresh_end->canonical_stream());
  for (Micros t : {100 * kSecond, 37 * kSecond, 150 * kSecond, 0 * kSecond}) {
    tl->seek(t);
    auto fresh = make(sc, o);
    fresh->seek(t);
    EXPECT_EQ(dump(*tl), dump(*fresh));
    EXPECT_EQ(tl->canonical_stream(), fresh->canonical_stream());
    EXPECT_TRUE(tl->engine().state() == fresh->engine().state());
  }
  tl->seek(sc.duration);
  EXPECT_EQ(tl->canonical_stream(), fresh_end->canonical_stream());
  EXPECT_EQ(tl->reruns(), 0);
  EXPECT_EQ(tl->restores(), 3);
}

}  // namespace
}  // namespace planttwin::viewer
