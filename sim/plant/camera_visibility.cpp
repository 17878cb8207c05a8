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

bool camera_in_view(const Camera& cam, const Vec3& spot) {
  const double dx = spot.x - cam.at[0], dy = spot.y - cam.at[1], dz = spot.z - cam.at[2];
  const double horiz = std::hypot(dx, dy);
  if (horiz * horiz + dz * dz > cam.range * cam.range) return false;
  if (horiz == 0 && dz == 0) return true;
  // bearing: an offset from yaw in (-180, 180]
  if (cam.hfov_deg < 360 && horiz > 1e-9) {
    double off = std::atan2(dy, dx) / kDeg - cam.yaw_deg;
    off = std::fmod(off, 360.0);
    if (off > 180) off -= 360;
    if (off <= -180) off += 360;
    if (std::abs(off) > cam.hfov_deg / 2) return false;
  }
  const double elevation = std::atan2(dz, horiz) / kDeg;
  return std::abs(elevation - cam.pitch_deg) <= cam.vfov_deg / 2;
}

std::vector<char> camera_blocking_materials(const PlantModel& model, const CameraGridOptions& opt) {
  std::vector<char> blocks;
  for (const std::string& m : model.materials())
    blocks.push_back(std::find(opt.transparent.begin(), opt.transparent.end(), m) == opt.transparent.end() ? 1 : 0);
  return blocks;
}

bool camera_sees(const Camera& cam, const Vec3& spot, const PlantModel& model, const std::vector<char>& blocks) {
  return camera_in_view(cam, spot) && model.clear({cam.at[0], cam.at[1], cam.at[2]}, spot, blocks);
}

Box2 site_extent(const Site& site) {
  Box2 b;
  auto poly = [&](const Polygon& p) {
    for (const Vec2& v : p.pts) b.add(v);
  };
  for (const Zone& z : site.zones) poly(z.polygon);
  for (const Building& bl : site.buildings) poly(bl.footprint);
  for (const Obstacle& o : site.obstacles) {
    if (o.shape == Obstacle::Shape::box) {
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
  const Box2 ext = site_extent(site);
  const double x0 = std::floor((ext.min.x - opt.margin_m) / cell) * cell;
  const double y0 = std::floor((ext.min.y - opt.margin_m) / cell) * cell;
  const int nx = std::max(1, static_cast<int>(std::ceil((ext.max.x + opt.margin_m - x0) / cell)));
  const int ny = std::max(1, static_cast<int>(std::ceil((ext.max.y + opt.margin_m - y0) / cell)));
  const std::vector<std::string> floors = site.floor_ids();
  const std::vector<char> blocks = camera_blocking_materials(model, opt);

  // one job per (floor, camera): the cells it sees, in cell order
  const std::size_t ncam = site.cameras.size();
  const std::size_t jobs = floors.size() * ncam;
  std::vector<std::vector<std::uint32_t>> seen(jobs);
  auto run = [&](std::size_t job) {
    const std::string& floor = floors[job / ncam];
    const Camera& cam = site.cameras[job % ncam];
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
        if (camera_sees(cam, spot, model, blocks))
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
    g.x0 = x0;
    g.y0 = y0;
    g.cell = cell;
    g.nx = nx;
    g.ny = ny;
    g.cells.assign(static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny), 0);
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
