// Value head Linear(H, 1) with fp32 master weight and bias: forward, and backward into dx, dw, db.
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 256;

// grid (N): values[n] = x[n,:] . w + b.
template <class T>
__global__ void value_head_forward_kernel(float* values, const T* x, const float* w, const float* b, int H) {
  const T* xr = x + int64_t(blockIdx.x) * H;
  float acc = 0.0f;
  for (int c = threadIdx.x; c < H; c += blockDim.x) acc += to_f32(xr[c]) * w[c];
  acc = block_sum(acc);
  if (threadIdx.x == 0) values[blockIdx.x] = acc + b[0];
}

// grid (ceil(H / 256)): dw[c] += sum_n dvalues[n] x[n,c], each column summed in row order by one thread.
template <class T>
__global__ void value_head_dw_kernel(float* dw, const float* dvalues, const T* x, int N, int H) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= H) return;
  float acc = 0.0f;
  for (int n = 0; n < N; ++n) acc += dvalues[n] * to_f32(x[int64_t(n) * H + c]);
  dw[c] += acc;
}

// one block: db[0] += sum_n dvalues[n].
__global__ void value_head_db_kernel(float* db, const float* dvalues, int N) {
  float acc = 0.0f;
  for (int n = threadIdx.x; n < N; n += blockDim.x) acc += dvalues[n];
  acc = block_sum(acc);
  if (threadIdx.x == 0) db[0] += acc;
}

// grid (N): dx[n,:] = dvalues[n] * w.
template <class T>
__global__ void value_head_dx_kernel(T* dx, const float* dvalues, const float* w, int H) {
  const float dv = dvalues[blockIdx.x];
  T* o = dx + int64_t(blockIdx.x) * H;
  for (int c = threadIdx.x; c < H; c += blockDim.x) o[c] = from_f32<T>(dv * w[c]);
}

}  // namespace

void value_head_forward(float* values, const void* x, const float* w, const float* b, int N, int H, DType t,
                        cudaStream_t stream) {
  if (N == 0) return;
  dispatch_storage(t, "value_head_forward", [&](auto tag) {
    using T = decltype(tag);
    value_head_forward_kernel<<<N, kThreads, 0, stream>>>(values, static_cast<const T*>(x), w, b, H);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

void value_head_backward(void* dx, float* dw, float* db, const float* dvalues, const void* x, const float* w, int N,
                         int H, DType t, cudaStream_t stream) {
  if (N == 0) return;
  dispatch_storage(t, "value_head_backward", [&](auto tag) {
    using T = decltype(tag);
    value_head_dw_kernel<<<blocks_for(H, kThreads), kThreads, 0, stream>>>(dw, dvalues, static_cast<const T*>(x), N, H);
    value_head_db_kernel<<<1, kThreads, 0, stream>>>(db, dvalues, N);
    value_head_dx_kernel<<<N, kThreads, 0, stream>>>(static_cast<T*>(dx), dvalues, w, H);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
