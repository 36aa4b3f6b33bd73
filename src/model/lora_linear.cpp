// Forward and backward of a frozen linear with its LoRA branch (see lora_linear.h).
#include "model/lora_linear.h"

#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune {

namespace {

// The LoRA branch input: x itself, or dropout(x) written into `xd`.
const float* lora_input(const float* x, int64_t n, float p, const std::vector<uint8_t>& keep, std::vector<float>& xd) {
  if (keep.empty()) return x;
  xd.resize(static_cast<size_t>(n));
  cpu::dropout_apply(xd.data(), x, keep.data(), n, p);
  return xd.data();
}

// dst[cols, rows] = src[rows, cols]ᵀ
void transpose(std::vector<float>& dst, const float* src, int rows, int cols) {
  dst.resize(static_cast<size_t>(rows) * cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) dst[static_cast<size_t>(j) * rows + i] = src[static_cast<int64_t>(i) * cols + j];
}

}  // namespace

void lora_linear_forward(float* y, const float* x, const FrozenLinear& W, const LoraModule* lora, int N,
                         float dropout_p, uint64_t dropout_seed, LoraLinearCache* cache, LoraScratch& scratch) {
  const int out = static_cast<int>(W.out()), in = static_cast<int>(W.in());
  frozen_linear_forward(y, x, W, N);
  if (!lora) return;
  const int r = lora->r;
  const int64_t n_in = static_cast<int64_t>(N) * in;
  if (dropout_p > 0.0f) {
    cache->keep.resize(static_cast<size_t>(n_in));
    cpu::dropout_mask(cache->keep.data(), n_in, dropout_p, dropout_seed, 0);
  } else {
    cache->keep.clear();
  }
  const float* xd = lora_input(x, n_in, dropout_p, cache->keep, scratch.xd);
  cache->u.resize(static_cast<size_t>(N) * r);
  cpu::lowrank_down(cache->u.data(), xd, lora->A.ptr(), N, in, r, 1.0f);                 // u = xd·Aᵀ
  cpu::linear_forward(y, cache->u.data(), lora->B.ptr(), N, r, out, lora->scaling, true);  // y += s·u·Bᵀ
}

void lora_linear_backward(float* dx, bool accumulate_dx, const float* dy, const float* x, const FrozenLinear& W,
                          LoraModule* lora, int N, float dropout_p, const LoraLinearCache& cache,
                          LoraScratch& scratch) {
  const int out = static_cast<int>(W.out()), in = static_cast<int>(W.in());
  if (dx) frozen_linear_backward_input(dx, dy, W, N, accumulate_dx);
  if (!lora) return;
  const int r = lora->r;
  const int64_t n_in = static_cast<int64_t>(N) * in;
  // dB [out, r] += s·dyᵀ·u, formed as its transpose s·uᵀ·dy by the low-rank kernel.
  scratch.dbt.assign(static_cast<size_t>(r) * out, 0.0f);
  cpu::lowrank_outer_add(scratch.dbt.data(), cache.u.data(), dy, N, r, out, lora->scaling);
  float* dB = lora->dB.ptr();
  for (int j = 0; j < r; ++j)
    for (int o = 0; o < out; ++o) dB[static_cast<int64_t>(o) * r + j] += scratch.dbt[static_cast<size_t>(j) * out + o];
  transpose(scratch.bt, lora->B.ptr(), out, r);
  scratch.du.resize(static_cast<size_t>(N) * r);
  float* du = scratch.du.data();
  cpu::lowrank_down(du, dy, scratch.bt.data(), N, out, r, lora->scaling);  // du = s·dy·B
  const float* xd = lora_input(x, n_in, dropout_p, cache.keep, scratch.xd);
  cpu::lowrank_outer_add(lora->dA.ptr(), du, xd, N, r, in, 1.0f);          // dA += duᵀ·xd
  if (!dx) return;
  if (cache.keep.empty()) {
    cpu::linear_backward_input(dx, du, lora->A.ptr(), N, in, r, 1.0f, true);  // dx += du·A
    return;
  }
  scratch.dxd.resize(static_cast<size_t>(n_in));
  float* dxd = scratch.dxd.data();
  cpu::linear_backward_input(dxd, du, lora->A.ptr(), N, in, r, 1.0f, false);
  cpu::dropout_apply(dxd, dxd, cache.keep.data(), n_in, dropout_p);
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n_in))
  for (int64_t i = 0; i < n_in; ++i) dx[i] += dxd[i];
}

}  // namespace tune
