// Site definitions, status, the input log, play, export and report (park/park.h).
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "hardware-in-loop/live.h"
#include "hardware-in-loop/session.h"
#include "park/nats_impl.h"
#include "scenarios/driver.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin::park {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string header_json(const hil::RecordingHeader& h) {
  json j = {{"product_version", h.product_version}, {"start_unix_us", h.start_unix_us}, {"utc_offset_min", h.utc_offset_min},
            {"with_script", h.with_script}, {"solve_window_us", h.solve_window}, {"scenario_path", h.scenario_path},
            {"scenario_sha256", h.scenario_sha256}, {"scenario_text", h.scenario_text}, {"site_path", h.site_path},
            {"site_sha256", h.site_sha256}, {"site_text", h.site_text}};
  return j.dump();
}

std::string def_json(const SiteDef& d) {
  json j = json::parse(header_json(d.header));
  j["first_seq"] = d.first_seq;
  return j.dump();
}

bool parse_header(const std::string& text, hil::RecordingHeader& h, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    error = "not a JSON object";
    return false;
  }
  try {
    h.product_version = j.at("product_version").get<std::string>();
    h.start_unix_us = j.at("start_unix_us").get<std::int64_t>();
    h.utc_offset_min = j.at("utc_offset_min").get<int>();
    h.with_script = j.at("with_script").get<bool>();
    h.solve_window = j.at("solve_window_us").get<std::int64_t>();
    h.scenario_path = j.at("scenario_path").get<std::string>();
    h.scenario_sha256 = j.at("scenario_sha256").get<std::string>();
    h.scenario_text = j.at("scenario_text").get<std::string>();
    h.site_path = j.at("site_path").get<std::string>();
    h.site_sha256 = j.at("site_sha256").get<std::string>();
    h.site_text = j.at("site_text").get<std::string>();
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

// The JetStream message's stream sequence, or 0.
std::uint64_t stream_seq(natsMsg* m) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) != NATS_OK || !meta) {

    return 0;
  }
  const std::uint64_t s = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  return s;
}

LoggedInput to_logged(natsMsg* m) {
  LoggedInput in;
  in.seq = stream_seq(m);
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, kTopicHeader, &v) == NATS_OK && v) in.topic = v;
  if (natsMsgHeader_Get(m, kTimeHeader, &v) == NATS_OK && v) {
    char* end = nullptr;
    const long long t = std::strtoll(v, &end, 10);
    if (end && *end == 0 && end != v) {
      in.t = t;
      in.has_t = true;
    }
  }

  in.body.assign(natsMsg_GetData(m) ? natsMsg_GetData(m) : "", static_cast<size_t>(natsMsg_GetDataLength(m)));
  return in;
}

}  // namespace

bool add_site(Nats& n, const Scenario& sc, bool with_script, SiteDef& out, std::string& error, std::optional<std::int64_t> start_unix_us) {
  hil::RecordingHeader h;
  if (!hil::recording_header_for(sc, h, error)) return false;
  h.start_unix_us = start_unix_us ? *start_unix_us : sc.clock.start_unix_s * 1000000;
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, n.impl().js, kInStream, nullptr, nullptr) == NATS_OK && si) {
    out.first_seq = si->State.LastSeq + 1;
    jsStreamInfo_Destroy(si);
  }
  h.utc_offset_min = sc.site.timezone_min;
  h.with_script = with_script;
  h.solve_window = 50 * kMillisecond;
  out.key = site_key(sc.name);
  out.header = h;
  if (!kv_put(n.impl().sites, out.key, def_json(out), &out.revision)) {
    error = "cannot store site " + out.key + " in " + kSitesBucket;
    return false;
  }
  return true;
}

bool get_site(Nats& n, const std::string& key, SiteDef& out, std::string& error) {
  std::uint64_t rev = 0;
  auto v = kv_get(n.impl().sites, key, &rev);
  if (!v) {
    error = "no site " + key + " in the park (park add SCENARIO first)";
    return false;
  }
  return parse_site(key, *v, rev, out, error);
}

bool parse_site(const std::string& key, const std::string& text, std::uint64_t rev, SiteDef& out, std::string& error) {
  out.key = key;
  out.revision = rev;
  if (!parse_header(text, out.header, error)) {
    error = "site " + key + ": damaged definition in " + kSitesBucket + ": " + error;
    return false;
  }
  out.first_seq = json::parse(text).value("first_seq", std::uint64_t{1});
  return true;
}

std::optional<std::vector<std::string>> site_keys(Nats& n, int timeout_ms) {
  return kv_keys(n.impl().js, n.impl().sites, timeout_ms);
}

std::string status_json(const SiteStatus& s) {
  json j = {{"owner", s.status_owner}, {"def_revision", s.def_revision}, {"consumed_seq", s.consumed_seq}, {"inputs", s.inputs},
            {"accepted", s.accepted}, {"dropped", s.dropped}, {"outputs", s.outputs}, {"t_s", s.t_s},
            {"checkpoint_seq", s.checkpoint_seq}, {"input_rate", s.input_rate},
            {"lag_ms_p50", s.lag_ms_p50}, {"lag_ms_p99", s.lag_ms_p99}, {"output_lag_ms_p50", s.output_lag_ms_p50},
            {"output_lag_ms_p99", s.output_lag_ms_p99}, {"output_lag_samples", s.output_lag_samples}, {"ended", s.ended}, {"error", s.error},
            {"updated_unix_ms", s.updated_unix_ms}};
  j["checkpoint_t_s"] = s.checkpoint_t_s ? json(*s.checkpoint_t_s) : json(nullptr);
  return j.dump();
}

bool parse_status(const std::string& text, SiteStatus& s) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  s.status_owner = j.value("owner", "");
  s.def_revision = j.value("def_revision", std::uint64_t{0});
  s.consumed_seq = j.value("consumed_seq", std::uint64_t{0});
  s.inputs = j.value("inputs", std::uint64_t{0});
  s.accepted = j.value("accepted", std::uint64_t{0});
  s.dropped = j.value("dropped", std::uint64_t{0});
  s.outputs = j.value("outputs", std::uint64_t{0});
  s.t_s = j.value("t_s", 0.0);
  s.checkpoint_seq = j.value("checkpoint_seq", std::uint64_t{0});
  if (j.contains("checkpoint_t_s") && j["checkpoint_t_s"].is_number()) s.checkpoint_t_s = j["checkpoint_t_s"].get<double>();
  s.input_rate = j.value("input_rate", 0.0);
  s.lag_ms_p50 = j.value("lag_ms_p50", 0.0);
  s.lag_ms_p99 = j.value("lag_ms_p99", 0.0);
  s.output_lag_ms_p50 = j.value("output_lag_ms_p50", 0.0);
  s.output_lag_ms_p99 = j.value("output_lag_ms_p99", 0.0);
  s.output_lag_samples = j.value("output_lag_samples", std::uint64_t{0});
  s.ended = j.value("ended", false);
  s.error = j.value("error", "");
  s.updated_unix_ms = j.value("updated_unix_ms", std::int64_t{0});
  return true;
}

std::vector<SiteStatus> list_sites(Nats& n) {
  std::vector<SiteStatus> out;
  // a cluster electing a leader does not answer for a few seconds: asked again for a while
  std::optional<std::vector<std::string>> listed;
  for (int attempt = 0; attempt < 5 && !listed; ++attempt) listed = site_keys(n, 2000);
  std::vector<std::string> keys = listed.value_or(std::vector<std::string>{});
  for (const std::string& k : keys) {
    SiteStatus s;
    std::uint64_t def_rev = 0;
    kv_get(n.impl().sites, k, &def_rev);
    if (auto v = kv_get(n.impl().status, k); v && parse_status(*v, s) && s.def_revision != def_rev) {
      s = SiteStatus{};  // the status of an earlier definition of the site (park add again)
    }
    s.site = k;
    s.def_revision = def_rev;
    if (auto o = kv_get(n.impl().leases, k)) s.owner = *o;
    out.push_back(std::move(s));
  }
  return out;
}

bool play(Nats& n, const Scenario& sc, const PlayOptions& o, std::uint64_t& published, std::string& error) {
  published = 0;
  JsContext ctx;
  if (!ctx.open(n.impl().nc, error)) return false;
  const std::string site = site_key(sc.name);
  const std::string subject = in_subject(site);
  auto shared_site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, shared_site));
  ScriptDriver driver(sc, engine);
  const std::int64_t start_ms = sc.clock.start_unix_s * 1000;
  const auto wall0 = std::chrono::steady_clock::now();
  double behind = 0;
  auto pace = [&](Micros t) {
    if (o.speed <= 0) return;
    const auto due = wall0 + std::chrono::microseconds(static_cast<std::int64_t>(static_cast<double>(t) / o.speed));
    behind = std::max(behind, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - due).count());
    if (o.max_behind_ms) *o.max_behind_ms = behind;
    std::this_thread::sleep_until(due);
  };
  // acked: one acknowledged publish at a time, retried (same Nats-Msg-Id: a retry of a stored
  // input is dropped as a duplicate) for up to 30 s, so that a NATS node failing over loses
  // nothing and keeps the order. Otherwise asynchronous: paced, the acknowledgements of each
  // scenario instant are awaited before the next instant; a failure ends the command (exit 2).
  const std::string id_prefix = site + ":" + std::to_string(unix_ms_now()) + ":";
  std::uint64_t messages = 0;
  auto send = [&](const std::string& topic, Micros t, const std::string& body, std::uint64_t inputs) {
    const std::string id = id_prefix + std::to_string(messages);
    if (o.acked) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        if (publish_sync(ctx.js, subject, body, {{kTopicHeader, topic}, {kTimeHeader, std::to_string(t)}, {"Nats-Msg-Id", id}}, error))
          break;
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } else if (!publish_async(ctx.js, subject, body, {{kTopicHeader, topic}, {kTimeHeader, std::to_string(t)}, {"Nats-Msg-Id", id}}, error)) {
      return false;
    }
    ++messages;
    if (o.messages) *o.messages = messages;
    const std::uint64_t before = published;
    published += inputs;
    if (o.progress && published / 10000 != before / 10000) o.progress(published);
    return true;
  };
  // batch mode: the fixes of one instant as lines of one message (more when past kMaxBatchBytes)
  std::string batch;
  std::uint64_t batch_inputs = 0;
  auto flush_batch = [&](Micros t) {
    if (batch_inputs == 0) return true;
    const bool ok = send(kBatchTopic, t, batch, batch_inputs);
    batch.clear();
    batch_inputs = 0;
    return ok;
  };
  const auto ignore = [](Input) {};
  for (std::int64_t k = 0;; ++k) {
    const Micros tf = from_seconds(static_cast<double>(k) / sc.fix_rate);
    if (tf > sc.duration) break;
    driver.play_until(tf, ignore);
    if (o.speed > 0 && !o.acked && k > 0) {
      if (!publish_complete(ctx.js, 30000, error)) return false;
      if (ctx.failed.load() > 0) {
        error = subject + ": " + std::to_string(ctx.failed.load()) + " inputs refused by JetStream: " + ctx.last_error;
        return false;
      }
    }
    pace(tf);
    for (int i : driver.fix_order()) {
      if (driver.tag_index(i) < 0 || !driver.tag_on(i)) continue;
      const TruthPose pose = driver.pose(i, tf);
      const FixInput f = driver.true_fix(i, pose);
      json j = {{"v", 1}, {"tag", *sc.people[static_cast<size_t>(i)].tag}, {"ts", hil::unix_ms(start_ms, tf)},
                {"x", f.x}, {"y", f.y}, {"z", f.z}, {"floor", pose.floor}};
      if (!o.batch) {
        if (!send("fix", tf, j.dump(), 1)) return false;
        continue;
      }
      const std::string body = j.dump();
      if (batch.size() + batch_line_bytes("fix", body) > o.batch_bytes && !flush_batch(tf)) return false;
      append_batch_line(batch, "fix", body);
      ++batch_inputs;
    }
    if (!flush_batch(tf)) return false;
  }
  pace(sc.duration);
  if (!send(kEndTopic, sc.duration, "", 1)) return false;
  if (!publish_complete(ctx.js, 60000, error)) return false;
  if (ctx.failed.load() > 0) {
    error = subject + ": " + std::to_string(ctx.failed.load()) + " inputs refused by JetStream: " + ctx.last_error;
    return false;
  }
  return true;
}

bool read_log(Nats& n, const std::string& site, const std::function<void(const LoggedInput&)>& f, std::string& error) {
  Nats::Impl& m = n.impl();
  const std::string subject = in_subject(site);
  natsMsg* last = nullptr;
  if (js_GetLastMsg(&last, m.js, kInStream, subject.c_str(), nullptr, nullptr) != NATS_OK || !last) {

    return true;  // nothing published for the site yet
  }
  const std::uint64_t last_seq = natsMsg_GetSequence(last);
  SiteDef def;
  std::string derr;
  const std::uint64_t first_seq = get_site(n, site, def, derr) ? def.first_seq : 1;
  natsMsg_Destroy(last);
  if (last_seq == 0) {
    error = subject + ": cannot read the last sequence of the log";
    return false;
  }
  if (last_seq < first_seq) return true;  // nothing published since the definition
  // creating the consumer can time out while a cluster elects new leaders: tried for a while
  LogReader reader(m.nc, kInStream, subject, first_seq);
  std::string rerr;
  if (!reader.open(15000, rerr)) {
    error = subject + ": cannot read the log: " + rerr;
    return false;
  }
  bool ok = true;
  for (;;) {
    natsMsg* msg = nullptr;
    const natsStatus s = reader.next(&msg, 15000);
    if (s != NATS_OK) {
      error = subject + ": the log stopped before sequence " + std::to_string(last_seq) + ": " + nats_error(s);
      ok = false;
      break;
    }
    LoggedInput in = to_logged(msg);
    natsMsg_Destroy(msg);
    f(in);
    if (in.topic == kEndTopic || in.seq >= last_seq) break;
  }

  return ok;
}

void for_each_batch_input(std::string_view batch, const std::function<void(std::string_view, std::string_view)>& f) {
  while (!batch.empty()) {
    const std::size_t nl = batch.find('\n');
    std::string_view line = batch.substr(0, nl);
    batch = nl == std::string_view::npos ? std::string_view{} : batch.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) f(line, {});
    else f(line.substr(0, sp), line.substr(sp + 1));
  }
}

std::size_t feed_logged(hil::Session& s, Micros t, const LoggedInput& in) {
  if (in.topic.empty()) {
    s.on_bad_frames(t, 1, in.body);
    return 1;
  }
  if (in.topic != kBatchTopic) {
    s.on_message(t, in.topic, in.body);
    return 1;
  }
  std::size_t n = 0;
  s.hold_engine(true);
  for_each_batch_input(in.body, [&](std::string_view topic, std::string_view body) {
    s.on_message(t, topic, body);
    ++n;
  });
  s.hold_engine(false);
  s.advance(t);
  return n;
}

// Replays the site's log into a session as the worker does; with a recorder when `recorder`.
namespace {
struct LogReplay {
  Scenario sc;
  RunResult r;
  hil::LiveSummary summary;
  bool ended = false;
};

bool replay_log(Nats& n, const std::string& site, const SiteDef& def, hil::RecordingWriter* recorder, LogReplay& out, std::string& error) {
  if (!hil::load_recording_scenario(def.header, out.sc, error)) {
    error = "site " + site + ": " + error;
    return false;
  }
  hil::SessionOptions so;
  so.start_unix_us = def.header.start_unix_us;
  so.with_script = def.header.with_script;
  so.solve_window = def.header.solve_window;
  so.replay = true;
  out.sc.site.timezone_min = def.header.utc_offset_min;
  hil::Session session(out.sc, so);
  session.set_recorder(recorder);
  Micros end = 0;
  // the recording says input_batches: consecutive input records with one time are replayed as one
  // batch, so each message's records are closed by a `reached` record when the next message has
  // the same time (a no-op for the engine, already at t)
  std::optional<Micros> open_t;
  const bool ok = read_log(n, site, [&](const LoggedInput& in) {
    if (out.ended) return;
    const Micros t = in.has_t ? std::max(in.t, session.now()) : session.now();
    if (in.topic == kEndTopic) {
      out.ended = true;
      end = t;
      return;
    }
    if (recorder && open_t == t) recorder->reached(t);
    const std::uint64_t accepted0 = session.counters().accepted;
    feed_logged(session, t, in);
    const bool recorded = session.counters().accepted > accepted0;
    // a message with nothing accepted is not recorded, but the session advanced to its time (a
    // step at t, which can decide something before the next input of the same instant): a
    // `reached` record makes the replay advance there too
    if (!recorded && recorder) recorder->reached(t);
    open_t = recorded ? std::optional<Micros>(t) : std::nullopt;
    end = std::max(end, t);
  }, error);
  if (!ok) return false;
  if (!out.ended && recorder) {
    // not ended: the recording must not claim an end the log lacks (replay stops at its last record)
    recorder->reached(end);
    recorder->flush();
    session.set_recorder(nullptr);
  }
  session.finish(end, out.r);
  out.sc = session.scenario();
  out.summary.replay = false;
  out.summary.start_unix_ms = session.start_unix_ms();
  out.summary.utc_offset_min = def.header.utc_offset_min;
  out.summary.end_t = end;
  out.summary.counters = session.counters();
  out.summary.advice = session.advice();
  out.summary.marks = session.marks();
  out.summary.recording = "nats " + in_subject(site);
  return true;
}
}  // namespace

bool export_site(Nats& n, const std::string& site, const std::string& file, bool& ended, std::string& error) {
  SiteDef def;
  if (!get_site(n, site, def, error)) return false;
  hil::RecordingWriter w;
  hil::RecordingHeader h = def.header;
  h.input_batches = true;  // a batch message's inputs are one batch (replay_log)
  if (!w.open(file, h, error)) return false;
  LogReplay lr;
  if (!replay_log(n, site, def, &w, lr, error)) return false;
  if (!w.flush()) {
    error = w.error();
    return false;
  }
  w.close();
  ended = lr.ended;
  return true;
}

bool report_site(Nats& n, const std::string& site, const std::string& dir, bool& from_log, std::string& error) {
  SiteDef def;
  if (!get_site(n, site, def, error)) return false;
  std::error_code ec;
  fs::create_directories(dir, ec);
  from_log = false;
  auto rj = kv_get(n.impl().reports, site + ".json");
  auto rm = kv_get(n.impl().reports, site + ".md");
  if (rj && rm) {
    json j = json::parse(*rj, nullptr, false);
    if (j.is_object() && j.contains("park") && j["park"].value("def_revision", std::uint64_t{0}) == def.revision) {
      // outputs stored in PARK_OUT for the site now, beside the worker's count of outputs decided
      jsOptions jo;
      jsOptions_Init(&jo);
      const std::string filter = "park.out." + site + ".>";
      jo.Stream.Info.SubjectsFilter = filter.c_str();
      jsStreamInfo* si = nullptr;
      if (js_GetStreamInfo(&si, n.impl().js, kOutStream, &jo, nullptr) == NATS_OK && si) {
        std::uint64_t stored = 0;
        if (si->State.Subjects)
          for (int i = 0; i < si->State.Subjects->Count; ++i) stored += si->State.Subjects->List[i].Msgs;
        j["park"]["outputs_stored"] = stored;
        jsStreamInfo_Destroy(si);
      }
      std::ofstream(fs::path(dir) / "report.json", std::ios::binary) << j.dump(2) << "\n";
      std::ofstream(fs::path(dir) / "report.md", std::ios::binary) << *rm;
      if (!std::ofstream(fs::path(dir) / "report.md", std::ios::app)) {
        error = dir + ": cannot write the report";
        return false;
      }
      return true;
    }
  }
  LogReplay lr;
  if (!replay_log(n, site, def, nullptr, lr, error)) return false;
  from_log = true;
  return hil::write_live_report(dir, lr.sc, lr.r, lr.summary, error);
}

}  // namespace planttwin::park
