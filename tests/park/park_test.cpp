// The park on NATS JetStream (issue 13; H-01 same hash, H-03 live inputs, PL-11 scale): real
// nats-server processes, planttwin workers as child processes killed mid-run.
#include "tests/park/park_fixture.h"

namespace planttwin::park::test {
namespace {

const std::string kScenario = "acceptance/h01-mixed-canonical.yaml";
const std::string kSite = "h01-mixed-canonical";

class ParkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServer::available()) GTEST_SKIP() << "nats-server is not installed (scripts/setup installs it)";
    dir = test_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    server = std::make_unique<NatsServer>(dir / "nats", free_port());
    ASSERT_TRUE(server->start()) << "nats-server did not start";
    url = server->url();
  }
  std::vector<std::string> worker_args(const std::string& name) const {
    return {planttwin_bin(), "worker", "--nats", url, "--name", name, "--checkpoint-every", "10s", "--lease-ttl", "2s",
            "--work-dir", (dir / name).string()};
  }
  Nats& client() {
    if (!nats) {
      nats = std::make_unique<Nats>();
      std::string err;
      EXPECT_TRUE(nats->open(url, ParkSettings{}, err)) << err;
    }
    return *nats;
  }
  bool ended(const std::string& site, std::chrono::milliseconds timeout) {
    return wait_until([&] {
      auto s = site_status(client(), site);
      return s && s->ended;
    }, timeout, 100);
  }
  // The site's export, its replay's hash, and the one-process reference outputs from it.
  void check_exactly_once(const std::string& site, const std::string& park_hash, std::uint64_t expect_dropped = 0) {
    const std::string rec = (dir / (site + ".ptrec")).string();
    std::string out;
    ASSERT_EQ(run_planttwin({"park", "export", site, rec, "--nats", url}, &out, dir), 0) << out;
    const fs::path rrep = dir / ("replay-" + site);
    run_planttwin({"replay", rec, "--report", rrep.string()}, &out, dir);
    EXPECT_EQ(report_hash(rrep), park_hash) << "H-01: replay of the export gives the park's hash\n" << out;
    std::vector<OutMsg> ref;
    std::string ref_hash, err;
    ASSERT_TRUE(reference_outputs(rec, ref, ref_hash, err)) << err;
    EXPECT_EQ(ref_hash, park_hash);
    std::vector<OutMsg> got = stored_outputs(client(), site), errors;
    std::erase_if(got, [&](const OutMsg& m) {
      if (m.topic == "error") errors.push_back(m);
      return m.topic == "error";
    });
    EXPECT_EQ(errors.size(), expect_dropped) << "bad inputs are answered on park.out.SITE.error";
    ASSERT_FALSE(ref.empty());
    // exactly once: the same outputs, in the same order, none missing and none twice
    EXPECT_EQ(got.size(), ref.size()) << "outputs stored vs decided by one engine";
    const size_t n = std::min(got.size(), ref.size());
    for (size_t i = 0; i < n; ++i) {
      if (!(got[i] == ref[i])) {
        ADD_FAILURE() << "output #" << i << " differs: stored " << got[i].topic << " " << got[i].body << " (" << got[i].id
                      << "), expected " << ref[i].topic << " " << ref[i].body;
        break;
      }
    }
    std::set<std::string> ids;
    for (const OutMsg& m : got) EXPECT_TRUE(ids.insert(m.id).second) << "duplicate id " << m.id;
  }

  fs::path dir;
  std::unique_ptr<NatsServer> server;
  std::unique_ptr<Nats> nats;
  std::string url;
};

// PL-11, H-01: add, play, one worker; report and export; replay of the export gives the same hash;
// every output stored exactly once; `park list` says ended.
TEST_F(ParkTest, PL11_PlayedSiteEndsWithReplayHashAndExactlyOnceOutputs) {
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  Child w(worker_args("W1"), dir / "W1.log");
  ASSERT_EQ(run_planttwin({"park", "play", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  EXPECT_NE(out.find("Played 1147 inputs"), std::string::npos) << out;  // 7 people's fixes, tags off skipped, + end
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << w.log();
  ASSERT_EQ(run_planttwin({"park", "list", "--nats", url}, &out, dir), 0);
  EXPECT_NE(out.find(kSite), std::string::npos) << out;
  EXPECT_NE(out.find("ended"), std::string::npos) << out;
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  const std::string hash = report_hash(rep);
  ASSERT_EQ(hash.size(), 64u);
  auto rj = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(rj["park"]["worker"], "W1");
  EXPECT_EQ(rj["park"]["outputs_stored"], rj["park"]["outputs"]) << "stored in PARK_OUT vs decided";
  EXPECT_EQ(rj["live"]["accepted"], 1146);
  check_exactly_once(kSite, hash);
}

// PL-11, H-01: sites played in batches (the fixes of an instant in one message, stepped once) give
// exactly `planttwin run`'s hash: the park decides what one process decides. Four sites over two
// workers; h01-mixed-canonical is the one whose gathering at 61 s one step per fix lost.
TEST_F(ParkTest, PL11_H01_SitesPlayedInBatchesGiveRunsHash) {
  const std::vector<std::pair<std::string, std::string>> sites = {{kScenario, kSite},
                                                                  {"acceptance/pl02-gathering-tiers.yaml", ""},
                                                                  {"acceptance/pl05-crossing-tank-farm.yaml", ""},
                                                                  {"acceptance/so04-lifecycle.yaml", ""}};
  std::string out;
  std::vector<std::string> keys;
  for (const auto& [file, key] : sites) {
    ASSERT_EQ(run_planttwin({"park", "add", scenario_path(file), "--nats", url}, &out, dir), 0) << out;
    const auto at = out.find("Site "), sp = out.find(' ', at + 5);
    ASSERT_NE(at, std::string::npos) << out;
    keys.push_back(out.substr(at + 5, sp - at - 5));
  }
  EXPECT_EQ(keys[0], kSite);
  Child w1(worker_args("W1"), dir / "W1.log"), w2(worker_args("W2"), dir / "W2.log");
  for (const auto& [file, key] : sites) {
    ASSERT_EQ(run_planttwin({"park", "play", scenario_path(file), "--nats", url}, &out, dir), 0) << out;
    EXPECT_NE(out.find(" messages to "), std::string::npos) << out;
  }
  for (size_t i = 0; i < sites.size(); ++i) {
    ASSERT_TRUE(ended(keys[i], std::chrono::seconds(30))) << keys[i] << "\n" << w1.log() << w2.log();
    const fs::path rep = dir / ("report-" + keys[i]), run = dir / ("run-" + keys[i]);
    ASSERT_EQ(run_planttwin({"park", "report", keys[i], "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
    run_planttwin({"run", scenario_path(sites[i].first), "--report", run.string()}, &out, dir);
    const std::string h = report_hash(rep);
    EXPECT_EQ(h.size(), 64u);
    EXPECT_EQ(h, report_hash(run)) << keys[i] << ": the park's hash is run's";
  }
}

// PL-11, H-03: `park play --batch-bytes` bounds a batch message: an instant's fixes beyond it go in
// further messages (each one engine step), and the export still replays to the park's hash; a
// bound below one line's worth (256 bytes) or above 64 MiB is refused naming the option.
TEST_F(ParkTest, PL11_H03_BatchBytesSplitsAnInstantIntoMessages) {
  std::string out;
  for (const char* bad : {"255", "67108865"}) {
    EXPECT_EQ(run_planttwin({"park", "play", scenario_path(kScenario), "--nats", url, "--batch-bytes", bad}, &out, dir), 2) << out;
    EXPECT_NE(out.find("--batch-bytes"), std::string::npos) << out;
  }
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  Child w(worker_args("W1"), dir / "W1.log");
  // a fix line is about 100 bytes: at 256 bytes a message holds two, the 7 people's instants four
  ASSERT_EQ(run_planttwin({"park", "play", scenario_path(kScenario), "--nats", url, "--batch-bytes", "256"}, &out, dir), 0) << out;
  const auto in = out.find(" in "), msgs = out.find(" messages");
  ASSERT_NE(msgs, std::string::npos) << out;
  const int messages = std::stoi(out.substr(in + 4, msgs - in - 4));
  EXPECT_NE(out.find("Played 1147 inputs"), std::string::npos) << out;
  EXPECT_GT(messages, 2 * 181) << "each instant split into several messages\n" << out;
  EXPECT_LT(messages, 1147) << "still several fixes per message\n" << out;
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << w.log();
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(read_text(rep / "report.json"))["live"]["accepted"], 1146);
  check_exactly_once(kSite, report_hash(rep));
}

// H-01: `worker --take-per-scan N` takes at most N new sites per scan (every 250 ms), so workers
// started together share the sites; 0 is refused naming the option.
TEST_F(ParkTest, H01_TakePerScanPacesTheLeasesAWorkerTakes) {
  std::string out;
  std::vector<std::string> bad = worker_args("W0");
  bad.erase(bad.begin());  // run_planttwin adds the command
  bad.insert(bad.end(), {"--take-per-scan", "0"});
  EXPECT_EQ(run_planttwin(bad, &out, dir), 2) << out;
  EXPECT_NE(out.find("--take-per-scan"), std::string::npos) << out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), scenario_path("acceptance/pl02-gathering-tiers.yaml"),
                           scenario_path("acceptance/so04-lifecycle.yaml"), "--nats", url},
                          &out, dir),
            0)
      << out;
  std::vector<std::string> args = worker_args("W1");
  args.insert(args.end(), {"--take-per-scan", "1"});
  Child w(args, dir / "W1.log");
  // "2026-12-03T23:27:08.994Z W1: SITE: took the lease": the times of day, in ms
  std::vector<long> took;
  ASSERT_TRUE(wait_until([&] {
    took.clear();
    std::istringstream log(w.log());
    for (std::string line; std::getline(log, line);)
      if (line.find("took the lease") != std::string::npos && line.size() > 23)
        took.push_back(std::stol(line.substr(11, 2)) * 3600000 + std::stol(line.substr(14, 2)) * 60000 +
                       std::stol(line.substr(17, 2)) * 1000 + std::stol(line.substr(20, 3)));
    return took.size() == 3;
  }, std::chrono::seconds(10))) << w.log();
  for (size_t i = 1; i < took.size(); ++i) {
    const long apart = (took[i] - took[i - 1] + 86400000) % 86400000;  // across midnight UTC too
    EXPECT_GE(apart, 200) << "one site per 250 ms scan\n" << w.log();
  }
}

// H-01: kill -9 of the owner mid-run: the other worker takes the site within 3 s (lease TTL 2 s),
// restores the checkpoint, replays the log after it; no output lost or duplicated, same hash.
// H-01: a write fenced by revision after a lost answer (a node killed mid-request). The entry is
// read back: the writer's own value (this write, or its previous one whose answer was lost) keeps
// the entry the writer's; another writer's value means the site moved on; a server that does not
// answer is waited for and then reported, keeping the value for the next call.
TEST_F(ParkTest, H01_FencedWriteTellsALostAnswerFromAnotherWriter) {
  Nats::Impl& m = client().impl();
  std::uint64_t rev = 0;
  std::string unconfirmed;
  ASSERT_EQ(kv_write_fenced(m.status, "k", "v1", rev, unconfirmed, 0), KvWrite::ok);
  const std::uint64_t r1 = rev;
  EXPECT_GT(r1, 0u);
  // "v2" was applied but its answer lost: the writer still holds r1 and retries the same value
  std::uint64_t applied = 0;
  ASSERT_TRUE(kv_put(m.status, "k", "v2", &applied));
  EXPECT_EQ(kv_write_fenced(m.status, "k", "v2", rev, unconfirmed, 0), KvWrite::ok);
  EXPECT_EQ(rev, applied) << "the revision is taken from the entry";
  // "v3" applied, answer lost, the call gave up (unconfirmed = v3); the next write is "v4"
  ASSERT_TRUE(kv_put(m.status, "k", "v3", &applied));
  unconfirmed = "v3";
  EXPECT_EQ(kv_write_fenced(m.status, "k", "v4", rev, unconfirmed, 0), KvWrite::ok);
  EXPECT_EQ(kv_get(m.status, "k"), std::optional<std::string>("v4"));
  EXPECT_TRUE(unconfirmed.empty());
  // another writer: refused, and the entry is left as that writer wrote it
  ASSERT_TRUE(kv_put(m.status, "k", "theirs"));
  EXPECT_EQ(kv_write_fenced(m.status, "k", "v5", rev, unconfirmed, 0), KvWrite::moved_on);
  EXPECT_EQ(kv_get(m.status, "k"), std::optional<std::string>("theirs"));
  // a lease holds the owner's name: a renewal refused at a stale revision while the entry holds
  // that name at a later one was applied (its answer lost)
  std::uint64_t lrev = 0;
  std::string lu;
  ASSERT_EQ(kv_write_fenced(m.leases, "site", "W1", lrev, lu, 0), KvWrite::ok);
  std::uint64_t stale = lrev - 1;  // a revision the entry never had: the update is refused
  EXPECT_EQ(kv_write_fenced(m.leases, "site", "W1", stale, lu, 0), KvWrite::ok) << "W1 holds it at a later revision";
  EXPECT_EQ(stale, lrev);
  // deleted under the writer: moved on
  ASSERT_TRUE(kv_delete(m.js, m.leases, "site"));
  EXPECT_EQ(kv_write_fenced(m.leases, "site", "W1", lrev, lu, 0), KvWrite::moved_on);
  // the server gone: retried for the patience, then unavailable with the value kept
  server->kill();
  std::uint64_t r = rev;
  std::string u;
  EXPECT_EQ(kv_write_fenced(m.status, "k", "v6", r, u, 300), KvWrite::unavailable);
  EXPECT_EQ(u, "v6");
  EXPECT_EQ(r, rev);
}

TEST_F(ParkTest, H01_KillNineOwnerTakeoverWithin3sNothingLostOrDuplicated) {
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  Child w1(worker_args("W1"), dir / "W1.log");
  Child w2(worker_args("W2"), dir / "W2.log");
  Child player({planttwin_bin(), "park", "play", scenario_path(kScenario), "--nats", url, "--speed", "30"}, dir / "play.log");
  // kill when the owner has published outputs after its latest checkpoint: its successor then
  // publishes them again, and they must be dropped as duplicates
  ASSERT_TRUE(wait_until([&] {
    const OutputProgress p = output_progress(client(), kSite);
    return p.checkpoint_t_s >= 20 && p.stored > p.at_checkpoint;
  }, std::chrono::seconds(20), 5)) << w1.log() << w2.log();
  const std::string owner = kv_get(client().impl().leases, kSite).value_or("");
  ASSERT_TRUE(owner == "W1" || owner == "W2") << owner;
  Child& victim = owner == "W1" ? w1 : w2;
  const std::string other = owner == "W1" ? "W2" : "W1";
  const auto killed = Clock::now();
  victim.kill(SIGKILL);
  ASSERT_TRUE(wait_until([&] { return kv_get(client().impl().leases, kSite).value_or("") == other; }, std::chrono::seconds(5), 10));
  const double takeover_s = std::chrono::duration<double>(Clock::now() - killed).count();
  RecordProperty("takeover_s", std::to_string(takeover_s));
  EXPECT_LT(takeover_s, 3.0) << "H-01: another worker takes the site within 3 s";
  EXPECT_EQ(player.wait(), 0) << player.log();
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << (other == "W1" ? w1.log() : w2.log());
  const std::string survivor_log = other == "W1" ? w1.log() : w2.log();
  EXPECT_NE(survivor_log.find("restored checkpoint"), std::string::npos) << survivor_log;
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  auto rj = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(rj["park"]["worker"], other);
  // the status counts every input of the run, those before the restored checkpoint included
  const auto st = site_status(client(), kSite);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->inputs, 1147u) << "1146 fixes and the end marker";
  check_exactly_once(kSite, report_hash(rep));
}

// H-01: a zombie (SIGSTOP longer than the lease, then SIGCONT) still believes it owns the site; it
// must change nothing: its outputs deduplicate, its checkpoint and status writes are refused.
TEST_F(ParkTest, H01_ZombieWorkerAfterStopContChangesNothing) {
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  Child w1(worker_args("W1"), dir / "W1.log");
  ASSERT_TRUE(wait_until([&] { return kv_get(client().impl().leases, kSite).value_or("") == "W1"; }, std::chrono::seconds(10)));
  Child w2(worker_args("W2"), dir / "W2.log");
  Child player({planttwin_bin(), "park", "play", scenario_path(kScenario), "--nats", url, "--speed", "30"}, dir / "play.log");
  ASSERT_TRUE(wait_until([&] {
    const OutputProgress p = output_progress(client(), kSite);
    return p.checkpoint_t_s >= 20 && p.stored > p.at_checkpoint;
  }, std::chrono::seconds(20), 5)) << w1.log();
  ::kill(w1.pid(), SIGSTOP);
  ASSERT_TRUE(wait_until([&] { return kv_get(client().impl().leases, kSite).value_or("") == "W2"; }, std::chrono::seconds(5), 10));
  // let the new owner run on, then wake the zombie while the site still runs
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(w1.pid(), SIGCONT);
  EXPECT_EQ(player.wait(), 0) << player.log();
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << w2.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // whatever the zombie still does
  EXPECT_TRUE(wait_until([&] { return w1.log().find("W1: h01-mixed-canonical: lost its lease") != std::string::npos ||
                                      w1.log().find("gives the site up") != std::string::npos; },
                         std::chrono::seconds(5)))
      << w1.log();
  auto s = site_status(client(), kSite);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ended) << "the zombie did not write its state over the ended site";
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  check_exactly_once(kSite, report_hash(rep));
}

// H-01, H-03: a batch message (docs/park.md "Batches"): its inputs are fed with one stamp and the
// engine advanced once; bad lines are answered one by one (bad JSON, the park's own `end` topic
// inside a batch) and the others applied; a message after it with the same stamp is a step of its
// own. The export says input_batches and marks where a message ends, so its replay and a
// one-process session fed the export give the park's hash.
TEST_F(ParkTest, H01_H03_BatchMessageIsOneStepBadLinesAnsweredExportReplaysIt) {
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  {
    JsContext ctx;
    std::string err;
    ASSERT_TRUE(ctx.open(client().impl().nc, err)) << err;
    const std::string subj = in_subject(kSite);
    const std::string ts = "1767571201000";  // inside --max-skew is not checked in a log replay; any ts
    const std::string batch = "fix {\"v\":1,\"tag\":\"T-O01\",\"ts\":" + ts + ",\"x\":195,\"y\":180}\n"
                              "fix {not json\n"
                              "\r\n"
                              "fix {\"v\":1,\"tag\":\"T-O02\",\"ts\":" + ts + ",\"x\":205,\"y\":180}\r\n"
                              "end {}\n"
                              "sos {\"v\":1,\"tag\":\"T-O03\",\"ts\":" + ts + "}";
    ASSERT_TRUE(publish_async(ctx.js, subj, batch, {{kTopicHeader, kBatchTopic}, {kTimeHeader, "1000000"}}, err)) << err;
    ASSERT_TRUE(publish_async(ctx.js, subj, R"({"v":1,"tag":"T-O03","ts":1767571201000,"x":200,"y":188})",
                              {{kTopicHeader, "fix"}, {kTimeHeader, "1000000"}}, err)) << err;
    ASSERT_TRUE(publish_async(ctx.js, subj, "", {{kTopicHeader, kBatchTopic}, {kTimeHeader, "2000000"}}, err)) << err;
    ASSERT_TRUE(publish_async(ctx.js, subj, "", {{kTopicHeader, kEndTopic}, {kTimeHeader, "70000000"}}, err)) << err;
    ASSERT_TRUE(publish_complete(ctx.js, 5000, err)) << err;
  }
  Child w(worker_args("W1"), dir / "W1.log");
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << w.log();
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  auto rj = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(rj["live"]["accepted"], 4) << "two fixes and the SOS of the batch, the fix after it";
  EXPECT_EQ(rj["live"]["dropped"], 2);
  check_exactly_once(kSite, report_hash(rep), 2);
  std::string reasons;
  bool sos = false;
  for (const OutMsg& m : stored_outputs(client(), kSite)) {
    if (m.topic == "error") reasons += nlohmann::json::parse(m.body).value("reason", "") + ",";
    if (m.topic == "alarm" && m.body.find("\"sos\"") != std::string::npos) sos = true;
  }
  EXPECT_EQ(reasons, "bad_json,unknown_topic,") << "each bad line answered, in order";
  EXPECT_TRUE(sos) << "the batch's SOS raised its alarm";
  // the export: input_batches, and the single fix after the batch (same stamp) closed off by a
  // `reached` record so that its replay steps it apart
  hil::Recording rec;
  std::string err;
  ASSERT_TRUE(hil::read_recording((dir / (kSite + ".ptrec")).string(), rec, err)) << err;
  EXPECT_TRUE(rec.header.input_batches);
  std::string kinds;
  for (const hil::Record& r : rec.records) {
    if (r.kind == hil::RecordKind::input) kinds += r.input.topic + "@" + std::to_string(r.input.t / kSecond) + " ";
    if (r.kind == hil::RecordKind::reached) kinds += "reached@" + std::to_string(r.end_t / kSecond) + " ";
  }
  EXPECT_EQ(kinds, "fix@1 fix@1 sos@1 reached@1 fix@1 reached@2 ") << "the empty batch at 2 s advanced the engine: reached";
}

}  // namespace
}  // namespace planttwin::park::test

namespace planttwin::park::test {
namespace {

// H-03: bad inputs on a site's subject are answered on park.out.SITE.error as live-v1 answers them
// and never stop the worker; a site whose scenario does not load shows the loader's message in
// `park list`, and the other sites run on.
TEST_F(ParkTest, H03_BadInputAnsweredAndBrokenSiteListedOthersRunOn) {
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  // a definition whose scenario does not load (as another planttwin might have stored it)
  {
    const std::string text = "scenario: broken-site\nduration: soon\n";
    nlohmann::json def = {{"product_version", "test"}, {"start_unix_us", 0}, {"utc_offset_min", 480}, {"with_script", true},
                          {"solve_window_us", 50000}, {"scenario_path", "broken.yaml"}, {"scenario_sha256", sha256_hex(text)},
                          {"scenario_text", text}, {"site_path", ""}, {"site_sha256", ""}, {"site_text", ""}};
    ASSERT_TRUE(kv_put(client().impl().sites, "broken-site", def.dump()));
  }
  // three bad inputs before the played ones: bad JSON, an unknown tag, no topic header
  {
    JsContext ctx;
    std::string err;
    ASSERT_TRUE(ctx.open(client().impl().nc, err)) << err;
    const std::string subj = in_subject(kSite);
    ASSERT_TRUE(publish_async(ctx.js, subj, "{not json", {{kTopicHeader, "fix"}, {kTimeHeader, "0"}}, err)) << err;
    ASSERT_TRUE(publish_async(ctx.js, subj, R"({"v":1,"tag":"T-NOBODY","ts":1767571200000,"x":1,"y":2})",
                              {{kTopicHeader, "fix"}, {kTimeHeader, "0"}}, err)) << err;
    ASSERT_TRUE(publish_async(ctx.js, subj, "no topic", {{kTimeHeader, "0"}}, err)) << err;
    ASSERT_TRUE(publish_complete(ctx.js, 5000, err)) << err;
  }
  Child w(worker_args("W1"), dir / "W1.log");
  ASSERT_EQ(run_planttwin({"park", "play", scenario_path(kScenario), "--nats", url}, &out, dir), 0) << out;
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(20))) << w.log();
  ASSERT_TRUE(wait_until([&] {
    auto s = site_status(client(), "broken-site");
    return s && !s->error.empty();
  }, std::chrono::seconds(10))) << w.log();
  ASSERT_EQ(run_planttwin({"park", "list", "--nats", url}, &out, dir), 0);
  EXPECT_NE(out.find("broken-site"), std::string::npos) << out;
  EXPECT_NE(out.find("error"), std::string::npos) << out;
  EXPECT_NE(out.find("does not load"), std::string::npos) << out;
  EXPECT_NE(out.find("duration"), std::string::npos) << "the loader's message names the key\n" << out;
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  auto rj = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(rj["live"]["dropped"], 3);
  EXPECT_EQ(rj["live"]["accepted"], 1146);
  check_exactly_once(kSite, report_hash(rep), 3);
  const auto errors = stored_outputs(client(), kSite);
  std::string reasons;
  for (const OutMsg& m : errors)
    if (m.topic == "error") reasons += nlohmann::json::parse(m.body).value("reason", "") + ",";
  EXPECT_EQ(reasons, "bad_json,unknown_tag,bad_frames,");
}

}  // namespace
}  // namespace planttwin::park::test

namespace planttwin::park::test {
namespace {

// H-01 with a NATS node killed: a three-node cluster, streams and buckets replicated three times;
// the node the worker and player are most likely connected to is killed (SIGKILL) mid-run; the
// site still ends with every output exactly once and the replay's hash.
TEST(ParkCluster, H01_NodeKilledInThreeNodeClusterNothingLostOrDuplicated) {
  if (!NatsServer::available()) GTEST_SKIP() << "nats-server is not installed (scripts/setup installs it)";
  const fs::path dir = test_dir("H01_NodeKilledInThreeNodeCluster");
  const int ports[3] = {free_port(), free_port(), free_port()};
  const int cports[3] = {free_port(), free_port(), free_port()};
  std::vector<std::unique_ptr<NatsServer>> nodes;
  std::string url;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<NatsServer>(dir / ("n" + std::to_string(i)), ports[i]));
    std::vector<int> routes;
    for (int j = 0; j < 3; ++j)
      if (j != i) routes.push_back(cports[j]);
    ASSERT_TRUE(nodes.back()->start("n" + std::to_string(i), cports[i], routes));
    url += (i ? "," : "") + nodes.back()->url();
  }
  std::string out;
  // JetStream needs its meta leader before streams can be created: retry for a while
  ASSERT_TRUE(wait_until([&] {
    return run_planttwin({"park", "add", scenario_path(kScenario), "--nats", url, "--replicas", "3"}, &out, dir) == 0;
  }, std::chrono::seconds(30), 500)) << out;
  Nats client;
  std::string err;
  ASSERT_TRUE(client.open(url, ParkSettings{3}, err)) << err;
  {
    jsStreamInfo* si = nullptr;
    ASSERT_EQ(js_GetStreamInfo(&si, client.impl().js, kInStream, nullptr, nullptr), NATS_OK);
    EXPECT_EQ(si->Config->Replicas, 3);
    jsStreamInfo_Destroy(si);
  }
  auto worker = [&](const std::string& name) {
    return std::vector<std::string>{planttwin_bin(), "worker", "--nats", url, "--name", name, "--checkpoint-every", "10s",
                                    "--lease-ttl", "2s", "--work-dir", (dir / name).string()};
  };
  Child w1(worker("W1"), dir / "W1.log");
  Child w2(worker("W2"), dir / "W2.log");
  Child player({planttwin_bin(), "park", "play", scenario_path(kScenario), "--nats", url, "--speed", "20", "--acked"}, dir / "play.log");
  ASSERT_TRUE(wait_until([&] {
    const OutputProgress p = output_progress(client, kSite);
    return p.checkpoint_t_s >= 20 && p.stored > p.at_checkpoint;
  }, std::chrono::seconds(30), 5)) << w1.log() << w2.log();
  nodes[0]->kill();  // the first URL: where the clients connected first
  EXPECT_EQ(player.wait(std::chrono::seconds(60)), 0) << player.log();
  if (!wait_until([&] {
        auto s = site_status(client, kSite);
        return s && s->ended;
      }, std::chrono::seconds(40), 200)) {
    run_planttwin({"park", "list", "--nats", url}, &out, dir);
    FAIL() << "the site does not say ended\n" << out << w1.log() << w2.log();
  }
  const fs::path rep = dir / "report";
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  const std::string hash = report_hash(rep);
  const std::string rec = (dir / "site.ptrec").string();
  ASSERT_EQ(run_planttwin({"park", "export", kSite, rec, "--nats", url}, &out, dir), 0) << out;
  std::vector<OutMsg> ref;
  std::string ref_hash;
  ASSERT_TRUE(reference_outputs(rec, ref, ref_hash, err)) << err;
  EXPECT_EQ(ref_hash, hash);
  auto j = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(j["live"]["accepted"], 1146) << "every played input is in the log once";
  const std::vector<OutMsg> got = stored_outputs(client, kSite);
  EXPECT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i)
    if (!(got[i] == ref[i])) {
      ADD_FAILURE() << "output #" << i << " differs: " << got[i].body << " vs " << ref[i].body;
      break;
    }
}

}  // namespace
}  // namespace planttwin::park::test

#include <zmq.hpp>

namespace planttwin::park::test {
namespace {

// H-03: `live SCENARIO --nats URL` bridges the ZeroMQ sockets of docs/live-v1.md into the park:
// a vendor's PUSH reaches the site's engine on a worker, its outputs come back on the PUB; the
// site ends at the bridge's end and its export replays to the park's hash.
TEST_F(ParkTest, H03_LiveBridgeOverNatsVendorClientUnchanged) {
  Child w(worker_args("W1"), dir / "W1.log");
  const int in_port = free_port(), out_port = free_port();
  Child bridge({planttwin_bin(), "live", scenario_path(kScenario), "--nats", url, "--bind", "tcp://127.0.0.1:" + std::to_string(in_port),
                "--publish", "tcp://127.0.0.1:" + std::to_string(out_port), "--duration", "4s"},
               dir / "bridge.log");
  ASSERT_TRUE(wait_until([&] { return bridge.log().find("Site h01-mixed-canonical") != std::string::npos; }, std::chrono::seconds(10)))
      << bridge.log();
  zmq::context_t ctx(1);
  zmq::socket_t push(ctx, zmq::socket_type::push), sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, 200);
  sub.connect("tcp://127.0.0.1:" + std::to_string(out_port));
  push.connect("tcp://127.0.0.1:" + std::to_string(in_port));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the SUB's subscription reaches the PUB
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto send = [&](const std::string& topic, const std::string& body) {
    push.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    push.send(zmq::buffer(body), zmq::send_flags::none);
  };
  send("fix", R"({"v":1,"tag":"T-O04","ts":)" + std::to_string(now_ms) + R"(,"x":300,"y":60,"z":1.2,"floor":"1"})");
  send("sos", R"({"v":1,"tag":"T-O04","ts":)" + std::to_string(now_ms) + "}");
  send("fix", "{not json");
  // the park's own topics from a client: answered as unknown, never taken as the end marker or a
  // batch (the site runs on to the bridge's end)
  send("end", "{}");
  send("batch", "sos {\"v\":1,\"tag\":\"T-O01\",\n\"ts\":1}");
  // past nats-server's max_payload (1 MiB): refused as too large, and the bridge runs on
  send("fix", std::string(3 * 1024 * 1024, 'x'));
  bool sos_alarm = false, error_answer = false;
  const auto until = Clock::now() + std::chrono::seconds(8);
  while (Clock::now() < until && !(sos_alarm && error_answer)) {
    zmq::message_t topic, body;
    if (!sub.recv(topic)) continue;
    (void)sub.recv(body);
    const std::string t = topic.to_string(), b = body.to_string();
    if (t == "alarm" && b.find("\"sos\"") != std::string::npos) sos_alarm = true;
    if (t == "error" && b.find("bad_json") != std::string::npos) error_answer = true;
  }
  EXPECT_TRUE(sos_alarm) << "the SOS alarm reaches the vendor's SUB\n" << w.log();
  EXPECT_TRUE(error_answer) << "bad input answered on error";
  EXPECT_EQ(bridge.wait(std::chrono::seconds(15)), 0) << bridge.log();
  ASSERT_TRUE(ended(kSite, std::chrono::seconds(10))) << w.log();
  const fs::path rep = dir / "report";
  std::string out;
  ASSERT_EQ(run_planttwin({"park", "report", kSite, "--nats", url, "--report", rep.string()}, &out, dir), 0) << out;
  auto rj = nlohmann::json::parse(read_text(rep / "report.json"));
  EXPECT_EQ(rj["live"]["accepted"], 2);
  EXPECT_EQ(rj["live"]["dropped"], 4);
  EXPECT_GT(rj["live"]["duration_s"].get<double>(), 3.0) << "the client's `end` did not end the site";
  check_exactly_once(kSite, report_hash(rep), 4);
  std::string reasons;
  for (const OutMsg& m : stored_outputs(client(), kSite))
    if (m.topic == "error") reasons += nlohmann::json::parse(m.body).value("reason", "") + ",";
  EXPECT_EQ(reasons, "bad_json,unknown_topic,unknown_topic,body_too_large,");
}

// H-03: the bridge forwards only; an option it cannot honour (recording, resuming, reports, the
// uplink, vendor channels) is refused with exit 2 and named, never silently ignored.
TEST_F(ParkTest, H03_LiveBridgeRefusesOptionsOnlyAWorkerCanHonour) {
  const std::string in = "tcp://127.0.0.1:" + std::to_string(free_port());
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--record", (dir / "s.ptrec").string()}, "--record"},
      {{"--resume", (dir / "ck").string()}, "--resume"},
      {{"--report", (dir / "rep").string()}, "--report"},
      {{"--uplink", "http://127.0.0.1:1/"}, "--uplink"},
      {{"--mqtt", "mqtt://127.0.0.1:1"}, "--mqtt"}};
  for (const auto& [extra, name] : cases) {
    std::vector<std::string> args{"live", scenario_path(kScenario), "--nats", url, "--bind", in, "--duration", "1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string out;
    EXPECT_EQ(run_planttwin(args, &out, dir), 2) << name << ": " << out;
    EXPECT_NE(out.find(name + " 不能"), std::string::npos) << out;
    EXPECT_NE(out.find("cannot be used with --nats"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace planttwin::park::test

namespace planttwin::park::test {
namespace {

// H-01, the cause of the node-kill failures in CI: nats-server 2.9.10 places a one-replica
// consumer (every ordered consumer and KV watcher of libnats) on any peer of its stream, an
// offline one included, and such a creation never answers. With a node of three lost, the park
// still reads a log from any sequence, in order and complete, every time (six readers one after
// the other: with one-replica consumers about a third would hang), and lists a bucket's keys.
TEST(ParkCluster, H01_AfterANodeIsLostLogsAreReadAndKeysListedEveryTime) {
  if (!NatsServer::available()) GTEST_SKIP() << "nats-server is not installed (scripts/setup installs it)";
  const fs::path dir = test_dir("H01_AfterANodeIsLostLogsAreRead");
  const int ports[3] = {free_port(), free_port(), free_port()};
  const int cports[3] = {free_port(), free_port(), free_port()};
  std::vector<std::unique_ptr<NatsServer>> nodes;
  std::string url;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<NatsServer>(dir / ("n" + std::to_string(i)), ports[i]));
    std::vector<int> routes;
    for (int j = 0; j < 3; ++j)
      if (j != i) routes.push_back(cports[j]);
    ASSERT_TRUE(nodes.back()->start("n" + std::to_string(i), cports[i], routes));
    url += (i ? "," : "") + nodes.back()->url();
  }
  Nats client;
  std::string err;
  // JetStream needs its meta leader before streams and buckets can be created
  ASSERT_TRUE(wait_until([&] { return client.open(url, ParkSettings{3}, err); }, std::chrono::seconds(30), 500)) << err;
  Nats::Impl& m = client.impl();
  const std::string subject = in_subject("lost-node");
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(publish_sync(m.js, subject, "m" + std::to_string(i), {}, err)) << err;
  // in a bucket without expiry (a lease would expire during the test)
  ASSERT_TRUE(kv_put(m.reports, "a", "1"));
  ASSERT_TRUE(kv_put(m.reports, "b", "2"));
  ASSERT_TRUE(kv_delete(m.js, m.reports, "b"));
  nodes[0]->kill();
  // the cluster elects new leaders for what n0 led: wait until a write goes through again
  ASSERT_TRUE(wait_until([&] { return publish_sync(m.js, subject, "m6", {}, err); }, std::chrono::seconds(30), 500)) << err;
  for (int reader = 0; reader < 6; ++reader) {
    const std::uint64_t from = 1 + static_cast<std::uint64_t>(reader % 3);
    LogReader r(m.nc, kInStream, subject, from);
    const auto t0 = Clock::now();
    ASSERT_TRUE(r.open(20000, err)) << "reader " << reader << ": " << err;
    std::vector<std::string> bodies;
    for (;;) {
      natsMsg* msg = nullptr;
      if (r.next(&msg, 3000) != NATS_OK) break;
      bodies.emplace_back(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
      natsMsg_Destroy(msg);
      if (bodies.size() == 7 - from) break;
    }
    std::vector<std::string> want;
    for (std::uint64_t i = from; i <= 6; ++i) want.push_back("m" + std::to_string(i));
    EXPECT_EQ(bodies, want) << "reader " << reader << " from sequence " << from;
    // a hang (the bug) is a consumer that never answers: open() gives up after 20 s. The first
    // reader after the election can take 15-17 s on a loaded 2-core machine (measured), so the
    // bound is open()'s limit and the reading after it, not a speed
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(25)) << "reader " << reader;
  }
  // the bucket's stream may have been led by n0 too: once it has a leader again (as the log's
  // stream above), its keys are listed every time
  ASSERT_TRUE(wait_until([&] { return kv_keys(m.js, m.reports, 3000).has_value(); }, std::chrono::seconds(30), 500))
      << "the bucket's stream got no leader again";
  for (int i = 0; i < 6; ++i) {
    auto keys = kv_keys(m.js, m.reports, 3000);
    ASSERT_TRUE(keys.has_value()) << "listing " << i;
    EXPECT_EQ(*keys, std::vector<std::string>{"a"}) << "a deleted key is not listed";
  }
}

}  // namespace
}  // namespace planttwin::park::test
