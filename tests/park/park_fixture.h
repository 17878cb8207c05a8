// Test helpers for the park (issue 13): real nats-server processes (one, or a three-node cluster)
// with JetStream on free loopback ports in a temporary folder, planttwin workers as child
// processes, and a one-process reference of a site's outputs. Every wait is bounded.
#pragma once
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hardware-in-loop/live.h"
#include "hardware-in-loop/recording.h"
#include "hardware-in-loop/session.h"
#include "park/nats_impl.h"
#include "park/park.h"
#include "scenarios/loader.h"

namespace planttwin::park::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline const char* kNatsServer = "/usr/sbin/nats-server";
inline std::string planttwin_bin() { return std::string(PLANTTWIN_COMMAND); }
inline std::string scenario_path(const std::string& rel) { return std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/" + rel; }

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout, int poll_ms = 20) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return cond();
}

// A child process (argv[0] the program), stdout and stderr into `log`. Killed (SIGKILL) and reaped
// by its destructor when still running.
class Child {
 public:
  Child() = default;
  Child(const std::vector<std::string>& argv, const fs::path& log) { start(argv, log); }
  ~Child() { kill(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void start(const std::vector<std::string>& argv, const fs::path& log) {
    log_ = log;
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) wait();
  }
  // Waits for the exit (bounded); the exit code, or -1.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (pid_ <= 0) return rc_;
    int st = 0;
    const auto until = Clock::now() + timeout;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
      if (Clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    rc_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return rc_;
  }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::ifstream f(log_);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }

 private:
  pid_t pid_ = -1;
  int rc_ = -1;
  fs::path log_;
};

// Runs planttwin with args to the end; exit code and output.
inline int run_planttwin(const std::vector<std::string>& args, std::string* out, const fs::path& dir) {
  static int n = 0;
  const fs::path log = dir / ("cmd-" + std::to_string(++n) + ".log");
  std::vector<std::string> argv{planttwin_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c(argv, log);
  const int rc = c.wait(std::chrono::seconds(60));
  if (out) *out = c.log();
  return rc;
}

// nats-server with JetStream on 127.0.0.1:port, store in dir; optionally a cluster node.
class NatsServer {
 public:
  static bool available() { return ::access(kNatsServer, X_OK) == 0; }
  NatsServer(fs::path dir, int port) : dir_(std::move(dir)), port_(port) {}
  ~NatsServer() { kill(); }
  bool start(const std::string& name = "", int cluster_port = 0, const std::vector<int>& routes = {}) {
    std::vector<std::string> argv{kNatsServer, "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", (dir_ / "js").string()};
    if (!name.empty()) argv.insert(argv.end(), {"-n", name});
    if (cluster_port) {
      argv.insert(argv.end(), {"--cluster_name", "park", "--cluster", "nats://127.0.0.1:" + std::to_string(cluster_port)});
      std::string r;
      for (int p : routes) r += (r.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
      if (!r.empty()) argv.insert(argv.end(), {"--routes", r});
    }
    fs::create_directories(dir_);
    proc_ = std::make_unique<Child>(argv, dir_ / "nats-server.log");
    return wait_until([this] { return port_open(port_); }, std::chrono::seconds(10));
  }
  void kill() {
    if (proc_) proc_->kill(SIGKILL);
    proc_.reset();
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  fs::path dir_;
  int port_;
  std::unique_ptr<Child> proc_;
};

// One output message as stored in PARK_OUT (topic from the subject).
struct OutMsg {
  std::string topic, body, id;
  bool operator==(const OutMsg& o) const { return topic == o.topic && body == o.body; }
};

// Every output of a site in PARK_OUT, in stream order.
inline std::vector<OutMsg> stored_outputs(Nats& n, const std::string& site) {
  std::vector<OutMsg> out;
  Nats::Impl& m = n.impl();
  const std::string subject = "park.out." + site + ".>";
  // not the client's ordered consumer: see LogReader (park/nats_impl.h)
  LogReader reader(m.nc, kOutStream, subject, 1);
  std::string err;
  if (!reader.open(20000, err)) {
    ADD_FAILURE() << "cannot read " << subject << ": " << err;
    return out;
  }
  for (;;) {
    natsMsg* msg = nullptr;
    // the first message may take a while in a cluster that just lost a node (the consumer is
    // created on the stream's leader); after it, a pause ends the stream
    if (reader.next(&msg, out.empty() ? 15000 : 1500) != NATS_OK) break;
    OutMsg o;
    const std::string subj = natsMsg_GetSubject(msg);
    o.topic = subj.substr(subj.rfind('.') + 1);
    o.body.assign(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "", static_cast<size_t>(natsMsg_GetDataLength(msg)));
    const char* v = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &v) == NATS_OK && v) o.id = v;
    out.push_back(std::move(o));
    natsMsg_Destroy(msg);
  }
  return out;
}

// A one-process reference: the recording replayed in a session whose outputs are collected
// (what one engine decides from these inputs), and its hash.
inline bool reference_outputs(const std::string& ptrec, std::vector<OutMsg>& out, std::string& hash, std::string& error) {
  hil::Recording rec;
  if (!hil::read_recording(ptrec, rec, error)) return false;
  Scenario sc;
  if (!hil::load_recording_scenario(rec.header, sc, error)) return false;
  hil::SessionOptions so;
  so.start_unix_us = rec.header.start_unix_us;
  so.with_script = rec.header.with_script;
  so.solve_window = rec.header.solve_window;
  so.replay = true;
  sc.site.timezone_min = rec.header.utc_offset_min;
  hil::Session s(sc, so);
  s.set_publisher([&](const hil::WireMessage& w) { out.push_back({w.topic, w.body, ""}); });
  Micros end = 0;
  hil::RecordFeeder feed(s, rec.header.input_batches);  // a batch message's inputs: one engine step
  for (const hil::Record& r : rec.records) {
    feed.record(r);
    if (r.kind == hil::RecordKind::input) end = std::max(end, r.input.t);
    else if (r.kind == hil::RecordKind::reached || r.kind == hil::RecordKind::end) end = std::max(end, r.end_t);
  }
  feed.finish();
  RunResult res;
  s.finish(end, res);
  hash = res.hash;
  return true;
}

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::string report_hash(const fs::path& dir) {
  auto j = nlohmann::json::parse(read_text(dir / "report.json"), nullptr, false);
  return j.is_object() ? j.value("hash", "") : "";
}

inline std::optional<SiteStatus> site_status(Nats& n, const std::string& site) {
  for (const SiteStatus& s : list_sites(n))
    if (s.site == site) return s;
  return std::nullopt;
}

// Outputs stored in PARK_OUT (all sites) and the output count the site's latest checkpoint entry
// holds (outputs published before it); a worker killed while stored > at_checkpoint has published
// outputs that its successor publishes again (and JetStream must drop as duplicates).
struct OutputProgress {
  std::uint64_t stored = 0, at_checkpoint = 0;
  double checkpoint_t_s = -1;
};
inline OutputProgress output_progress(Nats& n, const std::string& site) {
  OutputProgress p;
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, n.impl().js, kOutStream, nullptr, nullptr) == NATS_OK && si) {
    p.stored = si->State.Msgs;
    jsStreamInfo_Destroy(si);
  }
  if (auto v = kv_get(n.impl().ck, site)) {
    auto j = nlohmann::json::parse(v->substr(0, v->find('\n')), nullptr, false);
    if (j.is_object()) {
      p.at_checkpoint = j.value("outputs", std::uint64_t{0});
      p.checkpoint_t_s = j.value("t_s", -1.0);
    }
  }
  return p;
}

// A folder under the build tree for one test.
inline fs::path test_dir(const std::string& name) {
  const fs::path d = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "park" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace planttwin::park::test
