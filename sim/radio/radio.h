// UWB radio per tag-anchor link (H-02): the link's candidate first paths come from the plant's
// geometry (sim/radio/first_path.h: the straight path through penetrable solids, diffraction around
// opaque ones, specular reflections); a blink is heard on the earliest path whose power (link budget
// with per-blink shadowing) reaches the receiver's sensitivity, and its range error is that path's
// extra delay plus the leading-edge bias of a weak first path, LOS Gaussian noise, rare outliers in
// three classes, per-device constant offsets, and pure-ALOHA collisions in crowded cells. Every
// parameter has a product default (docs/radio.md, with its source) that a site's `materials` and
// then a scenario's `radio:` override.
//
// Randomness and determinism: a link's draws for one blink come from a counter-based stream keyed
// by (seed, subsystem, tag, anchor, blink number), so a measurement never depends on which other
// links were processed before it, on the thread that traced it, or on the thread count.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/site.h"
#include "engine/time.h"
#include "sim/los.h"

namespace planttwin {

class ByteWriter;
class ByteReader;

// What one material does to a path (physics, not a distribution). Defaults per material:
// docs/radio.md, with their sources.
struct RadioMaterial {
  bool opaque = false;             // no path through it (metal, steel): paths go around or reflect
  double permittivity = 4;         // relative permittivity: a path inside is (sqrt(eps) - 1) x length late
  double attenuation_db = 10;      // per crossing (its two faces; thin furniture)
  double loss_db_per_m = 0;        // per metre inside
  double bias_m = 0;               // extra delay per crossing, metres (a site's nlos_bias_m)
  double reflection_loss_db = 10;  // a specular reflection off one of its faces
};

// The first-path search and the leading-edge bias (docs/radio.md, "First paths").
struct PathParams {
  bool diffraction = true;                // paths over, under and around opaque solids
  bool reflections = true;                // first-order specular reflections (image method)
  double wavelength_m = 0.0462;           // channel 5, 6.4896 GHz: knife-edge parameter v
  // leading-edge bias of a first path L dB weaker than free space: floor + Exponential(spread)
  //   spread = min(spread_max, spread_per_db x L), floor = min(floor_max, floor_per_db x max(0, L - floor_from))
  double le_spread_per_db = 0.045;        // m/dB
  double le_spread_max_m = 0.14;
  double le_floor_per_db = 0.0053;        // m/dB
  double le_floor_from_db = 3;
  double le_floor_max_m = 0.5;
  double max_reflection_excess_m = 30;    // reflections longer than the straight path by more: not searched
  double min_reflector_m = 1;             // faces narrower or lower than this do not reflect
  int max_rounds = 3;                     // a detour blocked by another opaque solid: retry around both
};

struct RadioParams {
  enum class Mode { twr, tdoa };
  Mode mode = Mode::twr;
  double los_sigma_m = 0.05;    // TWR range noise in LOS (uwb-simulator default; UTIL LOS std)
  double tdoa_sigma_m = 0.09;   // TDoA: arrival-time noise as distance (0.3 ns, Sewio)
  // link budget: rx = rx_at_1m - 10 n log10(d) - attenuation (+ shadowing); received when >= sensitivity
  double rx_at_1m_dbm = -64;
  double pathloss_exponent = 2.0;
  double sensitivity_dbm = -100;  // 36 dB margin: 63 m in LOS
  double shadowing_db = 2;        // Gaussian per measurement
  int max_anchors = 8;            // links tried per blink: the nearest anchors
  PathParams paths;
  // outliers (crazyflie-firmware #277 classes): rates per measurement in LOS, times nlos_factor in NLOS
  double outlier_small_rate = 0.0005, outlier_small_m = 0.5;    // +-0.5 m
  double outlier_medium_rate = 0.0001;                          // +3..5 m
  double outlier_large_rate = 0.00005;                          // +20..40 m
  double outlier_nlos_factor = 2;
  double device_offset_sigma_m = 0;  // per anchor and per tag constant offset (0: calibrated)
  // The ranging happened this long before the time the measurement is stamped with (the device's
  // and logger's latency against the truth's clock): a blink stamped t ranges the pose at t - delay.
  // 0: stamps are exact. Fitted on a real walk (docs/recorded.md "The simulated twin").
  Micros stamp_delay = 0;
  // MAC: pure ALOHA, success exp(-2 G) with G = blinks heard by an anchor x airtime / interval
  bool collisions = true;
  double airtime_ms = 0.175;                // Sewio RF5 blink
  std::optional<bool> aloha_jitter;         // tag interval uniform over 0..2 RI; default: on in tdoa
  // solver settings handed to sim/solver
  int min_anchors = 3;
  Micros processing_delay = 100 * kMillisecond;
  bool kalman = true;
  std::map<std::string, RadioMaterial> materials;  // by name
  RadioMaterial unknown_material;                   // a name the table lacks

  bool jitter() const { return aloha_jitter.value_or(mode == Mode::tdoa); }
};

// Product defaults (docs/radio.md), then the site's `materials` overrides: a site-v1 material entry
// is a penetrable material with that `attenuation_db` per crossing and `nlos_bias_m` -> bias_m.
RadioParams radio_defaults(const Site& site);

// Every key a scenario's `radio:` mapping accepts, flattened "a.b" (materials.NAME.* for any NAME).
const std::vector<std::string>& radio_keys();

// Applies flattened scenario overrides. On a bad key or value returns false with `key` and
// `message` set (the loader turns them into file:line:key errors).
bool apply_radio_overrides(const std::map<std::string, std::string>& overrides, RadioParams& p, std::string& key,
                           std::string& message);

// Counter-based random numbers: SplitMix64 over (key, counter). Cheap to create, no state to keep
// per link, identical on every platform.
class LinkRandom {
 public:
  explicit LinkRandom(std::uint64_t key) : key_(key) {}
  double uniform();   // [0, 1)
  double gaussian();  // N(0, 1)
  double exponential(double mean);

  // Checkpoints: the key and the counter (16 bytes). Any values are a valid stream; load() returns
  // false, with r.fail(), only when the input ends early, and then leaves the stream unchanged.
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);
  std::uint64_t key() const { return key_; }
  std::uint64_t count() const { return n_; }  // draws of uniform() so far

 private:
  std::uint64_t key_, n_ = 0;
};

// Subsystem stream ids under the scenario's seed (motion.h stream_seed).
constexpr std::uint64_t kRadioLinkStream = 0x5241'0000'0000ULL;  // per (tag, anchor, blink)
constexpr std::uint64_t kBlinkTimingStream = 0x5242'0000'0000ULL; // per tag
constexpr std::uint64_t kDeviceStream = 0x5243'0000'0000ULL;     // per device
std::uint64_t link_key(std::uint64_t seed, int tag, int anchor, std::uint64_t blink);

// One measurement of one link.
struct LinkSample {
  bool received = false;
  bool nlos = false;        // the straight path crosses at least one solid
  int path = -1;            // index of the detected path in LinkGeometry::path
  bool collided = false;    // lost to an ALOHA collision
  double true_m = 0;        // true distance
  double measured_m = 0;    // range (TWR) or pseudo-range (TDoA arrival as distance)
  double rx_dbm = 0, fp_dbm = 0;
};

// One way a blink can travel from the tag to the anchor.
struct PathCandidate {
  enum class Kind : std::uint8_t { direct, diffracted, reflected };
  double length_m = 0;  // geometric length
  double delay_m = 0;   // time of flight as distance: length plus the delay inside penetrable solids
  double loss_db = 0;   // loss beyond free space over length_m: materials, diffraction, reflection
  Kind kind = Kind::direct;
};

// The deterministic part of a link: distance and the candidate first paths, earliest first, each
// later one stronger than every earlier one (a later, weaker path can never be the first heard).
struct LinkGeometry {
  static constexpr int kMaxPaths = 4;
  double distance_m = 0;
  double attenuation_db = 0;  // loss_db of the earliest path
  bool nlos = false;          // the straight path crosses a solid
  bool in_budget = false;     // some path's mean power >= sensitivity
  int paths = 0;
  std::array<PathCandidate, kMaxPaths> path{};
};

class RadioChannel {
 public:
  // `los_materials`: LineOfSight::materials(), mapped to the params' table by name.
  RadioChannel(const Site& site, RadioParams p, const std::vector<std::string>& los_materials, std::uint64_t seed);

  const RadioParams& params() const { return p_; }
  // The straight path only (no geometry search): through the crossed solids when none is opaque,
  // else no path at all. FirstPathFinder::find adds diffracted and reflected paths.
  LinkGeometry geometry(const Vec3& tag, int anchor, std::span<const Crossing> crossings) const;
  // One blink's measurement on one link. `load_g`: offered ALOHA load at the anchor (0: none).
  LinkSample sample(int tag, int anchor, std::uint64_t blink, const LinkGeometry& g, double load_g) const;
  Vec3 anchor_at(int anchor) const;
  int anchors() const { return static_cast<int>(anchors_.size()); }
  // The material of a LineOfSight material index (the unknown material when out of range).
  const RadioMaterial& material(int index) const {
    return index >= 0 && static_cast<size_t>(index) < mats_.size() ? mats_[static_cast<size_t>(index)] : p_.unknown_material;
  }
  // Mean first-path power of a path of this length and excess loss (no shadowing), dBm.
  double mean_power(double length_m, double loss_db) const;
  // Adds a path through `crossings` to `delay_m` and `loss_db`; false when one is opaque.
  bool through(std::span<const Crossing> crossings, double& delay_m, double& loss_db) const;
  // Sorts candidates by delay, keeps those stronger than every earlier one (at most kMaxPaths),
  // and sets attenuation_db and in_budget.
  void finish(LinkGeometry& g, std::span<PathCandidate> candidates) const;

 private:
  RadioParams p_;
  std::vector<Vec3> anchors_;
  std::vector<RadioMaterial> mats_;  // by LineOfSight material index
  std::vector<double> anchor_offset_;
  std::uint64_t seed_;
  double tag_offset(int tag) const;
};

}  // namespace planttwin
