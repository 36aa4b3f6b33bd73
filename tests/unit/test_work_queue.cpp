// Tests for the serve worker queue: FIFO order on one thread, the capacity bound, close() draining the queue.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/work_queue.h"

namespace tune {
namespace {

TEST(WorkQueue, RunsJobsInOrderOnOneThread) {
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  {
    WorkQueue q(100);
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(q.try_push([&, i] {
        order.push_back(i);
        threads.push_back(std::this_thread::get_id());
      }));
    q.close();
  }
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
  for (const auto& id : threads) EXPECT_EQ(id, threads[0]);
  EXPECT_NE(threads[0], std::this_thread::get_id());
}

TEST(WorkQueue, RefusesJobsBeyondCapacityWhileTheWorkerIsBusy) {
  WorkQueue q(2);
  std::promise<void> release, started;
  std::shared_future<void> gate = release.get_future().share();
  ASSERT_TRUE(q.try_push([&started, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the worker holds job 1; the queue is empty
  int ran = 0;
  EXPECT_TRUE(q.try_push([&] { ++ran; }));
  EXPECT_TRUE(q.try_push([&] { ++ran; }));
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_FALSE(q.try_push([&] { ran += 100; }));  // full
  release.set_value();
  q.close();
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(q.try_push([] {}));  // closed
}

}  // namespace
}  // namespace tune
