// The double gradient accumulator and its all-reduce (see grad_sync.h).
#include "train/grad_sync.h"

#include <algorithm>

namespace tune {

GradAccumulator::GradAccumulator(std::vector<ParamRef> params)
    : params_(std::move(params)), sum_(static_cast<size_t>(num_elements(params_)), 0.0) {}

void GradAccumulator::add_micro_batch() {
  double* acc = sum_.data();
  for (const ParamRef& p : params_) {
    float* g = p.grad->ptr();
    const int64_t n = p.grad->numel();
    for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(g[i]);
    std::fill(g, g + n, 0.0f);
    acc += n;
  }
}

void GradAccumulator::reduce(dist::Communicator& comm) {
  comm.all_reduce(std::span<double>(sum_), dist::ReduceOp::Sum);
  const double* acc = sum_.data();
  for (const ParamRef& p : params_) {
    float* g = p.grad->ptr();
    const int64_t n = p.grad->numel();
    for (int64_t i = 0; i < n; ++i) g[i] = static_cast<float>(acc[i]);
    acc += n;
  }
  clear();
}

void GradAccumulator::clear() { std::fill(sum_.begin(), sum_.end(), 0.0); }

}  // namespace tune
