// nn.Linear matmuls on cuBLAS (W is [out, in], row-major), fp32 accumulation for every storage type. Inputs share one
// storage type t (F32, BF16 or F16); the output is stored in t or in F32 (e.g. fp32 LoRA gradients, fp32 logits).
// fp32 inputs use true fp32 arithmetic (no TF32), so the fp32 path matches the CPU reference to ~1e-6.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/dtype.h"

namespace tune::cuda {

// One cuBLAS handle bound to a stream. Not copyable; create one per stream and keep it (creation is slow).
class Blas {
 public:
  explicit Blas(cudaStream_t stream = 0);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;
  cublasHandle_t handle() const { return handle_; }
  cudaStream_t stream() const { return stream_; }

 private:
  cublasHandle_t handle_ = nullptr;
  cudaStream_t stream_ = 0;
};

// y[N,out] (yt) (= or +=) alpha * x[N,in] (t) . W[out,in]^T (t)
void linear_forward(Blas& blas, void* y, DType yt, const void* x, const void* w, DType t, int N, int in, int out,
                    float alpha, bool accumulate);
// dx[N,in] (dxt) (= or +=) alpha * dy[N,out] (t) . W[out,in] (t)
void linear_backward_input(Blas& blas, void* dx, DType dxt, const void* dy, const void* w, DType t, int N, int in,
                           int out, float alpha, bool accumulate);
// dW[out,in] (dwt) += alpha * dy[N,out]^T (t) . x[N,in] (t)
void linear_backward_weight(Blas& blas, void* dw, DType dwt, const void* dy, const void* x, DType t, int N, int in,
                            int out, float alpha);

}  // namespace tune::cuda
