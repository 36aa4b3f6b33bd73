// Device discovery and raw device memory: whether a usable GPU is present, and cudaMalloc/cudaFree with messages.
#pragma once
#include <cstddef>
#include <string>

namespace tune::cuda {

// True when the CUDA runtime sees at least one device; otherwise false with the reason in *why (when given), e.g.
// "cudaGetDeviceCount failed: cudaErrorInsufficientDriver (CUDA driver version is insufficient ...)".
bool device_available(std::string* why = nullptr);

// cudaMalloc of `bytes` for the buffer named `what`; out of memory is a tune::Error with the bytes asked for, the
// bytes free and what to lower. 0 bytes gives nullptr.
void* device_alloc(size_t bytes, const char* what);
void device_free(void* p) noexcept;

}  // namespace tune::cuda
