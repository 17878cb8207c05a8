// The window: GLFW + OpenGL 3 + Dear ImGui over a Timeline (docs/viewer.md). Everything it draws
// comes from the timeline's snapshot and true poses; it never reads engine state directly.
#pragma once
#include <optional>
#include <string>

#include "engine/geometry.h"
#include "engine/time.h"
#include "viewer/strings.h"
#include "viewer/timeline.h"

namespace planttwin::viewer {

struct ViewOptions {
  Lang lang = Lang::zh;
  int width = 1280, height = 800;  // window size, pixels
  // One-frame mode: run to `at`, draw one frame, write `screenshot` (PNG) and return.
  std::optional<Micros> at;
  std::string screenshot;
  // Map view: centre (site metres) and zoom (pixels per metre); absent: fit the site.
  std::optional<Vec2> center;
  std::optional<double> zoom;
  std::string floor;      // floor shown first; "" = the first floor of the site
  bool view_3d = false;   // start in the 3D view
  std::string select;     // alarm id selected first
  std::string panel;      // panel shown first: alarms, headcount, permits, accuracy, delays, drill
  int frame_stats = 0;    // > 0: draw this many frames, print median and p99 frame time, return
                          // (with `screenshot`: the PNG is the last of these frames)
  Vec2 pan_px;            // frame stats: the map moves this many pixels a frame (a drag), so its
                          // static layer is redrawn every frame
  bool hidden = false;    // no visible window (screenshots, frame stats)
  // Drill: backward jumps refused, a drill panel with the score; the window returns when the
  // trainee finishes or closes it.
  bool drill = false;
  bool play = false;      // start playing (drills always do)
  double speed = 1;       // at this speed
};

// Frame-time figures of a --frame-stats run, milliseconds.
struct FrameStats {
  int frames = 0;
  double median_ms = 0, p99_ms = 0, mean_ms = 0;  // whole frame: build, GL draw, swap, glFinish
  double build_median_ms = 0, build_p99_ms = 0;   // CPU: advancing the run and building the frame (our code and ImGui), no GL
  double cpu_median_ms = 0, cpu_p99_ms = 0;       // process CPU time a frame, every thread (llvmpipe's too):
                                                  // the frame's work, whatever else loads the machine
  double gl_median_ms = 0, gl_p99_ms = 0;         // GL: drawing the frame's lists, to glFinish (the rasteriser's time)
  int vertices = 0;                               // vertices drawn in the last frame
  int draw_calls = 0;                             // ImGui draw commands in the last frame
  int layer_redraws = 0;                          // frames that redrew the map's static layer
  std::string renderer;                           // GL_RENDERER (e.g. llvmpipe: software)
};

// Opens the window and runs until it is closed (or the one-frame / frame-stats job is done).
// Returns 0, or 2 with `error` set when there is no display or GL context.
int run_viewer(Timeline& tl, const ViewOptions& opt, std::string& error, FrameStats* stats = nullptr);

// The map transform of the last drawn frame (for tests and --screenshot): a site point (x, y)
// lands at pixel (origin_x + (x - center.x) * scale, origin_y - (y - center.y) * scale).
struct MapTransform {
  double origin_x = 0, origin_y = 0;  // pixel of the centre
  Vec2 center;                         // site metres
  double scale = 1;                    // pixels per metre
};
MapTransform last_map_transform();

}  // namespace planttwin::viewer
