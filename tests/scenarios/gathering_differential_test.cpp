// PL-02 / H-01, issue 18: every scenario under scenarios/ through two engines fed the same inputs,
// one with the gathering finder the engine uses (incremental: it carries solved components across
// evaluations) and one with the reference finder (Engine::use_reference_gathering_finder): after
// every step the gathering tracks (members, centres to the last bit), the alarms and the outputs
// are identical, and the whole state at the end. The script is played as the headless runner plays
// it in truth mode: script inputs, and every tagged person's true fix at the scenario's fix rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "scenarios/driver.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

struct Outcome {
  long steps = 0, gathering_steps = 0, alarms = 0;
};

// false (with a failure) at the first difference
bool run_both(const Scenario& sc, Outcome& o) {
  auto site = std::make_shared<const Site>(sc.site);
  Engine fast(make_engine_setup(sc, site));
  Engine reference(make_engine_setup(sc, site));
  reference.use_reference_gathering_finder(true);
  ScriptDriver driver(sc, fast);
  auto sink = [&](Input in) {
    reference.submit(in);
    fast.submit(std::move(in));
  };
  const Micros ri = std::max<Micros>(1, from_seconds(1.0 / sc.fix_rate));
  // long scenarios: the first two hours are plenty for gatherings to form, escalate and clear
  const Micros end = std::min<Micros>(sc.duration, from_seconds(7200));
  for (Micros t = 0; t <= end; t += ri) {
    driver.play_until(t, sink);
    for (int p : driver.fix_order()) {
      if (driver.tag_index(p) < 0 || !driver.tag_on(p)) continue;
      Input in;
      in.t = t;
      in.body = driver.true_fix(p, driver.pose(p, t));
      sink(std::move(in));
    }
    fast.advance_to(t);
    reference.advance_to(t);
    ++o.steps;
    if (!fast.state().gatherings.empty()) ++o.gathering_steps;
    if (!(fast.state().gatherings == reference.state().gatherings) || !(fast.alarms() == reference.alarms()) ||
        !(fast.outputs() == reference.outputs())) {
      ADD_FAILURE() << sc.file << ": the engines differ at t = " << to_seconds(t) << " s";
      return false;
    }
    fast.clear_outputs();
    reference.clear_outputs();
  }
  o.alarms += static_cast<long>(fast.alarms().size());
  if (!(fast.state() == reference.state())) {
    ADD_FAILURE() << sc.file << ": the final states differ";
    return false;
  }
  return true;
}

TEST(GatheringDifferential, PL02_H01_EveryScenarioSameGatheringsAndAlarmsAsTheReferenceFinder) {
  const std::filesystem::path root = std::filesystem::path(PLANTTWIN_SOURCE_DIR) / "scenarios";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  int run = 0, skipped = 0;
  Outcome o;
  for (const std::string& file : files) {
    Scenario sc;
    if (load_scenario_file(file, sc)) {
      ++skipped;  // not a scenario (a site, a calibration set-up) or not loadable on its own
      continue;
    }
    SCOPED_TRACE(file);
    ++run;
    if (!run_both(sc, o)) break;
  }
  std::printf("[ differential ] %d scenarios (%d other files), %ld engine steps, %ld with gathering tracks, %ld alarms\n",
              run, skipped, o.steps, o.gathering_steps, o.alarms);
  EXPECT_GT(run, 30);
  EXPECT_GT(o.gathering_steps, 100);
}

}  // namespace
}  // namespace planttwin
