// The simulated positioning pipeline (H-02): true poses of tags at their blink instants -> the
// nearest anchors -> line of sight (ray casts, in parallel, merged by index) -> radio links ->
// the solver -> fixes that reach the engine at t_available, or no fix when too few anchors hear
// the tag. Also the statistics the report needs: per-link range error and per-fix horizontal
// error, kept in fixed-bin histograms so that long runs do not grow memory per sample.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/site.h"
#include "sim/los.h"
#include "sim/radio/first_path.h"
#include "sim/radio/radio.h"
#include "sim/solver/solver.h"

namespace planttwin {

class ByteWriter;
class ByteReader;

// Fixed-bin histogram of a signed error (metres): `step` resolution in [lo, hi), values outside
// kept exactly (rare). Quantiles by nearest rank; a bin reports its centre.
class ErrorHistogram {
 public:
  ErrorHistogram(double lo = -1.0, double hi = 6.0, double step = 0.002);
  void add(double e);
  std::uint64_t n() const { return n_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0; }
  double quantile(double q) const;  // nearest rank; 0 when empty
  double resolution() const { return step_; }

  // Checkpoints: lo, hi, step, the non-empty bins as (index, count), the values outside (in
  // insertion order), n and the sum. load() into a histogram made with the same lo, hi and step;
  // returns false, with r.fail(), on other bounds or inconsistent input, and then leaves the
  // histogram unchanged. A loaded histogram gives the same n, mean and quantiles, and goes on
  // exactly as the saved one.
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);

 private:
  double lo_, hi_, step_;
  std::vector<std::uint32_t> bins_;
  std::vector<double> outside_;  // sorted lazily
  std::uint64_t n_ = 0;
  double sum_ = 0;
};

struct LinkStats {
  std::uint64_t tries = 0, nlos = 0, dropped = 0, collided = 0;
  ErrorHistogram error{-1.0, 6.0, 0.002};  // measured - true distance of received measurements
};

// One tag's blink: when, and where the tag truly is.
struct Blink {
  Micros t = 0;
  int tag = -1;             // engine tag index (stable small integer)
  std::uint64_t number = 0; // the tag's blink counter (keys its random draws)
  Vec3 at;                  // true 3D position of the tag
  std::string floor;        // true floor id: a barometer's floor (PipelineOptions::barometer)
};

struct SimFix {
  int blink = -1;  // index in the batch
  SolvedFix fix;
  int links_tried = 0, links_received = 0;
};

struct PipelineOptions {
  int threads = 1;          // ray casts in parallel; results never depend on it
  bool link_stats = true;   // keep per-link histograms (the report's `radio` section)
  bool barometer = true;    // tags know their floor (Solver::set_floor), as with a barometer: UWB
                            // z is poor with anchors in one plane (reference 1.2, Sewio)
};

struct PipelineCounters {
  std::uint64_t blinks = 0, fixes = 0, no_fix = 0, rays = 0, links_received = 0, collisions = 0;
};

class LanePool;

class SimulatedPositioning {
 public:
  SimulatedPositioning(const Site& site, const RadioParams& params, const LineOfSight& los, std::uint64_t seed,
                       PipelineOptions opt = {});
  ~SimulatedPositioning();

  // Processes blinks sorted by (t, tag). `slice_s`: the time span the batch covers (the ALOHA
  // load per anchor counts the batch's blinks heard by it over that span). Appends fixes in
  // blink order.
  void process(std::span<const Blink> blinks, double slice_s, std::vector<SimFix>& out);

  // Per (tag, anchor), merged over the lanes.
  std::map<std::pair<int, int>, LinkStats> link_stats() const;
  PipelineCounters counters() const;
  const RadioChannel& channel() const { return channel_; }

  // Checkpoints (docs/radio.md, "Checkpoint state"): everything that carries over from one
  // process() call to the next: the solvers' per-tag state, the link statistics, the floors handed
  // to the solver, the counters and the ray count, merged over the lanes in tag order, so the bytes
  // do not depend on the number of lanes (PipelineOptions::threads) and a checkpoint loads into a
  // pipeline with any number of them (tags go to lane tag % lanes). The site, line of sight,
  // parameters and options are not saved: load into a pipeline made the same way (the seed, the
  // anchor count, the mode, link_stats and barometer are checked). load() returns false, with
  // r.fail() saying why, on bad or mismatched input, and then leaves the pipeline unchanged.
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);

 private:
  struct Work;
  // A lane owns the tags with tag % lanes == its index: their solver state, link statistics and
  // floors. A tag's measurements and fixes therefore never depend on the number of lanes.
  struct Lane {
    Solver solver;
    std::map<std::pair<int, int>, LinkStats> links;
    PipelineCounters counters;
    std::map<int, std::string> floor_of;  // tag -> floor last handed to the solver
    std::vector<SimFix> out;
    std::vector<RangeObs> ranges;
    std::vector<TdoaObs> diffs;
  };
  void run_lane(Lane& lane, size_t index, std::span<const Blink> blinks, double per_blink_g);
  const Site& site_;
  const LineOfSight& los_;
  RadioChannel channel_;
  FirstPathFinder paths_;  // after channel_: it keeps a reference
  PipelineOptions opt_;
  std::uint64_t seed_;
  std::vector<Lane> lanes_;
  std::uint64_t rays_ = 0;
  std::unique_ptr<Work> work_;
  std::unique_ptr<LanePool> pool_;  // PipelineOptions::threads - 1 threads, kept (sim/radio/lane_pool.h)
};

// The Solver's settings from the radio parameters (min_anchors, processing_delay, kalman, sigmas).
SolverParams solver_params(const RadioParams& p);

}  // namespace planttwin
