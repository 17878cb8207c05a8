#include "sim/radio/positioning.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace planttwin {

ErrorHistogram::ErrorHistogram(double lo, double hi, double step)
    : lo_(lo), hi_(hi), step_(step), bins_(static_cast<size_t>(std::ceil((hi - lo) / step))) {}

void ErrorHistogram::add(double e) {
  ++n_;
  sum_ += e;
  if (e >= lo_ && e < hi_) {
    const size_t i = std::min(bins_.size() - 1, static_cast<size_t>((e - lo_) / step_));
    ++bins_[i];
  } else {
    outside_.push_back(e);
  }
}

double ErrorHistogram::quantile(double q) const {
  if (n_ == 0) return 0;
  const double rank_d = std::ceil(q * static_cast<double>(n_));
  const std::uint64_t rank = static_cast<std::uint64_t>(std::clamp(rank_d, 1.0, static_cast<double>(n_)));
  std::vector<double> out = outside_;
  std::sort(out.begin(), out.end());
  const auto below = static_cast<std::uint64_t>(std::lower_bound(out.begin(), out.end(), lo_) - out.begin());
  if (rank <= below) return out[rank - 1];
  std::uint64_t seen = below;
  for (size_t i = 0; i < bins_.size(); ++i) {
    seen += bins_[i];
    // the bin's centre, rounded to a micrometre so that reports do not print binary noise
    if (seen >= rank) return std::round((lo_ + (static_cast<double>(i) + 0.5) * step_) * 1e6) / 1e6;
  }
  return out[static_cast<size_t>(below + (rank - seen) - 1)];
}

SolverParams solver_params(const RadioParams& p) {
  SolverParams s;
  s.min_anchors_2d = p.min_anchors;
  s.processing_delay = p.processing_delay;
  s.kalman = p.kalman;
  s.range_sigma_m = std::max(0.05, p.los_sigma_m);
  s.tdoa_sigma_m = std::max(0.05, p.tdoa_sigma_m * std::sqrt(2.0));
  return s;
}

struct SimulatedPositioning::Work {
  struct Task {
    int blink = 0, anchor = 0;
    std::vector<Crossing> crossings;
    LinkGeometry geo;
    LinkSample sample;
  };
  std::vector<Task> tasks;
  std::vector<size_t> first;  // per blink: first task index (size blinks + 1)
  std::vector<std::pair<double, int>> near;
  std::vector<int> heard;  // per anchor
  // anchors in a uniform grid of cells of side `cell` (the reach of a link), so a blink looks at
  // the anchors of the cells its reach touches instead of every anchor of the site
  double cell = 0, x0 = 0, y0 = 0;
  long nx = 0, ny = 0;
  std::vector<std::vector<int>> grid;
  void build_grid(const Site& site, double reach) {
    cell = std::max(reach, 1.0);
    double x1 = 0, y1 = 0;
    for (size_t a = 0; a < site.anchors.size(); ++a) {
      const double* q = site.anchors[a].at;
      if (a == 0) x0 = x1 = q[0], y0 = y1 = q[1];
      x0 = std::min(x0, q[0]), x1 = std::max(x1, q[0]), y0 = std::min(y0, q[1]), y1 = std::max(y1, q[1]);
    }
    nx = static_cast<long>((x1 - x0) / cell) + 1, ny = static_cast<long>((y1 - y0) / cell) + 1;
    grid.assign(static_cast<size_t>(nx * ny), {});
    for (size_t a = 0; a < site.anchors.size(); ++a) {
      const long ix = static_cast<long>((site.anchors[a].at[0] - x0) / cell), iy = static_cast<long>((site.anchors[a].at[1] - y0) / cell);
      grid[static_cast<size_t>(iy * nx + ix)].push_back(static_cast<int>(a));
    }
  }
};

SimulatedPositioning::SimulatedPositioning(const Site& site, const RadioParams& params, const LineOfSight& los,
                                           std::uint64_t seed, PipelineOptions opt)
    : site_(site), los_(los), channel_(site, params, los.materials(), seed), opt_(opt), work_(std::make_unique<Work>()) {
  opt_.threads = std::clamp(opt_.threads, 1, 64);
  for (int i = 0; i < opt_.threads; ++i) lanes_.push_back(Lane{Solver(site, solver_params(params)), {}, {}, {}, {}, {}, {}});
}

SimulatedPositioning::~SimulatedPositioning() = default;

std::map<std::pair<int, int>, LinkStats> SimulatedPositioning::link_stats() const {
  std::map<std::pair<int, int>, LinkStats> all;
  for (const Lane& l : lanes_) all.insert(l.links.begin(), l.links.end());  // lanes own disjoint tags
  return all;
}

PipelineCounters SimulatedPositioning::counters() const {
  PipelineCounters c;
  c.rays = rays_;
  for (const Lane& l : lanes_) {
    c.blinks += l.counters.blinks;
    c.fixes += l.counters.fixes;
    c.no_fix += l.counters.no_fix;
    c.links_received += l.counters.links_received;
    c.collisions += l.counters.collisions;
  }
  return c;
}

namespace {
// Runs f(i) for i in [0, n) on up to `threads` threads (static split; i = 0 on the caller's).
template <class F>
void parallel_for(int threads, size_t n, F&& f) {
  if (threads <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::vector<std::thread> pool;
  for (size_t i = 1; i < n; ++i) pool.emplace_back([&f, i] { f(i); });
  f(0);
  for (std::thread& th : pool) th.join();
}
}  // namespace

void SimulatedPositioning::process(std::span<const Blink> blinks, double slice_s, std::vector<SimFix>& out) {
  Work& w = *work_;
  const RadioParams& p = channel_.params();
  const size_t na = site_.anchors.size();
  // links worth tracing: the nearest anchors within LOS range plus a shadowing margin
  const double margin_db = p.rx_at_1m_dbm - p.sensitivity_dbm + 3 * p.shadowing_db;
  const double max_d = std::pow(10.0, margin_db / (10 * p.pathloss_exponent));
  if (w.grid.empty() || w.cell != std::max(max_d, 1.0)) w.build_grid(site_, max_d);
  size_t nt = 0;
  w.first.assign(blinks.size() + 1, 0);
  for (size_t b = 0; b < blinks.size(); ++b) {
    w.first[b] = nt;
    const Vec3 at = blinks[b].at;
    w.near.clear();
    // the cells within reach; (distance, anchor index) order below makes the visit order irrelevant
    const long cx0 = std::max(0L, static_cast<long>(std::floor((at.x - max_d - w.x0) / w.cell)));
    const long cx1 = std::min(w.nx - 1, static_cast<long>(std::floor((at.x + max_d - w.x0) / w.cell)));
    const long cy0 = std::max(0L, static_cast<long>(std::floor((at.y - max_d - w.y0) / w.cell)));
    const long cy1 = std::min(w.ny - 1, static_cast<long>(std::floor((at.y + max_d - w.y0) / w.cell)));
    for (long cy = cy0; cy <= cy1; ++cy)
      for (long cx = cx0; cx <= cx1; ++cx)
        for (int a : w.grid[static_cast<size_t>(cy * w.nx + cx)]) {
          const double* q = site_.anchors[static_cast<size_t>(a)].at;
          const double d2 = (q[0] - at.x) * (q[0] - at.x) + (q[1] - at.y) * (q[1] - at.y) + (q[2] - at.z) * (q[2] - at.z);
          if (d2 <= max_d * max_d) w.near.emplace_back(d2, a);
        }
    const size_t k = std::min(w.near.size(), static_cast<size_t>(p.max_anchors));
    std::partial_sort(w.near.begin(), w.near.begin() + static_cast<std::ptrdiff_t>(k), w.near.end());
    std::sort(w.near.begin(), w.near.begin() + static_cast<std::ptrdiff_t>(k),
              [](const auto& x, const auto& y) { return x.second < y.second; });
    for (size_t i = 0; i < k; ++i) {
      if (nt >= w.tasks.size()) w.tasks.emplace_back();
      w.tasks[nt].blink = static_cast<int>(b);
      w.tasks[nt].anchor = w.near[i].second;
      ++nt;
    }
  }
  w.first[blinks.size()] = nt;

  // ray casts and link geometry: independent per task, split by index, merged by index
  const size_t parts = nt < 256 ? 1 : static_cast<size_t>(opt_.threads);
  const size_t chunk = (nt + parts - 1) / std::max<size_t>(parts, 1);
  parallel_for(opt_.threads, parts, [&](size_t part) {
    for (size_t i = part * chunk; i < std::min(nt, (part + 1) * chunk); ++i) {
      Work::Task& t = w.tasks[i];
      const Vec3 tag = blinks[static_cast<size_t>(t.blink)].at;
      los_.trace(tag, channel_.anchor_at(t.anchor), t.crossings);
      t.geo = channel_.geometry(tag, t.anchor, t.crossings);
    }
  });
  rays_ += nt;

  // offered ALOHA load per anchor over the slice
  w.heard.assign(na, 0);
  for (size_t i = 0; i < nt; ++i)
    if (w.tasks[i].geo.in_budget) ++w.heard[static_cast<size_t>(w.tasks[i].anchor)];
  const double per_blink_g = slice_s > 0 ? p.airtime_ms * 1e-3 / slice_s : 0;

  // radio and solver per lane (tags split by tag % lanes), fixes merged by blink index
  parallel_for(opt_.threads, lanes_.size(), [&](size_t i) { run_lane(lanes_[i], i, blinks, per_blink_g); });
  const size_t before = out.size();
  for (Lane& l : lanes_) {
    out.insert(out.end(), l.out.begin(), l.out.end());
    l.out.clear();
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
            [](const SimFix& a, const SimFix& b) { return a.blink < b.blink; });
}

void SimulatedPositioning::run_lane(Lane& lane, size_t index, std::span<const Blink> blinks, double per_blink_g) {
  Work& w = *work_;
  const RadioParams& p = channel_.params();
  const size_t lanes = lanes_.size();
  for (size_t b = 0; b < blinks.size(); ++b) {
    const Blink& bl = blinks[b];
    if (static_cast<size_t>(bl.tag) % lanes != index) continue;
    ++lane.counters.blinks;
    lane.ranges.clear();
    int received = 0;
    for (size_t i = w.first[b]; i < w.first[b + 1]; ++i) {
      Work::Task& t = w.tasks[i];
      // the blink itself is not its own competitor
      const double g = per_blink_g * std::max(0, w.heard[static_cast<size_t>(t.anchor)] - 1);
      t.sample = channel_.sample(bl.tag, t.anchor, bl.number, t.geo, t.crossings, g);
      if (t.sample.collided) ++lane.counters.collisions;
      if (opt_.link_stats) {
        LinkStats& ls = lane.links[{bl.tag, t.anchor}];
        ++ls.tries;
        if (t.sample.nlos) ++ls.nlos;
        if (!t.sample.received) ++ls.dropped;
        if (t.sample.collided) ++ls.collided;
        if (t.sample.received) ls.error.add(t.sample.measured_m - t.sample.true_m);
      }
      if (!t.sample.received) continue;
      ++received;
      lane.ranges.push_back({t.anchor, t.sample.measured_m, t.sample.rx_dbm, t.sample.fp_dbm});
    }
    lane.counters.links_received += static_cast<std::uint64_t>(received);
    if (opt_.barometer && !bl.floor.empty()) {
      auto [it, added] = lane.floor_of.try_emplace(bl.tag, bl.floor);
      if (added || it->second != bl.floor) {
        it->second = bl.floor;
        lane.solver.set_floor(bl.tag, bl.floor);
      }
    }
    std::optional<SolvedFix> fix;
    if (p.mode == RadioParams::Mode::twr) {
      fix = lane.solver.solve_twr(bl.tag, bl.t, lane.ranges);
    } else {
      lane.diffs.clear();
      if (!lane.ranges.empty()) {
        // reference: the strongest arrival (lowest anchor index on ties)
        size_t ref = 0;
        for (size_t i = 1; i < lane.ranges.size(); ++i)
          if (lane.ranges[i].rx_dbm > lane.ranges[ref].rx_dbm) ref = i;
        for (size_t i = 0; i < lane.ranges.size(); ++i)
          if (i != ref) lane.diffs.push_back({lane.ranges[ref].anchor, lane.ranges[i].anchor, lane.ranges[i].d - lane.ranges[ref].d});
      }
      fix = lane.solver.solve_tdoa(bl.tag, bl.t, lane.diffs);
    }
    if (!fix) {
      ++lane.counters.no_fix;
      continue;
    }
    ++lane.counters.fixes;
    SimFix sf;
    sf.blink = static_cast<int>(b);
    sf.fix = *fix;
    sf.links_tried = static_cast<int>(w.first[b + 1] - w.first[b]);
    sf.links_received = received;
    lane.out.push_back(std::move(sf));
  }
}

}  // namespace planttwin
