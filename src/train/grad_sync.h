// Gradient accumulation over micro-batches and data-parallel ranks, exact by design: each micro-batch's fp32
// gradient (LoRA + value head, in trainable_params order) is added to one flat double buffer; at the update boundary
// the buffers are summed over the ranks in rank order and rounded once to fp32 into the parameters' grads. A run on
// W ranks with accumulation GA therefore computes the same sums as one process with accumulation W·GA over the same
// micro-batches (a double sum of float terms is exact unless their magnitudes span more than ~2^29).
#pragma once
#include <vector>

#include "dist/communicator.h"
#include "train/params.h"

namespace tune {

class GradAccumulator {
 public:
  explicit GradAccumulator(std::vector<ParamRef> params);

  // After a micro-batch's backward: adds the params' grads to the accumulator and zeroes the grads.
  void add_micro_batch();

  // At the update boundary: grads = fp32(Σ over ranks of the accumulators); the accumulator restarts at zero.
  // Each micro-batch was already scaled by 1 / (GA · world), so the sum is DDP's mean over ranks.
  void reduce(dist::Communicator& comm);

  // Forgets what was accumulated (the leftover micro-batches at the end of training).
  void clear();

 private:
  std::vector<ParamRef> params_;
  std::vector<double> sum_;  // [Σ numel of params_], concatenated in params_ order
};

}  // namespace tune
