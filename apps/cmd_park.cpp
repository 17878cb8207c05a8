// planttwin worker ... and planttwin park add|list|play|report|export (issue 13, docs/park.md):
// sites spread over worker processes through NATS JetStream.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "park/park.h"
#include "scenarios/loader.h"

namespace fs = std::filesystem;

namespace planttwin::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct ParkArgs {
  std::string nats = "nats://127.0.0.1:4222";
  int replicas = 1;
  std::string lease_ttl = "2s";
  // worker
  std::string name, checkpoint_every = "10s", work_dir;
  int max_sites = 0;
  int take_per_scan = 4;
  // park
  std::vector<std::string> scenarios;
  bool no_script = false;
  double speed = 0;
  bool acked = false;
  bool no_batch = false;
  std::size_t batch_bytes = park::kMaxBatchBytes;
  std::string site, report, file;
  bool json = false;
};

bool open_park(const ParkArgs& a, park::Nats& n, const char* cmd) {
  park::ParkSettings s;
  s.replicas = a.replicas;
  if (!parse_duration(a.lease_ttl, s.lease_ttl) || s.lease_ttl <= 0) {
    std::cerr << cmd << ": --lease-ttl " << a.lease_ttl << ": not a duration (e.g. 2s)\n";
    return false;
  }
  std::string err;
  if (!n.open(a.nats, s, err)) {
    std::cerr << cmd << ": " << err << "\n";
    return false;
  }
  return true;
}

bool load(const std::string& path, Scenario& sc, const char* cmd) {
  if (auto e = load_scenario_file(path, sc)) {
    std::cerr << cmd << ": " << e->to_string() << "\n";
    return false;
  }
  return true;
}

int cmd_worker(const ParkArgs& a) {
  park::Nats n;
  if (!open_park(a, n, "planttwin worker")) return kExitBadInput;
  park::WorkerOptions o;
  o.name = a.name;
  if (o.name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o.name = std::string(host) + "-" + std::to_string(::getpid());
  }
  o.name = park::site_key(o.name);
  if (!parse_duration(a.checkpoint_every, o.checkpoint_every) || o.checkpoint_every <= 0) {
    std::cerr << "planttwin worker: --checkpoint-every " << a.checkpoint_every << ": not a positive duration (e.g. 10s)\n";
    return kExitBadInput;
  }
  parse_duration(a.lease_ttl, o.lease_ttl);
  o.max_sites = a.max_sites;
  if (a.take_per_scan < 1) {
    std::cerr << "planttwin worker: --take-per-scan " << a.take_per_scan << ": must be at least 1\n";
    return kExitBadInput;
  }
  o.take_per_scan = a.take_per_scan;
  o.work_dir = a.work_dir.empty() ? (fs::temp_directory_path() / ("planttwin-worker-" + o.name)).string() : a.work_dir;
  o.log = [](const std::string& s) {
    // one line per event, stamped with UTC to the millisecond; site threads log too
    static std::mutex mu;
    const auto now = std::chrono::system_clock::now();
    const std::time_t tt = std::chrono::system_clock::to_time_t(now);
    const long ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::lock_guard<std::mutex> lk(mu);
    std::cout << std::put_time(&tm, "%Y-%m-%dT%H:%M:%S") << '.' << std::setw(3) << std::setfill('0') << ms << "Z " << s
              << std::endl;
  };
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  return park::run_worker(n, o, g_stop);
}

int cmd_add(const ParkArgs& a) {
  std::vector<Scenario> scs(a.scenarios.size());
  for (size_t i = 0; i < scs.size(); ++i)
    if (!load(a.scenarios[i], scs[i], "planttwin park add")) return kExitBadInput;
  park::Nats n;
  if (!open_park(a, n, "planttwin park add")) return kExitBadInput;
  for (const Scenario& sc : scs) {
    park::SiteDef d;
    std::string err;
    if (!park::add_site(n, sc, !a.no_script, d, err)) {
      std::cerr << "planttwin park add: " << err << "\n";
      return kExitBadInput;
    }
    std::cout << "Site " << d.key << " added (revision " << d.revision << "): inputs on " << park::in_subject(d.key)
              << ", outputs on " << park::out_subject(d.key, "TOPIC") << "\n";
  }
  return kExitPass;
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

int cmd_list(const ParkArgs& a) {
  park::Nats n;
  if (!open_park(a, n, "planttwin park list")) return kExitBadInput;
  const auto sites = park::list_sites(n);
  if (a.json) {
    std::cout << "[";
    for (size_t i = 0; i < sites.size(); ++i) {
      std::string s = park::status_json(sites[i]);
      s.insert(1, "\"site\":\"" + sites[i].site + "\",\"lease\":\"" + sites[i].owner + "\",");
      std::cout << (i ? ",\n " : "") << s;
    }
    std::cout << "]\n";
    return kExitPass;
  }
  std::cout << "站点 site\t负责 owner\t状态 state\t时间 t (s)\t输入 inputs\t速率 rate (/s)\t检查点 checkpoint (t s @ seq)\t错误 error\n";
  for (const auto& s : sites) {
    const std::string state = !s.error.empty() ? "error" : s.ended ? "ended" : !s.owner.empty() ? "running" : "waiting";
    std::cout << s.site << "\t" << (s.owner.empty() ? "-" : s.owner) << "\t" << state << "\t" << fixed(s.t_s, 3) << "\t" << s.inputs
              << "\t" << fixed(s.input_rate, 1) << "\t"
              << (s.checkpoint_t_s ? fixed(*s.checkpoint_t_s, 3) + " @ " + std::to_string(s.checkpoint_seq) : std::string("-")) << "\t"
              << (s.error.empty() ? "-" : s.error) << "\n";
  }
  return kExitPass;
}

int cmd_play(const ParkArgs& a) {
  if (a.scenarios.size() != 1) {
    std::cerr << "planttwin park play: one scenario\n";
    return kExitBadInput;
  }
  Scenario sc;
  if (!load(a.scenarios[0], sc, "planttwin park play")) return kExitBadInput;
  if (sc.positioning.mode != Positioning::Mode::truth || sc.positioning.noise_sigma > 0) {
    std::cerr << "planttwin park play: " << sc.file << ": only truth positioning without noise is played (docs/park.md)\n";
    return kExitBadInput;
  }
  park::Nats n;
  if (!open_park(a, n, "planttwin park play")) return kExitBadInput;
  park::PlayOptions o;
  o.speed = a.speed;
  o.acked = a.acked;
  o.batch = !a.no_batch;
  if (a.batch_bytes < 256 || a.batch_bytes > 64u * 1024 * 1024) {
    std::cerr << "planttwin park play: --batch-bytes " << a.batch_bytes << ": must be 256 to 67108864 (and within the server's max_payload)\n";
    return kExitBadInput;
  }
  o.batch_bytes = a.batch_bytes;
  std::uint64_t messages = 0;
  o.messages = &messages;
  double behind = 0;
  o.max_behind_ms = &behind;
  std::uint64_t published = 0;
  std::string err;
  if (!park::play(n, sc, o, published, err)) {
    std::cerr << "planttwin park play: " << err << "\n";
    return kExitBadInput;
  }
  std::cout << "Played " << published << " inputs (end marker included) in " << messages << " messages to "
            << park::in_subject(park::site_key(sc.name));
  if (a.speed > 0) std::cout << "; at worst " << fixed(behind, 1) << " ms behind the schedule";
  std::cout << "\n";
  return kExitPass;
}

int cmd_report(const ParkArgs& a) {
  park::Nats n;
  if (!open_park(a, n, "planttwin park report")) return kExitBadInput;
  bool from_log = false;
  std::string err;
  const std::string site = park::site_key(a.site);
  if (!park::report_site(n, site, a.report, from_log, err)) {
    std::cerr << "planttwin park report: " << err << "\n";
    return kExitBadInput;
  }
  if (from_log) std::cout << "Site " << site << " has not ended: report made from its log so far\n";
  std::cout << "Report: " << (fs::path(a.report) / "report.md").string() << "\n";
  return kExitPass;
}

int cmd_export(const ParkArgs& a) {
  park::Nats n;
  if (!open_park(a, n, "planttwin park export")) return kExitBadInput;
  bool ended = false;
  std::string err;
  const std::string site = park::site_key(a.site);
  if (!park::export_site(n, site, a.file, ended, err)) {
    std::cerr << "planttwin park export: " << err << "\n";
    return kExitBadInput;
  }
  std::cout << "Exported " << site << " to " << a.file << (ended ? "" : " (the site has not ended: no end record)") << "\n";
  return kExitPass;
}

void common(CLI::App* c, ParkArgs& a) {
  c->add_option("--nats", a.nats, "NATS server URL (several separated by commas)")->capture_default_str();
  c->add_option("--replicas", a.replicas, "Replicas of the park's streams and buckets when this command creates them (3 in a 3-node cluster)")
      ->capture_default_str();
  c->add_option("--lease-ttl", a.lease_ttl, "A site's lease expires when not renewed for this long")->capture_default_str();
}

}  // namespace

std::vector<Subcommand> add_park_commands(CLI::App& app) {
  auto a = std::make_shared<ParkArgs>();
  CLI::App* worker = app.add_subcommand("worker", "Run park sites from NATS JetStream: leases, checkpoints, failover (docs/park.md; runs until SIGINT/SIGTERM)");
  common(worker, *a);
  worker->add_option("--name", a->name, "This worker's name (default HOST-PID)");
  worker->add_option("--checkpoint-every", a->checkpoint_every, "Checkpoint each site every D of engine time")->capture_default_str();
  worker->add_option("--work-dir", a->work_dir, "Folder for temporary files (default: a temporary folder)");
  worker->add_option("--max-sites", a->max_sites, "Run at most this many sites (default: an even share among live workers)");
  worker->add_option("--take-per-scan", a->take_per_scan,
                     "New sites taken per scan (every 250 ms), so that workers started together share the sites")
      ->capture_default_str();

  CLI::App* park = app.add_subcommand("park", "Sites of the park on NATS JetStream: add, list, play, report, export (docs/park.md)");
  park->require_subcommand(1);
  CLI::App* add = park->add_subcommand("add", "Store scenarios (and their site files) as park sites, keyed by their scenario name");
  add->add_option("scenario", a->scenarios, "Scenario files")->required();
  add->add_flag("--no-script", a->no_script, "Do not play the scenario's script actions in the worker (inputs come only from the log)");
  common(add, *a);
  CLI::App* list = park->add_subcommand("list", "Every site: owner, state (running, ended, error), engine time, inputs, rate, last checkpoint");
  list->add_flag("--json", a->json, "One JSON object per site");
  common(list, *a);
  CLI::App* play = park->add_subcommand("play", "Publish a scenario's inputs (truth fixes) stamped with scenario time, then the end marker");
  play->add_option("scenario", a->scenarios, "Scenario file (added with park add)")->required();
  play->add_option("--speed", a->speed, "Pace: N times the scenario's time (0: as fast as possible)")->capture_default_str();
  play->add_flag("--acked", a->acked, "Publish each message acknowledged before the next, retried for 30 s (survives a NATS node failover in order)");
  play->add_flag("--no-batch", a->no_batch, "One message per input (default: the fixes of one scenario instant in one batch message, stepped once)");
  play->add_option("--batch-bytes", a->batch_bytes,
                   "A batch message holds at most this many bytes; an instant's fixes beyond it go in further messages (each one engine step)")
      ->capture_default_str();
  common(play, *a);
  CLI::App* report = park->add_subcommand("report", "Write a site's report (report.json, report.md with hash)");
  report->add_option("site", a->site, "Site (the scenario's name)")->required();
  report->add_option("--report", a->report, "Folder for report.json and report.md")->required();
  common(report, *a);
  CLI::App* exp = park->add_subcommand("export", "Write a site's inputs as a recording (.ptrec): planttwin replay gives the park's hash");
  exp->add_option("site", a->site, "Site (the scenario's name)")->required();
  exp->add_option("file", a->file, "Recording file to write")->required();
  common(exp, *a);

  return {{worker, [a] { return cmd_worker(*a); }},
          {park, [a, add, list, play, report, exp] {
             if (*add) return cmd_add(*a);
             if (*list) return cmd_list(*a);
             if (*play) return cmd_play(*a);
             if (*report) return cmd_report(*a);
             if (*exp) return cmd_export(*a);
             return kExitBadInput;
           }}};
}

}  // namespace planttwin::cli
