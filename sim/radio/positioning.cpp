#include "sim/radio/positioning.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

#include "engine/byte_codec.h"
#include "sim/radio/lane_pool.h"

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

void ErrorHistogram::save(ByteWriter& w) const {
  w.f64(lo_);
  w.f64(hi_);
  w.f64(step_);
  w.size(bins_.size());
  std::size_t used = 0;
  for (std::uint32_t c : bins_) used += c ? 1 : 0;
  w.size(used);
  for (size_t i = 0; i < bins_.size(); ++i)
    if (bins_[i]) {
      w.u32(static_cast<std::uint32_t>(i));
      w.u32(bins_[i]);
    }
  w.size(outside_.size());
  for (double v : outside_) w.f64(v);
  w.u64(n_);
  w.f64(sum_);
}

bool ErrorHistogram::load(ByteReader& r) {
  if (!r.ok()) return false;
  const double lo = r.f64(), hi = r.f64(), step = r.f64();
  const std::uint64_t bins = r.u64();
  if (r.ok() && !(lo == lo_ && hi == hi_ && step == step_ && bins == bins_.size()))
    r.fail("a histogram saved over [" + std::to_string(lo) + ", " + std::to_string(hi) + ") by " + std::to_string(step) +
           " (" + std::to_string(bins) + " bins) does not fit one over [" + std::to_string(lo_) + ", " +
           std::to_string(hi_) + ") by " + std::to_string(step_) + " (" + std::to_string(bins_.size()) + " bins)");
  std::vector<std::uint32_t> counts(r.ok() ? bins_.size() : 0, 0);
  std::uint64_t in_bins = 0;
  const std::size_t used = r.size(8);
  for (std::size_t k = 0, prev = 0; k < used && r.ok(); ++k) {
    const std::uint32_t i = r.u32(), c = r.u32();
    if (!r.ok()) break;
    if (i >= counts.size() || (k > 0 && i <= prev) || c == 0) {
      r.fail("a histogram's bins are out of range, out of order or empty");
      break;
    }
    prev = i;
    counts[i] = c;
    in_bins += c;
  }
  const std::size_t outside = r.size(8);
  std::vector<double> out;
  for (std::size_t k = 0; k < outside && r.ok(); ++k) {
    const double v = r.f64();
    if (v >= lo_ && v < hi_) r.fail("a histogram's value outside its bins lies inside them");
    out.push_back(v);
  }
  const std::uint64_t n = r.u64();
  const double sum = r.f64();
  if (r.ok() && n != in_bins + out.size()) r.fail("a histogram's count does not match its bins");
  if (!r.ok()) return false;
  bins_ = std::move(counts);
  outside_ = std::move(out);
  n_ = n;
  sum_ = sum;
  return true;
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
  std::vector<int> chosen;    // per blink: a row of max_anchors slots, its anchors
  std::vector<size_t> count;  // per blink: how many of its slots are used
  std::vector<int> heard;     // per anchor
  // the site's range_offsets per anchor (calibration): the simulated anchors carry them in TWR and
  // the solver takes them off again, so a site's offsets leave a simulated run as it was
  std::vector<double> anchor_offset;
  // anchors in a uniform grid of square cells of half the reach of a link (at least 1 m, and at
  // most about a million cells), so a blink looks at the anchors of the cells its reach touches
  // instead of every anchor of the site; each cell's anchors and their positions side by side
  double reach = -1, cell = 0, x0 = 0, y0 = 0;
  long nx = 0, ny = 0;
  std::vector<size_t> cell_first;              // per cell: its anchors [cell_first[c], cell_first[c + 1])
  std::vector<int> cell_anchor;                // anchor indices, by cell, ascending within a cell
  std::vector<std::array<double, 3>> cell_at;  // their positions
  void build_grid(const Site& site, double r) {
    reach = r;
    double x1 = 0, y1 = 0;
    x0 = y0 = 0;
    for (size_t a = 0; a < site.anchors.size(); ++a) {
      const double* q = site.anchors[a].at;
      if (a == 0) x0 = x1 = q[0], y0 = y1 = q[1];
      x0 = std::min(x0, q[0]), x1 = std::max(x1, q[0]), y0 = std::min(y0, q[1]), y1 = std::max(y1, q[1]);
    }
    cell = std::max({r / 2, 1.0, std::sqrt((x1 - x0) * (y1 - y0) / 1e6)});
    nx = static_cast<long>((x1 - x0) / cell) + 1, ny = static_cast<long>((y1 - y0) / cell) + 1;
    const auto cell_of = [&](size_t a) {
      const long ix = static_cast<long>((site.anchors[a].at[0] - x0) / cell), iy = static_cast<long>((site.anchors[a].at[1] - y0) / cell);
      return static_cast<size_t>(std::min(iy, ny - 1) * nx + std::min(ix, nx - 1));
    };
    cell_first.assign(static_cast<size_t>(nx * ny) + 1, 0);
    for (size_t a = 0; a < site.anchors.size(); ++a) ++cell_first[cell_of(a) + 1];
    for (size_t c = 1; c < cell_first.size(); ++c) cell_first[c] += cell_first[c - 1];
    cell_anchor.resize(site.anchors.size());
    cell_at.resize(site.anchors.size());
    std::vector<size_t> cursor(cell_first.begin(), cell_first.end() - 1);
    for (size_t a = 0; a < site.anchors.size(); ++a) {
      const size_t k = cursor[cell_of(a)]++;
      cell_anchor[k] = static_cast<int>(a);
      cell_at[k] = {site.anchors[a].at[0], site.anchors[a].at[1], site.anchors[a].at[2]};
    }
  }
};

SimulatedPositioning::SimulatedPositioning(const Site& site, const RadioParams& params, const LineOfSight& los,
                                           std::uint64_t seed, PipelineOptions opt)
    : site_(site), los_(los), channel_(site, params, los.materials(), seed), paths_(los, channel_), opt_(opt), seed_(seed), work_(std::make_unique<Work>()) {
  opt_.threads = std::clamp(opt_.threads, 1, 64);
  pool_ = std::make_unique<LanePool>(static_cast<size_t>(opt_.threads - 1));
  for (int i = 0; i < opt_.threads; ++i) lanes_.push_back(Lane{Solver(site, solver_params(params)), {}, {}, {}, {}, {}, {}});
  for (const Anchor& a : site.anchors) {
    auto it = site.range_offsets.anchors.find(a.id);
    work_->anchor_offset.push_back(it == site.range_offsets.anchors.end() ? 0.0 : it->second);
  }
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

// Checkpoint format (docs/radio.md, "Checkpoint state").
constexpr std::uint32_t kPipelineMagic = 0x50535450;  // "PTSP"
constexpr std::uint32_t kPipelineVersion = 1;

size_t lane_of(int tag, size_t lanes) { return static_cast<size_t>(tag) % lanes; }  // as run_lane

}  // namespace

void SimulatedPositioning::save(ByteWriter& w) const {
  w.u32(kPipelineMagic);
  w.u32(kPipelineVersion);
  w.u64(seed_);
  w.size(site_.anchors.size());
  w.u8(static_cast<std::uint8_t>(channel_.params().mode));
  w.boolean(opt_.link_stats);
  w.boolean(opt_.barometer);
  const PipelineCounters c = counters();
  for (std::uint64_t v : {c.blinks, c.fixes, c.no_fix, c.rays, c.links_received, c.collisions}) w.u64(v);
  // the solvers' tags, merged, as one length-prefixed block
  std::vector<const Solver*> solvers;
  for (const Lane& l : lanes_) solvers.push_back(&l.solver);
  ByteWriter sw;
  Solver::save_merged(sw, solvers);
  w.str(sw.bytes());
  // floors by tag and link statistics by (tag, anchor), merged over the lanes (disjoint tags)
  std::vector<std::pair<int, const std::string*>> floors;
  for (const Lane& l : lanes_)
    for (const auto& [tag, f] : l.floor_of) floors.emplace_back(tag, &f);
  std::sort(floors.begin(), floors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  w.size(floors.size());
  for (const auto& [tag, f] : floors) {
    w.i32(tag);
    w.str(*f);
  }
  std::vector<std::pair<std::pair<int, int>, const LinkStats*>> links;
  for (const Lane& l : lanes_)
    for (const auto& [key, ls] : l.links) links.emplace_back(key, &ls);
  std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  w.size(links.size());
  for (const auto& [key, ls] : links) {
    w.i32(key.first);
    w.i32(key.second);
    w.u64(ls->tries);
    w.u64(ls->nlos);
    w.u64(ls->dropped);
    w.u64(ls->collided);
    ls->error.save(w);
  }
}

bool SimulatedPositioning::load(ByteReader& r) {
  if (!r.ok()) return false;
  if (r.u32() != kPipelineMagic) r.fail("not a simulated positioning state");
  else if (const std::uint32_t v = r.u32(); r.ok() && v != kPipelineVersion)
    r.fail("simulated positioning state version " + std::to_string(v) + " is not " + std::to_string(kPipelineVersion));
  const std::uint64_t seed = r.u64(), anchors = r.u64();
  const std::uint8_t mode = r.u8();
  const bool link_stats = r.boolean(), barometer = r.boolean();
  if (r.ok()) {
    if (seed != seed_) r.fail("the simulated positioning state was saved with another seed");
    else if (anchors != site_.anchors.size()) r.fail("the simulated positioning state was saved for another site's anchors");
    else if (mode != static_cast<std::uint8_t>(channel_.params().mode)) r.fail("the simulated positioning state was saved in another radio mode");
    else if (link_stats != opt_.link_stats) r.fail("the simulated positioning state was saved with link statistics " + std::string(link_stats ? "on" : "off"));
    else if (barometer != opt_.barometer) r.fail("the simulated positioning state was saved with the barometer " + std::string(barometer ? "on" : "off"));
  }
  PipelineCounters c;
  c.blinks = r.u64();
  c.fixes = r.u64();
  c.no_fix = r.u64();
  c.rays = r.u64();
  c.links_received = r.u64();
  c.collisions = r.u64();
  if (r.ok() && c.fixes + c.no_fix != c.blinks) r.fail("the pipeline's counters do not add up");
  const std::string solver_bytes = r.str();
  const size_t lanes = lanes_.size();
  std::vector<Solver> solvers;
  for (size_t i = 0; i < lanes && r.ok(); ++i) {
    solvers.emplace_back(site_, lanes_[0].solver.params());
    ByteReader sr(solver_bytes);
    if (!solvers.back().load(sr, [&](int tag) { return lane_of(tag, lanes) == i; }) || !sr.at_end())
      r.fail("in the solver state: " + (sr.ok() ? std::string("bytes left over") : sr.error()));
  }
  std::vector<std::map<int, std::string>> floors(lanes);
  const std::size_t nf = r.size(4 + 8);
  int prev_tag = 0;
  for (std::size_t k = 0; k < nf && r.ok(); ++k) {
    const int tag = r.i32();
    std::string f = r.str();
    if (!r.ok()) break;
    if ((k > 0 && tag <= prev_tag) || f.empty()) {
      r.fail("the pipeline's floors are out of order or empty");
      break;
    }
    prev_tag = tag;
    floors[lane_of(tag, lanes)].emplace(tag, std::move(f));
  }
  std::vector<std::map<std::pair<int, int>, LinkStats>> links(lanes);
  const std::size_t nl = r.size(4 + 4 + 4 * 8 + 3 * 8 + 3 * 8 + 8 + 8);
  std::pair<int, int> prev_key;
  for (std::size_t k = 0; k < nl && r.ok(); ++k) {
    const std::pair<int, int> key{r.i32(), r.i32()};
    LinkStats ls;
    ls.tries = r.u64();
    ls.nlos = r.u64();
    ls.dropped = r.u64();
    ls.collided = r.u64();
    if (!ls.error.load(r)) break;
    if ((k > 0 && key <= prev_key) || key.second < 0 || static_cast<size_t>(key.second) >= site_.anchors.size()) {
      r.fail("the pipeline's links are out of order or name an anchor the site lacks");
      break;
    }
    if (ls.nlos > ls.tries || ls.dropped > ls.tries || ls.collided > ls.dropped || ls.error.n() != ls.tries - ls.dropped) {
      r.fail("a link's statistics do not add up");
      break;
    }
    prev_key = key;
    links[lane_of(key.first, lanes)].emplace_hint(links[lane_of(key.first, lanes)].end(), key, std::move(ls));
  }
  if (!r.ok()) return false;
  for (size_t i = 0; i < lanes; ++i) {
    Lane& l = lanes_[i];
    l.solver = std::move(solvers[i]);
    l.floor_of = std::move(floors[i]);
    l.links = std::move(links[i]);
    l.counters = PipelineCounters{};
  }
  // the counters are only ever read summed over the lanes: lane 0 carries them
  lanes_[0].counters = c;
  lanes_[0].counters.rays = 0;
  rays_ = c.rays;
  return true;
}


void SimulatedPositioning::process(std::span<const Blink> blinks, double slice_s, std::vector<SimFix>& out) {
  Work& w = *work_;
  const RadioParams& p = channel_.params();
  const size_t na = site_.anchors.size();
  // links worth tracing: the nearest anchors within LOS range plus a shadowing margin
  const double margin_db = p.rx_at_1m_dbm - p.sensitivity_dbm + 3 * p.shadowing_db;
  const double max_d = std::pow(10.0, margin_db / (10 * p.pathloss_exponent));
  if (w.reach != max_d) w.build_grid(site_, max_d);
  // Each blink's links: the nearest anchors within reach (at most max_anchors), in anchor order.
  // Chosen per blink on every thread (the blinks taken in runs of 16 as threads come free) into a
  // blink's own row of max_anchors slots, then laid out in blink order; then the links' rays and
  // geometry, independent per link, each written at its own index, taken in runs of 64 (a run's
  // engines may be busy on a worker beside these threads, and an NLOS link costs several times a
  // LOS one, so no thread waits on another's fixed share).
  const size_t per_blink = static_cast<size_t>(std::max(0, p.max_anchors));
  w.chosen.resize(blinks.size() * per_blink);
  w.count.assign(blinks.size(), 0);
  const size_t parts = blinks.size() < 32 ? 1 : static_cast<size_t>(opt_.threads);
  std::atomic<size_t> next_blinks{0};
  pool_->run(parts, [&](size_t) {
    // the k nearest so far, by (squared distance, anchor index) ascending: the order the links were
    // always chosen in, so the same anchors whatever order the cells are visited in
    thread_local std::vector<std::pair<double, int>> best;
    best.resize(per_blink);
    for (size_t from; (from = next_blinks.fetch_add(16, std::memory_order_relaxed)) < blinks.size();)
      for (size_t b = from; b < std::min(blinks.size(), from + 16); ++b) {
        const Vec3 at = blinks[b].at;
        size_t n = 0;
        w.count[b] = 0;
        if (per_blink == 0) continue;  // radio.max_anchors: 0, no links
        // the cells within reach; a cell wholly farther than the k-th nearest so far is skipped
        const long cx0 = std::max(0L, static_cast<long>(std::floor((at.x - max_d - w.x0) / w.cell)));
        const long cx1 = std::min(w.nx - 1, static_cast<long>(std::floor((at.x + max_d - w.x0) / w.cell)));
        const long cy0 = std::max(0L, static_cast<long>(std::floor((at.y - max_d - w.y0) / w.cell)));
        const long cy1 = std::min(w.ny - 1, static_cast<long>(std::floor((at.y + max_d - w.y0) / w.cell)));
        for (long cy = cy0; cy <= cy1; ++cy)
          for (long cx = cx0; cx <= cx1; ++cx) {
            const size_t c = static_cast<size_t>(cy * w.nx + cx);
            if (w.cell_first[c] == w.cell_first[c + 1]) continue;
            if (n == per_blink) {
              const double gx = std::max({0.0, w.x0 + w.cell * static_cast<double>(cx) - at.x, at.x - (w.x0 + w.cell * static_cast<double>(cx + 1))});
              const double gy = std::max({0.0, w.y0 + w.cell * static_cast<double>(cy) - at.y, at.y - (w.y0 + w.cell * static_cast<double>(cy + 1))});
              // (a millimetre below the gap: rounding never skips a cell that holds one of the k)
              const double gap = std::max(0.0, std::sqrt(gx * gx + gy * gy) - 1e-3);
              if (gap * gap > best[per_blink - 1].first) continue;
            }
            for (size_t k = w.cell_first[c]; k < w.cell_first[c + 1]; ++k) {
              const double* q = w.cell_at[k].data();
              const double d2 = (q[0] - at.x) * (q[0] - at.x) + (q[1] - at.y) * (q[1] - at.y) + (q[2] - at.z) * (q[2] - at.z);
              if (d2 > max_d * max_d) continue;
              const std::pair<double, int> cand{d2, w.cell_anchor[k]};
              if (n == per_blink && !(cand < best[per_blink - 1])) continue;
              size_t i = n < per_blink ? n++ : per_blink - 1;
              for (; i > 0 && cand < best[i - 1]; --i) best[i] = best[i - 1];
              best[i] = cand;
            }
          }
        // in anchor order
        for (size_t i = 0; i < n; ++i) w.chosen[b * per_blink + i] = best[i].second;
        std::sort(w.chosen.begin() + static_cast<std::ptrdiff_t>(b * per_blink), w.chosen.begin() + static_cast<std::ptrdiff_t>(b * per_blink + n));
        w.count[b] = n;
      }
  });
  size_t nt = 0;
  w.first.assign(blinks.size() + 1, 0);
  for (size_t b = 0; b < blinks.size(); ++b) {
    w.first[b] = nt;
    for (size_t i = 0; i < w.count[b]; ++i, ++nt) {
      if (nt >= w.tasks.size()) w.tasks.emplace_back();
      w.tasks[nt].blink = static_cast<int>(b);
      w.tasks[nt].anchor = w.chosen[b * per_blink + i];
    }
  }
  w.first[blinks.size()] = nt;

  constexpr size_t kRun = 64;
  const size_t ray_parts = nt < 256 ? 1 : static_cast<size_t>(opt_.threads);
  std::atomic<size_t> next_run{0};
  pool_->run(ray_parts, [&](size_t) {
    for (size_t from; (from = next_run.fetch_add(kRun, std::memory_order_relaxed)) < nt;)
      for (size_t i = from; i < std::min(nt, from + kRun); ++i) {
        Work::Task& t = w.tasks[i];
        const Vec3 tag = blinks[static_cast<size_t>(t.blink)].at;
        los_.trace(tag, channel_.anchor_at(t.anchor), t.crossings);
        t.geo = paths_.find(tag, t.anchor, t.crossings);
      }
  });
  rays_ += nt;

  // offered ALOHA load per anchor over the slice
  w.heard.assign(na, 0);
  for (size_t i = 0; i < nt; ++i)
    if (w.tasks[i].geo.in_budget) ++w.heard[static_cast<size_t>(w.tasks[i].anchor)];
  const double per_blink_g = slice_s > 0 ? p.airtime_ms * 1e-3 / slice_s : 0;

  // radio and solver per lane (tags split by tag % lanes), fixes merged by blink index
  pool_->run(lanes_.size(), [&](size_t i) { run_lane(lanes_[i], i, blinks, per_blink_g); });
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
      t.sample = channel_.sample(bl.tag, t.anchor, bl.number, t.geo, g);
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
      const double offset = p.mode == RadioParams::Mode::twr ? w.anchor_offset[static_cast<size_t>(t.anchor)] : 0.0;
      lane.ranges.push_back({t.anchor, t.sample.measured_m + offset, t.sample.rx_dbm, t.sample.fp_dbm});
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
