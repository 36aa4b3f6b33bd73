// The messages of TUNE_CUDA_CHECK / TUNE_CUBLAS_CHECK: what failed, where, and what the user can do.
#include "kernels/cuda/check.h"

#include "core/error.h"

namespace tune::cuda {
namespace {

const char* cuda_advice(cudaError_t err) {
  switch (err) {
    case cudaErrorMemoryAllocation:
      return "the GPU is out of memory: lower per_device_train_batch_size or cutoff_len, or free the GPU";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
      return "no usable CUDA device: check nvidia-smi and that the driver supports CUDA 13, or run on the CPU";
    case cudaErrorInvalidDevice:
      return "the device index is out of range: check CUDA_VISIBLE_DEVICES";
    case cudaErrorNoKernelImageForDevice:
      return "this binary has no code for this GPU: rebuild with -DCMAKE_CUDA_ARCHITECTURES=<the GPU's sm>";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
      return "a kernel faulted (a tune.cpp bug): rerun under compute-sanitizer and report it";
    default:
      return "this is a tune.cpp bug or a broken CUDA install; report it with the command that ran";
  }
}

}  // namespace

void fail_cuda(cudaError_t err, const char* call, const char* file, int line) {
  fail("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in ", call, " at ", file, ":", line,
       "; ", cuda_advice(err));
}

void fail_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  const char* advice = status == CUBLAS_STATUS_ALLOC_FAILED
                           ? "the GPU is out of memory: lower per_device_train_batch_size or cutoff_len"
                       : status == CUBLAS_STATUS_NOT_INITIALIZED
                           ? "cuBLAS could not start: check that a CUDA device is visible (nvidia-smi)"
                           : "this is a tune.cpp bug (unsupported shape or type); report it with the command that ran";
  fail("cuBLAS error ", cublasGetStatusName(status), " (", cublasGetStatusString(status), ") in ", call, " at ", file,
       ":", line, "; ", advice);
}

}  // namespace tune::cuda
