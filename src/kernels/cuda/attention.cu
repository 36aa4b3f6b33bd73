// Causal + key-padding masked GQA attention, forward and backward: one block per (query row | key row, head, batch),
// scores of the row in shared memory, probs saved like the CPU path. Correct first; a flash-style kernel comes later.
#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 128;  // 4 warps
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ int64_t row_off(int b, int t, int head, int Tn, int heads, int D) {
  return ((int64_t(b) * Tn + t) * heads + head) * D;
}

// grid (T, Nq, B). Shared: s[T] scores then probs of query row i, qs[D].
template <class T>
__global__ void attention_forward_kernel(T* out, T* probs, const T* q, const T* k, const T* v, const uint8_t* mask,
                                         int Tn, int Nq, int Nkv, int D, float scale) {
  extern __shared__ float smem[];
  float* s = smem;
  float* qs = smem + Tn;
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, g = h / (Nq / Nkv);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const T* qi = q + row_off(b, i, h, Tn, Nq, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = to_f32(qi[d]);
  __syncthreads();
  float mx = -INFINITY;
  for (int j = warp; j <= i; j += kWarps) {  // a warp per key: lanes read the key row coalesced
    const bool allowed = mask[int64_t(b) * Tn + j] != 0;
    float dot = 0.0f;
    if (allowed) {
      const T* kj = k + row_off(b, j, g, Tn, Nkv, D);
      for (int d = lane; d < D; d += 32) dot += qs[d] * to_f32(kj[d]);
      dot = warp_sum(dot);
    }
    if (lane == 0) {
      s[j] = allowed ? dot * scale : -INFINITY;
      if (allowed) mx = fmaxf(mx, s[j]);
    }
  }
  mx = block_max(mx);  // its barriers also publish s[]
  float sum = 0.0f;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    const float e = s[j] == -INFINITY ? 0.0f : expf(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  sum = block_sum(sum);
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;  // no allowed key: all-zero probs and output
  T* p = probs + ((int64_t(b) * Nq + h) * Tn + i) * Tn;
  for (int j = threadIdx.x; j < Tn; j += blockDim.x) {
    const float pj = j <= i ? s[j] * inv : 0.0f;
    if (j <= i) s[j] = pj;
    p[j] = from_f32<T>(pj);
  }
  __syncthreads();
  T* oi = out + row_off(b, i, h, Tn, Nq, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j <= i; ++j) acc += s[j] * to_f32(v[row_off(b, j, g, Tn, Nkv, D) + d]);
    oi[d] = from_f32<T>(acc);
  }
}

// grid (T, Nq, B), query row i: dp_j = dout_i . v_j, rowdot = sum_j p_ij dp_j, ds_j = p_ij (dp_j - rowdot),
// dq_i = scale sum_j ds_j k_j. Shared: ds[T], dos[D].
template <class T>
__global__ void attention_backward_q_kernel(T* dq, float* rowdot, const T* dout, const T* probs, const T* k, const T* v,
                                            int Tn, int Nq, int Nkv, int D, float scale) {
  extern __shared__ float smem[];
  float* ds = smem;
  float* dos = smem + Tn;
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, g = h / (Nq / Nkv);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const T* doi = dout + row_off(b, i, h, Tn, Nq, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) dos[d] = to_f32(doi[d]);
  __syncthreads();
  for (int j = warp; j <= i; j += kWarps) {
    const T* vj = v + row_off(b, j, g, Tn, Nkv, D);
    float dot = 0.0f;
    for (int d = lane; d < D; d += 32) dot += dos[d] * to_f32(vj[d]);
    dot = warp_sum(dot);
    if (lane == 0) ds[j] = dot;
  }
  __syncthreads();
  const T* p = probs + ((int64_t(b) * Nq + h) * Tn + i) * Tn;
  float rd = 0.0f;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) rd += to_f32(p[j]) * ds[j];
  rd = block_sum(rd);
  for (int j = threadIdx.x; j <= i; j += blockDim.x) ds[j] = to_f32(p[j]) * (ds[j] - rd);
  if (threadIdx.x == 0) rowdot[(int64_t(b) * Nq + h) * Tn + i] = rd;
  __syncthreads();
  T* dqi = dq + row_off(b, i, h, Tn, Nq, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j <= i; ++j) acc += ds[j] * to_f32(k[row_off(b, j, g, Tn, Nkv, D) + d]);
    dqi[d] = from_f32<T>(scale * acc);
  }
}

// grid (T, Nkv, B), key row j of kv head g, summed over the group's query heads h and the rows i >= j:
// dv_j = sum p_ij dout_i; dk_j = scale sum ds_ij q_i, ds_ij = p_ij (dout_i . v_j - rowdot_i).
// Shared: ds[T], pv[T], vs[D], dk_acc[D], dv_acc[D].
template <class T>
__global__ void attention_backward_kv_kernel(T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* v,
                                             const float* rowdot, int Tn, int Nq, int Nkv, int D, float scale) {
  extern __shared__ float smem[];
  float* ds = smem;
  float* pv = ds + Tn;
  float* vs = pv + Tn;
  float* dk_acc = vs + D;
  float* dv_acc = dk_acc + D;
  const int j = blockIdx.x, g = blockIdx.y, b = blockIdx.z, group = Nq / Nkv;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const T* vj = v + row_off(b, j, g, Tn, Nkv, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    vs[d] = to_f32(vj[d]);
    dk_acc[d] = 0.0f;
    dv_acc[d] = 0.0f;
  }
  __syncthreads();
  for (int h = g * group; h < (g + 1) * group; ++h) {
    for (int i = j + warp; i < Tn; i += kWarps) {
      const T* doi = dout + row_off(b, i, h, Tn, Nq, D);
      float dot = 0.0f;
      for (int d = lane; d < D; d += 32) dot += to_f32(doi[d]) * vs[d];
      dot = warp_sum(dot);
      if (lane == 0) {
        const int64_t row = (int64_t(b) * Nq + h) * Tn + i;
        const float pij = to_f32(probs[row * Tn + j]);
        pv[i] = pij;
        ds[i] = pij * (dot - rowdot[row]);
      }
    }
    __syncthreads();
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float acc_v = 0.0f, acc_k = 0.0f;
      for (int i = j; i < Tn; ++i) {
        acc_v += pv[i] * to_f32(dout[row_off(b, i, h, Tn, Nq, D) + d]);
        acc_k += ds[i] * to_f32(q[row_off(b, i, h, Tn, Nq, D) + d]);
      }
      dv_acc[d] += acc_v;
      dk_acc[d] += scale * acc_k;
    }
    __syncthreads();
  }
  T* dkj = dk + row_off(b, j, g, Tn, Nkv, D);
  T* dvj = dv + row_off(b, j, g, Tn, Nkv, D);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    dkj[d] = from_f32<T>(dk_acc[d]);
    dvj[d] = from_f32<T>(dv_acc[d]);
  }
}

// Shape checks shared by forward and backward, and the dynamic shared memory a kernel may take (raised past the
// 48 KB default when the device allows; a row too long for the device is a tune::Error).
template <class Kernel>
void prepare(Kernel kernel, size_t smem_bytes, int T, int Nq, int Nkv, int D, const char* op) {
  TUNE_CHECK(Nkv > 0 && Nq % Nkv == 0, op, ": num_attention_heads ", Nq, " is not a multiple of num_key_value_heads ",
             Nkv);
  TUNE_CHECK(D > 0, op, ": head_dim must be > 0, got ", D);
  int dev = 0, optin = 0;
  TUNE_CUDA_CHECK(cudaGetDevice(&dev));
  TUNE_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  TUNE_CHECK(smem_bytes <= size_t(optin), op, ": sequence length ", T, " needs ", smem_bytes,
             " bytes of shared memory per block, more than this GPU's ", optin, "; lower cutoff_len");
  if (smem_bytes > 48 * 1024)
    TUNE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem_bytes)));
}

}  // namespace

void attention_forward(void* out, void* probs, const void* q, const void* k, const void* v, const uint8_t* mask, int B,
                       int T, int Nq, int Nkv, int D, float scale, DType t, cudaStream_t stream) {
  if (B == 0 || T == 0) return;
  dispatch_storage(t, "attention_forward", [&](auto tag) {
    using Ty = decltype(tag);
    const size_t smem = sizeof(float) * (size_t(T) + D);
    prepare(attention_forward_kernel<Ty>, smem, T, Nq, Nkv, D, "attention_forward");
    attention_forward_kernel<<<dim3(T, Nq, B), kThreads, smem, stream>>>(
        static_cast<Ty*>(out), static_cast<Ty*>(probs), static_cast<const Ty*>(q), static_cast<const Ty*>(k),
        static_cast<const Ty*>(v), mask, T, Nq, Nkv, D, scale);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

void attention_backward(void* dq, void* dk, void* dv, const void* dout, const void* probs, const void* q, const void* k,
                        const void* v, float* rowdot, int B, int T, int Nq, int Nkv, int D, float scale, DType t,
                        cudaStream_t stream) {
  if (B == 0 || T == 0) return;
  dispatch_storage(t, "attention_backward", [&](auto tag) {
    using Ty = decltype(tag);
    const size_t smem_q = sizeof(float) * (size_t(T) + D);
    prepare(attention_backward_q_kernel<Ty>, smem_q, T, Nq, Nkv, D, "attention_backward");
    attention_backward_q_kernel<<<dim3(T, Nq, B), kThreads, smem_q, stream>>>(
        static_cast<Ty*>(dq), rowdot, static_cast<const Ty*>(dout), static_cast<const Ty*>(probs),
        static_cast<const Ty*>(k), static_cast<const Ty*>(v), T, Nq, Nkv, D, scale);
    TUNE_CUDA_CHECK_LAUNCH();
    const size_t smem_kv = sizeof(float) * (2 * size_t(T) + 3 * size_t(D));
    prepare(attention_backward_kv_kernel<Ty>, smem_kv, T, Nq, Nkv, D, "attention_backward");
    attention_backward_kv_kernel<<<dim3(T, Nkv, B), kThreads, smem_kv, stream>>>(
        static_cast<Ty*>(dk), static_cast<Ty*>(dv), static_cast<const Ty*>(dout), static_cast<const Ty*>(probs),
        static_cast<const Ty*>(q), static_cast<const Ty*>(v), rowdot, T, Nq, Nkv, D, scale);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
