// Frozen base weights of a Gemma decoder, held in fp32 on the host. nn.Linear layout: W is [out, in].
#pragma once
#include <vector>

#include "core/tensor.h"
#include "model/model_config.h"

namespace tune {

struct LayerWeights {
  Tensor input_norm;      // [H]  RMSNorm offsets (scale = 1 + w)
  Tensor q, k, v, o;      // q [Nq*D, H], k/v [Nkv*D, H], o [H, Nq*D]
  Tensor post_attn_norm;  // [H]  pre-MLP norm in Gemma-1
  Tensor gate, up, down;  // gate/up [I, H], down [H, I]
};

struct ModelWeights {
  Tensor embed;  // [V, H]  also the tied LM head
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [H]
};

}  // namespace tune
