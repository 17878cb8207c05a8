// `planttwin view SCENARIO ...` and `planttwin drill SCENARIO ...` (docs/viewer.md, docs/drill.md).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#ifdef PLANTTWIN_HAS_LIVE
#include "hardware-in-loop/live.h"
#include "hardware-in-loop/recording.h"
#endif
#include "scenarios/loader.h"
#include "viewer/app.h"
#include "viewer/drill.h"
#include "viewer/timeline.h"

namespace planttwin::cli {

namespace {

struct ViewArgs {
  std::string scenario, at, screenshot, lang = "zh", center, floor;
  int width = 1280, height = 800, frame_stats = 0;
  double pan_px = 0;
  double zoom = 0, speed = 0;
  bool view_3d = false, hidden = false;
  std::string select, panel;
};

struct DrillArgs {
  std::string scenario, report, lang = "zh", at, screenshot;
  double speed = 1;
  bool headless = false;
  int width = 1280, height = 800;
};

bool load(const std::string& file, Scenario& sc) {
  if (auto err = load_scenario_file(file, sc)) {
    std::cerr << err->to_string() << "\n";
    return false;
  }
  return true;
}

bool parse_lang(const std::string& s, viewer::Lang& out) {
  if (s == "zh") out = viewer::Lang::zh;
  else if (s == "en") out = viewer::Lang::en;
  else return false;
  return true;
}

// A live session's recording (docs/recording.md) starts with the recording magic.
bool is_recording(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::string(magic, 8) == "PTWINREC";
}

int cmd_view(const ViewArgs& a) {
  Scenario sc;
  // a recording: replayed once here (hardware-in-loop), its engine inputs then played by the
  // viewer's own engine; the scenario is the one embedded in the recording
  std::vector<Input> recorded_inputs;
  const bool recorded = is_recording(a.scenario);
  if (recorded) {
#ifdef PLANTTWIN_HAS_LIVE
    RunResult r;
    hil::LiveSummary summary;
    std::string err;
    if (!hil::replay_recording(a.scenario, sc, r, summary, err, &recorded_inputs)) {
      std::cerr << err << "\n";
      return kExitBadInput;
    }
    sc.duration = std::max<Micros>(summary.end_t, 1);
    if (!summary.torn.empty()) std::cerr << a.scenario << ": " << summary.torn << "; showing the intact part\n";
#else
    std::cerr << a.scenario << ": a recording, and this build has no hardware-in-loop part to read it\n";
    return kExitBadInput;
#endif
  } else if (!load(a.scenario, sc)) {
    return kExitBadInput;
  }
  viewer::ViewOptions opt;
  if (!parse_lang(a.lang, opt.lang)) {
    std::cerr << "--lang " << a.lang << ": use zh or en\n";
    return kExitBadInput;
  }
  opt.width = a.width;
  opt.height = a.height;
  if (!a.at.empty()) {
    Micros t = 0;
    if (!parse_duration(a.at, t) || t < 0 || t > sc.duration) {
      std::cerr << "--at " << a.at << ": not a time within the scenario (0 .. " << to_seconds(sc.duration) << " s; e.g. 70s, 2min)\n";
      return kExitBadInput;
    }
    opt.at = t;
  }
  if (!a.screenshot.empty() && !opt.at) opt.at = 0;
  opt.screenshot = a.screenshot;
  if (!a.center.empty()) {
    double x = 0, y = 0;
    char comma = 0;
    std::istringstream in(a.center);
    if (!(in >> x >> comma >> y) || comma != ',') {
      std::cerr << "--center " << a.center << ": write X,Y in site metres, e.g. 120,80\n";
      return kExitBadInput;
    }
    opt.center = Vec2{x, y};
  }
  if (a.zoom > 0) opt.zoom = a.zoom;
  opt.floor = a.floor;
  if (!opt.floor.empty() && !sc.site.has_floor(opt.floor)) {
    std::cerr << "--floor " << opt.floor << ": the site has no such floor\n";
    return kExitBadInput;
  }
  opt.view_3d = a.view_3d;
  opt.select = a.select;
  opt.panel = a.panel;
  if (a.speed > 0) opt.play = true, opt.speed = a.speed;
  opt.frame_stats = a.frame_stats;
  opt.pan_px = {a.pan_px, 0};
  opt.hidden = a.hidden || !a.screenshot.empty() || a.frame_stats > 0;

  std::string error;
  viewer::TimelineOptions topt;
  topt.background_steps = true;  // a heavy engine step never holds up a frame
  auto tl = recorded ? viewer::Timeline::create_recorded(sc, std::move(recorded_inputs), topt) : viewer::Timeline::create(sc, topt, error);
  if (!tl) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  viewer::FrameStats fs;
  const int rc = viewer::run_viewer(*tl, opt, error, &fs);
  if (rc != 0) {
    std::cerr << "planttwin view: " << error << "\n";
    return kExitBadInput;
  }
  if (!opt.screenshot.empty()) {
    const viewer::MapTransform m = viewer::last_map_transform();
    // the map transform, so that a test can find a site point's pixel
    std::printf("{\"screenshot\": \"%s\", \"t\": %.6f, \"width\": %d, \"height\": %d, \"map\": {\"origin_px\": [%.3f, %.3f], "
                "\"center_m\": [%.6f, %.6f], \"scale_px_per_m\": %.9f}}\n",
                opt.screenshot.c_str(), to_seconds(tl->now()), opt.width, opt.height, m.origin_x, m.origin_y, m.center.x, m.center.y, m.scale);
  }
  if (opt.frame_stats > 0)
    std::printf("{\"renderer\": \"%s\", \"frames\": %d, \"people\": %zu, \"vertices\": %d, \"draw_calls\": %d, \"layer_redraws\": %d, "
                "\"frame_ms\": {\"median\": %.3f, \"p99\": %.3f, \"mean\": %.3f}, \"build_ms\": {\"median\": %.3f, \"p99\": %.3f}, "
                "\"gl_ms\": {\"median\": %.3f, \"p99\": %.3f}, \"cpu_ms\": {\"median\": %.3f, \"p99\": %.3f}}\n",
                fs.renderer.c_str(), fs.frames, tl->snapshot().people.size(), fs.vertices, fs.draw_calls, fs.layer_redraws, fs.median_ms, fs.p99_ms,
                fs.mean_ms, fs.build_median_ms, fs.build_p99_ms, fs.gl_median_ms, fs.gl_p99_ms, fs.cpu_median_ms, fs.cpu_p99_ms);
  return kExitPass;
}

int cmd_drill(const DrillArgs& a) {
  Scenario sc;
  if (!load(a.scenario, sc)) return kExitBadInput;
  viewer::ViewOptions opt;
  if (!parse_lang(a.lang, opt.lang)) {
    std::cerr << "--lang " << a.lang << ": use zh or en\n";
    return kExitBadInput;
  }
  if (a.report.empty() && a.screenshot.empty()) {
    std::cerr << "planttwin drill: --report DIR is required\n";
    return kExitBadInput;
  }
  if (sc.duty.empty()) {
    std::cerr << sc.file << ": duty: a drill needs someone on duty (duty: [{person, from, to}])\n";
    return kExitBadInput;
  }
  viewer::TimelineOptions topt;
  topt.drill = true;
  // headless: the scenario's scripted alarm actions stand in for the trainee
  topt.scripted_alarm_actions = a.headless;
  topt.background_steps = !a.headless;  // the window: a heavy engine step never holds up a frame
  std::string error;
  auto tl = viewer::Timeline::create(sc, topt, error);
  if (!tl) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  if (a.headless) {
    tl->seek(sc.duration);
  } else {
    opt.drill = true;
    opt.speed = a.speed;
    opt.panel = "drill";
    if (!a.screenshot.empty()) {
      // what the trainee sees at --at (scripted alarm actions applied, for a meaningful picture); no report
      Micros t = 0;
      if (!parse_duration(a.at.empty() ? "0" : a.at, t) || t < 0 || t > sc.duration) {
        std::cerr << "--at " << a.at << ": not a time within the scenario\n";
        return kExitBadInput;
      }
      topt.scripted_alarm_actions = true;
      tl = viewer::Timeline::create(sc, topt, error);
      opt.at = t;
      opt.screenshot = a.screenshot;
      opt.hidden = true;
      opt.width = a.width;
      opt.height = a.height;
      if (viewer::run_viewer(*tl, opt, error) != 0) {
        std::cerr << "planttwin drill: " << error << "\n";
        return kExitBadInput;
      }
      return kExitPass;
    }
    opt.width = a.width;
    opt.height = a.height;
    if (viewer::run_viewer(*tl, opt, error) != 0) {
      std::cerr << "planttwin drill: " << error << " (or use --headless)\n";
      return kExitBadInput;
    }
  }
  viewer::DrillScore s = viewer::score_drill(sc, tl->alarms(), tl->now());
  s.operator_actions = static_cast<int>(tl->actions().size());
  if (!viewer::write_drill_report(s, a.report, error)) {
    std::cerr << error << "\n";
    return kExitBadInput;
  }
  std::printf("%s: %.1f / 100 (%zu alarms: %d on time, %d late, %d missed) -> %s/drill.md\n", sc.name.c_str(), s.total,
              s.alarms.size(), s.passed, s.late, s.missed, a.report.c_str());
  return s.all_on_time ? kExitPass : kExitFail;
}

}  // namespace

std::vector<Subcommand> add_view_commands(CLI::App& app) {
  auto va = std::make_shared<ViewArgs>();
  CLI::App* view = app.add_subcommand("view", "Viewer: plant map per floor and 3D, alarms, permits, headcounts (exit 0, 2 bad input or no display)");
  view->add_option("scenario", va->scenario, "Scenario file, or a live session's recording (.ptrec) to play back")->required();
  view->add_option("--at", va->at, "Run to this time first (e.g. 70s, 2min)");
  view->add_option("--screenshot", va->screenshot, "Draw one frame at --at, write it as PNG and exit");
  view->add_option("--lang", va->lang, "zh or en")->capture_default_str();
  view->add_option("--width", va->width, "Window width, pixels")->capture_default_str()->check(CLI::Range(320, 8192));
  view->add_option("--height", va->height, "Window height, pixels")->capture_default_str()->check(CLI::Range(240, 8192));
  view->add_option("--center", va->center, "Map centre X,Y in site metres (default: fit the site)");
  view->add_option("--zoom", va->zoom, "Map zoom, pixels per metre (default: fit the site)");
  view->add_option("--floor", va->floor, "Floor shown first (default: 1)");
  view->add_flag("--3d", va->view_3d, "Start in the 3D view");
  view->add_option("--frame-stats", va->frame_stats, "Draw this many frames and print the median and p99 frame time (with --screenshot: the last frame)")->check(CLI::Range(1, 100000));
  view->add_option("--pan-px", va->pan_px, "With --frame-stats: move the map this many pixels right a frame, as a drag does (the map is redrawn every frame)")->check(CLI::Range(-1000.0, 1000.0));
  view->add_flag("--hidden", va->hidden, "No visible window");
  view->add_option("--speed", va->speed, "Start playing at this speed (0.1 .. 100); with --frame-stats, frames advance 1/60 s x speed")->check(CLI::Range(0.1, 100.0));
  view->add_option("--panel", va->panel, "Panel shown first")->check(CLI::IsMember({"alarms", "headcount", "permits", "accuracy", "delays"}));
  view->add_option("--select", va->select, "Select this alarm (e.g. A000002): the map marks it and the panel shows its cameras");

  auto da = std::make_shared<DrillArgs>();
  CLI::App* drill = app.add_subcommand("drill", "A scored drill for duty staff: acknowledge and handle each alarm (exit 0 all on time, 1 late or missed, 2 bad input)");
  drill->add_option("scenario", da->scenario, "Drill scenario (with duty and drill targets)")->required();
  drill->add_option("--report", da->report, "Write drill.json and drill.md here (required unless --screenshot)");
  drill->add_option("--speed", da->speed, "Play this many times faster than real time (0.1 .. 100)")->capture_default_str()->check(CLI::Range(0.1, 100.0));
  drill->add_flag("--headless", da->headless, "No window: the scenario's scripted alarm actions act, as fast as possible");
  drill->add_option("--lang", da->lang, "zh or en")->capture_default_str();
  drill->add_option("--screenshot", da->screenshot, "Draw the drill window at --at as PNG and exit, without a report (scripted actions applied)");
  drill->add_option("--at", da->at, "Time of --screenshot (e.g. 100s)");
  drill->add_option("--width", da->width, "Window width, pixels")->capture_default_str();
  drill->add_option("--height", da->height, "Window height, pixels")->capture_default_str();

  return {{view, [va] { return cmd_view(*va); }}, {drill, [da] { return cmd_drill(*da); }}};
}

}  // namespace planttwin::cli
