#include "model/lora_linear.h"

#include "kernels/cpu/ops.h"

namespace tune {

namespace {

// The LoRA branch input: x itself, or dropout(x) written into `scratch`.
const float* lora_input(const float* x, int64_t n, float p, const std::vector<uint8_t>& keep,
                        std::vector<float>& scratch) {
  if (keep.empty()) return x;
  scratch.resize(static_cast<size_t>(n));
  cpu::dropout_apply(scratch.data(), x, keep.data(), n, p);
  return scratch.data();
}

}  // namespace

void lora_linear_forward(float* y, const float* x, const Tensor& W, const LoraModule* lora, int N, float dropout_p,
                         uint64_t dropout_seed, LoraLinearCache* cache) {
  const int out = static_cast<int>(W.dim(0)), in = static_cast<int>(W.dim(1));
  cpu::linear_forward(y, x, W.ptr(), N, in, out, 1.0f, /*accumulate=*/false);
  if (!lora) return;
  const int r = lora->r;
  const int64_t n_in = static_cast<int64_t>(N) * in;
  cache->keep.clear();
  if (dropout_p > 0.0f) {
    cache->keep.resize(static_cast<size_t>(n_in));
    cpu::dropout_mask(cache->keep.data(), n_in, dropout_p, dropout_seed, 0);
  }
  std::vector<float> scratch;
  const float* xd = lora_input(x, n_in, dropout_p, cache->keep, scratch);
  cache->u.resize(static_cast<size_t>(N) * r);
  cpu::linear_forward(cache->u.data(), xd, lora->A.ptr(), N, in, r, 1.0f, false);              // u [N, r]
  cpu::linear_forward(y, cache->u.data(), lora->B.ptr(), N, r, out, lora->scaling, true);      // y += s·u·Bᵀ
}

void lora_linear_backward(float* dx, const float* dy, const float* x, const Tensor& W, LoraModule* lora, int N,
                          float dropout_p, const LoraLinearCache& cache, std::vector<float>& scratch) {
  const int out = static_cast<int>(W.dim(0)), in = static_cast<int>(W.dim(1));
  if (dx) cpu::linear_backward_input(dx, dy, W.ptr(), N, in, out, 1.0f, /*accumulate=*/true);
  if (!lora) return;
  const int r = lora->r;
  const int64_t n_in = static_cast<int64_t>(N) * in;
  cpu::linear_backward_weight(lora->dB.ptr(), dy, cache.u.data(), N, r, out, lora->scaling);  // dB += s·dyᵀ·u
  std::vector<float> du(static_cast<size_t>(N) * r);                                          // [N, r]
  cpu::linear_backward_input(du.data(), dy, lora->B.ptr(), N, r, out, lora->scaling, false);  // du = s·dy·B
  const float* xd = lora_input(x, n_in, dropout_p, cache.keep, scratch);
  cpu::linear_backward_weight(lora->dA.ptr(), du.data(), xd, N, in, r, 1.0f);                 // dA += duᵀ·xd
  if (!dx) return;
  if (cache.keep.empty()) {
    cpu::linear_backward_input(dx, du.data(), lora->A.ptr(), N, in, r, 1.0f, true);           // dx += du·A
    return;
  }
  std::vector<float> dxd(static_cast<size_t>(n_in));                                           // [N, in]
  cpu::linear_backward_input(dxd.data(), du.data(), lora->A.ptr(), N, in, r, 1.0f, false);
  cpu::dropout_apply(dxd.data(), dxd.data(), cache.keep.data(), n_in, dropout_p);
  for (int64_t i = 0; i < n_in; ++i) dx[i] += dxd[i];
}

}  // namespace tune
