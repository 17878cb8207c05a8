// The clock that background threads read and wait on: the history store's flusher and the
// uplink's sender (docs/history.md, docs/uplink.md). They take a Clock, so tests drive time with a
// FakeClock and never sleep. Header only (target planttwin_clock). The engine reads no clock at
// all (DESIGN.md section 3); this is the lowest layer that may.
//
// The waiting protocol. A thread waits holding its owner's mutex `lk`, on its owner's
// condition_variable_any `cv`, through clock.wait_until(); whoever changes what it waits for does
// so under that mutex and then calls clock.notify_all(cv) (never cv.notify_all() directly: a
// FakeClock has to know that the waiter is no longer parked). A wait ends when notified, when
// now() reaches the deadline, or spuriously, like std::condition_variable_any::wait_until.
#pragma once
#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace planttwin {

// A monotonic clock and timed waits on it. Thread-safe.
class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // One wait (see the protocol above); `lk` is held again on return.
  virtual void wait_until(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lk, time_point deadline) = 0;
  // Wakes every thread waiting on `cv`.
  virtual void notify_all(std::condition_variable_any& cv) = 0;

  // Waits until done() or the deadline; returns done() (as std::condition_variable::wait_until).
  template <class Pred>
  bool wait_until(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lk, time_point deadline, Pred done) {
    while (!done()) {
      if (now() >= deadline) return done();
      wait_until(cv, lk, deadline);
    }
    return true;
  }
  template <class Pred>
  bool wait_for(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lk, duration d, Pred done) {
    return wait_until(cv, lk, now() + d, done);
  }

  // std::chrono::steady_clock: the default of every component that takes a Clock.
  static Clock& real();
};

class RealClock final : public Clock {
 public:
  using Clock::wait_until;
  time_point now() const override { return std::chrono::steady_clock::now(); }
  void wait_until(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lk, time_point deadline) override {
    cv.wait_until(lk, deadline);
  }
  void notify_all(std::condition_variable_any& cv) override { cv.notify_all(); }
};

inline Clock& Clock::real() {
  static RealClock clock;
  return clock;
}

// A clock that moves only when advance() is called (tests). Time starts at `start` (far from the
// epoch, so "never" and "long ago" stay apart). advance() wakes every wait whose deadline it
// reaches. A thread is *parked* while it waits through this clock with its deadline still ahead
// and has not been notified since: it will do nothing until advance() or a notify. Tests use
// wait_for_parked(n) to know that background threads have done all they can at the current time.
// Must outlive every component that uses it.
class FakeClock final : public Clock {
 public:
  using Clock::wait_until;
  explicit FakeClock(time_point start = time_point(std::chrono::hours(24 * 365))) : now_(start) {}
  ~FakeClock() override { assert(waiters_.empty() && "a component still waits on this FakeClock: destroy it first"); }
  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  time_point now() const override {
    std::lock_guard<std::mutex> g(mu_);
    return now_;
  }

  void wait_until(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lk, time_point deadline) override {
    std::unique_lock<std::mutex> g(mu_);
    if (now_ >= deadline) return;
    Waiter w{&cv, deadline, false};
    waiters_.push_back(&w);
    changed_.notify_all();
    // releases lk and mu_ together once inside cv's wait, so an advance() or notify_all() that
    // takes mu_ after the check above cannot miss this waiter; lk is re-locked before mu_, the
    // order every caller uses (owner's mutex, then the clock's)
    struct Both {
      std::unique_lock<std::mutex>& owner;
      std::unique_lock<std::mutex>& clock;
      void lock() {
        owner.lock();
        clock.lock();
      }
      void unlock() {
        clock.unlock();
        owner.unlock();
      }
    } both{lk, g};
    cv.wait(both);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &w));
    changed_.notify_all();
  }

  void notify_all(std::condition_variable_any& cv) override {
    std::lock_guard<std::mutex> g(mu_);
    for (Waiter* w : waiters_)
      if (w->cv == &cv) w->woken = true;
    changed_.notify_all();
    cv.notify_all();
  }

  // Moves time on by d (>= 0) and wakes the waits it makes due.
  void advance(duration d) {
    assert(d >= duration::zero() && "FakeClock::advance: time does not go back");
    std::lock_guard<std::mutex> g(mu_);
    now_ += d;
    for (Waiter* w : waiters_)
      if (w->deadline <= now_ && !w->woken) {
        w->woken = true;
        w->cv->notify_all();
      }
    changed_.notify_all();
  }

  // The earliest deadline of a parked thread; time_point::max() when none is parked.
  time_point next_deadline() const {
    std::lock_guard<std::mutex> g(mu_);
    time_point t = time_point::max();
    for (const Waiter* w : waiters_)
      if (parked(*w)) t = std::min(t, w->deadline);
    return t;
  }

  int parked_count() const {
    std::lock_guard<std::mutex> g(mu_);
    return parked_locked();
  }

  // Blocks until at least n threads are parked. `safety` is real time and only a safety net for
  // a broken component (false when it ran out); a working one parks in microseconds.
  bool wait_for_parked(int n, std::chrono::milliseconds safety = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> g(mu_);
    return changed_.wait_for(g, safety, [&] { return parked_locked() >= n; });
  }

 private:
  struct Waiter {
    std::condition_variable_any* cv;
    time_point deadline;
    bool woken;  // notified or made due: runs (or is about to) until it waits again
  };
  bool parked(const Waiter& w) const { return !w.woken && w.deadline > now_; }
  int parked_locked() const {
    return static_cast<int>(std::count_if(waiters_.begin(), waiters_.end(), [&](const Waiter* w) { return parked(*w); }));
  }

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // a waiter came or went, or time moved
  time_point now_;
  std::vector<Waiter*> waiters_;
};

}  // namespace planttwin
