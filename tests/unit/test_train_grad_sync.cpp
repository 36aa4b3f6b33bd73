// Tests for the double gradient accumulator: sums micro-batches exactly, zeroes the grads it takes, rounds once to
// fp32 at the reduction, and a single process's reduce leaves the sum as it is.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dist/communicator.h"
#include "train/grad_sync.h"

namespace tune {
namespace {

struct TwoTensors {
  Tensor a{{2, 2}}, da{{2, 2}}, b{{3}}, db{{3}};
  std::vector<ParamRef> params() { return {{"a", &a, &da, true}, {"b", &b, &db, true}}; }
};

TEST(GradAccumulator, SumsMicroBatchesInDoubleAndRoundsOnce) {
  TwoTensors t;
  GradAccumulator acc(t.params());
  // Element a[0] gets 1, 2^-24 and 2^-25: in fp32, 1 + 2^-24 is a tie that rounds to 1 and the 2^-25 is lost too;
  // the double sum 1 + 1.5·2^-24 rounds once, to 1 + 2^-23.
  const float small1 = std::ldexp(1.0f, -24), small2 = std::ldexp(1.0f, -25);
  t.da.data = {1.0f, 0.5f, -2.0f, 3.0f};
  t.db.data = {1.0f, 0.0f, 7.0f};
  acc.add_micro_batch();
  for (float g : t.da.data) EXPECT_EQ(g, 0.0f);  // taken and zeroed
  for (float g : t.db.data) EXPECT_EQ(g, 0.0f);
  t.da.data = {small1, 0.25f, 0.0f, 0.0f};
  t.db.data = {small2, 0.0f, -7.0f};
  acc.add_micro_batch();
  t.da.data = {small2, 0.0f, 0.0f, 1.0f};
  t.db.data = {small2, 1.0f, 0.0f};
  acc.add_micro_batch();
  auto single = dist::single_process();
  acc.reduce(*single);
  EXPECT_EQ(t.da.data[0], 1.0f + std::ldexp(1.0f, -23));
  EXPECT_EQ(t.da.data[1], 0.75f);
  EXPECT_EQ(t.da.data[2], -2.0f);
  EXPECT_EQ(t.da.data[3], 4.0f);
  EXPECT_EQ(t.db.data[0], 1.0f);  // 1 + 2^-25 + 2^-25 = 1 + 2^-24: a tie, rounded to even (1.0f)
  EXPECT_EQ(t.db.data[1], 1.0f);
  EXPECT_EQ(t.db.data[2], 0.0f);
}

TEST(GradAccumulator, ReduceRestartsFromZeroAndClearForgets) {
  TwoTensors t;
  GradAccumulator acc(t.params());
  t.da.data = {1, 2, 3, 4};
  acc.add_micro_batch();
  auto single = dist::single_process();
  acc.reduce(*single);
  EXPECT_EQ(t.da.data, (std::vector<float>{1, 2, 3, 4}));
  t.da.data = {0, 0, 0, 0};
  t.db.data = {5, 5, 5};
  acc.add_micro_batch();
  acc.clear();
  acc.reduce(*single);
  EXPECT_EQ(t.da.data, (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(t.db.data, (std::vector<float>{0, 0, 0}));
}

}  // namespace
}  // namespace tune
