#include "sim/plant/camera_visibility.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <thread>

namespace planttwin {

namespace {
constexpr double kDeg = 3.14159265358979323846 / 180;
}

namespace {

// A camera's view test with its trigonometry done once: bearing and elevation windows compared as
// cosines and sines (monotonic on the ranges used), so the test needs no atan2.
struct View {
  double x, y, z, range2;
  bool all_bearings;
  double fx, fy, cos_half_h;  // unit yaw direction; cos(hfov / 2)
  double sin_lo, sin_hi;      // sin of the elevation window's ends, clamped to +-90 deg
  explicit View(const Camera& c)
      : x(c.at[0]), y(c.at[1]), z(c.at[2]), range2(c.range * c.range), all_bearings(c.hfov_deg >= 360),
        fx(std::cos(c.yaw_deg * kDeg)), fy(std::sin(c.yaw_deg * kDeg)), cos_half_h(std::cos(c.hfov_deg / 2 * kDeg)),
        sin_lo(std::sin(std::max(-90.0, c.pitch_deg - c.vfov_deg / 2) * kDeg)),
        sin_hi(std::sin(std::min(90.0, c.pitch_deg + c.vfov_deg / 2) * kDeg)) {}
  bool in_view(const Vec3& p) const {
    const double dx = p.x - x, dy = p.y - y, dz = p.z - z;
    const double h2 = dx * dx + dy * dy, r2 = h2 + dz * dz;
    if (r2 > range2) return false;
    if (r2 == 0) return true;
    if (!all_bearings && h2 > 1e-18 && dx * fx + dy * fy < std::sqrt(h2) * cos_half_h) return false;
    const double s = dz / std::sqrt(r2);  // sine of the elevation
    return s >= sin_lo && s <= sin_hi;
  }
};

}  // namespace

bool camera_in_view(const Camera& cam, const Vec3& spot) { return View(cam).in_view(spot); }

std::vector<char> camera_blocking_materials(const PlantModel& model, const CameraGridOptions& opt) {
  std::vector<char> blocks;
  for (const std::string& m : model.materials())
    blocks.push_back(std::find(opt.transparent.begin(), opt.transparent.end(), m) == opt.transparent.end() ? 1 : 0);
  return blocks;
}

bool camera_sees(const Camera& cam, const Vec3& spot, const PlantModel& model, const std::vector<char>& blocks) {
  return camera_in_view(cam, spot) && model.clear({cam.at[0], cam.at[1], cam.at[2]}, spot, blocks);
}

namespace {
// A floor only buildings have: the plan box of those buildings (people on it are inside them).
bool building_only_box(const Site& site, const std::string& floor, Box2& box) {
  for (const Floor& f : site.floors)
    if (f.id == floor) return false;
  for (const Building& b : site.buildings)
    for (const Floor& f : b.floors)
      if (f.id == floor) {
        for (const Vec2& p : b.footprint.pts) box.add(p);
        break;
      }
  return true;
}
}  // namespace

Box2 site_extent(const Site& site) {
  Box2 b;
  auto poly = [&](const Polygon& p) {
    for (const Vec2& v : p.pts) b.add(v);
  };
  for (const Zone& z : site.zones) poly(z.polygon);
  for (const Building& bl : site.buildings) poly(bl.footprint);
  for (const Obstacle& o : site.obstacles) {
    if (o.shape != Obstacle::Shape::cylinder) {  // a box, or a mesh's bounding box
      b.add({o.min[0], o.min[1]});
      b.add({o.max[0], o.max[1]});
    } else {
      b.add({o.center.x - o.radius, o.center.y - o.radius});
      b.add({o.center.x + o.radius, o.center.y + o.radius});
    }
  }
  for (const Anchor& a : site.anchors) b.add({a.at[0], a.at[1]});
  for (const Camera& c : site.cameras) b.add({c.at[0], c.at[1]});
  if (site.bounds) poly(*site.bounds);
  if (b.min.x > b.max.x) b.add({0, 0});  // an empty site: one point at the origin
  return b;
}

CameraVisibility build_camera_visibility(const Site& site, const PlantModel& model, CameraGridOptions opt, int threads) {
  CameraVisibility vis;
  const double cell = opt.cell_m > 0 ? opt.cell_m : 1;
  const std::vector<std::string> floors = site.floor_ids();
  // per floor: the site's extent, or for a storey only buildings have, those buildings' extent
  struct Extent {
    double x0, y0;
    int nx, ny;
  };
  std::vector<Extent> ext(floors.size());
  const Box2 site_box = site_extent(site);
  for (std::size_t f = 0; f < floors.size(); ++f) {
    Box2 b;
    if (!building_only_box(site, floors[f], b) || b.min.x > b.max.x) b = site_box;
    Extent& e = ext[f];
    e.x0 = std::floor((b.min.x - opt.margin_m) / cell) * cell;
    e.y0 = std::floor((b.min.y - opt.margin_m) / cell) * cell;
    e.nx = std::max(1, static_cast<int>(std::ceil((b.max.x + opt.margin_m - e.x0) / cell)));
    e.ny = std::max(1, static_cast<int>(std::ceil((b.max.y + opt.margin_m - e.y0) / cell)));
  }
  const std::vector<char> blocks = camera_blocking_materials(model, opt);

  // one job per (floor, camera): the cells it sees, in cell order
  const std::size_t ncam = site.cameras.size();
  const std::size_t jobs = floors.size() * ncam;
  std::vector<std::vector<std::uint32_t>> seen(jobs);
  auto run = [&](std::size_t job) {
    const std::string& floor = floors[job / ncam];
    const auto [x0, y0, nx, ny] = ext[job / ncam];
    const Camera& cam = site.cameras[job % ncam];
    const View view(cam);
    const Vec3 eye{cam.at[0], cam.at[1], cam.at[2]};
    const double z = plant_floor_surface(site, floor) + opt.spot_height_m;
    const double dz = z - cam.at[2];
    if (std::abs(dz) > cam.range) return;
    const double reach = std::sqrt(cam.range * cam.range - dz * dz);
    const int ix0 = std::max(0, static_cast<int>(std::floor((cam.at[0] - reach - x0) / cell)));
    const int ix1 = std::min(nx - 1, static_cast<int>(std::floor((cam.at[0] + reach - x0) / cell)));
    const int iy0 = std::max(0, static_cast<int>(std::floor((cam.at[1] - reach - y0) / cell)));
    const int iy1 = std::min(ny - 1, static_cast<int>(std::floor((cam.at[1] + reach - y0) / cell)));
    for (int iy = iy0; iy <= iy1; ++iy)
      for (int ix = ix0; ix <= ix1; ++ix) {
        const Vec3 spot{x0 + (ix + 0.5) * cell, y0 + (iy + 0.5) * cell, z};
        if (view.in_view(spot) && model.clear(eye, spot, blocks))
          seen[job].push_back(static_cast<std::uint32_t>(iy) * static_cast<std::uint32_t>(nx) + static_cast<std::uint32_t>(ix));
      }
  };
  const int workers = static_cast<int>(std::clamp<std::size_t>(threads < 1 ? 1 : static_cast<std::size_t>(threads), 1, std::max<std::size_t>(jobs, 1)));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t j; (j = next.fetch_add(1)) < jobs;) run(j);
  };
  if (workers <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }

  // merge by index: cameras in site order extend each cell's set, so sets stay sorted and their
  // numbers depend only on the data
  std::map<std::pair<std::uint32_t, int>, std::uint32_t> child;  // (set, camera) -> set + camera
  for (std::size_t f = 0; f < floors.size(); ++f) {
    CameraVisibility::Grid g;
    g.floor = floors[f];
    g.x0 = ext[f].x0;
    g.y0 = ext[f].y0;
    g.cell = cell;
    g.nx = ext[f].nx;
    g.ny = ext[f].ny;
    g.cells.assign(static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny), 0);
    for (std::size_t c = 0; c < ncam; ++c)
      for (std::uint32_t idx : seen[f * ncam + c]) {
        std::uint32_t& s = g.cells[idx];
        const auto key = std::make_pair(s, static_cast<int>(c));
        auto it = child.find(key);
        if (it == child.end()) {
          std::vector<int> set = vis.sets[s];
          set.push_back(static_cast<int>(c));
          vis.sets.push_back(std::move(set));
          it = child.emplace(key, static_cast<std::uint32_t>(vis.sets.size() - 1)).first;
        }
        s = it->second;
      }
    vis.grids.push_back(std::move(g));
  }
  return vis;
}

}  // namespace planttwin
