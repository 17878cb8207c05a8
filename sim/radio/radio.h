// UWB radio per tag-anchor link (H-02): line of sight from LineOfSight::trace, LOS Gaussian noise,
// NLOS positive bias per material crossed (a floor plus an exponential), attenuation per material
// crossing against a link budget (beyond it the link drops, unless a metal reflection carries it),
// rare outliers in three classes, reflection locks behind metal, per-device constant offsets, and
// pure-ALOHA collisions in crowded cells. Every parameter has a product default (docs/radio.md,
// with its source) that a site's `materials` and then a scenario's `radio:` override.
//
// Randomness and determinism: a link's draws for one blink come from a counter-based stream keyed
// by (seed, subsystem, tag, anchor, blink number), so a measurement never depends on which other
// links were processed before it, on the thread that traced it, or on the thread count.
#pragma once
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

// What one material does to a link that passes through it (per crossing, whatever its length).
struct RadioMaterial {
  double attenuation_db = 10;  // per crossing. Default: per material, docs/radio.md
  double bias_min_m = 0.1;     // NLOS bias floor per crossing, metres
  double bias_mean_m = 0.3;    // mean of the exponential part of the NLOS bias per crossing, metres
  double lock_rate = 0;        // share of measurements locked onto a reflection (metal)
  double lock_m = 3.9;         // extra path of a reflection lock, metres (UTIL metal: 3.94 m)
  double lock_sigma_m = 0.035; // spread of the lock's length, metres
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
  double blocked_reflection_rate = 0.5;  // direct path under the budget, a lock material crossed:
                                         // share of blinks still received via the reflection
  double reflection_loss_db = 10;        // the reflected path's extra loss (it must fit the budget too)
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

// Product defaults (docs/radio.md), then the site's `materials` overrides (attenuation_db,
// nlos_bias_m -> bias_mean_m).
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
  bool collided = false;    // lost to an ALOHA collision
  double true_m = 0;        // true distance
  double measured_m = 0;    // range (TWR) or pseudo-range (TDoA arrival as distance)
  double rx_dbm = 0, fp_dbm = 0;
};

// The deterministic part of a link: distance, crossings resolved to materials, budget.
struct LinkGeometry {
  double distance_m = 0;
  double attenuation_db = 0;
  bool nlos = false;
  bool lockable = false;  // crosses a material with lock_rate > 0
  bool in_budget = false; // mean rx >= sensitivity
};

class RadioChannel {
 public:
  // `los_materials`: LineOfSight::materials(), mapped to the params' table by name.
  RadioChannel(const Site& site, RadioParams p, const std::vector<std::string>& los_materials, std::uint64_t seed);

  const RadioParams& params() const { return p_; }
  LinkGeometry geometry(const Vec3& tag, int anchor, std::span<const Crossing> crossings) const;
  // One blink's measurement on one link. `load_g`: offered ALOHA load at the anchor (0: none).
  // `crossings` must be the same ones `g` was made from.
  LinkSample sample(int tag, int anchor, std::uint64_t blink, const LinkGeometry& g, std::span<const Crossing> crossings,
                    double load_g) const;
  Vec3 anchor_at(int anchor) const;

 private:
  RadioParams p_;
  std::vector<Vec3> anchors_;
  std::vector<RadioMaterial> mats_;  // by LineOfSight material index
  std::vector<double> anchor_offset_;
  std::uint64_t seed_;
  double tag_offset(int tag) const;
};

}  // namespace planttwin
