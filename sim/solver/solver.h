// The positioning solver (DESIGN.md 2): ranges or range differences from a tag to surveyed
// anchors -> a fix. Weighted nonlinear least squares with robust (IRLS) weighting and NLOS
// rejection, then a Kalman filter per tag; floor assignment; no fix when too few anchors are
// heard. Its own target, planttwin_solver, with no Bullet dependency: the simulator and live
// hardware (`range` and `tdoa` messages) use the same code. Deterministic: no clock, no randomness.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

struct RangeObs {  // two-way ranging: distance tag -> anchor, metres
  int anchor = -1; // index into Site::anchors
  double d = 0;
  double rx_dbm = 0, fp_dbm = 0;  // 0: unknown (NLOS hint when both are given)
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
  double max_speed_mps = 10;            // gate on the filter's innovation (people: well under 10 m/s)
  double process_noise = 0.5;           // Kalman acceleration noise, m/s^2
  bool kalman = true;
  Micros processing_delay = 100 * kMillisecond;  // added to a fix's time: when it reaches the engine
  double default_height_m = 1.2;        // tag height above the floor when z is not observable
};

struct SolvedFix {
  Micros t_measured = 0;   // the measurement epoch
  Micros t_available = 0;  // t_measured + processing_delay: when the engine gets it
  double x = 0, y = 0, z = 0;
  std::string floor;       // site floor id, "" when the site has none
  int anchors_used = 0;
  double residual_rms = 0; // metres
};

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
