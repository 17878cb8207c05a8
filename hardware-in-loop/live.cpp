#include "hardware-in-loop/live.h"

#include <algorithm>
#include <set>
#include <cmath>
#include <chrono>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <csignal>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "hardware-in-loop/curve.h"
#ifdef PLANTTWIN_HAS_UPLINK
#include "hardware-in-loop/uplink/http_client.h"
#include "hardware-in-loop/uplink/uplink.h"
#include "hardware-in-loop/uplink_setup.h"
#endif
#include "scenarios/loader.h"

#ifndef PLANTTWIN_VERSION
#define PLANTTWIN_VERSION "0.0.0"
#endif

namespace planttwin::hil {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int kBatch = 256;  // messages per handler turn before timers get a chance

bool read_bytes(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

// Quantiles of a whole session in bounded memory: log-spaced buckets 1 % wide over |v| in
// [1e-3, 1e9], one set for each sign; a quantile is its bucket's geometric middle (±0.5 %).
class LogHistogram {
 public:
  void add(double v) {
    ++n_;
    if (v == 0) {
      ++zero_;
      return;
    }
    auto& side = v < 0 ? neg_ : pos_;
    const double a = std::clamp(std::fabs(v), kMin, kMax);
    ++side[static_cast<size_t>(std::log(a / kMin) / kLogStep)];
  }
  std::uint64_t count() const { return n_; }
  // nearest rank, as quantile_nearest_rank
  double quantile(double q) const {
    if (n_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::clamp(std::ceil(q * static_cast<double>(n_)), 1.0, static_cast<double>(n_)));
    std::uint64_t seen = 0;
    for (size_t i = kBuckets; i-- > 0;)  // most negative first
      if ((seen += neg_[i]) >= rank) return -middle(i);
    if ((seen += zero_) >= rank) return 0;
    for (size_t i = 0; i < kBuckets; ++i)
      if ((seen += pos_[i]) >= rank) return middle(i);
    return middle(kBuckets - 1);
  }

 private:
  static constexpr double kMin = 1e-3, kMax = 1e9;
  static inline const double kLogStep = std::log(1.01);
  static inline const size_t kBuckets = static_cast<size_t>(std::log(kMax / kMin) / std::log(1.01)) + 1;
  static double middle(size_t i) { return kMin * std::exp((static_cast<double>(i) + 0.5) * kLogStep); }
  std::vector<std::uint64_t> neg_ = std::vector<std::uint64_t>(kBuckets), pos_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t zero_ = 0, n_ = 0;
};

// Latency samples of one stats period (exact; cleared every second) and of the whole session
// (histogram: a long session keeps constant memory).
struct Samples {
  std::vector<double> period;
  LogHistogram all;
  void add(double v) {
    period.push_back(v);
    all.add(v);
  }
};


}  // namespace

namespace {

Micros record_time(const Record& x) {
  return x.kind == RecordKind::input ? x.input.t : x.kind == RecordKind::solve ? x.solve.t : x.end_t;
}

}  // namespace

void RecordFeeder::record(const Record& x) {
  if (open_ && (x.kind != RecordKind::input || x.input.t != t_)) release();
  switch (x.kind) {
    case RecordKind::input:
      if (batches_ && !open_) {
        s_.hold_engine(true);
        open_ = true;
        t_ = x.input.t;
      }
      s_.on_message(x.input.t, x.input.topic, x.input.body);
      break;
    case RecordKind::solve: s_.solve_recorded(x.solve.t, x.solve.tag); break;
    case RecordKind::reached: s_.advance(x.end_t); break;
    case RecordKind::end:
    case RecordKind::header: break;
  }
}

void RecordFeeder::finish() {
  if (open_) release();
}

void RecordFeeder::release() {
  s_.hold_engine(false);
  s_.advance(t_);
  open_ = false;
}

bool recording_header_for(const Scenario& sc, RecordingHeader& h, std::string& error) {
  h.product_version = PLANTTWIN_VERSION;
  h.scenario_path = sc.file;
  h.scenario_sha256 = sc.scenario_sha256;
  if (!read_bytes(sc.file, h.scenario_text) || sha256_hex(h.scenario_text) != sc.scenario_sha256) {
    error = sc.file + ": cannot embed the scenario in the recording (unreadable, or changed since it was loaded)";
    return false;
  }
  h.site_path = sc.site.file;
  h.site_sha256 = sc.site_sha256;
  if (!sc.site.file.empty() && (!read_bytes(sc.site.file, h.site_text) || site_sha256(h.site_text, sc.site) != sc.site_sha256)) {
    error = sc.site.file + ": cannot embed the site in the recording (unreadable, or changed since it was loaded)";
    return false;
  }
  // the mesh obstacles' model files, relative to the folder of the file that names them (the
  // site file, or the scenario for an inline site); replay checks them through the site's hash
  const fs::path base = fs::absolute(fs::path(sc.site.file.empty() ? sc.file : sc.site.file)).parent_path().lexically_normal();
  std::set<std::string> seen;
  for (const Obstacle& o : sc.site.obstacles) {
    if (!o.mesh) continue;
    for (const std::string& f : o.mesh->files) {
      const fs::path abs = fs::absolute(fs::path(f)).lexically_normal();
      const std::string rel = abs.lexically_relative(base).generic_string();
      if (rel.empty() || !seen.insert(rel).second) continue;
      std::string bytes;
      if (!read_bytes(abs.string(), bytes)) {
        error = abs.string() + ": cannot embed the model file in the recording (unreadable)";
        return false;
      }
      h.models.emplace_back(rel, std::move(bytes));
    }
  }
  return true;
}

struct LiveLoop::Impl final : ChannelHost {
  Impl(const Scenario& s, LiveOptions o) : sc(s), opt(std::move(o)), ctx(1), in_fd(io), eval_timer(io), stats_timer(io), solve_timer(io),
                                           end_timer(io), signals(io) {}

  const Scenario& sc;
  LiveOptions opt;
  asio::io_context io;
  zmq::context_t ctx;
  zmq::socket_t in, pub;
  std::unique_ptr<ZapHandler> zap;
  asio::posix::stream_descriptor in_fd;
  asio::steady_timer eval_timer, stats_timer, solve_timer, end_timer;
  asio::signal_set signals;
  std::unique_ptr<Session> session;
#ifdef PLANTTWIN_HAS_UPLINK
  std::unique_ptr<Uplink> uplink;
#endif
  RecordingWriter recorder;
  SteadyClock::time_point start;
  bool waiting = false, stopping = false;
  std::atomic<bool> stop_requested{false};
  Samples latency_us, device_ms;
  std::uint64_t stats_sent = 0;
  std::uint64_t memory_trims = 0;  // malloc_trim calls (release_free_memory)
  std::int64_t stats_k = 0;
  std::size_t caught_up = 0;  // live --resume: records of the interrupted session read again
  std::optional<Micros> armed_solve;
  std::string error;
  std::map<std::string, SourceStats> sources;  // per input source (stats, report)
  SourceStats* zeromq_stats = nullptr;         // sources["zeromq"] (map entries stay put)
  bool capture_error = false;                  // deliver(): the session's `error` answer
  std::string captured_error;
  Micros last_stamp = -1;                      // stamp(): the latest time given to the session
  struct Arrived {                             // a message of an input batch, as read
    std::vector<zmq::message_t> frames;
    SteadyClock::time_point arrival;
  };
  std::vector<Arrived> batch;                  // drain_input(): the batch being read
  std::vector<std::pair<const Arrived*, std::int64_t>> accepted_ts;  // its accepted messages, device ts

  // ---- ChannelHost: the channels' inputs, on this thread ----
  asio::io_context& context() override { return io; }
  Delivery deliver(const std::string& src, std::string_view topic, std::string_view body, SteadyClock::time_point arrival) override {
    Delivery d;
    SourceStats& st = sources[src];
    ++st.received;
    if (stopping) {
      ++st.dropped;
      ++st.dropped_by_reason["stopping"];
      d.reason = "stopping";
      return d;
    }
    const Micros t = stamp();
    std::int64_t ts_ms = 0;
    capture_error = true;
    captured_error.clear();
    d.accepted = session->on_message(t, topic, body, &ts_ms);
    capture_error = false;
    if (d.accepted) {
      ++st.accepted;
      const SteadyClock::time_point decided = SteadyClock::now();
      latency_us.add(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(decided - arrival).count()) / 1000.0);
      device_ms.add(static_cast<double>(unix_ms(session->start_unix_ms(), std::chrono::duration_cast<std::chrono::microseconds>(decided - start).count()) - ts_ms));
    } else {
      ++st.dropped;
      const nlohmann::json e = nlohmann::json::parse(captured_error, nullptr, false);
      d.reason = e.is_object() ? e.value("reason", "") : "";
      d.detail = e.is_object() ? e.value("detail", "") : "";
      ++st.dropped_by_reason[d.reason.empty() ? "refused" : d.reason];
    }
    return d;
  }
  void rejected(const std::string& src, const std::string& reason) override {
    SourceStats& st = sources[src];
    ++st.received;
    ++st.dropped;
    ++st.dropped_by_reason[reason];
  }
  void batch_done() override {
    recorder.flush();
    maybe_arm_solve();
  }
  SourceStats& source(const std::string& name) override { return sources[name]; }
  const Scenario& scenario() const override { return session->scenario(); }
  const Engine& engine() const override { return session->engine(); }
  std::int64_t start_unix_ms() const override { return session->start_unix_ms(); }
  std::int64_t now_unix_ms() const override { return unix_ms(session->start_unix_ms(), now()); }

  Micros now() const { return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count(); }
  SteadyClock::time_point at(Micros t) const { return start + std::chrono::microseconds(t); }

  void publish(const WireMessage& m) {
    if (capture_error && m.topic == "error") captured_error = m.body;
    for (const auto& c : opt.channels) c->output(m);
    if (!pub) return;
    pub.send(zmq::buffer(m.topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    pub.send(zmq::buffer(m.body), zmq::send_flags::dontwait);
  }

  void wait_input() {
    if (waiting || stopping || !in) return;
    waiting = true;
    in_fd.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      waiting = false;
      if (!ec) drain_input();
    });
  }

  // A time for the session that no earlier call had: the engine's inputs get distinct times
  // unless they are one batch, so replay can tell batches apart (docs/live-v1.md "Input batches").
  Micros stamp() {
    last_stamp = std::max(now(), last_stamp + 1);
    return last_stamp;
  }

  // Receives until EAGAIN (or kBatch messages): one input batch. The messages are stamped with one
  // time, taken when the batch has been read, and the engine's rules run once for the batch
  // (Session::hold_engine). A busy loop so reads bigger batches and does less work per input; a
  // quiet one reads one message at a time, as before. Latency is still each message's own, from
  // its arrival to the batch's decision.
  void drain_input() {
    if (stopping || !in) return;
    batch.clear();
    bool drained = false;
    while (static_cast<int>(batch.size()) < kBatch) {
      zmq::message_t m;
      if (!in.recv(m, zmq::recv_flags::dontwait)) {
        drained = true;
        break;
      }
      Arrived& a = batch.emplace_back();
      a.arrival = SteadyClock::now();
      bool more = m.more();
      a.frames.push_back(std::move(m));
      while (more) {  // the rest of a multipart message is already here
        zmq::message_t part;
        if (!in.recv(part, zmq::recv_flags::dontwait)) break;
        more = part.more();
        if (a.frames.size() < 3) a.frames.push_back(std::move(part));
        else a.frames.back() = std::move(part);  // only the count matters past two frames
      }
    }
    if (!batch.empty()) {
      const Micros t = stamp();
      SourceStats& zst = *zeromq_stats;
      accepted_ts.clear();
      session->hold_engine(true);
      for (Arrived& a : batch) {
        const std::string_view topic(static_cast<const char*>(a.frames[0].data()), a.frames[0].size());
        std::int64_t ts_ms = 0;
        ++zst.received;
        capture_error = true;
        captured_error.clear();
        if (a.frames.size() != 2) {
          // a SUB socket sees whole messages; more than 2 frames counts as 3 here
          session->on_bad_frames(t, a.frames.size(), topic);
          ++zst.dropped;
          ++zst.dropped_by_reason["bad_frames"];
        } else if (!session->on_message(t, topic, std::string_view(static_cast<const char*>(a.frames[1].data()), a.frames[1].size()), &ts_ms)) {
          ++zst.dropped;
          const nlohmann::json e = nlohmann::json::parse(captured_error, nullptr, false);
          ++zst.dropped_by_reason[e.is_object() ? e.value("reason", "refused") : "refused"];
        } else {
          ++zst.accepted;
          accepted_ts.emplace_back(&a, ts_ms);
        }
        capture_error = false;
      }
      session->hold_engine(false);
      session->advance(t);
      const SteadyClock::time_point decided = SteadyClock::now();
      const std::int64_t decided_ms = unix_ms(session->start_unix_ms(), std::chrono::duration_cast<std::chrono::microseconds>(decided - start).count());
      for (const auto& [a, ts_ms] : accepted_ts) {
        latency_us.add(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(decided - a->arrival).count()) / 1000.0);
        device_ms.add(static_cast<double>(decided_ms - ts_ms));
      }
    }
    recorder.flush();
    maybe_arm_solve();
    if (drained) wait_input();
    else asio::post(io, [this] { drain_input(); });
  }

  void maybe_arm_solve() {
    const std::optional<Micros> d = session->next_solve_deadline();
    if (!d || (armed_solve && *armed_solve <= *d)) return;
    armed_solve = d;
    solve_timer.expires_at(at(*d));
    solve_timer.async_wait([this](const boost::system::error_code& ec) {
      armed_solve.reset();
      if (ec || stopping) return;
      tick();
    });
  }

  // time passes: script, solver windows, engine steps
  void tick() {
    const Micros t = now();
    session->advance(t);
    recorder.reached(t);
    tick_uplink();
    recorder.flush();
    maybe_arm_solve();
    if (!waiting) drain_input();  // a missed edge costs at most one timer period
  }

  void arm_eval(Micros next) {
    eval_timer.expires_at(at(next));
    eval_timer.async_wait([this, next](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      tick();
      const Micros every = std::max<Micros>(1, sc.site.rules.evaluate_every);
      arm_eval(std::max(next + every, (now() / every + 1) * every));
    });
  }

  void send_stats(Micros t) {
    auto q = [](std::vector<double>& v, double p) { return v.empty() ? 0.0 : quantile_nearest_rank(v, p); };
    const SessionCounters& c = session->counters();
    nlohmann::json j = {{"v", 1},
                        {"ts", unix_ms(session->start_unix_ms(), t)},
                        {"inputs", c.accepted},
                        {"dropped", c.dropped},
                        {"latency_us_p50", std::llround(q(latency_us.period, 0.5))},
                        {"latency_us_p99", std::llround(q(latency_us.period, 0.99))},
                        // planttwin additions
                        {"received", c.received},
                        {"dropped_by_reason", c.dropped_by_reason},
                        {"decision_minus_ts_ms_p50", std::llround(q(device_ms.period, 0.5))},
                        {"decision_minus_ts_ms_p99", std::llround(q(device_ms.period, 0.99))},
                        {"session_s", to_seconds(t)},
                        {"advice", session->advice()}};
    if (!sources.empty()) {
      nlohmann::json src = nlohmann::json::object();
      for (const auto& [name, st] : sources)
        src[name] = {{"received", st.received}, {"accepted", st.accepted}, {"dropped", st.dropped},
                     {"dropped_by_reason", st.dropped_by_reason}, {"connected", st.connected}, {"disconnects", st.disconnects}};
      j["sources"] = src;
    }
#ifdef PLANTTWIN_HAS_UPLINK
    if (uplink) {
      // the outbox's depth (batches not yet acknowledged) and what went out: the soak watches them
      const Uplink::Stats us = uplink->stats();
      j["uplink"] = {{"queued", us.queued}, {"sent", us.sent}, {"pending", us.pending}, {"failed_attempts", us.attempts_failed},
                     {"positions", us.positions}, {"store_errors", us.store_errors}};
    }
#endif
    if (opt.history) {
      // the history store's health: a flush that failed (disk full, the file locked past the busy
      // timeout) keeps what it held and is retried, so fixes - fixes_durable grows until it works
      if (const std::optional<HistorySinkStatus> h = opt.history->status())
        j["history"] = {{"fixes", h->fixes}, {"fixes_durable", h->fixes_durable}, {"out_of_order", h->out_of_order},
                        {"write_errors", h->write_errors}, {"last_write_error", h->last_write_error}};
    }
#if defined(__GLIBC__)
    {
      const struct mallinfo2 mi = mallinfo2();  // walks the allocator's bins, not its chunks: cheap
      j["memory"] = {{"heap_in_use_bytes", mi.uordblks + mi.hblkhd}, {"heap_free_bytes", mi.fordblks},
                     {"trims", memory_trims}};
    }
#endif
    latency_us.period.clear();
    device_ms.period.clear();
    publish({"stats", j.dump()});
    ++stats_sent;
  }

  void arm_stats() {
    const Micros next = stats_k * kSecond;
    stats_timer.expires_at(at(next));
    stats_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      const Micros t = std::max(stats_k * kSecond, now());
      session->advance(t);
      recorder.reached(t);
      send_stats(now());
      tick_uplink();
      if (stats_k > 0 && stats_k % 60 == 0) release_free_memory();
      ++stats_k;
      recorder.flush();
      arm_stats();
      if (!waiting) drain_input();
    });
  }

  // Once a minute: hand the allocator's free pages back to the system. glibc keeps what a burst
  // freed (a large batch formed, a checkpoint encoded) unless it lies at the top of the heap, so a
  // session that runs for months would otherwise hold every past peak (docs/soak.md "Findings").
  // Outside the engine: no effect on what is decided.
  void release_free_memory() {
#if defined(__GLIBC__)
    malloc_trim(0);
    ++memory_trims;
#endif
  }

  void tick_uplink() {
#ifdef PLANTTWIN_HAS_UPLINK
    if (uplink) uplink->tick(session->engine().now());
#endif
  }

  void shutdown() {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ec;
    eval_timer.cancel();
    stats_timer.cancel();
    solve_timer.cancel();
    end_timer.cancel();
    signals.cancel(ec);
    in_fd.cancel(ec);
    for (const auto& c : opt.channels) c->stop();
    io.stop();
  }
};

LiveLoop::LiveLoop(const Scenario& sc, LiveOptions opt) : impl_(std::make_unique<Impl>(sc, std::move(opt))) {}

LiveLoop::~LiveLoop() {
  Impl& m = *impl_;
  for (const auto& c : m.opt.channels) c->stop();  // their sockets close while the io_context lives
  if (m.in_fd.is_open()) m.in_fd.release();  // the descriptor belongs to ZeroMQ
  m.in.close();
  m.pub.close();
  if (m.zap) m.zap->stop();
}

const Scenario& LiveLoop::scenario() const { return impl_->session ? impl_->session->scenario() : impl_->sc; }

bool LiveLoop::open(std::string& error) {
  Impl& m = *impl_;
  const LiveOptions& o = m.opt;
  if (!o.bind.empty() && !o.connect.empty()) {
    error = "give at most one of --bind ENDPOINT (PULL) or --connect ENDPOINT (SUB to a vendor's PUB)";
    return false;
  }
  if (o.bind.empty() && o.connect.empty() && o.channels.empty()) {
    error = "no input: give --bind ENDPOINT (PULL), --connect ENDPOINT (SUB to a vendor's PUB), --mqtt URL or --omlox-listen / --omlox-connect";
    return false;
  }
  for (const auto& c : o.channels)
    if (!c->open(m.io, error)) return false;
  // CURVE: our sockets that bind (PULL with --bind, PUB with --publish) are servers admitting the
  // allowed clients; with --connect the SUB is a client of the vendor's PUB (its public key given)
  const bool curve = !o.curve_secret_key.empty() || !o.curve_allowed_clients.empty() || !o.curve_server_key.empty();
  const bool curve_servers = curve && (!o.bind.empty() || !o.publish.empty());
  if (curve && o.curve_secret_key.empty()) {
    error = "CURVE needs --curve-secret-key FILE (planttwin's own certificate with its secret key)";
    return false;
  }
  if (curve_servers && o.curve_allowed_clients.empty()) {
    error = std::string("CURVE needs --curve-allowed-clients DIR: the clients allowed to connect to ") +
            (!o.bind.empty() ? "the PULL socket (--bind)" : "the PUB socket (--publish)");
    return false;
  }
  if (curve && !o.bind.empty() && !o.curve_server_key.empty()) {
    error = "--curve-server-key is for --connect (the vendor's PUB is the server); with --bind planttwin is the server";
    return false;
  }
  if (curve && !o.connect.empty() && o.curve_server_key.empty()) {
    error = "CURVE with --connect needs --curve-server-key FILE: the public certificate of the vendor's PUB";
    return false;
  }
  try {
    CurveCert own, vendor;
    if (curve) {
      if (!read_zcert(o.curve_secret_key, own, error)) return false;
      if (own.secret_z85.size() != 40) {
        error = o.curve_secret_key + ": no secret-key (give planttwin's own secret certificate)";
        return false;
      }
      if (!o.curve_server_key.empty() && !read_zcert(o.curve_server_key, vendor, error)) return false;
      if (!o.curve_server_key.empty() && vendor.public_z85.size() != 40) {
        error = o.curve_server_key + ": no public-key (give the vendor PUB's certificate)";
        return false;
      }
    }
    if (curve_servers) {
      std::set<std::string> keys;
      if (!read_allowed_clients(o.curve_allowed_clients, keys, error)) return false;
      m.zap = std::make_unique<ZapHandler>(m.ctx, std::move(keys));
      if (!m.zap->start(error)) return false;
    }
    auto make_server = [&](zmq::socket_t& sock) {
      sock.set(zmq::sockopt::curve_server, 1);
      sock.set(zmq::sockopt::curve_secretkey, own.secret_z85);
      sock.set(zmq::sockopt::zap_domain, "planttwin");
    };
    const bool zmq_input = !o.bind.empty() || !o.connect.empty();
    if (zmq_input) {
      m.in = zmq::socket_t(m.ctx, o.bind.empty() ? zmq::socket_type::sub : zmq::socket_type::pull);
      m.in.set(zmq::sockopt::linger, 0);
      m.in.set(zmq::sockopt::rcvhwm, o.rcv_hwm);
      // bodies over 64 KiB are answered on `error`; far larger ones cost the sender its connection
      m.in.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(1) << 20);
      if (curve && !o.bind.empty()) make_server(m.in);
      if (curve && !o.connect.empty()) {
        m.in.set(zmq::sockopt::curve_serverkey, vendor.public_z85);
        m.in.set(zmq::sockopt::curve_publickey, own.public_z85);
        m.in.set(zmq::sockopt::curve_secretkey, own.secret_z85);
      }
      if (o.bind.empty()) {
        m.in.set(zmq::sockopt::subscribe, "");
        m.in.connect(o.connect);
        in_endpoint_ = o.connect;
      } else {
        m.in.bind(o.bind);
        in_endpoint_ = m.in.get(zmq::sockopt::last_endpoint);
      }
    }
    if (!o.publish.empty()) {
      m.pub = zmq::socket_t(m.ctx, zmq::socket_type::pub);
      m.pub.set(zmq::sockopt::linger, 0);
      m.pub.set(zmq::sockopt::sndhwm, 200000);
      if (curve) make_server(m.pub);  // positions and alarms are personal data: encrypted, allowed subscribers only
      m.pub.bind(o.publish);
      pub_endpoint_ = m.pub.get(zmq::sockopt::last_endpoint);
    }
  } catch (const zmq::error_t& e) {
    error = std::string("ZeroMQ: ") + e.what() + " (endpoint " + (o.bind.empty() ? o.connect : o.bind) + (o.publish.empty() ? "" : ", " + o.publish) + ")";
    return false;
  }
  return true;
}

void LiveLoop::act(const AlarmAction& a) {
  nlohmann::json j{{"v", 1},
                   {"alarm_id", a.alarm_id.value_or("")},
                   {"action", a.kind == AlarmAction::Kind::ack ? "ack" : a.kind == AlarmAction::Kind::handle ? "handle" : "close"},
                   {"by", a.by}};
  if (!a.note.empty()) j["note"] = a.note;
  asio::post(impl_->io, [this, j]() mutable {
    Impl& m = *impl_;
    if (!m.session || m.stopping) return;
    const Micros t = m.stamp();
    j["ts"] = unix_ms(m.session->start_unix_ms(), t);
    m.session->on_message(t, "ack", j.dump());
    m.recorder.flush();
  });
}

void LiveLoop::stop() {
  impl_->stop_requested = true;
  asio::post(impl_->io, [this] { impl_->shutdown(); });
}

// live --resume: reads the interrupted session's recording, checks it is that session's, and
// feeds its records after the checkpoint to the restored session (with nothing attached yet: no
// recorder, publisher, uplink or history, which had them before the crash). `keep_bytes`: where
// the recording goes on (its intact records, without a final `end`).
bool LiveLoop::catch_up(Impl& m, const RunCheckpoint& ck, std::uint64_t& keep_bytes, std::string& error) {
  const std::string& path = m.opt.record;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    error = "--record " + path + ": live --resume continues the interrupted session's recording, and it is not there "
            "(give the file that session wrote, or resume without --record)";
    return false;
  }
  // the header first (a scan that stops at the first record), so nothing is fed from another
  // session's recording; then the records after the checkpoint as a stream (docs/recording.md)
  Recording prev;
  bool header_only = false;
  std::string stop;
  if (!scan_recording(path, prev, [&](const Record&) { return !(header_only = true); }, stop) && !header_only) {
    error = stop;
    return false;
  }
  RecordingHeader h;
  if (!recording_header_for(m.sc, h, error)) return false;
  std::string differs;
  if (prev.header.start_unix_us != m.session->options().start_unix_us)
    differs = "it is of a session started " + std::to_string(prev.header.start_unix_us) + " us after 1970, the checkpoint's " +
              std::to_string(m.session->options().start_unix_us);
  else if (prev.header.scenario_sha256 != h.scenario_sha256 || prev.header.site_sha256 != h.site_sha256)
    differs = "its scenario or site differs from this one";
  else if (prev.header.with_script != m.opt.with_script)
    differs = std::string("it was recorded ") + (prev.header.with_script ? "with" : "without") + " --with-script";
  else if (prev.header.solve_window != m.opt.solve_window)
    differs = "it was recorded with another --solve-window";
  else if (!prev.header.input_batches)
    differs = "it was recorded by a planttwin that fed inputs one by one (before input batches); replay it, or resume with that "
              "planttwin";
  if (!differs.empty()) {
    error = "--record " + path + ": not the interrupted session's recording: " + differs;
    return false;
  }
  const Micros from = ck.meta.t;
  Session& s = *m.session;
  std::size_t fed = 0;
  s.set_history_paused(true);
  RecordFeeder feed(s, prev.header.input_batches);
  const bool read = scan_recording(path, prev, [&](const Record& x) {
    const Micros xt = record_time(x);
    if (xt > from) feed.record(x), ++fed;
    m.last_stamp = std::max(m.last_stamp, xt);  // the resumed session's times come after these
    return true;
  }, error);
  feed.finish();
  s.set_history_paused(false);
  if (!read) return false;
  keep_bytes = prev.intact_bytes;
  if (prev.last_kind == RecordKind::end) keep_bytes -= prev.last_record_bytes;
  m.caught_up = fed;  // only the records after the checkpoint
  return true;
}

bool LiveLoop::run(std::string& error) {
  Impl& m = *impl_;
  const LiveOptions& o = m.opt;
  // t = 0: the session's start, read once from both clocks
  const auto sys_now = std::chrono::system_clock::now();
  m.start = SteadyClock::now();
  SessionOptions so;
  so.start_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(sys_now.time_since_epoch()).count();
  if (o.resume) {
    // the interrupted session's start: engine time goes on as wall-clock time since then
    const std::int64_t now_us = so.start_unix_us;
    if (o.on_start || o.engine_calls) {
      error = "--resume: a resumed session cannot have a follower (--view)";
      return false;
    }
    if (!Session::checkpoint_start(*o.resume, so.start_unix_us, error)) {
      error = "--resume: " + error;
      return false;
    }
    if (so.start_unix_us > now_us) {
      error = "--resume: the checkpoint's session started " + std::to_string((so.start_unix_us - now_us) / 1000) +
              " ms in the future of this machine's clock";
      return false;
    }
    m.start -= std::chrono::microseconds(now_us - so.start_unix_us);
  }
  so.with_script = o.with_script;
  so.max_skew = o.max_skew;
  so.solve_window = o.solve_window;
  so.history = o.history;
  so.checkpoint_every = o.checkpoint_every;
  so.checkpoint_dir = o.checkpoint_dir;
  so.fixes_csv = o.fixes_csv;
  m.session = std::make_unique<Session>(m.sc, so);
  std::uint64_t keep_record_bytes = 0;
  if (o.resume) {
    if (!m.session->restore(*o.resume, error)) return false;  // reopens fixes.csv, cut back to the checkpoint
    if (!o.record.empty() && !catch_up(m, *o.resume, keep_record_bytes, error)) return false;
    // a wall clock set back while the session was down must not take engine time back
    if (m.now() < m.session->now()) m.start -= std::chrono::microseconds(m.session->now() - m.now());
    m.stats_k = m.now() / kSecond;
  }
  if (!m.session->open_fixes_csv(error)) return false;
  if (o.engine_calls) m.session->set_engine_calls(o.engine_calls);
  if (o.on_start) o.on_start(m.session->scenario());
  m.session->set_publisher([&m](const WireMessage& w) { m.publish(w); });
  bool record_ok = true;
  if (!o.uplink.url.empty()) {
#ifdef PLANTTWIN_HAS_UPLINK
    if (!make_uplink(m.session->scenario(), o.uplink, m.uplink, error)) return false;
    Uplink* up = m.uplink.get();
    m.session->set_output_observer([up](const Engine& e, const Output& out) { up->on_output(e, out); });
    m.session->set_fix_observer([up](Micros t, const std::string& person, const std::string& tag, const FixInput& f, const std::string& floor) {
      up->on_fix(t, person, tag, f.x, f.y, f.z, floor);
    });
#else
    error = "--uplink: this build has no park-platform uplink (hardware-in-loop/uplink)";
    return false;
#endif
  }
  if (!o.record.empty()) {
    if (o.resume) {
      if (!m.recorder.append(o.record, keep_record_bytes, error)) return false;
    } else {
      RecordingHeader h;
      if (!recording_header_for(m.sc, h, error)) return false;
      h.start_unix_us = so.start_unix_us;
      h.utc_offset_min = m.sc.site.timezone_min;
      h.with_script = o.with_script;
      h.solve_window = o.solve_window;
      h.input_batches = true;
      if (!m.recorder.open(o.record, h, error)) return false;
    }
    m.session->set_recorder(&m.recorder);
  }

  if (m.in) m.in_fd.assign(m.in.get(zmq::sockopt::fd));
  if (m.in) m.zeromq_stats = &m.sources["zeromq"];
  if (!o.channels.empty()) {
    // every fix the engine applies goes to the channels (omlox fence events), and to the uplink
    Session::FixObserver before_fix;
#ifdef PLANTTWIN_HAS_UPLINK
    if (m.uplink) {
      Uplink* up = m.uplink.get();
      before_fix = [up](Micros t, const std::string& person, const std::string& tag, const FixInput& f, const std::string& floor) {
        up->on_fix(t, person, tag, f.x, f.y, f.z, floor);
      };
    }
#endif
    auto channels = o.channels;
    m.session->set_fix_observer([before_fix, channels](Micros t, const std::string& person, const std::string& tag, const FixInput& f,
                                                       const std::string& floor) {
      if (before_fix) before_fix(t, person, tag, f, floor);
      for (const auto& c : channels) c->on_fix(t, person, tag, f);
    });
    for (const auto& c : o.channels) c->start(m);
  }
  if (o.handle_signals) {
    m.signals.add(SIGINT);
    m.signals.add(SIGTERM);
    m.signals.async_wait([&m](const boost::system::error_code& ec, int) {
      if (!ec) m.shutdown();
    });
  }
  if (o.duration) {
    m.end_timer.expires_at(m.at(*o.duration));
    m.end_timer.async_wait([&m](const boost::system::error_code& ec) {
      if (!ec) m.shutdown();
    });
  }
  m.arm_stats();  // the first stats at t = 0 (resumed: now): clients wait for it before sending
  const Micros every = std::max<Micros>(1, m.sc.site.rules.evaluate_every);
  m.arm_eval(o.resume ? (m.now() / every + 1) * every : every);
  asio::post(m.io, [&m] { m.drain_input(); });
  if (m.stop_requested) m.shutdown();
  m.io.run();

  // the end: a duration ends exactly there; a stop or signal ends now
  Micros end = m.now();
  if (o.duration && !m.stop_requested && end >= *o.duration) end = std::max(end, *o.duration);
  m.session->finish(end, result_);
  if (!o.record.empty()) {
    record_ok = m.recorder.flush();
    if (!record_ok) error = m.recorder.error();
    m.recorder.close();
  }
  if (record_ok && !m.session->checkpoint_error().empty()) {
    record_ok = false;
    error = m.session->checkpoint_error() + " (no checkpoints after it)";
  }
  if (record_ok && !m.session->fixes_csv_error().empty()) {
    record_ok = false;
    error = m.session->fixes_csv_error();
  }
  summary_ = LiveSummary{};
  summary_.start_unix_ms = m.session->start_unix_ms();
  summary_.utc_offset_min = m.sc.site.timezone_min;
  summary_.end_t = end;
  summary_.counters = m.session->counters();
  summary_.advice = m.session->advice();
  summary_.marks = m.session->marks();
  if (m.latency_us.all.count() > 0) {
    summary_.latency_us_p50 = m.latency_us.all.quantile(0.5);
    summary_.latency_us_p99 = m.latency_us.all.quantile(0.99);
    summary_.device_ms_p50 = m.device_ms.all.quantile(0.5);
    summary_.device_ms_p99 = m.device_ms.all.quantile(0.99);
  }
  summary_.recording = o.record;
  summary_.sources = m.sources;
#ifdef PLANTTWIN_HAS_UPLINK
  if (m.uplink) {
    m.uplink->tick(end);
    m.uplink->flush(2 * kSecond);  // a short grace for the last batches; the rest stay in the outbox
    const Uplink::Stats us = m.uplink->stats();
    stats_.uplink_queued = us.queued;
    stats_.uplink_sent = us.sent;
    stats_.uplink_pending = us.pending;
    m.uplink.reset();
  }
#endif
  stats_.stats_published = m.stats_sent;
  stats_.resumed_records = m.caught_up;
  if (m.zap) {
    stats_.curve_allowed = m.zap->allowed();
    stats_.curve_denied = m.zap->denied();
  }
  return record_ok;
}

// ---- replay --------------------------------------------------------------------------------

// Rebuilds the scenario from the texts in the header, in a private folder laid out so that the
// scenario's relative site path finds the embedded site (the files on disk are not used).
bool load_recording_scenario(const RecordingHeader& h, Scenario& sc, std::string& error) {
  if (sha256_hex(h.scenario_text) != h.scenario_sha256) {
    error = "the recording's embedded scenario does not match its SHA-256";
    return false;
  }
  std::error_code ec;
  fs::path root = fs::temp_directory_path(ec) / ("planttwin-replay-" + std::to_string(::getpid()) + "-" + h.scenario_sha256.substr(0, 12));
  fs::path rel;
  if (!h.site_path.empty()) {
    const fs::path parent = fs::path(h.scenario_path).parent_path();
    rel = parent.empty() ? fs::path(h.site_path) : fs::path(h.site_path).lexically_relative(parent);
    if (rel.empty()) rel = fs::path(h.site_path).filename();
  }
  auto ups = [](const fs::path& p) {
    int n = 0;
    for (const auto& part : p.lexically_normal())
      if (part == "..") ++n;
    return n;
  };
  // room above for the site's and the models' ".." (each model relative to the site's folder)
  int up = ups(rel), model_up = 0;
  for (const auto& [file, bytes] : h.models) model_up = std::max(model_up, ups(file));
  up += model_up;
  fs::path dir = root;
  for (int i = 0; i <= up; ++i) dir /= "s";
  const fs::path scen = dir / fs::path(h.scenario_path).filename();
  fs::create_directories(dir, ec);
  bool ok = true;
  if (!h.site_path.empty()) {
    const fs::path site = (dir / rel).lexically_normal();
    fs::create_directories(site.parent_path(), ec);
    std::ofstream(site, std::ios::binary) << h.site_text;
  }
  std::ofstream(scen, std::ios::binary) << h.scenario_text;
  const fs::path model_base = h.site_path.empty() ? dir : (dir / rel).lexically_normal().parent_path();
  for (const auto& [file, bytes] : h.models) {
    const fs::path at = (model_base / file).lexically_normal();
    fs::create_directories(at.parent_path(), ec);
    std::ofstream(at, std::ios::binary) << bytes;
  }
  if (auto err = load_scenario_text(h.scenario_text, scen.string(), sc)) {
    error = "the recording's embedded scenario does not load: " + err->message + " (" + err->key + ")";
    ok = false;
  }
  fs::remove_all(root, ec);
  if (!ok) return false;
  if (!h.site_path.empty() && sc.site_sha256 != h.site_sha256) {
    error = "the recording's embedded site does not match its SHA-256";
    return false;
  }
  sc.file = h.scenario_path;
  sc.site.file = h.site_path;
  return true;
}

bool replay_recording(const std::string& path, Scenario& sc, RunResult& r, LiveSummary& summary, std::string& error,
                      std::vector<Input>* inputs) {
  ReplayOptions o;
  o.inputs = inputs;
  return replay_recording(path, sc, r, summary, error, o);
}

bool replay_recording(const std::string& path, Scenario& sc, RunResult& r, LiveSummary& summary, std::string& error,
                      const ReplayOptions& opt) {
  // the header first (a scan that stops at the first record); the records then as a stream, so a
  // recording of days is replayed in the memory of one record
  Recording rec;
  {
    bool header_only = false;
    std::string stop;
    if (!scan_recording(path, rec, [&](const Record&) { return !(header_only = true); }, stop) && !header_only) {
      error = stop;
      return false;
    }
  }
  Scenario loaded;
  if (!load_recording_scenario(rec.header, loaded, error)) {
    error = path + ": " + error;
    return false;
  }
  SessionOptions so;
  so.start_unix_us = rec.header.start_unix_us;
  so.with_script = rec.header.with_script;
  so.solve_window = rec.header.solve_window;
  so.replay = true;
  so.checkpoint_every = opt.checkpoint_every;
  so.checkpoint_dir = opt.checkpoint_dir;
  so.fixes_csv = opt.fixes_csv;
  loaded.site.timezone_min = rec.header.utc_offset_min;
  Session session(loaded, so);
  session.set_input_log(opt.inputs);
  Micros end = 0;
  Micros skip_through = -1;  // records at or before a checkpoint's time are in its state
  if (opt.resume) {
    if (!session.restore(*opt.resume, error)) {
      error = path + ": " + error;
      return false;
    }
    skip_through = opt.resume->meta.t;
    end = skip_through;
  }
  if (!session.open_fixes_csv(error)) return false;
  RecordFeeder feed(session, rec.header.input_batches);
  const bool read = scan_recording(path, rec, [&](const Record& x) {
    const Micros xt = record_time(x);
    if (x.kind == RecordKind::header || xt <= skip_through) return true;
    feed.record(x);
    end = std::max(end, xt);
    return true;
  }, error);
  feed.finish();
  if (!read) return false;
  session.finish(end, r);
  if (!session.checkpoint_error().empty()) {
    error = session.checkpoint_error();
    return false;
  }
  if (!session.fixes_csv_error().empty()) {
    error = session.fixes_csv_error();
    return false;
  }
  // provenance: the recording this replay read, as a file (its SHA-256 over every byte)
  if (r.session) {
    r.session->recording = path;
    r.session->recording_sha256 = sha256_file_hex(path);
  }
  sc = session.scenario();
  summary = LiveSummary{};
  summary.replay = true;
  summary.start_unix_ms = session.start_unix_ms();
  summary.utc_offset_min = rec.header.utc_offset_min;
  summary.end_t = end;
  summary.counters = session.counters();
  summary.advice = session.advice();
  summary.marks = session.marks();
  summary.recording = path;
  summary.torn = rec.ended && rec.torn.empty() ? "" : rec.torn.empty() ? "no end record (the session did not finish)" : rec.torn;
  summary.torn_bytes = rec.torn_bytes;
  return true;
}

}  // namespace planttwin::hil
