// Chunked LM head + cross-entropy: gather the chunk's hidden rows, logits = h E^T (cuBLAS, fp32 out), one block per
// row for log-sum-exp, loss and dlogits, dh_chunk = dlogits E (cuBLAS), scatter-add into dh.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/lm_head.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 256;
constexpr size_t kChunkLogitsBytes = size_t(256) << 20;

template <class B>
void ensure(B& buf, size_t n, const char* what) {
  if (buf.size() < n) buf = B(n, what);
}

// grid (R): hc[r,:] = h[rows[r],:].
template <class T>
__global__ void gather_rows_kernel(T* hc, const T* h, const int64_t* rows, int H) {
  const T* src = h + rows[blockIdx.x] * H;
  T* dst = hc + int64_t(blockIdx.x) * H;
  for (int c = threadIdx.x; c < H; c += blockDim.x) dst[c] = src[c];
}

// grid (R): losses[r] = lse(logits[r,:]) - logits[r, y]; when dl: dl[r,:] = grad_scale * (softmax - onehot(y)).
template <class T>
__global__ void cross_entropy_rows_kernel(float* losses, T* dl, const float* logits, const int32_t* targets, int V,
                                          float grad_scale) {
  const float* l = logits + int64_t(blockIdx.x) * V;
  const int y = targets[blockIdx.x];
  float mx = -INFINITY;
  for (int v = threadIdx.x; v < V; v += blockDim.x) mx = fmaxf(mx, l[v]);
  mx = block_max(mx);
  float sum = 0.0f;
  for (int v = threadIdx.x; v < V; v += blockDim.x) sum += expf(l[v] - mx);
  sum = block_sum(sum);
  const float lse = mx + logf(sum);
  if (threadIdx.x == 0) losses[blockIdx.x] = lse - l[y];
  if (!dl) return;
  T* d = dl + int64_t(blockIdx.x) * V;
  for (int v = threadIdx.x; v < V; v += blockDim.x)
    d[v] = from_f32<T>(grad_scale * (expf(l[v] - lse) - (v == y ? 1.0f : 0.0f)));
}

// grid (R): dh[rows[r],:] += dhc[r,:] (rows are distinct, so no two blocks touch one row).
template <class T>
__global__ void scatter_add_rows_kernel(T* dh, const float* dhc, const int64_t* rows, int H) {
  T* dst = dh + rows[blockIdx.x] * H;
  const float* src = dhc + int64_t(blockIdx.x) * H;
  for (int c = threadIdx.x; c < H; c += blockDim.x) dst[c] = from_f32<T>(to_f32(dst[c]) + src[c]);
}

}  // namespace

double lm_head_cross_entropy(Blas& blas, void* dh, const void* h, const void* E, const int32_t* labels, int B, int T,
                             int H, int V, float grad_scale, int64_t* n_valid, DType t, LmHeadWorkspace* ws,
                             int chunk_rows) {
  const size_t elem = storage_bytes(t, "lm_head_cross_entropy");
  std::vector<int64_t> rows;     // [n]
  std::vector<int32_t> targets;  // [n]
  for (int b = 0; b < B; ++b)
    for (int p = 0; p + 1 < T; ++p) {
      const int32_t y = labels[int64_t(b) * T + p + 1];
      if (y == -100) continue;
      TUNE_CHECK(y >= 0 && y < V, "cross-entropy: label ", y, " at row ", b, ", position ", p + 1,
                 " is outside the vocabulary [0, ", V, "); use -100 to ignore a position");
      rows.push_back(int64_t(b) * T + p);
      targets.push_back(y);
    }
  const int64_t n = static_cast<int64_t>(rows.size());
  if (n_valid) *n_valid = n;
  if (n == 0) return 0.0;

  LmHeadWorkspace local;
  LmHeadWorkspace& w = ws ? *ws : local;
  const int64_t R = std::min<int64_t>(
      n, chunk_rows > 0 ? chunk_rows : std::max<int64_t>(1, kChunkLogitsBytes / (size_t(V) * (4 + elem))));
  ensure(w.rows, size_t(n), "LM-head target rows");
  ensure(w.targets, size_t(n), "LM-head targets");
  ensure(w.losses, size_t(n), "LM-head losses");
  ensure(w.h, size_t(R) * H * elem, "LM-head chunk hidden rows");
  ensure(w.logits, size_t(R) * V, "LM-head chunk logits");
  if (dh) {
    ensure(w.dlogits, size_t(R) * V * elem, "LM-head chunk logit gradients");
    ensure(w.dh, size_t(R) * H, "LM-head chunk hidden gradients");
  }
  const cudaStream_t s = blas.stream();
  TUNE_CUDA_CHECK(cudaMemcpyAsync(w.rows.get(), rows.data(), n * sizeof(int64_t), cudaMemcpyHostToDevice, s));
  TUNE_CUDA_CHECK(cudaMemcpyAsync(w.targets.get(), targets.data(), n * sizeof(int32_t), cudaMemcpyHostToDevice, s));

  dispatch_storage(t, "lm_head_cross_entropy", [&](auto tag) {
    using Ty = decltype(tag);
    auto* hc = reinterpret_cast<Ty*>(w.h.get());
    auto* dl = dh ? reinterpret_cast<Ty*>(w.dlogits.get()) : nullptr;
    for (int64_t r0 = 0; r0 < n; r0 += R) {
      const int rc = static_cast<int>(std::min(R, n - r0));
      gather_rows_kernel<<<rc, kThreads, 0, s>>>(hc, static_cast<const Ty*>(h), w.rows.get() + r0, H);
      TUNE_CUDA_CHECK_LAUNCH();
      linear_forward(blas, w.logits.get(), DType::F32, hc, E, t, rc, H, V, 1.0f, false);  // [rc, V]
      cross_entropy_rows_kernel<<<rc, kThreads, 0, s>>>(w.losses.get() + r0, dl, w.logits.get(), w.targets.get() + r0,
                                                        V, grad_scale);
      TUNE_CUDA_CHECK_LAUNCH();
      if (!dh) continue;
      linear_backward_input(blas, w.dh.get(), DType::F32, dl, E, t, rc, H, V, 1.0f, false);  // [rc, H]
      scatter_add_rows_kernel<<<rc, kThreads, 0, s>>>(static_cast<Ty*>(dh), w.dh.get(), w.rows.get() + r0, H);
      TUNE_CUDA_CHECK_LAUNCH();
    }
  });
  std::vector<float> losses(static_cast<size_t>(n));
  TUNE_CUDA_CHECK(cudaMemcpyAsync(losses.data(), w.losses.get(), n * sizeof(float), cudaMemcpyDeviceToHost, s));
  TUNE_CUDA_CHECK(cudaStreamSynchronize(s));
  double total = 0.0;
  for (const float l : losses) total += double(l);
  return total;
}

}  // namespace tune::cuda
