// Shared set-up of the libFuzzer harnesses (issue 17; docs/fuzzing.md). Each harness is its own
// executable named fuzz_<input>; this header gives them a bundled scenario with its engine, loaded
// once per process, and a way to stop on a broken promise that libFuzzer reports as a crash.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin::fuzz {

// The live demo scenario: tags, anchors, survey points, floors, zones and a fence.
inline const char* kLiveScenario = PLANTTWIN_SOURCE_DIR "/scenarios/live/vendor-start.yaml";

struct Fixture {
  Scenario sc;
  std::shared_ptr<const Site> site;
  std::unique_ptr<Engine> engine;
  EngineState initial;  // the engine's state before any input
};

inline Fixture& fixture() {
  static Fixture* f = [] {
    auto* x = new Fixture;
    if (auto err = load_scenario_file(kLiveScenario, x->sc)) {
      std::fprintf(stderr, "fuzz: %s\n", err->to_string().c_str());
      std::abort();
    }
    x->site = std::make_shared<const Site>(x->sc.site);
    x->engine = std::make_unique<Engine>(make_engine_setup(x->sc, x->site));
    x->initial = x->engine->state();
    return x;
  }();
  return *f;
}

// A promise of the code under test was broken: libFuzzer saves the input as a crash.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz: broken promise: %s\n", what);
  std::abort();
}

}  // namespace planttwin::fuzz
