// The CUDA backend without and with a device: the skip reason, errors as tune::Error with advice, and the device
// buffer round trip. The no-device checks run on every machine; the rest skip there.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/gpu_test.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/ops.h"

namespace tune {
namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no tune::Error)";
}

TEST(GpuDevice, AbsentDeviceGivesAReasonAndAllocationsThrowWithAdvice) {
  std::string why;
  if (cuda::device_available(&why)) GTEST_SKIP() << "a CUDA device is present; this checks the no-device path";
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(why.find("cudaGetDeviceCount") != std::string::npos || why.find("no CUDA device") != std::string::npos)
      << why;
  const std::string msg = error_of([] { cuda::DeviceBuffer<float> b(16, "a test buffer"); });
  EXPECT_NE(msg.find("CUDA error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cudaMalloc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nvidia-smi"), std::string::npos) << msg;
}

TEST(GpuDevice, CheckMacrosThrowTuneErrorsNamingCallPlaceAndFix) {
  const std::string cuda_msg = error_of([] { TUNE_CUDA_CHECK(cudaErrorMemoryAllocation); });
  EXPECT_NE(cuda_msg.find("cudaErrorMemoryAllocation"), std::string::npos) << cuda_msg;
  EXPECT_NE(cuda_msg.find("test_gpu_device.cpp"), std::string::npos) << cuda_msg;
  EXPECT_NE(cuda_msg.find("lower per_device_train_batch_size"), std::string::npos) << cuda_msg;
  const std::string blas_msg = error_of([] { TUNE_CUBLAS_CHECK(CUBLAS_STATUS_ALLOC_FAILED); });
  EXPECT_NE(blas_msg.find("CUBLAS_STATUS_ALLOC_FAILED"), std::string::npos) << blas_msg;
  EXPECT_NE(blas_msg.find("out of memory"), std::string::npos) << blas_msg;
  EXPECT_EQ(error_of([] { TUNE_CUDA_CHECK(cudaSuccess); }), "(no tune::Error)");
}

// Storage types are checked on the host before any launch, so this runs without a device too.
TEST(GpuDevice, UnsupportedStorageTypeIsAnErrorNamingTheOp) {
  const std::string msg =
      error_of([] { cuda::geglu_forward(nullptr, nullptr, nullptr, 4, Activation::GeluTanh, DType::I32); });
  EXPECT_NE(msg.find("geglu_forward"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F32, BF16 or F16"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { cuda::convert(nullptr, DType::F64, nullptr, DType::F32, 4); }).find("convert"),
            std::string::npos);
}

TEST(GpuDevice, BufferRoundTripAndMove) {
  TUNE_REQUIRE_GPU();
  const std::vector<float> host = {1.5f, -2.0f, 3.25f, 1e30f, -0.0f};
  cuda::DeviceBuffer<float> a(host, "round trip");
  EXPECT_EQ(a.download(), host);
  cuda::DeviceBuffer<float> b = std::move(a);
  EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(b.size(), host.size());
  EXPECT_EQ(b.download(), host);
}

TEST(GpuDevice, OutOfMemoryNamesTheBytesAndWhatToLower) {
  TUNE_REQUIRE_GPU();
  const size_t huge = size_t(1) << 50;  // 1 PiB
  const std::string msg = error_of([&] { cuda::DeviceBuffer<char> b(huge, "the test's huge buffer"); });
  EXPECT_NE(msg.find("out of GPU memory allocating the test's huge buffer"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(huge) + " bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lower per_device_train_batch_size"), std::string::npos) << msg;
  cuda::DeviceBuffer<float> after(4, "after the failure");  // the failed allocation left no sticky error
  EXPECT_EQ(after.size(), 4u);
}

}  // namespace
}  // namespace tune
