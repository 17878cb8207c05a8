// planttwin: the command. A thin main per subcommand (DESIGN.md section 4.1).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "apps/commands.h"
#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/report_html.h"
#include "scenarios/runner.h"
#include "history/sqlite_history.h"
#ifdef PLANTTWIN_HAS_LIVE
#include "apps/uplink_options.h"
#endif
#ifdef PLANTTWIN_HAS_UPLINK
#include "hardware-in-loop/uplink_setup.h"
#endif

#ifndef PLANTTWIN_VERSION
#define PLANTTWIN_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;
using namespace planttwin;

bool planttwin::cli::checkpoint_args(const std::string& every, const std::string& dir, std::int64_t& every_us) {
  every_us = 0;
  if (!every.empty() && (!parse_duration(every, every_us) || every_us <= 0)) {
    std::cerr << "--checkpoint-every: '" << every << "' is not a positive duration (e.g. 10s, 5min)\n";
    return false;
  }
  if (every_us > 0 && dir.empty()) {
    std::cerr << "--checkpoint-every needs --checkpoint-dir DIR (where the checkpoint files go)\n";
    return false;
  }
  if (!dir.empty() && every_us == 0) {
    std::cerr << "--checkpoint-dir needs --checkpoint-every D (how often to write one)\n";
    return false;
  }
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      std::cerr << dir << ": cannot create the checkpoint folder" << (ec ? ": " + ec.message() : std::string()) << "\n";
      return false;
    }
  }
  return true;
}

namespace {

using cli::kExitBadInput;
using cli::kExitFail;
using cli::kExitPass;

// Files named on the command line; a directory stands for every *.yaml / *.yml in it, by name.
bool collect(const std::vector<std::string>& args, std::vector<std::string>& files) {
  for (const std::string& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : fs::directory_iterator(a, ec)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) in_dir.push_back(e.path().string());
      }
      if (in_dir.empty()) {
        std::cerr << a << ": no scenario files (*.yaml) in this folder\n";
        return false;
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(a, ec)) {
      files.push_back(a);
    } else {
      std::cerr << a << ": no such file or folder\n";
      return false;
    }
  }
  return true;
}

struct HistoryArgs {
  std::string file, retention = "365d", from, to, format;
  std::vector<std::string> who;
};

// opens the history file; a missing file is bad input unless `create`
std::unique_ptr<SqliteHistory> open_history(const HistoryArgs& h, bool create) {
  HistoryOptions opt;
  Micros keep = 0;
  if (!parse_duration(h.retention, keep) || keep < 0) {
    std::cerr << "--retention " << h.retention << ": not a duration (e.g. 365d, 720h, 0 to keep everything)\n";
    return nullptr;
  }
  opt.retention_ms = keep / kMillisecond;
  std::error_code ec;
  if (!create && !fs::is_regular_file(h.file, ec)) {
    std::cerr << h.file << ": no such history file\n";
    return nullptr;
  }
  // a new file may go into a new folder, as reports do
  if (create && fs::path(h.file).has_parent_path()) fs::create_directories(fs::path(h.file).parent_path(), ec);
  std::string err;
  auto store = SqliteHistory::open(h.file, opt, err);
  if (!store) std::cerr << err << "\n";
  return store;
}

// Several scenarios in one history file: each one's people are "SCENARIO/ID", so runs that share
// person ids and times do not collide. One scenario keeps plain ids.
class PrefixedSink final : public HistorySink {
 public:
  PrefixedSink(HistorySink& to, std::string prefix) : to_(to), prefix_(std::move(prefix)) {}
  void person(const HistoryPerson& p) override {
    HistoryPerson q = p;
    q.id = prefix_ + p.id;
    to_.person(q);
  }
  void fix(const HistoryFix& f) override {
    HistoryFix g = f;
    g.person = prefix_ + f.person;
    to_.fix(g);
  }
  void zone_entry(const HistoryZoneEntry& e) override { to_.zone_entry(e); }
  void alarm(const HistoryAlarm& a) override {
    HistoryAlarm b = a;
    for (std::string& w : b.who) w = prefix_ + w;
    to_.alarm(b);
  }
  void permit(const HistoryPermit& p) override { to_.permit(p); }
  void flush() override { to_.flush(); }
  std::optional<HistorySinkStatus> status() const override { return to_.status(); }

 private:
  HistorySink& to_;
  std::string prefix_;
};

// Checkpoint options of `run` (docs/checkpoint.md).
struct CheckpointArgs {
  std::string every;  // a duration ("10s"); "" none
  std::string dir;
  std::string resume;  // a checkpoint file
};

// The report folder of each scenario: DIR itself for one; else DIR/STEM, or DIR/PARENT-STEM when
// several files share a stem (scenarios/recorded/*/scenario.yaml), and a number after that if needed.
std::vector<std::string> report_dirs(const std::vector<std::string>& files, const std::string& report_dir) {
  std::vector<std::string> out(files.size(), report_dir);
  if (files.size() <= 1 || report_dir.empty()) return out;
  std::map<std::string, int> stems, used;
  for (const std::string& f : files) ++stems[fs::path(f).stem().string()];
  for (size_t i = 0; i < files.size(); ++i) {
    const fs::path p(files[i]);
    std::string name = p.stem().string();
    if (stems[name] > 1) name = p.parent_path().filename().string() + "-" + name;
    if (used[name]++ > 0) name += "-" + std::to_string(used[name]);
    out[i] = (fs::path(report_dir) / name).string();
  }
  return out;
}

// `run --uplink`: what the run's park-platform options asked for (docs/platform.md "From a run").
struct RunUplink {
  std::string url, platform_verdict;
  Micros wait = 60 * kSecond;  // --uplink-wait
#ifdef PLANTTWIN_HAS_UPLINK
  hil::UplinkArgs args;
#endif
};

int cmd_run(const std::vector<std::string>& args, const std::string& report_dir, int threads, int threaded_min_tags,
            const HistoryArgs& hist, const CheckpointArgs& ck, bool fixes_always, const RunUplink& up) {
  std::vector<std::string> files;
  if (!collect(args, files)) return kExitBadInput;
  if ((!up.url.empty() || !up.platform_verdict.empty()) && files.size() != 1) {
    std::cerr << "planttwin run: --uplink and --platform-verdict feed one scenario's site to the park platform; " << files.size()
              << " scenarios were given\n";
    return kExitBadInput;
  }
  if (!up.platform_verdict.empty() && report_dir.empty()) {
    std::cerr << "planttwin run: --platform-verdict needs --report DIR (the verdict goes into the report)\n";
    return kExitBadInput;
  }
  if (!up.url.empty() && !ck.resume.empty()) {
    std::cerr << "planttwin run: --uplink cannot go with --resume: the platform would miss everything before the checkpoint\n";
    return kExitBadInput;
  }
  Micros checkpoint_every = 0;
  if (!cli::checkpoint_args(ck.every, ck.dir, checkpoint_every)) return kExitBadInput;
  std::unique_ptr<RunCheckpoint> resume;
  if (!ck.resume.empty()) {
    if (files.size() != 1) {
      std::cerr << "--resume continues one scenario; " << files.size() << " were given\n";
      return kExitBadInput;
    }
    resume = std::make_unique<RunCheckpoint>();
    std::string why;
    if (!read_checkpoint_file(ck.resume, *resume, why)) {
      std::cerr << why << "\n";
      return kExitBadInput;
    }
  }
  std::unique_ptr<SqliteHistory> store;
  if (!hist.file.empty() && !(store = open_history(hist, true))) return kExitBadInput;
  // load everything first: bad input stops the run before anything runs
  std::vector<Scenario> scenarios(files.size());
  bool bad = false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto err = load_scenario_file(files[i], scenarios[i])) {
      std::cerr << err->to_string() << "\n";
      bad = true;
    }
  }
  if (bad) return kExitBadInput;
#ifdef PLANTTWIN_HAS_UPLINK
  std::unique_ptr<Uplink> uplink;
  std::unique_ptr<hil::UplinkRunObserver> uplink_observer;
  if (!up.url.empty()) {
    std::string err;
    if (!hil::make_uplink(scenarios[0], up.args, uplink, err)) {
      std::cerr << "planttwin run: " << err << "\n";
      return kExitBadInput;
    }
    uplink_observer = std::make_unique<hil::UplinkRunObserver>(*uplink);
  }
#else
  if (!up.url.empty()) {
    std::cerr << "planttwin run: --uplink: this build has no park-platform uplink (hardware-in-loop/uplink)\n";
    return kExitBadInput;
  }
#endif

  // scenarios run in parallel on up to `threads` workers, and the threads are shared out: each of
  // the n scenarios at a time gets threads / n of them (at least one) for its own workers (a
  // simulated run's rays, radio and engines), so that the machine is not oversubscribed. Each
  // result lands at its own index and no result depends on a thread count.
  std::vector<std::unique_ptr<PrefixedSink>> sinks(files.size());
  if (store && files.size() > 1)
    for (size_t i = 0; i < files.size(); ++i) sinks[i] = std::make_unique<PrefixedSink>(*store, scenarios[i].name + "/");
  auto sink_of = [&](size_t i) -> HistorySink* { return sinks[i] ? static_cast<HistorySink*>(sinks[i].get()) : store.get(); };
  const std::vector<std::string> dirs = report_dirs(files, report_dir);
  std::vector<RunResult> results(files.size());
  std::vector<std::string> errors(files.size());
  std::vector<char> ok(files.size(), 0);
  std::atomic<size_t> next{0};
  const int parallel = std::clamp(threads, 1, static_cast<int>(files.size()));
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) {
      RunOptions o;
      o.threads = std::max(1, threads / parallel);
      o.threaded_min_tags = threaded_min_tags;
      o.history = sink_of(i);
      o.checkpoint_every = checkpoint_every;
      o.checkpoint_dir = ck.dir;
      o.resume = resume.get();
      // fixes.csv beside the report: estimated positions always, truth-mode runs on request (--fixes)
      const Positioning& pos = scenarios[i].positioning;
      if (!report_dir.empty() && (fixes_always || pos.mode != Positioning::Mode::truth || pos.noise_sigma > 0))
        o.fixes_csv = (fs::path(dirs[i]) / "fixes.csv").string();
#ifdef PLANTTWIN_HAS_UPLINK
      o.observer = uplink_observer.get();  // one scenario when given
#endif
      ok[i] = run_scenario(scenarios[i], o, results[i], errors[i]);
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < parallel; ++k) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < files.size(); ++i)
    if (!ok[i]) {
      std::cerr << errors[i] << "\n";
      bad = true;
    }
  if (bad) return kExitBadInput;
#ifdef PLANTTWIN_HAS_UPLINK
  if (uplink) {
    // the run went faster than real time: its batches wait in the outbox; give the platform
    // --uplink-wait to take them (what it does not take stays in the outbox for the next run)
    uplink->tick(scenarios[0].duration);
    const bool all_sent = uplink->flush(up.wait);
    const Uplink::Stats us = uplink->stats();
    std::cout << "Uplink: " << us.queued << " batches queued by this run (" << us.positions << " positions), " << us.sent << " sent, " << us.pending
              << " pending in the outbox, " << us.rejected << " refused by the platform\n";
    if (!all_sent)
      std::cerr << "planttwin run: 上报未在 --uplink-wait 内完成 the platform did not take every batch within --uplink-wait; " << us.pending
                << " stay in the outbox" << (uplink->last_error().empty() ? "" : " (last error: " + uplink->last_error() + ")") << "\n";
  }
#endif

  std::vector<SummaryRow> rows;
  bool all = true;
  for (size_t i = 0; i < files.size(); ++i) {
    const Scenario& sc = scenarios[i];
    const RunResult& r = results[i];
    SummaryRow row;
    row.file = files[i];
    row.scenario = sc.name;
    row.requirements = sc.requirements;
    row.passed = r.passed;
    row.expectations_total = static_cast<int>(r.expectations.size());
    for (const auto& e : r.expectations) row.expectations_passed += e.passed;
    row.hash = r.hash;
    row.outcomes = requirement_outcomes(sc, r);
    for (const Alarm& a : r.alarms)
      if (a.code != Aq2Code::none) ++row.codes[to_string(a.code)];
    row.report_dir = dirs[i];
    all = all && r.passed;
    if (!report_dir.empty()) {
      std::string err;
      if (!write_text_file((fs::path(row.report_dir) / "report.json").string(), report_json(sc, r).dump(2) + "\n", err) ||
          !write_text_file((fs::path(row.report_dir) / "report.md").string(), report_markdown(sc, r), err) ||
          !write_text_file((fs::path(row.report_dir) / "report.html").string(), report_html(sc, r), err)) {
        std::cerr << err << "\n";
        return kExitBadInput;
      }
      // one printable permit per permit (SO-04)
      for (const PermitRecord& p : r.permits)
        if (!write_text_file((fs::path(row.report_dir) / "permits" / (p.id + ".html")).string(), permit_html(sc, r, p), err)) {
          std::cerr << err << "\n";
          return kExitBadInput;
        }
    }
    for (const auto& e : r.expectations)
      if (!e.passed) std::cerr << sc.file << ": expectation #" << e.index + 1 << " failed: " << e.text << "\n    " << e.detail << "\n";
    rows.push_back(std::move(row));
  }
#ifdef PLANTTWIN_HAS_LIVE
  if (!up.platform_verdict.empty() && !cli::add_platform_verdict("run", rows[0].report_dir, up.platform_verdict, results[0])) return kExitBadInput;
#endif
  if (!report_dir.empty() && files.size() > 1) {
    std::string err;
    if (!write_text_file((fs::path(report_dir) / "summary.json").string(), summary_json(rows).dump(2) + "\n", err) ||
        !write_text_file((fs::path(report_dir) / "summary.md").string(), summary_markdown(rows), err) ||
        !write_text_file((fs::path(report_dir) / "summary.html").string(), summary_html(rows), err)) {
      std::cerr << err << "\n";
      return kExitBadInput;
    }
  }
  if (store) {
    store->checkpoint();
    const HistoryCounters c = store->counters();
    std::cout << "History: " << hist.file << " (" << c.fixes << " fixes stored";
    if (c.out_of_order) std::cout << ", " << c.out_of_order << " out of order dropped";
    std::cout << ")\n";
  }
  std::cout << summary_table(rows);
  if (!report_dir.empty()) std::cout << "Report: " << (files.size() > 1 ? (fs::path(report_dir) / "summary.md").string() : (fs::path(report_dir) / "report.md").string()) << "\n";
  return all ? kExitPass : kExitFail;
}

// "2026-03-02T08:00:00+08:00" -> Unix ms and the offset; false with a message on stderr
bool parse_time_arg(const std::string& opt, const std::string& s, std::int64_t& ms, int& offset_min) {
  std::int64_t unix_s = 0;
  if (!parse_datetime(s, unix_s, offset_min)) {
    std::cerr << opt << " " << s << ": not an ISO 8601 date-time with offset (e.g. 2026-03-02T08:00:00+08:00)\n";
    return false;
  }
  ms = unix_s * 1000;
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Unix ms -> ISO 8601 local time with milliseconds at the given offset
std::string iso_time(std::int64_t t_ms, int offset_min) {
  const std::int64_t local_ms = t_ms + offset_min * 60000LL;
  const std::int64_t days = floor_div(local_ms, 86400000LL), in_day = local_ms - days * 86400000LL;
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const int off = offset_min < 0 ? -offset_min : offset_min;
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", y, m, d, static_cast<int>(in_day / 3600000),
                static_cast<int>(in_day / 60000 % 60), static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000),
                offset_min < 0 ? '-' : '+', off / 60, off % 60);
  return b;
}

// centimetres -> metres text, exact ("-0.05")
std::string metres(std::int32_t cm) {
  const std::int64_t v = cm;
  const std::int64_t a = v < 0 ? -v : v;
  char b[32];
  std::snprintf(b, sizeof b, "%s%lld.%02lld", v < 0 ? "-" : "", static_cast<long long>(a / 100), static_cast<long long>(a % 100));
  return b;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// --from / --to and the history file of `track` and `stats`; nullptr (after a message) on bad input
std::unique_ptr<SqliteHistory> open_range(const HistoryArgs& h, std::int64_t& from, std::int64_t& to, int& off) {
  int off_to = 0;
  if (!parse_time_arg("--from", h.from, from, off) || !parse_time_arg("--to", h.to, to, off_to)) return nullptr;
  if (to < from) {
    std::cerr << "--to " << h.to << " is before --from " << h.from << "\n";
    return nullptr;
  }
  return open_history(h, false);
}

int cmd_track(const HistoryArgs& h) {
  std::int64_t from = 0, to = 0;
  int off = 0;
  auto store = open_range(h, from, to, off);
  if (!store) return kExitBadInput;
  std::vector<std::vector<HistoryFix>> tracks(h.who.size());
  for (size_t i = 0; i < h.who.size(); ++i) {
    std::string err;
    if (!store->track(h.who[i], from, to, tracks[i], err)) {
      std::cerr << h.file << ": " << err << "\n";
      return kExitBadInput;
    }
  }
  std::ostringstream o;
  if (h.format == "csv") {
    o << "person,t,t_ms,x,y,z,floor\n";
    for (const auto& tr : tracks)
      for (const HistoryFix& f : tr)
        o << csv_field(f.person) << "," << iso_time(f.t_ms, off) << "," << f.t_ms << "," << metres(f.x_cm) << "," << metres(f.y_cm) << ","
          << metres(f.z_cm) << "," << csv_field(f.floor) << "\n";
  } else if (h.format == "geojson") {
    // coordinates in the site's local metric frame (x east, y north, z up), not WGS 84
    nlohmann::json fc = {{"type", "FeatureCollection"}, {"features", nlohmann::json::array()}};
    for (size_t i = 0; i < tracks.size(); ++i) {
      nlohmann::json coords = nlohmann::json::array(), times = nlohmann::json::array(), floors = nlohmann::json::array();
      for (const HistoryFix& f : tracks[i]) {
        coords.push_back({f.x_cm / 100.0, f.y_cm / 100.0, f.z_cm / 100.0});
        times.push_back(iso_time(f.t_ms, off));
        floors.push_back(f.floor);
      }
      nlohmann::json geom = tracks[i].size() >= 2 ? nlohmann::json{{"type", "LineString"}, {"coordinates", coords}}
                            : tracks[i].size() == 1 ? nlohmann::json{{"type", "Point"}, {"coordinates", coords[0]}}
                                                    : nlohmann::json(nullptr);
      fc["features"].push_back({{"type", "Feature"}, {"geometry", geom},
                                {"properties", {{"person", h.who[i]}, {"frame", "site-local-metres"}, {"times", times}, {"floors", floors}}}});
    }
    o << fc.dump() << "\n";
  } else {
    nlohmann::json j = {{"from", iso_time(from, off)}, {"to", iso_time(to, off)}, {"people", nlohmann::json::array()}};
    for (size_t i = 0; i < tracks.size(); ++i) {
      nlohmann::json fixes = nlohmann::json::array();
      for (const HistoryFix& f : tracks[i])
        fixes.push_back({{"t", iso_time(f.t_ms, off)}, {"t_ms", f.t_ms}, {"x", f.x_cm / 100.0}, {"y", f.y_cm / 100.0},
                         {"z", f.z_cm / 100.0}, {"floor", f.floor}});
      j["people"].push_back({{"id", h.who[i]}, {"fixes", fixes}});
    }
    o << j.dump(1) << "\n";
  }
  std::cout << o.str();
  return kExitPass;
}

int cmd_stats(const HistoryArgs& h) {
  std::int64_t from = 0, to = 0;
  int off = 0;
  auto store = open_range(h, from, to, off);
  if (!store) return kExitBadInput;
  HistoryStats st;
  std::string err;
  if (!store->stats(from, to, off, st, err)) {
    std::cerr << h.file << ": " << err << "\n";
    return kExitBadInput;
  }
  if (h.format == "json") {
    nlohmann::json j = {{"from", iso_time(from, off)}, {"to", iso_time(to, off)}};
    j["entries"] = nlohmann::json::array();
    for (const auto& e : st.entries)
      j["entries"].push_back({{"day", e.day}, {"zone", e.zone.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.zone)},
                              {"category", e.category}, {"people", e.people}, {"entries", e.entries}});
    j["alarms"] = nlohmann::json::array();
    for (const auto& a : st.alarms)
      j["alarms"].push_back({{"type", a.type}, {"level", a.level}, {"zone", a.zone}, {"status", a.status}, {"count", a.count},
                             {"acknowledged", a.acknowledged}, {"handled", a.handled}, {"closed", a.closed},
                             {"mean_ack_s", a.mean_ack_s}, {"mean_handle_s", a.mean_handle_s}, {"mean_close_s", a.mean_close_s}});
    j["permits"] = nlohmann::json::array();
    for (const auto& p : st.permits) j["permits"].push_back({{"type", p.type}, {"grade", p.grade}, {"status", p.status}, {"count", p.count}});
    j["codes"] = nlohmann::json::array();
    for (const auto& c : st.codes) j["codes"].push_back({{"code", c.code}, {"type", c.type}, {"count", c.count}});
    std::cout << j.dump(1) << "\n";
  } else if (h.format == "csv") {
    std::cout << "section,day,zone,category,type,level,grade,status,code,count,people,acknowledged,handled,closed,mean_ack_s,mean_handle_s,mean_close_s\n";
    for (const auto& e : st.entries)
      std::cout << (e.zone.empty() ? "plant" : "zone") << "," << e.day << "," << csv_field(e.zone) << "," << e.category << ",,,,,,"
                << e.entries << "," << e.people << ",,,,,,\n";
    for (const auto& a : st.alarms)
      std::cout << "alarm,,"  << csv_field(a.zone) << ",," << a.type << "," << a.level << ",," << a.status << ",," << a.count << ",,"
                << a.acknowledged << "," << a.handled << "," << a.closed << "," << a.mean_ack_s << "," << a.mean_handle_s << ","
                << a.mean_close_s << "\n";
    for (const auto& p : st.permits)
      std::cout << "permit,,,," << p.type << ",," << csv_field(p.grade) << "," << p.status << ",," << p.count << ",,,,,,,\n";
    for (const auto& c : st.codes) std::cout << "code,,,," << c.type << ",,,," << c.code << "," << c.count << ",,,,,,,\n";
  } else {
    char b[256];
    std::cout << "Statistics " << iso_time(from, off) << " .. " << iso_time(to, off) << "\n\nPeople entering (plant: people with a track that day)\n";
    std::snprintf(b, sizeof b, "  %-10s  %-16s  %-10s  %8s\n", "day", "zone", "category", "entries");
    std::cout << b;
    for (const auto& e : st.entries) {
      std::snprintf(b, sizeof b, "  %-10s  %-16s  %-10s  %8d\n", e.day.c_str(), e.zone.empty() ? "(plant)" : e.zone.c_str(), e.category.c_str(), e.entries);
      std::cout << b;
    }
    std::cout << "\nAlarms\n";
    std::snprintf(b, sizeof b, "  %-22s  %-7s  %-14s  %-12s  %5s  %9s  %9s  %9s\n", "type", "level", "zone", "status", "count", "ack s", "handle s", "close s");
    std::cout << b;
    for (const auto& a : st.alarms) {
      std::snprintf(b, sizeof b, "  %-22s  %-7s  %-14s  %-12s  %5d  %9.1f  %9.1f  %9.1f\n", a.type.c_str(), a.level.c_str(), a.zone.c_str(),
                    a.status.c_str(), a.count, a.mean_ack_s, a.mean_handle_s, a.mean_close_s);
      std::cout << b;
    }
    std::cout << "\nPermits\n";
    for (const auto& p : st.permits) {
      std::snprintf(b, sizeof b, "  %-16s  grade %-8s  %-12s  %5d\n", p.type.c_str(), p.grade.c_str(), p.status.c_str(), p.count);
      std::cout << b;
    }
    std::cout << "\nAlarm codes (AQ 3064.2)\n";
    for (const auto& c : st.codes) {
      std::snprintf(b, sizeof b, "  %-8s  %-22s  %5d\n", c.code.c_str(), c.type.c_str(), c.count);
      std::cout << b;
    }
  }
  return kExitPass;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"planttwin: deterministic safety-rules engine for hazardous-chemical plants (personnel positioning and special work)"};
  app.set_version_flag("--version", std::string("planttwin ") + PLANTTWIN_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> run_args;
  std::string report_dir;
  int threads = 1;
  CLI::App* run = app.add_subcommand("run", "Run scenarios headless and check their expectations (exit 0 pass, 1 fail, 2 bad input)");
  run->add_option("scenarios", run_args, "Scenario files or folders of scenarios")->required();
  run->add_option("--report", report_dir, "Write report.json and report.md here (one sub-folder per scenario when several)");
  bool fixes_always = false;
  run->add_flag("--fixes", fixes_always, "Write fixes.csv for truth-mode runs too (simulated, noisy and recorded runs always write it)");
  run->add_option("--threads", threads, "Worker threads; results never depend on it")->check(CLI::Range(1, 256));
  int threaded_min_tags = RunOptions{}.threaded_min_tags;
  run->add_option("--threaded-min-tags", threaded_min_tags,
                  "A simulated scenario with fewer tags runs on one thread (its hand-overs would cost more than they save); "
                  "results never depend on it")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  HistoryArgs hist;
  run->add_option("--history", hist.file, "Store fixes, alarms and permits in this SQLite history file (created when missing)");
  run->add_option("--retention", hist.retention, "Keep history this long before the newest data (e.g. 365d; 0 keeps everything)")->capture_default_str();
  CheckpointArgs ck;
  run->add_option("--checkpoint-every", ck.every, "Write a checkpoint every D of engine time (e.g. 10s) into --checkpoint-dir");
  run->add_option("--checkpoint-dir", ck.dir, "Folder for checkpoint files NAME-tSECONDS.ptck (created when missing)");
  run->add_option("--resume", ck.resume, "Continue one scenario from this checkpoint file; the report equals the uninterrupted run's");
#ifdef PLANTTWIN_HAS_LIVE
  // the park platform (docs/platform.md "From a run"): one scenario's positions, alarms and permits
  cli::UplinkCli run_uplink;
  add_uplink_options(run, run_uplink);
  std::string uplink_wait = "60s";
  run->add_option("--uplink-wait", uplink_wait, "With --uplink: how long to wait at the end for the platform to take every batch (the rest stay in the outbox)")
      ->capture_default_str();
#endif

  HistoryArgs th;
  th.format = "json";
  CLI::App* track = app.add_subcommand("track", "Print people's tracks from a history file (exit 0, 2 bad input)");
  track->add_option("--history", th.file, "History file")->required();
  track->add_option("--who", th.who, "Person id; repeat for several")->required();
  track->add_option("--from", th.from, "Start, ISO 8601 with offset (2026-03-02T08:00:00+08:00)")->required();
  track->add_option("--to", th.to, "End, ISO 8601 with offset")->required();
  track->add_option("--format", th.format, "json, csv or geojson")->capture_default_str()->check(CLI::IsMember({"json", "csv", "geojson"}));

  HistoryArgs sh;
  sh.format = "table";
  CLI::App* stats = app.add_subcommand("stats", "Statistics from a history file: entries, alarms, permits, codes (exit 0, 2 bad input)");
  stats->add_option("--history", sh.file, "History file")->required();
  stats->add_option("--from", sh.from, "Start, ISO 8601 with offset")->required();
  stats->add_option("--to", sh.to, "End, ISO 8601 with offset")->required();
  stats->add_option("--format", sh.format, "table, json or csv")->capture_default_str()->check(CLI::IsMember({"table", "json", "csv"}));

  // Subcommands in their own files; a part this build lacks gets a placeholder that says so.
  std::vector<cli::Subcommand> more;
  [[maybe_unused]] auto missing = [&](const char* name, const char* what) {
    CLI::App* c = app.add_subcommand(name, std::string("(not in this build: ") + what + ")");
    c->allow_extras();
    more.push_back({c, [name, what] {
                      std::cerr << "planttwin " << name << ": this build has no " << what
                                << "; run scripts/setup to install its packages and rebuild\n";
                      return kExitBadInput;
                    }});
  };
  [[maybe_unused]] auto add = [&](std::vector<cli::Subcommand> v) { more.insert(more.end(), v.begin(), v.end()); };
  add(cli::add_convert_commands(app));
  add(cli::add_calibrate_commands(app));
#ifdef PLANTTWIN_HAS_CHECK
  add(cli::add_check_commands(app));
#else
  missing("check", "plant model (Bullet)");
#endif
#ifdef PLANTTWIN_HAS_IMPORT
  add(cli::add_import_commands(app));
#else
  missing("import", "drawing import (GDAL)");
#endif
#ifdef PLANTTWIN_HAS_LIVE
  add(cli::add_live_commands(app));
#else
  missing("live", "hardware-in-the-loop bridge (ZeroMQ)");
  missing("replay", "hardware-in-the-loop bridge (ZeroMQ)");
#endif
#ifdef PLANTTWIN_HAS_PLATFORM
  add(cli::add_platform_commands(app));
#else
  missing("platform", "park-platform uplink (hardware-in-loop/uplink)");
#endif
#ifdef PLANTTWIN_HAS_VIEW
  add(cli::add_view_commands(app));
#else
  missing("view", "viewer (GLFW, OpenGL, Dear ImGui)");
  missing("drill", "viewer (GLFW, OpenGL, Dear ImGui)");
#endif
#ifdef PLANTTWIN_HAS_PARK
  add(cli::add_park_commands(app));
#else
  missing("worker", "park (NATS JetStream, libnats)");
  missing("park", "park (NATS JetStream, libnats)");
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  if (*run) {
    RunUplink up;
#ifdef PLANTTWIN_HAS_LIVE
    if (!cli::check_uplink_options("run", run_uplink)) return kExitBadInput;
    up.url = run_uplink.args.url;
    up.platform_verdict = run_uplink.platform_verdict;
    if (!parse_duration(uplink_wait, up.wait) || up.wait < 0) {
      std::cerr << "--uplink-wait " << uplink_wait << ": not a duration (e.g. 60s, 5min)\n";
      return kExitBadInput;
    }
#ifdef PLANTTWIN_HAS_UPLINK
    up.args = run_uplink.args;
#endif
#endif
    return cmd_run(run_args, report_dir, threads, threaded_min_tags, hist, ck, fixes_always, up);
  }
  if (*track) return cmd_track(th);
  if (*stats) return cmd_stats(sh);
  for (const cli::Subcommand& c : more)
    if (*c.cli) return c.run();
  return kExitBadInput;
}
