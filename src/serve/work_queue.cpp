#include "serve/work_queue.h"

namespace tune {

WorkQueue::WorkQueue(size_t capacity) : capacity_(capacity), worker_([this] { work(); }) {}

WorkQueue::~WorkQueue() { close(); }

bool WorkQueue::try_push(Job job) {
  {
    std::lock_guard lock(mu_);
    if (closed_ || jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void WorkQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

size_t WorkQueue::waiting() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void WorkQueue::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // closed and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace tune
