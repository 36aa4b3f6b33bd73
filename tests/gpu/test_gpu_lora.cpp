// The LoRA-wrapped linear as GEMMs in mixed precision, the recipe the CUDA model will use: frozen W and activations
// in the storage type, fp32 A/B masters cast to it for the products, fp32 A/B gradients. Checked against the
// reference matmuls in double: y = x W^T + s (x A^T) B^T, dx, dA, dB.
#include <gtest/gtest.h>

#include <vector>

#include "gpu/gpu_test.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/ops.h"
#include "kernels/reference/linear_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::all_close;
using test::download_as;
using test::random_vec;
using test::rounded;
using test::tol_for;
using test::upload_as;

class GpuLora : public ::testing::TestWithParam<DType> {};

TEST_P(GpuLora, ForwardBackwardFromGemmsMatchReference) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int N = 19, in = 96, out = 80, r = 8;
  const double s = 2.0;  // lora_alpha / r
  const auto x = random_vec(size_t(N) * in, 1), W = random_vec(size_t(out) * in, 2, -0.1, 0.1);
  const auto A = random_vec(size_t(r) * in, 3, -0.1, 0.1), B = random_vec(size_t(out) * r, 4, -0.1, 0.1);
  const auto dy = random_vec(size_t(N) * out, 5);
  const auto xr = rounded(t, x), Wr = rounded(t, W), Ar = rounded(t, A), Br = rounded(t, B), dyr = rounded(t, dy);

  // reference in double: u = x A^T; y = x W^T + s u B^T; du = s dy B; dx = dy W + du A; dB = s dy^T u; dA = du^T x
  std::vector<double> u(size_t(N) * r), y(size_t(N) * out), du(size_t(N) * r), dx(size_t(N) * in);
  std::vector<double> dA(size_t(r) * in, 0.0), dB(size_t(out) * r, 0.0);
  ref::linear_forward(u.data(), xr.data(), Ar.data(), N, in, r, 1.0, false);
  ref::linear_forward(y.data(), xr.data(), Wr.data(), N, in, out, 1.0, false);
  ref::linear_forward(y.data(), u.data(), Br.data(), N, r, out, s, true);
  ref::linear_backward_input(du.data(), dyr.data(), Br.data(), N, r, out, s, false);
  ref::linear_backward_input(dx.data(), dyr.data(), Wr.data(), N, in, out, 1.0, false);
  ref::linear_backward_input(dx.data(), du.data(), Ar.data(), N, in, r, 1.0, true);
  ref::linear_backward_weight(dB.data(), dyr.data(), u.data(), N, r, out, s);
  ref::linear_backward_weight(dA.data(), du.data(), xr.data(), N, in, r, 1.0);

  cuda::Blas blas;
  const auto x_d = upload_as(t, x), W_d = upload_as(t, W), dy_d = upload_as(t, dy);
  const cuda::DeviceBuffer<float> A32(A, "A master"), B32(B, "B master");
  auto A_t = test::poisoned(t, A.size()), B_t = test::poisoned(t, B.size());
  cuda::convert(A_t.get(), t, A32.get(), DType::F32, int64_t(A.size()));
  cuda::convert(B_t.get(), t, B32.get(), DType::F32, int64_t(B.size()));
  auto u_d = test::poisoned(t, u.size()), y_d = test::poisoned(t, y.size());
  cuda::linear_forward(blas, u_d.get(), t, x_d.get(), A_t.get(), t, N, in, r, 1.0f, false);
  cuda::linear_forward(blas, y_d.get(), t, x_d.get(), W_d.get(), t, N, in, out, 1.0f, false);
  cuda::linear_forward(blas, y_d.get(), t, u_d.get(), B_t.get(), t, N, r, out, float(s), true);
  EXPECT_TRUE(all_close(download_as(t, y_d, y.size()), y, tol_for(t)));

  auto du_d = test::poisoned(t, du.size()), dx_d = test::poisoned(t, dx.size());
  cuda::DeviceBuffer<float> dA32(std::vector<float>(dA.size(), 0.0f), "dA"),
      dB32(std::vector<float>(dB.size(), 0.0f), "dB");
  cuda::linear_backward_weight(blas, dB32.get(), DType::F32, dy_d.get(), u_d.get(), t, N, r, out, float(s));
  cuda::linear_backward_input(blas, du_d.get(), t, dy_d.get(), B_t.get(), t, N, r, out, float(s), false);
  cuda::linear_backward_weight(blas, dA32.get(), DType::F32, du_d.get(), x_d.get(), t, N, in, r, 1.0f);
  cuda::linear_backward_input(blas, dx_d.get(), t, dy_d.get(), W_d.get(), t, N, in, out, 1.0f, false);
  cuda::linear_backward_input(blas, dx_d.get(), t, du_d.get(), A_t.get(), t, N, in, r, 1.0f, true);
  EXPECT_TRUE(all_close(download_as(t, dx_d, dx.size()), dx, tol_for(t)));
  // the fp32 master gradients carry the storage type's rounding of u and du: the storage type's tolerance
  EXPECT_TRUE(all_close(dB32.download(), dB, tol_for(t, t == DType::F32 ? 10.0 : 1.0)));
  EXPECT_TRUE(all_close(dA32.download(), dA, tol_for(t, t == DType::F32 ? 10.0 : 1.0)));
}

INSTANTIATE_TEST_SUITE_P(Storage, GpuLora, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         test::dtype_param_name);

}  // namespace
}  // namespace tune
