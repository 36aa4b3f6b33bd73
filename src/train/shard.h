// Which examples each data-parallel rank sees, as accelerate's BatchSamplerShard deals them out for HF Trainer
// (split_batches=False, even_batches=True, drop_last=False): the epoch order is cut into batches of batch_size and
// rank r takes global batches r, r + world, r + 2·world, ...; when the batches do not fill the last round, the
// last batch is completed and further batches are added from the start of the order until every rank has a full
// batch in that round. The same rule shards evaluation (SequentialSampler order).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tune {

// The order with accelerate's padding: order, then order[i % min(N, world·batch_size)] for i = 0, 1, ... until
// its length is a multiple of world·batch_size. world 1: the order unchanged (accelerate does not wrap a
// single process's sampler, so its last batch may be short). An empty order, batch_size < 1 or world < 1 is a
// tune::Error.
std::vector<int64_t> padded_order(std::span<const int64_t> order, int batch_size, int world);

// Index of rank's micro-batch `step` in the global batch order: step·world + rank. Training seeds its dropout masks
// with it, so rank r's step s draws exactly what a single process draws for global batch s·world + r.
inline int64_t global_batch_index(int64_t step, int world, int rank) { return step * world + rank; }

// Position in `padded` of the first example of rank's micro-batch `step`: global_batch_index · batch_size.
inline int64_t batch_begin(int64_t step, int batch_size, int world, int rank) {
  return global_batch_index(step, world, rank) * batch_size;
}

// The examples of rank's micro-batch `step`: padded[batch_begin, batch_begin + batch_size), cut at the end (only
// world 1 has a short batch). A step past the end is a tune::Error.
std::span<const int64_t> rank_batch(std::span<const int64_t> padded, int batch_size, int world, int rank,
                                    int64_t step);

// Micro-batches per rank for an order of n examples: ceil(n / (world · batch_size)) (HF len(train_dataloader)).
int64_t batches_per_rank(int64_t n, int batch_size, int world);

}  // namespace tune
