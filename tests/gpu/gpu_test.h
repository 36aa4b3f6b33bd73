// Shared helpers for the gpu-labelled tests: skip without a device, move host fp32 data to and from device buffers of
// a storage type, and compare against a double-precision reference with the backend's tolerances.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/device.h"

// Skips the calling test, with the CUDA runtime's reason, when no CUDA device is usable.
#define TUNE_REQUIRE_GPU()                                                                            \
  do {                                                                                                \
    std::string tune_why_;                                                                            \
    if (!::tune::cuda::device_available(&tune_why_)) GTEST_SKIP() << "no CUDA device: " << tune_why_; \
  } while (0)

namespace tune {
// gtest prints a DType parameter by name (ctest's test list shows it).
inline void PrintTo(DType t, std::ostream* os) { *os << dtype_name(t); }
}  // namespace tune

namespace tune::test {

// v rounded to storage type t and back (what a kernel reading t sees), as double for the reference twins.
inline std::vector<double> rounded(DType t, const std::vector<float>& v) {
  std::vector<char> bytes(v.size() * dtype_size(t));
  convert_from_f32(t, v.data(), bytes.data(), v.size());
  std::vector<float> back(v.size());
  convert_to_f32(t, bytes.data(), back.data(), v.size());
  return std::vector<double>(back.begin(), back.end());
}

// A device copy of v stored as t.
inline cuda::DeviceBuffer<char> upload_as(DType t, const std::vector<float>& v) {
  std::vector<char> bytes(v.size() * dtype_size(t));
  convert_from_f32(t, v.data(), bytes.data(), v.size());
  return cuda::DeviceBuffer<char>(bytes, "test input");
}

// n elements of a device buffer stored as t, as fp32.
inline std::vector<float> download_as(DType t, const cuda::DeviceBuffer<char>& b, size_t n) {
  const std::vector<char> bytes = b.download();
  std::vector<float> out(n);
  convert_to_f32(t, bytes.data(), out.data(), n);
  return out;
}

// A device buffer of n elements of t, every byte 0x7f (huge or NaN in every type), so unwritten outputs show.
inline cuda::DeviceBuffer<char> poisoned(DType t, size_t n) {
  cuda::DeviceBuffer<char> b(n * dtype_size(t), "test output");
  b.fill_bytes(0x7f);
  return b;
}

// |got - ref| <= atol + rtol |ref| elementwise, atol = atol_frac * max|ref|. F32: 1e-5 both ways; BF16: 0.02 and
// 0.08; F16: 0.005 and 0.02. `extra` widens atol_frac for ops whose fp32-internal error grows with size.
struct Tol {
  double atol_frac, rtol;
};
inline Tol tol_for(DType t, double extra = 1.0) {
  if (t == DType::BF16) return {0.02 * extra, 0.08};
  if (t == DType::F16) return {0.005 * extra, 0.02};
  return {1e-5 * extra, 1e-5};
}

// Every element within tolerance (NaN never is); the message names the worst element.
template <class G, class R>
::testing::AssertionResult all_close(const std::vector<G>& got, const std::vector<R>& ref, Tol tol) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != reference size " << ref.size();
  double scale = 0.0;
  for (const auto& r : ref) scale = std::max(scale, std::fabs(double(r)));
  const double atol = tol.atol_frac * scale;
  size_t worst = 0;
  double worst_excess = -INFINITY;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - double(ref[i]));
    const double excess = std::isnan(err) ? INFINITY : err - (atol + tol.rtol * std::fabs(double(ref[i])));
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  if (got.empty() || worst_excess <= 0.0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << worst << " of " << got.size() << ": got " << got[worst]
                                       << ", reference " << ref[worst] << " (atol " << atol << ", rtol " << tol.rtol
                                       << ", max|ref| " << scale << ")";
}

inline std::string dtype_param_name(const ::testing::TestParamInfo<DType>& info) {
  return std::string(dtype_name(info.param));
}

}  // namespace tune::test
