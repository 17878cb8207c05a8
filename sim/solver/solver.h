// The positioning solver (DESIGN.md 2): ranges or range differences from a tag to surveyed
// anchors -> a fix. Weighted nonlinear least squares with robust (IRLS) weighting and NLOS
// rejection, then a Kalman filter per tag; floor assignment; no fix when too few anchors are
// heard. Its own target, planttwin_solver, with no Bullet dependency: the simulator and live
// hardware (`range` and `tdoa` messages) use the same code. Deterministic: no clock, no randomness.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

class ByteWriter;
class ByteReader;

struct RangeObs {  // two-way ranging: distance tag -> anchor, metres
  int anchor = -1; // index into Site::anchors
  double d = 0;
  double rx_dbm = 0, fp_dbm = 0;  // 0: unknown (NLOS hint when both are given)
  // seconds since the range was measured, when it is carried into a later epoch (a logger dropped
  // the anchor's newer range); its sigma grows by stale_speed_mps x age. 0: measured at the epoch
  double age_s = 0;
};

struct TdoaObs {  // time difference of arrival as a distance difference d_b - d_a, metres
  int anchor_a = -1, anchor_b = -1;
  double dd = 0;
};

struct SolverParams {
  int min_anchors_2d = 3;               // fewer heard anchors: no fix
  double range_sigma_m = 0.10;          // LOS range noise assumed by the weights
  double tdoa_sigma_m = 0.15;
  double nlos_reject_m = 1.0;           // residual above which a measurement is dropped (NLOS)
  double max_speed_mps = 10;            // physical bound on a jump along its direction (people: well under 10 m/s)
  double process_noise = 2.0;           // Kalman acceleration noise, m/s^2 (a walker's gait and turns)
  bool kalman = true;
  Micros processing_delay = 100 * kMillisecond;  // added to a fix's time: when it reaches the engine
  double default_height_m = 1.2;        // tag height above the floor when z is not observable

  // Additions (docs/solver.md gives the reasons and sources).
  int min_anchors_3d = 5;          // TWR: a 3D solve needs this many anchors (one more for TDoA)
  int min_anchors_tdoa = 4;        // TDoA 2D: 4 anchors = 3 independent differences
  double z_spread_3d_m = 1.5;      // heard anchors' height spread below this: 2D at the tag height
  double z_sigma_max_m = 1.0;      // a 3D solve whose z standard deviation exceeds this: 2D instead
  double z_prior_sigma_m = 3.0;    // 3D: weak prior on z at the current floor's tag height
  bool robust = true;              // IRLS (Huber) and NLOS rejection; false: plain weighted LS
  double huber_k = 3.0;            // Huber threshold, in units of the measurement sigma
  int irls_iterations = 3;         // re-weighting passes
  int max_iterations = 20;         // Levenberg-Marquardt steps per solve
  double tolerance_m = 1e-5;       // stop when a step is shorter than this
  double nlos_power_gap_db = 10;   // rx - fp above this: the range is treated as NLOS-suspect
  double nlos_sigma_factor = 3;    // ... and its sigma is multiplied by this
  double max_range_m = 300;        // longer (or negative) ranges are discarded as outliers
  double tdoa_slack_m = 0.5;       // |dd| above the anchor separation plus this: impossible, dropped
  double max_residual_rms_m = 2.0; // a solve still worse than this after rejection: no fix
  double gate_sigma = 3;           // speed bound margin, in standard deviations along the jump
  int gate_reset_count = 3;        // this many consecutive, mutually consistent gated fixes ...
  Micros gate_reset_span = kSecond;  // ... spanning at least this long: restart the filter there
  // Issue 19 (docs/solver.md gives the reasons).
  double gate_chi2 = 13.82;        // innovation gate: Mahalanobis^2 with S = P_pred + R; chi-square, 2 dof, 99.9 %
  double stale_speed_mps = 1.5;     // a carried range (RangeObs::age_s) is off by up to this x its age: a walker's pace
  double degenerate_sigma_m = 2.0; // a solve whose horizontal covariance has a 1-sigma axis above this is degenerate
  double nlos_innovation_k = 4.0;  // a range this many sigmas longer than the filter's prediction: NLOS-suspect
  double nlos_residual_k = 3.0;    // a normalised residual above this after the robust solve: NLOS-suspect
  Micros filter_reset_after = 10 * kSecond;  // a longer silence restarts the filter
  double z_walk_sigma = 0.5;       // 3D: random walk of z, metres per sqrt(second)
  double floor_hysteresis_m = 0.5; // the current floor's z band is widened by this before leaving it
  double footprint_margin_m = 0.5; // a building is entered/left only this far past its outline
};

struct SolvedFix {
  Micros t_measured = 0;   // the measurement epoch
  Micros t_available = 0;  // t_measured + processing_delay: when the engine gets it
  double x = 0, y = 0, z = 0;
  std::string floor;       // site floor id, "" when the site has none
  int anchors_used = 0;
  double residual_rms = 0; // metres
  // Additions.
  bool z_solved = false;   // true: z from a 3D solve; false: floor surface + default_height_m
  double sigma_m = 0;      // horizontal 1-sigma of the fix (filter covariance when filtered), metres
  int anchors_heard = 0;   // distinct anchors with a usable measurement
  int anchors_rejected = 0;  // dropped as NLOS outliers
  // Issue 19.
  int nlos_suspected = 0;  // ranges (TDoA: differences) flagged NLOS by any test: power gap, innovation against
                           // the filter's prediction, normalised residual, or dropped by leave-one-out
  bool degenerate = false; // the epoch's own solve had a horizontal axis with 1-sigma > degenerate_sigma_m: the
                           // position is the filter's, which leans on its prediction along that axis
  double sigma_major_m = 0;        // largest 1-sigma axis of the published horizontal covariance, metres
  double solve_sigma_major_m = 0;  // largest 1-sigma axis of the epoch's own solve (measurement covariance R)
};

// Why the last solve_* call returned no fix (docs/solver.md, "What is rejected").
enum class NoFixReason {
  none,             // the last call gave a fix
  too_few_anchors,  // fewer usable anchors (measurements) than the minimum
  inconsistent,     // the solve failed or its residual RMS stayed above max_residual_rms_m after rejection
  gated,            // the innovation gate or the speed bound refused the fix
  degenerate,       // the solve had a degenerate axis and there was no filter state to lean on
};
const char* to_string(NoFixReason r);  // "none", "too_few_anchors", "inconsistent", "gated", "degenerate"

// The floor of a point: inside a building footprint the building's floor whose z band contains z,
// else the site's outdoor floor; the nearest band when none contains z. "" when the site has no
// floors. Stateless (no hysteresis); the Solver adds hysteresis per tag.
std::string floor_at(const Site& site, double x, double y, double z);

class Solver {
 public:
  Solver(const Site& site, SolverParams p = {});
  ~Solver();
  Solver(Solver&&) noexcept;
  Solver& operator=(Solver&&) noexcept;

  // One epoch of one tag (`tag` is any stable small integer, e.g. the engine's tag index).
  // Returns nothing when too few anchors are usable.
  std::optional<SolvedFix> solve_twr(int tag, Micros t, std::span<const RangeObs> ranges);
  std::optional<SolvedFix> solve_tdoa(int tag, Micros t, std::span<const TdoaObs> diffs);
  void reset(int tag);  // forget the tag's filter state
  const SolverParams& params() const;
  // Why the last solve_twr/solve_tdoa call returned nothing; none after a fix. Not per tag, not saved.
  NoFixReason last_no_fix() const;
  // Addition: the tag's floor when z is not observable (a person's starting floor, a barometer);
  // kept until a 3D solve or a change of building says otherwise.
  void set_floor(int tag, const std::string& floor);
  // Addition (issue 19, `planttwin calibrate`): the tag's constant range offset, metres (the site's
  // `range_offsets.tags` by the tag's id; the solver knows tags only as integers). TWR ranges are
  // used as d - anchor offset (from Site::range_offsets, by anchor id) - tag offset. TDoA
  // differences are left as they are: the tag's offset cancels in them, and an anchor's TWR offset
  // is not its TDoA bias (docs/recorded.md, "Calibration"). Not part of the checkpoint state.
  void set_tag_offset(int tag, double offset_m);
  // Not thread-safe: one Solver per thread (each owning its own tags), or serialise the calls.

  // Checkpoints (docs/solver.md, "Checkpoint state"): every tag's state (filter, covariance,
  // height, gate count, building and floor), in tag order, after a header with the site's anchor
  // and building counts. The settings (SolverParams) and the site are not saved: a checkpoint is
  // loaded into a Solver made the same way. A loaded Solver gives bit-identical fixes.
  void save(ByteWriter& w) const;
  // One state from solvers that own disjoint tags (the simulator's lanes), byte for byte what
  // save() of one solver holding all their tags writes. A tag held by two parts: the first's.
  static void save_merged(ByteWriter& w, std::span<const Solver* const> parts);
  // Replaces the per-tag state with the saved one; with `keep`, only the tags for which it returns
  // true (to split one saved state over several solvers). Returns false, with r.fail() saying
  // why, on bad input or a state saved for another site; the Solver is then unchanged.
  bool load(ByteReader& r);
  bool load(ByteReader& r, const std::function<bool(int tag)>& keep);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
