// Merging LoRA into base weights as PEFT's merge_and_unload does: W <- W + scaling * (B . A), per wrapped linear.
#pragma once
#include "core/dtype.h"
#include "model/lora.h"
#include "model/weights.h"

namespace tune {

// Merges every module of `adapter` into `weights` (shapes must match; tune::Error otherwise). The weights are held
// in fp32 but stand for a checkpoint stored as `stored` (F32, BF16 or F16): each merged weight is rounded to that
// type, as PEFT rounds when it adds the delta into a bf16/fp16 base weight (rule in merge.cpp). Returns how many
// finite weights overflowed to +-inf in that rounding (beyond 65504 for F16), as they do in PEFT; 0 when none.
// Kept-quantized projections must be dequantized first (dequantize_linears); a targeted one is an error.
int64_t merge_lora(ModelWeights& weights, const LoraAdapter& adapter, DType stored = DType::F32);

}  // namespace tune
