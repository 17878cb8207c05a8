// Checkpoints of live sessions and replays (issue 12; H-01, H-03; docs/recording.md
// "Checkpoints"): a session checkpointed mid-way and restored into a fresh one ends in the same
// state as the uninterrupted one; a replay resumed from its first, a middle or its last checkpoint,
// or from a checkpoint the live session wrote, gives the uninterrupted replay's hash and report;
// checkpoints change nothing; a checkpoint of another scenario or session, or a damaged one, is
// refused (exit 2). Issue 19: fix_hash and fixes.csv of a resumed session or replay equal the
// uninterrupted one's (fixes.csv continues the interrupted file, cut back to the checkpoint).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/checkpoint.h"
#include "hardware-in-loop/session.h"
#include "scenarios/checkpoint.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::int64_t kStartUs = 1'800'000'000'000'000;
constexpr std::int64_t kStartMs = kStartUs / 1000;

std::vector<std::string> checkpoint_files(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".ptck") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());  // names sort in time order
  return v;
}

RunCheckpoint read_ck(const std::string& path) {
  RunCheckpoint ck;
  std::string why;
  EXPECT_TRUE(read_checkpoint_file(path, ck, why)) << why;
  return ck;
}

json read_json(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

double dist3(const Anchor& a, double x, double y) { return std::sqrt(std::pow(a.at[0] - x, 2) + std::pow(a.at[1] - y, 2) + std::pow(a.at[2] - 1.2, 2)); }

// ---- a session, without sockets -----------------------------------------------------------------

// One call on a session: a message (topic, body) or time passing (topic "").
struct Call {
  Micros t = 0;
  std::string topic, body;
};

void apply(Session& s, const Call& c) {
  if (c.topic.empty()) s.advance(c.t);
  else s.on_message(c.t, c.topic, c.body);
}

// Six seconds of a session with the script (SOS at 2 s): fixes walking into the tank farm, raw
// ranges and TDoA differences through the solver (epochs left open across checkpoints), marks, an
// SOS from the hardware and its acknowledgement, a permit, a rejected message, timer turns.
std::vector<Call> session_calls(const Scenario& sc) {
  std::vector<Call> v;
  auto ts = [](Micros t) { return kStartMs + t / 1000; };
  for (Micros t = 0; t <= 6 * kSecond; t += 250 * kMillisecond) {
    const int k = static_cast<int>(t / (250 * kMillisecond));
    v.push_back({t + 1, "fix", fix("T1", 10, 10, ts(t)).dump()});
    v.push_back({t + 2, "fix", fix("T3", 40 + 2 * k, 40 + 2 * k, ts(t)).dump()});
    // T4 by ranges: one epoch every 250 ms, its ranges arriving over 30 ms from 235 ms on, so that
    // an epoch is still collecting at every whole second (the next epoch or the window closes it)
    for (size_t a = 0; a < sc.site.anchors.size(); ++a)
      v.push_back({t + 235 * kMillisecond + static_cast<Micros>(a) * 10 * kMillisecond, "range",
                   json{{"v", 1}, {"tag", "T4"}, {"anchor", sc.site.anchors[a].id}, {"ts", ts(t)}, {"d", dist3(sc.site.anchors[a], 30 + k, 30)}}.dump()});
    if (k % 4 == 2) {  // T2 by TDoA, once a second
      const Anchor& a0 = sc.site.anchors[0];
      for (size_t b = 1; b < sc.site.anchors.size(); ++b)
        v.push_back({t + 5 + static_cast<Micros>(b), "tdoa",
                     json{{"v", 1}, {"tag", "T2"}, {"anchor_a", a0.id}, {"anchor_b", sc.site.anchors[b].id}, {"ts", ts(t)},
                          {"dd", dist3(sc.site.anchors[b], 12, 10) - dist3(a0, 12, 10)}}.dump()});
    }
    if (k == 3 || k == 13) v.push_back({t + 7, "mark", json{{"v", 1}, {"tag", "T1"}, {"ts", ts(t)}, {"point", "SP-1"}}.dump()});
    if (k == 5) v.push_back({t + 8, "sos", json{{"v", 1}, {"tag", "T2"}, {"ts", ts(t)}}.dump()});
    if (k == 9) v.push_back({t + 9, "ack", json{{"v", 1}, {"ts", ts(t)}, {"alarm_id", "A000001"}, {"action", "ack"}, {"by", "S1"}}.dump()});
    if (k == 11)
      v.push_back({t + 10, "permit", json{{"v", 1}, {"ts", ts(t)}, {"action", "reserve"}, {"id", "R1"}, {"type", "hot_work"},
                                          {"area", {{0, 0}, {5, 0}, {5, 5}}}, {"from", 0}, {"to", 3600}, {"urgent", true}}.dump()});
    if (k == 7) v.push_back({t + 11, "fix", "garbage"});
    v.push_back({t + 200 * kMillisecond, "", ""});  // a timer turn
  }
  std::stable_sort(v.begin(), v.end(), [](const Call& a, const Call& b) { return a.t < b.t; });
  return v;
}

SessionOptions session_options(const fs::path& ck_dir = {}, const fs::path& fixes_csv = {}) {
  SessionOptions o;
  o.start_unix_us = kStartUs;
  o.with_script = true;
  o.fixes_csv = fixes_csv.string();
  if (!ck_dir.empty()) {
    o.checkpoint_every = kSecond;
    o.checkpoint_dir = ck_dir.string();
  }
  return o;
}

constexpr Micros kEnd = 6500 * kMillisecond;

void expect_same_session(const Session& a, const RunResult& ra, const Session& b, const RunResult& rb) {
  EXPECT_TRUE(a.engine().state() == b.engine().state());
  EXPECT_EQ(ra.canonical_stream, rb.canonical_stream);
  EXPECT_EQ(ra.hash, rb.hash);
  EXPECT_EQ(ra.alarms.size(), rb.alarms.size());
  EXPECT_EQ(ra.warns.size(), rb.warns.size());
  EXPECT_EQ(ra.entries.size(), rb.entries.size());
  ASSERT_EQ(ra.zone_counts.size(), rb.zone_counts.size());
  for (const auto& [zone, v] : ra.zone_counts) {
    const auto it = rb.zone_counts.find(zone);
    ASSERT_NE(it, rb.zone_counts.end()) << zone;
    ASSERT_EQ(v.size(), it->second.size()) << zone;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(v[i].t, it->second[i].t);
      EXPECT_EQ(v[i].count, it->second[i].count);
      EXPECT_EQ(v[i].by_category, it->second[i].by_category);
    }
  }
  EXPECT_EQ(ra.statuses, rb.statuses);
  EXPECT_EQ(ra.refusals.size(), rb.refusals.size());
  EXPECT_EQ(ra.fixes, rb.fixes);
  EXPECT_EQ(ra.fix_hash, rb.fix_hash);  // H-05: every fix, in the same order
  EXPECT_EQ(a.fix_hash(), b.fix_hash());
  EXPECT_EQ(ra.passed, rb.passed);
  const SessionCounters &ca = a.counters(), &cb = b.counters();
  EXPECT_EQ(ca.received, cb.received);
  EXPECT_EQ(ca.accepted, cb.accepted);
  EXPECT_EQ(ca.dropped, cb.dropped);
  EXPECT_EQ(ca.dropped_by_reason, cb.dropped_by_reason);
  EXPECT_EQ(ca.solved_fixes, cb.solved_fixes);
  EXPECT_EQ(ca.solver_no_fix, cb.solver_no_fix);
  EXPECT_EQ(ca.fix_intervals, cb.fix_intervals);
  EXPECT_EQ(ca.late_fixes, cb.late_fixes);
  EXPECT_EQ(ca.longest_interval, cb.longest_interval);
  ASSERT_EQ(a.marks().size(), b.marks().size());
  for (size_t i = 0; i < a.marks().size(); ++i) {
    EXPECT_EQ(a.marks()[i].errors, b.marks()[i].errors);
    EXPECT_EQ(a.marks()[i].without_fix, b.marks()[i].without_fix);
  }
  EXPECT_EQ(a.advice(), b.advice());
}

TEST(LiveCheckpoint, H01_SessionRestoredMidwayEndsInTheSameState) {
  const fs::path d = temp_dir("ck-session");
  const Scenario sc = load_live_scenario();
  const std::vector<Call> calls = session_calls(sc);

  // without checkpoints, and with one every second: the same session, the same fixes.csv
  std::string csv_err;
  Session plain(sc, session_options({}, d / "plain.csv"));
  ASSERT_TRUE(plain.open_fixes_csv(csv_err)) << csv_err;
  for (const Call& c : calls) apply(plain, c);
  RunResult rp;
  plain.finish(kEnd, rp);
  Session full(sc, session_options(d, d / "full.csv"));
  ASSERT_TRUE(full.open_fixes_csv(csv_err)) << csv_err;
  for (const Call& c : calls) apply(full, c);
  RunResult rf;
  full.finish(kEnd, rf);
  expect_same_session(plain, rp, full, rf);
  const std::string full_csv = read_text(d / "full.csv");
  EXPECT_EQ(read_text(d / "plain.csv"), full_csv);
  EXPECT_EQ(lines(full_csv), 1 + rf.fixes);  // the header, one row per fix
  EXPECT_EQ(rf.fixes, 2 * 25 + full.counters().solved_fixes);  // T1 and T3 every 250 ms, and the solver's
  // what the calls were meant to exercise
  EXPECT_GE(full.counters().solved_fixes, 20u);
  EXPECT_GE(rf.alarms.size(), 3u);  // crossing, SOS from the script and from the hardware
  EXPECT_EQ(full.counters().dropped, 1u);
  EXPECT_EQ(full.marks()[0].errors.size(), 2u);
  EXPECT_EQ(rf.statuses.count("R1"), 1u);
  EXPECT_TRUE(full.checkpoint_error().empty()) << full.checkpoint_error();

  const std::vector<std::string> files = checkpoint_files(d);
  ASSERT_EQ(files.size(), 6u);  // 1 s .. 6 s (the end at 6.5 s passes 6 s)
  EXPECT_EQ(rf.checkpoints, files);
  bool some_epoch_open = false;
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const RunCheckpoint ck = read_ck(f);
    EXPECT_EQ(ck.meta.positioning, "live");
    EXPECT_EQ(ck.meta.t % kSecond, 0);
    // the interrupted session's fixes.csv (here: the whole file) is cut back and continued
    fs::copy_file(d / "full.csv", d / "resumed.csv", fs::copy_options::overwrite_existing);
    Session resumed(sc, session_options({}, d / "resumed.csv"));
    ASSERT_TRUE(resumed.restore(ck, csv_err)) << csv_err;
    ASSERT_TRUE(resumed.open_fixes_csv(csv_err)) << csv_err;  // opened by restore: nothing to do
    // restoring is exact: the restored session checkpoints to the same bytes
    EXPECT_EQ(encode_checkpoint(resumed.checkpoint()), encode_checkpoint(ck));
    some_epoch_open = some_epoch_open || resumed.next_solve_deadline().has_value();
    for (const Call& c : calls)
      if (c.t > ck.meta.t) apply(resumed, c);
    RunResult rr;
    resumed.finish(kEnd, rr);
    expect_same_session(full, rf, resumed, rr);
    EXPECT_EQ(read_text(d / "resumed.csv"), full_csv);
    ASSERT_TRUE(rr.resumed_at.has_value());
    EXPECT_EQ(*rr.resumed_at, to_seconds(ck.meta.t));
  }
  EXPECT_TRUE(some_epoch_open);  // a checkpoint held a range epoch still collecting

  // a marked fix has its errors in fixes.csv: T1 stands 0 m from SP-1 (10, 10)
  {
    int marked = 0;
    std::istringstream in(full_csv);
    for (std::string line; std::getline(in, line);)
      if (line.find(",T1,") != std::string::npos && line.back() != ',') ++marked;
    EXPECT_EQ(marked, 2);
  }

  // refused, and the session left as it was: another session of the scenario, another script
  // setting, a started session, another layout, a damaged state, fixes.csv that cannot continue
  const RunCheckpoint ck = read_ck(files[2]);
  {
    Session other(sc, session_options({}, d / "missing" / "fixes.csv"));
    std::string why;
    EXPECT_FALSE(other.restore(ck, why));
    EXPECT_NE(why.find("fixes.csv"), std::string::npos) << why;
    EXPECT_EQ(other.now(), 0);
  }
  {
    // a checkpoint of a session that wrote no fixes.csv cannot give a complete one
    const fs::path nd = d / "no-csv";
    fs::create_directories(nd);
    Session none(sc, session_options(nd));
    for (const Call& c : calls)
      if (c.t <= 2 * kSecond + 1) apply(none, c);
    const std::vector<std::string> nf = checkpoint_files(nd);
    ASSERT_FALSE(nf.empty());
    const RunCheckpoint nck = read_ck(nf.back());
    std::ofstream(d / "some.csv") << "t,tag,x,y,z,floor,error_2d,error_3d\n";
    Session other(sc, session_options({}, d / "some.csv"));
    std::string why;
    EXPECT_FALSE(other.restore(nck, why));
    EXPECT_NE(why.find("wrote no fixes.csv"), std::string::npos) << why;
    Session without(sc, session_options());
    EXPECT_TRUE(without.restore(nck, why)) << why;  // without fixes.csv: fine
  }
  {
    SessionOptions o = session_options();
    o.start_unix_us += kSecond;
    Session other(sc, o);
    std::string err;
    EXPECT_FALSE(other.restore(ck, err));
    EXPECT_NE(err.find("another session"), std::string::npos) << err;
    EXPECT_EQ(other.now(), 0);
  }
  {
    SessionOptions o = session_options();
    o.with_script = false;
    Session other(sc, o);
    std::string err;
    EXPECT_FALSE(other.restore(ck, err));
    EXPECT_NE(err.find("script"), std::string::npos) << err;
  }
  {
    Session started(sc, session_options());
    started.advance(kSecond);
    std::string err;
    EXPECT_FALSE(started.restore(ck, err));
    EXPECT_NE(err.find("already started"), std::string::npos) << err;
  }
  {
    RunCheckpoint bad = ck;
    bad.meta.engine_layout += 1;
    Session other(sc, session_options());
    std::string err;
    EXPECT_FALSE(other.restore(bad, err));
    EXPECT_NE(err.find("layout"), std::string::npos) << err;
  }
  {
    RunCheckpoint bad = ck;
    bad.runner.pop_back();
    Session other(sc, session_options());
    std::string err;
    EXPECT_FALSE(other.restore(bad, err));
    EXPECT_NE(err.find("damaged"), std::string::npos) << err;
    EXPECT_EQ(other.now(), 0);
    EXPECT_EQ(other.counters().received, 0u);
  }
  fs::remove_all(d);
}

// ---- over loopback, and the command -------------------------------------------------------------

// A live session of about 4.5 s over loopback, recorded, with checkpoints every second: fixes
// walking into the tank farm, raw ranges (the solver), marks, SOS and its acknowledgement, a
// permit, a rejected message.
RunResult record_session(const std::string& file, const fs::path& ck_dir, const fs::path& fixes_csv = {}) {
  LiveOptions o;
  o.record = file;
  o.fixes_csv = fixes_csv.string();
  o.checkpoint_every = kSecond;
  o.checkpoint_dir = ck_dir.string();
  fs::create_directories(ck_dir);  // the command creates it
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  EXPECT_TRUE(c.wait_stats());
  const Site& site = s.scenario().site;
  for (int k = 0; k < 8; ++k) {
    c.send("fix", fix("T1", 10, 10));
    c.send("fix", fix("T3", 40 + 4 * k, 40 + 4 * k));
    const std::int64_t ts = now_unix_ms();
    for (const Anchor& a : site.anchors)
      c.send("range", json{{"v", 1}, {"tag", "T4"}, {"anchor", a.id}, {"ts", ts}, {"d", dist3(a, 30 + k, 30)}});
    if (k == 2) c.send("mark", json{{"v", 1}, {"tag", "T1"}, {"ts", now_unix_ms()}, {"point", "SP-1"}});
    if (k == 3) {
      c.send("sos", json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}});
      auto sos = c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "sos"; });
      EXPECT_TRUE(sos.has_value());
      if (sos) c.send("ack", json{{"v", 1}, {"ts", now_unix_ms()}, {"alarm_id", (*sos)["id"]}, {"action", "ack"}, {"by", "S1"}});
    }
    if (k == 5)
      c.send("permit", json{{"v", 1}, {"ts", now_unix_ms()}, {"action", "reserve"}, {"id", "R1"}, {"type", "hot_work"},
                            {"area", {{0, 0}, {5, 0}, {5, 5}}}, {"from", 0}, {"to", 3600}, {"urgent", true}});
    if (k == 6) c.send("fix", std::string("garbage"));
    std::this_thread::sleep_for(500ms);
  }
  std::this_thread::sleep_for(300ms);
  s.stop();
  EXPECT_TRUE(s.run_ok()) << s.run_error();
  return s.loop().result();
}

TEST(LiveCheckpoint, H01_H03_ReplayResumedFromFirstMiddleLastCheckpointGivesTheSameHashAndReport) {
  const fs::path d = temp_dir("ck-replay");
  const std::string file = (d / "session.ptrec").string();
  const RunResult live = record_session(file, d / "live-ck", d / "live" / "fixes.csv");
  ASSERT_GE(live.alarms.size(), 2u);  // crossing and SOS at least
  const std::vector<std::string> live_files = checkpoint_files(d / "live-ck");
  EXPECT_GE(live_files.size(), 3u);
  EXPECT_EQ(live.checkpoints, live_files);

  auto replay = [&](ReplayOptions o, RunResult& r, LiveSummary& s, const std::string& report) {
    Scenario sc;
    std::string err;
    o.fixes_csv = (d / report / "fixes.csv").string();
    EXPECT_TRUE(replay_recording(file, sc, r, s, err, o)) << err;
    EXPECT_TRUE(write_live_report((d / report).string(), sc, r, s, err)) << err;
    return read_json(d / report / "report.json");
  };
  RunResult r0;
  LiveSummary s0;
  const json j0 = replay({}, r0, s0, "plain");
  EXPECT_EQ(r0.hash, live.hash);
  EXPECT_GE(s0.counters.solved_fixes, 5u);
  // H-05: the replay's fixes are the live session's
  EXPECT_EQ(r0.fix_hash, live.fix_hash);
  const std::string csv0 = read_text(d / "plain" / "fixes.csv");
  EXPECT_EQ(csv0, read_text(d / "live" / "fixes.csv"));
  EXPECT_EQ(lines(csv0), 1 + r0.fixes);

  // checkpoints every second change nothing
  ReplayOptions with;
  with.checkpoint_every = kSecond;
  with.checkpoint_dir = (d / "ck").string();
  fs::create_directories(d / "ck");
  RunResult r1;
  LiveSummary s1;
  const json j1 = replay(with, r1, s1, "with-ck");
  EXPECT_EQ(r1.hash, r0.hash);
  EXPECT_EQ(j1, j0);
  EXPECT_EQ(read_text(d / "with-ck" / "fixes.csv"), csv0);
  const std::vector<std::string> files = checkpoint_files(d / "ck");
  ASSERT_GE(files.size(), 3u);

  // the live session's checkpoints hold the same engine state as the replay's at the same time
  for (const std::string& lf : live_files) {
    const fs::path same = fs::path(d / "ck") / fs::path(lf).filename();
    if (!fs::exists(same)) continue;
    EXPECT_EQ(read_ck(lf).engine, read_ck(same.string()).engine) << lf;
  }

  // resumed from the first, a middle and the last checkpoint of the replay, and from the live
  // session's middle one: the uninterrupted replay's hash and report, apart from resumed_at
  std::vector<std::string> starts = {files.front(), files[files.size() / 2], files.back(), live_files[live_files.size() / 2]};
  for (const std::string& f : starts) {
    SCOPED_TRACE(f);
    const RunCheckpoint ck = read_ck(f);
    ReplayOptions o;
    o.resume = &ck;
    RunResult r;
    LiveSummary s;
    // fixes.csv of the interrupted replay or live session, continued from the checkpoint
    const bool of_live = f.find("live-ck") != std::string::npos;
    fs::create_directories(d / "resumed");
    fs::copy_file(d / (of_live ? "live" : "with-ck") / "fixes.csv", d / "resumed" / "fixes.csv", fs::copy_options::overwrite_existing);
    json j = replay(o, r, s, "resumed");
    EXPECT_EQ(r.hash, r0.hash);
    EXPECT_EQ(r.canonical_stream, r0.canonical_stream);
    EXPECT_EQ(r.fix_hash, r0.fix_hash);
    EXPECT_EQ(read_text(d / "resumed" / "fixes.csv"), csv0);
    ASSERT_TRUE(j["provenance"].contains("resumed_at"));
    EXPECT_EQ(j["provenance"]["resumed_at"], to_seconds(ck.meta.t));
    j["provenance"].erase("resumed_at");
    EXPECT_EQ(j, j0);
    EXPECT_EQ(s.end_t, s0.end_t);
    EXPECT_EQ(s.counters.accepted, s0.counters.accepted);
    EXPECT_EQ(s.counters.solved_fixes, s0.counters.solved_fixes);
  }
  fs::remove_all(d);
}

int run_command(const std::string& args, std::string* out = nullptr) {
  const std::string cmd = std::string(PLANTTWIN_COMMAND " ") + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  const int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(LiveCheckpoint, H03_CommandsCheckpointResumeAndRefuseAnotherScenario) {
  const fs::path d = temp_dir("ck-cmd");
  const std::string sc = live_scenario_path();
  const std::string rec = (d / "rec.ptrec").string();
  std::string out;
  // live writes checkpoints; --with-script: P1's SOS at 2 s
  ASSERT_EQ(run_command("live " + sc + " --bind 'tcp://127.0.0.1:*' --duration 3500ms --with-script --record " + rec +
                            " --checkpoint-every 1s --checkpoint-dir " + (d / "live-ck").string() + " --report " + (d / "live").string(), &out), 0) << out;
  EXPECT_EQ(checkpoint_files(d / "live-ck").size(), 3u) << out;
  EXPECT_EQ(read_text(d / "live" / "fixes.csv"), "t,tag,x,y,z,floor,error_2d,error_3d\n");  // no fixes were sent
  EXPECT_EQ(read_json(d / "live" / "report.json")["provenance"]["positioning"], "live");
  ASSERT_EQ(run_command("replay " + rec + " --report " + (d / "r0").string(), &out), 0) << out;
  ASSERT_EQ(run_command("replay " + rec + " --checkpoint-every 1s --checkpoint-dir " + (d / "ck").string() + " --report " + (d / "r1").string(), &out), 0) << out;
  const std::vector<std::string> files = checkpoint_files(d / "ck");
  ASSERT_EQ(files.size(), 3u) << out;
  EXPECT_EQ(fs::path(files[0]).filename(), "live-vendor-start-t000001.000.ptck");
  const json j0 = read_json(d / "r0" / "report.json");
  EXPECT_EQ(read_json(d / "r1" / "report.json"), j0);
  EXPECT_EQ(j0["fix_hash"], read_json(d / "live" / "report.json")["fix_hash"]);
  EXPECT_EQ(j0["provenance"]["positioning"], "replay");
  // resumed into a folder without the interrupted replay's fixes.csv: refused, it would be incomplete
  EXPECT_EQ(run_command("replay " + rec + " --resume " + files[1] + " --report " + (d / "r2").string(), &out), 2) << out;
  EXPECT_NE(out.find("fixes.csv"), std::string::npos) << out;
  // with it (the interrupted replay's folder): continued
  fs::create_directories(d / "r2");
  fs::copy_file(d / "r1" / "fixes.csv", d / "r2" / "fixes.csv", fs::copy_options::overwrite_existing);
  ASSERT_EQ(run_command("replay " + rec + " --resume " + files[1] + " --report " + (d / "r2").string(), &out), 0) << out;
  json j2 = read_json(d / "r2" / "report.json");
  EXPECT_EQ(j2["provenance"]["resumed_at"], 2.0);
  j2["provenance"].erase("resumed_at");
  EXPECT_EQ(j2, j0);
  EXPECT_EQ(read_text(d / "r2" / "fixes.csv"), read_text(d / "r0" / "fixes.csv"));

  // refused: a checkpoint of another scenario, a damaged one, options that do not go together
  ASSERT_EQ(run_command("run " PLANTTWIN_SOURCE_DIR "/scenarios/examples/first-gathering.yaml --checkpoint-every 10s --checkpoint-dir " +
                            (d / "other").string(), &out) / 2, 0) << out;  // 0 or 1: only the checkpoint matters
  const std::vector<std::string> other = checkpoint_files(d / "other");
  ASSERT_FALSE(other.empty()) << out;
  EXPECT_EQ(run_command("replay " + rec + " --resume " + other[0], &out), 2) << out;
  EXPECT_NE(out.find("is of scenario"), std::string::npos) << out;
  {
    std::string bytes;
    {
      std::ifstream f(files[1], std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(f), {});
    }
    bytes[bytes.size() / 2] ^= 0x20;
    std::ofstream(d / "damaged.ptck", std::ios::binary) << bytes;
  }
  EXPECT_EQ(run_command("replay " + rec + " --resume " + (d / "damaged.ptck").string(), &out), 2) << out;
  EXPECT_NE(out.find("damaged"), std::string::npos) << out;
  EXPECT_EQ(run_command("replay " + rec + " --checkpoint-every 1s", &out), 2) << out;
  EXPECT_NE(out.find("--checkpoint-dir"), std::string::npos) << out;
  EXPECT_EQ(run_command("live " + sc + " --bind 'tcp://127.0.0.1:*' --duration 1s --checkpoint-every 0s --checkpoint-dir " + (d / "x").string(), &out), 2) << out;
  fs::remove_all(d);
}

}  // namespace
}  // namespace planttwin::hil::test
