// The coverage map of `planttwin check`: SVG (with a bilingual legend) and a small PNG drawn with
// a few rasterising helpers of our own (no text in the PNG: the SVG and check.md carry the words).
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/plant/coverage.h"

namespace planttwin {

namespace {

constexpr double kDeg = 3.14159265358979323846 / 180;

struct Rgb {
  unsigned char r, g, b;
};
const Rgb kGood{46, 158, 68}, kFair{240, 160, 32}, kPoor{208, 48, 48}, kBuilding{200, 200, 200}, kObstacle{150, 150, 150},
    kAnchor{20, 20, 20}, kCamera{30, 90, 200}, kWork{140, 40, 170}, kOther{120, 120, 120}, kNoFix{120, 0, 40};

Rgb share_colour(double share, double min_share) {
  if (share >= min_share) return kGood;
  if (share >= 0.8) return kFair;
  return kPoor;
}

std::string hex(Rgb c) {
  char b[8];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
  return b;
}

std::string xml(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// the drawing's frame: metres -> pixels, y up -> y down
struct Frame {
  double x0 = 0, y1 = 0, s = 1;
  int w = 1, h = 1;
  double px(double x) const { return (x - x0) * s; }
  double py(double y) const { return (y1 - y) * s; }
};

Frame frame_of(const Site& site, double s) {
  Box2 b = site_extent(site);
  const double m = 10;
  Frame f;
  f.x0 = b.min.x - m;
  f.y1 = b.max.y + m;
  f.s = s;
  f.w = std::max(1, static_cast<int>(std::ceil((b.max.x - b.min.x + 2 * m) * s)));
  f.h = std::max(1, static_cast<int>(std::ceil((b.max.y - b.min.y + 2 * m) * s)));
  return f;
}

std::vector<Vec2> wedge(const Camera& c, int steps) {
  std::vector<Vec2> p;
  const double reach = c.range;
  if (c.hfov_deg >= 360) {
    for (int i = 0; i < steps; ++i) {
      const double a = 2 * 3.14159265358979323846 * i / steps;
      p.push_back({c.at[0] + reach * std::cos(a), c.at[1] + reach * std::sin(a)});
    }
    return p;
  }
  p.push_back({c.at[0], c.at[1]});
  for (int i = 0; i <= steps; ++i) {
    const double a = (c.yaw_deg - c.hfov_deg / 2 + c.hfov_deg * i / steps) * kDeg;
    p.push_back({c.at[0] + reach * std::cos(a), c.at[1] + reach * std::sin(a)});
  }
  return p;
}

// (2y, 2x) / cell of every sample without a fix on some floor, row by row
std::map<std::pair<long, long>, int> cells_not_covered(const CoverageReport& rep) {
  std::map<std::pair<long, long>, int> cells;
  const double cell = rep.options.cell_m > 0 ? rep.options.cell_m : 1;
  for (const AreaCoverage& z : rep.zones)
    for (const CoverageSample& s : z.samples)
      if (!s.covered) cells[{std::lround(s.y / cell * 2), std::lround(s.x / cell * 2)}] = 1;
  return cells;
}

// ---- raster -----------------------------------------------------------------------------------

struct Canvas {
  int w, h;
  std::vector<unsigned char> px;  // rgb
  Canvas(int w_, int h_) : w(w_), h(h_), px(static_cast<std::size_t>(w_) * static_cast<std::size_t>(h_) * 3, 255) {}
  void blend(int x, int y, Rgb c, double a) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    unsigned char* p = &px[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)) * 3];
    const unsigned char v[3] = {c.r, c.g, c.b};
    for (int i = 0; i < 3; ++i) p[i] = static_cast<unsigned char>(std::lround(p[i] * (1 - a) + v[i] * a));
  }
  // even-odd scanline fill at pixel centres
  void fill(const std::vector<std::array<double, 2>>& poly, Rgb c, double a) {
    if (poly.size() < 3) return;
    double ymin = 1e300, ymax = -1e300;
    for (const auto& p : poly) ymin = std::min(ymin, p[1]), ymax = std::max(ymax, p[1]);
    std::vector<double> xs;
    for (int y = std::max(0, static_cast<int>(std::floor(ymin))); y <= std::min(h - 1, static_cast<int>(std::ceil(ymax))); ++y) {
      const double yc = y + 0.5;
      xs.clear();
      for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
        const auto& p = poly[i];
        const auto& q = poly[j];
        if ((p[1] > yc) != (q[1] > yc)) xs.push_back(p[0] + (yc - p[1]) * (q[0] - p[0]) / (q[1] - p[1]));
      }
      std::sort(xs.begin(), xs.end());
      for (std::size_t k = 0; k + 1 < xs.size(); k += 2)
        for (int x = std::max(0, static_cast<int>(std::ceil(xs[k] - 0.5))); x <= std::min(w - 1, static_cast<int>(std::floor(xs[k + 1] - 0.5))); ++x)
          blend(x, y, c, a);
    }
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, double a = 1) {
    const int n = std::max(1, static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))));
    for (int i = 0; i <= n; ++i)
      blend(static_cast<int>(std::floor(x0 + (x1 - x0) * i / n)), static_cast<int>(std::floor(y0 + (y1 - y0) * i / n)), c, a);
  }
  void outline(const std::vector<std::array<double, 2>>& poly, Rgb c, double a = 1, bool dashed = false) {
    for (std::size_t i = 0; i < poly.size(); ++i) {
      const auto& p = poly[i];
      const auto& q = poly[(i + 1) % poly.size()];
      if (!dashed) {
        line(p[0], p[1], q[0], q[1], c, a);
        continue;
      }
      const double len = std::hypot(q[0] - p[0], q[1] - p[1]);
      for (double t = 0; t < len; t += 8) {
        const double t1 = std::min(len, t + 4);
        line(p[0] + (q[0] - p[0]) * t / len, p[1] + (q[1] - p[1]) * t / len, p[0] + (q[0] - p[0]) * t1 / len,
             p[1] + (q[1] - p[1]) * t1 / len, c, a);
      }
    }
  }
  void disk(double cx, double cy, double r, Rgb c, double a = 1) {
    for (int y = static_cast<int>(std::floor(cy - r)); y <= static_cast<int>(std::ceil(cy + r)); ++y)
      for (int x = static_cast<int>(std::floor(cx - r)); x <= static_cast<int>(std::ceil(cx + r)); ++x)
        if ((x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy) <= r * r) blend(x, y, c, a);
  }
};

std::vector<std::array<double, 2>> to_px(const Frame& f, const std::vector<Vec2>& pts) {
  std::vector<std::array<double, 2>> out;
  for (const Vec2& p : pts) out.push_back({f.px(p.x), f.py(p.y)});
  return out;
}

std::vector<Vec2> circle(Vec2 c, double r, int n) {
  std::vector<Vec2> p;
  for (int i = 0; i < n; ++i) p.push_back({c.x + r * std::cos(2 * 3.14159265358979323846 * i / n), c.y + r * std::sin(2 * 3.14159265358979323846 * i / n)});
  return p;
}

std::vector<Vec2> box_pts(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }

const AreaCoverage* find_zone(const CoverageReport& rep, const std::string& id) {
  for (const AreaCoverage& a : rep.zones)
    if (a.id == id) return &a;
  return nullptr;
}

}  // namespace

std::string write_coverage_svg(const Site& site, const CoverageReport& rep, const std::string& path) {
  const Frame f = frame_of(site, 2);
  const int legend_h = 120;
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  auto pts = [&](const std::vector<Vec2>& p) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(1);
    for (const Vec2& v : p) s << f.px(v.x) << "," << f.py(v.y) << " ";
    return s.str();
  };
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f.w << "\" height=\"" << f.h + legend_h
    << "\" font-family=\"Noto Sans CJK SC, Microsoft YaHei, sans-serif\" font-size=\"11\">\n";
  o << "<title>" << xml(site.name) << " 覆盖检查 coverage check</title>\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (site.bounds) o << "<polygon points=\"" << pts(site.bounds->pts) << "\" fill=\"none\" stroke=\"#999\" stroke-width=\"1\"/>\n";
  // cameras' fields of view, under everything else
  for (const Camera& c : site.cameras)
    o << "<polygon points=\"" << pts(wedge(c, 24)) << "\" fill=\"" << hex(kCamera) << "\" fill-opacity=\"0.07\" stroke=\""
      << hex(kCamera) << "\" stroke-opacity=\"0.3\" stroke-width=\"0.5\"/>\n";
  for (const Zone& z : site.zones) {
    const AreaCoverage* ac = find_zone(rep, z.id);
    if (ac)
      o << "<polygon points=\"" << pts(z.polygon.pts) << "\" fill=\"" << hex(share_colour(ac->anchor_share, rep.options.min_share))
        << "\" fill-opacity=\"0.35\" stroke=\"#333\" stroke-width=\"1\"/>\n";
    else
      o << "<polygon points=\"" << pts(z.polygon.pts) << "\" fill=\"none\" stroke=\"" << hex(kOther)
        << "\" stroke-dasharray=\"4,3\" stroke-width=\"0.8\"/>\n";
  }
  // spots of high-risk zones without a fix
  const double cell = rep.options.cell_m > 0 ? rep.options.cell_m : 1;
  o << "<g fill=\"" << hex(kNoFix) << "\" fill-opacity=\"0.7\">\n";
  // one rectangle per run of neighbouring cells in a row (the map stays small)
  const auto cells = cells_not_covered(rep);
  for (auto it = cells.begin(); it != cells.end();) {
    const auto [row, col] = it->first;
    auto end = std::next(it);
    long last = col;
    while (end != cells.end() && end->first.first == row && end->first.second == last + 2) last = end->first.second, ++end;
    const double x = static_cast<double>(col) * cell / 2, y = static_cast<double>(row) * cell / 2;
    const double w = static_cast<double>(last - col) * cell / 2 + cell;
    o << "<rect x=\"" << f.px(x - cell / 2) << "\" y=\"" << f.py(y + cell / 2) << "\" width=\"" << w * f.s << "\" height=\""
      << cell * f.s << "\"/>\n";
    it = end;
  }
  o << "</g>\n";
  for (const Building& b : site.buildings)
    o << "<polygon points=\"" << pts(b.footprint.pts) << "\" fill=\"" << hex(kBuilding) << "\" fill-opacity=\"0.5\" stroke=\"#555\" stroke-width=\"1.5\"/>\n";
  for (const Obstacle& ob : site.obstacles) {
    if (ob.shape == Obstacle::Shape::mesh && ob.mesh)
      o << "<polygon points=\"" << pts(ob.mesh->outline) << "\" fill=\"" << hex(kObstacle)
        << "\" stroke=\"#444\" stroke-width=\"0.5\"><title>" << xml(ob.id) << "</title></polygon>\n";
    else if (ob.shape == Obstacle::Shape::box)
      o << "<polygon points=\"" << pts(box_pts(ob.min[0], ob.min[1], ob.max[0], ob.max[1])) << "\" fill=\"" << hex(kObstacle)
        << "\" stroke=\"#444\" stroke-width=\"0.5\"><title>" << xml(ob.id) << "</title></polygon>\n";
    else
      o << "<circle cx=\"" << f.px(ob.center.x) << "\" cy=\"" << f.py(ob.center.y) << "\" r=\"" << ob.radius * f.s << "\" fill=\""
        << hex(kObstacle) << "\" stroke=\"#444\" stroke-width=\"0.5\"><title>" << xml(ob.id) << "</title></circle>\n";
  }
  for (const Anchor& a : site.anchors)
    o << "<circle cx=\"" << f.px(a.at[0]) << "\" cy=\"" << f.py(a.at[1]) << "\" r=\"2.5\" fill=\"" << hex(kAnchor) << "\"><title>"
      << xml(a.id) << "</title></circle>\n";
  for (const Camera& c : site.cameras)
    o << "<rect x=\"" << f.px(c.at[0]) - 3 << "\" y=\"" << f.py(c.at[1]) - 3 << "\" width=\"6\" height=\"6\" fill=\"" << hex(kCamera)
      << "\"><title>" << xml(c.id) << "</title></rect>\n"
      << "<text x=\"" << f.px(c.at[0]) + 4 << "\" y=\"" << f.py(c.at[1]) - 4 << "\" fill=\"" << hex(kCamera) << "\" font-size=\"9\">"
      << xml(c.id) << "</text>\n";
  for (const AreaCoverage& z : rep.zones) {
    const Zone* zone = nullptr;
    for (const Zone& s : site.zones)
      if (s.id == z.id) zone = &s;
    if (!zone) continue;
    const Vec2 c = zone->polygon.centroid();
    char b[96];
    std::snprintf(b, sizeof b, "%.1f%% / %.0f%%", z.anchor_share * 100, z.camera_share * 100);
    o << "<text x=\"" << f.px(c.x) << "\" y=\"" << f.py(c.y) << "\" text-anchor=\"middle\" font-weight=\"bold\">" << xml(z.id) << " "
      << xml(z.name) << "</text>\n<text x=\"" << f.px(c.x) << "\" y=\"" << f.py(c.y) + 12 << "\" text-anchor=\"middle\">" << b << "</text>\n";
  }
  // legend
  const int ly = f.h + 14;
  o << "<g font-size=\"12\">\n";
  o << "<text x=\"8\" y=\"" << ly << "\" font-weight=\"bold\">" << xml(site.name) << " — 高风险区域定位与视频覆盖 high-risk zone positioning and video coverage (PL-08, SO-08)</text>\n";
  auto swatch = [&](int x, int y, Rgb c, const std::string& text) {
    o << "<rect x=\"" << x << "\" y=\"" << y - 10 << "\" width=\"14\" height=\"10\" fill=\"" << hex(c) << "\" fill-opacity=\"0.6\"/>"
      << "<text x=\"" << x + 18 << "\" y=\"" << y << "\">" << xml(text) << "</text>\n";
  };
  char b[160];
  std::snprintf(b, sizeof b, "覆盖率 ≥ %.0f%% share met", rep.options.min_share * 100);
  swatch(8, ly + 20, kGood, b);
  swatch(8, ly + 38, kFair, "80% ≤ 覆盖率 < 要求 below the share");
  swatch(8, ly + 56, kPoor, "覆盖率 < 80% far below");
  std::snprintf(b, sizeof b, "无法定位的点 spot without a fix (< %d 基站 anchors %s within %.0f m)", rep.options.min_anchors,
                rep.options.heard ? "heard 可达" : "in LOS", rep.options.link_range_m);
  swatch(8, ly + 74, kNoFix, b);
  swatch(330, ly + 20, kBuilding, "建筑 building");
  swatch(330, ly + 38, kObstacle, "障碍物 obstacle (储罐 tank, 管廊 pipe rack)");
  swatch(330, ly + 56, kCamera, "摄像机及视场 camera and field of view");
  swatch(330, ly + 74, kWork, "作业区域 permit work area");
  o << "<circle cx=\"335\" cy=\"" << ly + 88 << "\" r=\"2.5\" fill=\"" << hex(kAnchor) << "\"/><text x=\"348\" y=\"" << ly + 92
    << "\">UWB 基站 anchor</text>\n";
  o << "<text x=\"8\" y=\"" << ly + 96 << "\">区域标注: 基站覆盖率 / 视频覆盖率 — zone label: anchor share / camera share</text>\n";
  o << "</g>\n";
  // work areas on top
  for (const AreaCoverage& w : rep.work_areas) {
    if (w.outline.empty()) continue;
    o << "<polygon points=\"" << pts(w.outline) << "\" fill=\"" << hex(kWork) << "\" fill-opacity=\"0.12\" stroke=\"" << hex(kWork)
      << "\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n";
    Polygon p;
    p.pts = w.outline;
    const Vec2 c = p.centroid();
    char share[64];
    std::snprintf(share, sizeof share, " %.0f%%", w.camera_share * 100);
    o << "<text x=\"" << f.px(c.x) << "\" y=\"" << f.py(c.y) << "\" text-anchor=\"middle\" fill=\"" << hex(kWork) << "\">" << xml(w.id)
      << share << "</text>\n";
  }
  o << "</svg>\n";
  std::ofstream out(path, std::ios::binary);
  if (!out) return path + ": cannot write";
  out << o.str();
  return out ? "" : path + ": write failed";
}

std::string write_coverage_png(const Site& site, const CoverageReport& rep, const std::string& path, double px_per_m) {
  const Frame f = frame_of(site, px_per_m);
  Canvas cv(f.w, f.h);
  if (site.bounds) cv.outline(to_px(f, site.bounds->pts), {150, 150, 150});
  for (const Camera& c : site.cameras) cv.fill(to_px(f, wedge(c, 24)), kCamera, 0.07);
  for (const Zone& z : site.zones) {
    const AreaCoverage* ac = find_zone(rep, z.id);
    if (ac) {
      cv.fill(to_px(f, z.polygon.pts), share_colour(ac->anchor_share, rep.options.min_share), 0.35);
      cv.outline(to_px(f, z.polygon.pts), {50, 50, 50});
    } else {
      cv.outline(to_px(f, z.polygon.pts), kOther, 1, true);
    }
  }
  const double cell = rep.options.cell_m > 0 ? rep.options.cell_m : 1;
  for (const auto& [k, v] : cells_not_covered(rep)) {
    const double x = static_cast<double>(k.second) * cell / 2, y = static_cast<double>(k.first) * cell / 2;
    cv.fill(to_px(f, box_pts(x - cell / 2, y - cell / 2, x + cell / 2, y + cell / 2)), kNoFix, 0.7);
  }
  for (const Building& b : site.buildings) {
    cv.fill(to_px(f, b.footprint.pts), kBuilding, 0.5);
    cv.outline(to_px(f, b.footprint.pts), {80, 80, 80});
  }
  for (const Obstacle& o : site.obstacles) {
    const std::vector<Vec2> p = o.shape == Obstacle::Shape::mesh ? (o.mesh ? o.mesh->outline : std::vector<Vec2>{})
                                : o.shape == Obstacle::Shape::box ? box_pts(o.min[0], o.min[1], o.max[0], o.max[1])
                                                                  : circle(o.center, o.radius, 32);
    if (p.size() < 3) continue;
    cv.fill(to_px(f, p), kObstacle, 1);
  }
  for (const Anchor& a : site.anchors) cv.disk(f.px(a.at[0]), f.py(a.at[1]), 2, kAnchor);
  for (const Camera& c : site.cameras) {
    cv.fill(to_px(f, box_pts(c.at[0] - 2.5 / f.s * 1.2, c.at[1] - 2.5 / f.s * 1.2, c.at[0] + 2.5 / f.s * 1.2, c.at[1] + 2.5 / f.s * 1.2)),
            kCamera, 1);
  }
  for (const AreaCoverage& w : rep.work_areas) {
    cv.fill(to_px(f, w.outline), kWork, 0.15);
    cv.outline(to_px(f, w.outline), kWork, 1, true);
  }

  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) return path + ": cannot write";
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(fp);
    return path + ": PNG write failed";
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, static_cast<png_uint_32>(cv.w), static_cast<png_uint_32>(cv.h), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < cv.h; ++y) png_write_row(png, &cv.px[static_cast<std::size_t>(y) * static_cast<std::size_t>(cv.w) * 3]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(fp) == 0 ? "" : path + ": write failed";
}

}  // namespace planttwin
