// planttwin_soak (issue 17, scripts/soak; not part of the test command): a long live session under
// load with faults injected on a schedule, watched from outside the way an operator would.
//
//   planttwin_soak --planttwin build/apps/planttwin --out out/soak [--minutes 60] [--tags 5000] [--tmpfs]
//
// It writes a scenario of N people with tags, starts `planttwin live` on free 127.0.0.1 ports with a
// recording, checkpoints, history and an uplink to an HTTP receiver in this process, and sends one
// fix per tag per second. Faults, at fixed fractions of the run: junk and oversized messages and
// clients that connect and vanish (every minute), the uplink receiver down (20-30 %), the history's
// disk full (45-50 %, a small tmpfs filled up; with --tmpfs, as root), kill -9 and restart with
// --resume from the last checkpoint (60 %). Every 5 s it samples the process's RSS and open files
// and reads the session's `stats` (latency p99, inputs, uplink outbox depth). At the end:
// samples.csv, soak.svg (the curves, faults shaded), soak.json and soak.md (targets and verdict),
// and checks what the design promises to keep: every accepted input in the recording (one replay
// gives the live report's hash and input count), every uplink batch acknowledged once, the
// history's fixes. Nothing leaves 127.0.0.1.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "history/sqlite_history.h"
#include "tests/uplink/receiver.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// People work in teams of three, the teams 40 m apart on a grid over a 1.7 km square plant (a
// plant of 5,000 people is large), each person walking a small circle; the first 30 stand in one
// tight group by the tank farm, a gathering the rule keeps (radius 15 m), and teams stand inside
// the restricted tank farm. (Everyone 20 m from everyone, one connected crowd over the whole
// plant, is the gathering finder's worst case: docs/soak.md.)
// --layout dense instead: 5,000 people to a km2 (BM_EngineIngestDense's density; a turnaround, a
// shift change), everyone but the 30 walking a circle of 10-100 m radius at 1.2 m/s around a centre
// spread over the square [0, 1000] m, so groups of three and more form and break all the time and
// the gathering finder sees one connected crowd.
bool g_dense = false;

double unit_hash(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = i * 0x9e3779b97f4a7c15ull + salt;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

void position(int i, double t, double& x, double& y) {
  if (g_dense && i >= 30) {
    const auto k = static_cast<std::uint64_t>(i);
    const double r = 10 + 90 * unit_hash(k, 1), a = 1.2 / r * t + 6.283185307179586 * unit_hash(k, 2);
    x = 100 + 800 * unit_hash(k, 3) + r * std::cos(a);
    y = 100 + 800 * unit_hash(k, 4) + r * std::sin(a);
    return;
  }
  if (i < 30) {
    x = 1010 + (i % 6) * 1.5 + 0.3 * std::sin(t / 10.0 + i);
    y = 440 + (i / 6) * 1.5 + 0.3 * std::cos(t / 10.0 + i);
    return;
  }
  const int team = (i - 30) / 3, member = (i - 30) % 3, cols = 42;
  x = 20 + (team % cols) * 40 + member * 3 + 1.5 * std::sin(t / 20.0 + i);
  y = 20 + (team / cols) * 40 + 1.5 * std::cos(t / 20.0 + i);
}

void write_scenario(const fs::path& file, int tags, const std::string& gathering_every) {
  std::ofstream f(file);
  f << "scenario: soak\n"
       "description: issue 17 soak, written by planttwin_soak\n"
       "requirements: [H-01, H-03, PL-03, PL-11]\n"
       "site:\n"
       "  site: soak yard\n"
       "  timezone: \"+08:00\"\n"
       "  bounds: [[0, 0], [1750, 0], [1750, 1750], [0, 1750]]\n"
       "  zones:\n"
       "    - {id: tank-farm, name: 储罐区 tank farm, kind: major_hazard, risk: red, polygon: [[1000, 400], [1200, 400], [1200, 600], [1000, 600]], "
       "authorized: {roles: [operator]}}\n"
       "    - {id: loading, name: 装卸区 loading, kind: loading, risk: orange, polygon: [[20, 20], [320, 20], [320, 220], [20, 220]]}\n"
       "  anchors:\n"
       "    - {id: A1, at: [0, 0, 6]}\n    - {id: A2, at: [1750, 0, 6]}\n    - {id: A3, at: [1750, 1750, 6]}\n    - {id: A4, at: [0, 1750, 6]}\n";
  if (!gathering_every.empty()) f << "  rules:\n    gathering: {every: " << gathering_every << "}\n";
  f <<        "start: 2026-03-02T09:00:00+08:00\n"
       "duration: 24h\n"
       "people:\n";
  for (int i = 0; i < tags; ++i) {
    double x = 0, y = 0;
    position(i, 0, x, y);
    f << "  - {id: P" << i + 1 << ", name: P" << i + 1 << ", category: employee, roles: [" << (i % 3 ? "maintenance" : "operator")
      << "], tag: T" << i + 1 << ", at: [" << x << ", " << y << "]}\n";
  }
}

struct Sample {
  double t_min = 0;
  double rss_mb = 0;
  int fds = 0;
  double p99_ms = 0;     // the latest stats' latency p99
  double inputs_s = 0;   // accepted inputs per second since the previous sample
  double uplink_pending = 0;
  double heap_in_use_mb = 0;  // the session's allocator, bytes in use (stats.memory; 0 when not told)
  // the latest stats' decision - ts p99: from the harness's send (ts) to the decision, so it
  // includes the time an input waited in the socket while the loop was busy (p99_ms does not)
  double e2e_p99_ms = 0;
  std::string faults;
};

long rss_kb(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int open_files(int pid) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
  return ec && n == 0 ? -1 : n;
}

int spawn(const std::vector<std::string>& args, const fs::path& log) {
  const int pid = ::fork();
  if (pid == 0) {
    // the live process and the replays end with the harness, however it ends (kill, Ctrl-C)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // nothing else of this process: the receiver's listening socket (Asio does not set
    // close-on-exec) would otherwise stay listening in the child when the receiver goes down
    ::close_range(3, ~0U, 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int run_wait(const std::vector<std::string>& args, const fs::path& log) {
  const int pid = spawn(args, log);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string svg_plot(const std::vector<Sample>& s, double minutes, const std::vector<std::pair<double, double>>& bands) {
  struct Panel {
    const char* title;
    double Sample::*field;
  };
  const Panel panels[] = {{"RSS (MB)", &Sample::rss_mb},
                          {"heap in use (MB; stats.memory)", &Sample::heap_in_use_mb},
                          {"latency p99 arrival->decision (ms)", &Sample::p99_ms},
                          {"latency p99 send->decision (ms; decision - ts)", &Sample::e2e_p99_ms},
                          {"accepted inputs per s", &Sample::inputs_s},
                          {"uplink outbox: batches pending", &Sample::uplink_pending}};
  const int W = 900, H = 170, L = 70, R = 20;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << (H * 7 + 30) << "' font-family='sans-serif' font-size='12'>\n";
  auto panel = [&](int k, const char* title, const std::vector<double>& v) {
    const int top = 10 + k * H;
    const double hi = std::max(1e-9, *std::max_element(v.begin(), v.end())) * 1.1;
    o << "<text x='" << L << "' y='" << top + 12 << "'>" << title << " (max " << std::round(hi / 1.1 * 100) / 100 << ")</text>\n";
    const int y0 = top + 20, y1 = top + H - 25;
    for (const auto& [a, b] : bands)
      o << "<rect x='" << L + (W - L - R) * a / minutes << "' y='" << y0 << "' width='" << std::max(1.0, (W - L - R) * (b - a) / minutes)
        << "' height='" << y1 - y0 << "' fill='#f6d8d8'/>\n";
    o << "<rect x='" << L << "' y='" << y0 << "' width='" << W - L - R << "' height='" << y1 - y0 << "' fill='none' stroke='#999'/>\n";
    o << "<polyline fill='none' stroke='#1f5fa8' stroke-width='1.5' points='";
    for (size_t i = 0; i < s.size(); ++i)
      o << L + (W - L - R) * s[i].t_min / minutes << "," << y1 - (y1 - y0) * v[i] / hi << " ";
    o << "'/>\n<text x='" << L - 5 << "' y='" << y1 << "' text-anchor='end'>0</text><text x='" << L - 5 << "' y='" << y0 + 10
      << "' text-anchor='end'>" << std::round(hi * 10) / 10 << "</text>\n";
  };
  for (int k = 0; k < 6; ++k) {
    std::vector<double> v;
    for (const Sample& x : s) v.push_back(x.*(panels[k].field));
    if (v.empty()) v.push_back(0);
    panel(k, panels[k].title, v);
  }
  {
    std::vector<double> v;
    for (const Sample& x : s) v.push_back(x.fds);
    if (v.empty()) v.push_back(0);
    panel(6, "open files", v);
  }
  o << "<text x='" << L << "' y='" << H * 7 + 20 << "'>minutes; shaded: faults (receiver down, disk full, kill -9 and resume)</text>\n</svg>\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"planttwin soak: a long live session under load and faults (issue 17)"};
  std::string bin, out;
  double minutes = 60;
  int tags = 5000;
  bool tmpfs = false;
  double max_rss_growth = 0.05, max_p99_ratio = 2;
  app.add_option("--planttwin", bin, "The planttwin command")->required();
  app.add_option("--out", out, "Output folder (created)")->required();
  app.add_option("--minutes", minutes, "Length of the run")->capture_default_str();
  app.add_option("--tags", tags, "Tags, one fix each per second")->capture_default_str();
  std::string layout = "teams";
  app.add_option("--layout", layout, "teams: teams of three 40 m apart over 1.75 km (a large plant); dense: 5,000 a km2 walking circles")
      ->capture_default_str()
      ->check(CLI::IsMember({"teams", "dense"}));
  std::string gathering_every;
  app.add_option("--gathering-every", gathering_every, "The site's rules.gathering.every (e.g. 1s; default: not set, every step)");
  app.add_flag("--tmpfs", tmpfs, "Put the history on a small tmpfs and fill it (the disk-full fault; needs root)");
  app.add_option("--max-rss-growth", max_rss_growth, "Target: RSS growth of a process after warm-up, as a fraction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--max-p99-ratio", max_p99_ratio, "Target: p99 latency at the end over p99 after warm-up (floor 1 ms)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1000.0));
  CLI11_PARSE(app, argc, argv);
  g_dense = layout == "dense";
  bin = fs::absolute(bin).string();
  const fs::path dir = fs::absolute(out);
  // an earlier soak stopped before its end leaves its tmpfs mounted: unmounted here (lazily, in
  // case its live process is still running), or the folder cannot be emptied
  ::umount2((dir / "histfs").c_str(), MNT_DETACH);
  std::error_code rm_ec;
  fs::remove_all(dir, rm_ec);
  if (rm_ec) {
    std::cerr << "soak: cannot empty " << dir << ": " << rm_ec.message() << "\n";
    return 2;
  }
  fs::create_directories(dir / "ck");
  const fs::path scenario = dir / "soak.yaml";
  write_scenario(scenario, tags, gathering_every);

  // the history's disk: a 256 MB tmpfs when allowed, else a plain folder (the fault is skipped)
  fs::path histdir = dir / "histfs";
  fs::create_directories(histdir);
  bool have_tmpfs = false;
  if (tmpfs) {
    have_tmpfs = ::mount("tmpfs", histdir.c_str(), "tmpfs", 0, "size=256m") == 0;
    if (!have_tmpfs) std::cerr << "soak: cannot mount a tmpfs at " << histdir << " (" << std::strerror(errno) << "): no disk-full fault\n";
  }
  const double total_s = minutes * 60;
  const double down_from = 0.20 * total_s, down_to = 0.30 * total_s;
  const double full_from = 0.45 * total_s, full_to = 0.50 * total_s;
  const double kill_at = 0.60 * total_s;

  planttwin::test::Receiver receiver;
  const int pin = free_port(), pout = free_port();
  const std::string in = "tcp://127.0.0.1:" + std::to_string(pin), pub = "tcp://127.0.0.1:" + std::to_string(pout);
  std::vector<std::string> args = {bin, "live", scenario.string(), "--bind", in, "--publish", pub, "--record", (dir / "s.ptrec").string(),
                                   "--checkpoint-every", "60s", "--checkpoint-dir", (dir / "ck").string(), "--report", (dir / "report").string(),
                                   "--history", (histdir / "history.db").string(), "--uplink", receiver.url(), "--uplink-outbox",
                                   (dir / "outbox.sqlite").string(), "--uplink-company-code", "91370300SOAK00001"};
  const fs::path log = dir / "live.log";
  std::atomic<int> pid{spawn(args, log)};
  std::cout << "soak: " << tags << " tags for " << minutes << " min; live pid " << pid << ", inputs " << in << ", log " << log << std::endl;

  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "stats");
  sub.set(zmq::sockopt::rcvtimeo, 200);
  sub.connect(pub);
  std::mutex mu;
  json last_stats;
  std::atomic<bool> got_stats{false}, done{false};
  std::thread reader([&] {
    while (!done) {
      zmq::message_t topic, body;
      if (!sub.recv(topic)) continue;
      if (!sub.recv(body)) continue;
      const json j = json::parse(body.to_string(), nullptr, false);
      if (j.is_object()) {
        std::lock_guard<std::mutex> lock(mu);
        last_stats = j;
        got_stats = true;
      }
    }
  });
  for (int i = 0; i < 600 && !got_stats; ++i) std::this_thread::sleep_for(100ms);
  if (!got_stats) {
    std::cerr << "soak: the live session never published stats; see " << log << "\n";
    done = true;
    reader.join();
    ::kill(pid, SIGKILL);
    return 2;
  }

  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::atomic<std::uint64_t> sent{0}, not_sent{0}, junk{0}, vanished{0};
  std::thread sender([&] {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 100000);
    push.set(zmq::sockopt::linger, 0);
    push.connect(in);
    std::int64_t slice = 0;
    while (!done) {
      const int k = static_cast<int>(slice % 100);
      const double t = static_cast<double>(slice) / 100.0;
      for (int i = k; i < tags; i += 100) {
        double x = 0, y = 0;
        position(i, t, x, y);
        const std::string body = json{{"v", 1}, {"tag", "T" + std::to_string(i + 1)}, {"ts", unix_ms()}, {"x", std::round(x * 100) / 100},
                                      {"y", std::round(y * 100) / 100}, {"floor", 1}}
                                     .dump();
        const bool ok = push.send(zmq::buffer(std::string("fix")), zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
                        push.send(zmq::buffer(body), zmq::send_flags::dontwait);
        (ok ? sent : not_sent)++;
      }
      ++slice;
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(10 * slice));
    }
  });

  std::vector<Sample> samples;
  std::vector<std::pair<double, double>> bands;  // minutes
  std::uint64_t last_inputs = 0;
  double last_t = 0;
  bool down = false, full = false, killed = false;
  int restarts = 0;
  double next_minute = 60;
  std::string resume_from;
  while (elapsed() < total_s) {
    std::this_thread::sleep_for(5s);
    const double t = elapsed();
    std::string faults;
    // the uplink receiver down for minutes
    if (!down && t >= down_from && t < down_to) receiver.go_down(), down = true, bands.push_back({t / 60, down_to / 60});
    if (down && t >= down_to) {
      // its port may be held for a moment by a TCP self-connection of the uplink's retries (the
      // port is in the ephemeral range and nobody listened): try again at the next sample
      down = !receiver.come_up();
      if (down) std::cerr << "soak: the receiver cannot listen again yet\n";
    }
    if (down) faults += "receiver-down ";
    // the history's disk full
    if (have_tmpfs && !full && t >= full_from && t < full_to) {
      std::ofstream filler(histdir / "filler", std::ios::binary);
      const std::string mb(1 << 20, 'x');
      while (filler.write(mb.data(), mb.size())) {
      }
      full = true;
      bands.push_back({t / 60, full_to / 60});
    }
    if (full && t >= full_to) fs::remove(histdir / "filler"), full = false;
    if (full) faults += "disk-full ";
    // kill -9, then the same command with --resume from the last checkpoint
    if (!killed && t >= kill_at) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      killed = true;
      std::vector<fs::path> cks;
      for (const auto& e : fs::directory_iterator(dir / "ck"))
        if (e.path().extension() == ".ptck") cks.push_back(e.path());
      std::sort(cks.begin(), cks.end());
      std::this_thread::sleep_for(3s);  // down for a moment
      if (!cks.empty()) {
        resume_from = cks.back().string();
        std::vector<std::string> again = args;
        again.push_back("--resume");
        again.push_back(resume_from);
        pid = spawn(again, log);
        ++restarts;
      }
      bands.push_back({t / 60, (t + 10) / 60});
      faults += "kill-9 ";
      std::cout << "soak: killed at " << t << " s, resumed from " << resume_from << std::endl;
    }
    // junk, oversized and vanishing clients once a minute
    if (t >= next_minute) {
      next_minute += 60;
      zmq::socket_t bad(ctx, zmq::socket_type::push);
      bad.set(zmq::sockopt::linger, 500);
      bad.connect(in);
      for (const char* b : {"{not json", "[]", "{\"v\":1,\"tag\":\"T1\"}", "{\"v\":1,\"tag\":\"NOPE\",\"ts\":1,\"x\":1,\"y\":1}"}) {
        bad.send(zmq::buffer(std::string("fix")), zmq::send_flags::sndmore);
        bad.send(zmq::buffer(std::string(b)), zmq::send_flags::none);
        ++junk;
      }
      bad.send(zmq::buffer(std::string("nonsense")), zmq::send_flags::sndmore);
      bad.send(zmq::buffer(std::string("{}")), zmq::send_flags::none);
      ++junk;
      std::this_thread::sleep_for(200ms);
      zmq::socket_t big(ctx, zmq::socket_type::push);  // over maxmsgsize: the engine drops this peer
      big.set(zmq::sockopt::linger, 0);
      big.connect(in);
      big.send(zmq::buffer(std::string("fix")), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      big.send(zmq::buffer(std::string(3 << 20, 'x')), zmq::send_flags::dontwait);
      for (int c = 0; c < 20; ++c) {  // clients that connect and vanish, one mid-message
        zmq::socket_t v(ctx, zmq::socket_type::push);
        v.set(zmq::sockopt::linger, 0);
        v.connect(in);
        if (c == 0) v.send(zmq::buffer(std::string("fix")), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        ++vanished;
      }
      faults += "junk ";
    }
    Sample s;
    s.t_min = t / 60;
    s.rss_mb = static_cast<double>(rss_kb(pid)) / 1024.0;
    s.fds = open_files(pid);
    {
      std::lock_guard<std::mutex> lock(mu);
      s.p99_ms = last_stats.value("latency_us_p99", 0) / 1000.0;
      s.e2e_p99_ms = static_cast<double>(last_stats.value("decision_minus_ts_ms_p99", 0));
      const std::uint64_t inputs = last_stats.value("inputs", std::uint64_t{0});
      s.inputs_s = t > last_t && inputs >= last_inputs ? static_cast<double>(inputs - last_inputs) / (t - last_t) : 0;
      last_inputs = inputs;
      if (last_stats.contains("uplink")) s.uplink_pending = last_stats["uplink"].value("pending", 0);
      if (last_stats.contains("memory"))
        s.heap_in_use_mb = static_cast<double>(last_stats["memory"].value("heap_in_use_bytes", std::uint64_t{0})) / (1024.0 * 1024.0);
    }
    last_t = t;
    s.faults = faults;
    samples.push_back(s);
    std::printf("soak: %6.1f min  rss %7.1f MB  heap %7.1f MB  fds %4d  p99 %7.2f ms  send->decision p99 %5.0f ms  inputs/s %7.0f  outbox %4.0f  %s\n",
                s.t_min, s.rss_mb, s.heap_in_use_mb, s.fds, s.p99_ms, s.e2e_p99_ms, s.inputs_s, s.uplink_pending, faults.c_str());
    std::fflush(stdout);
  }
  done = true;
  sender.join();
  std::this_thread::sleep_for(1s);
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  reader.join();
  const int live_rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  for (int i = 0; down && i < 20; ++i)
    if (!(down = !receiver.come_up())) break;
    else std::this_thread::sleep_for(500ms);

  // what the design promises to keep
  json v;
  v["minutes"] = minutes;
  v["tags"] = tags;
  v["live_exit"] = live_rc;
  v["restarts"] = restarts;
  v["resumed_from"] = resume_from;
  v["sent"] = sent.load();
  v["not_sent_engine_down"] = not_sent.load();
  v["junk_messages"] = junk.load();
  v["vanishing_clients"] = vanished.load();
  const json live = json::parse(read_file(dir / "report" / "report.json"), nullptr, false);
  const int replay_rc = run_wait({bin, "replay", (dir / "s.ptrec").string(), "--report", (dir / "replay").string()}, dir / "replay.log");
  const json replay = json::parse(read_file(dir / "replay" / "report.json"), nullptr, false);
  const bool reports = live.is_object() && replay.is_object();
  v["recording"] = {{"replay_exit", replay_rc},
                    {"live_accepted", reports ? live["live"].value("accepted", -1) : -1},
                    {"replay_accepted", reports ? replay["live"].value("accepted", -1) : -1},
                    {"live_dropped_by_reason", reports ? live["live"]["dropped_by_reason"] : json()},
                    {"same_hash", reports && live.value("hash", "a") == replay.value("hash", "b")},
                    {"same_fix_hash", reports && live.value("fix_hash", "a") == replay.value("fix_hash", "b")}};
  // uplink: every batch acknowledged once (the receiver keeps each Idempotency-Key once)
  std::size_t batches = 0, resent = 0;
  for (const auto& r : receiver.requests()) (r.duplicate ? resent : batches)++;
  auto count = [](const fs::path& file, const char* sql) {
    std::int64_t n = -1;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* q = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
      sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return n;
  };
  // outbox batch states (hardware-in-loop/uplink/outbox.cpp): 0 not yet acknowledged, 2 refused
  const std::int64_t pending = count(dir / "outbox.sqlite", "SELECT COUNT(*) FROM batch WHERE state = 0");
  const std::int64_t refused = count(dir / "outbox.sqlite", "SELECT COUNT(*) FROM batch WHERE state = 2");
  v["uplink"] = {{"batches_stored", batches}, {"batches_sent_again_after_storing", resent}, {"outbox_unacknowledged_at_end", pending},
                 {"outbox_refused", refused}};
  // history: fixes stored
  // (sealed and not sealed yet: through the store, which reads its own log)
  std::int64_t hist_fixes = -1;
  {
    std::string err;
    planttwin::HistoryOptions ho;
    ho.background_flush = false;
    if (auto h = planttwin::SqliteHistory::open((histdir / "history.db").string(), ho, err)) hist_fixes = static_cast<std::int64_t>(h->stored_fixes());
  }
  v["history"] = {{"fixes_stored", hist_fixes}, {"disk_full_fault", have_tmpfs}};
  // RSS growth after warm-up, per process (the kill at 60 % starts another): the first process
  // from 10-20 % to 50-60 %, the resumed one from 70-80 % (after its catch-up) to 90-100 %;
  // medians of the samples in each span. p99 flatness: 10-20 % against 90-100 %.
  auto med = [&](double a, double b, double Sample::*f) {
    std::vector<double> x;
    for (const Sample& s : samples)
      if (s.t_min >= a * minutes && s.t_min < b * minutes) x.push_back(s.*f);
    return median(x);
  };
  auto growth = [](double a, double b) { return a > 0 ? (b - a) / a : 0.0; };
  const double r1a = med(0.1, 0.2, &Sample::rss_mb), r1b = med(0.5, 0.6, &Sample::rss_mb);
  const double r2a = med(0.7, 0.8, &Sample::rss_mb), r2b = med(0.9, 1.01, &Sample::rss_mb);
  const double g = std::max(growth(r1a, r1b), growth(r2a, r2b));
  v["rss_mb"] = {{"first_process", {{"at_10_20_percent", r1a}, {"at_50_60_percent", r1b}, {"growth", growth(r1a, r1b)}}},
                 {"resumed_process", {{"at_70_80_percent", r2a}, {"at_90_100_percent", r2b}, {"growth", growth(r2a, r2b)}}}};
  const double p99_a = med(0.1, 0.2, &Sample::p99_ms), p99_b = med(0.9, 1.01, &Sample::p99_ms);
  v["heap_in_use_mb"] = {{"at_10_20_percent", med(0.1, 0.2, &Sample::heap_in_use_mb)},
                         {"at_50_60_percent", med(0.5, 0.6, &Sample::heap_in_use_mb)},
                         {"at_70_80_percent", med(0.7, 0.8, &Sample::heap_in_use_mb)},
                         {"at_90_100_percent", med(0.9, 1.01, &Sample::heap_in_use_mb)}};
  v["p99_ms"] = {{"at_10_20_percent", p99_a}, {"at_90_100_percent", p99_b}};
  {
    std::vector<double> e;
    for (const Sample& x : samples) e.push_back(x.e2e_p99_ms);
    std::sort(e.begin(), e.end());
    v["send_to_decision_p99_ms"] = {{"median", median(e)}, {"p95_of_samples", e.empty() ? 0.0 : e[e.size() * 95 / 100]},
                                    {"max", e.empty() ? 0.0 : e.back()}};
  }
  v["limits"] = {{"max_rss_growth", max_rss_growth}, {"max_p99_ratio", max_p99_ratio}};
  const bool kept = reports && v["recording"]["same_hash"] && replay_rc <= 1 &&
                    v["recording"]["live_accepted"] == v["recording"]["replay_accepted"];
  v["targets"] = {{"rss_growth_under_limit", g < max_rss_growth},
                  {"p99_flat_within_ratio", p99_b <= max_p99_ratio * std::max(1.0, p99_a)},
                  {"recording_replays_to_the_same_hash", kept},
                  {"uplink_nothing_pending", pending == 0}};
  std::ofstream(dir / "soak.json") << v.dump(2) << "\n";
  {
    std::ofstream csv(dir / "samples.csv");
    csv << "minute,rss_mb,open_files,latency_p99_ms,inputs_per_s,uplink_pending,heap_in_use_mb,faults,send_to_decision_p99_ms\n";
    for (const Sample& s : samples)
      csv << s.t_min << "," << s.rss_mb << "," << s.fds << "," << s.p99_ms << "," << s.inputs_s << "," << s.uplink_pending << "," << s.heap_in_use_mb << "," << s.faults << "," << s.e2e_p99_ms << "\n";
  }
  std::ofstream(dir / "soak.svg") << svg_plot(samples, minutes, bands);
  std::cout << v.dump(2) << "\nsoak: samples.csv, soak.svg, soak.json in " << dir << std::endl;
  if (have_tmpfs) ::umount(histdir.c_str());
  bool all = true;
  for (const auto& [k, ok] : v["targets"].items()) all = all && ok.get<bool>();
  return all ? 0 : 1;
}
