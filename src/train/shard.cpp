// accelerate's even-batches sharding of an example order over ranks (see shard.h).
#include "train/shard.h"

#include <algorithm>

#include "core/error.h"

namespace tune {

std::vector<int64_t> padded_order(std::span<const int64_t> order, int batch_size, int world) {
  TUNE_CHECK(!order.empty(), "nothing to shard: the example order is empty");
  TUNE_CHECK(batch_size >= 1 && world >= 1, "sharding needs batch size >= 1 and world size >= 1, got ", batch_size,
             " and ", world);
  std::vector<int64_t> padded(order.begin(), order.end());
  if (world == 1) return padded;
  const int64_t round = static_cast<int64_t>(world) * batch_size;
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t total = (n + round - 1) / round * round;
  // accelerate refills from the first `world` batches' examples (repeated when there are fewer than a round).
  const int64_t first = std::min(n, round);
  for (int64_t i = 0; n + i < total; ++i) padded.push_back(order[static_cast<size_t>(i % first)]);
  return padded;
}

std::span<const int64_t> rank_batch(std::span<const int64_t> padded, int batch_size, int world, int rank,
                                    int64_t step) {
  TUNE_CHECK(rank >= 0 && rank < world, "rank ", rank, " is not below the world size ", world);
  const int64_t begin = batch_begin(step, batch_size, world, rank);
  const int64_t n = static_cast<int64_t>(padded.size());
  TUNE_CHECK(step >= 0 && begin < n, "micro-batch ", step, " of rank ", rank, " is past the end of the epoch (",
             n, " examples, batch ", batch_size, ", ", world, " ranks)");
  return padded.subspan(static_cast<size_t>(begin), static_cast<size_t>(std::min<int64_t>(batch_size, n - begin)));
}

int64_t batches_per_rank(int64_t n, int batch_size, int world) {
  const int64_t round = static_cast<int64_t>(world) * batch_size;
  return (n + round - 1) / round;
}

}  // namespace tune
