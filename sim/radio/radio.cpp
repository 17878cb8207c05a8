#include "sim/radio/radio.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "engine/byte_codec.h"
#include "sim/motion.h"

namespace planttwin {

namespace {

// Defaults per material. Thin obstacles are fitted to UTIL (reference/rtls-and-radio.md 8) with
// los_sigma 0.05 m; walls and tanks follow 5 (0.2-0.5 m per blocking object) and are [U].
std::map<std::string, RadioMaterial> default_materials() {
  std::map<std::string, RadioMaterial> m;
  //                     att dB  bias_min bias_mean lock_rate lock_m lock_sigma
  m["concrete"] = {12, 0.10, 0.30, 0, 3.9, 0.035};
  m["brick"] = {8, 0.05, 0.25, 0, 3.9, 0.035};
  m["glass"] = {3, 0.00, 0.05, 0, 3.9, 0.035};
  m["wood"] = {3, 0.012, 0.134, 0, 3.9, 0.035};     // UTIL wooden shelf
  m["steel"] = {40, 0.20, 0.30, 0.01, 3.9, 0.035};  // tanks, columns: blocks; reflections carry some
  m["metal"] = {6, 0.178, 0.135, 0.009, 3.9, 0.035}; // UTIL metal cabinet (locks: 5-43 of ~2,700)
  m["plastic"] = {1, 0.0, 0.029, 0, 3.9, 0.035};
  m["cardboard"] = {0.5, 0.0, 0.005, 0, 3.9, 0.035};
  m["foam"] = {0.5, 0.0, 0.005, 0, 3.9, 0.035};
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
    RadioMaterial& r = p.materials.try_emplace(name, p.unknown_material).first->second;
    r.attenuation_db = m.attenuation_db;
    r.bias_mean_m = m.nlos_bias_m;
  }
  return p;
}

const std::vector<std::string>& radio_keys() {
  static const std::vector<std::string> k = {
      "mode",           "los.sigma",          "tdoa.sigma",          "link.rx_at_1m_dbm",     "link.pathloss_exponent",
      "link.sensitivity_dbm", "link.shadowing_db", "link.max_anchors", "link.blocked_reflection_rate", "link.reflection_loss_db",
      "outliers.small_rate", "outliers.small_m", "outliers.medium_rate", "outliers.large_rate", "outliers.nlos_factor",
      "device.offset_sigma", "device.stamp_delay", "mac.collisions",  "mac.airtime_ms",      "mac.aloha_jitter",      "solver.min_anchors",
      "solver.processing_delay", "solver.kalman",
      "materials.NAME.attenuation_db", "materials.NAME.bias_min", "materials.NAME.bias_mean", "materials.NAME.lock_rate",
      "materials.NAME.lock_m", "materials.NAME.lock_sigma"};
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
    } else if (k == "link.reflection_loss_db") {
      if (!number(0, 100)) return false;
      p.reflection_loss_db = x;
    } else if (k == "link.blocked_reflection_rate") {
      if (!number(0, 1)) return false;
      p.blocked_reflection_rate = x;
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
      if (field == "attenuation_db") {
        if (!number(0, 200)) return false;
        m.attenuation_db = x;
      } else if (field == "bias_min") {
        if (!number(0, 100)) return false;
        m.bias_min_m = x;
      } else if (field == "bias_mean") {
        if (!number(0, 100)) return false;
        m.bias_mean_m = x;
      } else if (field == "lock_rate") {
        if (!number(0, 1)) return false;
        m.lock_rate = x;
      } else if (field == "lock_m") {
        if (!number(0, 100)) return false;
        m.lock_m = x;
      } else if (field == "lock_sigma") {
        if (!number(0, 10)) return false;
        m.lock_sigma_m = x;
      } else {
        message = "unknown material field '" + field +
                  "' (expected one of: attenuation_db, bias_min, bias_mean, lock_rate, lock_m, lock_sigma)";
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

LinkGeometry RadioChannel::geometry(const Vec3& tag, int anchor, std::span<const Crossing> crossings) const {
  LinkGeometry g;
  const Vec3 a = anchors_[static_cast<size_t>(anchor)];
  g.distance_m = std::sqrt((a.x - tag.x) * (a.x - tag.x) + (a.y - tag.y) * (a.y - tag.y) + (a.z - tag.z) * (a.z - tag.z));
  for (const Crossing& c : crossings) {
    const RadioMaterial& m = c.material >= 0 && static_cast<size_t>(c.material) < mats_.size()
                                 ? mats_[static_cast<size_t>(c.material)]
                                 : p_.unknown_material;
    g.attenuation_db += m.attenuation_db;
    g.lockable = g.lockable || m.lock_rate > 0;
  }
  g.nlos = !crossings.empty();
  const double fp = p_.rx_at_1m_dbm - 10 * p_.pathloss_exponent * std::log10(std::max(g.distance_m, 0.1)) - g.attenuation_db;
  g.in_budget = fp >= p_.sensitivity_dbm;
  return g;
}

LinkSample RadioChannel::sample(int tag, int anchor, std::uint64_t blink, const LinkGeometry& g,
                                std::span<const Crossing> crossings, double load_g) const {
  LinkSample s;
  s.true_m = g.distance_m;
  s.nlos = g.nlos;
  LinkRandom rng(link_key(seed_, tag, anchor, blink));
  // link budget on the first path's power
  const double fp = p_.rx_at_1m_dbm - 10 * p_.pathloss_exponent * std::log10(std::max(g.distance_m, 0.1)) - g.attenuation_db +
                    p_.shadowing_db * rng.gaussian();
  s.fp_dbm = fp;
  s.rx_dbm = fp + 2 + 0.5 * g.attenuation_db;  // multipath carries part of what the direct path lost
  bool via_reflection = false;
  if (fp < p_.sensitivity_dbm) {
    // the reflected path: longer by about lock_m, a reflection loss, but no blocking solid
    const double refl = p_.rx_at_1m_dbm - 10 * p_.pathloss_exponent * std::log10(std::max(g.distance_m + 3.9, 0.1)) -
                        p_.reflection_loss_db;
    if (!g.lockable || refl < p_.sensitivity_dbm || rng.uniform() >= p_.blocked_reflection_rate) return s;
    via_reflection = true;
  }
  // pure ALOHA: another blink overlapping this one at the anchor destroys both
  if (p_.collisions && load_g > 0 && rng.uniform() >= std::exp(-2 * load_g)) {
    s.collided = true;
    return s;
  }
  const double sigma = p_.mode == RadioParams::Mode::tdoa ? p_.tdoa_sigma_m : p_.los_sigma_m;
  double e = sigma * rng.gaussian();
  auto material = [&](const Crossing& c) -> const RadioMaterial& {
    return c.material >= 0 && static_cast<size_t>(c.material) < mats_.size() ? mats_[static_cast<size_t>(c.material)]
                                                                             : p_.unknown_material;
  };
  if (via_reflection) {
    for (const Crossing& c : crossings)
      if (material(c).lock_rate > 0) {
        e += material(c).lock_m + material(c).lock_sigma_m * rng.gaussian();
        break;
      }
  } else {
    // a reflection lock replaces the direct path (its error is the reflection's extra length);
    // otherwise every crossing adds its bias
    const RadioMaterial* lock = nullptr;
    for (const Crossing& c : crossings)
      if (!lock && material(c).lock_rate > 0 && rng.uniform() < material(c).lock_rate) lock = &material(c);
    if (lock) {
      e += lock->lock_m + lock->lock_sigma_m * rng.gaussian();
    } else {
      for (const Crossing& c : crossings) e += material(c).bias_min_m + rng.exponential(material(c).bias_mean_m);
    }
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
