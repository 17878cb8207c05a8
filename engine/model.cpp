#include "engine/model.h"

#include <algorithm>
#include <cstring>

namespace planttwin {

namespace {

// FNV-1a over the bytes that decide behaviour; stable across runs and machines of one byte order.
struct Fingerprint {
  std::uint64_t h = 1469598103934665603ULL;
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  }
  void str(const std::string& s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void u64(std::uint64_t v) { bytes(&v, sizeof v); }
  void i64(std::int64_t v) { bytes(&v, sizeof v); }
  void f64(double v) { bytes(&v, sizeof v); }
  void poly(const Polygon& p) {
    u64(p.pts.size());
    for (const Vec2& v : p.pts) f64(v.x), f64(v.y);
  }
};

}  // namespace


std::shared_ptr<const EngineModel> EngineModel::build(EngineSetup setup) {
  auto m = std::make_shared<EngineModel>();
  m->site = std::move(setup.site);
  m->clock = setup.clock;
  m->duty = std::move(setup.duty);
  m->cameras = std::move(setup.cameras);
  const Site& site = *m->site;
  m->floor_ids = site.floor_ids();
  for (size_t i = 0; i < m->floor_ids.size(); ++i) m->floor_index.emplace(m->floor_ids[i], static_cast<int>(i));
  // people in id order: the order every rule iterates them in
  m->people = std::move(setup.people);
  std::stable_sort(m->people.begin(), m->people.end(), [](const PersonSetup& a, const PersonSetup& b) { return a.id < b.id; });
  for (size_t i = 0; i < m->people.size(); ++i) {
    const PersonSetup& d = m->people[i];
    int tag = -1;
    if (!d.tag.empty()) {
      tag = static_cast<int>(m->tags.size());
      m->tags.push_back(d.tag);
      m->tag_person.push_back(static_cast<int>(i));
      m->tag_ids.emplace(d.tag, tag);
    }
    m->person_tag.push_back(tag);
    m->person_ids.emplace(d.id, static_cast<int>(i));
  }
  m->zone_floors.resize(site.zones.size());
  for (size_t z = 0; z < site.zones.size(); ++z) {
    m->zone_index.emplace(site.zones[z].id, static_cast<int>(z));
    for (const std::string& f : site.zones[z].floors) {
      auto it = m->floor_index.find(f);
      if (it != m->floor_index.end()) m->zone_floors[z].push_back(it->second);
    }
  }
  // the zone grid: cell -> zones whose bounding box touches it; about 25 m cells, at most 4096 x 4096
  ZoneGrid& g = m->grid;
  for (const Zone& z : site.zones) {
    g.box.add(z.polygon.box.min);
    g.box.add(z.polygon.box.max);
  }
  if (!site.zones.empty()) {
    const double w = g.box.max.x - g.box.min.x, h = g.box.max.y - g.box.min.y;
    g.cell = std::max({25.0, w / 4096, h / 4096});
    g.w = static_cast<int>(w / g.cell) + 1;
    g.h = static_cast<int>(h / g.cell) + 1;
    g.cells.assign(static_cast<size_t>(g.w) * static_cast<size_t>(g.h), {});
    auto cx = [&](double x) { return std::clamp(static_cast<int>((x - g.box.min.x) / g.cell), 0, g.w - 1); };
    auto cy = [&](double y) { return std::clamp(static_cast<int>((y - g.box.min.y) / g.cell), 0, g.h - 1); };
    for (size_t zi = 0; zi < site.zones.size(); ++zi) {
      const Box2& b = site.zones[zi].polygon.box;
      for (int y = cy(b.min.y); y <= cy(b.max.y); ++y)
        for (int x = cx(b.min.x); x <= cx(b.max.x); ++x)
          g.cells[static_cast<size_t>(y) * static_cast<size_t>(g.w) + static_cast<size_t>(x)].push_back(static_cast<int>(zi));
    }
  }
  std::vector<PermitPerson> desk_people;
  for (const PersonSetup& p : m->people)
    desk_people.push_back({p.id, p.name.empty() ? p.id : p.name, p.category, p.roles, p.certificates});
  m->desk = PermitDeskModel(m->site, std::move(desk_people));

  // fingerprint: what a checkpoint must agree with (not the cameras: they never change a decision
  // of the canonical stream, docs/hash.md)
  Fingerprint f;
  f.str(site.name);
  f.u64(m->floor_ids.size());
  for (const std::string& id : m->floor_ids) f.str(id);
  f.u64(site.zones.size());
  for (const Zone& z : site.zones) {
    f.str(z.id);
    f.poly(z.polygon);
    f.u64(z.floors.size());
    f.i64(z.capacity.value_or(-1));
    f.i64(z.min_staff.value_or(-1));
    f.u64(z.stay_inside);
    f.i64(z.stationary_after.value_or(-1));
    f.i64(z.overstay_after.value_or(-1));
    f.u64(z.permit_required);
    f.u64(z.explosion_hazard);
    f.u64(z.schedule.size());
  }
  const Rules& r = site.rules;
  f.f64(r.gathering.radius), f.i64(r.gathering.dwell), f.i64(r.gathering.yellow), f.i64(r.gathering.orange);
  f.i64(r.gathering.red), f.i64(r.gathering.clear_after), f.i64(r.gathering.fix_max_age);
  if (r.gathering.every != 0) f.i64(r.gathering.every);  // only when set: earlier fingerprints stand
  f.f64(r.stationary_radius), f.i64(r.stationary_after), f.i64(r.crossing_escalate_after), f.f64(r.crossing_exit_margin);
  f.i64(r.crossing_delay), f.i64(r.capacity_delay), f.i64(r.tag_offline_after), f.f64(r.low_battery);
  f.i64(r.untagged_after), f.i64(r.ack_within), f.i64(r.evaluate_every), f.i64(r.work_without_permit_after);
  f.i64(m->clock.start_unix_s), f.i64(m->clock.utc_offset_min);
  f.u64(m->people.size());
  for (const PersonSetup& p : m->people) {
    f.str(p.id);
    f.str(p.tag);
    f.u64(static_cast<std::uint64_t>(p.category));
  }
  f.u64(m->duty.size());
  for (const DutyAssignment& d : m->duty) f.str(d.person), f.i64(d.from), f.i64(d.to);
  m->fingerprint = f.h;
  return m;
}

int EngineModel::lookup_floor(std::string_view id) const {
  auto it = floor_index.find(std::string(id));
  return it == floor_index.end() ? -1 : it->second;
}

std::string EngineModel::floor_name(int f) const {
  return f >= 0 && f < static_cast<int>(floor_ids.size()) ? floor_ids[static_cast<size_t>(f)] : "";
}

int EngineModel::floor_from_z(Vec2 p, double z) const {
  for (const Building& b : site->buildings)
    if (b.footprint.contains(p))
      for (const Floor& f : b.floors)
        if (z >= f.z0 && z < f.z1) return lookup_floor(f.id);
  for (const Floor& f : site->floors)
    if (z >= f.z0 && z < f.z1) return lookup_floor(f.id);
  return floor_ids.empty() ? -1 : 0;
}

int EngineModel::zone_floor(int z) const {
  const std::vector<int>& fl = zone_floors[static_cast<size_t>(z)];
  return fl.empty() ? -1 : fl.front();
}

std::string EngineModel::zone_at(Vec2 p, int floor) const {
  for (size_t z = 0; z < site->zones.size(); ++z) {
    const Zone& zone = site->zones[z];
    if (!zone.polygon.contains(p)) continue;
    const std::vector<int>& fl = zone_floors[z];
    if (!fl.empty() && std::find(fl.begin(), fl.end(), floor) == fl.end()) continue;
    return zone.id;
  }
  return "";
}

std::string EngineModel::duty_at(Micros t) const {
  for (const DutyAssignment& d : duty)
    if (t >= d.from && t <= d.to) return d.person;
  return "";
}

std::vector<std::string> EngineModel::cameras_at(std::string_view floor, Vec2 p) const {
  std::vector<std::string> out;
  if (!cameras || floor.empty()) return out;
  for (int c : cameras->at(floor, p))
    if (c >= 0 && c < static_cast<int>(site->cameras.size())) out.push_back(site->cameras[static_cast<size_t>(c)].id);
  return out;
}

bool EngineModel::is_authorized(const PersonSetup& p, const Authorization& a) {
  if (!a.present) return true;
  if (std::find(a.people.begin(), a.people.end(), p.id) != a.people.end()) return true;
  if (std::find(a.categories.begin(), a.categories.end(), p.category) != a.categories.end()) return true;
  for (const std::string& r : p.roles)
    if (std::find(a.roles.begin(), a.roles.end(), r) != a.roles.end()) return true;
  return false;
}

}  // namespace planttwin
