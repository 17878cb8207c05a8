// Viewer frame time with 2,000 people on the map (target: < 16 ms a frame). Opens a hidden GLFW
// window, so it needs a display: run the benchmark program under `xvfb-run -a` (Mesa, software
// rendering) or on a desktop. Without a display it skips with a message.
//
// Counters: median_ms and p99_ms over 300 frames, after 3 warm-up frames (the font atlas).
// "paused" draws the same instant; "playing_1x" advances the run 1/60 s a frame, so about one
// frame in 60 also applies a second of fixes for 2,000 tags; "drag" moves the map 4 px a frame,
// so the map's static layer (docs/viewer.md) is redrawn every frame, the worst case of a frame.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "bench/viewer_crowd.h"
#include "scenarios/loader.h"
#include "viewer/app.h"
#include "viewer/timeline.h"

namespace {

using namespace planttwin;
using planttwin::bench::crowd_scenario;

struct FrameCase {
  bool play = false;
  double pan_px = 0;
  std::string panel = {};  // the tab shown
  double noise = 0;      // fix noise (m): estimates differ, errors accumulate
  Micros at = 30 * kSecond;
};

void frame_bench(benchmark::State& state, const FrameCase& fc) {
  const char* display = std::getenv("DISPLAY");
  if (!display || !*display) {
    state.SkipWithError("no DISPLAY: run the benchmark under xvfb-run -a (or on a desktop) to time viewer frames");
    return;
  }
  Scenario sc;
  if (auto err = load_scenario_text(crowd_scenario(2000, fc.noise), "viewer-crowd.yaml", sc)) {
    state.SkipWithError(err->to_string().c_str());
    return;
  }
  std::string error;
  viewer::TimelineOptions topt;
  topt.background_steps = true;  // as `planttwin view` plays
  auto tl = viewer::Timeline::create(sc, topt, error);
  if (!tl) {
    state.SkipWithError(error.c_str());
    return;
  }
  viewer::ViewOptions opt;
  opt.hidden = true;
  opt.frame_stats = 300;
  opt.at = fc.at;
  opt.play = fc.play;
  opt.pan_px = {fc.pan_px, 0};
  opt.panel = fc.panel;
  viewer::FrameStats fs;
  for (auto _ : state) {
    if (viewer::run_viewer(*tl, opt, error, &fs) != 0) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  state.counters["people"] = static_cast<double>(tl->snapshot().people.size());
  state.counters["played_s"] = to_seconds(tl->now() - fc.at);
  state.counters["fix_errors"] = static_cast<double>(tl->fix_errors().size());  // 300 frames at 1x: 5 s when the run keeps up
  state.counters["median_ms"] = fs.median_ms;
  state.counters["p99_ms"] = fs.p99_ms;
  state.counters["mean_ms"] = fs.mean_ms;
  state.counters["build_median_ms"] = fs.build_median_ms;
  state.counters["build_p99_ms"] = fs.build_p99_ms;
  state.counters["cpu_median_ms"] = fs.cpu_median_ms;
  state.counters["cpu_p99_ms"] = fs.cpu_p99_ms;
  state.counters["gl_median_ms"] = fs.gl_median_ms;
  state.counters["vertices"] = fs.vertices;
  state.counters["draw_calls"] = fs.draw_calls;
  state.counters["layer_redraws"] = fs.layer_redraws;
}

void BM_ViewerFrame2000_paused(benchmark::State& state) { frame_bench(state, {}); }
void BM_ViewerFrame2000_playing_1x(benchmark::State& state) { frame_bench(state, {.play = true}); }
void BM_ViewerFrame2000_drag(benchmark::State& state) { frame_bench(state, {.pan_px = 4}); }
// panels over a long noisy run: 2,000 tags for 2 minutes, 240,000 fix errors and 240 kept snapshots
void BM_ViewerFrame2000_accuracy_panel(benchmark::State& state) {
  frame_bench(state, {.play = true, .panel = "accuracy", .noise = 0.3, .at = 120 * kSecond});
}
void BM_ViewerFrame2000_headcount_panel(benchmark::State& state) {
  frame_bench(state, {.play = true, .panel = "headcount", .noise = 0.3, .at = 120 * kSecond});
}
BENCHMARK(BM_ViewerFrame2000_paused)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ViewerFrame2000_playing_1x)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ViewerFrame2000_drag)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ViewerFrame2000_accuracy_panel)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ViewerFrame2000_headcount_panel)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
