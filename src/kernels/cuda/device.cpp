// Device discovery and checked device allocation.
#include "kernels/cuda/device.h"

#include <cuda_runtime_api.h>

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace tune::cuda {

bool device_available(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls report their own
    if (why) *why = cat("cudaGetDeviceCount failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
    return false;
  }
  if (count == 0) {
    if (why) *why = "cudaGetDeviceCount found no CUDA device";
    return false;
  }
  return true;
}

void* device_alloc(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail("out of GPU memory allocating ", what, ": ", bytes, " bytes (", double(bytes) / double(1 << 30),
         " GiB) requested, ", free_bytes, " of ", total_bytes,
         " bytes free; lower per_device_train_batch_size or cutoff_len (or use gradient checkpointing), or free the "
         "GPU from other processes");
  }
  if (err != cudaSuccess) {
    cudaGetLastError();
    fail_cuda(err, cat("cudaMalloc(", bytes, " bytes for ", what, ")").c_str(), __FILE__, __LINE__);
  }
  return p;
}

void device_free(void* p) noexcept {
  if (p) cudaFree(p);  // errors here are sticky launch errors that the next checked call reports
}

}  // namespace tune::cuda
