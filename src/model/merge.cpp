// PEFT 0.21.2's merge, found empirically (torch 2.15, CPU) and reproduced bit for bit:
//   PeftModel.from_pretrained keeps the LoRA weights in fp32 even on a bf16/fp16 base (autocast_adapter_dtype=True),
//   so get_delta_weight computes delta = fp32(fp32(B @ A) * scaling) and `base.weight.data += delta` adds in fp32 and
//   rounds once to the base dtype (round to nearest even): W' = half(float(W) + delta).
//   Rounding the delta to the base dtype first (what PEFT does with autocast_adapter_dtype=False, and what PEFT 0.8
//   did) differs in ~30% of the elements of a random bf16 weight.
// B @ A itself: torch 2.15's CPU sgemm (MKL) accumulates each element over k = 0..r-1 with fused multiply-adds in
// fp32, which the loop below does too (checked bit for bit up to r 256 and 2048 x 2048 weights, 1 and 4 threads).
// Chained adapters (LLaMA-Factory merges them one after the other) round after each adapter.
#include "model/merge.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace tune {
namespace {

// x rounded to the nearest value of `stored` (identity for F32).
float round_to(DType stored, float x) {
  switch (stored) {
    case DType::F32: return x;
    case DType::BF16: return bf16_to_f32(f32_to_bf16(x));
    case DType::F16: return f16_to_f32(f32_to_f16(x));
    default: fail("merge_lora: weights stored as ", dtype_name(stored), " cannot be merged; use F32, BF16 or F16");
  }
}

// Returns how many finite weights became infinite (the merged value is beyond the stored type's range).
int64_t merge_module(Tensor& W, const LoraModule& m, DType stored) {
  const int64_t out = W.dim(0), in = W.dim(1), r = m.r;  // W [out, in], A [r, in], B [out, r]
  int64_t overflowed = 0;
#pragma omp parallel reduction(+ : overflowed)
  {
    std::vector<float> row(static_cast<size_t>(in));
    float* dot = row.data();  // (B @ A)[o, :]
#pragma omp for schedule(static)
    for (int64_t o = 0; o < out; ++o) {
      std::fill(row.begin(), row.end(), 0.0f);
      for (int64_t k = 0; k < r; ++k) {
        const float b = m.B.data[static_cast<size_t>(o * r + k)];
        const float* a_row = m.A.ptr() + k * in;
        for (int64_t i = 0; i < in; ++i) dot[i] = std::fma(b, a_row[i], dot[i]);
      }
      // Two roundings, as torch: the scaled delta, then the sum. Separate loops through memory, so the compiler
      // cannot contract `w + dot * s` into one fused multiply-add (GCC does by default, even with -std=c++20).
      for (int64_t i = 0; i < in; ++i) dot[i] *= m.scaling;
      float* w_row = W.ptr() + o * in;
      for (int64_t i = 0; i < in; ++i) {
        const float merged = round_to(stored, w_row[i] + dot[i]);
        overflowed += std::isfinite(w_row[i]) && std::isinf(merged);
        w_row[i] = merged;
      }
    }
  }
  return overflowed;
}

}  // namespace

int64_t merge_lora(ModelWeights& weights, const LoraAdapter& adapter, DType stored) {
  round_to(stored, 0.0f);  // rejects an unsupported storage type before any weight changes
  TUNE_CHECK(adapter.layers.size() == weights.layers.size(), "adapter has ", adapter.layers.size(),
             " layers but the model has ", weights.layers.size());
  int64_t overflowed = 0;
  for (size_t l = 0; l < adapter.layers.size(); ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const auto& m = adapter.layers[l][p];
      if (!m) continue;
      FrozenLinear& linear = projection(weights.layers[l], static_cast<Proj>(p));
      TUNE_CHECK(!linear.quantized(), "merge_lora: the base weight of ",
                 adapter.module_name(static_cast<int>(l), static_cast<Proj>(p)),
                 " is kept quantized; dequantize the model's projections before merging");
      Tensor& W = linear.dense;  // [out, in]
      TUNE_CHECK(m->B.dim(0) == W.dim(0) && m->A.dim(1) == W.dim(1), "LoRA module ",
                 adapter.module_name(static_cast<int>(l), static_cast<Proj>(p)), " does not fit its base weight ",
                 shape_str(W.shape));
      overflowed += merge_module(W, *m, stored);
    }
  return overflowed;
}

}  // namespace tune
