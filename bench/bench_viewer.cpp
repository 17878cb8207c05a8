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

#include "scenarios/loader.h"
#include "viewer/app.h"
#include "viewer/timeline.h"

namespace {

using namespace planttwin;

// 2,000 people walking between random points of a 400 m x 300 m plant with zones of every risk
// colour, a building with three storeys, tanks and cameras; some crowds that gather.
std::string crowd_scenario(int people, double noise_sigma = 0) {
  std::ostringstream o;
  o << R"(scenario: viewer-crowd
site:
  site: crowd plant
  bounds: [[0, 0], [400, 0], [400, 300], [0, 300]]
  buildings:
    - {id: OB, footprint: [[20, 20], [80, 20], [80, 60], [20, 60]], floors: [{id: 1, z: [0, 4]}, {id: 2, z: [4, 8]}, {id: 3, z: [8, 12]}]}
  obstacles:
    - {id: TK-1, shape: cylinder, center: [280, 205], radius: 12, z: [0, 18]}
    - {id: TK-2, shape: cylinder, center: [315, 205], radius: 12, z: [0, 18]}
    - {id: TK-3, shape: cylinder, center: [350, 205], radius: 12, z: [0, 18]}
  zones:
    - {id: TF, name: 罐区, kind: major_hazard, risk: red, polygon: [[250, 180], [380, 180], [380, 280], [250, 280]]}
    - {id: PU, name: 生产装置区, kind: production, risk: orange, polygon: [[130, 150], [230, 150], [230, 260], [130, 260]]}
    - {id: WH, name: 仓库, kind: storage, risk: yellow, polygon: [[120, 20], [180, 20], [180, 70], [120, 70]]}
    - {id: OFFICE, name: 综合办公区, kind: office, risk: blue, polygon: [[10, 10], [110, 10], [110, 80], [10, 80]]}
  cameras:
    - {id: CAM-1, at: [252, 182, 12], yaw_deg: 38, pitch_deg: -12, hfov_deg: 90, vfov_deg: 50, range: 150}
    - {id: CAM-2, at: [132, 152, 10], yaw_deg: 47, pitch_deg: -12, hfov_deg: 90, vfov_deg: 50, range: 150}
  anchors:
    - {id: A1, at: [5, 5, 7]}
    - {id: A2, at: [395, 5, 7]}
    - {id: A3, at: [395, 295, 7]}
    - {id: A4, at: [5, 295, 7]}
duration: 600s
)";
  if (noise_sigma > 0) o << "positioning: {mode: truth, noise_sigma: " << noise_sigma << "}\n";
  o << "people:\n";
  std::uint64_t x = 20260302;
  auto rnd = [&x](double lo, double hi) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(x >> 11) * 0x1.0p-53;
  };
  const char* cats[] = {"employee", "contractor", "visitor", "driver"};
  for (int i = 0; i < people; ++i)
    o << "  - {id: P" << i << ", category: " << cats[i % 4] << ", tag: T" << i << ", at: [" << rnd(5, 395) << ", " << rnd(5, 295) << "]}\n";
  o << "script:\n";
  for (int i = 0; i < people; ++i)
    o << "  - {t: " << static_cast<int>(rnd(0, 20)) << "s, who: P" << i << ", go_to: [" << rnd(5, 395) << ", " << rnd(5, 295) << "], speed: 1.0}\n";
  return o.str();
}

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
