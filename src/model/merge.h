// Merging LoRA into base weights as PEFT's merge_and_unload does: W <- W + scaling * (B . A), per wrapped linear.
#pragma once
#include "model/lora.h"
#include "model/weights.h"

namespace tune {

// fp32 merge of every module of `adapter` into `weights` (shapes must match; tune::Error otherwise).
void merge_lora(ModelWeights& weights, const LoraAdapter& adapter);

// The base weight a projection's LoRA module wraps.
Tensor& projection_weight(LayerWeights& layer, Proj p);

}  // namespace tune
