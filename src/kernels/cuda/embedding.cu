// Token embedding lookup with Gemma's scale, fp32 multiply.
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

// grid (N), block 256: row n of out[N,H] from table row ids[n].
template <class T>
__global__ void embedding_kernel(T* out, const int32_t* ids, const T* table, int H, int V, float scale) {
  const int n = blockIdx.x;
  const int32_t id = ids[n];
  const bool valid = id >= 0 && id < V;
  T* o = out + int64_t(n) * H;
  const T* row = table + int64_t(valid ? id : 0) * H;
  for (int c = threadIdx.x; c < H; c += blockDim.x) o[c] = from_f32<T>(valid ? to_f32(row[c]) * scale : 0.0f);
}

}  // namespace

void embedding_forward(void* out, const int32_t* ids, const void* table, int N, int H, int V, float scale, DType t,
                       cudaStream_t stream) {
  if (N == 0) return;
  dispatch_storage(t, "embedding_forward", [&](auto tag) {
    using T = decltype(tag);
    embedding_kernel<<<N, 256, 0, stream>>>(static_cast<T*>(out), ids, static_cast<const T*>(table), H, V, scale);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
