// Checked CUDA / cuBLAS calls: a failure throws tune::Error naming the call, file:line, the library's error string and
// what to do about it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace tune::cuda {

[[noreturn]] void fail_cuda(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void fail_cublas(cublasStatus_t status, const char* call, const char* file, int line);

}  // namespace tune::cuda

// Throws tune::Error when the CUDA runtime call does not return cudaSuccess.
#define TUNE_CUDA_CHECK(call)                                                                    \
  do {                                                                                           \
    const cudaError_t tune_err_ = (call);                                                        \
    if (tune_err_ != cudaSuccess) ::tune::cuda::fail_cuda(tune_err_, #call, __FILE__, __LINE__); \
  } while (0)

// Throws tune::Error when the cuBLAS call does not return CUBLAS_STATUS_SUCCESS.
#define TUNE_CUBLAS_CHECK(call)                                                                            \
  do {                                                                                                     \
    const cublasStatus_t tune_st_ = (call);                                                                \
    if (tune_st_ != CUBLAS_STATUS_SUCCESS) ::tune::cuda::fail_cublas(tune_st_, #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: a bad launch configuration (or an earlier asynchronous fault) becomes a tune::Error.
#define TUNE_CUDA_CHECK_LAUNCH() TUNE_CUDA_CHECK(cudaGetLastError())
