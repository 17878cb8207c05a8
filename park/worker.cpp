// `planttwin worker` (park/park.h, docs/park.md): leases, one thread per owned site, checkpoints
// fenced by the checkpoint entry's revision, outputs deduplicated by Nats-Msg-Id.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "hardware-in-loop/live.h"
#include "hardware-in-loop/session.h"
#include "park/nats_impl.h"
#include "scenarios/checkpoint.h"
#include "scenarios/loader.h"

namespace planttwin::park {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// load_recording_scenario writes into a temporary folder named by process and scenario hash:
// one load at a time in this process
std::mutex g_load_mutex;

struct SiteRunner {
  std::string site;
  std::uint64_t lease_rev = 0;
  std::string lease_unconfirmed;
  std::thread thread;
  std::atomic<bool> stop{false}, done{false};
  bool ended = false, failed = false, lost = false;
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

// The checkpoint entry: one JSON line (where to go on), then the checkpoint file's bytes.
struct CheckpointEntry {
  std::uint64_t next_seq = 1;     // the first PARK_IN sequence not in the checkpoint
  std::uint64_t outputs = 0;      // outputs published before the checkpoint (the next output's index)
  std::uint64_t def_revision = 0;
  double t_s = 0;
  std::string bytes;
};

std::string encode_entry(const CheckpointEntry& e) {
  json j = {{"next_seq", e.next_seq}, {"outputs", e.outputs}, {"def_revision", e.def_revision}, {"t_s", e.t_s}};
  return j.dump() + "\n" + e.bytes;
}

bool decode_entry(const std::string& v, CheckpointEntry& e) {
  const size_t nl = v.find('\n');
  if (nl == std::string::npos) return false;
  json j = json::parse(v.substr(0, nl), nullptr, false);
  if (!j.is_object()) return false;
  e.next_seq = j.value("next_seq", std::uint64_t{1});
  e.outputs = j.value("outputs", std::uint64_t{0});
  e.def_revision = j.value("def_revision", std::uint64_t{0});
  e.t_s = j.value("t_s", 0.0);
  e.bytes = v.substr(nl + 1);
  return true;
}

void run_site(Nats& n, const WorkerOptions& o, SiteRunner& r) {
  Nats::Impl& m = n.impl();
  const std::string& site = r.site;
  auto log = [&](const std::string& s) {
    if (o.log) o.log(o.name + ": " + site + ": " + s);
  };
  // what the site's entries hold now; a cluster that does not answer (a node just killed) is
  // waited for, then the site is given up (its lease expires and a worker tries again): taken for
  // absent, a timed-out read would restart the site without its checkpoint or status revision
  std::string def_text, status_text, ck_text;
  std::uint64_t def_rev = 0, status_rev = 0, ck_rev = 0;
  if (kv_read(m.sites, site, def_text, def_rev, 5000) == KvRead::unavailable ||
      kv_read(m.status, site, status_text, status_rev, 5000) == KvRead::unavailable ||
      kv_read(m.ck, site, ck_text, ck_rev, 5000) == KvRead::unavailable) {
    log("cannot read its entries (the cluster does not answer); gives the site up");
    r.lost = true;
    r.done = true;
    return;
  }
  SiteStatus st;
  st.site = site;
  st.status_owner = o.name;
  // the status entry is written by revision too: a worker that paused (a zombie) and comes back
  // finds it moved on and stops, instead of writing an old state over the new owner's
  bool status_lost = false;
  std::string status_unconfirmed;
  // patience: how long a cluster that is electing a leader is waited for (the final status: long)
  auto put_status = [&](int patience_ms = 2000) {
    st.updated_unix_ms = unix_ms_now();
    const KvWrite w = kv_write_fenced(m.status, site, status_json(st), status_rev, status_unconfirmed, patience_ms);
    if (w == KvWrite::moved_on) status_lost = true;
    else if (w == KvWrite::unavailable) log("cannot write its status entry now (the cluster does not answer); tries again");
    return w == KvWrite::ok;
  };
  auto fail = [&](const std::string& msg) {
    st.error = msg;
    put_status();
    log("failed: " + msg);
    r.failed = true;
    r.done = true;
  };
  SiteDef def;
  std::string err;
  if (def_rev == 0) {  // removed since the scan saw it
    log("its definition is gone; gives the site up");
    r.lost = true;
    r.done = true;
    return;
  }
  if (!parse_site(site, def_text, def_rev, def, err)) return fail(err);
  st.def_revision = def.revision;
  Scenario sc;
  {
    std::lock_guard<std::mutex> lk(g_load_mutex);
    if (!hil::load_recording_scenario(def.header, sc, err)) return fail(err);
  }
  JsContext ctx;
  if (!ctx.open(m.nc, err)) return fail(err);
  const fs::path ck_dir = fs::path(o.work_dir) / site;
  std::error_code ec;
  fs::remove_all(ck_dir, ec);
  fs::create_directories(ck_dir, ec);
  hil::SessionOptions so;
  so.start_unix_us = def.header.start_unix_us;
  so.with_script = def.header.with_script;
  so.solve_window = def.header.solve_window;
  so.replay = true;  // engine time is the stamp in the log; solver windows are not timed here
  so.checkpoint_every = o.checkpoint_every;
  so.checkpoint_dir = ck_dir.string();
  sc.site.timezone_min = def.header.utc_offset_min;
  hil::Session session(sc, so);

  // restore the latest checkpoint, fenced by its revision
  std::string ck_unconfirmed;
  std::uint64_t next_seq = std::max<std::uint64_t>(1, def.first_seq), nout = 0;
  if (ck_rev != 0) {
    CheckpointEntry e;
    RunCheckpoint ck;
    if (!decode_entry(ck_text, e)) return fail("damaged checkpoint entry in " + std::string(kCheckpointBucket));
    if (e.def_revision == def.revision) {
      if (!decode_checkpoint(e.bytes, ck, err) || !session.restore(ck, err)) return fail("cannot restore checkpoint: " + err);
      next_seq = e.next_seq;
      nout = e.outputs;
      st.checkpoint_t_s = e.t_s;
      st.checkpoint_seq = e.next_seq - 1;
      log("restored checkpoint at t=" + std::to_string(e.t_s) + " s, log from sequence " + std::to_string(next_seq));
    }
  }
  st.outputs = nout;
  st.inputs = session.counters().received;  // applied before the checkpoint (restored with it)

  std::uint64_t cur_seq = 0;
  size_t ck_seen = session.checkpoint_files().size();
  std::uint64_t outputs_at_ck = nout;
  bool publish_failed = false;
  std::int64_t cur_stored_ns = 0;  // when the input being fed was stored in PARK_IN
  std::vector<double> out_lags;    // ms from an input stored to an output it caused published
  const auto unix_ns_now = [] {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  };
  session.set_publisher([&](const hil::WireMessage& w) {
    if (cur_stored_ns > 0 && out_lags.size() < 100000) out_lags.push_back(static_cast<double>(unix_ns_now() - cur_stored_ns) / 1e6);
    if (session.checkpoint_files().size() != ck_seen) {  // a checkpoint was written before this output
      ck_seen = session.checkpoint_files().size();
      outputs_at_ck = nout;
    }
    const std::string id = site + ":" + std::to_string(cur_seq) + ":" + std::to_string(nout);
    ++nout;
    std::string perr;
    if (!publish_async(ctx.js, out_subject(site, w.topic), w.body, {{"Nats-Msg-Id", id}}, perr)) publish_failed = true;
  });

  const std::string subject = in_subject(site);
  // the log after the checkpoint; creating the consumer is tried for a while (a cluster that lost
  // a node elects leaders first), the lease is renewed meanwhile by the worker's loop
  LogReader reader(m.nc, kInStream, subject, next_seq);
  {
    std::string rerr;
    if (!reader.open(15000, rerr)) {
      log(rerr + " (for 15 s); gives the site up");
      r.lost = true;  // the lease expires and a worker retries
      r.done = true;
      return;
    }
  }

  auto give_up = [&](const std::string& why) {
    log("gives the site up: " + why);
    r.lost = true;
  };
  auto upload_checkpoint = [&]() -> bool {
    const std::string file = session.checkpoint_files().back();
    std::string bytes;
    if (!read_file(file, bytes)) {
      give_up("cannot read its checkpoint " + file);
      return false;
    }
    fs::remove(file, ec);
    // every output before the checkpoint must be stored before the checkpoint says so
    std::string perr;
    if (!publish_complete(ctx.js, 10000, perr) || ctx.failed.load() > 0 || publish_failed) {
      give_up("outputs not acknowledged: " + (perr.empty() ? ctx.last_error : perr));
      return false;
    }
    RunCheckpoint ck;
    std::string why;
    decode_checkpoint(bytes, ck, why);
    CheckpointEntry e;
    e.next_seq = cur_seq;  // written before the current input was applied
    e.outputs = outputs_at_ck;
    e.def_revision = def.revision;
    e.t_s = to_seconds(ck.meta.t);
    e.bytes = std::move(bytes);
    const std::string value = encode_entry(e);
    const KvWrite w = kv_write_fenced(m.ck, site, value, ck_rev, ck_unconfirmed, 5000);
    if (w == KvWrite::moved_on) {
      give_up("its checkpoint entry moved on (another worker owns the site now)");
      return false;
    }
    if (w == KvWrite::unavailable) {  // the log still holds everything after the last stored checkpoint
      log("cannot store its checkpoint now (the cluster does not answer); goes on, the next one tries again");
      return true;
    }
    st.checkpoint_t_s = e.t_s;
    st.checkpoint_seq = e.next_seq - 1;
    return true;
  };

  auto last_status = Clock::now();
  std::vector<double> lags;  // ms from stored in PARK_IN to taken by this thread
  std::uint64_t inputs_at_status = st.inputs;
  put_status();
  if (status_lost) {
    give_up("its status entry moved on (another worker owns the site now)");
    r.done = true;
    return;
  }
  log("runs the site from sequence " + std::to_string(next_seq));
  while (!r.stop.load()) {
    natsMsg* msg = nullptr;
    const natsStatus s = reader.next(&msg, 200);
    const auto now = Clock::now();
    if (now - last_status >= std::chrono::seconds(1)) {
      const double dt = std::chrono::duration<double>(now - last_status).count();
      st.input_rate = static_cast<double>(st.inputs - inputs_at_status) / dt;
      if (!lags.empty()) {
        std::sort(lags.begin(), lags.end());
        st.lag_ms_p50 = lags[lags.size() / 2];
        st.lag_ms_p99 = lags[std::min(lags.size() - 1, lags.size() * 99 / 100)];
        lags.clear();
      }
      if (!out_lags.empty()) {
        std::sort(out_lags.begin(), out_lags.end());
        st.output_lag_ms_p50 = out_lags[out_lags.size() / 2];
        st.output_lag_ms_p99 = out_lags[std::min(out_lags.size() - 1, out_lags.size() * 99 / 100)];
        st.output_lag_samples = out_lags.size();
        out_lags.clear();
      }
      inputs_at_status = st.inputs;
      last_status = now;
      st.accepted = session.counters().accepted;
      st.dropped = session.counters().dropped;
      st.outputs = nout;
      st.t_s = to_seconds(session.now());
      if (!r.stop.load()) put_status();
      if (status_lost) {
        give_up("its status entry moved on (another worker owns the site now)");
        break;
      }
    }
    if (s != NATS_OK) {

      continue;
    }
    LoggedInput in;
    {
      // the same reading as read_log
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
        in.seq = meta->Sequence.Stream;
        cur_stored_ns = meta->Timestamp;
        if (lags.size() < 100000) lags.push_back(static_cast<double>(unix_ns_now() - meta->Timestamp) / 1e6);
        jsMsgMetaData_Destroy(meta);
      }
      const char* v = nullptr;
      if (natsMsgHeader_Get(msg, kTopicHeader, &v) == NATS_OK && v) in.topic = v;
      if (natsMsgHeader_Get(msg, kTimeHeader, &v) == NATS_OK && v) {
        char* end = nullptr;
        const long long t = std::strtoll(v, &end, 10);
        if (end && *end == 0 && end != v) {
          in.t = t;
          in.has_t = true;
        }
      }

      in.body.assign(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "", static_cast<size_t>(natsMsg_GetDataLength(msg)));
      natsMsg_Destroy(msg);
    }
    if (in.seq < next_seq) continue;  // already in the state
    if (r.stop.load()) break;
    cur_seq = in.seq;
    const Micros t = in.has_t ? std::max(in.t, session.now()) : session.now();
    st.consumed_seq = in.seq;
    if (in.topic == kEndTopic) {
      ++st.inputs;
      RunResult res;
      session.finish(t, res);
      std::string perr;
      if (!publish_complete(ctx.js, 10000, perr) || ctx.failed.load() > 0 || publish_failed) {
        give_up("outputs not acknowledged at the end: " + (perr.empty() ? ctx.last_error : perr));
        break;
      }
      hil::LiveSummary sum;
      sum.start_unix_ms = session.start_unix_ms();
      sum.utc_offset_min = def.header.utc_offset_min;
      sum.end_t = t;
      sum.counters = session.counters();
      sum.advice = session.advice();
      sum.marks = session.marks();
      sum.recording = "nats " + subject;
      const fs::path rdir = fs::path(o.work_dir) / (site + ".report");
      std::string rerr;
      if (hil::write_live_report(rdir.string(), session.scenario(), res, sum, rerr)) {
        std::string rj, rm;
        read_file((rdir / "report.json").string(), rj);
        read_file((rdir / "report.md").string(), rm);
        json j = json::parse(rj, nullptr, false);
        if (j.is_object()) {
          j["park"] = {{"site", site}, {"def_revision", def.revision}, {"worker", o.name}, {"end_seq", in.seq}, {"outputs", nout}};
          rj = j.dump(2) + "\n";
        }
        if (!kv_put_patient(m.reports, site + ".json", rj, 30000) || !kv_put_patient(m.reports, site + ".md", rm, 30000))
          log("cannot store the report: the cluster did not answer for 30 s");
      } else {
        log("cannot write the report: " + rerr);
      }
      fs::remove_all(rdir, ec);
      st.ended = true;
      st.accepted = session.counters().accepted;
      st.dropped = session.counters().dropped;
      st.outputs = nout;
      st.t_s = to_seconds(t);
      if (!put_status(30000)) {  // the site must say ended, or no worker knows the report is final
        give_up(status_lost ? "its status entry moved on (another worker owns the site now)"
                            : "cannot write the ended status: the cluster did not answer for 30 s");
        break;
      }
      r.ended = true;
      log("ended at t=" + std::to_string(to_seconds(t)) + " s: hash " + res.hash + ", " + std::to_string(nout) + " outputs");
      break;
    }
    st.inputs += feed_logged(session, t, in);  // a batch counts its inputs
    next_seq = in.seq + 1;
    if (session.checkpoint_files().size() != ck_seen) {  // written during this input, after its last output
      ck_seen = session.checkpoint_files().size();
      outputs_at_ck = nout;
    }
    if (!session.checkpoint_files().empty() && fs::exists(session.checkpoint_files().back())) {
      if (!upload_checkpoint()) break;
    }
    if (publish_failed) {
      give_up("an output could not be published");
      break;
    }
  }
  if (reader.recreated() > 0) log("its reader of the log was recreated " + std::to_string(reader.recreated()) + " time(s)");

  r.done = true;
}

}  // namespace

int run_worker(Nats& n, const WorkerOptions& o, const std::atomic<bool>& stop) {
  Nats::Impl& m = n.impl();
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  std::error_code ec;
  fs::create_directories(o.work_dir, ec);
  // running: changed (emplace, erase) only by this thread, under running_mu; read here without it,
  // and under it by the renewal thread
  std::map<std::string, std::unique_ptr<SiteRunner>> running;
  std::mutex running_mu;
  std::map<std::string, std::uint64_t> finished;  // site -> definition revision that ended or failed
  const auto renew_every = std::chrono::microseconds(std::max<Micros>(o.lease_ttl / 4, 100 * kMillisecond));
  const auto scan_every = std::chrono::milliseconds(250);
  auto next_scan = Clock::now();
  std::uint64_t scans = 0;
  kv_put(m.workers, o.name, std::to_string(unix_ms_now()));
  log(o.name + ": worker started");
  // Renewals have a thread of their own: a scan that waits for a busy cluster (up to 1 s per
  // listing) or starts many sites must not hold them past the lease's TTL (bench-park: a worker
  // starting 30 sites while 60 players started lost 14 leases at once, and the sites moved).
  std::atomic<bool> renewing{true};
  std::thread renewer([&] {
    auto next_renew = Clock::now();
    while (renewing.load()) {
      if (Clock::now() < next_renew) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      next_renew = Clock::now() + renew_every;
      kv_put(m.workers, o.name, std::to_string(unix_ms_now()));
      std::lock_guard<std::mutex> lk(running_mu);
      for (auto& [site, r] : running) {
        if (r->stop.load() || r->done.load()) continue;
        // the lease holds the owner's name: read back after a failed renewal, it tells whether the
        // renewal was applied (ours at a later revision) or the lease is gone; while the cluster does
        // not answer the site runs on (fenced by its status and checkpoint entries) until it does
        const KvWrite w = kv_write_fenced(m.leases, site, o.name, r->lease_rev, r->lease_unconfirmed, 0);
        if (w == KvWrite::moved_on) {
          log(o.name + ": " + site + ": lost its lease; stops the site");
          r->stop = true;
        }
      }
    }
  });
  while (!stop.load()) {
    const auto now = Clock::now();
    // threads that ended: release an ended or failed site's lease; a lost one is left to expire
    for (auto it = running.begin(); it != running.end();) {
      SiteRunner& r = *it->second;
      if (!r.done.load()) {
        ++it;
        continue;
      }
      if (r.thread.joinable()) r.thread.join();
      if (r.ended || r.failed) {
        std::uint64_t rev = 0;
        kv_get(m.sites, r.site, &rev);
        finished[r.site] = rev;
        kv_delete(m.js, m.leases, r.site);
      }
      std::lock_guard<std::mutex> lk(running_mu);
      it = running.erase(it);
    }
    if (now >= next_scan) {
      next_scan = now + scan_every;
      ++scans;
      // listed from the buckets' stream information (no consumer, see LogReader), each asked for
      // at most 1 s: a scan that cannot list is skipped, so the renewals behind it come in time
      auto listed_sites = site_keys(n, 1000);
      auto listed_leases = listed_sites ? kv_keys(m.js, m.leases, 1000) : std::nullopt;
      auto listed_workers = listed_leases ? kv_keys(m.js, m.workers, 1000) : std::nullopt;
      if (!listed_workers) continue;
      const std::vector<std::string>& keys = *listed_sites;
      // leased sites are running somewhere: counted, not looked at (a scan must stay cheap, or
      // the renewals behind it come late and leases expire under load)
      const std::set<std::string> leased(listed_leases->begin(), listed_leases->end());
      std::vector<std::pair<std::string, std::uint64_t>> open;  // sites still to run, with their definition revision
      for (const std::string& k : keys) {
        if (running.count(k) || leased.count(k)) {
          open.emplace_back(k, 0);
          continue;
        }
        // an ended or failed site is looked at again every 20 scans (a new definition restarts it)
        if (finished.count(k) && scans % 20 != 0) continue;
        std::uint64_t rev = 0;
        if (!kv_get(m.sites, k, &rev)) continue;
        auto f = finished.find(k);
        if (f != finished.end() && f->second == rev) continue;
        if (!running.count(k)) {
          SiteStatus s;
          if (auto v = kv_get(m.status, k); v && parse_status(*v, s) && s.def_revision == rev && (s.ended || !s.error.empty())) {
            finished[k] = rev;
            continue;
          }
        }
        open.emplace_back(k, rev);
      }
      const size_t workers = std::max<size_t>(1, listed_workers->size());
      const size_t cap = o.max_sites > 0 ? static_cast<size_t>(o.max_sites) : (open.size() + workers - 1) / workers;
      // start at a place that depends on the name, so that workers try different sites first
      const size_t offset = open.empty() ? 0 : std::hash<std::string>{}(o.name) % open.size();
      // at most a few new sites per scan: workers started together see each other within a scan or
      // two, so none takes far more than its share before the others count (bench-park: one worker
      // took 30 of 60 sites at its first scan, then could not renew them all within the TTL)
      size_t taken = 0;
      const size_t take_per_scan = static_cast<size_t>(std::max(1, o.take_per_scan));
      for (size_t i = 0; i < open.size() && running.size() < cap && taken < take_per_scan; ++i) {
        const std::string& k = open[(offset + i) % open.size()].first;
        if (running.count(k) || leased.count(k)) continue;
        std::uint64_t rev = 0;
        if (!kv_create(m.leases, k, o.name, &rev)) continue;
        ++taken;
        auto r = std::make_unique<SiteRunner>();
        r->site = k;
        r->lease_rev = rev;
        log(o.name + ": " + k + ": took the lease");
        SiteRunner* rp = r.get();
        r->thread = std::thread([&n, &o, rp] { run_site(n, o, *rp); });
        std::lock_guard<std::mutex> lk(running_mu);
        running.emplace(k, std::move(r));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  renewing = false;
  renewer.join();
  // a clean stop hands the sites over at once: threads stopped, leases deleted
  for (auto& [site, r] : running) r->stop = true;
  for (auto& [site, r] : running) {
    if (r->thread.joinable()) r->thread.join();
    if (!r->lost) kv_delete(m.js, m.leases, site);
  }
  kv_delete(m.js, m.workers, o.name);
  log(o.name + ": worker stopped");
  return 0;
}

}  // namespace planttwin::park
