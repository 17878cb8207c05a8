#include "sim/plant/coverage.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace planttwin {

bool is_high_risk(const Zone& z) {
  return z.risk == Risk::red || z.risk == Risk::orange || z.kind == ZoneKind::high_risk ||
         z.kind == ZoneKind::major_hazard;
}

namespace {

bool outdoor_floor(const Site& site, const std::string& id) {
  return std::any_of(site.floors.begin(), site.floors.end(), [&](const Floor& f) { return f.id == id; });
}

// Nobody stands inside a solid: a spot whose tag (from the floor surface up to the tag height) would
// be inside an obstacle (a tank, a bund wall, a column) is not part of the area to cover.
bool inside_obstacle(const Site& site, double surface, double tag_height, Vec2 p) {
  const double lo = surface, hi = surface + tag_height;
  for (const Obstacle& o : site.obstacles) {
    if (o.shape == Obstacle::Shape::mesh) {
      continue;  // a process unit's outline holds walkways: its spots stay in the area (docs/check.md)
    } else if (o.shape == Obstacle::Shape::box) {
      if (p.x > o.min[0] && p.x < o.max[0] && p.y > o.min[1] && p.y < o.max[1] && o.min[2] < hi && o.max[2] > lo) return true;
    } else {
      const double dx = p.x - o.center.x, dy = p.y - o.center.y;
      if (dx * dx + dy * dy < o.radius * o.radius && o.z0 < hi && o.z1 > lo) return true;
    }
  }
  return false;
}

// a spot on a floor only buildings have must be inside one of them
bool walkable(const Site& site, const std::string& floor, bool outdoor, Vec2 p, double tag_height) {
  if (inside_obstacle(site, plant_floor_surface(site, floor), tag_height, p)) return false;
  if (outdoor) return true;
  for (const Building& b : site.buildings) {
    if (!b.footprint.contains(p)) continue;
    for (const Floor& f : b.floors)
      if (f.id == floor) return true;
  }
  return false;
}

std::string ground_floor(const Site& site) { return site.floors.empty() ? "1" : site.floors.front().id; }

// Samples one outline on its floors and measures anchors and cameras at every sample.
AreaCoverage measure(const Site& site, const PlantModel& model, const Polygon& outline_in,
                     const std::vector<std::string>& floors, const CoverageOptions& opt, int threads) {
  AreaCoverage ac;
  ac.floors = floors;
  Polygon outline = outline_in;
  outline.finalize();
  ac.area_m2 = outline.area();
  ac.outline = outline.pts;
  const double cell = opt.cell_m > 0 ? opt.cell_m : 1;
  // cell centres on the site-wide grid (multiples of the cell) inside the outline
  const long ix0 = static_cast<long>(std::floor(outline.box.min.x / cell)), ix1 = static_cast<long>(std::ceil(outline.box.max.x / cell));
  const long iy0 = static_cast<long>(std::floor(outline.box.min.y / cell)), iy1 = static_cast<long>(std::ceil(outline.box.max.y / cell));
  for (std::size_t f = 0; f < floors.size(); ++f) {
    const bool outdoor = outdoor_floor(site, floors[f]);
    std::size_t before = ac.samples.size();
    for (long iy = iy0; iy <= iy1; ++iy)
      for (long ix = ix0; ix <= ix1; ++ix) {
        const Vec2 p{(static_cast<double>(ix) + 0.5) * cell, (static_cast<double>(iy) + 0.5) * cell};
        if (outline.contains(p) && walkable(site, floors[f], outdoor, p, opt.tag_height_m))
          ac.samples.push_back({p.x, p.y, static_cast<int>(f), 0, false, -1, 0});
      }
    // an outline smaller than a cell: its centroid
    if (ac.samples.size() == before && !outline.pts.empty()) {
      const Vec2 c = outline.centroid();
      if (walkable(site, floors[f], outdoor, c, opt.tag_height_m)) ac.samples.push_back({c.x, c.y, static_cast<int>(f), 0, false, -1, 0});
    }
  }

  // floors with no walkable spot under the outline (a storey of a building elsewhere) drop out
  {
    std::vector<std::string> kept;
    std::vector<int> index(floors.size(), -1);
    for (std::size_t f = 0; f < floors.size(); ++f)
      for (const CoverageSample& s : ac.samples)
        if (s.floor == static_cast<int>(f)) {
          index[f] = static_cast<int>(kept.size());
          kept.push_back(floors[f]);
          break;
        }
    for (CoverageSample& s : ac.samples) s.floor = index[static_cast<std::size_t>(s.floor)];
    ac.floors = kept;
  }

  // anchors and cameras that can reach the outline at all
  std::vector<const Anchor*> anchors;
  for (const Anchor& a : site.anchors)
    if (outline.box.contains({a.at[0], a.at[1]}, opt.link_range_m)) anchors.push_back(&a);
  std::vector<std::size_t> cams;
  for (std::size_t c = 0; c < site.cameras.size(); ++c)
    if (outline.box.contains({site.cameras[c].at[0], site.cameras[c].at[1]}, site.cameras[c].range)) cams.push_back(c);
  const std::vector<char> radio_blocks(model.materials().size(), 1);  // every solid blocks UWB line of sight
  const std::vector<char> camera_blocks = camera_blocking_materials(model, opt.camera);
  std::vector<double> surface(ac.floors.size());
  for (std::size_t f = 0; f < ac.floors.size(); ++f) surface[f] = plant_floor_surface(site, ac.floors[f]);

  // per sample; bitmask words of the cameras that see it
  const std::size_t words = (cams.size() + 63) / 64;
  std::vector<std::uint64_t> seen_by(ac.samples.size() * words, 0);
  auto work = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      CoverageSample& s = ac.samples[i];
      const Vec3 tag{s.x, s.y, surface[static_cast<std::size_t>(s.floor)] + opt.tag_height_m};
      double a11 = 0, a12 = 0, a22 = 0;  // normal matrix of the horizontal range equations
      for (const Anchor* a : anchors) {
        const double dx = tag.x - a->at[0], dy = tag.y - a->at[1], dz = tag.z - a->at[2];
        const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
        if (r > opt.link_range_m || r <= 0) continue;
        if (!model.clear(tag, {a->at[0], a->at[1], a->at[2]}, radio_blocks) &&
            (!opt.heard || !opt.heard(tag, static_cast<int>(a - site.anchors.data()))))
          continue;
        ++s.anchors;
        const double ux = dx / r, uy = dy / r;
        a11 += ux * ux;
        a12 += ux * uy;
        a22 += uy * uy;
      }
      const double det = a11 * a22 - a12 * a12;
      if (s.anchors >= opt.min_anchors && det > 1e-9) {
        s.covered = true;
        s.accuracy_m = std::sqrt((a11 + a22) / det) * opt.range_sigma_m;  // HDOP x sigma
      }
      const Vec3 spot{s.x, s.y, surface[static_cast<std::size_t>(s.floor)] + opt.camera.spot_height_m};
      for (std::size_t k = 0; k < cams.size(); ++k)
        if (camera_sees(site.cameras[cams[k]], spot, model, camera_blocks)) {
          ++s.cameras;
          seen_by[i * words + k / 64] |= std::uint64_t{1} << (k % 64);
        }
    }
  };
  const std::size_t n = ac.samples.size();
  const std::size_t workers = std::clamp<std::size_t>(threads < 1 ? 1 : static_cast<std::size_t>(threads), 1, std::max<std::size_t>(n, 1));
  if (workers == 1) {
    work(0, n);
  } else {
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < workers; ++w) pool.emplace_back(work, n * w / workers, n * (w + 1) / workers);
    for (std::thread& t : pool) t.join();
  }

  // sums in sample order
  std::vector<double> acc;
  std::size_t covered = 0, seen = 0;
  for (const CoverageSample& s : ac.samples) {
    if (s.covered) ++covered, acc.push_back(s.accuracy_m);
    if (s.cameras > 0) ++seen;
  }
  const double total = static_cast<double>(std::max<std::size_t>(n, 1));
  ac.anchor_share = n ? static_cast<double>(covered) / total : 0;
  ac.camera_share = n ? static_cast<double>(seen) / total : 0;
  if (!acc.empty()) {
    std::sort(acc.begin(), acc.end());
    ac.accuracy_median_m = acc.size() % 2 ? acc[acc.size() / 2] : (acc[acc.size() / 2 - 1] + acc[acc.size() / 2]) / 2;
    ac.accuracy_worst_m = acc.back();
  }
  for (std::size_t k = 0; k < cams.size(); ++k) {
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i) c += (seen_by[i * words + k / 64] >> (k % 64)) & 1;
    if (c) ac.cameras.push_back({site.cameras[cams[k]].id, static_cast<double>(c) / total});
  }
  ac.anchors_ok = n > 0 && ac.anchor_share >= opt.min_share;
  ac.cameras_ok = n > 0 && ac.camera_share >= opt.min_share;
  return ac;
}

}  // namespace

std::vector<std::string> coverage_floors(const Site& site, const Zone& z, double tag_height_m) {
  if (!z.floors.empty()) return z.floors;
  if (z.z) {
    std::vector<std::string> out;
    for (const std::string& f : site.floor_ids()) {
      const double h = plant_floor_surface(site, f) + tag_height_m;
      if (h >= z.z->first && h <= z.z->second) out.push_back(f);
    }
    return out;
  }
  return {ground_floor(site)};
}

CoverageReport check_coverage(const Site& site_in, const PlantModel& model, const std::vector<WorkArea>& work_areas,
                              const CoverageOptions& opt, int threads) {
  // outlines answer contains() only once finalized (the loader does it; code-made sites may not)
  Site site = site_in;
  for (Building& b : site.buildings) b.footprint.finalize();
  for (Zone& z : site.zones) z.polygon.finalize();
  CoverageReport rep;
  rep.options = opt;
  rep.pass = true;
  for (const Zone& z : site.zones) {
    if (!is_high_risk(z)) continue;
    AreaCoverage ac = measure(site, model, z.polygon, coverage_floors(site, z, opt.tag_height_m), opt, threads);
    ac.id = z.id;
    ac.name = z.name;
    ac.kind = to_string(z.kind);
    ac.risk = to_string(z.risk);
    rep.pass = rep.pass && ac.anchors_ok;
    rep.zones.push_back(std::move(ac));
  }
  for (const WorkArea& w : work_areas) {
    AreaCoverage ac = measure(site, model, w.area, {w.floor.empty() ? ground_floor(site) : w.floor}, opt, threads);
    ac.id = w.id;
    ac.kind = w.type;
    ac.risk = w.action;
    rep.pass = rep.pass && ac.cameras_ok;
    rep.work_areas.push_back(std::move(ac));
  }
  return rep;
}

}  // namespace planttwin
