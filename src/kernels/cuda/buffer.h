// DeviceBuffer<T>: an owning, move-only array of n elements in GPU memory, with synchronous copies to and from host.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/device.h"

namespace tune::cuda {

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // n elements, uninitialised; `what` names the buffer in an out-of-memory message.
  explicit DeviceBuffer(size_t n, const char* what = "a device buffer")
      : p_(static_cast<T*>(device_alloc(n * sizeof(T), what))), n_(n) {}
  // A copy of the host vector.
  explicit DeviceBuffer(const std::vector<T>& host, const char* what = "a device buffer")
      : DeviceBuffer(host.size(), what) {
    upload(host);
  }
  ~DeviceBuffer() { device_free(p_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return p_; }
  const T* get() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

  // Copies host.size() (<= size()) elements in; waits for the device.
  void upload(const std::vector<T>& host) {
    TUNE_CUDA_CHECK(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  // All size() elements out; waits for the device.
  std::vector<T> download() const {
    std::vector<T> host(n_);
    TUNE_CUDA_CHECK(cudaMemcpy(host.data(), p_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }
  // Sets every byte to `byte` (a poison pattern for tests, or 0).
  void fill_bytes(int byte) { TUNE_CUDA_CHECK(cudaMemset(p_, byte, bytes())); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace tune::cuda
