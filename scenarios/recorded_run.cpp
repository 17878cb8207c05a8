// Recorded positioning (H-02, H-03, H-05, PL-01; docs/recorded.md): a vendor's range log goes
// through the same solver as live hardware and the simulator, on the log's own times, as fast as
// the machine allows; the engine gets each fix at its measurement time + the solver's processing
// delay. With a truth log: accuracy (horizontal and 3D) over the evaluation window, per-anchor range
// residuals, and an oracle twin on the true positions for alarm quality. Deterministic: the logs are
// sorted before use, so the rows' order in the files does not change a bit of the result.
#include <algorithm>
#include <cmath>
#include <map>

#include "engine/history.h"
#include "scenarios/driver.h"
#include "scenarios/runner.h"
#include "sim/radio/positioning.h"
#include "sim/radio/radio.h"
#include "sim/solver/solver.h"

namespace planttwin {

namespace {

// A tag's measurements that form one solve: ranges (or differences) within `epoch` of its first.
struct Epoch {
  Micros t = 0;  // the latest measurement's time
  int tag = -1;  // log tag index
  bool tdoa = false;
  std::vector<std::size_t> rows;  // indices into RecordedLog::ranges or ::tdoa
};

template <class Row>
void group(const std::vector<Row>& rows, bool tdoa, Micros window, std::size_t tags, std::vector<Epoch>& out) {
  std::vector<std::vector<std::size_t>> by_tag(tags);
  for (std::size_t i = 0; i < rows.size(); ++i) by_tag[static_cast<size_t>(rows[i].tag)].push_back(i);
  for (std::size_t tag = 0; tag < tags; ++tag) {
    Epoch e;
    Micros first = 0;
    for (std::size_t i : by_tag[tag]) {
      if (!e.rows.empty() && rows[i].t - first > window) {
        out.push_back(std::move(e));
        e = Epoch{};
      }
      if (e.rows.empty()) {
        first = rows[i].t;
        e.tag = static_cast<int>(tag);
        e.tdoa = tdoa;
      }
      e.t = rows[i].t;
      e.rows.push_back(i);
    }
    if (!e.rows.empty()) out.push_back(std::move(e));
  }
}

struct ResidualStats {
  ErrorHistogram hist{-5.0, 20.0, 0.005};
  double sum = 0, sumsq = 0;
  void add(double e) {
    hist.add(e);
    sum += e;
    sumsq += e * e;
  }
};

}  // namespace

bool run_recorded(const Scenario& sc, const RunOptions& opt, RunResult& out, std::string& error) {
  if (opt.resume || opt.checkpoint_every > 0) {
    error = sc.file + ": checkpoints are not available for positioning: recorded runs (a recorded run is replayed from its "
                      "logs in seconds: run it again)";
    return false;
  }
  RecordedLog log;
  if (!read_recorded_log(sc, log, error)) return false;
  RadioParams rp = radio_defaults(sc.site);
  std::string key, message;
  if (!apply_radio_overrides(sc.radio, rp, key, message)) {
    error = sc.file + ": radio." + key + ": " + message;
    return false;
  }
  out = RunResult{};
  out.recorded = RecordedReport{};
  RecordedReport& rec = *out.recorded;
  rec.rows = log.rows;
  rec.bad_rows = log.bad_rows;
  rec.dropped_columns = log.dropped_columns;
  rec.problems = log.problems;
  if (sc.recorded.evaluate)
    rec.evaluate = std::make_pair(to_seconds(sc.recorded.evaluate->first), to_seconds(sc.recorded.evaluate->second));

  auto site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, site));
  std::unique_ptr<Engine> oracle;  // the twin on the truth log's positions
  if (opt.oracle && !log.truth.empty()) oracle = std::make_unique<Engine>(make_engine_setup(sc, site));
  RunResult oracle_result;
  OutputCollector col(out, opt.observer);
  OutputCollector ocol(oracle_result);
  ScriptDriver driver(sc, engine);
  InputLog* ilog = opt.input_log;
  auto submit_both = [&](Input in) {
    if (ilog) ilog->estimated.push_back(in), ilog->truth.push_back(in);
    if (oracle) oracle->submit(in);
    engine.submit(std::move(in));
  };

  // log tag -> the person who carries it, and the engine's tag index
  struct TagOf {
    int person = -1, engine_tag = -1;
    const std::vector<TruthSample>* truth = nullptr;
  };
  std::vector<TagOf> tag_of(log.tags.size());
  for (std::size_t k = 0; k < log.tags.size(); ++k) {
    for (int i = 0; i < driver.person_count(); ++i)
      if (sc.people[static_cast<size_t>(i)].tag == log.tags[k]) tag_of[k] = {i, driver.tag_index(i), nullptr};
    auto it = log.truth.find(log.tags[k]);
    if (it != log.truth.end()) tag_of[k].truth = &it->second;
  }
  Solver solver(sc.site, solver_params(rp));
  for (const TagOf& t : tag_of)
    if (t.person >= 0) solver.set_floor(t.engine_tag, sc.people[static_cast<size_t>(t.person)].floor);
  // the site's range_offsets (calibration): the solver takes the anchors' by itself, the tags' by index
  std::vector<double> tag_offset(log.tags.size(), 0.0);
  for (std::size_t k = 0; k < log.tags.size(); ++k) {
    auto it = sc.site.range_offsets.tags.find(log.tags[k]);
    if (it == sc.site.range_offsets.tags.end()) continue;
    tag_offset[k] = it->second;
    if (tag_of[k].person >= 0) solver.set_tag_offset(tag_of[k].engine_tag, it->second);
  }
  std::vector<double> anchor_offset;
  for (const Anchor& a : sc.site.anchors) {
    auto it = sc.site.range_offsets.anchors.find(a.id);
    anchor_offset.push_back(it == sc.site.range_offsets.anchors.end() ? 0.0 : it->second);
  }

  std::vector<Epoch> epochs;
  group(log.ranges, false, sc.recorded.epoch, log.tags.size(), epochs);
  group(log.tdoa, true, sc.recorded.epoch, log.tags.size(), epochs);
  std::stable_sort(epochs.begin(), epochs.end(), [](const Epoch& a, const Epoch& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.tag != b.tag) return a.tag < b.tag;
    return a.tdoa < b.tdoa;
  });

  FixLog fixlog;
  if (!opt.fixes_csv.empty() && !fixlog.open_csv(opt.fixes_csv, error)) return false;
  AccuracyAccumulator acc2, acc3;
  std::vector<ResidualStats> residuals(sc.site.anchors.size());
  std::vector<RangeObs> ranges;
  std::vector<TdoaObs> diffs;
  struct HeldRange {
    Micros t = -1;  // the epoch it was heard in; -1: never
    RangeObs obs;
  };
  std::vector<std::vector<HeldRange>> last_range(log.tags.size(), std::vector<HeldRange>(sc.site.anchors.size()));
  std::vector<std::size_t> borrow;
  auto distinct_anchors = [](const std::vector<RangeObs>& v) {
    std::vector<int> ids;
    for (const RangeObs& o : v) ids.push_back(o.anchor);
    std::sort(ids.begin(), ids.end());
    return static_cast<std::size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
  };
  std::uint64_t solved_ranges = 0;
  Micros advanced = -1;
  auto advance = [&](Micros t) {
    if (t <= advanced) return;
    advanced = t;
    engine.advance_to(t);
    col.drain(engine);
    if (oracle) {
      oracle->advance_to(t);
      ocol.drain(*oracle);
    }
  };
  for (const Epoch& ep : epochs) {
    driver.play_until(ep.t, submit_both);
    // the engines run up to just before this epoch once a second of log time has passed
    if (ep.t - 1 - advanced >= kSecond) advance(ep.t - 1);
    const TagOf& who = tag_of[static_cast<size_t>(ep.tag)];
    const bool in_window = !sc.recorded.evaluate || (ep.t >= sc.recorded.evaluate->first && ep.t <= sc.recorded.evaluate->second);
    ++rec.epochs;
    if (in_window) ++rec.epochs_evaluated;
    std::optional<TruthPoint> truth;
    if (who.truth) truth = truth_at(*who.truth, ep.t);
    std::optional<SolvedFix> fix;
    if (ep.tdoa) {
      diffs.clear();
      for (std::size_t i : ep.rows) {
        const RecordedTdoa& d = log.tdoa[i];
        diffs.push_back({d.anchor_a, d.anchor_b, d.dd});
      }
      fix = solver.solve_tdoa(who.engine_tag, ep.t, diffs);
    } else {
      ranges.clear();
      for (std::size_t i : ep.rows) {
        const RecordedRange& r = log.ranges[i];
        ranges.push_back({r.anchor, r.d, r.rx_dbm, r.fp_dbm});
        // the residual against the truth at the range's own time (an epoch spans up to recorded.epoch)
        const std::optional<TruthPoint> at_range = who.truth ? truth_at(*who.truth, r.t) : std::nullopt;
        if (at_range) {
          const Anchor& a = sc.site.anchors[static_cast<size_t>(r.anchor)];
          const double dx = at_range->x - a.at[0], dy = at_range->y - a.at[1], dz = at_range->z - a.at[2];
          const double true_d = std::sqrt(dx * dx + dy * dy + dz * dz);
          // the range as the solver uses it: after the site's range_offsets
          residuals[static_cast<size_t>(r.anchor)].add(r.d - anchor_offset[static_cast<size_t>(r.anchor)] -
                                                       tag_offset[static_cast<size_t>(r.tag)] - true_d);
        }
      }
      rec.ranges += ranges.size();
      // too few anchors heard: borrow the missing anchors' latest ranges (newest first) within `hold`
      std::vector<HeldRange>& held = last_range[static_cast<size_t>(ep.tag)];
      const std::size_t fresh = ranges.size();
      if (sc.recorded.hold > 0 && distinct_anchors(ranges) < static_cast<std::size_t>(rp.min_anchors)) {
        borrow.clear();
        for (std::size_t a = 0; a < held.size(); ++a)
          if (held[a].t >= 0 && ep.t - held[a].t <= sc.recorded.hold &&
              std::none_of(ranges.begin(), ranges.end(), [&](const RangeObs& o) { return o.anchor == static_cast<int>(a); }))
            borrow.push_back(a);
        std::stable_sort(borrow.begin(), borrow.end(), [&](std::size_t x, std::size_t y) { return held[x].t > held[y].t; });
        for (std::size_t a : borrow) {
          if (distinct_anchors(ranges) >= static_cast<std::size_t>(rp.min_anchors)) break;
          RangeObs o = held[a].obs;
          o.age_s = to_seconds(ep.t - held[a].t);
          ranges.push_back(o);
        }
        rec.held_ranges += ranges.size() - fresh;
      }
      for (std::size_t k = 0; k < fresh; ++k) held[static_cast<size_t>(ranges[k].anchor)] = {ep.t, ranges[k]};
      fix = solver.solve_twr(who.engine_tag, ep.t, ranges);
    }
    if (truth && oracle) {
      FixInput tf;
      tf.tag = who.engine_tag;
      tf.x = truth->x;
      tf.y = truth->y;
      tf.z = truth->z;
      const std::string fl = floor_at(sc.site, truth->x, truth->y, truth->z);
      tf.floor = fl.empty() ? -1 : engine.floor_index(fl);
      if (ilog) ilog->truth.push_back({ep.t, 0, tf});
      oracle->submit({ep.t, 0, tf});
    }
    if (!fix) {
      ++rec.no_fix[to_string(solver.last_no_fix())];
      continue;
    }
    ++rec.fixed;
    if (in_window) ++rec.fixed_evaluated;
    if (!ep.tdoa) solved_ranges += ranges.size();
    rec.nlos_suspected += static_cast<std::uint64_t>(fix->nlos_suspected);
    FixInput f;
    f.tag = who.engine_tag;
    f.x = fix->x;
    f.y = fix->y;
    f.z = fix->z;
    f.floor = fix->floor.empty() ? -1 : engine.floor_index(fix->floor);
    FixRow row{ep.t, log.tags[static_cast<size_t>(ep.tag)], fix->x, fix->y, fix->z, fix->floor, std::nullopt, std::nullopt};
    if (truth) {
      row.error_2d = std::hypot(fix->x - truth->x, fix->y - truth->y);
      row.error_3d = std::sqrt(*row.error_2d * *row.error_2d + (fix->z - truth->z) * (fix->z - truth->z));
      if (in_window) {
        acc2.add(*row.error_2d);
        acc3.add(*row.error_3d);
      }
    }
    fixlog.add(row);
    if (opt.history)
      opt.history->fix({sc.people[static_cast<size_t>(who.person)].id, history_ms(sc, fix->t_available), to_cm(f.x), to_cm(f.y),
                        to_cm(f.z), fix->floor});
    if (opt.observer)
      opt.observer->fix(fix->t_available, sc.people[static_cast<size_t>(who.person)].id, *sc.people[static_cast<size_t>(who.person)].tag, f,
                        fix->floor);
    if (ilog) {
      ilog->estimated.push_back({fix->t_available, 0, f});
      if (row.error_2d) ilog->fix_errors.emplace_back(fix->t_available, *row.error_2d);
    }
    engine.submit({fix->t_available, 0, f});
    ++out.fixes;
  }
  driver.play_all(submit_both);
  advance(sc.duration);
  if (!fixlog.close(error)) return false;
  finish_result(engine, out);
  out.fix_hash = fixlog.hash_hex();
  if (opt.history) feed_history(sc, out, *opt.history, sc.clock.start_unix_s * 1000);

  rec.nlos_share = solved_ranges ? static_cast<double>(rec.nlos_suspected) / static_cast<double>(solved_ranges) : 0;
  for (std::size_t a = 0; a < residuals.size(); ++a) {
    const ResidualStats& r = residuals[a];
    if (r.hist.n() == 0) continue;
    AnchorResidual ar;
    ar.anchor = sc.site.anchors[a].id;
    ar.n = r.hist.n();
    const double n = static_cast<double>(ar.n);
    ar.bias = r.sum / n;
    ar.spread = std::sqrt(std::max(0.0, r.sumsq / n - ar.bias * ar.bias));
    ar.median = r.hist.quantile(0.5);
    ar.p95 = r.hist.quantile(0.95);
    rec.anchors.push_back(ar);
  }
  if (!log.truth.empty()) {
    const AccuracyFigures f3 = acc3.figures();
    out.accuracy = accuracy_stats(acc2.figures(), &f3);
  }
  if (oracle) compare_with_oracle(oracle->alarms(), out.alarms, out);

  if (sc.recorded.twin_scenario) {
    const Scenario& tw = *sc.recorded.twin_scenario;
    RunOptions o;
    o.threads = opt.threads;
    o.radio_link_stats = false;
    o.oracle = false;
    RunResult tr;
    if (!run_scenario(tw, o, tr, error)) return false;
    out.twin = TwinReport{tw.name, tw.file, tr.accuracy.value_or(AccuracyStats{}), tr.fixes};
  }
  check_expectations(sc, out);
  return true;
}

}  // namespace planttwin
