#include "viewer/app.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GL/glext.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <stb_image_write.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <numbers>
#include <set>

#include "scenarios/runner.h"
#include "viewer/drill.h"
#include "viewer/error_stats.h"

namespace planttwin::viewer {

namespace {

float F(double v) { return static_cast<float>(v); }

// ---- colours -------------------------------------------------------------------------------------

ImU32 level_colour(AlarmLevel level, int alpha = 255) {
  const auto a = static_cast<unsigned>(alpha);
  switch (level) {
    case AlarmLevel::red: return IM_COL32(220, 38, 38, a);
    case AlarmLevel::orange: return IM_COL32(245, 124, 0, a);
    case AlarmLevel::yellow: return IM_COL32(250, 210, 0, a);
    case AlarmLevel::blue: return IM_COL32(37, 99, 235, a);
    case AlarmLevel::none: break;
  }
  return IM_COL32(128, 128, 128, a);
}

ImU32 risk_colour(Risk r, int alpha) {
  switch (r) {
    case Risk::red: return level_colour(AlarmLevel::red, alpha);
    case Risk::orange: return level_colour(AlarmLevel::orange, alpha);
    case Risk::yellow: return level_colour(AlarmLevel::yellow, alpha);
    case Risk::blue: return level_colour(AlarmLevel::blue, alpha);
    case Risk::none: break;
  }
  return IM_COL32(120, 120, 120, static_cast<unsigned>(alpha));
}

// zone fills are lighter and a different hue from the alarm colours, so a gathering disk stands out
ImU32 risk_fill(Risk r) {
  switch (r) {
    case Risk::red: return IM_COL32(248, 200, 200, 255);
    case Risk::orange: return IM_COL32(252, 222, 190, 255);
    case Risk::yellow: return IM_COL32(250, 240, 190, 255);
    case Risk::blue: return IM_COL32(205, 220, 248, 255);
    case Risk::none: break;
  }
  return IM_COL32(225, 225, 225, 255);
}

ImU32 category_colour(Category c) {
  switch (c) {
    case Category::employee: return IM_COL32(0, 122, 204, 255);
    case Category::contractor: return IM_COL32(200, 60, 150, 255);
    case Category::visitor: return IM_COL32(120, 70, 200, 255);
    case Category::driver: return IM_COL32(0, 150, 120, 255);
  }
  return IM_COL32(0, 0, 0, 255);
}

ImU32 permit_colour(PermitStatus s) {
  switch (s) {
    case PermitStatus::in_progress: return IM_COL32(22, 163, 74, 255);
    case PermitStatus::signed_: return IM_COL32(14, 116, 144, 255);
    case PermitStatus::paused: return IM_COL32(202, 138, 4, 255);
    case PermitStatus::expired:
    case PermitStatus::revoked: return IM_COL32(185, 28, 28, 255);
    default: return IM_COL32(100, 100, 110, 255);
  }
}

ImVec4 to_vec4(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

const ImU32 kMapBg = IM_COL32(244, 243, 238, 255);
const ImU32 kInk = IM_COL32(40, 44, 52, 255);
const ImU32 kGrid = IM_COL32(226, 225, 218, 255);

std::string fmt_s(Micros t) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", to_seconds(t));
  return b;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// ---- site geometry helpers ----------------------------------------------------------------------

struct Extent {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  void add(Vec2 p) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  bool empty() const { return x0 > x1; }
};

Extent site_extent(const Site& s, const Snapshot& snap) {
  Extent e;
  if (s.bounds) {
    for (Vec2 p : s.bounds->pts) e.add(p);
    return e;
  }
  for (const Zone& z : s.zones)
    for (Vec2 p : z.polygon.pts) e.add(p);
  for (const Building& b : s.buildings)
    for (Vec2 p : b.footprint.pts) e.add(p);
  for (const auto& p : snap.people)
    if (p.has_fix) e.add(p.pos);
  if (e.empty()) e.add({0, 0}), e.add({100, 100});
  if (e.x1 - e.x0 < 20) e.x0 -= 10, e.x1 += 10;
  if (e.y1 - e.y0 < 20) e.y0 -= 10, e.y1 += 10;
  return e;
}

bool bands_overlap(double a0, double a1, double b0, double b1) { return a0 < b1 && b0 < a1; }

bool zone_on_floor(const Zone& z, const Floor& f) {
  if (!z.floors.empty()) return std::find(z.floors.begin(), z.floors.end(), f.id) != z.floors.end();
  if (z.z) return bands_overlap(z.z->first, z.z->second, f.z0, f.z1) || (z.z->first >= f.z0 && z.z->first < f.z1);
  return true;
}

bool building_has_floor(const Building& b, const std::string& floor) {
  return std::any_of(b.floors.begin(), b.floors.end(), [&](const Floor& f) { return f.id == floor; });
}

// A device (anchor, camera) inside a building shows on the building floor that holds its height;
// outdoors it shows on every floor.
bool device_on_floor(const Site& s, const double at[3], const Floor& f) {
  for (const Building& b : s.buildings) {
    if (!b.footprint.contains({at[0], at[1]})) continue;
    for (const Floor& bf : b.floors)
      if (at[2] >= bf.z0 && at[2] < bf.z1) return bf.id == f.id;
    return false;
  }
  return true;
}

// ---- view state ----------------------------------------------------------------------------------

struct State {
  std::vector<Floor> floors;  // ordered by height
  int floor = 0;
  bool view_3d = false;
  bool fit_pending = true;
  Vec2 center{0, 0};
  double scale = 2;  // px / m
  double yaw = -0.5, pitch = 0.75, zoom3d = 1;  // radians; 3D orbit
  std::string selected_alarm;
  char note[256] = "";
  char jump[32] = "";
  std::string message;
  bool finish = false;  // drill: the trainee finished
  std::vector<std::string> glyph_text;
  int frames = 0;
  // the accuracy panel's statistics, updated with the new errors only
  ErrorStats errors;
  std::vector<float> error_hist, error_cdf;
  double error_top = 0.5, error_q68 = 0, error_q95 = 0;
  // The view's rectangle and paper colour: cleared by GL before ImGui draws (see run_viewer)
  ImVec2 view_p0, view_size;
  ImVec4 view_bg;
};

MapTransform g_map;

// The map's static layer (draw_map_static) lives in an offscreen texture: building it costs a
// software rasteriser several milliseconds (large blended fills), copying it to the screen about
// one. It is redrawn when its key changes (pan, zoom, floor, language, window size, the cameras
// of the selected alarm).
struct MapKey {
  int floor = -1;
  double cx = 0, cy = 0, scale = 0;
  float x0 = 0, y0 = 0, w = 0, h = 0;
  int lang = 0;
  std::string hot_cameras;
  bool operator==(const MapKey&) const = default;
};
struct MapLayer {
  MapKey key;
  std::unique_ptr<ImDrawList> dl;  // the layer's draw list; drawn into `tex` after ImGui::Render
  bool pending = false;            // dl changed since it was last drawn into tex
  bool shown = false;              // this frame shows the map (not the 3D view)
  GLuint fbo = 0, tex = 0;
  int tex_w = 0, tex_h = 0;        // framebuffer pixels
  int redraws = 0;
};
MapLayer g_layer;
// SIGINT / SIGTERM end the window loop like closing it (a drill then still writes its report)
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }
int g_vertices = 0;
int g_draw_calls = 0;

// ---- fonts ---------------------------------------------------------------------------------------

// Small pictures drawn many times a frame (the people of a crowd) live in the font atlas and are
// drawn as one textured quad each: a software rasteriser (Mesa llvmpipe) pays per triangle, and a
// quad is 2 triangles where an 8-sided disc is 6 and its anti-aliased fringe 16 more.
struct Sprite {
  int rect = -1;       // custom rectangle in the atlas
  int size = 0;        // pixels (odd: the centre is a pixel)
  ImVec2 uv0, uv1;
};
Sprite g_disc, g_ring, g_both;  // a person's estimate (filled), true position (ring), both on one pixel
constexpr float kCrowdRadius = 3.0f;
// odd sizes, as small as the picture allows: a software rasteriser pays per pixel of a quad too
constexpr int kDiscSize = 7;  // radius 3.25 px
constexpr int kRingSize = 9;  // radius 2.5 .. 4 px

// Paints the sprites into the atlas (after it is built, before the GL back end uploads it): white,
// with coverage as alpha (4 x 4 samples a pixel), so the vertex colour tints them.
void paint_sprites() {
  ImFontAtlas* atlas = ImGui::GetIO().Fonts;
  unsigned char* px = nullptr;
  int tw = 0, th = 0;
  atlas->GetTexDataAsRGBA32(&px, &tw, &th);
  // coverage of the disc and of the ring at a pixel of a sprite of `size` (4 x 4 samples)
  auto cover = [](int size, int x, int y, auto inside) {
    const double c = size / 2.0;
    int hit = 0;
    for (int sy = 0; sy < 4; ++sy)
      for (int sx = 0; sx < 4; ++sx) hit += inside(std::hypot(x + (sx + 0.5) / 4 - c, y + (sy + 0.5) / 4 - c)) ? 1 : 0;
    return hit / 16.0;
  };
  auto in_disc = [](double d) { return d <= kCrowdRadius + 0.25; };
  auto in_ring = [](double d) { return d >= kCrowdRadius - 0.5 && d <= kCrowdRadius + 1.0; };
  // colour (grey level, 255 = white: tinted by the vertex colour) and alpha of each pixel
  auto paint = [&](Sprite& sp, auto pixel) {
    const ImFontAtlasCustomRect* r = atlas->GetCustomRectByIndex(sp.rect);
    if (!r || !r->IsPacked()) return;
    for (int y = 0; y < sp.size; ++y)
      for (int x = 0; x < sp.size; ++x) {
        const auto [grey, alpha] = pixel(x, y);
        unsigned char* p = px + 4 * (static_cast<size_t>(r->Y + y) * static_cast<size_t>(tw) + static_cast<size_t>(r->X + x));
        p[0] = p[1] = p[2] = static_cast<unsigned char>(std::lround(255 * grey));
        p[3] = static_cast<unsigned char>(std::lround(255 * alpha));
      }
    sp.uv0 = ImVec2(F(r->X) / F(tw), F(r->Y) / F(th));
    sp.uv1 = ImVec2(F(r->X + sp.size) / F(tw), F(r->Y + sp.size) / F(th));
  };
  paint(g_disc, [&](int x, int y) { return std::pair{1.0, cover(kDiscSize, x, y, in_disc)}; });
  paint(g_ring, [&](int x, int y) { return std::pair{1.0, cover(kRingSize, x, y, in_ring)}; });
  // the estimate's disc over the true position's dark ring, in one quad (when both fall on the
  // same pixel): white where the disc is (tinted to the category colour), black where the ring shows
  paint(g_both, [&](int x, int y) {
    const double d = cover(kRingSize, x, y, in_disc), ring = cover(kRingSize, x, y, in_ring) * 220.0 / 255.0;
    const double alpha = d + (1 - d) * ring;
    return std::pair{alpha > 0 ? d / alpha : 0.0, alpha};
  });
}

// One sprite centred on the pixel that holds `q`: texels land exactly on pixels.
void sprite(ImDrawList* dl, const Sprite& sp, ImVec2 q, ImU32 col) {
  const float x = std::floor(q.x) - F(sp.size / 2), y = std::floor(q.y) - F(sp.size / 2);
  dl->PrimReserve(6, 4);
  dl->PrimRectUV(ImVec2(x, y), ImVec2(x + F(sp.size), y + F(sp.size)), sp.uv0, sp.uv1, col);
}

void load_fonts(const Timeline& tl) {
  ImGuiIO& io = ImGui::GetIO();
  g_disc = {io.Fonts->AddCustomRectRegular(kDiscSize, kDiscSize), kDiscSize, {}, {}};
  g_ring = {io.Fonts->AddCustomRectRegular(kRingSize, kRingSize), kRingSize, {}, {}};
  g_both = {io.Fonts->AddCustomRectRegular(kRingSize, kRingSize), kRingSize, {}, {}};
  const char* path = PLANTTWIN_CJK_FONT;
  if (!std::filesystem::exists(path)) {
    io.Fonts->AddFontDefault();
    io.Fonts->Build();
    paint_sprites();
    return;
  }
  // the common simplified set plus every character this run can show (labels, names, notes)
  ImFontGlyphRangesBuilder b;
  b.AddRanges(io.Fonts->GetGlyphRangesChineseSimplifiedCommon());
  for (const std::string& s : all_strings()) b.AddText(s.c_str());
  const Scenario& sc = tl.scenario();
  b.AddText(sc.name.c_str());
  b.AddText(sc.site.name.c_str());
  for (const Zone& z : sc.site.zones) b.AddText(z.name.c_str());
  for (const PersonDef& p : sc.people) b.AddText(p.name.c_str()), b.AddText(p.company.c_str());
  for (const ScriptAction& a : sc.script) b.AddText(a.alarm.note.c_str()), b.AddText(a.permit.note.c_str());
  for (AlarmType t : all_alarm_types()) b.AddText(zh(t));
  static ImVector<ImWchar> ranges;  // must outlive the atlas build
  ranges.clear();
  b.BuildRanges(&ranges);
  ImFontConfig cfg;
  cfg.FontNo = 2;  // Noto Sans CJK SC in the collection
  cfg.OversampleH = 1;
  cfg.OversampleV = 1;
  cfg.PixelSnapH = true;
  io.Fonts->AddFontFromFileTTF(path, 17.0f, &cfg, ranges.Data);
  io.Fonts->Build();
  paint_sprites();
}

void apply_style() {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0;
  s.FrameRounding = 3;
  s.TabRounding = 3;
  s.WindowBorderSize = 0;
  s.ItemSpacing = ImVec2(8, 5);
  s.CellPadding = ImVec2(5, 3);
  s.Colors[ImGuiCol_WindowBg] = ImVec4(0.12f, 0.13f, 0.15f, 1);
  s.Colors[ImGuiCol_Header] = ImVec4(0.20f, 0.33f, 0.50f, 1);
  s.Colors[ImGuiCol_TableRowBgAlt] = ImVec4(1, 1, 1, 0.03f);
}

// ---- 2D map --------------------------------------------------------------------------------------

struct Map {
  ImDrawList* dl;
  ImVec2 o;  // pixel of the centre
  Vec2 c;
  double s;
  ImVec2 px(Vec2 p) const { return ImVec2(F(o.x + (p.x - c.x) * s), F(o.y - (p.y - c.y) * s)); }
  ImVec2 px(double x, double y) const { return px(Vec2{x, y}); }
};

void poly(const Map& m, const std::vector<Vec2>& pts, ImU32 fill, ImU32 line, float thick) {
  if (pts.size() < 3) return;
  std::vector<ImVec2> v;
  v.reserve(pts.size());
  for (Vec2 p : pts) v.push_back(m.px(p));
  // zones and footprints may be concave: fill by triangle fan only when convex enough; ImGui's
  // convex fill is exact for the rectangles and convex outlines of site files
  if (fill & IM_COL32_A_MASK) m.dl->AddConvexPolyFilled(v.data(), static_cast<int>(v.size()), fill);
  if (line & IM_COL32_A_MASK) m.dl->AddPolyline(v.data(), static_cast<int>(v.size()), line, ImDrawFlags_Closed, thick);
}

void label(const Map& m, ImVec2 at, ImU32 col, const std::string& text, bool shadow = true) {
  if (shadow) m.dl->AddText(ImVec2(at.x + 1, at.y + 1), IM_COL32(255, 255, 255, 200), text.c_str());
  m.dl->AddText(at, col, text.c_str());
}

// The map's static layer: what the site, the floor, the view and the selected alarm's cameras
// decide, and nothing else. It is drawn once into a texture and copied to the screen each frame
// (MapLayer), so a frame pays only for what moves.
void draw_map_static(const Map& m, const Site& site, const Floor& floor, const State& st, ImVec2 p0, ImVec2 size,
                     const std::set<std::string>& sel_cams) {
  // grid every 10 m (50 m stronger)
  const double step = st.scale > 4 ? 10 : 50;
  const double gx0 = std::floor((st.center.x - size.x / 2 / st.scale) / step) * step;
  const double gy0 = std::floor((st.center.y - size.y / 2 / st.scale) / step) * step;
  for (double x = gx0; x < st.center.x + size.x / 2 / st.scale; x += step)
    m.dl->AddLine(ImVec2(m.px(x, 0).x, p0.y), ImVec2(m.px(x, 0).x, p0.y + size.y), kGrid);
  for (double y = gy0; y < st.center.y + size.y / 2 / st.scale; y += step)
    m.dl->AddLine(ImVec2(p0.x, m.px(0, y).y), ImVec2(p0.x + size.x, m.px(0, y).y), kGrid);

  // plant boundary
  if (site.bounds) poly(m, site.bounds->pts, IM_COL32(255, 255, 255, 255), IM_COL32(90, 90, 90, 255), 2);
  // zones, filled by risk colour (四色分区)
  for (const Zone& z : site.zones) {
    if (!zone_on_floor(z, floor)) continue;
    poly(m, z.polygon.pts, risk_fill(z.risk), 0, 0);
  }
  // buildings on this floor solid, others faint
  for (const Building& b : site.buildings) {
    const bool here = building_has_floor(b, floor.id);
    poly(m, b.footprint.pts, here ? IM_COL32(120, 120, 130, 40) : 0, here ? IM_COL32(70, 70, 80, 255) : IM_COL32(150, 150, 150, 120), here ? 2.5f : 1);
    if (here && !b.footprint.pts.empty()) label(m, ImVec2(m.px(b.footprint.pts[0]).x + 3, m.px(b.footprint.pts[0]).y - 18), IM_COL32(70, 70, 80, 255), b.id);
  }
  // obstacles overlapping this floor's height band
  for (const Obstacle& o : site.obstacles) {
    if (o.shape == Obstacle::Shape::cylinder) {
      if (!bands_overlap(o.z0, o.z1, floor.z0, floor.z1)) continue;
      m.dl->AddCircleFilled(m.px(o.center), F(o.radius * st.scale), IM_COL32(160, 165, 175, 255), 40);
      m.dl->AddCircle(m.px(o.center), F(o.radius * st.scale), IM_COL32(90, 95, 105, 255), 40, 1.5f);
      if (o.radius * st.scale > 18) label(m, ImVec2(m.px(o.center).x - 20, m.px(o.center).y - 7), IM_COL32(50, 50, 60, 255), o.id, false);
    } else if (o.shape == Obstacle::Shape::mesh) {
      // a model's plan outline (its convex hull), named when it is large enough on screen
      if (!o.mesh || !bands_overlap(o.min[2], o.max[2], floor.z0, floor.z1)) continue;
      poly(m, o.mesh->outline, IM_COL32(150, 155, 165, 200), IM_COL32(90, 95, 105, 255), 1.5f);
      if ((o.max[0] - o.min[0]) * st.scale > 40) label(m, ImVec2(m.px(o.min[0], o.max[1]).x + 3, m.px(o.min[0], o.max[1]).y + 3), IM_COL32(50, 50, 60, 255), o.id, false);
    } else {
      if (!bands_overlap(o.min[2], o.max[2], floor.z0, floor.z1)) continue;
      const ImVec2 a = m.px(o.min[0], o.max[1]), b = m.px(o.max[0], o.min[1]);
      m.dl->AddRectFilled(a, ImVec2(std::max(b.x, a.x + 1), std::max(b.y, a.y + 1)), IM_COL32(150, 155, 165, 220));
    }
  }
  // fences: zone outlines in their risk colour, name at the first corner
  for (const Zone& z : site.zones) {
    if (!zone_on_floor(z, floor)) continue;
    poly(m, z.polygon.pts, 0, risk_colour(z.risk, 230), 2);
    const ImVec2 at = m.px(z.polygon.box.min.x, z.polygon.box.max.y);
    std::string t = z.name.empty() ? z.id : z.name;
    if (lang() == Lang::en || z.name.empty()) t = z.id;
    label(m, ImVec2(at.x + 4, at.y + 3), IM_COL32(60, 60, 70, 255), t);
  }
  // cameras and their field of view
  for (const Camera& c : site.cameras) {
    if (!device_on_floor(site, c.at, floor)) continue;
    const bool hot = sel_cams.count(c.id) > 0;
    const double yaw = c.yaw_deg * std::numbers::pi / 180, half = c.hfov_deg * std::numbers::pi / 360;
    const ImVec2 at = m.px(c.at[0], c.at[1]);
    // the whole field of view as an outline; filled only for the cameras that see the selected
    // alarm, and near the camera (12 m) for the others: large translucent fills cost a software
    // renderer dearly and clutter the map
    auto wedge_of = [&](double r) {
      std::vector<ImVec2> w{at};
      for (int i = 0; i <= 16; ++i) {
        const double a = yaw - half + 2 * half * i / 16;
        w.push_back(m.px(c.at[0] + r * std::cos(a), c.at[1] + r * std::sin(a)));
      }
      return w;
    };
    const std::vector<ImVec2> wedge = wedge_of(c.range);
    const std::vector<ImVec2> nose = hot ? wedge : wedge_of(std::min(c.range, 12.0));
    m.dl->AddConvexPolyFilled(nose.data(), static_cast<int>(nose.size()), hot ? IM_COL32(56, 189, 248, 38) : IM_COL32(100, 116, 139, 40));
    m.dl->AddPolyline(wedge.data(), static_cast<int>(wedge.size()), hot ? IM_COL32(2, 132, 199, 255) : IM_COL32(100, 116, 139, 45), ImDrawFlags_Closed, hot ? 2.0f : 1.0f);
    m.dl->AddRectFilled(ImVec2(at.x - 4, at.y - 3), ImVec2(at.x + 4, at.y + 3), hot ? IM_COL32(2, 132, 199, 255) : IM_COL32(51, 65, 85, 255), 1);
    if (hot || st.scale > 3) label(m, ImVec2(at.x + 5, at.y - 16), IM_COL32(51, 65, 85, 255), c.id);
  }
  // anchors: small triangles
  for (const Anchor& a : site.anchors) {
    if (!device_on_floor(site, a.at, floor)) continue;
    const ImVec2 p = m.px(a.at[0], a.at[1]);
    m.dl->AddTriangleFilled(ImVec2(p.x, p.y - 4), ImVec2(p.x - 3.5f, p.y + 2.5f), ImVec2(p.x + 3.5f, p.y + 2.5f), IM_COL32(71, 85, 105, 200));
  }
}

void draw_map(Timeline& tl, State& st, ImVec2 p0, ImVec2 size) {
  const Scenario& sc = tl.scenario();
  const Site& site = sc.site;
  const Snapshot& snap = tl.snapshot();
  const Floor& floor = st.floors[static_cast<size_t>(st.floor)];
  ImGuiIO& io = ImGui::GetIO();

  if (st.fit_pending) {
    const Extent e = site_extent(site, snap);
    st.center = {(e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2};
    st.scale = std::min(size.x / (e.x1 - e.x0), size.y / (e.y1 - e.y0)) * 0.94;
    st.fit_pending = false;
  }
  // pan and zoom
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton("##map", size, ImGuiButtonFlags_MouseButtonLeft);
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0)) {
    st.center.x -= io.MouseDelta.x / st.scale;
    st.center.y += io.MouseDelta.y / st.scale;
  }
  if (ImGui::IsItemHovered() && io.MouseWheel != 0) {
    const ImVec2 mo(p0.x + size.x / 2, p0.y + size.y / 2);
    const Vec2 under{st.center.x + (io.MousePos.x - mo.x) / st.scale, st.center.y - (io.MousePos.y - mo.y) / st.scale};
    st.scale = std::clamp(st.scale * std::pow(1.15, io.MouseWheel), 0.05, 200.0);
    st.center = {under.x - (io.MousePos.x - mo.x) / st.scale, under.y + (io.MousePos.y - mo.y) / st.scale};
  }

  Map m{ImGui::GetWindowDrawList(), ImVec2(p0.x + size.x / 2, p0.y + size.y / 2), st.center, st.scale};
  g_map = {m.o.x, m.o.y, m.c, m.s};
  m.dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);

  // selected alarm and the cameras that see it
  const Alarm* sel = nullptr;
  for (const Alarm& a : snap.open_alarms)
    if (a.id == st.selected_alarm) sel = &a;
  std::set<std::string> sel_cams;
  if (sel) sel_cams.insert(sel->cameras.begin(), sel->cameras.end());
  // the static layer: redrawn (into MapLayer's texture, after ImGui::Render) only when what it shows changes
  {
    MapKey key{st.floor, st.center.x, st.center.y, st.scale, p0.x, p0.y, size.x, size.y, static_cast<int>(lang()), join(std::vector<std::string>(sel_cams.begin(), sel_cams.end()))};
    if (!g_layer.dl || !(g_layer.key == key)) {
      if (!g_layer.dl) g_layer.dl = std::make_unique<ImDrawList>(ImGui::GetDrawListSharedData());
      ImDrawList* dl = g_layer.dl.get();
      dl->_ResetForNewFrame();
      dl->Flags = m.dl->Flags;  // the window's anti-aliasing settings
      dl->PushTextureID(io.Fonts->TexID);
      dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), false);
      draw_map_static(Map{dl, m.o, m.c, m.s}, site, floor, st, p0, size, sel_cams);
      dl->PopClipRect();
      g_layer.key = std::move(key);
      g_layer.pending = true;
    }
    g_layer.shown = true;
  }
  // permit work areas with status
  for (const PermitRecord& p : snap.permits) {
    if (p.area.size() < 3 || (!p.floor.empty() && p.floor != floor.id)) continue;
    if (p.status == PermitStatus::accepted || p.status == PermitStatus::void_) continue;
    const ImU32 c = permit_colour(p.status);
    std::vector<ImVec2> v;
    for (Vec2 q : p.area) v.push_back(m.px(q));
    m.dl->AddConvexPolyFilled(v.data(), static_cast<int>(v.size()), (c & ~IM_COL32_A_MASK) | IM_COL32(0, 0, 0, 50));
    // dashed outline
    for (size_t i = 0; i < v.size(); ++i) {
      const ImVec2 a = v[i], b = v[(i + 1) % v.size()];
      const double len = std::hypot(b.x - a.x, b.y - a.y);
      for (double d = 0; d < len; d += 10) {
        const double e = std::min(len, d + 6);
        m.dl->AddLine(ImVec2(F(a.x + (b.x - a.x) * d / len), F(a.y + (b.y - a.y) * d / len)),
                      ImVec2(F(a.x + (b.x - a.x) * e / len), F(a.y + (b.y - a.y) * e / len)), c, 2);
      }
    }
    label(m, ImVec2(v[0].x + 3, v[0].y + 2), c, p.id + " " + permit_type_label(p.type) + " · " + permit_status_label(to_string(p.status)));
  }
  // gatherings: disks in their level colour
  for (const auto& g : snap.gatherings) {
    if (!g.floor.empty() && g.floor != floor.id) continue;
    const float r = F(g.radius * st.scale);
    m.dl->AddCircleFilled(m.px(g.center), r, level_colour(g.level, 60), 64);
    m.dl->AddCircle(m.px(g.center), r, level_colour(g.level), 64, 4);
    label(m, ImVec2(m.px(g.center).x - r * 0.7f, m.px(g.center).y - r - 20), kInk,
          alarm_type_label(AlarmType::gathering) + " " + g.alarm_id + " · " + level_label(g.level) + " · " + std::to_string(g.members.size()));
  }
  // people: estimate (filled, category colour), truth (ring) and the error line when they differ
  const bool show_truth = tl.estimates_differ();
  const bool many = snap.people.size() > 300;
  const float pr = many ? kCrowdRadius : 5.5f;
  const ImDrawListFlags aa = m.dl->Flags;
  if (many) m.dl->Flags &= ~ImDrawListFlags_AntiAliasedLines;  // the error lines of a crowd: 2 triangles each
  for (size_t i = 0; i < snap.people.size(); ++i) {
    const auto& p = snap.people[i];
    const TruthPose& t = tl.truth()[i];
    const bool est_here = p.has_fix && p.floor == floor.id;
    const bool true_here = show_truth && t.floor == floor.id;
    if (many && true_here && est_here) {
      // truth and estimate on the same pixel (the usual case at a zoom that shows a crowd): one quad
      const ImVec2 a = m.px(t.p), b = m.px(p.pos);
      if (std::floor(a.x) == std::floor(b.x) && std::floor(a.y) == std::floor(b.y)) {
        sprite(m.dl, g_both, b, p.offline ? IM_COL32(150, 150, 150, 255) : category_colour(p.category));
        continue;
      }
    }
    if (true_here) {
      if (est_here) {
        // a crowd: a line shorter than the estimate's disc lies under it (it starts at its centre)
        const ImVec2 a = m.px(t.p), b = m.px(p.pos);
        if (!many || std::hypot(a.x - b.x, a.y - b.y) > kCrowdRadius) m.dl->AddLine(a, b, IM_COL32(220, 38, 38, 200), 1.5f);
      }
      if (many) sprite(m.dl, g_ring, m.px(t.p), IM_COL32(30, 30, 30, 220));
      else m.dl->AddCircle(m.px(t.p), pr, IM_COL32(30, 30, 30, 220), 12, 1.5f);
    }
    if (!est_here) continue;
    const ImVec2 q = m.px(p.pos);
    const ImU32 col = p.offline ? IM_COL32(150, 150, 150, 255) : category_colour(p.category);
    if (many) {
      sprite(m.dl, g_disc, q, col);  // a crowd: one quad each, no label (hover shows who)
      continue;
    }
    m.dl->AddCircleFilled(q, pr, col, 12);
    m.dl->AddCircle(q, pr, IM_COL32(255, 255, 255, 255), 12, 1.5f);
    label(m, ImVec2(q.x + 7, q.y - 9), kInk, p.id);
  }
  m.dl->Flags = aa;
  // open alarms with a place (not gatherings, which have their disk): a diamond in the level colour;
  // a click on one selects it
  const bool clicked = ImGui::IsItemDeactivated() && std::abs(ImGui::GetMouseDragDelta(ImGuiMouseButton_Left, 0).x) < 3 &&
                       std::abs(ImGui::GetMouseDragDelta(ImGuiMouseButton_Left, 0).y) < 3;
  for (const Alarm& a : snap.open_alarms) {
    if (a.type == AlarmType::gathering || (!a.floor.empty() && a.floor != floor.id)) continue;
    if (a.pos.x == 0 && a.pos.y == 0) {  // no place: a refusal, or an SOS from a tag without a fix yet
      bool placed = false;
      for (const auto& p : snap.people)
        if (p.has_fix && std::find(a.who.begin(), a.who.end(), p.id) != a.who.end()) placed = true;
      if (!placed) continue;
    }
    const ImVec2 q = m.px(a.pos);
    const float d = a.id == st.selected_alarm ? 11.0f : 8.0f;
    const ImVec2 pts[4] = {ImVec2(q.x, q.y - d - 8), ImVec2(q.x + d, q.y - 8), ImVec2(q.x, q.y + d - 8), ImVec2(q.x - d, q.y - 8)};
    m.dl->AddConvexPolyFilled(pts, 4, level_colour(a.level, a.acknowledged_at ? 150 : 255));
    m.dl->AddPolyline(pts, 4, IM_COL32(255, 255, 255, 255), ImDrawFlags_Closed, 1.5f);
    m.dl->AddText(ImVec2(q.x - 2.5f, q.y - 17), IM_COL32(255, 255, 255, 255), "!");
    if (clicked && std::hypot(io.MousePos.x - q.x, io.MousePos.y - (q.y - 8)) < 14) st.selected_alarm = a.id;
  }
  if (clicked)
    for (const auto& g : snap.gatherings)
      if (std::hypot(io.MousePos.x - m.px(g.center).x, io.MousePos.y - m.px(g.center).y) < g.radius * st.scale) st.selected_alarm = g.alarm_id;
  // hover a person: who, where, and the cameras that see them now (PL-13: follow a person)
  if (ImGui::IsItemHovered() && !ImGui::IsMouseDragging(ImGuiMouseButton_Left))
    for (const auto& p : snap.people) {
      if (!p.has_fix || p.floor != floor.id) continue;
      const ImVec2 q = m.px(p.pos);
      if (std::hypot(io.MousePos.x - q.x, io.MousePos.y - q.y) > pr + 3) continue;
      ImGui::BeginTooltip();
      ImGui::Text("%s %s · %s", p.id.c_str(), p.name.c_str(), category_label(static_cast<int>(p.category)).c_str());
      ImGui::Text("(%.1f, %.1f) m · %s %s · %s %s", p.pos.x, p.pos.y, tr("floor"), p.floor.c_str(), tr("tag"), p.tag.empty() ? "—" : p.tag.c_str());
      ImGui::Text("%s: %s", tr("cameras"), p.cameras.empty() ? "—" : join(p.cameras).c_str());
      ImGui::EndTooltip();
      break;
    }
  // the selected alarm's place
  if (sel && (sel->floor.empty() || sel->floor == floor.id)) {
    const ImVec2 q = m.px(sel->pos);
    m.dl->AddCircle(q, 14, IM_COL32(15, 23, 42, 255), 24, 2.5f);
    m.dl->AddLine(ImVec2(q.x - 20, q.y), ImVec2(q.x - 10, q.y), IM_COL32(15, 23, 42, 255), 2);
    m.dl->AddLine(ImVec2(q.x + 10, q.y), ImVec2(q.x + 20, q.y), IM_COL32(15, 23, 42, 255), 2);
  }
  // scale bar and hint
  {
    double len = 10;
    for (double c : {10.0, 20.0, 50.0, 100.0, 200.0})
      if (c * st.scale < 160) len = c;
    const ImVec2 a(p0.x + 16, p0.y + size.y - 22);
    const ImVec2 b(F(a.x + len * st.scale), a.y);
    m.dl->AddLine(a, b, kInk, 2);
    m.dl->AddLine(ImVec2(a.x, a.y - 4), ImVec2(a.x, a.y + 4), kInk, 2);
    m.dl->AddLine(ImVec2(b.x, b.y - 4), ImVec2(b.x, b.y + 4), kInk, 2);
    label(m, ImVec2(a.x, a.y - 22), kInk, std::to_string(static_cast<int>(len)) + " m");
    const std::string hint = std::string(tr("map_hint")) + " · " + tr("floor") + " " + floor.id;
    label(m, ImVec2(p0.x + size.x - ImGui::CalcTextSize(hint.c_str()).x - 12, p0.y + size.y - 26), IM_COL32(90, 90, 100, 255), hint);
  }
  // legend
  {
    ImVec2 at(p0.x + 12, p0.y + 10);
    m.dl->AddRectFilled(ImVec2(at.x - 6, at.y - 4), ImVec2(at.x + 150, at.y + (show_truth ? 116 : 82)), IM_COL32(255, 255, 255, 215), 4);
    for (int c = 0; c < kCategoryCount; ++c) {
      m.dl->AddCircleFilled(ImVec2(at.x + 6, at.y + 9), 5, category_colour(static_cast<Category>(c)), 12);
      m.dl->AddText(ImVec2(at.x + 18, at.y), kInk, category_label(c).c_str());
      at.y += 19;
    }
    if (show_truth) {
      m.dl->AddCircle(ImVec2(at.x + 6, at.y + 9), 5, IM_COL32(30, 30, 30, 220), 12, 1.5f);
      m.dl->AddText(ImVec2(at.x + 18, at.y), kInk, tr("true_pos"));
      at.y += 19;
      m.dl->AddLine(ImVec2(at.x, at.y + 9), ImVec2(at.x + 12, at.y + 9), IM_COL32(220, 38, 38, 200), 1.5f);
      m.dl->AddText(ImVec2(at.x + 18, at.y), kInk, tr("error_line"));
    }
  }
  m.dl->PopClipRect();
}

// ---- 3D view: floors stacked, orthographic, orbit with the mouse (PL-14) -------------------------

void draw_3d(Timeline& tl, State& st, ImVec2 p0, ImVec2 size) {
  const Site& site = tl.scenario().site;
  const Snapshot& snap = tl.snapshot();
  ImGuiIO& io = ImGui::GetIO();
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton("##3d", size, ImGuiButtonFlags_MouseButtonLeft);
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0)) {
    st.yaw += io.MouseDelta.x * 0.008;
    st.pitch = std::clamp(st.pitch + io.MouseDelta.y * 0.006, 0.15, 1.5);
  }
  if (ImGui::IsItemHovered() && io.MouseWheel != 0) st.zoom3d = std::clamp(st.zoom3d * std::pow(1.15, io.MouseWheel), 0.2, 20.0);

  const Extent e = site_extent(site, snap);
  const Vec2 c{(e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2};
  const double span = std::max(e.x1 - e.x0, e.y1 - e.y0);
  const double gap = span * 0.16;  // drawn height between levels
  const double s = std::min(size.x, size.y) / span * 0.62 * st.zoom3d;
  const double cy = std::cos(st.yaw), sy = std::sin(st.yaw), sp = std::sin(st.pitch), cp = std::cos(st.pitch);
  const double levels = static_cast<double>(st.floors.size());
  const ImVec2 o(p0.x + size.x / 2, F(p0.y + size.y / 2 + (levels - 1) * gap * cp * s / 2));
  auto P = [&](double x, double y, double level) {
    const double dx = x - c.x, dy = y - c.y;
    const double rx = dx * cy - dy * sy, ry = dx * sy + dy * cy;
    return ImVec2(F(o.x + rx * s), F(o.y - (ry * sp + level * gap * cp) * s));
  };
  auto depth = [&](Vec2 q) { return (q.x - c.x) * sy + (q.y - c.y) * cy; };  // ry of P
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
  auto ring = [&](const std::vector<Vec2>& pts, double level, ImU32 fill, ImU32 line, float th) {
    std::vector<ImVec2> v;
    for (Vec2 q : pts) v.push_back(P(q.x, q.y, level));
    if (v.size() < 3) return;
    if (fill & IM_COL32_A_MASK) dl->AddConvexPolyFilled(v.data(), static_cast<int>(v.size()), fill);
    if (line & IM_COL32_A_MASK) dl->AddPolyline(v.data(), static_cast<int>(v.size()), line, ImDrawFlags_Closed, th);
  };
  auto level_of = [&](const std::string& id) {
    for (size_t i = 0; i < st.floors.size(); ++i)
      if (st.floors[i].id == id) return static_cast<double>(i);
    return 0.0;
  };
  const std::vector<Vec2> outline = site.bounds ? site.bounds->pts : std::vector<Vec2>{{e.x0, e.y0}, {e.x1, e.y0}, {e.x1, e.y1}, {e.x0, e.y1}};
  // corner posts of the stack and of each building, so the levels read as one structure
  const double top_level = static_cast<double>(st.floors.size() - 1);
  for (Vec2 q : outline) dl->AddLine(P(q.x, q.y, 0), P(q.x, q.y, top_level), IM_COL32(148, 163, 184, 40), 1);
  for (const Building& b : site.buildings) {
    double lo = 1e9, hi = -1e9;
    for (const Floor& bf : b.floors) lo = std::min(lo, level_of(bf.id)), hi = std::max(hi, level_of(bf.id));
    if (hi > lo)
      for (Vec2 q : b.footprint.pts) dl->AddLine(P(q.x, q.y, lo), P(q.x, q.y, hi), IM_COL32(226, 232, 240, 150), 1.5f);
  }
  for (size_t li = 0; li < st.floors.size(); ++li) {
    const Floor& f = st.floors[li];
    const double L = static_cast<double>(li);
    const bool current = static_cast<int>(li) == st.floor;
    // the level plane: the site outline, filled on the ground, faint above it
    ring(outline, L, li == 0 ? IM_COL32(148, 163, 184, current ? 60 : 40) : (current ? IM_COL32(250, 204, 21, 18) : 0),
         IM_COL32(148, 163, 184, li == 0 ? 160 : (current ? 110 : 45)), li == 0 ? 1.5f : 1.0f);
    for (const Building& b : site.buildings)
      if (building_has_floor(b, f.id)) ring(b.footprint.pts, L, IM_COL32(203, 213, 225, 70), IM_COL32(226, 232, 240, 200), 1.5f);
    // models (mesh obstacles) on the ground level as their plan outline
    if (li == 0)
      for (const Obstacle& ob : site.obstacles)
        if (ob.shape == Obstacle::Shape::mesh && ob.mesh) ring(ob.mesh->outline, L, IM_COL32(100, 116, 139, 160), IM_COL32(203, 213, 225, 220), 1.2f);
    for (const Zone& z : site.zones)
      if (zone_on_floor(z, f) && (li == 0 || !z.floors.empty() || z.z)) ring(z.polygon.pts, L, risk_colour(z.risk, 55), risk_colour(z.risk, 200), 1.2f);
    for (const auto& g : snap.gatherings)
      if (g.floor == f.id || (g.floor.empty() && li == 0)) {
        std::vector<Vec2> circ;
        for (int k = 0; k < 40; ++k)
          circ.push_back({g.center.x + g.radius * std::cos(k * std::numbers::pi / 20), g.center.y + g.radius * std::sin(k * std::numbers::pi / 20)});
        ring(circ, L, level_colour(g.level, 70), level_colour(g.level), 3);
      }
    // tanks and people, far to near (painter's order): a tank hides who stands behind it
    struct Item {
      double depth;     // along the view: larger is farther (higher on the screen)
      const Obstacle* tank;
      const Snapshot::Person* person;
    };
    std::vector<Item> items;
    if (li == 0)
      for (const Obstacle& ob : site.obstacles)
        if (ob.shape == Obstacle::Shape::cylinder) items.push_back({depth(ob.center), &ob, nullptr});
    for (const auto& p : snap.people)
      if (p.has_fix && p.floor == f.id) items.push_back({depth(p.pos), nullptr, &p});
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.depth > b.depth; });
    // a crowd as plain dots without anti-aliased fringes
    const bool many = snap.people.size() > 300;
    const ImDrawListFlags aa = dl->Flags;
    for (const Item& it : items) {
      if (const Obstacle* ob = it.tank) {
        dl->Flags = aa;
        // tanks and columns as short cylinders
        const double h = std::min(0.6, (ob->z1 - ob->z0) / 30);
        std::vector<ImVec2> bot, top;
        for (int k = 0; k < 24; ++k) {
          const double a = k * std::numbers::pi / 12;
          bot.push_back(P(ob->center.x + ob->radius * std::cos(a), ob->center.y + ob->radius * std::sin(a), 0));
          top.push_back(P(ob->center.x + ob->radius * std::cos(a), ob->center.y + ob->radius * std::sin(a), h));
        }
        for (size_t k = 0; k < bot.size(); ++k) {
          const size_t n = (k + 1) % bot.size();
          const ImVec2 quad[4] = {bot[k], bot[n], top[n], top[k]};
          dl->AddConvexPolyFilled(quad, 4, IM_COL32(100, 116, 139, 255));
        }
        dl->AddConvexPolyFilled(top.data(), static_cast<int>(top.size()), IM_COL32(148, 163, 184, 255));
        dl->AddPolyline(top.data(), static_cast<int>(top.size()), IM_COL32(203, 213, 225, 255), ImDrawFlags_Closed, 1);
        continue;
      }
      const auto& p = *it.person;
      const ImVec2 q = P(p.pos.x, p.pos.y, L);
      if (many) {
        dl->Flags = aa & ~(ImDrawListFlags_AntiAliasedFill | ImDrawListFlags_AntiAliasedLines);
        dl->AddCircleFilled(q, 2.5f, category_colour(p.category), 6);
        continue;
      }
      dl->AddLine(q, ImVec2(q.x, q.y - 9), IM_COL32(226, 232, 240, 120), 1);
      dl->AddCircleFilled(ImVec2(q.x, q.y - 9), 3.5f, category_colour(p.category), 10);
    }
    dl->Flags = aa;
    // level name at the plane's west corner
    const ImVec2 lp = P(e.x0, e.y1, L);
    dl->AddText(ImVec2(lp.x - 60, lp.y - 8), current ? IM_COL32(250, 204, 21, 255) : IM_COL32(226, 232, 240, 255),
                (std::string(tr("floor")) + " " + f.id).c_str());
  }
  dl->AddText(ImVec2(p0.x + 12, p0.y + size.y - 26), IM_COL32(203, 213, 225, 255), tr("orbit_hint"));
  dl->PopClipRect();
}

// ---- panels --------------------------------------------------------------------------------------

const char* handling_key(const Alarm& a) {
  if (a.closed_at) return "st_closed";
  if (a.handled_at) return "st_handled";
  if (a.acknowledged_at) return "st_acknowledged";
  return "st_raised";
}

void act(Timeline& tl, State& st, AlarmAction::Kind k, const std::string& id) {
  AlarmAction a;
  a.kind = k;
  a.alarm_id = id;
  a.by = tl.duty_person(tl.now());
  if (a.by.empty()) a.by = "viewer";
  a.note = st.note;
  tl.act(a);
  st.note[0] = 0;
}

void panel_alarms(Timeline& tl, State& st) {
  const Snapshot& snap = tl.snapshot();
  ImGui::Text("%s: %zu", tr("open_alarms"), snap.open_alarms.size());
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("##alarms", 5, flags, ImVec2(0, 230))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn(tr("id"));
    ImGui::TableSetupColumn(tr("type"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(tr("who"));
    ImGui::TableSetupColumn(tr("raised"));
    ImGui::TableSetupColumn(tr("status"));
    ImGui::TableHeadersRow();
    for (const Alarm& a : snap.open_alarms) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushStyleColor(ImGuiCol_Text, to_vec4(level_colour(a.level)));
      if (ImGui::Selectable((a.id + "##sel").c_str(), st.selected_alarm == a.id, ImGuiSelectableFlags_SpanAllColumns))
        st.selected_alarm = a.id;
      ImGui::PopStyleColor();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted((alarm_type_label(a.type) + (a.code == Aq2Code::none ? std::string() : std::string(" (") + to_string(a.code) + ")")).c_str());
      ImGui::TableNextColumn();
      // long lists (a crowd over capacity) would widen the column past the panel
      std::vector<std::string> few(a.who.begin(), a.who.begin() + static_cast<long>(std::min<size_t>(a.who.size(), 3)));
      ImGui::TextUnformatted((join(few, ",") + (a.who.size() > 3 ? " +" + std::to_string(a.who.size() - 3) : "")).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted((fmt_s(a.raised_at) + tr("seconds")).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(tr(handling_key(a)));
    }
    ImGui::EndTable();
  }
  if (snap.open_alarms.empty()) ImGui::TextDisabled("%s", tr("no_alarms"));
  ImGui::Separator();
  const Alarm* sel = nullptr;
  for (const Alarm& a : snap.open_alarms)
    if (a.id == st.selected_alarm) sel = &a;
  if (!sel) {
    ImGui::TextDisabled("%s", tr("select_alarm"));
    return;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, to_vec4(level_colour(sel->level)));
  ImGui::Text("%s  %s  %s", sel->id.c_str(), alarm_type_label(sel->type).c_str(), level_label(sel->level).c_str());
  ImGui::PopStyleColor();
  ImGui::Text("%s: %s   %s: %s   %s: %s", tr("zone"), sel->zone.empty() ? "—" : sel->zone.c_str(), tr("floor"),
              sel->floor.empty() ? "—" : sel->floor.c_str(), tr("routed_to"), sel->routed_to.empty() ? "—" : sel->routed_to.c_str());
  ImGui::Text("(%.1f, %.1f) m   %s", sel->pos.x, sel->pos.y, !sel->condition ? "" : sel->active() ? tr("active") : tr("cleared"));
  for (const AlarmEvent& ev : sel->events) {
    const std::string kind = std::string("ev_") + to_string(ev.kind);
    ImGui::TextDisabled("  %6.1f %s  %s  %s  %s", to_seconds(ev.t), tr("seconds"), tr(kind.c_str()), ev.by.c_str(), ev.note.c_str());
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##note", tr("note"), st.note, sizeof st.note);
  const bool can_ack = !sel->acknowledged_at, can_handle = !sel->handled_at, can_close = !sel->closed_at;
  ImGui::BeginDisabled(!can_ack);
  if (ImGui::Button(trid("ack").c_str())) act(tl, st, AlarmAction::Kind::ack, sel->id);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!can_handle);
  if (ImGui::Button(trid("handle").c_str())) act(tl, st, AlarmAction::Kind::handle, st.selected_alarm);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!can_close);
  if (ImGui::Button(trid("close").c_str())) act(tl, st, AlarmAction::Kind::close, st.selected_alarm);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextDisabled("%s: %s", tr("by"), tl.duty_person(tl.now()).empty() ? "viewer" : tl.duty_person(tl.now()).c_str());
  // cameras that see it (PL-13)
  ImGui::Separator();
  ImGui::TextUnformatted(tr("cameras_see"));
  const Alarm* now_sel = nullptr;  // the act above may have replaced the snapshot
  for (const Alarm& a : tl.snapshot().open_alarms)
    if (a.id == st.selected_alarm) now_sel = &a;
  if (!now_sel || now_sel->cameras.empty()) ImGui::TextDisabled("%s", tr("no_cameras"));
  else
    for (const std::string& c : now_sel->cameras) ImGui::BulletText("%s", c.c_str());
}

void panel_permits(Timeline& tl) {
  const Snapshot& snap = tl.snapshot();
  if (snap.permits.empty()) {
    ImGui::TextDisabled("%s", tr("no_permits"));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("##permits", 5, flags)) {
    ImGui::TableSetupColumn(tr("permit"));
    ImGui::TableSetupColumn(tr("type"));
    ImGui::TableSetupColumn(tr("status"));
    ImGui::TableSetupColumn(tr("workers"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(tr("guardian"));
    ImGui::TableHeadersRow();
    for (const PermitRecord& p : snap.permits) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(p.id.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted((permit_type_label(p.type) + (p.grade.empty() ? "" : " " + p.grade)).c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(to_vec4(permit_colour(p.status)), "%s", permit_status_label(to_string(p.status)).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(join(p.workers, ",").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(p.guardian.c_str());
    }
    ImGui::EndTable();
  }
}

void panel_headcount(Timeline& tl) {
  const Snapshot& snap = tl.snapshot();
  const Site& site = tl.scenario().site;
  std::array<int, kCategoryCount> cat{};
  for (const auto& p : snap.people)
    if (p.has_fix && (!site.bounds || site.bounds->contains(p.pos))) ++cat[static_cast<size_t>(p.category)];
  ImGui::Text("%s: %d   ", tr("on_site"), on_site(site, snap));
  for (int c = 0; c < kCategoryCount; ++c) {
    ImGui::SameLine();
    ImGui::TextColored(to_vec4(category_colour(static_cast<Category>(c))), "%s %d", category_label(c).c_str(), cat[static_cast<size_t>(c)]);
  }
  // on site and open alarms over the run so far, from the kept snapshots (counted when kept)
  if (tl.kept().size() >= 2) {
    std::vector<float> people, alarms;
    people.reserve(tl.kept().size());
    alarms.reserve(tl.kept().size());
    float top_p = 1, top_a = 1;
    for (const KeptSnapshot& k : tl.kept()) {
      people.push_back(F(k.on_site));
      alarms.push_back(F(static_cast<double>(k.snap.open_alarms.size())));
      top_p = std::max(top_p, people.back()), top_a = std::max(top_a, alarms.back());
    }
    char label[96];
    std::snprintf(label, sizeof label, "%s 0 .. %.0f %s", tr("on_site"), to_seconds(tl.kept().back().snap.t), tr("seconds"));
    ImGui::PlotLines("##people_t", people.data(), static_cast<int>(people.size()), 0, label, 0, top_p * 1.15f, ImVec2(ImGui::GetContentRegionAvail().x, 60));
    std::snprintf(label, sizeof label, "%s 0 .. %.0f %s", tr("open_alarms"), to_seconds(tl.kept().back().snap.t), tr("seconds"));
    ImGui::PlotLines("##alarms_t", alarms.data(), static_cast<int>(alarms.size()), 0, label, 0, top_a * 1.15f, ImVec2(ImGui::GetContentRegionAvail().x, 60));
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("##heads", 6, flags)) {
    ImGui::TableSetupColumn(tr("zone"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(tr("total"));
    for (int c = 0; c < kCategoryCount; ++c) ImGui::TableSetupColumn(category_label(c).c_str());
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < snap.zones.size() && i < site.zones.size(); ++i) {
      const auto& z = snap.zones[i];
      const Zone& def = site.zones[i];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::ColorButton(("##r" + z.id).c_str(), to_vec4(risk_colour(def.risk, 255)), ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
      ImGui::SameLine();
      const std::string name = lang() == Lang::zh && !def.name.empty() ? def.name + " " + z.id : z.id;
      if (z.active) ImGui::TextUnformatted(name.c_str());
      else ImGui::TextDisabled("%s (%s)", name.c_str(), tr("inactive"));
      ImGui::TableNextColumn();
      ImGui::Text("%d%s", z.count, def.capacity ? ("/" + std::to_string(*def.capacity)).c_str() : "");
      for (int c = 0; c < kCategoryCount; ++c) {
        ImGui::TableNextColumn();
        ImGui::Text("%d", z.by_category[static_cast<size_t>(c)]);
      }
    }
    ImGui::EndTable();
  }
}

void panel_accuracy(Timeline& tl, State& st) {
  const std::vector<double>& err = tl.fix_errors();
  if (!tl.estimates_differ() || err.empty()) {
    ImGui::TextDisabled("%s", tr("truth_mode"));
    return;
  }
  // only the errors new since the last frame are looked at (a run holds millions)
  ErrorStats& es = st.errors;
  if (es.update(err) || st.error_hist.empty()) {
    st.error_top = std::max(0.5, es.max());
    st.error_hist = es.histogram(40, st.error_top);
    st.error_cdf.resize(st.error_hist.size());
    float acc = 0;
    for (size_t i = 0; i < st.error_hist.size(); ++i) acc += st.error_hist[i], st.error_cdf[i] = acc / static_cast<float>(es.count());
    st.error_q68 = es.quantile(0.6827);
    st.error_q95 = es.quantile(0.95);
  }
  ImGui::Text("%s: %zu   %s %.2f m   CDF68 %.2f m   CDF95 %.2f m", tr("fixes"), es.count(), tr("mean"), es.mean(), st.error_q68, st.error_q95);
  const double top = st.error_top;
  const int bins = static_cast<int>(st.error_hist.size());
  const std::vector<float>& hist = st.error_hist;
  const std::vector<float>& cdf = st.error_cdf;
  char over[64];
  std::snprintf(over, sizeof over, "0 .. %.2f m", top);
  ImGui::TextUnformatted(tr("histogram"));
  ImGui::PlotHistogram("##hist", hist.data(), bins, 0, over, 0, FLT_MAX, ImVec2(ImGui::GetContentRegionAvail().x, 110));
  ImGui::TextUnformatted(tr("cdf"));
  ImGui::PlotLines("##cdf", cdf.data(), bins, 0, over, 0, 1, ImVec2(ImGui::GetContentRegionAvail().x, 110));
}

void panel_delays(Timeline& tl) {
  if (const auto* oracle = tl.oracle_alarms()) {
    RunResult r;
    compare_with_oracle(*oracle, tl.alarms(), r);
    ImGui::TextUnformatted(tr("delay_raise"));
    if (r.alarm_delay)
      ImGui::Text("n %zu   p50 %.1f s   p95 %.1f s   max %.1f s", r.alarm_delay->n, r.alarm_delay->p50, r.alarm_delay->p95, r.alarm_delay->max);
  } else {
    ImGui::TextDisabled("%s", tr("no_oracle"));
  }
  ImGui::Separator();
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollY;
  if (ImGui::BeginTable("##delays", 4, flags, ImVec2(0, 300))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn(tr("id"));
    ImGui::TableSetupColumn(tr("type"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(tr("delay_ack"));
    ImGui::TableSetupColumn(tr("delay_handle"));
    ImGui::TableHeadersRow();
    for (const Alarm& a : tl.alarms()) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(to_vec4(level_colour(a.level)), "%s", a.id.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(alarm_type_label(a.type).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(a.acknowledged_at ? (fmt_s(*a.acknowledged_at - a.raised_at) + " " + tr("seconds")).c_str() : "—");
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(a.handled_at ? (fmt_s(*a.handled_at - a.raised_at) + " " + tr("seconds")).c_str() : "—");
    }
    ImGui::EndTable();
  }
}

void panel_drill(Timeline& tl, State& st) {
  const DrillScore s = score_drill(tl.scenario(), tl.alarms(), tl.now());
  ImGui::Text("%s: %s %s s, %s %s s", tr("drill_targets"), tr("ack"), fmt_s(s.ack_target).c_str(), tr("handle"), fmt_s(s.handle_target).c_str());
  ImGui::Text("%s: %.1f / 100   %s %d  %s %d  %s %d", tr("drill_score"), s.total, tr("pass"), s.passed, tr("late"), s.late, tr("missed"), s.missed);
  for (const ScoredAlarm& a : s.alarms) {
    auto vtext = [](Verdict v) { return tr(to_string(v)); };
    ImGui::BulletText("%s %s  %s: %s  %s: %s", a.id.c_str(), alarm_type_label(a.type).c_str(), tr("ack"), vtext(a.ack), tr("handle"), vtext(a.handle));
  }
  if (tl.at_end()) ImGui::TextColored(ImVec4(0.98f, 0.8f, 0.1f, 1), "%s", tr("drill_done"));
  if (ImGui::Button(trid("drill_finish").c_str())) st.finish = true;
}

// ---- the frame -----------------------------------------------------------------------------------

void toolbar(Timeline& tl, State& st, bool drill) {
  if (ImGui::Button(tl.playing() ? trid("pause").c_str() : trid("play").c_str(), ImVec2(70, 0)))
    tl.playing() ? tl.pause() : tl.play();
  ImGui::SameLine();
  if (ImGui::Button(trid("step").c_str())) tl.step();
  ImGui::SameLine();
  float speed = F(tl.speed());
  ImGui::SetNextItemWidth(150);
  if (ImGui::SliderFloat(trid("speed").c_str(), &speed, 0.1f, 100.0f, "%.1fx", ImGuiSliderFlags_Logarithmic)) tl.set_speed(speed);
  ImGui::SameLine();
  float t = F(to_seconds(tl.now()));
  ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - 330));
  char fmt[64];
  std::snprintf(fmt, sizeof fmt, "%%.1f / %.0f s", to_seconds(tl.duration()));
  if (ImGui::SliderFloat("##time", &t, 0, F(to_seconds(tl.duration())), fmt)) {
    std::string why;
    if (!tl.seek(from_seconds(t), &why)) st.message = tr("refused_back");
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(80);
  ImGui::InputTextWithHint("##jump", tr("jump_to"), st.jump, sizeof st.jump, ImGuiInputTextFlags_CharsDecimal);
  ImGui::SameLine();
  if (ImGui::Button(trid("jump").c_str()) && st.jump[0]) {
    std::string why;
    if (!tl.seek(from_seconds(std::atof(st.jump)), &why)) st.message = tr("refused_back");
  }
  ImGui::SameLine();
  if (ImGui::Button(tr("language"))) set_lang(lang() == Lang::zh ? Lang::en : Lang::zh);

  // second row: floor, view, duty, clock
  ImGui::SetNextItemWidth(90);
  const std::string cur = std::string(tr("floor")) + " " + st.floors[static_cast<size_t>(st.floor)].id;
  if (ImGui::BeginCombo("##floor", cur.c_str())) {
    for (size_t i = 0; i < st.floors.size(); ++i)
      if (ImGui::Selectable((std::string(tr("floor")) + " " + st.floors[i].id).c_str(), static_cast<int>(i) == st.floor)) st.floor = static_cast<int>(i);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::RadioButton(trid("view_2d").c_str(), !st.view_3d)) st.view_3d = false;
  ImGui::SameLine();
  if (ImGui::RadioButton(trid("view_3d").c_str(), st.view_3d)) st.view_3d = true;
  ImGui::SameLine();
  if (ImGui::Button(trid("fit").c_str())) st.fit_pending = true, st.zoom3d = 1;
  ImGui::SameLine();
  const std::string duty = tl.duty_person(tl.now());
  ImGui::TextDisabled("|");
  ImGui::SameLine();
  ImGui::Text("%s: %s", tr("duty"), duty.empty() ? tr("nobody") : duty.c_str());
  ImGui::SameLine();
  const LocalTime lt = local_time(tl.scenario().clock, tl.now());
  ImGui::Text("  %s %04d-%02d-%02d %02d:%02d:%02d", tr("local_time"), lt.year, lt.month, lt.day, lt.second_of_day / 3600,
              lt.second_of_day / 60 % 60, lt.second_of_day % 60);
  ImGui::SameLine();
  ImGui::TextDisabled("  %s · %s", tl.scenario().name.c_str(), tl.scenario().site.name.c_str());
  if (drill) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.98f, 0.8f, 0.1f, 1), "  [%s]", tr("drill"));
  }
  if (!st.message.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "  %s", st.message.c_str());
  }
}

void frame(Timeline& tl, State& st, const ViewOptions& opt, int w, int h) {
  // the panel asked for on the command line is selected on the first frame only
  auto tab_flags = [&](const char* key) {
    return st.frames == 0 && opt.panel == key ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
  };
  const float top = 68, panel_w = std::min(500.0f, F(w) * 0.42f);
  // The three fixed windows draw no background: run_viewer clears their rectangles with glClear,
  // which costs a software renderer almost nothing where a blended full-window quad costs ~2 ms.
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(F(w), top));
  ImGui::Begin("##toolbar", nullptr, fixed);
  toolbar(tl, st, opt.drill);
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(0, top));
  ImGui::SetNextWindowSize(ImVec2(F(w) - panel_w, F(h) - top));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::Begin("##view", nullptr, fixed | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), size = ImGui::GetContentRegionAvail();
  st.view_p0 = ImGui::GetWindowPos();
  st.view_size = ImGui::GetWindowSize();
  st.view_bg = st.view_3d ? ImVec4(0.08f, 0.11f, 0.18f, 1) : to_vec4(kMapBg);
  if (st.view_3d) draw_3d(tl, st, p0, size);
  else draw_map(tl, st, p0, size);
  ImGui::End();
  ImGui::PopStyleVar();

  ImGui::SetNextWindowPos(ImVec2(F(w) - panel_w, top));
  ImGui::SetNextWindowSize(ImVec2(panel_w, F(h) - top));
  ImGui::Begin("##panels", nullptr, fixed);
  if (ImGui::BeginTabBar("##tabs")) {
    if (opt.drill && ImGui::BeginTabItem(trid("drill").c_str(), nullptr, tab_flags("drill"))) {
      panel_drill(tl, st);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(trid("alarms").c_str(), nullptr, tab_flags("alarms"))) {
      panel_alarms(tl, st);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(trid("headcount").c_str(), nullptr, tab_flags("headcount"))) {
      panel_headcount(tl);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(trid("permits").c_str(), nullptr, tab_flags("permits"))) {
      panel_permits(tl);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(trid("accuracy").c_str(), nullptr, tab_flags("accuracy"))) {
      panel_accuracy(tl, st);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(trid("delays").c_str(), nullptr, tab_flags("delays"))) {
      panel_delays(tl);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

std::string g_glfw_error;

bool write_png(const std::string& path, int w, int h, std::string& error) {
  std::vector<unsigned char> px(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  // GL rows go bottom-up
  std::vector<unsigned char> flipped(px.size());
  const size_t row = static_cast<size_t>(w) * 3;
  for (int y = 0; y < h; ++y)
    std::memcpy(&flipped[static_cast<size_t>(y) * row], &px[static_cast<size_t>(h - 1 - y) * row], row);
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (!stbi_write_png(path.c_str(), w, h, 3, flipped.data(), static_cast<int>(row))) {
    error = path + ": cannot write the PNG";
    return false;
  }
  return true;
}

}  // namespace

MapTransform last_map_transform() { return g_map; }

namespace {

// Draws the map's static layer into its texture when it changed (a w x h framebuffer-pixel
// picture of the view rectangle at p0, size in ImGui coordinates).
void draw_map_layer(int w, int h, ImVec2 p0, ImVec2 size, ImVec2 fb_scale) {
  if (g_layer.tex_w != w || g_layer.tex_h != h || !g_layer.fbo) {
    if (!g_layer.tex) glGenTextures(1, &g_layer.tex);
    glBindTexture(GL_TEXTURE_2D, g_layer.tex);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    if (!g_layer.fbo) glGenFramebuffers(1, &g_layer.fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, g_layer.fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, g_layer.tex, 0);
    g_layer.tex_w = w;
    g_layer.tex_h = h;
    g_layer.pending = true;
  }
  if (!g_layer.pending) return;
  glBindFramebuffer(GL_FRAMEBUFFER, g_layer.fbo);
  glViewport(0, 0, w, h);
  const ImVec4 bg = to_vec4(kMapBg);
  glClearColor(bg.x, bg.y, bg.z, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImDrawList* lists[1] = {g_layer.dl.get()};
  ImDrawData dd;
  dd.Valid = true;
  dd.CmdLists = lists;
  dd.CmdListsCount = 1;
  dd.TotalVtxCount = lists[0]->VtxBuffer.Size;
  dd.TotalIdxCount = lists[0]->IdxBuffer.Size;
  dd.DisplayPos = p0;
  dd.DisplaySize = size;
  dd.FramebufferScale = fb_scale;
  ImGui_ImplOpenGL3_RenderDrawData(&dd);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  g_layer.pending = false;
  ++g_layer.redraws;
}

}  // namespace

int run_viewer(Timeline& tl, const ViewOptions& opt, std::string& error, FrameStats* stats) {
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((!display || !*display) && (!wayland || !*wayland)) {
    error = "no display: DISPLAY is not set. Run on a desktop, or headless under Xvfb: xvfb-run -a planttwin view ...";
    return 2;
  }
  glfwSetErrorCallback([](int, const char* d) { g_glfw_error = d ? d : ""; });
  if (!glfwInit()) {
    error = "cannot open the display (DISPLAY=" + std::string(display ? display : "") + "): " + g_glfw_error +
            ". Check DISPLAY, or run headless under Xvfb: xvfb-run -a planttwin view ...";
    return 2;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_RESIZABLE, GLFW_TRUE);
  if (opt.hidden) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* win = glfwCreateWindow(opt.width, opt.height, (std::string("planttwin · ") + tl.scenario().name).c_str(), nullptr, nullptr);
  if (!win) {
    error = "cannot create an OpenGL 3.3 window: " + g_glfw_error + ". Check DISPLAY and Mesa (libgl1-mesa-dri), or use xvfb-run -a";
    glfwTerminate();
    return 2;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(opt.hidden || opt.frame_stats > 0 ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // fixed layout; nothing saved next to the user's files
  apply_style();
  load_fonts(tl);
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  set_lang(opt.lang);

  State st;
  for (const std::string& id : tl.scenario().site.floor_ids())
    if (const Floor* f = tl.scenario().site.find_floor(id)) st.floors.push_back(*f);
  if (st.floors.empty()) st.floors.push_back(Floor{"1", -1, 4});
  std::stable_sort(st.floors.begin(), st.floors.end(), [](const Floor& a, const Floor& b) { return a.z0 < b.z0; });
  for (size_t i = 0; i < st.floors.size(); ++i)
    if (st.floors[i].id == opt.floor || (opt.floor.empty() && st.floors[i].id == "1")) st.floor = static_cast<int>(i);
  st.view_3d = opt.view_3d;
  st.selected_alarm = opt.select;
  if (opt.center || opt.zoom) {
    st.fit_pending = !(opt.center && opt.zoom);
    if (opt.center) st.center = *opt.center;
    if (opt.zoom) st.scale = *opt.zoom;
  }

  const bool one_frame = !opt.screenshot.empty() && opt.frame_stats == 0;
  if (opt.at) tl.seek(*opt.at);
  if (!one_frame && (opt.drill || opt.play)) {
    tl.set_speed(opt.speed);
    tl.play();
  }
  // a fit with a fixed centre or zoom: fit first, then override what was given
  std::vector<double> times, build_times, cpu_times, gl_times;  // whole frame; building it (our drawing code and ImGui, no GL)
  int rc = 0;
  int frames = 0;
  auto last = std::chrono::steady_clock::now();
  g_stop = false;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  while (!glfwWindowShouldClose(win) && !g_stop) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    glfwPollEvents();
    const double dt = std::chrono::duration<double>(t0 - last).count();
    last = t0;
    const auto b0 = std::chrono::steady_clock::now();
    // frame statistics play (when asked) in fixed 1/60 s steps, so runs compare
    if (opt.frame_stats > 0) tl.tick(1.0 / 60);
    else if (!one_frame) tl.tick(std::min(dt, 0.25));
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(win, &fw, &fh);
    g_layer.shown = false;
    if (opt.frame_stats > 0 && frames > 0) {  // a drag, as the mouse would do it
      st.center.x -= opt.pan_px.x / st.scale;
      st.center.y += opt.pan_px.y / st.scale;
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    frame(tl, st, opt, fw, fh);
    if (st.fit_pending == false && frames == 0 && (opt.center || opt.zoom) && !(opt.center && opt.zoom)) {
      if (opt.center) st.center = *opt.center;
      if (opt.zoom) st.scale = *opt.zoom;
    }
    ++st.frames;
    ImGui::Render();
    const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b0).count();
    glViewport(0, 0, fw, fh);
    // window backgrounds (the windows draw none): the panels' colour everywhere, the view's paper
    // in its rectangle
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    {
      const ImVec2 sc = io.DisplayFramebufferScale;
      const int x = static_cast<int>(st.view_p0.x * sc.x), w = static_cast<int>(st.view_size.x * sc.x);
      const int h = static_cast<int>(st.view_size.y * sc.y);
      const int y = fh - static_cast<int>(st.view_p0.y * sc.y) - h;  // GL counts rows from the bottom
      if (g_layer.shown && w > 0 && h > 0) {
        draw_map_layer(w, h, st.view_p0, st.view_size, sc);
        glBindFramebuffer(GL_READ_FRAMEBUFFER, g_layer.fbo);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
        glBlitFramebuffer(0, 0, w, h, x, y, x + w, y + h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        glViewport(0, 0, fw, fh);
      } else {
        glEnable(GL_SCISSOR_TEST);
        glScissor(x, y, w, h);
        glClearColor(st.view_bg.x, st.view_bg.y, st.view_bg.z, 1);
        glClear(GL_COLOR_BUFFER_BIT);
        glDisable(GL_SCISSOR_TEST);
      }
    }
    const auto g0 = std::chrono::steady_clock::now();
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (opt.frame_stats > 0) glFinish();
    const double gl_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - g0).count();
    g_vertices = ImGui::GetDrawData()->TotalVtxCount;
    g_draw_calls = 0;
    for (int i = 0; i < ImGui::GetDrawData()->CmdListsCount; ++i) g_draw_calls += ImGui::GetDrawData()->CmdLists[i]->CmdBuffer.Size;
    ++frames;
    // ImGui lays out new windows over the first frames: take the picture at the third
    if (one_frame && frames == 3) {
      if (!write_png(opt.screenshot, fw, fh, error)) rc = 2;
      glfwSwapBuffers(win);
      break;
    }
    // frame stats with a screenshot: the last frame, read before the swap leaves the back buffer undefined
    if (opt.frame_stats > 0 && !opt.screenshot.empty() && frames > 3 && static_cast<int>(times.size()) + 1 >= opt.frame_stats &&
        !write_png(opt.screenshot, fw, fh, error))
      rc = 2;
    glfwSwapBuffers(win);
    if (opt.frame_stats > 0) {
      glFinish();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = 1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      if (frames > 3) times.push_back(ms), build_times.push_back(build_ms), cpu_times.push_back(cpu), gl_times.push_back(gl_ms);  // the first frames build the font atlas
      if (frames == 3) g_layer.redraws = 0;
      if (static_cast<int>(times.size()) >= opt.frame_stats) break;
    }
    if (st.finish) break;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  tl.wait();  // a step still running in the background is part of what the caller reads (a drill's score)
  if (stats && !times.empty()) {
    std::vector<double> v = times;
    std::sort(v.begin(), v.end());
    stats->frames = static_cast<int>(v.size());
    stats->median_ms = quantile_nearest_rank(v, 0.5);
    stats->p99_ms = quantile_nearest_rank(v, 0.99);
    double sum = 0;
    for (double x : v) sum += x;
    stats->mean_ms = sum / static_cast<double>(v.size());
    std::sort(build_times.begin(), build_times.end());
    stats->build_median_ms = quantile_nearest_rank(build_times, 0.5);
    stats->build_p99_ms = quantile_nearest_rank(build_times, 0.99);
    stats->vertices = g_vertices;
    stats->draw_calls = g_draw_calls;
    stats->layer_redraws = g_layer.redraws;
    std::sort(gl_times.begin(), gl_times.end());
    stats->gl_median_ms = quantile_nearest_rank(gl_times, 0.5);
    stats->gl_p99_ms = quantile_nearest_rank(gl_times, 0.99);
    std::sort(cpu_times.begin(), cpu_times.end());
    stats->cpu_median_ms = quantile_nearest_rank(cpu_times, 0.5);
    stats->cpu_p99_ms = quantile_nearest_rank(cpu_times, 0.99);
    const GLubyte* renderer = glGetString(GL_RENDERER);
    stats->renderer = renderer ? reinterpret_cast<const char*>(renderer) : "";
  }
  if (g_layer.fbo) glDeleteFramebuffers(1, &g_layer.fbo);
  if (g_layer.tex) glDeleteTextures(1, &g_layer.tex);
  g_layer = MapLayer{};  // its draw list points into this ImGui context
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return rc;
}

}  // namespace planttwin::viewer
