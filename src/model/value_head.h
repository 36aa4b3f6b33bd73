// Reward-model value head (TRL ValueHead): Linear(H, 1) in fp32 on the final-normed hidden states.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tune {

struct ValueHead {
  Tensor weight;   // [1, H]  saved as v_head.summary.weight
  Tensor bias;     // [1]     saved as v_head.summary.bias
  Tensor dweight;  // [1, H]
  Tensor dbias;    // [1]
  void zero_grad();
};

// nn.Linear default init: weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
ValueHead init_value_head(int hidden_size, uint64_t seed);

}  // namespace tune
