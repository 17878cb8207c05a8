// Record -> replay gives the same alarm stream and hash byte for byte (H-01, H-03); a torn tail
// is reported and the intact prefix replayed.
#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "hardware-in-loop/recording.h"
#include "tests/hil/live_fixture.h"
#include "tests/scenarios/mesh_files.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A session over loopback with alarms of several kinds, recorded to `file`.
RunResult record_session(const std::string& file, bool with_script = false) {
  LiveOptions o;
  o.record = file;
  o.with_script = with_script;
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  EXPECT_TRUE(c.wait_stats());
  for (int i = 0; i < 5; ++i) {
    c.send("fix", fix("T1", 10 + i, 10));
    c.send("fix", fix("T3", 30 + 8 * i, 30 + 8 * i));  // a contractor walks into the tank farm
  }
  c.send("sos", json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}});
  c.send("fix", std::string("garbage"));  // rejected: not recorded
  auto sos = c.next("alarm", 3000ms, [](const json& j) { return j["type"] == "sos"; });
  EXPECT_TRUE(sos.has_value());
  if (sos) c.send("ack", json{{"v", 1}, {"ts", now_unix_ms()}, {"alarm_id", (*sos)["id"]}, {"action", "ack"}, {"by", "S1"}});
  c.send("permit", json{{"v", 1}, {"ts", now_unix_ms()}, {"action", "reserve"}, {"id", "R1"}, {"type", "hot_work"},
                        {"area", {{0, 0}, {5, 0}, {5, 5}}}, {"from", 0}, {"to", 3600}, {"urgent", true}});
  EXPECT_TRUE(c.next("permit_status", 3000ms).has_value());
  EXPECT_TRUE(c.next("alarm", 3000ms, [](const json& j) { return j["event"] == "acknowledged"; }).has_value());
  std::this_thread::sleep_for(1200ms);  // an evaluate step with no input in between
  s.stop();
  EXPECT_TRUE(s.run_ok()) << s.run_error();
  return s.loop().result();
}

TEST(RecordReplay, H01_LiveSessionReplaysToTheSameHashByteForByte) {
  const fs::path d = temp_dir("replay");
  const std::string file = (d / "session.ptrec").string();
  const RunResult live = record_session(file);
  ASSERT_GE(live.alarms.size(), 2u);  // crossing and SOS at least

  Scenario sc;
  RunResult replayed;
  LiveSummary sum;
  std::string err;
  ASSERT_TRUE(replay_recording(file, sc, replayed, sum, err)) << err;
  EXPECT_TRUE(sum.torn.empty()) << sum.torn;
  EXPECT_EQ(replayed.canonical_stream, live.canonical_stream);
  EXPECT_EQ(replayed.hash, live.hash);
  EXPECT_EQ(replayed.alarms.size(), live.alarms.size());
  EXPECT_EQ(replayed.refusals.size(), live.refusals.size());
  EXPECT_EQ(replayed.counters.steps, live.counters.steps);
  EXPECT_EQ(replayed.passed, live.passed);
  EXPECT_EQ(sum.counters.accepted, 13u);  // the rejected message was not recorded
  EXPECT_EQ(sc.file, live_scenario_path());

  // the report of the replay carries the same hash, and says the tail is intact
  ASSERT_TRUE(write_live_report((d / "report").string(), sc, replayed, sum, err)) << err;
  std::ifstream f(d / "report" / "report.json");
  const json rep = json::parse(f);
  EXPECT_EQ(rep["hash"], live.hash);
  EXPECT_TRUE(rep["live"]["torn_tail"].is_null());
  fs::remove_all(d);
}

TEST(RecordReplay, H01_WithScriptReplaysTheScriptToo) {
  const fs::path d = temp_dir("script");
  const std::string file = (d / "s.ptrec").string();
  LiveOptions o;
  o.record = file;
  o.with_script = true;
  o.duration = 2500 * kMillisecond;  // the script presses SOS at 2 s
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  ASSERT_TRUE(c.wait_stats());
  c.send("fix", fix("T1", 10, 10));
  ASSERT_TRUE(c.next("alarm", 4000ms, [](const json& j) { return j["type"] == "sos"; }).has_value());
  s.stop();
  const RunResult& live = s.loop().result();
  EXPECT_TRUE(live.passed);
  Scenario sc;
  RunResult rep;
  LiveSummary sum;
  std::string err;
  ASSERT_TRUE(replay_recording(file, sc, rep, sum, err)) << err;
  EXPECT_EQ(rep.hash, live.hash);
  EXPECT_TRUE(rep.passed);
  fs::remove_all(d);
}

TEST(RecordReplay, H01_TornTailIsReportedAndTheIntactPrefixReplayed) {
  const fs::path d = temp_dir("torn");
  const std::string file = (d / "session.ptrec").string();
  const RunResult live = record_session(file);
  Recording full;
  std::string err;
  ASSERT_TRUE(read_recording(file, full, err)) << err;
  ASSERT_TRUE(full.ended);
  const auto size = fs::file_size(file);

  // kill -9 mid-write: the last record is cut short
  const std::string cut = (d / "cut.ptrec").string();
  fs::copy_file(file, cut);
  fs::resize_file(cut, size - 5);
  Scenario sc;
  RunResult rep;
  LiveSummary sum;
  ASSERT_TRUE(replay_recording(cut, sc, rep, sum, err)) << err;
  EXPECT_NE(sum.torn.find("partial record"), std::string::npos) << sum.torn;
  EXPECT_GT(sum.torn_bytes, 0u);
  EXPECT_FALSE(rep.hash.empty());
  ASSERT_TRUE(write_live_report((d / "report").string(), sc, rep, sum, err)) << err;
  std::ifstream f(d / "report" / "report.json");
  EXPECT_TRUE(json::parse(f)["live"]["torn_tail"].is_string());

  // a flipped byte in the middle: the records before it are kept
  const std::string flipped = (d / "flipped.ptrec").string();
  fs::copy_file(file, flipped);
  {
    std::fstream g(flipped, std::ios::in | std::ios::out | std::ios::binary);
    g.seekp(static_cast<std::streamoff>(size - 40));
    g.put('\x5a');
  }
  Recording part;
  ASSERT_TRUE(read_recording(flipped, part, err)) << err;
  EXPECT_NE(part.torn.find("CRC"), std::string::npos) << part.torn;
  EXPECT_LT(part.records.size(), full.records.size());
  EXPECT_GT(part.records.size(), 0u);

  // not a recording at all
  const std::string junk = (d / "junk.ptrec").string();
  std::ofstream(junk) << "hello";
  EXPECT_FALSE(read_recording(junk, part, err));
  fs::remove_all(d);
}

TEST(RecordReplay, H01_RecordingRoundTripsEveryRecordKind) {
  const fs::path d = temp_dir("format");
  const std::string file = (d / "f.ptrec").string();
  RecordingHeader h;
  h.start_unix_us = 1'800'000'000'123'456;
  h.scenario_path = "x.yaml";
  h.scenario_text = "scenario: x\n";
  h.scenario_sha256 = "abc";
  {
    RecordingWriter w;
    std::string err;
    ASSERT_TRUE(w.open(file, h, err)) << err;
    w.input(5, 1800000000123, "fix", std::string("{\"a\":\0}", 7));
    w.solve(7, 3);
    w.reached(8);
    w.end(9);
    ASSERT_TRUE(w.flush());
  }
  Recording r;
  std::string err;
  ASSERT_TRUE(read_recording(file, r, err)) << err;
  EXPECT_EQ(r.header.start_unix_us, h.start_unix_us);
  EXPECT_EQ(r.header.scenario_text, h.scenario_text);
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[0].input.body.size(), 7u);
  EXPECT_EQ(r.records[0].input.ts_ms, 1800000000123);
  EXPECT_EQ(r.records[1].solve.tag, 3);
  EXPECT_EQ(r.records[2].kind, RecordKind::reached);
  EXPECT_EQ(r.records[2].end_t, 8);
  EXPECT_EQ(r.records[3].end_t, 9);
  EXPECT_TRUE(r.ended);
  EXPECT_TRUE(r.torn.empty());
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
  fs::remove_all(d);
}

// Input batches (docs/live-v1.md): what one read of the input socket gives is stamped with one
// time and the engine's rules run once for it, so a busy session does less work per input (the
// soak's 5,000 tags). The recording says so, and replay feeds the same batches: same hash.
TEST(RecordReplay, H01_H03_InputBatchesAreRecordedAndReplayedAsBatches) {
  const fs::path d = temp_dir("batches");
  const std::string file = (d / "session.ptrec").string();
  RunResult live;
  {
    LiveOptions o;
    o.record = file;
    LiveSession s(o);
    TestClient c(s.in(), s.out());
    ASSERT_TRUE(c.wait_stats());
    // a burst: 4 tags x 500 fixes sent as fast as the socket takes them, walking into the tank farm
    for (int i = 0; i < 500; ++i)
      for (const char* tag : {"T1", "T2", "T3", "T4"}) c.send("fix", fix(tag, 10 + 0.05 * i, 10 + 0.05 * i));
    c.send("sos", json{{"v", 1}, {"tag", "T2"}, {"ts", now_unix_ms()}});
    EXPECT_TRUE(c.next("alarm", 5000ms, [](const json& j) { return j["type"] == "sos"; }).has_value());
    s.stop();
    ASSERT_TRUE(s.run_ok()) << s.run_error();
    live = s.loop().result();
  }
  Recording rec;
  std::string err;
  ASSERT_TRUE(read_recording(file, rec, err)) << err;
  EXPECT_TRUE(rec.header.input_batches);
  std::size_t inputs = 0, longest = 0, run = 0;
  Micros prev = -1, prev_input = -1;
  bool ordered = true;
  for (const Record& r : rec.records) {
    if (r.kind != RecordKind::input) {
      run = 0;
      continue;
    }
    ++inputs;
    ordered = ordered && r.input.t >= prev_input;
    run = r.input.t == prev && run > 0 ? run + 1 : 1;
    longest = std::max(longest, run);
    prev = prev_input = r.input.t;
  }
  EXPECT_EQ(inputs, 2001u);
  EXPECT_TRUE(ordered);
  EXPECT_GT(longest, 1u) << "a burst of 2,000 messages is read in batches of more than one";
  EXPECT_LE(longest, 256u) << "kBatch";

  Scenario sc;
  RunResult replayed;
  LiveSummary sum;
  ASSERT_TRUE(replay_recording(file, sc, replayed, sum, err)) << err;
  EXPECT_EQ(replayed.hash, live.hash);
  EXPECT_EQ(replayed.canonical_stream, live.canonical_stream);
  EXPECT_EQ(replayed.counters.steps, live.counters.steps) << "the same batches: the same engine steps";
  EXPECT_LT(live.counters.steps, live.counters.inputs) << "fewer steps than inputs";

  // a recording from before batches (no `input_batches` in its header) is fed record by record:
  // rewrite this one's header without the flag, and the replay takes a step per input time
  RecordingHeader old = rec.header;
  old.input_batches = false;
  const std::string old_file = (d / "old.ptrec").string();
  {
    RecordingWriter w;
    ASSERT_TRUE(w.open(old_file, old, err)) << err;
    for (const Record& r : rec.records) {
      if (r.kind == RecordKind::input) w.input(r.input.t, r.input.ts_ms, r.input.topic, r.input.body);
      else if (r.kind == RecordKind::solve) w.solve(r.solve.t, r.solve.tag);
      else if (r.kind == RecordKind::reached) w.reached(r.end_t);
      else if (r.kind == RecordKind::end) w.end(r.end_t);
    }
    ASSERT_TRUE(w.flush());
  }
  RunResult one_by_one;
  ASSERT_TRUE(replay_recording(old_file, sc, one_by_one, sum, err)) << err;
  EXPECT_GT(one_by_one.counters.steps, replayed.counters.steps) << "record by record: a step per input";
  fs::remove_all(d);
}

// A site with a 3D model (issue 15): the recording embeds the model files, so replay does not
// need them where they were (the bug: replay rebuilt the site in a temporary folder without its
// models and refused it). The model is named with "..", outside the scenario's folder.
TEST(RecordReplay, H01_H05_ModelFilesAreEmbeddedAndReplayedFromTheRecording) {
  const fs::path d = temp_dir("models");
  fs::create_directories(d / "scen");
  fs::create_directories(d / "models");
  std::ofstream(d / "models" / "box.obj") << planttwin::test::box_obj({35, 35, 0}, {45, 45, 8}, true);
  std::ifstream in(live_scenario_path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string anchors = "  anchors:\n";
  ASSERT_NE(text.find(anchors), std::string::npos);
  text.insert(text.find(anchors), "  obstacles:\n    - {id: UNIT, mesh: ../models/box.obj, up: z, material: steel}\n");
  const fs::path scen = d / "scen" / "yard.yaml";
  std::ofstream(scen) << text;
  Scenario sc;
  const auto err0 = load_scenario_file(scen.string(), sc);
  ASSERT_FALSE(err0) << err0->message;
  ASSERT_EQ(sc.site.obstacles.size(), 1u);
  const std::string file = (d / "session.ptrec").string();
  RunResult live;
  {
    LiveOptions o;
    o.record = file;
    LiveSession s(o, sc);
    TestClient c(s.in(), s.out());
    ASSERT_TRUE(c.wait_stats());
    for (int i = 0; i < 5; ++i) c.send("fix", fix("T3", 30 + 8 * i, 30 + 8 * i));  // into the tank farm
    EXPECT_TRUE(c.next("alarm", 3000ms).has_value());
    s.stop();
    ASSERT_TRUE(s.run_ok()) << s.run_error();
    live = s.loop().result();
  }
  Recording rec;
  std::string err;
  ASSERT_TRUE(read_recording(file, rec, err)) << err;
  ASSERT_EQ(rec.header.models.size(), 1u);
  EXPECT_EQ(rec.header.models[0].first, "../models/box.obj");
  EXPECT_EQ(rec.header.models[0].second, planttwin::test::box_obj({35, 35, 0}, {45, 45, 8}, true));
  fs::remove_all(d / "models");  // gone from where it was: the recording has it
  fs::remove_all(d / "scen");
  Scenario back;
  RunResult replayed;
  LiveSummary sum;
  ASSERT_TRUE(replay_recording(file, back, replayed, sum, err)) << err;
  EXPECT_EQ(replayed.hash, live.hash);
  ASSERT_EQ(back.site.obstacles.size(), 1u);
  ASSERT_TRUE(back.site.obstacles[0].mesh);
  EXPECT_EQ(back.site.obstacles[0].mesh->triangles.size(), 12u);
  EXPECT_EQ(back.site_sha256, sc.site_sha256);
  fs::remove_all(d);
}

// A recording is read as a stream (issue 17: `live --resume` and `replay` of a soak's 7 million
// records held them all): scan_recording gives read_recording's records in order, in the memory of
// one record, and can stop after the header.
TEST(RecordReplay, H01_RecordingIsReadAsAStreamInTheMemoryOfOneRecord) {
  const fs::path d = temp_dir("stream");
  const std::string file = (d / "s.ptrec").string();
  RecordingHeader h;
  h.start_unix_us = 1'800'000'000'000'000;
  h.scenario_path = "x.yaml";
  h.scenario_text = "scenario: x\n";
  constexpr int kInputs = 200'000;
  const std::string body(100, 'b');
  {
    RecordingWriter w;
    std::string err;
    ASSERT_TRUE(w.open(file, h, err)) << err;
    for (int i = 0; i < kInputs; ++i) {
      w.input(i, i, "fix", body + std::to_string(i));
      if (i % 1000 == 999) w.solve(i, i / 1000), w.reached(i);
      if (i % 10000 == 0) {
        ASSERT_TRUE(w.flush());
      }
    }
    w.end(kInputs);
    ASSERT_TRUE(w.flush());
  }
  ASSERT_GT(fs::file_size(file), 20u << 20) << "larger than anything the scan may hold";
  std::string err;
  Recording all;
  ASSERT_TRUE(read_recording(file, all, err)) << err;
  ASSERT_EQ(all.records.size(), static_cast<std::size_t>(kInputs + 2 * (kInputs / 1000) + 1));

  Recording streamed;
  std::size_t k = 0, mismatches = 0;
  const std::size_t in_use_before = mallinfo2().uordblks;
  std::size_t grew = 0;
  ASSERT_TRUE(scan_recording(file, streamed, [&](const Record& r) {
    const Record& x = all.records[k++];
    mismatches += r.kind != x.kind || r.input.t != x.input.t || r.input.body != x.input.body || r.solve.tag != x.solve.tag ||
                  r.end_t != x.end_t;
    grew = std::max(grew, mallinfo2().uordblks - std::min(in_use_before, mallinfo2().uordblks));
    return true;
  }, err)) << err;
  EXPECT_EQ(k, all.records.size());
  EXPECT_EQ(mismatches, 0u);
  EXPECT_LT(grew, 4u << 20) << "the scan held more than its 1 MB read block and one record";
  EXPECT_TRUE(streamed.records.empty());
  EXPECT_TRUE(streamed.ended);
  EXPECT_EQ(streamed.last_kind, RecordKind::end);
  EXPECT_EQ(streamed.intact_bytes, all.intact_bytes);
  EXPECT_EQ(streamed.intact_bytes, fs::file_size(file));
  EXPECT_EQ(streamed.record_count, all.records.size() + 1) << "the header counts";

  // stopping: after the header only; and at a named offset
  Recording head;
  int seen = 0;
  EXPECT_FALSE(scan_recording(file, head, [&](const Record&) { return ++seen < 3; }, err));
  EXPECT_EQ(seen, 3);
  EXPECT_NE(err.find("stopped at the record at offset"), std::string::npos) << err;
  EXPECT_EQ(head.header.scenario_text, h.scenario_text);
  fs::remove_all(d);
}

}  // namespace
}  // namespace planttwin::hil::test
