#include "serve/event_channel.h"

namespace tune {

void EventChannel::push(std::string event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

void EventChannel::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  ready_.notify_one();
}

bool EventChannel::pop(std::vector<std::string>& out) {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [this] { return closed_ || !events_.empty(); });
  while (!events_.empty()) {
    out.push_back(std::move(events_.front()));
    events_.pop_front();
  }
  return !closed_;
}

}  // namespace tune
