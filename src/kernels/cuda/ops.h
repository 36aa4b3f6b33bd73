// The CUDA op set, mirroring kernels/cpu/ops.h (same names, shapes and "=" / "+=" meaning; the scalar twins in
// kernels/reference/ are the oracle). Buffers marked (t) are stored in the op's DType t: F32, BF16 or F16; math is
// fp32 inside every kernel. Every pointer is device memory unless it says host. Launches go on `stream` and return
// without waiting; a bad launch is a tune::Error. Matmuls and the LM head live in gemm.h and lm_head.h.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/dtype.h"
#include "model/model_config.h"

namespace tune::cuda {

// ---- element-wise ----
// dst[n] (dst_t) = src[n] (src_t), rounded to nearest even (e.g. fp32 LoRA master weights -> bf16 compute copies)
void convert(void* dst, DType dst_t, const void* src, DType src_t, int64_t n, cudaStream_t stream = 0);
// y[n] (t) += x[n] (t), added in fp32 (the residual stream)
void add_inplace(void* y, const void* x, int64_t n, DType t, cudaStream_t stream = 0);

// ---- embedding ----
// out[N,H] (t) = table[ids[n], :] (t) * scale, multiplied in fp32. ids[N] int32 must lie in [0, V): the caller
// checks them on the host (an id outside gives a zero row here rather than a fault).
void embedding_forward(void* out, const int32_t* ids, const void* table, int N, int H, int V, float scale, DType t,
                       cudaStream_t stream = 0);

// ---- Gemma RMSNorm: y = x * rstd * (1 + w), rstd = 1/sqrt(mean(x^2) + eps), all in fp32 ----
// y[N,C] (t) =, rstd[N] fp32 = (saved for backward); x[N,C] (t), w[C] (t)
void rmsnorm_forward(void* y, float* rstd, const void* x, const void* w, int N, int C, float eps, DType t,
                     cudaStream_t stream = 0);
// dx[N,C] (t) += d/dx given dy[N,C] (t) (the norm weight is frozen: no weight gradient)
void rmsnorm_backward(void* dx, const void* dy, const void* x, const void* w, const float* rstd, int N, int C, DType t,
                      cudaStream_t stream = 0);

// ---- RoPE, HF rotate_half convention: dim i pairs with i + D/2 ----
// x[B,T,nh,D] (t) rotated in place by row t's angles; cos/sin fp32 [T, D/2] from cpu::rope_tables, uploaded.
void rope_forward(void* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, DType t,
                  cudaStream_t stream = 0);
// dx[B,T,nh,D] (t) rotated in place by the inverse rotation.
void rope_backward(void* dx, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, DType t,
                   cudaStream_t stream = 0);

// ---- attention: causal + key-padding mask, GQA (query head h uses kv head h / (Nq/Nkv)) ----
// q[B,T,Nq,D], k/v[B,T,Nkv,D] (t), mask[B,T] uint8 (1 = real token). out[B,T,Nq,D] (t) =, probs[B,Nq,T,T] (t) =
// (saved). Allowed(i, j) = j <= i && mask[b, j]; a query row with no allowed key gets zero output and zero probs.
// T is limited to what one block's shared memory holds (about 12k); longer is a tune::Error.
void attention_forward(void* out, void* probs, const void* q, const void* k, const void* v, const uint8_t* mask, int B,
                       int T, int Nq, int Nkv, int D, float scale, DType t, cudaStream_t stream = 0);
// dq[B,T,Nq,D] (t) =, dk/dv[B,T,Nkv,D] (t) = given dout[B,T,Nq,D] (t) and the saved probs (t).
// rowdot[B,Nq,T] fp32: scratch (sum_j p_ij dp_ij per query row). No atomics: the result is deterministic.
void attention_backward(void* dq, void* dk, void* dv, const void* dout, const void* probs, const void* q, const void* k,
                        const void* v, float* rowdot, int B, int T, int Nq, int Nkv, int D, float scale, DType t,
                        cudaStream_t stream = 0);

// ---- GeGLU: h = act(gate) * up (act: tanh or erf GELU) ----
// h[n] (t) =; gate, up [n] (t)
void geglu_forward(void* h, const void* gate, const void* up, int64_t n, Activation act, DType t,
                   cudaStream_t stream = 0);
// dgate[n] (t) =, dup[n] (t) = given dh[n] (t)
void geglu_backward(void* dgate, void* dup, const void* dh, const void* gate, const void* up, int64_t n, Activation act,
                    DType t, cudaStream_t stream = 0);

// ---- value head (TRL ValueHead Linear(H, 1)) with fp32 master weight and bias ----
// values[N] fp32 = x[N,H] (t) . w[H] fp32 + b[1] fp32
void value_head_forward(float* values, const void* x, const float* w, const float* b, int N, int H, DType t,
                        cudaStream_t stream = 0);
// dw[H] fp32 += sum_n dvalues[n] x[n,:]; db[1] fp32 += sum_n dvalues[n]; dx[N,H] (t) = dvalues[n] * w (fp32 math).
void value_head_backward(void* dx, float* dw, float* db, const float* dvalues, const void* x, const float* w, int N,
                         int H, DType t, cudaStream_t stream = 0);

}  // namespace tune::cuda
