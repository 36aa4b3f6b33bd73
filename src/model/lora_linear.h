// A frozen nn.Linear (dense or kept quantized) with an optional LoRA branch: y = x·Wᵀ + scaling · B(A(dropout(x))), forward and backward.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/frozen_linear.h"
#include "model/lora.h"

namespace tune {

// What backward needs from forward, per wrapped linear.
struct LoraLinearCache {
  std::vector<float> u;       // [N, r]  A(dropout(x))
  std::vector<uint8_t> keep;  // [N, in] dropout keep-mask; empty when dropout is off
};

// Working buffers of the LoRA branch, reused across calls and projections (grown on demand, never zero-filled).
struct LoraScratch {
  std::vector<float> xd;   // [N, in]  dropout(x), when dropout is on
  std::vector<float> bt;   // [r, out] Bᵀ
  std::vector<float> dbt;  // [r, out] gradient w.r.t. Bᵀ
  std::vector<float> du;   // [N, r]   gradient w.r.t. u
  std::vector<float> dxd;  // [N, in]  gradient w.r.t. dropout(x), when dropout is on
};

// y[N,out] = x[N,in]·Wᵀ (+ LoRA when lora != nullptr). dropout_p applies to the LoRA input only (training).
void lora_linear_forward(float* y, const float* x, const FrozenLinear& W, const LoraModule* lora, int N,
                         float dropout_p, uint64_t dropout_seed, LoraLinearCache* cache, LoraScratch& scratch);

// Given dy[N,out]: dx[N,in] (= or += when accumulate_dx) d/dx, skipped when dx == nullptr; lora->dA, lora->dB +=
// their gradients.
void lora_linear_backward(float* dx, bool accumulate_dx, const float* dy, const float* x, const FrozenLinear& W,
                          LoraModule* lora, int N, float dropout_p, const LoraLinearCache& cache,
                          LoraScratch& scratch);

}  // namespace tune
