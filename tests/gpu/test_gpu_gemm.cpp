// cuBLAS nn.Linear matmuls vs the reference twins in double, for F32, BF16 and F16 storage (outputs in the storage
// type and in F32), odd sizes, overwrite and accumulate.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "gpu/gpu_test.h"
#include "kernels/cuda/gemm.h"
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

struct GemmSize {
  int N, in, out;
};

class GpuGemm : public ::testing::TestWithParam<DType> {};

TEST_P(GpuGemm, LinearForwardBackwardMatchReference) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  cuda::Blas blas;
  for (const GemmSize& s : {GemmSize{1, 1, 1}, GemmSize{5, 7, 3}, GemmSize{33, 64, 48}, GemmSize{17, 130, 257}}) {
    SCOPED_TRACE(testing::Message() << "N=" << s.N << " in=" << s.in << " out=" << s.out);
    const size_t nx = size_t(s.N) * s.in, nw = size_t(s.out) * s.in, ny = size_t(s.N) * s.out;
    const auto x = random_vec(nx, 1), w = random_vec(nw, 2), dy = random_vec(ny, 3), y0 = random_vec(ny, 4);
    const auto dx0 = random_vec(nx, 5), dw0 = random_vec(nw, 6);
    const auto xr = rounded(t, x), wr = rounded(t, w), dyr = rounded(t, dy), y0r = rounded(t, y0);
    const auto dx0r = rounded(t, dx0), dw0r = rounded(t, dw0);
    const auto x_d = upload_as(t, x), w_d = upload_as(t, w), dy_d = upload_as(t, dy);
    const test::Tol f32_out = tol_for(DType::F32, t == DType::F32 ? 1.0 : 10.0);  // half products, fp32 sums

    // y = 0.5 x W^T, then y += x W^T onto y0
    std::vector<double> y_ref(ny), y_acc_ref = y0r;
    ref::linear_forward(y_ref.data(), xr.data(), wr.data(), s.N, s.in, s.out, 0.5, false);
    ref::linear_forward(y_acc_ref.data(), xr.data(), wr.data(), s.N, s.in, s.out, 1.0, true);
    auto y = test::poisoned(t, ny);
    cuda::linear_forward(blas, y.get(), t, x_d.get(), w_d.get(), t, s.N, s.in, s.out, 0.5f, false);
    EXPECT_TRUE(all_close(download_as(t, y, ny), y_ref, tol_for(t)));
    auto y_acc = upload_as(t, y0);
    cuda::linear_forward(blas, y_acc.get(), t, x_d.get(), w_d.get(), t, s.N, s.in, s.out, 1.0f, true);
    EXPECT_TRUE(all_close(download_as(t, y_acc, ny), y_acc_ref, tol_for(t)));
    auto y32 = test::poisoned(DType::F32, ny);  // fp32 output from half inputs (chunk logits, LoRA grads)
    cuda::linear_forward(blas, y32.get(), DType::F32, x_d.get(), w_d.get(), t, s.N, s.in, s.out, 0.5f, false);
    EXPECT_TRUE(all_close(download_as(DType::F32, y32, ny), y_ref, f32_out));

    // dx = dy W, then dx += dy W onto dx0
    std::vector<double> dx_ref(nx), dx_acc_ref = dx0r;
    ref::linear_backward_input(dx_ref.data(), dyr.data(), wr.data(), s.N, s.in, s.out, 1.0, false);
    ref::linear_backward_input(dx_acc_ref.data(), dyr.data(), wr.data(), s.N, s.in, s.out, 2.0, true);
    auto dx = test::poisoned(t, nx);
    cuda::linear_backward_input(blas, dx.get(), t, dy_d.get(), w_d.get(), t, s.N, s.in, s.out, 1.0f, false);
    EXPECT_TRUE(all_close(download_as(t, dx, nx), dx_ref, tol_for(t)));
    auto dx_acc = upload_as(t, dx0);
    cuda::linear_backward_input(blas, dx_acc.get(), t, dy_d.get(), w_d.get(), t, s.N, s.in, s.out, 2.0f, true);
    EXPECT_TRUE(all_close(download_as(t, dx_acc, nx), dx_acc_ref, tol_for(t)));

    // dW += 0.25 dy^T x, into fp32 (master gradients) and into t
    std::vector<double> dw_ref = rounded(DType::F32, dw0), dw_t_ref = dw0r;
    ref::linear_backward_weight(dw_ref.data(), dyr.data(), xr.data(), s.N, s.in, s.out, 0.25);
    ref::linear_backward_weight(dw_t_ref.data(), dyr.data(), xr.data(), s.N, s.in, s.out, 0.25);
    auto dw32 = upload_as(DType::F32, dw0);
    cuda::linear_backward_weight(blas, dw32.get(), DType::F32, dy_d.get(), x_d.get(), t, s.N, s.in, s.out, 0.25f);
    EXPECT_TRUE(all_close(download_as(DType::F32, dw32, nw), dw_ref, f32_out));
    auto dwt = upload_as(t, dw0);
    cuda::linear_backward_weight(blas, dwt.get(), t, dy_d.get(), x_d.get(), t, s.N, s.in, s.out, 0.25f);
    EXPECT_TRUE(all_close(download_as(t, dwt, nw), dw_t_ref, tol_for(t)));
  }
}

TEST_P(GpuGemm, OutputInAnotherHalfTypeIsAnError) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  if (t == DType::F32) GTEST_SKIP() << "F32 inputs: every output type is F32";
  cuda::Blas blas;
  auto x = upload_as(t, random_vec(4, 1)), w = upload_as(t, random_vec(4, 2));
  const DType other = t == DType::BF16 ? DType::F16 : DType::BF16;
  auto y = test::poisoned(other, 4);
  EXPECT_THROW(cuda::linear_forward(blas, y.get(), other, x.get(), w.get(), t, 2, 2, 2, 1.0f, false), Error);
}

INSTANTIATE_TEST_SUITE_P(Storage, GpuGemm, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         test::dtype_param_name);

}  // namespace
}  // namespace tune
