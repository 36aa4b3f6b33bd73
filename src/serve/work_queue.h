// A bounded FIFO of jobs run one at a time, in order, by the one worker thread it owns: the thread that owns the
// model in `tune serve`, so requests from many HTTP threads reach the model one after another.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tune {

class WorkQueue {
 public:
  using Job = std::function<void()>;

  explicit WorkQueue(size_t capacity);  // starts the worker
  ~WorkQueue();                         // close()
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues the job; false when `capacity` jobs are already waiting or the queue is closed. A job must not throw.
  bool try_push(Job job);
  // Lets the worker finish every queued job, then joins it; later pushes fail. Idempotent.
  void close();

  size_t capacity() const { return capacity_; }
  size_t waiting() const;  // jobs queued and not started

 private:
  void work();

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool closed_ = false;
  std::thread worker_;
};

}  // namespace tune
