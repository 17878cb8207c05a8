// The simulator's kept threads (sim/radio/lane_pool.h; H-01: a run's result never depends on its
// threads): every lane of every run is called once, on the caller's thread for lane 0 and on one
// kept thread per other lane, what the caller wrote before run() is seen and what the lanes wrote
// is seen after it, runs needing fewer lanes leave the other threads idle, and an exception on any
// lane reaches the caller while the pool stays usable.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sim/radio/lane_pool.h"

namespace planttwin {
namespace {

TEST(LanePool, H01_EveryLaneOfEveryRunOnceOnItsOwnKeptThread) {
  LanePool pool(2);
  ASSERT_EQ(pool.size(), 3u);
  std::vector<long> slots(3, 0);
  std::vector<std::set<std::thread::id>> ids(3);
  long input = 0;
  for (int run = 1; run <= 2000; ++run) {
    input = run;  // written before run(): every lane must see it
    const std::size_t lanes = 1 + static_cast<std::size_t>(run % 3);
    pool.run(lanes, [&](std::size_t lane) {
      slots[lane] += input;
      ids[lane].insert(std::this_thread::get_id());
    });
    for (std::size_t k = 0; k < 3; ++k) {
      long want = 0;
      for (int r = 1; r <= run; ++r)
        if (k < 1 + static_cast<std::size_t>(r % 3)) want += r;
      ASSERT_EQ(slots[k], want) << "run " << run << " lane " << k;
    }
  }
  EXPECT_EQ(ids[0], std::set<std::thread::id>{std::this_thread::get_id()});
  // lanes 1 and 2 each ran on one kept thread, not the caller's, and not the same one
  ASSERT_EQ(ids[1].size(), 1u);
  ASSERT_EQ(ids[2].size(), 1u);
  EXPECT_NE(*ids[1].begin(), std::this_thread::get_id());
  EXPECT_NE(*ids[1].begin(), *ids[2].begin());
  // more lanes than threads: clamped to the pool's size
  std::atomic<int> calls{0};
  pool.run(10, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
  pool.run(0, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
}

TEST(LanePool, H01_AnExceptionOnAnyLaneReachesTheCallerAndThePoolGoesOn) {
  LanePool pool(1);
  for (std::size_t bad : {0u, 1u}) {
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.run(2,
                          [&](std::size_t lane) {
                            ++ran;
                            if (lane == bad) throw std::runtime_error("lane failed");
                          }),
                 std::runtime_error);
    EXPECT_EQ(ran.load(), 2);  // the other lane still ran to its end
  }
  std::atomic<int> ok{0};
  pool.run(2, [&](std::size_t) { ++ok; });
  EXPECT_EQ(ok.load(), 2);
  LanePool alone(0);  // one thread: lane 0 only, on the caller's
  std::thread::id seen;
  alone.run(4, [&](std::size_t) { seen = std::this_thread::get_id(); });
  EXPECT_EQ(seen, std::this_thread::get_id());
}

}  // namespace
}  // namespace planttwin
