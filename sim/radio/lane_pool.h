// LanePool: the threads a simulated positioning pipeline runs its parallel steps on, kept for the
// pipeline's life (sim/radio/positioning.cpp, docs/architecture.md "Threads").
//
// run(n, f) calls f(0) on the caller's thread and f(1) .. f(n - 1) on the pool's threads, and
// returns when every call has returned; n is at most the pool's size (threads + 1). Everything f
// touches is handed over by the pool's mutex both ways, so f(i) may read what the caller wrote
// before run() and the caller reads what f(i) wrote after it. Kept threads keep their thread_local
// scratch (the first-path search's, the ray walk's) warm from one slice to the next, and a slice
// pays no thread start. An exception thrown by f on a pool thread is rethrown by run().
#pragma once
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace planttwin {

class LanePool {
 public:
  explicit LanePool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { loop(i + 1); });
  }
  ~LanePool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  LanePool(const LanePool&) = delete;
  LanePool& operator=(const LanePool&) = delete;

  std::size_t size() const { return threads_.size() + 1; }

  void run(std::size_t n, const std::function<void(std::size_t)>& f) {
    if (n == 0) return;
    if (n > size()) n = size();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &f;
      lanes_ = n;
      busy_ = n - 1;
      ++generation_;
    }
    if (n > 1) wake_.notify_all();
    std::exception_ptr mine;
    try {
      f(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
    std::exception_ptr theirs = std::exchange(error_, nullptr);
    lock.unlock();
    if (mine) std::rethrow_exception(mine);
    if (theirs) std::rethrow_exception(theirs);
  }

 private:
  void loop(std::size_t lane) {
    std::size_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (lane >= lanes_) continue;  // this run needs fewer lanes
      const std::function<void(std::size_t)>* job = job_;
      lock.unlock();
      std::exception_ptr error;
      try {
        (*job)(lane);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t lanes_ = 0, busy_ = 0, generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // last: started once the members above exist
};

}  // namespace planttwin
