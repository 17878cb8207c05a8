// The real window under Xvfb (DESIGN.md 5: "a real GLFW window under Xvfb with Mesa, screenshot
// checked"): `planttwin view --at T --screenshot` before and after a gathering alarm, and the
// gathering disk's colour where the engine put the gathering, only once it is raised.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stb_image.h>
#include <string>

#include "scenarios/loader.h"
#include "viewer/timeline.h"

namespace planttwin::viewer {
namespace {

namespace fs = std::filesystem;

bool have_xvfb() { return std::system("command -v xvfb-run > /dev/null 2>&1") == 0; }

struct Shot {
  int rc = -1;
  nlohmann::json info;
  std::vector<unsigned char> rgb;
  int w = 0, h = 0;
  std::string log;
};

Shot screenshot(const std::string& scenario, const std::string& at, const std::string& name, const std::string& extra = "") {
  Shot s;
  const fs::path dir = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "viewer";
  fs::create_directories(dir);
  const fs::path png = dir / (name + ".png"), out = dir / (name + ".out");
  fs::remove(png);
  const std::string cmd = "xvfb-run -a -s \"-screen 0 1280x800x24\" " PLANTTWIN_COMMAND " view " + scenario +
                          " --at " + at + " --screenshot " + png.string() + " " + extra + " > " + out.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  s.rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  if (FILE* f = std::fopen(out.string().c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.log.append(buf, n);
    std::fclose(f);
  }
  const auto brace = s.log.find('{');
  if (brace != std::string::npos) s.info = nlohmann::json::parse(s.log.substr(brace, s.log.find('\n', brace) - brace), nullptr, false);
  int comp = 0;
  if (unsigned char* px = stbi_load(png.string().c_str(), &s.w, &s.h, &comp, 3)) {
    s.rgb.assign(px, px + static_cast<size_t>(s.w) * static_cast<size_t>(s.h) * 3);
    stbi_image_free(px);
  }
  return s;
}

struct Rgb {
  int r, g, b;
};

Rgb at_px(const Shot& s, int x, int y) {
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(s.w) + static_cast<size_t>(x)) * 3;
  return {s.rgb[i], s.rgb[i + 1], s.rgb[i + 2]};
}

// site metres -> pixel, with the transform the viewer printed
std::pair<double, double> pixel(const Shot& s, Vec2 p) {
  const auto& m = s.info["map"];
  const double sc = m["scale_px_per_m"];
  return {m["origin_px"][0].get<double>() + (p.x - m["center_m"][0].get<double>()) * sc,
          m["origin_px"][1].get<double>() - (p.y - m["center_m"][1].get<double>()) * sc};
}

// pixels near (x, y) within `tol` per channel of the colour
int near_colour(const Shot& s, double x, double y, int radius, Rgb c, int tol) {
  int n = 0;
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx) {
      const int px = static_cast<int>(std::lround(x)) + dx, py = static_cast<int>(std::lround(y)) + dy;
      if (px < 0 || py < 0 || px >= s.w || py >= s.h) continue;
      const Rgb v = at_px(s, px, py);
      n += std::abs(v.r - c.r) <= tol && std::abs(v.g - c.g) <= tol && std::abs(v.b - c.b) <= tol;
    }
  return n;
}

TEST(ViewerScreenshot, GatheringDiskAppearsWhereAndWhenRaised) {
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run is not installed (apt-get install xvfb xauth): the window cannot be tested";
  const std::string scen = PLANTTWIN_SOURCE_DIR "/scenarios/examples/first-gathering.yaml";
  // where the engine puts the gathering (raised at 70 s)
  Scenario sc;
  ASSERT_FALSE(load_scenario_file(scen, sc));
  std::string error;
  auto tl = Timeline::create(sc, {}, error);
  ASSERT_TRUE(tl) << error;
  tl->seek(75 * kSecond);
  ASSERT_EQ(tl->snapshot().gatherings.size(), 1u);
  const auto g = tl->snapshot().gatherings[0];

  // a fixed view: centre and zoom given, so the pixel of the disk is known
  const std::string view = "--center 50,50 --zoom 6";
  const Shot before = screenshot(scen, "65s", "gathering-65s", view);
  const Shot after = screenshot(scen, "75s", "gathering-75s", view);
  ASSERT_EQ(before.rc, 0) << before.log;
  ASSERT_EQ(after.rc, 0) << after.log;
  ASSERT_EQ(after.w, 1280);
  ASSERT_EQ(after.h, 800);
  ASSERT_TRUE(after.info.is_object()) << after.log;
  EXPECT_DOUBLE_EQ(after.info["map"]["scale_px_per_m"].get<double>(), 6.0);

  // not blank: many colours, both frames
  for (const Shot* s : {&before, &after}) {
    std::set<int> colours;
    for (size_t i = 0; i < s->rgb.size(); i += 3 * 7) colours.insert(s->rgb[i] << 16 | s->rgb[i + 1] << 8 | s->rgb[i + 2]);
    EXPECT_GT(colours.size(), 50u);
  }

  // the disk's rim, in the yellow level colour, at four points of the circle
  const Rgb yellow{250, 210, 0};
  const double r_px = g.radius * 6.0;
  const auto [cx, cy] = pixel(after, g.center);
  int rim_after = 0, rim_before = 0;
  for (auto [dx, dy] : {std::pair{1.0, 0.0}, {-1.0, 0.0}, {0.0, 1.0}, {0.0, -1.0}}) {
    rim_after += near_colour(after, cx + dx * r_px, cy + dy * r_px, 3, yellow, 30) > 0;
    rim_before += near_colour(before, cx + dx * r_px, cy + dy * r_px, 3, yellow, 30) > 0;
  }
  EXPECT_EQ(rim_after, 4) << "gathering rim not found around pixel " << cx << "," << cy;
  EXPECT_EQ(rim_before, 0) << "a gathering rim before the alarm was raised";
  // inside the disk, away from the people (they stand on y = 40): the disk's tint
  const auto [ix, iy] = pixel(after, {g.center.x, g.center.y - g.radius * 0.6});
  const Rgb in_after = at_px(after, static_cast<int>(ix), static_cast<int>(iy));
  const Rgb in_before = at_px(before, static_cast<int>(ix), static_cast<int>(iy));
  EXPECT_GT(in_after.r, 230);
  EXPECT_GT(in_after.g, 200);
  EXPECT_LT(in_after.b, 215) << "expected a yellow tint";
  EXPECT_GT(in_before.b, 235) << "expected the plain yard before the alarm";
}

// H-04 frame time: the map's static layer (fence, zones, buildings, devices) is drawn once into a
// texture and only redrawn when the view changes. A drag of 5 px a frame must redraw it every
// frame: the fence is where the final view puts it (and not where the first view had it), and the
// gathering disk (drawn every frame over the layer) sits on the same transform.
TEST(ViewerScreenshot, H04_StaticLayerFollowsADrag) {
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run is not installed (apt-get install xvfb xauth): the window cannot be tested";
  const std::string scen = PLANTTWIN_SOURCE_DIR "/scenarios/examples/first-gathering.yaml";
  const Shot still = screenshot(scen, "75s", "drag-still", "--center 50,50 --zoom 6");
  const Shot drag = screenshot(scen, "75s", "drag-40", "--center 50,50 --zoom 6 --frame-stats 40 --pan-px 5");
  ASSERT_EQ(still.rc, 0) << still.log;
  ASSERT_EQ(drag.rc, 0) << drag.log;
  ASSERT_TRUE(drag.info.is_object()) << drag.log;
  // the frame-stats line follows the screenshot line
  const auto stats_at = drag.log.find("{\"renderer\"");
  ASSERT_NE(stats_at, std::string::npos) << drag.log;
  const auto stats = nlohmann::json::parse(drag.log.substr(stats_at, drag.log.find('\n', stats_at) - stats_at));
  EXPECT_EQ(stats["frames"].get<int>(), 40);
  EXPECT_GE(stats["layer_redraws"].get<int>(), 40) << "the layer must be redrawn on every frame of a drag";
  // the view moved right: the centre is 5 px / 6 px/m a frame further west
  const double moved_px = (50.0 - drag.info["map"]["center_m"][0].get<double>()) * 6.0;
  EXPECT_GT(moved_px, 200.0);
  EXPECT_DOUBLE_EQ(drag.info["map"]["center_m"][1].get<double>(), 50.0);

  const Rgb fence{90, 90, 90}, paper{244, 243, 238};
  // the west fence (x = 0) between y = 20 and 80, in both pictures at each one's own transform
  int fence_still = 0, fence_drag = 0, fence_stale = 0;
  for (double y = 20; y <= 80; y += 10) {
    const auto [sx, sy] = pixel(still, {0, y});
    const auto [dx, dy] = pixel(drag, {0, y});
    fence_still += near_colour(still, sx, sy, 1, fence, 25) > 0;
    fence_drag += near_colour(drag, dx, dy, 1, fence, 25) > 0;
    // where the fence was before the drag: now outside the plant, the plain paper
    fence_stale += near_colour(drag, sx, sy, 1, fence, 25) > 0;
    EXPECT_GT(near_colour(drag, sx, sy, 1, paper, 4), 0) << "y = " << y;
  }
  EXPECT_EQ(fence_still, 7);
  EXPECT_EQ(fence_drag, 7);
  EXPECT_EQ(fence_stale, 0) << "the static layer kept the old view";
  // inside the fence: the plant's white, at the dragged transform
  const auto [ix, iy] = pixel(drag, {20, 90});
  EXPECT_GT(near_colour(drag, ix, iy, 2, Rgb{255, 255, 255}, 3), 0);
}

TEST(ViewerScreenshot, FitsTheSiteIn3DAndEnglish) {
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run is not installed (apt-get install xvfb xauth): the window cannot be tested";
  const Shot s = screenshot(PLANTTWIN_SOURCE_DIR "/scenarios/acceptance/h01-mixed-canonical.yaml", "100s", "h01-3d-en", "--3d --lang en");
  ASSERT_EQ(s.rc, 0) << s.log;
  ASSERT_EQ(s.w, 1280);
  std::set<int> colours;
  for (size_t i = 0; i < s.rgb.size(); i += 3 * 7) colours.insert(s.rgb[i] << 16 | s.rgb[i + 1] << 8 | s.rgb[i + 2]);
  EXPECT_GT(colours.size(), 50u);
}

// PL-14 3D view: tanks and people are painted far to near, so a tank hides a visitor standing
// right behind it (as the default orbit sees it) while a contractor in front of it stays visible.
TEST(ViewerScreenshot, PL14_TankHidesWhoStandsBehindItIn3D) {
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run is not installed (apt-get install xvfb xauth): the window cannot be tested";
  // the default orbit (yaw -0.5 rad) looks along (-sin 0.5, cos 0.5) on the ground: farther is that way
  const double fx = -std::sin(0.5), fy = std::cos(0.5);
  auto at = [&](double d) { return "[" + std::to_string(50 + d * fx) + ", " + std::to_string(50 + d * fy) + "]"; };
  const fs::path yaml = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "viewer" / "tank-3d.yaml";
  fs::create_directories(yaml.parent_path());
  {
    std::ofstream o(yaml);
    o << "scenario: tank-3d\nsite:\n  site: yard\n  bounds: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
         "  obstacles:\n    - {id: TK, shape: cylinder, center: [50, 50], radius: 10, z: [0, 18]}\n"
         "duration: 10s\npeople:\n"
         "  - {id: BEHIND, category: visitor, tag: T1, at: "
      << at(13) << "}\n  - {id: FRONT, category: contractor, tag: T2, at: " << at(-13) << "}\n";
  }
  const Shot s = screenshot(yaml.string(), "2s", "tank-3d", "--3d");
  ASSERT_EQ(s.rc, 0) << s.log;
  int visitor = 0, contractor = 0;
  for (int y = 0; y < s.h; ++y)
    for (int x = 0; x < 780; ++x) {  // the view, left of the panels
      const Rgb v = at_px(s, x, y);
      visitor += std::abs(v.r - 120) < 12 && std::abs(v.g - 70) < 12 && std::abs(v.b - 200) < 12;
      contractor += std::abs(v.r - 200) < 12 && std::abs(v.g - 60) < 12 && std::abs(v.b - 150) < 12;
    }
  EXPECT_GT(contractor, 10) << "the person in front of the tank must show";
  EXPECT_EQ(visitor, 0) << "the person behind the tank must be hidden by it";
}

TEST(ViewerCommand, NoDisplayIsBadInputNamingDisplay) {
  const std::string out = std::string(PLANTTWIN_BINARY_DIR) + "/test-out/viewer-nodisplay.out";
  const int rc = std::system(("env -u DISPLAY -u WAYLAND_DISPLAY " PLANTTWIN_COMMAND " view " PLANTTWIN_SOURCE_DIR
                              "/scenarios/examples/first-gathering.yaml --at 10s --screenshot /tmp/never.png > " + out + " 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  FILE* f = std::fopen(out.c_str(), "r");
  ASSERT_TRUE(f);
  char buf[1024] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string msg(buf, n);
  EXPECT_NE(msg.find("DISPLAY"), std::string::npos) << msg;
  EXPECT_NE(msg.find("xvfb-run"), std::string::npos) << msg;
  // a time outside the scenario is bad input too
  const int bad = std::system("env -u DISPLAY " PLANTTWIN_COMMAND " view " PLANTTWIN_SOURCE_DIR
                              "/scenarios/examples/first-gathering.yaml --at 999s --screenshot /tmp/never.png > /dev/null 2>&1");
  ASSERT_TRUE(WIFEXITED(bad));
  EXPECT_EQ(WEXITSTATUS(bad), 2);
}

}  // namespace
}  // namespace planttwin::viewer

namespace planttwin::viewer {
namespace {

// The interactive drill under Xvfb at 100x: nobody acts, the window is stopped with SIGTERM (as
// closing it): the report is still written, and every part that fell due is missed.
TEST(DrillWindow, NobodyActsEverythingDueIsMissed) {
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run is not installed (apt-get install xvfb xauth): the window cannot be tested";
  const fs::path out = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "drill-window";
  fs::remove_all(out);
  const std::string cmd = "xvfb-run -a -s \"-screen 0 1280x800x24\" sh -c '" PLANTTWIN_COMMAND " drill " PLANTTWIN_SOURCE_DIR
                          "/scenarios/drills/drill-tank-farm-sos.yaml --speed 100 --report " + out.string() +
                          " & P=$!; sleep 8; kill -TERM $P; wait $P; echo $? > " + out.string() + ".rc' > " + out.string() + ".log 2>&1";
  // the drill's own exit code, kept inside the X session: xvfb-run may exit 5 after the command
  // ended well ("problem while cleaning up temporary directory", seen once in CI on a loaded machine)
  (void)std::system(cmd.c_str());
  std::ifstream rc_file(out.string() + ".rc");
  int rc = -1;
  ASSERT_TRUE(rc_file >> rc) << "the drill never ended; see " << out.string() << ".log";
  EXPECT_EQ(rc, 1);
  ASSERT_TRUE(fs::exists(out / "drill.json"));
  FILE* f = std::fopen((out / "drill.json").string().c_str(), "r");
  ASSERT_TRUE(f);
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["operator_actions"], 0);
  ASSERT_GE(j["ended_at"].get<double>(), 70.0) << "the drill did not get past the SOS target in 8 s";
  EXPECT_EQ(j["alarms"][0]["type"], "sos");
  EXPECT_EQ(j["alarms"][0]["ack"]["verdict"], "missed");
  EXPECT_EQ(j["counts"]["pass"], 0);
  EXPECT_EQ(j["counts"]["late"], 0);
}

}  // namespace
}  // namespace planttwin::viewer
