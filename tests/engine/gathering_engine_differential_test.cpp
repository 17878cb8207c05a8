// PL-02 / H-01, issue 18: the gathering rule with the incremental finder against the same rule with
// the reference finder (Engine::use_reference_gathering_finder), two engines fed the same random
// inputs: walkers and slow groups on two floors, people who stop reporting and come back (fix age,
// with and without rules.gathering.fix_max_age), irregular report times, people standing still to
// the last bit. After every step the tracks, alarms and outputs are identical, and the whole state
// at the end; also the same after a checkpoint-style state copy into a fresh engine (its finder
// starts without carried work).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace planttwin {
namespace {

struct Walk {
  std::uint64_t seed;
  int people;
  double side;        // m
  Micros fix_max_age; // 0: the default (one missing fix drops a person)
};

void run_walk(const Walk& w, long& steps, long& tracked) {
  std::mt19937_64 rng(w.seed);
  auto uniform = [&rng](double lo, double hi) { return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1.0p-53); };
  auto site = std::make_shared<Site>();
  site->name = "differential";
  site->floors = {{"1", -1, 4}, {"2", 4, 8}};
  site->rules.gathering.fix_max_age = w.fix_max_age;
  site->rules.gathering.dwell = 20 * kSecond;  // tiers and escalations within the walk
  EngineSetup setup;
  setup.site = site;
  for (int i = 0; i < w.people; ++i) {
    PersonSetup p;
    p.id = "P" + std::to_string(1000 + i);
    p.tag = "T" + std::to_string(1000 + i);
    setup.people.push_back(p);
  }
  auto fast = std::make_unique<Engine>(setup);
  Engine reference(fast->shared_model());
  reference.use_reference_gathering_finder(true);
  struct Person {
    Vec2 at, goal;
    int floor;
    bool reporting, still;
  };
  std::vector<Person> people(static_cast<std::size_t>(w.people));
  for (Person& p : people) {
    p.at = {uniform(0, w.side), uniform(0, w.side)};
    p.goal = {uniform(0, w.side), uniform(0, w.side)};
    p.floor = uniform(0, 1) < 0.85 ? 0 : 1;
    p.reporting = true;
    p.still = uniform(0, 1) < 0.3;
  }
  const Micros end = 300 * kSecond;
  for (Micros t = 0; t <= end; t += kSecond) {
    for (std::size_t i = 0; i < people.size(); ++i) {
      Person& p = people[i];
      if (uniform(0, 1) < 0.02) p.reporting = !p.reporting;
      if (uniform(0, 1) < 0.003) p.floor = 1 - p.floor;
      if (uniform(0, 1) < 0.02) p.still = !p.still;
      if (!p.still) {
        const double d = dist(p.at, p.goal), step = uniform(0, 1.2);
        if (d <= step) p.goal = {uniform(0, w.side), uniform(0, w.side)};
        else p.at = {p.at.x + step * (p.goal.x - p.at.x) / d, p.at.y + step * (p.goal.y - p.at.y) / d};
      }
      // irregular report times: a reporting tag skips about one second in ten
      if (!p.reporting || uniform(0, 1) < 0.1) continue;
      FixInput f;
      f.tag = static_cast<int>(i);
      f.x = p.at.x;
      f.y = p.at.y;
      f.z = 1.2 + 4 * p.floor;
      f.floor = p.floor;
      fast->submit({t, 0, f});
      reference.submit({t, 0, f});
    }
    fast->advance_to(t);
    reference.advance_to(t);
    ++steps;
    tracked += static_cast<long>(fast->state().gatherings.size());
    ASSERT_TRUE(fast->state().gatherings == reference.state().gatherings) << "seed " << w.seed << " t " << to_seconds(t);
    ASSERT_TRUE(fast->alarms() == reference.alarms()) << "seed " << w.seed << " t " << to_seconds(t);
    ASSERT_TRUE(fast->outputs() == reference.outputs()) << "seed " << w.seed << " t " << to_seconds(t);
    fast->clear_outputs();
    reference.clear_outputs();
    if (t == end / 2) {
      // a fresh engine restored from the state: no carried work, the same results
      auto resumed = std::make_unique<Engine>(fast->shared_model());
      std::string why;
      ASSERT_TRUE(resumed->restore(fast->state(), &why)) << why;
      fast = std::move(resumed);
    }
  }
  ASSERT_TRUE(fast->state() == reference.state()) << "seed " << w.seed;
}

TEST(GatheringEngineDifferential, PL02_H01_RandomWalksSameTracksAlarmsAndOutputsAsTheReferenceFinder) {
  long steps = 0, tracked = 0;
  int k = 0;
  for (const Walk& w : {Walk{1, 60, 60, 0}, Walk{2, 60, 60, 3 * kSecond}, Walk{3, 200, 200, 2 * kSecond},
                        Walk{4, 400, 300, 0}, Walk{5, 30, 30, 5 * kSecond}, Walk{6, 800, 400, 2 * kSecond}}) {
    SCOPED_TRACE(k++);
    run_walk(w, steps, tracked);
    if (HasFatalFailure()) return;
  }
  std::printf("[ differential ] %ld engine steps, %ld gathering tracks seen\n", steps, tracked);
  EXPECT_GT(tracked, 1000);
}

}  // namespace
}  // namespace planttwin
