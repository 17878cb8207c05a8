// The history store (PL-03, PL-07, SO-05): lossless tracks at 1 cm / 1 ms, buckets and range
// queries, retention while ingesting, kill -9 durability, statistics, and the command. The flush
// cadence is tested on a FakeClock (history/clock.h): no test here sleeps or reads the wall clock.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <thread>
#include <future>

#include "engine/history.h"
#include "history/clock.h"
#include "history/sqlite_history.h"
#include "history/track_codec.h"

namespace fs = std::filesystem;
using namespace planttwin;
using namespace std::chrono_literals;
using history::TrackPoint;

namespace {

constexpr std::int64_t kMin = 60 * 1000;
constexpr std::int64_t kT0 = 1767571200000;  // 2026-01-05T00:00:00Z: a bucket boundary

struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("planttwin-history-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::unique_ptr<SqliteHistory> open_store(const std::string& path, HistoryOptions opt = {}) {
  std::string err;
  auto s = SqliteHistory::open(path, opt, err);
  EXPECT_TRUE(s) << err;
  return s;
}

std::vector<HistoryFix> query(SqliteHistory& s, const std::string& who, std::int64_t from, std::int64_t to, TrackQueryStats* st = nullptr) {
  std::vector<HistoryFix> out;
  std::string err;
  EXPECT_TRUE(s.track(who, from, to, out, err, st)) << err;
  return out;
}

void expect_same(const std::vector<HistoryFix>& a, const std::vector<HistoryFix>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].person, b[i].person) << i;
    EXPECT_EQ(a[i].t_ms, b[i].t_ms) << i;
    EXPECT_EQ(a[i].x_cm, b[i].x_cm) << i;
    EXPECT_EQ(a[i].y_cm, b[i].y_cm) << i;
    EXPECT_EQ(a[i].z_cm, b[i].z_cm) << i;
    EXPECT_EQ(a[i].floor, b[i].floor) << i;
  }
}

std::vector<HistoryFix> walk(const std::string& who, std::int64_t from, std::int64_t to, std::int64_t every_ms, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> step(-300, 300), jitter(-40, 40);
  std::vector<HistoryFix> v;
  std::int32_t x = -5000, y = 12000;
  int k = 0;
  for (std::int64_t t = from; t <= to; t += every_ms + jitter(rng), ++k) {
    x += step(rng), y += step(rng);
    v.push_back({who, t, x, y, (k / 50) % 2 ? 450 : 0, (k / 50) % 2 ? "2" : "1"});
  }
  return v;
}

std::string run_cmd(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) {
    rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

const std::string kBinary = std::string(PLANTTWIN_COMMAND);

}  // namespace

TEST(HistoryCodec, RoundsHalfAwayFromZeroAtTheCentimetre) {
  EXPECT_EQ(to_cm(0.005), 1);
  EXPECT_EQ(to_cm(-0.005), -1);
  EXPECT_EQ(to_cm(0.0049), 0);
  EXPECT_EQ(to_cm(-0.0049), 0);
  EXPECT_EQ(to_cm(1234.565), 123457);
  EXPECT_EQ(to_cm(-0.015), -2);
}

TEST(HistoryCodec, LosslessAtTheEdges) {
  std::vector<TrackPoint> pts = {
      {kT0, 0, 0, 0, 1},
      {kT0 + 1, -1, 1, -1, 1},                     // 1 ms and 1 cm steps
      {kT0 + 1, -1, 1, -1, 1},                     // the same instant twice
      {kT0 + 2001, -2147483647, 2147483647, 0, 2},  // int32 extremes, floor change
      {kT0 + 599999, 5, -5, 300, 0},               // a gap to the last millisecond of the bucket
      {kT0 + 599999, 6, -6, -300, 7}};
  for (bool compress : {false, true}) {
    const std::string blob = history::encode_track(kT0, pts, compress);
    std::vector<TrackPoint> back;
    ASSERT_TRUE(history::decode_track(kT0, blob, back));
    EXPECT_EQ(back, pts);
  }
  std::vector<TrackPoint> none;
  ASSERT_TRUE(history::decode_track(kT0, history::encode_track(kT0, {}, true), none));
  EXPECT_TRUE(none.empty());
}

TEST(HistoryCodec, RejectsDamagedAndUnknownBlobs) {
  const std::vector<TrackPoint> pts = {{kT0, 1, 2, 3, 1}, {kT0 + 2000, 4, 5, 6, 1}};
  std::string blob = history::encode_track(kT0, pts, false);
  std::vector<TrackPoint> out;
  EXPECT_FALSE(history::decode_track(kT0, blob.substr(0, blob.size() - 1), out));
  std::string other = blob;
  other[0] = 9;  // a format this build does not know
  out.clear();
  EXPECT_FALSE(history::decode_track(kT0, other, out));
}

TEST(HistoryStore, RoundTripAcrossBucketBoundariesFloorsAndGaps) {
  TempDir tmp;
  auto s = open_store(tmp.file("h.db"));
  const std::int64_t b = 10 * kMin;
  std::vector<HistoryFix> in = {
      {"P01", kT0 + b - 1, -1, -1, 0, "1"},        // last millisecond of bucket 0
      {"P01", kT0 + b, 0, 0, 0, "1"},              // first of bucket 1
      {"P01", kT0 + b + 1, 1, 1, 0, "1"},
      {"P01", kT0 + 5 * b + 7, -123456, 98765, 1250, "3"},  // a gap of four buckets, floor change
      {"P01", kT0 + 5 * b + 7, -123456, 98766, 1250, "3"},  // same instant
      {"P01", kT0 + 5 * b + 2007, -123457, 98766, 1250, ""}};
  for (const auto& f : in) s->fix(f);
  TrackQueryStats st;
  expect_same(query(*s, "P01", kT0, kT0 + 6 * b, &st), in);
  EXPECT_EQ(st.buckets_read, 3);  // the empty buckets in the gap are not stored
  // a range ending exactly on a fix includes it; one ending just before does not
  expect_same(query(*s, "P01", kT0 + b - 1, kT0 + b), {in[0], in[1]});
  expect_same(query(*s, "P01", kT0 + b, kT0 + b), {in[1]});
  EXPECT_TRUE(query(*s, "P01", kT0 + b + 2, kT0 + 5 * b + 6).empty());
  EXPECT_TRUE(query(*s, "nobody", kT0, kT0 + 6 * b).empty());
}

TEST(HistoryStore, DropsAndCountsOutOfOrderFixes) {
  TempDir tmp;
  auto s = open_store(tmp.file("h.db"));
  s->fix({"P01", kT0 + 20 * kMin, 1, 1, 0, "1"});
  s->fix({"P01", kT0 + 20 * kMin - 1, 2, 2, 0, "1"});  // earlier, same bucket
  s->fix({"P01", kT0 + 5 * kMin, 3, 3, 0, "1"});       // earlier bucket
  s->fix({"P02", kT0 + 5 * kMin, 4, 4, 0, "1"});       // another person is independent
  EXPECT_EQ(s->counters().out_of_order, 2u);
  EXPECT_EQ(s->counters().fixes, 2u);
  EXPECT_EQ(query(*s, "P01", kT0, kT0 + kMin * 60).size(), 1u);
  EXPECT_EQ(query(*s, "P02", kT0, kT0 + kMin * 60).size(), 1u);
}

TEST(HistoryStore, RangeQueryTouchesOnlyTheBucketsItNeeds) {
  TempDir tmp;
  auto s = open_store(tmp.file("h.db"));
  const auto in = walk("P01", kT0, kT0 + 24 * 60 * kMin, 2000, 1);  // a day: 144 buckets
  for (const auto& f : in) s->fix(f);
  TrackQueryStats st;
  const std::int64_t from = kT0 + 3 * 60 * kMin + 5 * kMin, to = kT0 + 3 * 60 * kMin + 25 * kMin;  // 03:05 .. 03:25
  const auto got = query(*s, "P01", from, to, &st);
  EXPECT_EQ(st.buckets_read, 3);  // 03:00, 03:10, 03:20
  std::vector<HistoryFix> want;
  for (const auto& f : in)
    if (f.t_ms >= from && f.t_ms <= to) want.push_back(f);
  expect_same(got, want);
  query(*s, "P01", kT0 + 8 * 60 * kMin, kT0 + 16 * 60 * kMin, &st);  // 8 hours
  EXPECT_EQ(st.buckets_read, 49);
}

TEST(HistoryStore, MultiPersonMultiDayTracksSurviveReopening) {
  TempDir tmp;
  const std::int64_t day = 24 * 60 * kMin;
  std::vector<std::vector<HistoryFix>> in;
  for (int p = 0; p < 3; ++p) in.push_back(walk("P0" + std::to_string(p + 1), kT0 + p * 777, kT0 + 3 * day, 30000, static_cast<unsigned>(p + 10)));
  {
    auto s = open_store(tmp.file("h.db"));
    for (size_t i = 0; i < in[0].size(); ++i)  // interleaved, as a live feed would be
      for (const auto& tr : in)
        if (i < tr.size() / 2) s->fix(tr[i]);
  }
  {
    // a second session continues the open buckets
    auto s = open_store(tmp.file("h.db"));
    for (const auto& tr : in)
      for (size_t i = tr.size() / 2; i < tr.size(); ++i) s->fix(tr[i]);
    EXPECT_EQ(s->counters().out_of_order, 0u);
  }
  auto s = open_store(tmp.file("h.db"));
  for (const auto& tr : in) expect_same(query(*s, tr[0].person, kT0, kT0 + 3 * day), tr);
  EXPECT_EQ(s->people(), (std::vector<std::string>{"P01", "P02", "P03"}));
}

TEST(HistoryStore, RetentionDeletesOldDataWhileIngesting) {
  TempDir tmp;
  HistoryOptions opt;
  opt.retention_ms = 24 * 60 * kMin;  // one day
  auto s = open_store(tmp.file("h.db"), opt);
  const std::int64_t day = 24 * 60 * kMin;
  const auto in = walk("P01", kT0, kT0 + 3 * day, 60000, 3);
  s->alarm({"run", "A000001", "sos", "red", "", "", "", "1", {"P01"}, 0, 0, "raised", {{kT0 + 1000, "raised", "red", "system", ""}}});
  s->zone_entry({kT0 + 1000, "TF", "employee", 1});
  for (size_t i = 0; i < in.size(); ++i) {
    s->fix(in[i]);
    if (i % 500 == 0) s->flush();  // retention runs inside flushes; ingestion goes on
  }
  s->flush();
  EXPECT_EQ(s->counters().fixes, in.size());
  EXPECT_GT(s->counters().buckets_deleted, 0u);
  EXPECT_TRUE(query(*s, "P01", kT0, kT0 + day).empty());
  std::vector<HistoryFix> want;
  for (const auto& f : in)
    if (f.t_ms >= kT0 + 2 * day + 10 * kMin) want.push_back(f);
  expect_same(query(*s, "P01", kT0 + 2 * day + 10 * kMin, kT0 + 3 * day), want);
  HistoryStats st;
  std::string err;
  ASSERT_TRUE(s->stats(kT0, kT0 + 3 * day, 0, st, err));
  EXPECT_TRUE(st.alarms.empty());
  for (const auto& e : st.entries) EXPECT_TRUE(e.zone.empty()) << e.zone;
}

// PL-03 durability: the background flush commits what came in at least once a second of clock.
// Edges: nothing is committed just below a second, everything at it; an idle second commits
// nothing new (no empty transactions).
TEST(HistoryStore, PL03_BackgroundFlushCommitsWithinOneSecondOfClock) {
  TempDir tmp;
  FakeClock clock;
  HistoryOptions opt;
  opt.clock = &clock;
  auto s = open_store(tmp.file("h.db"), opt);
  ASSERT_TRUE(clock.wait_for_parked(1));  // the flusher waits for its first second
  EXPECT_EQ(clock.next_deadline() - clock.now(), 1s);
  for (int i = 0; i < 10; ++i) s->fix({"P01", kT0 + i * 1000, i, 0, 0, "1"});
  EXPECT_EQ(s->counters().fixes, 10u);
  EXPECT_EQ(s->counters().fixes_durable, 0u);
  clock.advance(999ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(s->counters().fixes_durable, 0u);  // just below a second
  EXPECT_EQ(s->counters().flushes, 0u);
  clock.advance(1ms);
  ASSERT_TRUE(clock.wait_for_parked(1));  // the flusher flushed and waits for the next second
  EXPECT_EQ(s->counters().fixes_durable, 10u);  // at a second
  EXPECT_EQ(s->counters().flushes, 1u);
  clock.advance(1s);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(s->counters().flushes, 1u);  // idle: nothing to commit
  s->fix({"P01", kT0 + 10000, 10, 0, 0, "1"});
  clock.advance(999ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(s->counters().fixes_durable, 10u);
  clock.advance(1ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(s->counters().fixes_durable, 11u);
  EXPECT_EQ(s->counters().flushes, 2u);
}

// PL-03 durability without the background thread: the ingest path looks at the clock every 1,024
// fixes and flushes when a second has passed since the last flush.
TEST(HistoryStore, PL03_IngestPathFlushesOnceASecondOfClockWithoutTheFlusher) {
  TempDir tmp;
  FakeClock clock;
  HistoryOptions opt;
  opt.clock = &clock;
  opt.background_flush = false;
  auto s = open_store(tmp.file("h.db"), opt);
  const auto in = walk("P01", kT0, kT0 + 60 * kMin, 100, 7);
  size_t n = 0;
  auto feed = [&](size_t k) {
    for (size_t i = 0; i < k; ++i) s->fix(in[n++]);
  };
  feed(1024);  // the clock is looked at on the 1,024th fix: no time has passed
  EXPECT_EQ(s->counters().fixes_durable, 0u);
  clock.advance(999ms);
  feed(1024);
  EXPECT_EQ(s->counters().fixes_durable, 0u);  // just below a second
  clock.advance(1ms);
  feed(1023);
  EXPECT_EQ(s->counters().fixes_durable, 0u);  // a second, but not yet the next look
  feed(1);
  EXPECT_EQ(s->counters().fixes_durable, 3072u);  // the look at the 3,072nd fix flushes
  EXPECT_EQ(s->counters().flushes, 1u);
  EXPECT_EQ(clock.parked_count(), 0);  // no thread waits on the clock
}

// PL-03: kill -9 while fixes go in; a crash loses at most the last second. The child ingests on a
// FakeClock, paced by the parent one batch at a time: 2,000 fixes, then 20 ms of clock, then it
// waits until its flusher is parked again (done with that moment) and reports how many fixes went
// in and how many the store reports committed (counters().fixes_durable). After 175 batches
// (3.5 s of clock: the last flush was at 3 s) the parent lets one more batch go and kills the child
// at once.
// Exact part: every fix reported committed is in the file afterwards, and what survived is a
// prefix of what went in. Timing part: at each report, every fix handed over a full flush interval
// (1 s of clock) earlier was committed; batch j goes in at 20 j ms and report i comes at
// 20 (i + 1) ms, so report i covers batches up to i - 49.
TEST(HistoryStore, PL03_KillDashNineKeepsEverythingCommittedAndLosesAtMostTheLastSecond) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  constexpr int kBatch = 2000, kBatches = 175, kPerSecond = 50;  // 50 batches in 1 s of clock
  int report[2], go[2];
  ASSERT_EQ(::pipe(report), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    ::close(go[1]);
    FakeClock clock;
    HistoryOptions opt;
    opt.clock = &clock;
    std::string err;
    auto s = SqliteHistory::open(path, opt, err);
    if (!s) ::_exit(3);
    const auto in = walk("P01", kT0, kT0 + 24 * 60 * kMin, 100, 5);
    std::int64_t n = 0;
    for (;;) {
      char c = 0;
      if (::read(go[0], &c, 1) != 1) ::_exit(4);
      for (int k = 0; k < kBatch && n < static_cast<std::int64_t>(in.size()); ++k) s->fix(in[static_cast<size_t>(n++)]);
      clock.advance(20ms);
      if (!clock.wait_for_parked(1)) ::_exit(5);
      const std::int64_t msg[2] = {n, static_cast<std::int64_t>(s->counters().fixes_durable)};
      if (::write(report[1], msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) ::_exit(6);
    }
  }
  ::close(report[1]);
  ::close(go[0]);
  const auto old_sigpipe = ::signal(SIGPIPE, SIG_IGN);  // a child that died early must fail the test, not kill it
  std::vector<std::int64_t> handed, durable;  // per report
  for (int i = 0; i <= kBatches; ++i) {
    const char c = 'g';
    if (::write(go[1], &c, 1) != 1) break;
    if (i == kBatches) break;  // one more batch goes; the kill comes at once
    std::int64_t msg[2] = {0, 0};
    if (::read(report[0], msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) break;
    handed.push_back(msg[0]);
    durable.push_back(msg[1]);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(report[0]);
  ::close(go[1]);
  ::signal(SIGPIPE, old_sigpipe);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended by itself: exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  ASSERT_EQ(handed.size(), static_cast<size_t>(kBatches));
  // timing part, at every report: everything handed over a second of clock earlier is committed
  for (size_t i = kPerSecond - 1; i < handed.size(); ++i)
    EXPECT_GE(durable[i], handed[i - (kPerSecond - 1)]) << "report " << i << ": a fix older than a second is not committed";
  EXPECT_GT(durable.back(), 0) << "the background flush never committed in 3.5 s of clock";
  const auto in = walk("P01", kT0, kT0 + 24 * 60 * kMin, 100, 5);
  auto s = open_store(path);
  ASSERT_TRUE(s);
  const auto got = query(*s, "P01", kT0, kT0 + 24 * 60 * kMin);
  EXPECT_GE(static_cast<std::int64_t>(got.size()), durable.back()) << "a fix reported committed was lost";
  EXPECT_GE(static_cast<std::int64_t>(got.size()), handed[handed.size() - kPerSecond])
      << "a fix handed over a second of clock before the last report was lost";
  std::printf("kill -9: %zu fixes survived; %lld reported committed, %lld handed over by the last report\n", got.size(),
              static_cast<long long>(durable.back()), static_cast<long long>(handed.back()));
  ASSERT_LE(got.size(), in.size());
  // what survived is exactly a prefix of what went in
  expect_same(got, std::vector<HistoryFix>(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(got.size())));
  // and the file takes new data
  s->fix({"P02", kT0, 1, 2, 3, "1"});
  EXPECT_EQ(query(*s, "P02", kT0, kT0).size(), 1u);
}

// What the file holds, read with SQLite itself: one integer from a query.
std::int64_t count_rows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return n;
}

// PL-03 at live scale (docs/history.md "Writing, durability and retention"): a flush appends one
// track_log row with what came since the last one, never rewrites a bucket; a bucket the person
// left is sealed into one `track` row and the log rows nothing unsealed needs any more go. A
// second session picks up the log, continues the newest bucket and seals it when the person
// moves on; every fix comes back once, in order.
TEST(HistoryStore, PL03_FlushAppendsOnlyWhatCameSinceTheLastAndSealsBucketsOnce) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  std::vector<HistoryFix> in;
  const std::int64_t b = 10 * kMin;
  {
    auto s = open_store(path, opt);
    for (int i = 0; i < 5; ++i) {  // bucket 0: five flushes, one fix each
      in.push_back({"P01", kT0 + 100 * 1000 + i * 1000, i, -i, 0, "1"});
      s->fix(in.back());
      s->fix({"P02", kT0 + 100 * 1000 + i * 1000, i, i, 0, "1"});
      s->flush();
      EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log"), i + 1);
      EXPECT_EQ(count_rows(path, "SELECT n FROM track_log ORDER BY id DESC LIMIT 1"), 2) << "a flush wrote more than the new fixes";
      EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track"), 0);
    }
    s->flush();  // nothing new: no row
    EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log"), 5);
    in.push_back({"P01", kT0 + b + 5, 7, 7, 0, "2"});  // bucket 1: P01 leaves bucket 0, P02 stays in it
    s->fix(in.back());
    s->flush();
    EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE bucket_start=" + std::to_string(kT0)), 5);
    EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log"), 6) << "P02's bucket 0 still needs the rows";
    EXPECT_EQ(s->stored_fixes(), 11u);  // the sealed rows and the log's groups, none twice
    in.push_back({"P01", kT0 + b + 1005, 8, 8, 0, "2"});
    s->fix(in.back());
    s->fix({"P02", kT0 + b + 1005, 8, 8, 0, "2"});  // P02 leaves bucket 0 too: every row before goes
    s->flush();
    EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track"), 2);
    EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log"), 2);
    EXPECT_EQ(count_rows(path, "SELECT MIN(id) FROM track_log"), 6);
  }  // closed with bucket 1 open: its fixes stay in the log
  EXPECT_EQ(count_rows(path, "SELECT SUM(n) FROM track_log"), 3);
  {
    auto s = open_store(path, opt);
    EXPECT_EQ(s->stored_fixes(), 13u);
    in.push_back({"P01", kT0 + b + 1005, 9, 9, 0, "2"});  // the same instant as the newest stored: kept
    s->fix(in.back());
    s->fix({"P01", kT0 + b + 1004, 0, 0, 0, "2"});  // earlier than the file's newest: dropped
    EXPECT_EQ(s->counters().out_of_order, 1u);
    in.push_back({"P01", kT0 + 2 * b, 10, 10, 0, "1"});  // bucket 2: bucket 1 is sealed from both sessions' fixes
    s->fix(in.back());
    s->flush();
    EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE person=1 AND bucket_start=" + std::to_string(kT0 + b)), 3);
    TrackQueryStats st;
    expect_same(query(*s, "P01", kT0, kT0 + 3 * b, &st), in);
    EXPECT_EQ(st.buckets_read, 3);
    EXPECT_EQ(s->stored_fixes(), 15u);
  }
}

// A person silent for a whole bucket has that bucket sealed, so the log does not keep it; a later
// fix of theirs inside it (another scenario's clock, a replay) is merged into the sealed row.
TEST(HistoryStore, PL03_ABucketOfSomeoneSilentIsSealedAndALateFixMergedIntoIt) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  const std::int64_t b = 10 * kMin;
  auto s = open_store(path, opt);
  s->fix({"GONE", kT0 + 1000, 1, 1, 0, "1"});
  s->fix({"HERE", kT0 + 1000, 1, 1, 0, "1"});
  s->flush();
  s->fix({"HERE", kT0 + 2 * b - 1, 2, 2, 0, "1"});  // the store's newest: bucket 0 ended less than a bucket ago
  s->flush();
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track WHERE person=1"), 0);
  s->fix({"HERE", kT0 + 2 * b, 3, 3, 0, "1"});  // a whole bucket after bucket 0's end
  s->flush();
  EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE person=1"), 1) << "the silent person's bucket was not sealed";
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log WHERE id<3"), 0);
  s->fix({"GONE", kT0 + 5000, 4, 4, 0, "1"});  // late, inside the sealed bucket
  s->flush();
  EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE person=1"), 2);
  const auto got = query(*s, "GONE", kT0, kT0 + 3 * b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].t_ms, kT0 + 5000);
  EXPECT_EQ(got[1].x_cm, 4);
  EXPECT_EQ(s->stored_fixes(), 5u);
}

// A file an older version wrote keeps the open bucket whole in track_open: it is read, continued
// and sealed with the new chunks; unsealed buckets that are not their person's newest are sealed
// by the first flush after opening.
TEST(HistoryStore, PL03_BucketsAnOlderVersionLeftInTrackOpenAreContinuedAndSealed) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  { auto s = open_store(path, opt); s->fix({"P01", kT0, 0, 0, 0, "1"}); s->fix({"P02", kT0, 0, 0, 0, "1"}); }
  const std::int64_t b = 10 * kMin;
  std::vector<history::TrackPoint> old0 = {{kT0 + 1000, 1, 1, 0, 1}, {kT0 + 2000, 2, 2, 0, 1}};
  std::vector<history::TrackPoint> old1 = {{kT0 + b + 1000, 3, 3, 0, 1}};
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM track; DELETE FROM track_log; DELETE FROM track_open;", nullptr, nullptr, nullptr), SQLITE_OK);
    auto put = [&](int person, std::int64_t start, const std::vector<history::TrackPoint>& pts) {
      sqlite3_stmt* q = nullptr;
      sqlite3_prepare_v2(db, "INSERT INTO track_open(person, bucket_start, n, t_first, t_last, data) VALUES(?,?,?,?,?,?)", -1, &q, nullptr);
      const std::string blob = history::encode_track(start, pts, true, false);
      sqlite3_bind_int(q, 1, person);
      sqlite3_bind_int64(q, 2, start);
      sqlite3_bind_int64(q, 3, static_cast<std::int64_t>(pts.size()));
      sqlite3_bind_int64(q, 4, pts.front().t_ms);
      sqlite3_bind_int64(q, 5, pts.back().t_ms);
      sqlite3_bind_blob(q, 6, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(q), SQLITE_DONE);
      sqlite3_finalize(q);
    };
    put(1, kT0, old0);      // P01: an older bucket, not its newest
    put(1, kT0 + b, old1);  // P01: its newest
    put(2, kT0, old0);      // P02: its newest, and P02 never comes back
    sqlite3_close(db);
  }
  auto s = open_store(path, opt);
  s->flush();  // seals P01's older bucket only
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track"), 1);
  EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE person=1 AND bucket_start=" + std::to_string(kT0)), 2);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_open"), 2);
  s->fix({"P01", kT0 + b + 2000, 4, 4, 0, "1"});  // continues the newest
  s->fix({"P01", kT0 + 2 * b, 5, 5, 0, "1"});     // and leaves it
  s->flush();
  EXPECT_EQ(count_rows(path, "SELECT n FROM track WHERE person=1 AND bucket_start=" + std::to_string(kT0 + b)), 2);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_open WHERE person=1"), 0);
  const auto got = query(*s, "P01", kT0, kT0 + 3 * b);
  ASSERT_EQ(got.size(), 5u);
  const std::int64_t want_t[] = {kT0 + 1000, kT0 + 2000, kT0 + b + 1000, kT0 + b + 2000, kT0 + 2 * b};
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].t_ms, want_t[i]) << i;
  EXPECT_EQ(query(*s, "P02", kT0, kT0 + b).size(), 2u);  // still readable where it is
}

// A damaged track_log row (a disk error, a hand edit) is refused when the file is opened, naming
// the row, instead of being half read.
TEST(HistoryStore, PL03_ADamagedLogRowIsRefusedNamingIt) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  {
    auto s = open_store(path, opt);
    s->fix({"P01", kT0, 1, 1, 0, "1"});
    s->flush();
  }
  ASSERT_EQ(count_rows(path, "SELECT COUNT(*) FROM track_log"), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE track_log SET data = substr(data, 1, length(data) - 2)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::string err;
  EXPECT_FALSE(SqliteHistory::open(path, opt, err));
  EXPECT_NE(err.find("track_log row 1"), std::string::npos) << err;
  EXPECT_NE(err.find(path), std::string::npos) << err;
}

// PL-03, H-03: a flush whose transaction fails (here another writer holds the file past the 5 s
// busy timeout; a full disk fails the same way) is rolled back and counted, keeps everything it
// held, and the next flush writes it: fixes (with a bucket left meanwhile), an alarm, a zone entry.
TEST(HistoryStore, PL03_H03_AFailedFlushLosesNothingAndIsCounted) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  auto s = open_store(path, opt);
  std::vector<HistoryFix> in;
  for (int i = 0; i < 3; ++i) in.push_back({"P01", kT0 + i * 1000, i, i, 0, "1"});
  for (const auto& f : in) s->fix(f);
  s->flush();
  for (int i = 3; i < 6; ++i) in.push_back({"P01", kT0 + 10 * kMin + i * 1000, i, i, 0, "1"});  // leaves bucket 0
  for (size_t i = 3; i < in.size(); ++i) s->fix(in[i]);
  s->alarm({"run", "A000001", "sos", "red", "", "", "", "1", {"P01"}, 0, 0, "raised", {{kT0 + 1000, "raised", "red", "system", ""}}});
  s->zone_entry({kT0 + 1000, "TF", "employee", 1});
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta(key, value) VALUES('held', '1');", nullptr, nullptr, nullptr), SQLITE_OK);
  s->flush();  // waits 5 s for the lock, fails
  EXPECT_EQ(s->counters().write_errors, 1u);
  EXPECT_FALSE(s->counters().last_write_error.empty());
  EXPECT_EQ(s->counters().fixes_durable, 3u) << "a failed flush must not count its fixes as durable";
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  s->flush();
  EXPECT_EQ(s->counters().write_errors, 1u);
  EXPECT_EQ(s->counters().fixes_durable, 6u);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM track"), 1);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM alarm"), 1);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM zone_entry"), 1);
  expect_same(query(*s, "P01", kT0, kT0 + 20 * kMin), in);
  EXPECT_EQ(s->stored_fixes(), 6u);
  in.push_back({"P01", kT0 + 10 * kMin + 9000, 9, 9, 0, "1"});  // and the log goes on after the retry
  s->fix(in.back());
  s->flush();
  EXPECT_EQ(s->counters().write_errors, 1u) << s->counters().last_write_error;
  EXPECT_EQ(s->stored_fixes(), 7u);
  expect_same(query(*s, "P01", kT0, kT0 + 20 * kMin), in);
}

// PL-03, H-03: the live loop's fix() does not wait for the file. Another connection holds the
// database's write lock, so a flush that has fixes to write waits for it (up to the 5 s busy
// timeout); meanwhile 10,000 fixes of people already known go in, and they are committed once the
// lock is released. Before the two locks the flush held the one lock fix() takes, so the fixes
// waited for the file (docs/soak.md: 90 to 181 ms at the end of a bucket).
TEST(HistoryStore, PL03_H03_FixesGoInWhileAFlushWaitsForTheFile) {
  TempDir tmp;
  const std::string path = tmp.file("h.db");
  HistoryOptions opt;
  opt.background_flush = false;
  auto s = open_store(path, opt);
  for (int p = 0; p < 100; ++p) s->fix({"P" + std::to_string(p), kT0, p, p, 0, "1"});
  s->flush();
  for (int p = 0; p < 100; ++p) s->fix({"P" + std::to_string(p), kT0 + 1000, p, p, 0, "1"});  // pending: the flush must write
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta(key, value) VALUES('held', '1');", nullptr, nullptr, nullptr), SQLITE_OK);
  auto flushing = std::async(std::launch::async, [&] { s->flush(); });
  // give the flush time to take its batch and wait for the file (if it has not, the fixes below
  // still go in: this can only pass too easily, never fail wrongly)
  EXPECT_EQ(flushing.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "the flush did not wait for the lock";
  auto feeding = std::async(std::launch::async, [&] {
    for (int i = 2; i < 102; ++i)
      for (int p = 0; p < 100; ++p) s->fix({"P" + std::to_string(p), kT0 + i * 1000, p, i, 0, "1"});
  });
  // the feed ends while the other connection still holds the lock (well inside the 5 s timeout)
  EXPECT_EQ(feeding.wait_for(std::chrono::seconds(3)), std::future_status::ready) << "fix() waited for the flush";
  EXPECT_EQ(flushing.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  flushing.get();
  feeding.get();
  s->flush();
  EXPECT_EQ(s->counters().fixes, 10200u);
  EXPECT_EQ(s->counters().fixes_durable, 10200u);
  EXPECT_EQ(s->stored_fixes(), 10200u);
  EXPECT_EQ(query(*s, "P7", kT0, kT0 + 200 * 1000).size(), 102u);
}

TEST(HistoryStore, StatisticsByDayCategoryTypeLevelStatusAndCode) {
  TempDir tmp;
  auto s = open_store(tmp.file("h.db"));
  const std::int64_t day = 24 * 60 * kMin;
  // local days at +08:00: kT0 is 08:00 local on 2026-01-05
  s->person({"P01", "张三", "employee"});
  s->person({"P02", "", "contractor"});
  s->person({"P03", "", "contractor"});
  s->fix({"P01", kT0, 0, 0, 0, "1"});
  s->fix({"P01", kT0 + day, 0, 0, 0, "1"});
  s->fix({"P02", kT0, 0, 0, 0, "1"});
  s->fix({"P03", kT0 + day, 0, 0, 0, "1"});
  s->zone_entry({kT0 + 5000, "TF", "contractor", 2});
  s->zone_entry({kT0 + 6000, "TF", "contractor", 1});
  s->zone_entry({kT0 + day, "TF", "employee", 1});
  s->alarm({"r", "A1", "gathering", "yellow", "", "PU", "", "1", {"P01", "P02"}, 0, 0, "closed",
            {{kT0, "raised", "yellow", "system", ""}, {kT0 + 9000, "acknowledged", "yellow", "P09", ""},
             {kT0 + 19000, "handled", "yellow", "P09", ""}, {kT0 + 29000, "closed", "yellow", "P09", ""}}});
  s->alarm({"r", "A2", "gathering", "yellow", "", "PU", "", "1", {"P01"}, 0, 0, "raised", {{kT0 + 1000, "raised", "yellow", "system", ""}}});
  s->alarm({"r", "A3", "gathering", "yellow", "", "PU", "", "1", {"P01"}, 0, 0, "closed",
            {{kT0 + 2000, "raised", "yellow", "system", ""}, {kT0 + 5000, "acknowledged", "yellow", "P09", ""},
             {kT0 + 12000, "closed", "yellow", "P09", ""}}});
  s->alarm({"r", "A4", "permit_refused", "orange", "SW-60", "", "W1", "", {}, 0, 0, "raised", {{kT0 + 3000, "raised", "orange", "system", ""}}});
  s->alarm({"r", "A5", "sos", "red", "", "", "", "", {}, 0, 0, "raised", {{kT0 + 3 * day, "raised", "red", "system", ""}}});  // outside
  s->permit({"r", "W1", "hot_work", "1", "in_progress", {{kT0, "applied"}, {kT0 + 1000, "signed"}, {kT0 + 2000, "in_progress"}}});
  s->permit({"r", "W2", "hot_work", "1", "in_progress", {{kT0, "applied"}, {kT0 + 2000, "in_progress"}}});
  s->permit({"r", "W3", "confined_space", "", "void", {{kT0, "applied"}, {kT0 + 2000, "void"}}});
  // storing an alarm again replaces it
  s->alarm({"r", "A2", "gathering", "yellow", "", "PU", "", "1", {"P01"}, 0, 0, "raised", {{kT0 + 1000, "raised", "yellow", "system", ""}}});
  HistoryStats st;
  std::string err;
  ASSERT_TRUE(s->stats(kT0, kT0 + 2 * day, 8 * 60, st, err)) << err;
  auto entry = [&](const std::string& d, const std::string& z, const std::string& c) {
    for (const auto& e : st.entries)
      if (e.day == d && e.zone == z && e.category == c) return e.entries;
    return -1;
  };
  EXPECT_EQ(entry("2026-01-05", "", "employee"), 1);
  EXPECT_EQ(entry("2026-01-05", "", "contractor"), 1);
  EXPECT_EQ(entry("2026-01-06", "", "contractor"), 1);
  EXPECT_EQ(entry("2026-01-05", "TF", "contractor"), 3);
  EXPECT_EQ(entry("2026-01-06", "TF", "employee"), 1);
  ASSERT_EQ(st.alarms.size(), 3u);
  // groups in (type, level, zone, status) order
  EXPECT_EQ(st.alarms[0].status, "closed");
  EXPECT_EQ(st.alarms[0].count, 2);
  EXPECT_EQ(st.alarms[0].acknowledged, 2);
  EXPECT_DOUBLE_EQ(st.alarms[0].mean_ack_s, 6.0);     // (9 + 3) / 2
  EXPECT_DOUBLE_EQ(st.alarms[0].mean_handle_s, 19.0);  // only A1 was handled
  EXPECT_DOUBLE_EQ(st.alarms[0].mean_close_s, 19.5);   // (29 + 10) / 2
  EXPECT_EQ(st.alarms[1].status, "raised");
  EXPECT_EQ(st.alarms[1].count, 1);
  EXPECT_EQ(st.alarms[2].type, "permit_refused");
  ASSERT_EQ(st.permits.size(), 2u);
  EXPECT_EQ(st.permits[0].type, "confined_space");
  EXPECT_EQ(st.permits[1].count, 2);
  ASSERT_EQ(st.codes.size(), 1u);
  EXPECT_EQ(st.codes[0].code, "SW-60");
  EXPECT_EQ(st.codes[0].count, 1);
}

TEST(HistoryCommand, RunTrackAndStatsThroughTheBinary) {
  TempDir tmp;
  const std::string db = tmp.file("h.db");
  const std::string scen = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/examples/first-gathering.yaml";
  int rc = -1;
  run_cmd(kBinary + " run " + scen + " --history " + db + " --retention 30d", rc);
  ASSERT_EQ(rc, 0);
  const std::string range = " --from 2026-03-02T09:00:00+08:00 --to 2026-03-02T09:02:00+08:00";
  // json: P3 walks from (80, 40) towards (48, 40), a fix a second
  const std::string js = run_cmd(kBinary + " track --history " + db + " --who P1 --who P3" + range, rc);
  ASSERT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(js);
  ASSERT_EQ(j["people"].size(), 2u);
  EXPECT_EQ(j["people"][1]["id"], "P3");
  EXPECT_EQ(j["people"][1]["fixes"].size(), 121u);
  EXPECT_DOUBLE_EQ(j["people"][1]["fixes"][0]["x"].get<double>(), 80.0);
  EXPECT_EQ(j["people"][1]["fixes"][0]["t"], "2026-03-02T09:00:00.000+08:00");
  // csv: a header and one line per fix
  const std::string csv = run_cmd(kBinary + " track --format csv --history " + db + " --who P3" + range, rc);
  ASSERT_EQ(rc, 0);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "person,t,t_ms,x,y,z,floor");
  int rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 6) << line;
  }
  EXPECT_EQ(rows, 121);
  // geojson: a FeatureCollection with a LineString per person
  const auto g = nlohmann::json::parse(run_cmd(kBinary + " track --format geojson --history " + db + " --who P3" + range, rc));
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(g["type"], "FeatureCollection");
  EXPECT_EQ(g["features"][0]["geometry"]["type"], "LineString");
  EXPECT_EQ(g["features"][0]["geometry"]["coordinates"].size(), 121u);
  // stats in every format
  const auto sj = nlohmann::json::parse(run_cmd(kBinary + " stats --format json --history " + db + range, rc));
  ASSERT_EQ(rc, 0);
  bool gathering = false;
  for (const auto& a : sj["alarms"]) gathering = gathering || (a["type"] == "gathering" && a["level"] == "yellow");
  EXPECT_TRUE(gathering);
  int employees = 0;
  for (const auto& e : sj["entries"])
    if (e["zone"].is_null() && e["category"] == "employee") employees = e["entries"];
  EXPECT_EQ(employees, 2);
  const std::string sc = run_cmd(kBinary + " stats --format csv --history " + db + range, rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(sc.rfind("section,day,zone", 0), 0u);
  EXPECT_NE(sc.find("\nalarm,"), std::string::npos);
  const std::string table = run_cmd(kBinary + " stats --history " + db + range, rc);
  ASSERT_EQ(rc, 0);
  EXPECT_NE(table.find("gathering"), std::string::npos);
  // bad input: exit 2
  run_cmd(kBinary + " track --history " + db + " --who P1 --from yesterday --to 2026-03-02T09:02:00+08:00", rc);
  EXPECT_EQ(rc, 2);
  run_cmd(kBinary + " track --history " + tmp.file("missing.db") + " --who P1" + range, rc);
  EXPECT_EQ(rc, 2);
  EXPECT_FALSE(fs::exists(tmp.file("missing.db")));
  // a new history file may go into a new folder
  run_cmd(kBinary + " run " + scen + " --history " + tmp.file("new/folder/h.db"), rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::exists(tmp.file("new/folder/h.db")));
  run_cmd(kBinary + " stats --history " + db + " --format xml" + range, rc);
  EXPECT_EQ(rc, 2);
  run_cmd(kBinary + " stats --history " + db + " --from 2026-03-02T10:00:00+08:00 --to 2026-03-02T09:00:00+08:00", rc);
  EXPECT_EQ(rc, 2);
  run_cmd(kBinary + " run " + scen + " --history " + db + " --retention soon", rc);
  EXPECT_EQ(rc, 2);
}
