// history/clock.h: the FakeClock that the history store's and the uplink's timing tests run on
// (PL-03 flush cadence, PL-11 / SO-09 retry and wake-up). A worker like the store's flusher: it
// waits on the clock for a fixed schedule of deadlines and counts the ones it reached.
#include <gtest/gtest.h>

#include <thread>

#include "history/clock.h"

using namespace planttwin;
using namespace std::chrono_literals;

namespace {

struct Ticker {
  Clock& clock;
  Clock::duration every;
  std::mutex mu;
  std::condition_variable_any cv;
  bool stop = false;
  int ticks = 0;
  std::thread thread;

  Ticker(Clock& c, Clock::duration e) : clock(c), every(e) {
    thread = std::thread([this] {
      std::unique_lock<std::mutex> lk(mu);
      Clock::time_point next = clock.now() + every;
      while (!stop) {
        clock.wait_until(cv, lk, next);
        if (stop) break;
        if (clock.now() >= next) ++ticks, next += every;  // a fixed schedule: catches up after a jump
      }
    });
  }
  ~Ticker() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    clock.notify_all(cv);
    thread.join();
  }
  int count() {
    std::lock_guard<std::mutex> lk(mu);
    return ticks;
  }
};

}  // namespace

TEST(FakeClock, AdvanceWakesAWaitAtItsDeadlineNotBefore) {
  FakeClock clock;
  const Clock::time_point t0 = clock.now();
  Ticker ticker(clock, 100ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(clock.next_deadline(), t0 + 100ms);
  clock.advance(99ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(ticker.count(), 0);  // just before the deadline
  clock.advance(1ms);
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(ticker.count(), 1);  // at it
  EXPECT_EQ(clock.next_deadline(), t0 + 200ms);
  clock.advance(250ms);  // past two more deadlines in one jump
  ASSERT_TRUE(clock.wait_for_parked(1));
  EXPECT_EQ(ticker.count(), 3);
  EXPECT_EQ(clock.next_deadline(), t0 + 400ms);
  EXPECT_EQ(clock.now(), t0 + 350ms);
}

TEST(FakeClock, ANotifiedWaiterIsNotParkedUntilItWaitsAgain) {
  FakeClock clock;
  Ticker ticker(clock, 1s);
  ASSERT_TRUE(clock.wait_for_parked(1));
  {
    // hold the worker's mutex: notified, it cannot run yet, and must not count as parked
    std::unique_lock<std::mutex> lk(ticker.mu);
    clock.notify_all(ticker.cv);
    EXPECT_EQ(clock.parked_count(), 0);
  }
  ASSERT_TRUE(clock.wait_for_parked(1));  // it woke, found nothing due, and waits for the same deadline
  EXPECT_EQ(ticker.count(), 0);
}

TEST(FakeClock, WaitForParkedGivesUpAfterItsSafetyNet) {
  FakeClock clock;
  EXPECT_FALSE(clock.wait_for_parked(1, 1ms));  // nobody waits on this clock
  EXPECT_EQ(clock.next_deadline(), Clock::time_point::max());
}

TEST(RealClock, APassedDeadlineDoesNotWaitAndAPredicateThatHoldsEndsTheWait) {
  Clock& clock = Clock::real();
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lk(mu);
  EXPECT_FALSE(clock.wait_until(cv, lk, clock.now() - 1s, [] { return false; }));
  EXPECT_TRUE(clock.wait_for(cv, lk, 1h, [] { return true; }));
  EXPECT_TRUE(lk.owns_lock());
}
