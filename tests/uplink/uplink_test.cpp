// The park-platform uplink (PL-11, SO-09): store and forward with a local HTTP receiver that goes
// down, answers errors and loses answers; field names after AQ 3064.3 App. B and AQ 3064.2 App. A;
// CGCS2000 through PROJ.
//
// Time: the tests about the sender's timing (back-off, retries while the platform is down, being
// woken by a new batch) run it on a FakeClock and never sleep: run_until() lets the sender do all
// it can at the current clock time, then moves the clock to the sender's next deadline. The only
// real waits left are safety nets, and the HTTP request timeout of the "hang" mode (a network
// deadline on Asio's own timer).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "hardware-in-loop/uplink/records.h"
#include "hardware-in-loop/uplink/uplink.h"
#include "history/clock.h"
#include "tests/uplink/receiver.h"

namespace planttwin {
namespace {

using namespace std::chrono_literals;
using test::Receiver;
using Json = nlohmann::json;

std::string fresh_outbox(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(PLANTTWIN_BINARY_DIR) / "test-out" / "uplink";
  std::filesystem::create_directories(dir);
  std::string p = (dir / (name + ".sqlite")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  return p;
}

Site test_site(bool with_origin) {
  Site s;
  s.name = "uplink-test";
  if (with_origin) s.origin = std::array<double, 3>{30.0, 120.0, 10.0};
  return s;
}

UplinkOptions fast_options(const Receiver& r, const std::string& outbox, Clock& clock = Clock::real()) {
  UplinkOptions o;
  o.clock = &clock;
  o.url = r.url();
  o.outbox = outbox;
  o.position_every = kSecond;
  o.backoff_first = 20 * kMillisecond;
  o.backoff_max = 80 * kMillisecond;
  o.request_timeout = 300 * kMillisecond;
  o.idle_poll = 50 * kMillisecond;
  o.company_code = "91330000TEST0001";
  o.company_name = "测试化工有限公司";
  o.park_code = "PARK01";
  return o;
}

// an alarm whose id marks the record: A000001, A000002, ...
std::pair<Alarm, AlarmEvent> make_alarm(int n, Micros t, AlarmType type = AlarmType::boundary_crossing) {
  Alarm a;
  char id[16];
  std::snprintf(id, sizeof id, "A%06d", n);
  a.id = id;
  a.type = type;
  a.level = AlarmLevel::red;
  a.who = {"P01"};
  a.zone = "Z1";
  a.pos = {10, 20};
  a.floor = "1";
  a.raised_at = t;
  AlarmEvent e;
  e.t = t;
  e.kind = AlarmEventKind::raised;
  e.level = AlarmLevel::red;
  e.by = "system";
  a.events.push_back(e);
  return {a, e};
}

// the alarm ids of the alarm records, in the order they appear in the batches
std::vector<std::string> alarm_ids(const std::vector<Json>& batches) {
  std::vector<std::string> out;
  for (const Json& b : batches)
    if (b.value("kind", "") == "alarm")
      for (const Json& r : b["records"]) out.push_back(r["ALARM_ID"].get<std::string>());
  return out;
}

// Runs the uplink's sender on `clock` until done() holds while the sender is parked (waiting on
// the clock: it has done all it can at this time). Each round waits for the sender to park, checks
// done(), and moves the clock to the sender's next deadline (its back-off or idle poll). False when
// the sender does not park within the safety net or done() does not come within max_rounds.
template <class Pred>
bool run_until(FakeClock& clock, Pred done, int max_rounds = 10000) {
  for (int i = 0; i < max_rounds; ++i) {
    if (!clock.wait_for_parked(1)) return false;
    if (done()) return true;
    const Clock::time_point next = clock.next_deadline();
    if (next != Clock::time_point::max()) clock.advance(next - clock.now());  // (max: woken spuriously)
  }
  return false;
}

// gap between two requests on the receiver's clock, in ms
double gap_ms(const Receiver::Request& a, const Receiver::Request& b) {
  return std::chrono::duration<double, std::milli>(b.at - a.at).count();
}

// Every request ever read: no key arrives again after the sender had its 2xx answer. The receiver
// knows when it wrote a 2xx, not when the sender read it (going down can cut the connection in
// between, and the sender then rightly tries again), so "had it" is shown by the sender moving on:
// it sends one batch at a time, oldest first, so a request with another key read after the 2xx
// means the 2xx arrived, and the key must never come again after that.
void expect_no_resend_after_2xx(const std::vector<Receiver::Request>& reqs) {
  std::map<std::string, std::uint64_t> answered;  // key -> event of its first 2xx
  for (const auto& q : reqs) {
    auto it = answered.find(q.key);
    if (it != answered.end()) {
      bool moved_on = false;
      for (const auto& r : reqs)
        moved_on = moved_on || (r.key != q.key && r.read_event > it->second && r.read_event < q.read_event);
      EXPECT_FALSE(moved_on) << "batch " << q.key << " sent again after its 2xx reached the sender";
    }
    if (q.answered_2xx && !answered.count(q.key)) answered[q.key] = *q.answered_2xx;
  }
}

TEST(Uplink, PL11_ReceiverDownForAWhileEveryRecordArrivesExactlyOnce) {
  FakeClock clock;
  Receiver rx(clock);
  UplinkOptions o = fast_options(rx, fresh_outbox("receiver_down"), clock);
  o.request_timeout = 100 * kMillisecond;  // the hang mode's real wait (a network deadline)
  Uplink up(test_site(true), WallClock{}, o);

  int alarms = 0;
  Micros t = 0;
  std::set<std::string> people;
  // feeds records for a while (clock time): three people move, an alarm every fifth step; a step
  // every 4 ms of clock, and between steps the sender does all it can (its back-off runs on the clock)
  auto feed = [&](std::chrono::milliseconds how_long) {
    for (int step = 1; step <= how_long / 4ms; ++step) {
      for (const char* p : {"P01", "P02", "P03"}) {
        up.on_fix(t, p, std::string("T") + (p + 1), 10 + to_seconds(t), 20, 1.2, "1");
        people.insert(p);
      }
      if (step % 5 == 0) {
        auto [a, e] = make_alarm(++alarms, t);
        up.on_alarm(t, a, e);
      }
      up.tick(t);
      t += 100 * kMillisecond;
      ASSERT_TRUE(clock.wait_for_parked(1)) << "the sender did not come back to wait";
      clock.advance(4ms);
    }
  };

  // each phase must have been met by the sender: the attempts that failed in it are counted
  auto failed_during = [&](auto phase) {
    const std::uint64_t before = up.stats().attempts_failed;
    phase();
    return up.stats().attempts_failed - before;
  };
  feed(300ms);  // up
  rx.go_down();  // connections refused
  EXPECT_GE(failed_during([&] { feed(400ms); }), 2u) << "refused";
  EXPECT_TRUE(rx.come_up());
  rx.set_mode(Receiver::Mode::status503);
  EXPECT_GE(failed_during([&] { feed(300ms); }), 2u) << "503";
  rx.set_mode(Receiver::Mode::drop_after_read);  // stored, but the 2xx is lost
  EXPECT_GE(failed_during([&] { feed(300ms); }), 2u) << "answer lost";
  rx.set_mode(Receiver::Mode::hang);  // the client times out
  EXPECT_GE(failed_during([&] { feed(400ms); }), 2u) << "timed out";
  rx.go_down();
  EXPECT_TRUE(rx.come_up());
  rx.set_mode(Receiver::Mode::ok);
  feed(200ms);

  ASSERT_TRUE(run_until(clock, [&] { return up.stats().pending == 0; })) << up.last_error();
  Uplink::Stats s = up.stats();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.sent, s.queued);
  EXPECT_GT(s.attempts_failed, 0u);
  EXPECT_EQ(s.rejected, 0u);

  // after de-duplication by key: every batch once, in sequence order, no gap
  std::vector<Json> stored = rx.stored();
  ASSERT_EQ(stored.size(), s.queued);
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i]["batch_seq"].get<std::int64_t>(), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(stored[i]["idempotency_key"], stored[0]["outbox_id"].get<std::string>() + "-" + std::to_string(i + 1));
  }
  // every alarm exactly once and in order
  std::vector<std::string> ids = alarm_ids(stored);
  ASSERT_EQ(ids.size(), static_cast<size_t>(alarms));
  for (int i = 0; i < alarms; ++i) {
    char want[16];
    std::snprintf(want, sizeof want, "A%06d", i + 1);
    EXPECT_NE(ids[static_cast<size_t>(i)].find(want), std::string::npos) << i;
  }
  // the lost answers made duplicates, and the receiver saw them under the same key and bytes
  std::vector<Receiver::Request> reqs = rx.requests();
  std::map<std::string, std::string> body_of;
  int duplicates = 0;
  for (const auto& q : reqs) {
    if (q.duplicate) ++duplicates;
    auto [it, fresh] = body_of.emplace(q.key, q.raw_body);
    if (!fresh) {
      EXPECT_EQ(it->second, q.raw_body) << "batch " << q.key << " changed between attempts";
    }
    EXPECT_EQ(q.key, q.body.value("idempotency_key", "")) << "header and body disagree";
  }
  EXPECT_GT(duplicates, 0);
  expect_no_resend_after_2xx(reqs);
  std::printf("  %zu batches (%d alarms), %zu requests, %d duplicates by key, %llu failed attempts\n", stored.size(),
              alarms, reqs.size(), duplicates, static_cast<unsigned long long>(s.attempts_failed));
  // positions: every person in the last position batch
  bool last_positions_checked = false;
  for (auto it = stored.rbegin(); it != stored.rend() && !last_positions_checked; ++it)
    if ((*it)["kind"] == "position") {
      EXPECT_EQ((*it)["records"].size(), people.size());
      last_positions_checked = true;
    }
  EXPECT_TRUE(last_positions_checked);
}

TEST(Uplink, PL11_RestartWithNonEmptyOutboxSendsOldBatchesFirst) {
  FakeClock clock;
  Receiver rx;
  rx.go_down();
  std::string outbox = fresh_outbox("restart");
  UplinkOptions o = fast_options(rx, outbox, clock);
  {
    Uplink first(test_site(false), WallClock{}, o);
    for (int i = 1; i <= 5; ++i) {
      auto [a, e] = make_alarm(i, i * kSecond);
      first.on_alarm(i * kSecond, a, e);
    }
    EXPECT_TRUE(run_until(clock, [&] { return first.stats().attempts_failed >= 2; }));  // retried after a back-off
    EXPECT_EQ(first.stats().pending, 5u);
    EXPECT_EQ(first.stats().sent, 0u);
  }  // stops with five unsent batches
  EXPECT_TRUE(rx.come_up());
  Uplink second(test_site(false), WallClock{}, o);
  EXPECT_EQ(second.stats().pending, 5u);
  for (int i = 6; i <= 8; ++i) {
    auto [a, e] = make_alarm(i, i * kSecond);
    second.on_alarm(i * kSecond, a, e);
  }
  ASSERT_TRUE(run_until(clock, [&] { return second.stats().pending == 0; })) << second.last_error();
  EXPECT_EQ(second.stats().sent, 8u);
  EXPECT_EQ(second.stats().queued, 3u);
  std::vector<Json> stored = rx.stored();
  ASSERT_EQ(stored.size(), 8u);
  std::vector<std::string> ids = alarm_ids(stored);
  ASSERT_EQ(ids.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(stored[i]["batch_seq"].get<int>(), static_cast<int>(i + 1));
    EXPECT_NE(ids[i].find("A00000" + std::to_string(i + 1)), std::string::npos) << ids[i];
    EXPECT_EQ(stored[i]["outbox_id"], stored[0]["outbox_id"]);  // one outbox, one key space
  }
  EXPECT_EQ(rx.requests().size(), 8u);  // nothing sent twice
}

TEST(Uplink, PL11_PositionsNotYetBatchedSurviveARestart) {
  Receiver rx;
  UplinkOptions o = fast_options(rx, fresh_outbox("restart_positions"));
  o.position_every = 30 * kSecond;
  {
    Uplink first(test_site(false), WallClock{}, o);
    first.on_fix(0, "P01", "T01", 1, 1, 0, "1");
    first.tick(0);  // batch 1: P01
    first.on_fix(10 * kSecond, "P02", "T02", 2, 2, 0, "1");
    first.tick(10 * kSecond);  // written, not due
    ASSERT_TRUE(first.flush(2 * kSecond));
  }
  Uplink second(test_site(false), WallClock{}, o);
  second.on_fix(0, "P03", "T03", 3, 3, 0, "1");
  second.tick(0);  // batch 2: P02 from the first run, P03
  ASSERT_TRUE(second.flush(2 * kSecond));
  std::vector<Json> stored = rx.stored();
  ASSERT_EQ(stored.size(), 2u);
  ASSERT_EQ(stored[1]["records"].size(), 2u);
  EXPECT_EQ(stored[1]["records"][0]["PERSON_ID"], "P02");
  EXPECT_EQ(stored[1]["records"][0]["TIME_STAMP"], "2026-01-05 08:00:10");
  EXPECT_EQ(stored[1]["records"][1]["PERSON_ID"], "P03");
}

// PL-11 store and forward: the retry schedule, on the clock (exact: the clock stands still while a
// request is under way).
TEST(Uplink, PL11_BackoffDoublesFromFirstAndIsCapped) {
  FakeClock clock;
  Receiver rx(clock);
  rx.set_mode(Receiver::Mode::status503);
  UplinkOptions o = fast_options(rx, fresh_outbox("backoff"), clock);
  o.backoff_first = 40 * kMillisecond;
  o.backoff_max = 160 * kMillisecond;
  Uplink up(test_site(false), WallClock{}, o);
  auto [a, e] = make_alarm(1, 0);
  up.on_alarm(0, a, e);
  ASSERT_TRUE(run_until(clock, [&] { return rx.requests().size() >= 7; }));
  rx.set_mode(Receiver::Mode::ok);
  std::vector<Receiver::Request> reqs = rx.requests();
  // gaps: 40, 80, 160, 160, 160, 160 ms
  const double want[] = {40, 80, 160, 160, 160, 160};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(gap_ms(reqs[i], reqs[i + 1]), want[i]) << "gap " << i;
  EXPECT_GE(up.stats().attempts_failed, 6u);
  EXPECT_NE(up.last_error().find("HTTP 503"), std::string::npos) << up.last_error();
  ASSERT_TRUE(run_until(clock, [&] { return up.stats().pending == 0; }));
  EXPECT_EQ(rx.stored().size(), 1u);
  // a success resets the back-off: the next failure waits backoff_first again
  rx.set_mode(Receiver::Mode::status503);
  size_t before = rx.requests().size();
  auto [a2, e2] = make_alarm(2, kSecond);
  up.on_alarm(kSecond, a2, e2);
  ASSERT_TRUE(run_until(clock, [&] { return rx.requests().size() >= before + 2; }));
  reqs = rx.requests();
  EXPECT_EQ(gap_ms(reqs[before], reqs[before + 1]), 40);
}

// PL-11: a new batch does not cut a back-off short (an outage is no busy loop); stopping does.
TEST(Uplink, PL11_NewBatchDoesNotCutABackoffShort) {
  FakeClock clock;
  Receiver rx(clock);
  rx.set_mode(Receiver::Mode::status503);
  UplinkOptions o = fast_options(rx, fresh_outbox("backoff_not_cut"), clock);
  o.backoff_first = 40 * kMillisecond;
  auto up = std::make_unique<Uplink>(test_site(false), WallClock{}, o);
  auto [a, e] = make_alarm(1, 0);
  up->on_alarm(0, a, e);
  ASSERT_TRUE(run_until(clock, [&] { return !rx.requests().empty(); }));
  ASSERT_EQ(rx.requests().size(), 1u);
  const Clock::time_point retry_at = clock.next_deadline();
  EXPECT_EQ(retry_at - rx.requests()[0].at, 40ms);
  auto [a2, e2] = make_alarm(2, kSecond);
  up->on_alarm(kSecond, a2, e2);  // wakes the sender, which goes back to its back-off
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(rx.requests().size(), 1u);
  EXPECT_EQ(clock.next_deadline(), retry_at);
  clock.advance(39ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(rx.requests().size(), 1u);  // just before the back-off ends
  clock.advance(1ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(rx.requests().size(), 2u);  // at its end
  up.reset();  // stopping ends the back-off the sender is in: no clock time needed
  EXPECT_EQ(clock.parked_count(), 0);
}

TEST(Uplink, PL11_PositionsEvery30sEachPersonsLatest) {
  Receiver rx;
  UplinkOptions o = fast_options(rx, fresh_outbox("positions"));
  o.position_every = 30 * kSecond;
  Uplink up(test_site(true), WallClock{}, o);
  // two people, a fix each second for 125 s, a tick each second after the fixes
  for (int s = 0; s <= 125; ++s) {
    Micros t = s * kSecond;
    up.on_fix(t, "P01", "T01", s, 0, 1.2, "1");
    up.on_fix(t, "P02", "T02", 0, s, 1.2, "1");
    up.tick(t);
  }
  ASSERT_TRUE(up.flush(5 * kSecond)) << up.last_error();
  std::vector<Json> batches = rx.stored();
  ASSERT_EQ(batches.size(), 5u);  // at 0, 30, 60, 90 and 120 s; not at 29 or 31
  EXPECT_EQ(up.stats().positions, 252u);
  std::map<std::string, std::vector<std::string>> times;
  for (const Json& b : batches) {
    EXPECT_EQ(b["kind"], "position");
    ASSERT_EQ(b["records"].size(), 2u);
    EXPECT_EQ(b["records"][0]["PERSON_ID"], "P01");
    EXPECT_EQ(b["records"][1]["PERSON_ID"], "P02");
    for (const Json& r : b["records"]) {
      for (const char* f : {"PERSON_ID", "TAG_ID", "X", "Y", "Z", "FLOOR_NO", "TIME_STAMP"})
        EXPECT_TRUE(r.contains(f)) << f;
      times[r["PERSON_ID"].get<std::string>()].push_back(r["TIME_STAMP"].get<std::string>());
    }
    EXPECT_EQ(b["CREATE_TIME"], b["records"][0]["TIME_STAMP"]);  // the latest fix, taken at the batch
  }
  // 2026-01-05T08:00:00+08:00 is t = 0 (WallClock default): latest fixes 30 s apart
  const std::vector<std::string> want = {"2026-01-05 08:00:00", "2026-01-05 08:00:30", "2026-01-05 08:01:00",
                                         "2026-01-05 08:01:30", "2026-01-05 08:02:00"};
  EXPECT_EQ(times["P01"], want);
  EXPECT_EQ(times["P02"], want);
  EXPECT_EQ(batches[1]["COORDINATE_SYSTEM"], "CGCS2000");
}

TEST(Uplink, PL11_NoPositionBatchJustBeforeTheInterval) {
  Receiver rx;
  UplinkOptions o = fast_options(rx, fresh_outbox("positions_edge"));
  o.position_every = 30 * kSecond;
  o.send = false;  // outbox only
  Uplink up(test_site(false), WallClock{}, o);
  up.on_fix(0, "P01", "T01", 0, 0, 0, "1");
  up.tick(0);
  EXPECT_EQ(up.stats().queued, 1u);
  up.on_fix(29 * kSecond, "P01", "T01", 1, 0, 0, "1");
  up.tick(30 * kSecond - 1);
  EXPECT_EQ(up.stats().queued, 1u);  // just below 30 s
  up.tick(30 * kSecond);
  EXPECT_EQ(up.stats().queued, 2u);  // at 30 s
  up.tick(45 * kSecond);
  EXPECT_EQ(up.stats().queued, 2u);  // no new fix: nothing to send
  EXPECT_EQ(up.stats().pending, 2u);
}

PermitRecord hot_work_permit() {
  PermitRecord p;
  p.id = "W1";
  p.type = "hot_work";
  p.grade = "2";
  p.floor = "1";
  p.area = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  p.workers = {"P02", "P05"};
  p.guardian = "P03";
  p.approver = "P04";
  p.from = 60 * kSecond;
  p.to = 4 * kHour;
  p.status = PermitStatus::applied;
  p.history = {{42 * kSecond, "applied"}};
  PermitGasEntry g;
  g.t = 50 * kSecond;
  g.by = "P04";
  g.readings.flammable_volpct = 0.1;
  g.readings.o2_volpct = 20.9;
  p.gas.push_back(g);
  return p;
}

TEST(Uplink, SO09_PermitSentAtOnceAfterSigningAndAfterAcceptance) {
  Receiver rx;
  UplinkOptions o = fast_options(rx, fresh_outbox("permit"));
  o.position_every = 30 * kSecond;
  o.idle_poll = 5 * kSecond;  // the sender must be woken, not polled
  o.base_data = false;        // only the permit's batches here (base data: its own test)
  o.people = {{"P02", {"李四", Category::contractor}}, {"P03", {"王五", Category::employee}},
              {"P04", {"赵六", Category::employee}}, {"P05", {"钱七", Category::employee}}};
  FakeClock clock;
  o.clock = &clock;
  Uplink up(test_site(true), WallClock{}, o);
  ASSERT_TRUE(clock.wait_for_parked(1));  // the sender is idle, waiting
  PermitRecord p = hot_work_permit();
  p.status = PermitStatus::signed_;
  p.history.push_back({100 * kSecond, "signed"});
  const Clock::time_point t0 = clock.now();
  up.on_permit(100 * kSecond, p, "signed");
  ASSERT_TRUE(clock.wait_for_parked(1));  // woken by the batch, it sent it and waits again
  ASSERT_EQ(rx.stored().size(), 1u);
  EXPECT_EQ(clock.now(), t0);  // at once: no clock time passed, so not by its 5 s poll
  p.status = PermitStatus::accepted;
  p.history.push_back({2 * kHour, "accepted"});
  up.on_permit(2 * kHour, p, "accepted");
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(up.stats().pending, 0u);
  EXPECT_EQ(clock.now(), t0);
  std::vector<Json> b = rx.stored();
  ASSERT_EQ(b.size(), 2u);
  const Json& s = b[0]["records"][0];
  const Json& a = b[1]["records"][0];
  EXPECT_EQ(b[0]["kind"], "permit");
  // the required fields of AQ 3064.2 Table A.1
  for (const char* f : {"ID", "COMPANYNAME", "COMPANYCODE", "TICKETTYPE", "ISSUETIME", "STARTTIME", "ENDTIME",
                        "CHECKEDTIME", "TICKETPOSITION", "TICKETCONTENT", "LONGITUDE", "LATITUDE", "TICKETSTATUS",
                        "SUPERVISORNAME", "WORKERNAME", "WORKDEPARTMENT", "ISCONTRACTORWORK", "TICKETRESPONSNAME",
                        "MAJORPERSONMOBILE", "ISCHANGED", "ISCANCELLED", "DELETED", "CREATEDATE", "CREATEBY",
                        "UPDATEDATE", "UPDATEBY", "GASNAME", "GASTIME", "GASVALUE"})
    EXPECT_TRUE(s.contains(f)) << f;
  EXPECT_EQ(s["TICKETTYPE"], "03");  // 动火 二级
  EXPECT_EQ(s["TICKETSTATUS"], "1");
  EXPECT_EQ(s["ISSUETIME"], "2026-01-05 08:01:40");
  EXPECT_EQ(s["CHECKEDTIME"], "");
  EXPECT_EQ(s["STARTTIME"], "2026-01-05 08:01:00");
  EXPECT_EQ(s["ENDTIME"], "2026-01-05 12:00:00");
  EXPECT_EQ(s["WORKERNAME"], "李四,钱七");
  EXPECT_EQ(s["SUPERVISORNAME"], "王五");
  EXPECT_EQ(s["TICKETRESPONSNAME"], "赵六");
  EXPECT_EQ(s["ISCONTRACTORWORK"], 1);
  EXPECT_EQ(s["GASNAME"], "flammable_volpct,O2_volpct");
  EXPECT_EQ(s["GASVALUE"], "0.1,20.9");
  EXPECT_EQ(s["CREATEDATE"], "2026-01-05 08:00:42");
  EXPECT_EQ(a["TICKETSTATUS"], "3");
  EXPECT_EQ(a["CHECKEDTIME"], "2026-01-05 10:00:00");
  EXPECT_EQ(a["ID"], s["ID"]);
  EXPECT_GT(s["LONGITUDE"].get<double>(), 120.0);  // area centre (5, 5) m is east and north of the origin
  EXPECT_GT(s["LATITUDE"].get<double>(), 30.0);
}

Zone square_zone(const std::string& id, const std::string& name, double x0, double size) {
  Zone z;
  z.id = id;
  z.name = name;
  z.kind = ZoneKind::major_hazard;
  z.risk = Risk::red;
  z.polygon.pts = {{x0, 0}, {x0 + size, 0}, {x0 + size, size}, {x0, size}};
  z.polygon.finalize();
  return z;
}

// AQ3 8.2 "base data ... sent on change" with the B.1 / B.2 fields: at the first start every
// person and zone; at a restart with nothing changed, nothing; after changes, only the changed
// and new records, and DELETED = 1 for what is gone.
// The soak found it: 5,000 people's base records made one 1.3 MB request, the receiver reset it
// (its body limit), and the strict order held every later batch back for good. A set of records
// larger than max_batch_records goes as several batches of the same kind, in order, stored in one
// transaction; every record arrives once.
TEST(Uplink, PL11_LargeSetsGoAsSeveralBatchesOfAtMostMaxBatchRecords) {
  Receiver rx;
  Site site = test_site(true);
  UplinkOptions o = fast_options(rx, fresh_outbox("split"));
  o.max_batch_records = 3;
  o.position_every = 30 * kSecond;
  for (int k = 1; k <= 7; ++k) o.people["P0" + std::to_string(k)] = {"P" + std::to_string(k), Category::employee, "", {}};
  Uplink up(site, WallClock{}, o);
  for (int k = 1; k <= 7; ++k) up.on_fix(kSecond, "P0" + std::to_string(k), "T0" + std::to_string(k), k, 0, 1.2, "1");
  up.tick(kSecond);
  ASSERT_TRUE(up.flush(5 * kSecond)) << up.last_error();
  const std::vector<Json> b = rx.stored();
  std::vector<std::string> kinds;
  std::vector<std::size_t> sizes;
  std::vector<std::string> persons, positions;
  for (const Json& x : b) {
    kinds.push_back(x["kind"]);
    sizes.push_back(x["records"].size());
    for (const Json& r : x["records"]) (x["kind"] == "person" ? persons : positions).push_back(r.contains("PERSON_ID") ? r["PERSON_ID"] : r["ID"]);
  }
  // 7 people: 3 + 3 + 1 base records, then 3 + 3 + 1 positions (one set at 1 s)
  EXPECT_EQ(kinds, (std::vector<std::string>{"person", "person", "person", "position", "position", "position"}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1, 3, 3, 1}));
  const std::vector<std::string> all = {"P01", "P02", "P03", "P04", "P05", "P06", "P07"};
  EXPECT_EQ(persons, all) << "every record once, in order";
  EXPECT_EQ(positions, all);
  EXPECT_EQ(up.stats().queued, 6u);
  EXPECT_EQ(up.stats().sent, 6u);
  EXPECT_EQ(up.stats().pending, 0u);
  // the edge: exactly max_batch_records is one batch
  Receiver rx2;
  UplinkOptions o2 = fast_options(rx2, fresh_outbox("split_edge"));
  o2.max_batch_records = 7;
  o2.people = o.people;
  Uplink up2(site, WallClock{}, o2);
  ASSERT_TRUE(up2.flush(5 * kSecond)) << up2.last_error();
  ASSERT_EQ(rx2.stored().size(), 1u);
  EXPECT_EQ(rx2.stored()[0]["records"].size(), 7u);
}

TEST(Uplink, PL11_BaseDataAtStartThenOnlyWhatChanged) {
  Receiver rx;
  const std::string outbox = fresh_outbox("base");
  Site site = test_site(true);
  site.zones = {square_zone("TF", "罐区", 0, 50), square_zone("PU", "装置区", 100, 40)};
  UplinkOptions o = fast_options(rx, outbox);
  o.people = {{"P01", {"张三", Category::employee, "", {"operator", "guardian"}}},
              {"P02", {"李四", Category::contractor, "某安装公司", {}}}};
  {
    Uplink up(site, WallClock{}, o);
    ASSERT_TRUE(up.flush(3 * kSecond)) << up.last_error();
    EXPECT_EQ(up.stats().base_records, 4u);
  }
  std::vector<Json> b = rx.stored();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0]["kind"], "person");
  EXPECT_EQ(b[1]["kind"], "zone");
  ASSERT_EQ(b[0]["records"].size(), 2u);
  const Json& p1 = b[0]["records"][0];
  const Json& p2 = b[0]["records"][1];
  for (const char* f : {"ID", "COMPANY_CODE", "COMPANY_NAME", "PERSON_NAME", "IDENTIFY_NUM", "PERSON_TYPE", "BIRTHDAY", "GENDER",
                        "POSITION_NAME", "MOBILE_NUMBER", "AFFILIATED_DEPARTMENT", "DELETED"})
    EXPECT_TRUE(p1.contains(f)) << f;
  EXPECT_EQ(p1["TABLE"], "AQ3064.3-B.1");
  EXPECT_EQ(p1["ID"], "P01");
  EXPECT_EQ(p1["PERSON_NAME"], "张三");
  EXPECT_EQ(p1["PERSON_TYPE"], "01");
  EXPECT_EQ(p1["POSITION_NAME"], "operator,guardian");
  EXPECT_EQ(p2["PERSON_TYPE"], "02");
  EXPECT_EQ(p2["AFFILIATED_DEPARTMENT"], "某安装公司");
  EXPECT_EQ(p2["COMPANY_CODE"], "91330000TEST0001");
  EXPECT_EQ(p2["DELETED"], 0);
  ASSERT_EQ(b[1]["records"].size(), 2u);
  const Json& pu = b[1]["records"][0];  // zones in id order
  for (const char* f : {"ID", "COMPANY_CODE", "ZONE_NAME", "ZONE_TYPE", "GEO", "DELETED"}) EXPECT_TRUE(pu.contains(f)) << f;
  EXPECT_EQ(pu["TABLE"], "AQ3064.3-B.2");
  EXPECT_EQ(pu["ID"], "PU");
  EXPECT_EQ(pu["ZONE_NAME"], "装置区");
  EXPECT_EQ(pu["ZONE_TYPE"], 1);
  const std::string geo = pu["GEO"];
  ASSERT_EQ(geo.rfind("POLYGON((120.", 0), 0u) << geo;  // lon first, CGCS2000 near the origin (30 N, 120 E)
  EXPECT_NE(geo.find(" 30."), std::string::npos) << geo;
  // a closed ring: the first point again at the end
  const std::string first = geo.substr(9, geo.find(',') - 9);
  EXPECT_EQ(geo.substr(geo.size() - 2 - first.size(), first.size()), first) << geo;

  {  // the same base data again: nothing new is sent
    Uplink up(site, WallClock{}, o);
    ASSERT_TRUE(up.flush(3 * kSecond));
    EXPECT_EQ(up.stats().base_records, 0u);
  }
  EXPECT_EQ(rx.stored().size(), 2u);

  {  // P02 renamed, P03 new, P01 gone; zone PU moved
    o.people = {{"P02", {"李四(新)", Category::contractor, "某安装公司", {}}}, {"P03", {"王五", Category::visitor}}};
    site.zones[1] = square_zone("PU", "装置区", 120, 40);
    Uplink up(site, WallClock{}, o);
    ASSERT_TRUE(up.flush(3 * kSecond));
    EXPECT_EQ(up.stats().base_records, 4u);
  }
  b = rx.stored();
  ASSERT_EQ(b.size(), 4u);
  std::map<std::string, Json> changed;
  for (const Json& r : b[2]["records"]) changed[r["ID"].get<std::string>()] = r;
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_EQ(changed["P02"]["PERSON_NAME"], "李四(新)");
  EXPECT_EQ(changed["P03"]["PERSON_TYPE"], "03");
  EXPECT_EQ(changed["P01"]["DELETED"], 1);
  EXPECT_EQ(changed["P01"]["PERSON_NAME"], "张三");  // the record as it was, marked deleted
  ASSERT_EQ(b[3]["records"].size(), 1u);
  EXPECT_EQ(b[3]["records"][0]["ID"], "PU");
  EXPECT_NE(b[3]["records"][0]["GEO"].get<std::string>(), geo);  // (pu pointed into the old b)
}

TEST(Uplink, SO09_TicketTypeCodesOfAq2TableA2) {
  using uplink::aq2_ticket_type;
  EXPECT_EQ(aq2_ticket_type("hot_work", "special"), "01");
  EXPECT_EQ(aq2_ticket_type("hot_work", "1"), "02");
  EXPECT_EQ(aq2_ticket_type("hot_work", "2"), "03");
  EXPECT_EQ(aq2_ticket_type("temp_power", ""), "10");
  EXPECT_EQ(aq2_ticket_type("height", "I"), "21");
  EXPECT_EQ(aq2_ticket_type("height", "II"), "22");
  EXPECT_EQ(aq2_ticket_type("height", "III"), "23");
  EXPECT_EQ(aq2_ticket_type("height", "IV"), "24");
  EXPECT_EQ(aq2_ticket_type("excavation", ""), "30");
  EXPECT_EQ(aq2_ticket_type("road_break", ""), "40");
  EXPECT_EQ(aq2_ticket_type("blind_plate", ""), "50");
  EXPECT_EQ(aq2_ticket_type("lifting", "1"), "61");
  EXPECT_EQ(aq2_ticket_type("lifting", "2"), "62");
  EXPECT_EQ(aq2_ticket_type("lifting", "3"), "63");
  EXPECT_EQ(aq2_ticket_type("confined_space", ""), "70");
  // a graded class without its grade: the class code; an unknown type: nothing
  EXPECT_EQ(aq2_ticket_type("height", ""), "2");
  EXPECT_EQ(aq2_ticket_type("cleaning", ""), "");
}

// AQ 3064.2's TICKETSTATUS code list (0..6) has no "expired": a permit past its `to` keeps the code
// of its last regulated status (the expiry reaches the platform as alarm code 10). `run --uplink`
// found it: so04-lifecycle's expired permits went out as "-1", and the mock platform refused them.
TEST(Uplink, SO09_AnExpiredPermitKeepsItsLastTicketStatus) {
  Site site = test_site(true);
  UplinkOptions o;
  LocalToCgcs2000 geo(site);
  uplink::RecordContext c{site, WallClock{}, o, geo, "s1"};
  PermitRecord p;
  p.id = "E1";
  p.type = "height";
  p.area = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  p.status = PermitStatus::in_progress;
  p.aq2_code = 2;
  EXPECT_EQ(uplink::permit_record(c, 100 * kSecond, p, "in_progress")["TICKETSTATUS"], "2");
  p.status = PermitStatus::expired;  // the engine leaves aq2_code at in progress (engine/permits.cpp)
  EXPECT_EQ(uplink::permit_record(c, 181 * kSecond, p, "expired")["TICKETSTATUS"], "2");
  p.aq2_code = 6;  // expired while paused
  EXPECT_EQ(uplink::permit_record(c, 181 * kSecond, p, "expired")["TICKETSTATUS"], "6");
}

TEST(Uplink, PL11_AlarmFieldNamesAfterAq3AppendixB) {
  Site site = test_site(true);
  UplinkOptions o;
  LocalToCgcs2000 geo(site);
  uplink::RecordContext c{site, WallClock{}, o, geo, "s1"};
  struct Case {
    const char* type;
    const char* table;
    const char* type_field;
    const char* code;
  };
  const Case cases[] = {
      {"sos", "AQ3064.3-B.3", "ALARM_TYPE", "0"},           {"boundary_crossing", "AQ3064.3-B.3", "ALARM_TYPE", "1"},
      {"overstay", "AQ3064.3-B.3", "ALARM_TYPE", "2"},      {"stationary", "AQ3064.3-B.3", "ALARM_TYPE", "3"},
      {"over_capacity", "AQ3064.3-B.4", "ALARM_TYPE", "1"}, {"under_staffing", "AQ3064.3-B.4", "ALARM_TYPE", "2"},
  };
  for (const Case& k : cases) {
    AlarmType type{};
    ASSERT_TRUE(parse_alarm_type(k.type, type)) << k.type;
    auto [a, e] = make_alarm(1, 5 * kSecond, type);
    a.cleared_at = 65 * kSecond;
    std::vector<uplink::Json> r = uplink::alarm_records(c, 65 * kSecond, a, e);
    ASSERT_EQ(r.size(), 1u) << k.type;
    EXPECT_EQ(r[0]["TABLE"], k.table) << k.type;
    EXPECT_EQ(r[0][k.type_field], k.code) << k.type;
    for (const char* f : {"ID", "ZONE_ID", "ALARM_TYPE", "ALARM_TIME", "ALARM_END_TIME", "DESCRIBE", "DELETED"})
      EXPECT_TRUE(r[0].contains(f)) << k.type << " " << f;
    if (std::string(k.table) == "AQ3064.3-B.3") {
      EXPECT_EQ(r[0]["PERSON_ID"], "P01");
    }
    EXPECT_EQ(r[0]["ALARM_TIME"], "2026-01-05 08:00:05");
    EXPECT_EQ(r[0]["ALARM_END_TIME"], "2026-01-05 08:01:05");
    EXPECT_EQ(r[0]["ID"], "s1-A000001");
  }
  // a person alarm with two people: one B.3 record each
  auto [a2, e2] = make_alarm(2, 0, AlarmType::stationary);
  a2.who = {"P01", "P02"};
  auto two = uplink::alarm_records(c, 0, a2, e2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1]["PERSON_ID"], "P02");
  EXPECT_NE(two[0]["ID"], two[1]["ID"]);
  // a special-work alarm: AQ 3064.2 Table A.3 with its code
  auto [a3, e3] = make_alarm(3, 0, AlarmType::guardian_absent);
  a3.code = Aq2Code::c31;
  a3.permit = "W1";
  auto sw = uplink::alarm_records(c, 0, a3, e3);
  ASSERT_EQ(sw.size(), 1u);
  EXPECT_EQ(sw[0]["TABLE"], "AQ3064.2-A.3");
  EXPECT_EQ(sw[0]["ALARMTYPE"], "31");
  EXPECT_EQ(sw[0]["TICKETID"], "W1");
  for (const char* f : {"ID", "TICKETID", "ALARMSTARTTIME", "ALARMTYPE", "ALARMENDTIME", "ALARMRESULT", "DELETED",
                        "CREATEDATE", "CREATEBY", "UPDATEDATE", "UPDATEBY"})
    EXPECT_TRUE(sw[0].contains(f)) << f;
}

TEST(Uplink, PL11_GatheringRecordAfterAq3B5) {
  Site site = test_site(true);
  UplinkOptions o;
  o.company_code = "C1";
  o.people = {{"P01", {"张三", Category::employee}}, {"P02", {"李四", Category::contractor}},
              {"P03", {"访客", Category::visitor}}};
  LocalToCgcs2000 geo(site);
  uplink::RecordContext c{site, WallClock{}, o, geo, "s1"};
  GatheringOutput g;
  g.alarm_id = "A000009";
  g.level = AlarmLevel::yellow;
  g.members = {"P01", "P02", "P03"};
  g.center = {0, 0};
  g.floor = "1";
  g.radius = 15;
  std::map<std::string, uplink::LastFix> last = {{"P01", {100, 0, "1"}}, {"P02", {0, 0, "1"}}};
  uplink::Json r = uplink::gathering_record(c, 61 * kSecond, g, 61 * kSecond, last);
  EXPECT_EQ(r["TABLE"], "AQ3064.3-B.5");
  EXPECT_EQ(r["COMPANY_CODE"], "C1");
  EXPECT_EQ(r["TIME_STAMP"], "2026-01-05 08:00:01");  // raised at 61 s after a 60 s dwell
  EXPECT_EQ(r["ALARM_LAST_TIME"], 60);
  EXPECT_EQ(r["DELETED"], 0);
  ASSERT_EQ(r["ALARM_AREA"].size(), 3u);
  EXPECT_EQ(r["ALARM_AREA"][0]["NAME"], "张三");
  EXPECT_EQ(r["ALARM_AREA"][0]["PERSONTYPE"], "01");
  EXPECT_EQ(r["ALARM_AREA"][1]["PERSONTYPE"], "02");
  EXPECT_EQ(r["ALARM_AREA"][2]["PERSONTYPE"], "03");
  EXPECT_EQ(r["ALARM_AREA"][1]["PERSONID"], "P02");
  EXPECT_GT(r["ALARM_AREA"][0]["X"].get<double>(), 120.0);  // P01 100 m east
  EXPECT_NEAR(r["ALARM_AREA"][1]["X"].get<double>(), 120.0, 1e-12);
  EXPECT_NEAR(r["ALARM_AREA"][1]["Y"].get<double>(), 30.0, 1e-12);
}

// GRS80 = the CGCS2000 ellipsoid: a = 6378137 m, f = 1 / 298.257222101
TEST(Uplink, PL11_Cgcs2000OfAKnownPoint) {
  Site site = test_site(true);
  LocalToCgcs2000 geo(site);
  ASSERT_TRUE(geo.valid());
  double lon = 0, lat = 0;
  geo.convert(0, 0, lon, lat);
  EXPECT_NEAR(lon, 120.0, 1e-12);
  EXPECT_NEAR(lat, 30.0, 1e-12);
  const double a = 6378137.0, f = 1 / 298.257222101, e2 = f * (2 - f);
  const double phi = 30.0 * M_PI / 180.0, s2 = std::sin(phi) * std::sin(phi);
  const double n = a / std::sqrt(1 - e2 * s2);                     // prime vertical radius
  const double m = a * (1 - e2) / std::pow(1 - e2 * s2, 1.5);      // meridian radius
  geo.convert(100, 0, lon, lat);
  EXPECT_NEAR(lon - 120.0, 100 / (n * std::cos(phi)) * 180 / M_PI, 1e-9);
  // a grid line east is not a parallel: the latitude drops by x^2 tan(phi) / (2 M N) (0.45 mm here)
  EXPECT_NEAR(lat - 30.0, -100.0 * 100.0 * std::tan(phi) / (2 * m * n) * 180 / M_PI, 1e-11);
  geo.convert(0, 100, lon, lat);
  EXPECT_NEAR(lon, 120.0, 1e-12);
  EXPECT_NEAR(lat - 30.0, 100 / m * 180 / M_PI, 1e-9);
  geo.convert(-100, -100, lon, lat);
  EXPECT_LT(lon, 120.0);
  EXPECT_LT(lat, 30.0);
}

TEST(Uplink, PL11_WithoutOriginLocalMetresAreSent) {
  Site site = test_site(false);
  LocalToCgcs2000 geo(site);
  EXPECT_FALSE(geo.valid());
  UplinkOptions o;
  uplink::RecordContext c{site, WallClock{}, o, geo, "s1"};
  uplink::Json r = uplink::position_record(c, 0, "P01", "T01", 12.5, -3.25, 1.2, "2");
  EXPECT_EQ(r["X"], 12.5);
  EXPECT_EQ(r["Y"], -3.25);
  EXPECT_EQ(r["FLOOR_NO"], "2");
}

TEST(Uplink, PL11_BadUrlsRefusedWithAClearMessage) {
  Site site = test_site(false);
  UplinkOptions o;
  o.outbox = fresh_outbox("bad_url");
  o.url = "ftp://platform.example/upload";
  try {
    Uplink up(site, WallClock{}, o);
    FAIL() << "ftp accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("must start with http:// or https://"), std::string::npos) << e.what();
  }
  for (const char* bad : {"ftp://x/", "http://:80/", "http://host:99999/", "http://host:x/"}) {
    o.url = bad;
    EXPECT_THROW(Uplink(site, WallClock{}, o), std::runtime_error) << bad;
  }
  o.url = "http://127.0.0.1:1/x";
  o.outbox = "/nonexistent-dir/outbox.sqlite";
  try {
    Uplink up(site, WallClock{}, o);
    FAIL() << "unwritable outbox accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/outbox.sqlite"), std::string::npos) << e.what();
  }
}

TEST(Uplink, PL11_RejectedBatchIsKeptAndTheNextOneGoes) {
  FakeClock clock;
  Receiver rx;
  rx.set_mode(Receiver::Mode::status400);
  UplinkOptions o = fast_options(rx, fresh_outbox("rejected"), clock);
  Uplink up(test_site(false), WallClock{}, o);
  auto [a, e] = make_alarm(1, 0);
  up.on_alarm(0, a, e);
  ASSERT_TRUE(run_until(clock, [&] { return up.stats().rejected == 1; }));
  EXPECT_NE(up.last_error().find("HTTP 400"), std::string::npos) << up.last_error();
  EXPECT_EQ(up.stats().pending, 0u);
  rx.set_mode(Receiver::Mode::ok);
  auto [a2, e2] = make_alarm(2, kSecond);
  up.on_alarm(kSecond, a2, e2);
  ASSERT_TRUE(run_until(clock, [&] { return up.stats().pending == 0; }));
  EXPECT_EQ(rx.requests().size(), 2u);  // the rejected batch is not sent again
  ASSERT_EQ(rx.stored().size(), 1u);
  EXPECT_EQ(rx.stored()[0]["batch_seq"], 2);
}

// Stopping abandons a request in flight instead of waiting for its deadline. The deadline is an
// hour, so a stop that waited for it could only pass the 10 s safety net by never returning.
TEST(Uplink, PL11_StopsAtOnceWhileARequestHangs) {
  auto rx = std::make_unique<Receiver>();
  rx->set_mode(Receiver::Mode::hang);
  UplinkOptions o = fast_options(*rx, fresh_outbox("hang"));
  o.request_timeout = kHour;
  auto up = std::make_unique<Uplink>(test_site(false), WallClock{}, o);
  auto [a, e] = make_alarm(1, 0);
  up->on_alarm(0, a, e);
  ASSERT_TRUE(rx->wait_for_requests(1));
  auto stopped = std::make_shared<std::promise<void>>();
  std::future<void> done = stopped->get_future();
  std::thread stopper([u = std::move(up), stopped]() mutable {
    u.reset();
    stopped->set_value();
  });
  if (done.wait_for(10s) != std::future_status::ready) {
    stopper.detach();
    (void)rx.release();  // the hung sender still talks to it
    FAIL() << "the uplink did not stop while its request hung";
  }
  stopper.join();
  // the abandoned batch goes first next time, with the same key
  rx->set_mode(Receiver::Mode::ok);
  rx->go_down();
  EXPECT_TRUE(rx->come_up());
  Uplink again(test_site(false), WallClock{}, o);
  ASSERT_TRUE(again.flush(3 * kSecond)) << again.last_error();
  std::vector<Receiver::Request> reqs = rx->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].key, reqs[1].key);
  EXPECT_EQ(rx->stored().size(), 1u);
}

}  // namespace
}  // namespace planttwin
