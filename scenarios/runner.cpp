#include "scenarios/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include <filesystem>

#include "engine/byte_codec.h"
#include "engine/checkpoint.h"
#include "scenarios/cameras.h"
#include "scenarios/driver.h"
#include "scenarios/loader.h"
#include "scenarios/slice_worker.h"
#include "sim/motion.h"
#include "sim/radio/plant_los.h"
#include "sim/radio/positioning.h"

namespace planttwin {

namespace {

constexpr std::uint64_t kNoiseStream = 1;  // stream id of the truth-mode fix noise

std::string fmt_s(Micros t) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f s", to_seconds(t));
  return b;
}

bool in_window(const std::optional<std::pair<Micros, Micros>>& w, Micros t) {
  return !w || (t >= w->first && t <= w->second);
}

bool alarm_matches(const Expectation& x, const Alarm& a) {
  if (a.type != x.type) return false;
  if (x.code && a.code != *x.code) return false;
  if (x.who && std::find(a.who.begin(), a.who.end(), *x.who) == a.who.end()) return false;
  if (x.zone && a.zone != *x.zone) return false;
  if (x.permit && a.permit != *x.permit) return false;
  return true;
}

std::string describe_events(const AlarmLog& alarms, AlarmType type, size_t limit) {
  std::string s;
  size_t n = 0;
  for (const Alarm& a : alarms) {
    if (a.type != type) continue;
    for (const AlarmEvent& e : a.events) {
      if (n++ >= limit) return s + "; ...";
      if (!s.empty()) s += "; ";
      s += a.id + " " + to_string(e.kind) + " at " + fmt_s(e.t) + (e.level == AlarmLevel::none ? "" : std::string(" (") + to_string(e.level) + ")");
      if (!a.who.empty()) {
        s += " who=";
        for (size_t i = 0; i < a.who.size(); ++i) s += (i ? "," : "") + a.who[i];
      }
      if (!a.zone.empty()) s += " zone=" + a.zone;
    }
  }
  return s.empty() ? std::string("no ") + to_string(type) + " alarm at all" : s;
}

ExpectationResult check(const Scenario& sc, const Expectation& x, const RunResult& r) {
  ExpectationResult res;
  res.req = x.req;
  res.text = x.text;
  char buf[256];
  switch (x.kind) {
    case Expectation::Kind::alarm: {
      AlarmEventKind want = AlarmEventKind::raised;
      parse_alarm_event(x.event, want);
      int n = 0;
      std::string found;
      for (const Alarm& a : r.alarms) {
        if (!alarm_matches(x, a)) continue;
        for (const AlarmEvent& e : a.events) {
          if (e.kind != want || !in_window(x.window, e.t)) continue;
          if (x.level && e.level != *x.level) continue;
          ++n;
          if (found.size() < 400) found += (found.empty() ? "" : "; ") + a.id + " " + x.event + " at " + fmt_s(e.t) + " (" + to_string(e.level) + ")";
        }
      }
      res.passed = x.count ? n == *x.count : n >= 1;
      if (res.passed) {
        res.detail = found;
      } else {
        std::snprintf(buf, sizeof buf, "expected %s%d matching %s event(s) in [%s, %s], found %d", x.count ? "exactly " : "at least ",
                      x.count ? *x.count : 1, x.event.c_str(), fmt_s(x.window->first).c_str(), fmt_s(x.window->second).c_str(), n);
        res.detail = std::string(buf) + (found.empty() ? "" : ": " + found) + ". Events of this type: " + describe_events(r.alarms, x.type, 8);
      }
      break;
    }
    case Expectation::Kind::no_alarm: {
      std::string found;
      for (const Alarm& a : r.alarms) {
        if (!alarm_matches(x, a)) continue;
        for (const AlarmEvent& e : a.events) {
          const bool counts = e.kind == AlarmEventKind::raised || (x.level && e.kind == AlarmEventKind::escalated);
          if (!counts || !in_window(x.window, e.t)) continue;
          if (x.level && e.level != *x.level) continue;
          found += (found.empty() ? "" : "; ") + a.id + " " + to_string(e.kind) + " at " + fmt_s(e.t) + " (" + to_string(e.level) + ")";
        }
      }
      res.passed = found.empty();
      res.detail = res.passed ? "no such alarm" + (x.window ? " in [" + fmt_s(x.window->first) + ", " + fmt_s(x.window->second) + "]" : std::string())
                              : "raised: " + found;
      break;
    }
    case Expectation::Kind::zone_count: {
      int count = 0;
      auto it = r.zone_counts.find(x.zone.value_or(""));
      if (it != r.zone_counts.end())
        for (const ZoneCountSample& s : it->second)
          if (s.t <= x.at) count = s.count;
      res.passed = count == x.expected_count;
      std::snprintf(buf, sizeof buf, "headcount of %s at %s: %d (expected %d)", x.zone.value_or("").c_str(), fmt_s(x.at).c_str(), count,
                    x.expected_count);
      res.detail = buf;
      break;
    }
    case Expectation::Kind::refused: {
      std::string found;
      for (const Refusal& f : r.refusals) {
        if (f.permit != x.permit.value_or("") || f.action != x.action) continue;
        if (x.code && std::find(f.codes.begin(), f.codes.end(), to_string(*x.code)) == f.codes.end()) continue;
        found = "refused at " + fmt_s(f.t);
        break;
      }
      res.passed = !found.empty();
      res.detail = res.passed ? found : "no refusal of " + x.action + " on " + x.permit.value_or("") + (x.code ? std::string(" with code ") + to_string(*x.code) : "");
      break;
    }
    case Expectation::Kind::permit_status: {
      std::string status = "(none)";
      auto it = r.statuses.find(x.permit.value_or(""));
      if (it != r.statuses.end())
        for (const auto& [t, st] : it->second)
          if (t <= x.at) status = st;
      res.passed = status == x.status;
      res.detail = "status of " + x.permit.value_or("") + " at " + fmt_s(x.at) + ": " + status + " (expected " + x.status + ")";
      if (status == "(none)") res.detail += it == r.statuses.end() ? "; it was never created" : "; it did not exist yet";
      break;
    }
    case Expectation::Kind::camera_call: {
      for (const Alarm& a : r.alarms)
        if (a.type == x.type && std::find(a.cameras.begin(), a.cameras.end(), x.camera) != a.cameras.end()) {
          res.passed = true;
          res.detail = a.id + " named camera " + x.camera;
          break;
        }
      if (!res.passed) res.detail = std::string("no ") + to_string(x.type) + " alarm named camera " + x.camera;
      break;
    }
    case Expectation::Kind::accuracy: {
      const AccuracyStats a = r.accuracy.value_or(AccuracyStats{});
      res.passed = (!x.cdf68_max || a.cdf68 <= *x.cdf68_max) && (!x.cdf95_max || a.cdf95 <= *x.cdf95_max) &&
                   (!x.median_max || a.median <= *x.median_max) && (!x.rmse_max || a.rmse <= *x.rmse_max) &&
                   (!x.max_max || a.max <= *x.max_max) && (r.accuracy || !(x.median_max || x.rmse_max || x.max_max));
      std::snprintf(buf, sizeof buf, "cdf68 %.3f m, cdf95 %.3f m over %zu fixes", a.cdf68, a.cdf95, a.n);
      res.detail = buf;
      if (x.median_max || x.rmse_max || x.max_max) {
        std::snprintf(buf, sizeof buf, "; median %.3f m, RMSE %.3f m, max %.3f m", a.median, a.rmse, a.max);
        res.detail += buf;
      }
      if (!r.accuracy) res.detail += " (no accuracy: the run has no truth to compare with)";
      if (x.fix_share_min) {
        const double share = r.recorded ? r.recorded->fix_share() : 0;
        const bool ok = r.recorded && share >= *x.fix_share_min;
        res.passed = res.passed && ok;
        if (r.recorded)
          std::snprintf(buf, sizeof buf, "; fixes for %.1f %% of %llu epochs (at least %.1f %% asked)", 100 * share,
                        static_cast<unsigned long long>(r.recorded->epochs_evaluated), 100 * *x.fix_share_min);
        else
          std::snprintf(buf, sizeof buf, "; fix_share_min needs positioning: recorded");
        res.detail += buf;
      }
      if (x.fixes_min) {
        const bool ok = r.recorded && r.recorded->fixed_evaluated >= *x.fixes_min;
        res.passed = res.passed && ok;
        if (r.recorded)
          std::snprintf(buf, sizeof buf, "; %llu fixes in the evaluation window (at least %llu asked)",
                        static_cast<unsigned long long>(r.recorded->fixed_evaluated), static_cast<unsigned long long>(*x.fixes_min));
        else
          std::snprintf(buf, sizeof buf, "; fixes_min needs positioning: recorded");
        res.detail += buf;
      }
      if (x.twin_cdf68_within) {
        const bool have = r.twin && a.cdf68 > 0;
        const double rel = have ? std::fabs(r.twin->accuracy.cdf68 - a.cdf68) / a.cdf68 : 0;
        res.passed = res.passed && have && rel <= *x.twin_cdf68_within;
        if (have)
          std::snprintf(buf, sizeof buf, "; simulated twin cdf68 %.3f m, %.1f %% from the measured (at most %.1f %% asked)",
                        r.twin->accuracy.cdf68, 100 * rel, 100 * *x.twin_cdf68_within);
        else
          std::snprintf(buf, sizeof buf, "; no simulated twin result to compare");
        res.detail += buf;
      }
      break;
    }
    case Expectation::Kind::alarm_quality: {
      const AlarmQuality q = r.alarm_quality.value_or(AlarmQuality{});
      res.passed = (!x.missed_max || q.missed <= *x.missed_max) && (!x.false_max || q.false_rate <= *x.false_max);
      std::snprintf(buf, sizeof buf, "missed %.3f, false %.3f (oracle alarms %zu, estimated %zu)", q.missed, q.false_rate, q.compared,
                    q.estimated);
      res.detail = buf;
      break;
    }
    case Expectation::Kind::alarm_delay: {
      const DelayStats d = r.alarm_delay.value_or(DelayStats{});
      res.passed = !x.p95_max || d.p95 <= *x.p95_max;
      std::snprintf(buf, sizeof buf, "delay p50 %.3f s, p95 %.3f s, max %.3f s over %zu alarms", d.p50, d.p95, d.max, d.n);
      res.detail = buf;
      break;
    }
    case Expectation::Kind::radio_link: {
      const RadioLinkReport* l = nullptr;
      if (r.radio)
        for (const RadioLinkReport& k : *r.radio)
          if (k.tag == x.tag && k.anchor == x.anchor) l = &k;
      if (!l) {
        res.detail = "no measurement on link " + x.tag + "-" + x.anchor + (r.radio ? "" : " (the run is not simulated)");
        break;
      }
      auto within = [](const std::optional<std::pair<double, double>>& b, double v) { return !b || (v >= b->first && v <= b->second); };
      res.passed = within(x.median, l->error_median) && within(x.p95, l->error_p95) && within(x.nlos_share, l->nlos_share) &&
                   within(x.dropped_share, l->dropped_share);
      std::snprintf(buf, sizeof buf, "link %s-%s: error median %.3f m, p95 %.3f m, nlos %.3f, dropped %.3f over %zu tries",
                    x.tag.c_str(), x.anchor.c_str(), l->error_median, l->error_p95, l->nlos_share, l->dropped_share, l->n);
      res.detail = buf;
      auto show = [&](const char* what, const std::optional<std::pair<double, double>>& b) {
        if (!b) return;
        std::snprintf(buf, sizeof buf, "; %s in [%.3f, %.3f]", what, b->first, b->second);
        res.detail += buf;
      };
      show("median", x.median);
      show("p95", x.p95);
      show("nlos", x.nlos_share);
      show("dropped", x.dropped_share);
      break;
    }
  }
  (void)sc;
  return res;
}



}  // namespace

double quantile_nearest_rank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = std::ceil(q * static_cast<double>(v.size()));
  const size_t idx = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size()))) - 1;
  return v[idx];
}

void feed_history(const Scenario& sc, const RunResult& r, HistorySink& h, std::int64_t start_unix_ms) {
  auto ms = [start_unix_ms](Micros t) { return start_unix_ms + (t >= 0 ? t / kMillisecond : -((-t + kMillisecond - 1) / kMillisecond)); };
  for (const PersonDef& p : sc.people) h.person({p.id, p.name, to_string(p.category)});
  for (const EntryRecord& en : r.entries) h.zone_entry({ms(en.t), en.zone, to_string(en.category), 1});
  for (const Alarm& a : r.alarms) {
    HistoryAlarm ha;
    ha.run = sc.name;
    ha.id = a.id, ha.type = to_string(a.type), ha.level = to_string(a.level), ha.code = to_string(a.code), ha.zone = a.zone,
    ha.permit = a.permit, ha.floor = a.floor;
    ha.who = a.who;
    ha.x_cm = to_cm(a.pos.x), ha.y_cm = to_cm(a.pos.y);
    ha.status = a.handling_status();
    for (const AlarmEvent& e : a.events) ha.events.push_back({ms(e.t), to_string(e.kind), to_string(e.level), e.by, e.note});
    h.alarm(ha);
  }
  for (const PermitRecord& p : r.permits) {
    HistoryPermit hp;
    hp.run = sc.name;
    hp.id = p.id, hp.type = p.type, hp.grade = p.grade, hp.status = to_string(p.status);
    for (const auto& [t, e] : p.history) hp.events.emplace_back(ms(t), e);
    h.permit(hp);
  }
  h.flush();
}

EngineSetup make_engine_setup(const Scenario& sc, const std::shared_ptr<const Site>& site) {
  EngineSetup setup;
  setup.site = site;
  setup.clock = sc.clock;
  for (const PersonDef& p : sc.people) {
    PersonSetup ps;
    ps.id = p.id;
    ps.name = p.name;
    ps.category = p.category;
    ps.roles = p.roles;
    ps.company = p.company;
    ps.tag = p.tag.value_or("");
    for (const CertificateDef& c : p.certificates) ps.certificates.push_back({c.type, c.number, c.expires_day, c.holder});
    setup.people.push_back(std::move(ps));
  }
  for (const DutyShift& d : sc.duty) setup.duty.push_back({d.person, d.from, d.to});
  // video linkage (PL-13): which cameras see which spot, from the 3D model
  setup.cameras = camera_visibility_for(*site, sc.site_sha256);
  return setup;
}

void OutputCollector::drain(Engine& e) {
  for (const Output& o : e.outputs()) {
    if (observer_) observer_->output(e, o);
    if (const auto* a = std::get_if<AlarmOutput>(&o.body)) {
      const Alarm& al = e.alarms()[static_cast<size_t>(a->alarm)];
      r_.canonical_stream += canonical_alarm_line(al, al.events[static_cast<size_t>(a->event)]);
    } else if (const auto* w = std::get_if<WarnOutput>(&o.body)) {
      r_.warns.push_back({o.t, w->tag, w->alarm_id, w->reason});
    } else if (const auto* z = std::get_if<ZoneCountOutput>(&o.body)) {
      r_.zone_counts[e.site().zones[static_cast<size_t>(z->zone)].id].push_back({o.t, z->count, z->by_category});
    } else if (const auto* f = std::get_if<RefusalOutput>(&o.body)) {
      r_.refusals.push_back({o.t, f->permit, f->action, f->codes});
    } else if (const auto* st = std::get_if<StatusOutput>(&o.body)) {
      r_.statuses[st->id].emplace_back(o.t, st->status);
    } else if (const auto* en = std::get_if<EntryOutput>(&o.body)) {
      r_.entries.push_back({o.t, e.site().zones[static_cast<size_t>(en->zone)].id, e.person(en->person).id, en->category});
    }
  }
  e.clear_outputs();
  if (observer_) observer_->advanced(e.now());
}


// Alarms from estimated positions against the oracle twin's (AQ 3064.3 7.3.2): an alarm matches
// when type and people agree and the raise times are within 10 s.
void compare_with_oracle(const AlarmLog& oracle, const AlarmLog& est, RunResult& r) {
  constexpr Micros kMatchWindow = 10 * kSecond;
  auto comparable = [](const Alarm& a) { return a.type != AlarmType::unacknowledged; };
  std::vector<char> used(est.size(), 0);
  std::vector<double> delays;
  AlarmQuality q;
  size_t missed = 0;
  for (const Alarm& o : oracle) {
    if (!comparable(o)) continue;
    ++q.compared;
    RuleQuality& rule = q.by_type[to_string(o.type)];
    ++rule.compared;
    int best = -1;
    for (size_t i = 0; i < est.size(); ++i) {
      const Alarm& a = est[i];
      if (used[i] || !comparable(a) || a.type != o.type || a.who != o.who) continue;
      if (std::llabs(a.raised_at - o.raised_at) > kMatchWindow) continue;
      best = static_cast<int>(i);
      break;
    }
    if (best < 0) {
      ++missed;
      ++rule.missed;
      continue;
    }
    used[static_cast<size_t>(best)] = 1;
    delays.push_back(to_seconds(est[static_cast<size_t>(best)].raised_at - o.raised_at));
  }
  size_t false_n = 0;
  for (size_t i = 0; i < est.size(); ++i) {
    if (!comparable(est[i])) continue;
    ++q.estimated;
    RuleQuality& rule = q.by_type[to_string(est[i].type)];
    ++rule.estimated;
    if (!used[i]) ++false_n, ++rule.false_alarms;
  }
  q.missed = q.compared ? static_cast<double>(missed) / static_cast<double>(q.compared) : 0;
  q.false_rate = q.estimated ? static_cast<double>(false_n) / static_cast<double>(q.estimated) : 0;
  r.alarm_quality = q;
  DelayStats d;
  d.n = delays.size();
  if (!delays.empty()) {
    d.p50 = quantile_nearest_rank(delays, 0.5);
    d.p95 = quantile_nearest_rank(delays, 0.95);
    d.max = *std::max_element(delays.begin(), delays.end());
  }
  d.delays = std::move(delays);
  r.alarm_delay = d;
}

void finish_result(const Engine& engine, RunResult& r) {
  r.alarms = engine.alarms();
  r.permits = engine.permits();
  r.counters = engine.counters();
  r.stats = engine.stats();
  r.hash = sha256_hex(r.canonical_stream);
}

void check_expectations(const Scenario& sc, RunResult& r) {
  r.expectations.clear();
  r.passed = true;
  for (size_t i = 0; i < sc.expect.size(); ++i) {
    ExpectationResult er = check(sc, sc.expect[i], r);
    er.index = static_cast<int>(i);
    r.passed = r.passed && er.passed;
    r.expectations.push_back(std::move(er));
  }
}

// ---- checkpoints (docs/checkpoint.md) ----------------------------------------------------------

// What the runner has collected so far: the outputs that make the report.
void put_collected(ByteWriter& w, const RunResult& r) {
  w.str(r.canonical_stream);
  w.size(r.warns.size());
  for (const WarnRecord& x : r.warns) w.i64(x.t), w.str(x.tag), w.str(x.alarm_id), w.str(x.reason);
  w.size(r.entries.size());
  for (const EntryRecord& x : r.entries) w.i64(x.t), w.str(x.zone), w.str(x.person), w.u8(static_cast<std::uint8_t>(x.category));
  w.size(r.zone_counts.size());
  for (const auto& [zone, v] : r.zone_counts) {
    w.str(zone);
    w.size(v.size());
    for (const ZoneCountSample& x : v) {
      w.i64(x.t), w.i32(x.count);
      for (int c : x.by_category) w.i32(c);
    }
  }
  w.size(r.statuses.size());
  for (const auto& [id, v] : r.statuses) {
    w.str(id);
    w.size(v.size());
    for (const auto& [t, st] : v) w.i64(t), w.str(st);
  }
  w.size(r.refusals.size());
  for (const Refusal& x : r.refusals) w.i64(x.t), w.str(x.permit), w.str(x.action), w.strs(x.codes);
  w.u64(r.fixes);
}

void get_collected(ByteReader& rd, RunResult& r) {
  r.canonical_stream = rd.str();
  r.warns.resize(rd.size(32));
  for (WarnRecord& x : r.warns) x.t = rd.i64(), x.tag = rd.str(), x.alarm_id = rd.str(), x.reason = rd.str();
  r.entries.resize(rd.size(33));
  for (EntryRecord& x : r.entries) x.t = rd.i64(), x.zone = rd.str(), x.person = rd.str(), x.category = rd.enumeration<Category>(kCategoryCount);
  std::size_t n = rd.size(16);
  for (std::size_t i = 0; i < n && rd.ok(); ++i) {
    std::vector<ZoneCountSample>& v = r.zone_counts[rd.str()];
    v.resize(rd.size(28));
    for (ZoneCountSample& x : v) {
      x.t = rd.i64(), x.count = rd.i32();
      for (int& c : x.by_category) c = rd.i32();
    }
  }
  n = rd.size(16);
  for (std::size_t i = 0; i < n && rd.ok(); ++i) {
    auto& v = r.statuses[rd.str()];
    v.resize(rd.size(16));
    for (auto& [t, st] : v) t = rd.i64(), st = rd.str();
  }
  r.refusals.resize(rd.size(32));
  for (Refusal& x : r.refusals) x.t = rd.i64(), x.permit = rd.str(), x.action = rd.str(), x.codes = rd.strs();
  r.fixes = static_cast<std::size_t>(rd.u64());
}

CheckpointMeta checkpoint_meta(const Scenario& sc, const Engine& engine, Micros t, std::string positioning) {
  CheckpointMeta m;
  m.scenario = sc.name;
  m.scenario_sha256 = sc.scenario_sha256;
  m.site = sc.site.name;
  m.site_sha256 = sc.site_sha256;
  m.model_fingerprint = engine.model().fingerprint;
  m.engine_layout = kEngineStateLayout;
  m.t = t;
  m.positioning = std::move(positioning);
  m.writer = std::string("planttwin ") + PLANTTWIN_VERSION;
  return m;
}

namespace {

enum class RunnerMode : std::uint8_t { truth = 0, simulated = 1 };

// Writes checkpoints every `every` of engine time.
class Checkpointer {
 public:
  Checkpointer(const Scenario& sc, const RunOptions& opt) : sc_(sc), every_(opt.checkpoint_every), dir_(opt.checkpoint_dir) {
    next_ = every_ > 0 ? every_ : kNever;
  }
  // Checkpoints fall at multiples of `every`: one is due once everything before a multiple has
  // been decided, i.e. when the run has decided everything at or before t with t + 1 us >= it.
  bool due(Micros t) const { return t + 1 >= next_; }
  // after a checkpoint (or a resume) at t: the next multiple of `every` after t + 1 us
  void resumed_at(Micros t) {
    if (every_ > 0) next_ = ((t + 1) / every_ + 1) * every_;
  }
  bool write(Micros t, const Engine& engine, const Engine* oracle, std::string runner, std::string sim, RunResult& out,
             std::string& error) {
    RunCheckpoint c;
    c.meta = checkpoint_meta(sc_, engine, t, sc_.positioning.mode == Positioning::Mode::simulated ? "simulated" : "truth");
    c.engine = encode_state(engine.state());
    if (oracle) c.oracle = encode_state(oracle->state());
    c.runner = std::move(runner);
    c.sim = std::move(sim);
    const std::string path = (std::filesystem::path(dir_) / checkpoint_file_name(sc_.name, t)).string();
    if (!write_checkpoint_file(path, c, error)) return false;
    out.checkpoints.push_back(path);
    resumed_at(t);
    return true;
  }

 private:
  const Scenario& sc_;
  Micros every_;
  std::string dir_;
  Micros next_ = kNever;
};

// Restores an engine (and the oracle twin) from a checkpoint that belongs to this scenario.
bool restore_engines(const Scenario& sc, const RunCheckpoint& ck, Engine& engine, Engine* oracle, std::string& error) {
  std::string why;
  const std::string mode = sc.positioning.mode == Positioning::Mode::simulated ? "simulated" : "truth";
  if (!checkpoint_matches(ck.meta, sc, engine.model().fingerprint, why)) {
    error = sc.file + ": cannot resume: " + why;
    return false;
  }
  if (ck.meta.positioning != mode) {
    error = sc.file + ": cannot resume: the checkpoint is of a " + ck.meta.positioning + " run, this scenario's positioning is " + mode;
    return false;
  }
  EngineState st;
  if (!decode_state(ck.engine, st, why) || !engine.restore(std::move(st), &why)) {
    error = sc.file + ": cannot resume: damaged checkpoint: " + why;
    return false;
  }
  if (oracle) {
    if (ck.oracle.empty()) {
      error = sc.file + ": cannot resume: the checkpoint has no oracle twin, this run needs one";
      return false;
    }
    EngineState os;
    if (!decode_state(ck.oracle, os, why) || !oracle->restore(std::move(os), &why)) {
      error = sc.file + ": cannot resume: damaged checkpoint (oracle): " + why;
      return false;
    }
  }
  return true;
}

void ignore_input(Input) {}

}  // namespace

namespace {

// Simulated positioning (H-02): every tag blinks at its own instants (in phase at k / fix_rate,
// or ALOHA intervals uniform over 0..2 RI); each blink's true pose goes through line of sight,
// radio links and the solver, and the fix reaches the engine at t_available. The oracle twin gets
// the true pose at the blink's time. Time advances in slices of one reporting interval: blinks of
// a slice are taken in (t, tag) order, script actions are played up to each blink's time before
// its pose is read, and the engines advance to the slice's end once its fixes are submitted.
bool run_simulated(const Scenario& sc, const RunOptions& opt, RunResult& out, std::string& error) {
  RadioParams params = radio_defaults(sc.site);
  std::string key, message;
  if (!apply_radio_overrides(sc.radio, params, key, message)) {
    error = sc.file + ": radio." + key + ": " + message;
    return false;
  }
  std::unique_ptr<LineOfSight> los = make_plant_los(sc.site, message);
  if (!los) {
    error = sc.file + ": site: " + message;
    return false;
  }
  out = RunResult{};
  auto site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, site));
  std::unique_ptr<Engine> oracle;  // the twin on true positions
  if (opt.oracle) oracle = std::make_unique<Engine>(make_engine_setup(sc, site));
  RunResult oracle_result;
  OutputCollector col(out, opt.observer);
  OutputCollector ocol(oracle_result);
  ScriptDriver driver(sc, engine);
  // radio.device.stamp_delay: the radio ranges where the tag was `stamp_delay` before the stamp; a
  // second driver plays the script that much behind (its inputs are dropped: it only moves people)
  std::unique_ptr<ScriptDriver> lagging;
  if (params.stamp_delay > 0) lagging = std::make_unique<ScriptDriver>(sc, engine);
  auto ranged_pose = [&](int person, Micros t, const TruthPose& now) {
    if (!lagging) return now;
    const Micros at = std::max<Micros>(0, t - params.stamp_delay);
    lagging->play_until(at, ignore_input);
    return lagging->pose(person, at);
  };
  InputLog* log = opt.input_log;
  // A slice's engine inputs, in the order they are submitted, and the fixes the observer sees. With
  // two threads or more (`threads`, below) a slice is applied to the engine on one worker and to the
  // oracle twin on another while this thread draws the next slice's blinks, rays, radio and fixes;
  // the engines get the same inputs in the same order either way, so no result depends on it. The
  // workers own the engine and the oracle twin, their collectors and what those fill in `out` and
  // `oracle_result` (not `out.fixes`) from post() to the next post() or wait(): the checkpoints and
  // the end of the run wait for them.
  struct ObservedFix {
    Micros t;
    int person;
    FixInput f;
    std::string floor;
  };
  struct SliceInputs {
    std::vector<Input> engine, oracle;
    std::vector<ObservedFix> observed;
    Micros until = 0;
  };
  SliceInputs slices[2];  // the slice being filled, and the one the workers may be applying
  int filling = 0;
  auto submit_both = [&](Input in) {
    if (log) log->estimated.push_back(in), log->truth.push_back(in);
    if (oracle) slices[filling].oracle.push_back(in);
    slices[filling].engine.push_back(std::move(in));
  };
  auto apply_engine = [&](SliceInputs& in) {
    for (Input& i : in.engine) engine.submit(std::move(i));
    if (opt.observer)
      for (const ObservedFix& o : in.observed)
        opt.observer->fix(o.t, sc.people[static_cast<size_t>(o.person)].id, *sc.people[static_cast<size_t>(o.person)].tag, o.f, o.floor);
    engine.advance_to(in.until);
    col.drain(engine);
    in.engine.clear(), in.observed.clear();
  };
  auto apply_oracle = [&](SliceInputs& in) {
    if (!oracle) return;
    for (Input& i : in.oracle) oracle->submit(std::move(i));
    oracle->advance_to(in.until);
    ocol.drain(*oracle);
    in.oracle.clear();
  };
  // the engine on one worker and the oracle twin on another: they share nothing but the slice's
  // inputs, each reading (and clearing) its own
  // (a run of few tags stays on one thread: RunOptions::threaded_min_tags)
  int tags = 0;
  for (int i = 0; i < driver.person_count(); ++i) tags += driver.tag_index(i) >= 0;
  const int threads = tags >= opt.threaded_min_tags ? std::max(1, opt.threads) : 1;
  std::unique_ptr<SliceWorker> worker, oracle_worker;
  if (threads >= 2) {
    worker = std::make_unique<SliceWorker>();
    if (oracle) oracle_worker = std::make_unique<SliceWorker>();
  }
  auto apply_filled = [&] {
    SliceInputs& in = slices[filling];
    filling ^= 1;
    if (worker) worker->post([&apply_engine, &in] { apply_engine(in); });
    else apply_engine(in);
    if (oracle_worker) oracle_worker->post([&apply_oracle, &in] { apply_oracle(in); });
    else apply_oracle(in);
  };
  auto engines_done = [&] {
    if (worker) worker->wait();
    if (oracle_worker) oracle_worker->wait();
  };
  SimulatedPositioning pipe(sc.site, params, *los, sc.seed, PipelineOptions{threads, opt.radio_link_stats});

  // tag index -> tag id, for the report
  std::vector<std::string> tag_name;
  for (int i = 0; i < driver.person_count(); ++i) {
    const int ti = driver.tag_index(i);
    if (ti < 0) continue;
    if (static_cast<size_t>(ti) >= tag_name.size()) tag_name.resize(static_cast<size_t>(ti) + 1);
    tag_name[static_cast<size_t>(ti)] = *sc.people[static_cast<size_t>(i)].tag;
  }
  const Micros ri = std::max<Micros>(1, from_seconds(1.0 / sc.fix_rate));
  const bool jitter = params.jitter();
  struct TagClock {
    int person = -1;
    Micros next = 0;
    std::uint64_t n = 0;
    LinkRandom rng{0};
  };
  std::vector<TagClock> clocks;
  for (int i : driver.fix_order()) {
    if (driver.tag_index(i) < 0) continue;
    TagClock c;
    c.person = i;
    c.rng = LinkRandom(stream_seed(stream_seed(sc.seed, kBlinkTimingStream), static_cast<std::uint64_t>(driver.tag_index(i))));
    if (jitter) c.next = static_cast<Micros>(c.rng.uniform() * static_cast<double>(ri));
    clocks.push_back(c);
  }

  AccuracyAccumulator accuracy, accuracy3;
  FixLog fixlog;
  std::optional<std::uint64_t> csv_bytes;  // fixes.csv's length at the checkpoint resumed from
  std::vector<ErrorHistogram> survey(sc.site.survey_points.size(), ErrorHistogram(0.0, 20.0, 0.001));
  Checkpointer checkpoints(sc, opt);
  Micros s0 = 0;  // the first slice to run
  if (opt.resume) {
    const RunCheckpoint& ck = *opt.resume;
    if (!restore_engines(sc, ck, engine, oracle.get(), error)) return false;
    ByteReader rd(ck.runner);
    const RunnerMode mode = rd.enumeration<RunnerMode>(2);
    s0 = rd.i64();
    const std::size_t n = rd.size(28);
    bool ok = mode == RunnerMode::simulated && n == clocks.size() && s0 >= 0;
    for (TagClock& c : clocks) {
      ok = ok && rd.i32() == c.person;
      c.next = rd.i64();
      c.n = rd.u64();
      ok = c.rng.load(rd) && ok;
    }
    get_collected(rd, out);
    ok = accuracy.load(rd) && ok;
    ok = accuracy3.load(rd) && ok;
    ok = ok && rd.size(16) == survey.size();
    for (ErrorHistogram& h : survey) ok = h.load(rd) && ok;
    std::uint64_t bytes = 0;
    ok = fixlog.load(rd, bytes) && ok;
    csv_bytes = bytes;
    if (!ok || !rd.ok() || !rd.at_end()) {
      error = sc.file + ": cannot resume: damaged checkpoint: runner state: " + (rd.ok() ? std::string("inconsistent") : rd.error());
      return false;
    }
    ByteReader sim(ck.sim);
    if (!pipe.load(sim) || !sim.at_end()) {
      error = sc.file + ": cannot resume: damaged checkpoint: simulator state: " + (sim.ok() ? std::string("left-over bytes") : sim.error());
      return false;
    }
    driver.play_until(ck.meta.t, ignore_input);  // the script's truth up to the checkpoint
    checkpoints.resumed_at(ck.meta.t);
    out.resumed_at = to_seconds(ck.meta.t);
  }
  if (!opt.fixes_csv.empty() && !fixlog.open_csv(opt.fixes_csv, error, csv_bytes)) return false;
  struct Pending {
    int person;
    TruthPose pose;
  };
  std::vector<std::pair<Micros, int>> due;  // (t, clock index)
  std::vector<Blink> blinks;
  std::vector<Pending> truth;
  std::vector<SimFix> fixes;
  for (Micros s = s0; s <= sc.duration; s += ri) {
    const Micros e = s + ri;  // the slice [s, e)
    due.clear();
    for (size_t c = 0; c < clocks.size(); ++c) {
      TagClock& tc = clocks[c];
      while (tc.next < e) {
        if (tc.next <= sc.duration) due.emplace_back(tc.next, static_cast<int>(c));
        tc.next += jitter ? std::max<Micros>(1, static_cast<Micros>(tc.rng.uniform() * 2.0 * static_cast<double>(ri))) : ri;
      }
    }
    std::sort(due.begin(), due.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return driver.tag_index(clocks[static_cast<size_t>(a.second)].person) < driver.tag_index(clocks[static_cast<size_t>(b.second)].person);
    });
    blinks.clear();
    truth.clear();
    for (const auto& [t, c] : due) {
      TagClock& tc = clocks[static_cast<size_t>(c)];
      const std::uint64_t number = tc.n++;
      driver.play_until(t, submit_both);
      if (!driver.tag_on(tc.person)) continue;
      const TruthPose pose = driver.pose(tc.person, t);
      const int tag = driver.tag_index(tc.person);
      const TruthPose ranged = ranged_pose(tc.person, t, pose);
      blinks.push_back({t, tag, number, {ranged.p.x, ranged.p.y, ranged.z}, ranged.floor});
      truth.push_back({tc.person, pose});
      const FixInput f = driver.true_fix(tc.person, pose);
      if (log) log->truth.push_back({t, 0, f});
      if (oracle) slices[filling].oracle.push_back({t, 0, f});
    }
    fixes.clear();
    pipe.process(blinks, to_seconds(ri), fixes);
    for (const SimFix& sf : fixes) {
      const Pending& tp = truth[static_cast<size_t>(sf.blink)];
      FixInput f;
      f.tag = blinks[static_cast<size_t>(sf.blink)].tag;
      f.x = sf.fix.x;
      f.y = sf.fix.y;
      f.z = sf.fix.z;
      f.floor = sf.fix.floor.empty() ? -1 : engine.floor_index(sf.fix.floor);
      const double err = std::hypot(f.x - tp.pose.p.x, f.y - tp.pose.p.y);
      const double err3 = std::sqrt(err * err + (f.z - tp.pose.z) * (f.z - tp.pose.z));
      accuracy.add(err);
      accuracy3.add(err3);
      fixlog.add({sf.fix.t_measured, *sc.people[static_cast<size_t>(tp.person)].tag, f.x, f.y, f.z, sf.fix.floor, err, err3});
      for (size_t k = 0; k < sc.site.survey_points.size(); ++k) {
        const SurveyPoint& sp = sc.site.survey_points[k];
        if (!sp.floor.empty() && sp.floor != tp.pose.floor) continue;
        if (std::hypot(tp.pose.p.x - sp.at[0], tp.pose.p.y - sp.at[1]) <= 0.05) survey[k].add(err);
      }
      if (opt.history)
        opt.history->fix({sc.people[static_cast<size_t>(tp.person)].id, history_ms(sc, sf.fix.t_available), to_cm(f.x), to_cm(f.y),
                          to_cm(f.z), sf.fix.floor});
      if (opt.observer) slices[filling].observed.push_back({sf.fix.t_available, tp.person, f, sf.fix.floor});
      if (log) log->estimated.push_back({sf.fix.t_available, 0, f}), log->fix_errors.emplace_back(sf.fix.t_available, err);
      slices[filling].engine.push_back({sf.fix.t_available, 0, f});
      ++out.fixes;
    }
    const Micros until = std::min(e - 1, sc.duration);
    driver.play_until(until, submit_both);
    slices[filling].until = until;
    apply_filled();
    if (checkpoints.due(until)) {
      engines_done();
      ByteWriter w;
      w.u8(static_cast<std::uint8_t>(RunnerMode::simulated));
      w.i64(e);
      w.size(clocks.size());
      for (const TagClock& c : clocks) {
        w.i32(c.person);
        w.i64(c.next);
        w.u64(c.n);
        c.rng.save(w);
      }
      put_collected(w, out);
      accuracy.save(w);
      accuracy3.save(w);
      w.size(survey.size());
      for (const ErrorHistogram& h : survey) h.save(w);
      fixlog.save(w);
      ByteWriter sim;
      pipe.save(sim);
      if (!checkpoints.write(until, engine, oracle.get(), w.take(), sim.take(), out, error)) return false;
      if (until >= opt.stop_after) {
        out.stopped = true;
        return true;
      }
    }
  }
  driver.play_all(submit_both);
  slices[filling].until = sc.duration;
  apply_filled();
  engines_done();
  finish_result(engine, out);
  if (opt.history) feed_history(sc, out, *opt.history, sc.clock.start_unix_s * 1000);

  const AccuracyFigures f3 = accuracy3.figures();
  out.accuracy = accuracy_stats(accuracy.figures(), &f3);
  out.fix_hash = fixlog.hash_hex();
  if (!fixlog.close(error)) return false;
  for (size_t k = 0; k < survey.size(); ++k) {
    if (survey[k].n() == 0) continue;
    out.survey_points.push_back({sc.site.survey_points[k].id, survey[k].n(), survey[k].mean(), survey[k].quantile(0.6827),
                                 survey[k].quantile(0.95)});
  }
  std::vector<RadioLinkReport> links;
  for (const auto& [ta, ls] : pipe.link_stats()) {
    RadioLinkReport l;
    l.tag = static_cast<size_t>(ta.first) < tag_name.size() ? tag_name[static_cast<size_t>(ta.first)] : std::to_string(ta.first);
    l.anchor = sc.site.anchors[static_cast<size_t>(ta.second)].id;
    l.n = ls.tries;
    const double n = static_cast<double>(std::max<std::uint64_t>(1, ls.tries));
    l.nlos_share = static_cast<double>(ls.nlos) / n;
    l.dropped_share = static_cast<double>(ls.dropped) / n;
    l.error_median = ls.error.quantile(0.5);
    l.error_p95 = ls.error.quantile(0.95);
    links.push_back(std::move(l));
  }
  std::sort(links.begin(), links.end(), [](const RadioLinkReport& a, const RadioLinkReport& b) {
    return a.tag != b.tag ? a.tag < b.tag : a.anchor < b.anchor;
  });
  if (opt.radio_link_stats) out.radio = std::move(links);
  const PipelineCounters& pc = pipe.counters();
  out.simulation = SimulationCounts{pc.blinks, pc.fixes, pc.no_fix, pc.rays, pc.collisions};
  if (oracle) compare_with_oracle(oracle->alarms(), out.alarms, out);
  check_expectations(sc, out);
  return true;
}

}  // namespace

std::int64_t history_ms(const Scenario& sc, Micros t) {
  const Micros ms = t >= 0 ? t / kMillisecond : -((-t + kMillisecond - 1) / kMillisecond);
  return sc.clock.start_unix_s * 1000 + ms;
}

AccuracyStats accuracy_stats(const AccuracyFigures& h, const AccuracyFigures* three_d) {
  AccuracyStats a;
  a.n = h.n;
  a.mean = h.mean;
  a.cdf68 = h.cdf68;
  a.cdf95 = h.cdf95;
  a.median = h.median;
  a.rmse = h.rmse;
  a.p95 = h.p95;
  a.max = h.max;
  a.curve = h.curve;
  if (three_d) {
    a.three_d = *three_d;
    a.three_d->curve.clear();  // the page draws the horizontal curve only
  }
  return a;
}

bool run_scenario(const Scenario& sc, const RunOptions& opt, RunResult& out, std::string& error) {
  if (sc.positioning.mode == Positioning::Mode::simulated) return run_simulated(sc, opt, out, error);
  if (sc.positioning.mode == Positioning::Mode::recorded) return run_recorded(sc, opt, out, error);
  out = RunResult{};
  auto site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, site));
  const bool noisy = sc.positioning.noise_sigma > 0;
  std::unique_ptr<Engine> oracle;  // the twin on true positions, when fixes are not the truth
  if (noisy) oracle = std::make_unique<Engine>(make_engine_setup(sc, site));
  RunResult oracle_result;
  OutputCollector col(out, opt.observer);
  OutputCollector ocol(oracle_result);
  ScriptDriver driver(sc, engine);

  auto submit_both = [&](Input in) {
    if (oracle) oracle->submit(in);
    engine.submit(std::move(in));
  };

  GaussianStream noise(stream_seed(sc.seed, kNoiseStream));
  std::uint64_t noise_draws = 0;
  auto draw = [&] {
    ++noise_draws;
    return noise.next();
  };
  std::vector<double> errors;
  FixLog fixlog;
  std::optional<std::uint64_t> csv_bytes;
  Checkpointer checkpoints(sc, opt);
  std::int64_t k0 = 0;
  if (opt.resume) {
    const RunCheckpoint& ck = *opt.resume;
    if (!restore_engines(sc, ck, engine, oracle.get(), error)) return false;
    ByteReader rd(ck.runner);
    const RunnerMode mode = rd.enumeration<RunnerMode>(2);
    k0 = rd.i64();
    const std::uint64_t draws = rd.u64();
    get_collected(rd, out);
    errors.resize(rd.size(8));
    for (double& e : errors) e = rd.f64();
    std::uint64_t bytes = 0;
    fixlog.load(rd, bytes);
    csv_bytes = bytes;
    if (!rd.ok() || !rd.at_end() || mode != RunnerMode::truth || k0 < 0) {
      error = sc.file + ": cannot resume: damaged checkpoint: runner state: " + (rd.ok() ? std::string("inconsistent") : rd.error());
      return false;
    }
    driver.play_until(ck.meta.t, ignore_input);  // the script's truth up to the checkpoint; its inputs are in the state
    while (noise_draws < draws) draw();
    checkpoints.resumed_at(ck.meta.t);
    out.resumed_at = to_seconds(ck.meta.t);
  }
  if (!opt.fixes_csv.empty() && !fixlog.open_csv(opt.fixes_csv, error, csv_bytes)) return false;
  for (std::int64_t k = k0;; ++k) {
    const Micros tf = from_seconds(static_cast<double>(k) / sc.fix_rate);
    // script actions at time t come before the fixes sampled at t, in file order
    if (tf > sc.duration) {
      driver.play_all(submit_both);
      break;
    }
    driver.play_until(tf, submit_both);
    for (int i : driver.fix_order()) {
      const size_t ui = static_cast<size_t>(i);
      if (driver.tag_index(i) < 0 || !driver.tag_on(i)) continue;
      const TruthPose pose = driver.pose(i, tf);
      FixInput f = driver.true_fix(i, pose);
      if (noisy) {
        if (oracle) oracle->submit({tf, 0, f});
        f.x += sc.positioning.noise_sigma * draw();
        f.y += sc.positioning.noise_sigma * draw();
      }
      // true positions have no error: only noisy fixes are kept for the CDF (memory grows with them)
      const double err = std::hypot(f.x - pose.p.x, f.y - pose.p.y);
      if (noisy) errors.push_back(err);
      fixlog.add({tf, *sc.people[ui].tag, f.x, f.y, f.z, pose.floor, err, err});
      if (opt.history) opt.history->fix({sc.people[ui].id, history_ms(sc, tf), to_cm(f.x), to_cm(f.y), to_cm(f.z), pose.floor});
      if (opt.observer) opt.observer->fix(tf, sc.people[ui].id, *sc.people[ui].tag, f, pose.floor);
      engine.submit({tf, 0, f});
      ++out.fixes;
    }
    engine.advance_to(tf);
    col.drain(engine);
    if (oracle) {
      oracle->advance_to(tf);
      ocol.drain(*oracle);
    }
    if (checkpoints.due(tf)) {
      ByteWriter w;
      w.u8(static_cast<std::uint8_t>(RunnerMode::truth));
      w.i64(k + 1);
      w.u64(noise_draws);
      put_collected(w, out);
      w.size(errors.size());
      for (double e : errors) w.f64(e);
      fixlog.save(w);
      if (!checkpoints.write(tf, engine, oracle.get(), w.take(), "", out, error)) return false;
      if (tf >= opt.stop_after) {
        out.stopped = true;
        return true;
      }
    }
  }
  engine.advance_to(sc.duration);
  col.drain(engine);
  finish_result(engine, out);
  if (opt.history) feed_history(sc, out, *opt.history, sc.clock.start_unix_s * 1000);

  AccuracyStats acc;
  acc.n = noisy ? errors.size() : out.fixes;
  if (!errors.empty()) {
    double sumsq = 0;
    for (double e : errors) sumsq += e * e;
    acc.mean = std::accumulate(errors.begin(), errors.end(), 0.0) / static_cast<double>(errors.size());
    acc.rmse = std::sqrt(sumsq / static_cast<double>(errors.size()));
    acc.median = quantile_nearest_rank(errors, 0.5);
    acc.cdf68 = quantile_nearest_rank(errors, 0.6827);
    acc.cdf95 = quantile_nearest_rank(errors, 0.95);
    acc.p95 = acc.cdf95;
    acc.max = *std::max_element(errors.begin(), errors.end());
    acc.curve = accuracy_curve(errors);
  }
  out.accuracy = acc;
  out.fix_hash = fixlog.hash_hex();
  if (!fixlog.close(error)) return false;
  if (oracle) {
    oracle->advance_to(sc.duration);
    ocol.drain(*oracle);
    compare_with_oracle(oracle->alarms(), out.alarms, out);
  } else {
    out.alarm_quality = AlarmQuality{};
    out.alarm_delay = DelayStats{};
  }
  check_expectations(sc, out);
  return true;
}

}  // namespace planttwin
