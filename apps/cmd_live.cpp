// planttwin live SCENARIO ... and planttwin replay FILE ... (H-03, docs/live-v1.md,
// docs/recording.md). Exit codes as `run`: 0 every expectation passed, 1 one failed, 2 bad input.
#include <filesystem>
#include <chrono>
#include <thread>
#include <future>
#include <atomic>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "apps/commands.h"
#include "apps/uplink_options.h"
#ifdef PLANTTWIN_HAS_VIEW
#include "viewer/app.h"
#include "viewer/timeline.h"
#endif
#include "hardware-in-loop/live.h"
#ifdef PLANTTWIN_HAS_PARK
#include <signal.h>
#include "park/park.h"
#endif
#include "hardware-in-loop/mqtt/mqtt_channel.h"
#include "hardware-in-loop/omlox/omlox_channel.h"
#include "history/sqlite_history.h"
#include "scenarios/checkpoint.h"
#include "scenarios/loader.h"
#include "scenarios/report.h"

namespace fs = std::filesystem;

namespace planttwin::cli {

namespace {

struct LiveArgs {
  std::string scenario, bind, connect, publish, record, duration, report, max_skew = "60s", solve_window = "50ms";
  std::string curve_secret_key, curve_allowed_clients, curve_server_key, history;
  cli::UplinkCli uplink;  // the park platform (docs/uplink.md, docs/platform.md)
  bool with_script = false;
  bool view = false;                 // --view: the viewer follows the session
  std::string view_lang = "zh", view_screenshot;
  std::string checkpoint_every, checkpoint_dir, resume;
  std::string nats;  // --nats URL: bridge into the park instead of running the engine here
  // vendor channels (issue 14): MQTT with a profile, the omlox hub API as server and as client
  std::string mqtt, mqtt_profile = "generic", omlox_listen, omlox_connect;
  std::string mqtt_ca, mqtt_cert, mqtt_key, mqtt_username, mqtt_password_file;  // TLS and login (docs/mqtt.md)
  // input bounds (docs/live-v1.md, "Resource limits")
  int input_hwm = 200000;
  std::size_t mqtt_max_queued = 100000, mqtt_max_queued_bytes = 64u << 20;
};

struct ReplayArgs {
  std::string file, report;
  std::string checkpoint_every, checkpoint_dir, resume;
};

bool duration_arg(const char* opt, const std::string& s, Micros& out) {
  if (!parse_duration(s, out) || out < 0) {
    std::cerr << opt << " " << s << ": not a duration (e.g. 60s, 250ms, 5min)\n";
    return false;
  }
  return true;
}

void print_outcome(const Scenario& sc, const RunResult& r, const std::string& report) {
  for (const auto& e : r.expectations)
    if (!e.passed) std::cerr << sc.file << ": expectation #" << e.index + 1 << " failed: " << e.text << "\n    " << e.detail << "\n";
  std::cout << sc.name << ": " << (r.passed ? "PASS" : "FAIL") << ", " << r.alarms.size() << " alarms, hash " << r.hash << "\n";
  if (!report.empty()) std::cout << "Report: " << (fs::path(report) / "report.md").string() << "\n";
}

// --nats: the ZeroMQ sockets bridged into the park (docs/park.md); the workers run the engine.
int cmd_live_nats(const LiveArgs& a, const Scenario& sc) {
#ifdef PLANTTWIN_HAS_PARK
  if (a.bind.empty()) {
    std::cerr << "planttwin live --nats: needs --bind (the PULL socket vendors push to)\n";
    return kExitBadInput;
  }
  // The bridge only forwards: recording, resuming, checkpoints, reports, history, the uplink and the
  // vendor channels belong to the worker that runs the site (docs/park.md). Refused, never ignored.
  const std::vector<std::pair<const char*, bool>> not_here = {
      {"--connect", !a.connect.empty()},          {"--record", !a.record.empty()},
      {"--resume", !a.resume.empty()},            {"--checkpoint-every", !a.checkpoint_every.empty()},
      {"--checkpoint-dir", !a.checkpoint_dir.empty()}, {"--report", !a.report.empty()},
      {"--history", !a.history.empty()},          {"--uplink", a.uplink.given()},
      {"--uplink-profile", !a.uplink.args.profile.empty()}, {"--platform-verdict", !a.uplink.platform_verdict.empty()},
      {"--mqtt", !a.mqtt.empty()},                {"--omlox-listen", !a.omlox_listen.empty()},
      {"--omlox-connect", !a.omlox_connect.empty()}, {"--view", a.view},
      {"--curve-secret-key", !a.curve_secret_key.empty()}};
  for (const auto& [opt, given] : not_here)
    if (given) {
      std::cerr << "planttwin live --nats: " << opt << " 不能与 --nats 同用 cannot be used with --nats: the bridge only forwards --bind to the park; "
                   "the worker running the site records, checkpoints and reports (docs/park.md)\n";
      return kExitBadInput;
    }
  park::Nats n;
  std::string err;
  if (!n.open(a.nats, park::ParkSettings{}, err)) {
    std::cerr << "planttwin live: " << err << "\n";
    return kExitBadInput;
  }
  park::BridgeOptions o;
  o.bind = a.bind;
  o.publish = a.publish;
  o.with_script = a.with_script;
  if (!a.duration.empty()) {
    Micros d = 0;
    if (!duration_arg("--duration", a.duration, d)) return kExitBadInput;
    o.duration = d;
  }
  o.on_ready = [](const std::string& s) { std::cout << s << std::endl; };
  static std::atomic<bool> stop{false};
  struct sigaction sa{};
  sa.sa_handler = [](int) { stop = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::uint64_t forwarded = 0;
  if (!park::run_bridge(n, sc, o, stop, forwarded, err)) {
    std::cerr << "planttwin live: " << err << "\n";
    return kExitBadInput;
  }
  std::cout << "Forwarded " << forwarded << " inputs to the park; end marker sent\n";
  return kExitPass;
#else
  (void)sc;
  std::cerr << "planttwin live --nats " << a.nats << ": this build has no park (libnats); run scripts/setup and rebuild\n";
  return kExitBadInput;
#endif
}

int cmd_live(const LiveArgs& a) {
  cli::UplinkCli uplink = a.uplink;  // checked: position_every set from its option
  if (!cli::check_uplink_options("live", uplink)) return kExitBadInput;
  Scenario sc;
  if (auto err = load_scenario_file(a.scenario, sc)) {
    std::cerr << err->to_string() << "\n";
    return kExitBadInput;
  }
  if (!a.nats.empty()) return cmd_live_nats(a, sc);
  hil::LiveOptions o;
  o.bind = a.bind;
  o.connect = a.connect;
  o.publish = a.publish;
  o.rcv_hwm = a.input_hwm;
  o.record = a.record;
  o.with_script = a.with_script;
  o.curve_secret_key = a.curve_secret_key;
  o.curve_allowed_clients = a.curve_allowed_clients;
  o.curve_server_key = a.curve_server_key;
  o.handle_signals = true;
  if (!a.duration.empty()) {
    Micros d = 0;
    if (!duration_arg("--duration", a.duration, d)) return kExitBadInput;
    o.duration = d;
  }
  if (!duration_arg("--max-skew", a.max_skew, o.max_skew) || !duration_arg("--solve-window", a.solve_window, o.solve_window))
    return kExitBadInput;
  if (!checkpoint_args(a.checkpoint_every, a.checkpoint_dir, o.checkpoint_every)) return kExitBadInput;
  o.checkpoint_dir = a.checkpoint_dir;
  RunCheckpoint resume;
  if (!a.resume.empty()) {
    std::string why;
    if (!read_checkpoint_file(a.resume, resume, why)) {
      std::cerr << "planttwin live: --resume " << a.resume << ": " << why << "\n";
      return kExitBadInput;
    }
    if (a.view) {
      std::cerr << "planttwin live: --resume cannot be combined with --view (the viewer follows a session from its start)\n";
      return kExitBadInput;
    }
    o.resume = &resume;
  }
  // every fix fed to the engine, beside the report (docs/live-v1.md "Report")
  if (!a.report.empty()) o.fixes_csv = (fs::path(a.report) / "fixes.csv").string();
  std::unique_ptr<SqliteHistory> store;
  if (!a.history.empty()) {
    std::error_code ec;
    if (fs::path(a.history).has_parent_path()) fs::create_directories(fs::path(a.history).parent_path(), ec);
    std::string err;
    store = SqliteHistory::open(a.history, HistoryOptions{}, err);
    if (!store) {
      std::cerr << err << "\n";
      return kExitBadInput;
    }
    o.history = store.get();
  }
  o.uplink = uplink.args;
#ifdef PLANTTWIN_HAS_VIEW
  // --view: the session's engine calls go to the viewer's own engine, which follows it (H-01)
  auto feed = std::make_shared<viewer::LiveFeed>();
  std::promise<Scenario> started;
  std::future<Scenario> started_f = started.get_future();
  if (a.view) {
    o.engine_calls = [feed](const EngineCall& c) { feed->push(c); };
    o.on_start = [&started](const Scenario& s) { started.set_value(s); };
  }
#else
  if (a.view) {
    std::cerr << "planttwin live: --view: this build has no viewer (libimgui-dev, libglfw3-dev, libgl-dev)\n";
    return kExitBadInput;
  }
#endif
  std::string err;
  if (a.mqtt.empty()) {
    for (const auto& [opt, value] : std::initializer_list<std::pair<const char*, const std::string*>>{{"--mqtt-ca", &a.mqtt_ca}, {"--mqtt-cert", &a.mqtt_cert}, {"--mqtt-key", &a.mqtt_key},
                                     {"--mqtt-username", &a.mqtt_username}, {"--mqtt-password-file", &a.mqtt_password_file}})
      if (!value->empty()) {
        std::cerr << "planttwin live: " << opt << " 仅用于 --mqtt only goes with --mqtt URL\n";
        return kExitBadInput;
      }
  }
  if (!a.mqtt.empty()) {
    hil::MqttOptions mo;
    mo.url = a.mqtt;
    mo.profile = a.mqtt_profile;
    mo.max_queued = a.mqtt_max_queued;
    mo.max_queued_bytes = a.mqtt_max_queued_bytes;
    mo.ca_file = a.mqtt_ca;
    mo.cert_file = a.mqtt_cert;
    mo.key_file = a.mqtt_key;
    mo.username = a.mqtt_username;
    mo.password_file = a.mqtt_password_file;
    auto c = hil::make_mqtt_channel(sc, mo, err);
    if (!c) {
      std::cerr << "planttwin live: " << err << "\n";
      return kExitBadInput;
    }
    o.channels.push_back(c);
  }
  if (!a.omlox_listen.empty() || !a.omlox_connect.empty()) {
    hil::OmloxOptions oo;
    oo.listen = a.omlox_listen;
    oo.connect = a.omlox_connect;
    if (!hil::make_omlox_channels(sc, oo, o.channels, err)) {
      std::cerr << "planttwin live: " << err << "\n";
      return kExitBadInput;
    }
  }
  hil::LiveLoop loop(sc, o);
  if (!loop.open(err)) {
    std::cerr << "planttwin live: " << err << "\n";
    return kExitBadInput;
  }
  if (!loop.input_endpoint().empty()) {
    std::cout << "planttwin live: inputs on " << loop.input_endpoint();
    if (!loop.publish_endpoint().empty()) std::cout << ", outputs on " << loop.publish_endpoint();
    std::cout << std::endl;
  } else if (!loop.publish_endpoint().empty()) {
    std::cout << "planttwin live: outputs on " << loop.publish_endpoint() << std::endl;
  }
  for (const auto& c : o.channels) std::cout << "planttwin live: " << c->describe() << std::endl;
  bool run_ok = true, view_failed = false;
#ifdef PLANTTWIN_HAS_VIEW
  if (a.view) {
    std::atomic<bool> ran{false};
    std::thread session([&] {
      run_ok = loop.run(err);
      ran = true;
    });
    while (started_f.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready && !ran) {
    }
    if (started_f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      const Scenario ssc = started_f.get();
      auto tl = viewer::Timeline::create_following(ssc, feed, [&loop](const AlarmAction& act) { loop.act(act); }, {});
      viewer::ViewOptions vo;
      vo.lang = a.view_lang == "en" ? viewer::Lang::en : viewer::Lang::zh;
      vo.play = true;
      std::string verr;
      if (!a.view_screenshot.empty()) {
        // scripted check: the session runs to its end, then its last state is drawn
        session.join();
        tl->tick(0);
        tl->seek(tl->duration());
        vo.at = tl->duration();
        vo.screenshot = a.view_screenshot;
        vo.hidden = true;
        vo.play = false;
        view_failed = viewer::run_viewer(*tl, vo, verr) != 0;
      } else {
        view_failed = viewer::run_viewer(*tl, vo, verr) != 0;
        loop.stop();  // closing the window ends the session (or a window that cannot open)
      }
      if (view_failed) std::cerr << "planttwin live: --view: " << verr << "\n";
    }
    if (session.joinable()) session.join();
  } else {
    run_ok = loop.run(err);
  }
#else
  run_ok = loop.run(err);
#endif
  if (!run_ok) {
    std::cerr << "planttwin live: " << err << "\n";
    return kExitBadInput;
  }
  if (view_failed) return kExitBadInput;
  const RunResult& r = loop.result();
  const hil::LiveSummary& s = loop.summary();
  std::cout << "Session: " << to_seconds(s.end_t) << " s, " << s.counters.accepted << " inputs accepted, " << s.counters.dropped << " dropped";
  if (s.latency_us_p50) std::cout << ", arrival->decision p50 " << *s.latency_us_p50 << " us, p99 " << *s.latency_us_p99 << " us";
  std::cout << "\n";
  if (r.resumed_at)
    std::cout << "Resumed from " << a.resume << " at " << *r.resumed_at << " s; " << loop.live_stats().resumed_records
              << " records of the interrupted session's recording read again\n";
  for (const auto& [name, st] : s.sources)
    if (name != "zeromq" || s.sources.size() > 1)
      std::cout << "Source " << name << ": " << st.received << " received, " << st.accepted << " accepted, " << st.dropped << " dropped, "
                << st.disconnects << " disconnects\n";
  for (const std::string& advice : s.advice) std::cout << "Advice: " << advice << "\n";
  if (store) store->checkpoint();
  if (!a.report.empty() && !hil::write_live_report(a.report, loop.scenario(), r, s, err)) {
    std::cerr << err << "\n";
    return kExitBadInput;
  }
  if (!a.report.empty() && !a.uplink.platform_verdict.empty() && !cli::add_platform_verdict("live", a.report, a.uplink.platform_verdict, r))
    return kExitBadInput;
  if (!a.record.empty()) std::cout << "Recording: " << a.record << "\n";
  if (!r.checkpoints.empty()) std::cout << "Checkpoints: " << r.checkpoints.size() << " in " << a.checkpoint_dir << ", the last " << r.checkpoints.back() << "\n";
  if (a.uplink.given())
    std::cout << "Uplink: " << loop.live_stats().uplink_queued << " batches queued this session; the outbox has sent "
              << loop.live_stats().uplink_sent << " in all and holds " << loop.live_stats().uplink_pending << " pending\n";
  print_outcome(loop.scenario(), r, a.report);
  return r.passed ? kExitPass : kExitFail;
}

int cmd_replay(const ReplayArgs& a) {
  const std::string& file = a.file;
  const std::string& report = a.report;
  hil::ReplayOptions ro;
  if (!checkpoint_args(a.checkpoint_every, a.checkpoint_dir, ro.checkpoint_every)) return kExitBadInput;
  ro.checkpoint_dir = a.checkpoint_dir;
  if (!report.empty()) ro.fixes_csv = (fs::path(report) / "fixes.csv").string();
  RunCheckpoint resume;
  std::string err;
  if (!a.resume.empty()) {
    if (!read_checkpoint_file(a.resume, resume, err)) {
      std::cerr << "planttwin replay: " << err << "\n";
      return kExitBadInput;
    }
    ro.resume = &resume;
  }
  Scenario sc;
  RunResult r;
  hil::LiveSummary s;
  if (!hil::replay_recording(file, sc, r, s, err, ro)) {
    std::cerr << "planttwin replay: " << err << "\n";
    return kExitBadInput;
  }
  if (!s.torn.empty())
    std::cerr << "planttwin replay: " << file << ": torn tail: " << s.torn << " (" << s.torn_bytes
              << " bytes dropped); replaying the intact prefix\n";
  if (!report.empty() && !hil::write_live_report(report, sc, r, s, err)) {
    std::cerr << err << "\n";
    return kExitBadInput;
  }
  std::cout << "Replayed " << s.counters.accepted << " inputs over " << to_seconds(s.end_t) << " s";
  if (r.resumed_at) std::cout << " (resumed from " << a.resume << " at " << *r.resumed_at << " s)";
  std::cout << "\n";
  if (!r.checkpoints.empty()) std::cout << "Checkpoints: " << r.checkpoints.size() << " in " << a.checkpoint_dir << "\n";
  print_outcome(sc, r, report);
  return r.passed ? kExitPass : kExitFail;
}

}  // namespace

std::vector<Subcommand> add_live_commands(CLI::App& app) {
  auto a = std::make_shared<LiveArgs>();
  CLI::App* live = app.add_subcommand("live", "Run a scenario's site and rules on live hardware over ZeroMQ (docs/live-v1.md; exit 0 pass, 1 fail, 2 bad input)");
  live->add_option("scenario", a->scenario, "Scenario file: site, people and tags, rules, calendar, expectations")->required();
  auto* bind = live->add_option("--bind", a->bind, "PULL socket for inputs, e.g. tcp://127.0.0.1:5555");
  auto* connect = live->add_option("--connect", a->connect, "SUB (all topics) to a vendor's PUB socket instead of --bind");
  bind->excludes(connect);
  live->add_option("--publish", a->publish, "PUB socket for outputs, e.g. tcp://127.0.0.1:5556");
  live->add_option("--mqtt", a->mqtt, "MQTT broker for inputs and outputs, mqtt://HOST:PORT (docs/mqtt.md)");
  live->add_option("--mqtt-profile", a->mqtt_profile, "MQTT payload profile: pozyx, nooploop, generic or a YAML file (docs/mqtt.md)")->capture_default_str();
  live->add_option("--mqtt-ca", a->mqtt_ca, "CA certificates (PEM) the broker's certificate must chain to, for mqtts:// (default: the system's)");
  live->add_option("--mqtt-cert", a->mqtt_cert, "Client certificate (PEM) for a broker that requires one (mqtts://; with --mqtt-key)");
  live->add_option("--mqtt-key", a->mqtt_key, "The client certificate's private key (PEM)");
  live->add_option("--mqtt-username", a->mqtt_username, "User name to log in to the broker");
  live->add_option("--mqtt-password-file", a->mqtt_password_file, "File whose first line is the broker password (with --mqtt-username)");
  live->add_option("--mqtt-max-queued", a->mqtt_max_queued, "MQTT messages waiting for the engine before more are dropped and counted as 'overloaded' (0: no limit)")
      ->capture_default_str();
  live->add_option("--mqtt-max-queued-bytes", a->mqtt_max_queued_bytes, "Bytes of MQTT messages waiting for the engine before more are dropped (0: no limit)")
      ->capture_default_str();
  live->add_option("--input-hwm", a->input_hwm, "ZeroMQ input messages queued per peer before a PUSH peer waits (--bind; docs/live-v1.md)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  live->add_option("--omlox-listen", a->omlox_listen, "Serve the omlox hub API v2 here, HOST:PORT (port 0: pick one; docs/omlox.md)");
  live->add_option("--omlox-connect", a->omlox_connect, "Follow a vendor's omlox hub: subscribe to its location_updates, http://HOST:PORT/v2");
  live->add_option("--record", a->record, "Record every accepted input (docs/recording.md)");
  live->add_option("--duration", a->duration, "Stop after this much wall-clock time (e.g. 60s); else at SIGINT / SIGTERM");
  live->add_option("--report", a->report, "Write report.json and report.md here at the end");
  live->add_option("--nats", a->nats, "Bridge --bind / --publish into the park on NATS instead of running the engine here (docs/park.md)");
  live->add_flag("--with-script", a->with_script, "Also play the scenario's script (SOS, permits, alarm actions; not motion)");
  live->add_option("--max-skew", a->max_skew, "Refuse inputs whose ts lies further than this from their arrival")->capture_default_str();
  live->add_option("--solve-window", a->solve_window, "range / tdoa: solve a tag's epoch this long after its first message")->capture_default_str();
  live->add_option("--curve-secret-key", a->curve_secret_key, "CURVE: planttwin's own secret certificate (zcert format)");
  live->add_option("--curve-allowed-clients", a->curve_allowed_clients, "CURVE: folder of client certificates allowed to connect (PULL of --bind, PUB of --publish)");
  live->add_option("--curve-server-key", a->curve_server_key, "CURVE with --connect: the public certificate of the vendor's PUB");
  live->add_flag("--view", a->view, "Open the viewer on the session: it follows the live engine; acknowledging there reaches the session");
  live->add_option("--view-lang", a->view_lang, "--view: zh or en")->check(CLI::IsMember({"zh", "en"}));
  live->add_option("--view-screenshot", a->view_screenshot, "--view without a window: when the session ends, draw its last state into this PNG");
  live->add_option("--history", a->history, "Store fixes, alarms and permits in this SQLite history file");
  add_uplink_options(live, a->uplink);
  live->add_option("--checkpoint-every", a->checkpoint_every,
                   "Write a checkpoint of the session every D of engine time (e.g. 10s) into --checkpoint-dir; replay --resume continues from one");
  live->add_option("--checkpoint-dir", a->checkpoint_dir, "Folder for checkpoint files NAME-tSECONDS.ptck (created when missing)");
  live->add_option("--resume", a->resume,
                   "Continue an interrupted session (kill -9, power cut) from one of its checkpoints: engine time goes on from its start; "
                   "--record must then name its recording, whose inputs after the checkpoint are read again and which goes on");

  auto ra = std::make_shared<ReplayArgs>();
  CLI::App* replay = app.add_subcommand("replay", "Replay a live session's recording: the same alarms and hash (exit 0 pass, 1 fail, 2 bad input)");
  replay->add_option("file", ra->file, "Recording written by live --record")->required();
  replay->add_option("--report", ra->report, "Write report.json and report.md here");
  replay->add_option("--checkpoint-every", ra->checkpoint_every, "Write a checkpoint every D of engine time (e.g. 10s) into --checkpoint-dir");
  replay->add_option("--checkpoint-dir", ra->checkpoint_dir, "Folder for checkpoint files NAME-tSECONDS.ptck (created when missing)");
  replay->add_option("--resume", ra->resume,
                     "Continue from this checkpoint (of the recorded session or a replay of it), skipping the records it holds; "
                     "the report equals the uninterrupted replay's");

  return {{live, [a] {
             if (a->bind.empty() && a->connect.empty() && a->mqtt.empty() && a->omlox_listen.empty() && a->omlox_connect.empty()) {
               std::cerr << "planttwin live: 未指定输入 no input: give --bind ENDPOINT, --connect ENDPOINT, --mqtt URL, --omlox-listen HOST:PORT or --omlox-connect URL\n";
               return kExitBadInput;
             }
             return cmd_live(*a);
           }},
          {replay, [ra] { return cmd_replay(*ra); }}};
}

}  // namespace planttwin::cli
