// Tests for accelerate's even-batches sharding (BatchSamplerShard, split_batches=False, drop_last=False): the batches
// each rank gets, hand-derived from accelerate's algorithm for the order 0..N-1.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "train/shard.h"

namespace tune {
namespace {

using Batches = std::vector<std::vector<int64_t>>;

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Every micro-batch rank gets for the order 0..n-1.
Batches rank_batches(int64_t n, int bs, int world, int rank) {
  const std::vector<int64_t> order = iota(n), padded = padded_order(order, bs, world);
  Batches out;
  for (int64_t s = 0; s < batches_per_rank(n, bs, world); ++s) {
    const auto b = rank_batch(padded, bs, world, rank, s);
    out.emplace_back(b.begin(), b.end());
  }
  return out;
}

TEST(Shard, RoundMultipleOfTheTotalBatch) {
  EXPECT_EQ(rank_batches(24, 3, 2, 0), (Batches{{0, 1, 2}, {6, 7, 8}, {12, 13, 14}, {18, 19, 20}}));
  EXPECT_EQ(rank_batches(24, 3, 2, 1), (Batches{{3, 4, 5}, {9, 10, 11}, {15, 16, 17}, {21, 22, 23}}));
}

TEST(Shard, LastRoundMissesABatch) {  // 21 = 7 full batches: rank 1's last batch is the first batch again
  EXPECT_EQ(rank_batches(21, 3, 2, 0), (Batches{{0, 1, 2}, {6, 7, 8}, {12, 13, 14}, {18, 19, 20}}));
  EXPECT_EQ(rank_batches(21, 3, 2, 1), (Batches{{3, 4, 5}, {9, 10, 11}, {15, 16, 17}, {0, 1, 2}}));
}

TEST(Shard, ShortLastBatchIsCompletedFromTheStart) {  // 22: batch 7 is [21] and becomes [21, 0, 1]
  EXPECT_EQ(rank_batches(22, 3, 2, 1), (Batches{{3, 4, 5}, {9, 10, 11}, {15, 16, 17}, {21, 0, 1}}));
}

TEST(Shard, ShortLastBatchAndAMissingBatch) {  // 20: [18, 19] + [0], then [1, 2, 3] for rank 1
  EXPECT_EQ(rank_batches(20, 3, 2, 0), (Batches{{0, 1, 2}, {6, 7, 8}, {12, 13, 14}, {18, 19, 0}}));
  EXPECT_EQ(rank_batches(20, 3, 2, 1), (Batches{{3, 4, 5}, {9, 10, 11}, {15, 16, 17}, {1, 2, 3}}));
}

TEST(Shard, FewerExamplesThanOneRoundRepeatThem) {  // accelerate doubles its first-round list until it is long enough
  EXPECT_EQ(rank_batches(2, 3, 2, 0), (Batches{{0, 1, 0}}));
  EXPECT_EQ(rank_batches(2, 3, 2, 1), (Batches{{1, 0, 1}}));
  EXPECT_EQ(rank_batches(3, 1, 4, 3), (Batches{{0}}));
}

TEST(Shard, FourRanksOfBatchOneTakeEveryFourthExample) {  // the seed's layout: per-device batch 1 on 4 GPUs
  EXPECT_EQ(rank_batches(10, 1, 4, 2), (Batches{{2}, {6}, {0}}));
  EXPECT_EQ(rank_batches(10, 1, 4, 3), (Batches{{3}, {7}, {1}}));
}

TEST(Shard, OneProcessKeepsTheOrderAndItsShortLastBatch) {
  EXPECT_EQ(padded_order(iota(5), 2, 1), iota(5));
  EXPECT_EQ(rank_batches(5, 2, 1, 0), (Batches{{0, 1}, {2, 3}, {4}}));
}

TEST(Shard, RanksTogetherCoverTheOrderOnceBeforeThePadding) {
  const int64_t n = 37;
  const int bs = 2, world = 3;
  std::vector<int> seen(n, 0);
  for (int r = 0; r < world; ++r)
    for (int64_t s = 0; s < batches_per_rank(n, bs, world); ++s)
      for (int64_t j = 0; j < bs; ++j) {
        const int64_t pos = batch_begin(s, bs, world, r) + j;
        if (pos < n) ++seen[static_cast<size_t>(pos)];
      }
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << i;
  EXPECT_EQ(batches_per_rank(n, bs, world), 7);  // ceil(37 / 6)
  EXPECT_EQ(padded_order(iota(n), bs, world).size(), 42u);
}

TEST(Shard, GlobalBatchIndexInterleavesTheRanks) {
  EXPECT_EQ(global_batch_index(0, 4, 0), 0);
  EXPECT_EQ(global_batch_index(0, 4, 3), 3);
  EXPECT_EQ(global_batch_index(5, 4, 1), 21);
  EXPECT_EQ(global_batch_index(5, 1, 0), 5);
}

TEST(Shard, BadArgumentsAreErrors) {
  const std::vector<int64_t> empty;
  EXPECT_THROW(padded_order(empty, 1, 2), Error);
  EXPECT_THROW(padded_order(iota(4), 0, 2), Error);
  const std::vector<int64_t> padded = padded_order(iota(4), 2, 2);
  EXPECT_THROW(rank_batch(padded, 2, 2, 2, 0), Error);  // rank 2 of 2
  EXPECT_THROW(rank_batch(padded, 2, 2, 0, 1), Error);  // past the end
}

}  // namespace
}  // namespace tune
