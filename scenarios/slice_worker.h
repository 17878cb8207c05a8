// SliceWorker: one thread that runs one job at a time, handed over by post(), so that a simulated
// run can apply slice s to its engines while the caller prepares slice s + 1 (scenarios/runner.cpp,
// docs/architecture.md "Threads").
//
// The hand-over is the whole contract: post() first waits for the job before it (so at most one job
// runs and the caller may reuse what that job read), then starts the new one; wait() returns when
// no job runs. Everything a job touches belongs to the worker from post() until the next post() or
// wait() returns, and to the caller after that (the mutex gives the happens-before both ways). An
// exception thrown by a job is rethrown by the next post() or wait().
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace planttwin {

class SliceWorker {
 public:
  SliceWorker() : thread_([this] { loop(); }) {}
  ~SliceWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  SliceWorker(const SliceWorker&) = delete;
  SliceWorker& operator=(const SliceWorker&) = delete;

  void post(std::function<void()> job) {
    wait();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = std::move(job);
    }
    changed_.notify_all();
  }

  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !job_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return job_ || stop_; });
      if (!job_) return;  // stopping, nothing left to run
      lock.unlock();
      std::exception_ptr error;
      try {
        job_();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      job_ = nullptr;
      if (error) error_ = error;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;  // the job running or about to run; empty when idle
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace planttwin
