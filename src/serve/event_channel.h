// Server-sent events handed from the model worker (producer) to the HTTP thread streaming them (consumer).
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace tune {

class EventChannel {
 public:
  // Producer: queue one "data: ...\n\n" event; close() after the last.
  void push(std::string event);
  void close();
  // Consumer: waits for events and moves all available into `out`; false once closed and drained.
  bool pop(std::vector<std::string>& out);

  // Set by the consumer when the client went away; the producer stops generating.
  std::atomic<bool> cancelled{false};

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::string> events_;
  bool closed_ = false;
};

}  // namespace tune
