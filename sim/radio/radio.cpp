#include "sim/radio/radio.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "engine/byte_codec.h"
#include "sim/motion.h"

namespace planttwin {

namespace {

// Defaults per material: physics (docs/radio.md "Materials", with sources). Permittivities of
// solid materials from ITU-R P.2040-1 Table 3 (at 1-10 GHz); the furniture materials (wood, plastic,
// cardboard, foam) are effective values of the UTIL obstacles, which are mostly air.
std::map<std::string, RadioMaterial> default_materials() {
  std::map<std::string, RadioMaterial> m;
  //              opaque  eps   att dB  dB/m  bias  refl dB
  m["concrete"] = {false, 5.24, 0, 40, 0, 8};
  m["brick"] = {false, 3.91, 0, 35, 0, 10};
  m["glass"] = {false, 6.31, 3, 0, 0, 7};
  m["wood"] = {false, 1.03, 3, 0, 0, 15};       // UTIL wooden shelf (effective)
  m["plastic"] = {false, 1.02, 0.7, 0, 0, 15};  // UTIL plastic (effective)
  m["cardboard"] = {false, 1.01, 0.1, 0, 0, 20};
  m["foam"] = {false, 1.01, 0.1, 0, 0, 20};
  m["steel"] = {true, 1, 0, 0, 0, 0};  // a conductor: nothing through, full reflection
  m["metal"] = {true, 1, 0, 0, 0, 0};  // the same physics: only the geometry differs
  return m;
}

double u01(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

bool parse_num(const std::string& s, double& out) {
  std::string_view v = s;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  if (v.empty()) return false;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size() && std::isfinite(out);
}

}  // namespace

RadioParams radio_defaults(const Site& site) {
  RadioParams p;
  p.materials = default_materials();
  for (const auto& [name, m] : site.materials) {
    // site-v1 describes a material by its attenuation and bias per crossing: a penetrable one
    RadioMaterial& r = p.materials.try_emplace(name, p.unknown_material).first->second;
    r.opaque = false;
    r.attenuation_db = m.attenuation_db;
    r.loss_db_per_m = 0;
    r.bias_m = m.nlos_bias_m;
  }
  return p;
}

const std::vector<std::string>& radio_keys() {
  static const std::vector<std::string> k = {
      "mode",           "los.sigma",          "tdoa.sigma",          "link.rx_at_1m_dbm",     "link.pathloss_exponent",
      "link.sensitivity_dbm", "link.shadowing_db", "link.max_anchors",
      "paths.diffraction", "paths.reflections", "paths.wavelength_m", "paths.max_reflection_excess_m",
      "paths.min_reflector_m", "paths.max_rounds", "leading_edge.spread_per_db", "leading_edge.spread_max_m",
      "leading_edge.floor_per_db", "leading_edge.floor_from_db", "leading_edge.floor_max_m",
      "outliers.small_rate", "outliers.small_m", "outliers.medium_rate", "outliers.large_rate", "outliers.nlos_factor",
      "device.offset_sigma", "device.stamp_delay", "mac.collisions",  "mac.airtime_ms",      "mac.aloha_jitter",      "solver.min_anchors",
      "solver.processing_delay", "solver.kalman",
      "materials.NAME.opaque", "materials.NAME.permittivity", "materials.NAME.attenuation_db",
      "materials.NAME.loss_db_per_m", "materials.NAME.bias_m", "materials.NAME.reflection_loss_db"};
  return k;
}

bool apply_radio_overrides(const std::map<std::string, std::string>& overrides, RadioParams& p, std::string& key,
                           std::string& message) {
  for (const auto& [k, v] : overrides) {
    key = k;
    double x = 0;
    auto number = [&](double lo, double hi) {
      if (!parse_num(v, x) || x < lo || x > hi) {
        message = "expected a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", found '" + v + "'";
        return false;
      }
      return true;
    };
    auto boolean = [&](bool& out) {
      if (v == "true" || v == "yes" || v == "on") return out = true, true;
      if (v == "false" || v == "no" || v == "off") return out = false, true;
      message = "expected true or false, found '" + v + "'";
      return false;
    };
    bool b = false;
    if (k == "mode") {
      if (v != "twr" && v != "tdoa") return message = "expected twr or tdoa, found '" + v + "'", false;
      p.mode = v == "twr" ? RadioParams::Mode::twr : RadioParams::Mode::tdoa;
    } else if (k == "los.sigma") {
      if (!number(0, 10)) return false;
      p.los_sigma_m = x;
    } else if (k == "tdoa.sigma") {
      if (!number(0, 10)) return false;
      p.tdoa_sigma_m = x;
    } else if (k == "link.rx_at_1m_dbm") {
      if (!number(-200, 50)) return false;
      p.rx_at_1m_dbm = x;
    } else if (k == "link.pathloss_exponent") {
      if (!number(0.5, 6)) return false;
      p.pathloss_exponent = x;
    } else if (k == "link.sensitivity_dbm") {
      if (!number(-200, 50)) return false;
      p.sensitivity_dbm = x;
    } else if (k == "link.shadowing_db") {
      if (!number(0, 30)) return false;
      p.shadowing_db = x;
    } else if (k == "link.max_anchors") {
      if (!number(1, 64) || x != std::floor(x)) return message = "expected a whole number from 1 to 64, found '" + v + "'", false;
      p.max_anchors = static_cast<int>(x);
    } else if (k == "link.reflection_loss_db" || k == "link.blocked_reflection_rate") {
      message = "removed: reflections now come from the plant's geometry (materials.NAME.reflection_loss_db, "
                "paths.reflections; docs/radio.md \"First paths\")";
      return false;
    } else if (k == "paths.diffraction") {
      if (!boolean(b)) return false;
      p.paths.diffraction = b;
    } else if (k == "paths.reflections") {
      if (!boolean(b)) return false;
      p.paths.reflections = b;
    } else if (k == "paths.wavelength_m") {
      if (!number(0.001, 10)) return false;
      p.paths.wavelength_m = x;
    } else if (k == "paths.max_reflection_excess_m") {
      if (!number(0, 1000)) return false;
      p.paths.max_reflection_excess_m = x;
    } else if (k == "paths.min_reflector_m") {
      if (!number(0, 100)) return false;
      p.paths.min_reflector_m = x;
    } else if (k == "paths.max_rounds") {
      if (!number(1, 10) || x != std::floor(x)) return message = "expected a whole number from 1 to 10, found '" + v + "'", false;
      p.paths.max_rounds = static_cast<int>(x);
    } else if (k == "leading_edge.spread_per_db") {
      if (!number(0, 10)) return false;
      p.paths.le_spread_per_db = x;
    } else if (k == "leading_edge.spread_max_m") {
      if (!number(0, 100)) return false;
      p.paths.le_spread_max_m = x;
    } else if (k == "leading_edge.floor_per_db") {
      if (!number(0, 10)) return false;
      p.paths.le_floor_per_db = x;
    } else if (k == "leading_edge.floor_from_db") {
      if (!number(0, 200)) return false;
      p.paths.le_floor_from_db = x;
    } else if (k == "leading_edge.floor_max_m") {
      if (!number(0, 100)) return false;
      p.paths.le_floor_max_m = x;
    } else if (k == "outliers.small_rate") {
      if (!number(0, 1)) return false;
      p.outlier_small_rate = x;
    } else if (k == "outliers.small_m") {
      if (!number(0, 100)) return false;
      p.outlier_small_m = x;
    } else if (k == "outliers.medium_rate") {
      if (!number(0, 1)) return false;
      p.outlier_medium_rate = x;
    } else if (k == "outliers.large_rate") {
      if (!number(0, 1)) return false;
      p.outlier_large_rate = x;
    } else if (k == "outliers.nlos_factor") {
      if (!number(0, 1000)) return false;
      p.outlier_nlos_factor = x;
    } else if (k == "device.offset_sigma") {
      if (!number(0, 10)) return false;
      p.device_offset_sigma_m = x;
    } else if (k == "mac.collisions") {
      if (!boolean(b)) return false;
      p.collisions = b;
    } else if (k == "mac.airtime_ms") {
      if (!number(0, 100)) return false;
      p.airtime_ms = x;
    } else if (k == "mac.aloha_jitter") {
      if (!boolean(b)) return false;
      p.aloha_jitter = b;
    } else if (k == "solver.min_anchors") {
      if (!number(2, 64) || x != std::floor(x)) return message = "expected a whole number from 2 to 64, found '" + v + "'", false;
      p.min_anchors = static_cast<int>(x);
    } else if (k == "device.stamp_delay") {
      Micros d = 0;
      if (!parse_duration(v, d) || d < 0 || d > 10 * kSecond)
        return message = "expected a duration from 0 to 10s (like 200ms), found '" + v + "'", false;
      p.stamp_delay = d;
    } else if (k == "solver.processing_delay") {
      Micros d = 0;
      if (!parse_duration(v, d) || d < 0) return message = "expected a duration >= 0 (like 100ms), found '" + v + "'", false;
      p.processing_delay = d;
    } else if (k == "solver.kalman") {
      if (!boolean(b)) return false;
      p.kalman = b;
    } else if (k.rfind("materials.", 0) == 0) {
      const std::string rest = k.substr(10);
      const auto dot = rest.rfind('.');
      const std::string name = dot == std::string::npos ? "" : rest.substr(0, dot);
      const std::string field = dot == std::string::npos ? rest : rest.substr(dot + 1);
      if (name.empty() || name.find('.') != std::string::npos || name.find('[') != std::string::npos) {
        message = "expected materials.NAME.FIELD";
        return false;
      }
      RadioMaterial& m = p.materials.try_emplace(name, p.unknown_material).first->second;
      if (field == "opaque") {
        if (!boolean(b)) return false;
        m.opaque = b;
      } else if (field == "permittivity") {
        if (!number(1, 100)) return false;
        m.permittivity = x;
      } else if (field == "attenuation_db") {
        if (!number(0, 200)) return false;
        m.attenuation_db = x;
      } else if (field == "loss_db_per_m") {
        if (!number(0, 10000)) return false;
        m.loss_db_per_m = x;
      } else if (field == "bias_m") {
        if (!number(0, 100)) return false;
        m.bias_m = x;
      } else if (field == "reflection_loss_db") {
        if (!number(0, 200)) return false;
        m.reflection_loss_db = x;
      } else if (field == "bias_min" || field == "bias_mean" || field == "lock_rate" || field == "lock_m" ||
                 field == "lock_sigma") {
        message = "material field '" + field +
                  "' was removed: the range error follows from the geometry's first path (docs/radio.md \"First paths\"); "
                  "expected one of: opaque, permittivity, attenuation_db, loss_db_per_m, bias_m, reflection_loss_db";
        return false;
      } else {
        message = "unknown material field '" + field +
                  "' (expected one of: opaque, permittivity, attenuation_db, loss_db_per_m, bias_m, reflection_loss_db)";
        return false;
      }
    } else {
      std::string all;
      for (const std::string& s : radio_keys()) all += (all.empty() ? "" : ", ") + s;
      message = "unknown radio key (expected one of: " + all + ")";
      return false;
    }
  }
  key.clear();
  return true;
}

double LinkRandom::uniform() { return u01(stream_seed(key_, n_++)); }

double LinkRandom::gaussian() {
  double a;
  do a = uniform();
  while (a <= 0);
  const double b = uniform();
  return std::sqrt(-2.0 * std::log(a)) * std::cos(2.0 * 3.14159265358979323846 * b);
}

double LinkRandom::exponential(double mean) {
  if (mean <= 0) return 0;
  double a;
  do a = uniform();
  while (a <= 0);
  return -mean * std::log(a);
}

void LinkRandom::save(ByteWriter& w) const {
  w.u64(key_);
  w.u64(n_);
}

bool LinkRandom::load(ByteReader& r) {
  const std::uint64_t key = r.u64(), n = r.u64();
  if (!r.ok()) return false;
  key_ = key;
  n_ = n;
  return true;
}

std::uint64_t link_key(std::uint64_t seed, int tag, int anchor, std::uint64_t blink) {
  const std::uint64_t s = stream_seed(seed, kRadioLinkStream);
  const std::uint64_t l = stream_seed(s, (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tag)) << 32) |
                                             static_cast<std::uint32_t>(anchor));
  return stream_seed(l, blink);
}

RadioChannel::RadioChannel(const Site& site, RadioParams p, const std::vector<std::string>& los_materials,
                           std::uint64_t seed)
    : p_(std::move(p)), seed_(seed) {
  for (const Anchor& a : site.anchors) anchors_.push_back({a.at[0], a.at[1], a.at[2]});
  for (const std::string& name : los_materials) {
    auto it = p_.materials.find(name);
    mats_.push_back(it == p_.materials.end() ? p_.unknown_material : it->second);
  }
  for (size_t i = 0; i < anchors_.size(); ++i) {
    LinkRandom r(stream_seed(seed_, kDeviceStream + i));
    anchor_offset_.push_back(p_.device_offset_sigma_m * r.gaussian());
  }
}

Vec3 RadioChannel::anchor_at(int anchor) const { return anchors_[static_cast<size_t>(anchor)]; }

double RadioChannel::tag_offset(int tag) const {
  if (p_.device_offset_sigma_m <= 0) return 0;
  LinkRandom r(stream_seed(seed_, kDeviceStream + 0x10000000ULL + static_cast<std::uint64_t>(tag)));
  return p_.device_offset_sigma_m * r.gaussian();
}

double RadioChannel::mean_power(double length_m, double loss_db) const {
  return p_.rx_at_1m_dbm - 10 * p_.pathloss_exponent * std::log10(std::max(length_m, 0.1)) - loss_db;
}

bool RadioChannel::through(std::span<const Crossing> crossings, double& delay_m, double& loss_db) const {
  for (const Crossing& c : crossings) {
    const RadioMaterial& m = material(c.material);
    if (m.opaque) return false;
    delay_m += (std::sqrt(m.permittivity) - 1) * c.length_m + m.bias_m;
    loss_db += m.attenuation_db + m.loss_db_per_m * c.length_m;
  }
  return true;
}

void RadioChannel::finish(LinkGeometry& g, std::span<PathCandidate> c) const {
  std::sort(c.begin(), c.end(), [](const PathCandidate& x, const PathCandidate& y) {
    if (x.delay_m != y.delay_m) return x.delay_m < y.delay_m;
    if (x.loss_db != y.loss_db) return x.loss_db < y.loss_db;
    return x.kind < y.kind;
  });
  g.paths = 0;
  g.in_budget = false;
  double best = -1e300;
  for (const PathCandidate& x : c) {
    const double pw = mean_power(x.length_m, x.loss_db);
    if (pw <= best) continue;  // later and not stronger: never the first heard
    best = pw;
    if (g.paths == LinkGeometry::kMaxPaths) {
      g.path[LinkGeometry::kMaxPaths - 1] = x;  // keep the strongest as the last resort
    } else {
      g.path[static_cast<size_t>(g.paths++)] = x;
    }
    g.in_budget = g.in_budget || pw >= p_.sensitivity_dbm;
  }
  g.attenuation_db = g.paths ? g.path[0].loss_db : 0;
}

LinkGeometry RadioChannel::geometry(const Vec3& tag, int anchor, std::span<const Crossing> crossings) const {
  LinkGeometry g;
  const Vec3 a = anchors_[static_cast<size_t>(anchor)];
  g.distance_m = std::sqrt((a.x - tag.x) * (a.x - tag.x) + (a.y - tag.y) * (a.y - tag.y) + (a.z - tag.z) * (a.z - tag.z));
  g.nlos = !crossings.empty();
  PathCandidate direct{g.distance_m, g.distance_m, 0, PathCandidate::Kind::direct};
  if (through(crossings, direct.delay_m, direct.loss_db)) finish(g, std::span<PathCandidate>(&direct, 1));
  return g;
}

LinkSample RadioChannel::sample(int tag, int anchor, std::uint64_t blink, const LinkGeometry& g, double load_g) const {
  LinkSample s;
  s.true_m = g.distance_m;
  s.nlos = g.nlos;
  LinkRandom rng(link_key(seed_, tag, anchor, blink));
  // the earliest path whose first-path power (with this blink's shadowing) reaches the sensitivity
  const double shadow = p_.shadowing_db * rng.gaussian();
  int k = -1;
  double fp = -300;
  for (int i = 0; i < g.paths; ++i) {
    const PathCandidate& c = g.path[static_cast<size_t>(i)];
    fp = p_.rx_at_1m_dbm - 10 * p_.pathloss_exponent * std::log10(std::max(c.length_m, 0.1)) - c.loss_db + shadow;
    if (fp >= p_.sensitivity_dbm) {
      k = i;
      break;
    }
  }
  const double loss = k >= 0 ? g.path[static_cast<size_t>(k)].loss_db : g.attenuation_db;
  s.fp_dbm = fp;
  s.rx_dbm = fp + 2 + 0.5 * loss;  // multipath carries part of what the first path lost
  if (k < 0) return s;
  s.path = k;
  // pure ALOHA: another blink overlapping this one at the anchor destroys both
  if (p_.collisions && load_g > 0 && rng.uniform() >= std::exp(-2 * load_g)) {
    s.collided = true;
    return s;
  }
  const double sigma = p_.mode == RadioParams::Mode::tdoa ? p_.tdoa_sigma_m : p_.los_sigma_m;
  double e = sigma * rng.gaussian();
  if (g.nlos) {
    // the detected path's extra delay, and the leading-edge bias of a first path `loss` dB weak
    const PathParams& pp = p_.paths;
    e += g.path[static_cast<size_t>(k)].delay_m - g.distance_m;
    const double floor = std::min(pp.le_floor_max_m, pp.le_floor_per_db * std::max(0.0, loss - pp.le_floor_from_db));
    const double spread = std::min(pp.le_spread_max_m, pp.le_spread_per_db * std::max(0.0, loss));
    e += floor + rng.exponential(spread);
  }
  // rare outliers, three classes
  const double f = g.nlos ? p_.outlier_nlos_factor : 1.0;
  const double u = rng.uniform();
  const double r1 = p_.outlier_small_rate * f, r2 = r1 + p_.outlier_medium_rate * f, r3 = r2 + p_.outlier_large_rate * f;
  if (u < r1) e += (rng.uniform() < 0.5 ? -1 : 1) * p_.outlier_small_m * (0.8 + 0.4 * rng.uniform());
  else if (u < r2) e += 3 + 2 * rng.uniform();
  else if (u < r3) e += 20 + 20 * rng.uniform();
  e += anchor_offset_[static_cast<size_t>(anchor)] + tag_offset(tag);
  s.received = true;
  s.measured_m = std::max(0.0, g.distance_m + e);
  return s;
}

}  // namespace planttwin
