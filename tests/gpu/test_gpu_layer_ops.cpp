// Row and element-wise CUDA ops vs the reference twins in double, for F32, BF16 and F16 storage: conversion and the
// residual add, embedding, RMSNorm, RoPE and GeGLU (tanh and erf), forward and backward.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gpu/gpu_test.h"
#include "kernels/cuda/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::all_close;
using test::download_as;
using test::random_vec;
using test::rounded;
using test::tol_for;
using test::upload_as;

class GpuLayerOps : public ::testing::TestWithParam<DType> {};

TEST_P(GpuLayerOps, ConvertAndAddInPlace) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int64_t n = 1000;
  const auto x = random_vec(n, 1, -3.0, 3.0), y0 = random_vec(n, 2, -3.0, 3.0);
  // fp32 -> t rounds to nearest even exactly as the host conversion does
  const auto x32 = upload_as(DType::F32, x);
  auto xt = test::poisoned(t, n);
  cuda::convert(xt.get(), t, x32.get(), DType::F32, n);
  EXPECT_EQ(download_as(t, xt, n), test::convert<float>(rounded(t, x)));
  auto back = test::poisoned(DType::F32, n);
  cuda::convert(back.get(), DType::F32, xt.get(), t, n);
  EXPECT_EQ(download_as(DType::F32, back, n), test::convert<float>(rounded(t, x)));
  // y += x in fp32, rounded once
  auto y = upload_as(t, y0);
  cuda::add_inplace(y.get(), xt.get(), n, t);
  const auto xr = rounded(t, x), yr = rounded(t, y0);
  std::vector<float> want(n);
  for (int64_t i = 0; i < n; ++i) want[i] = float(float(xr[i]) + float(yr[i]));
  EXPECT_EQ(download_as(t, y, n), test::convert<float>(rounded(t, want)));
}

TEST_P(GpuLayerOps, EmbeddingForward) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int N = 11, H = 37, V = 50;
  const float scale = std::sqrt(float(H));
  const auto table = random_vec(size_t(V) * H, 3);
  std::vector<int32_t> ids = {0, 49, 7, 7, 13, 1, 48, 25, 0, 30, 2};
  const auto tr = rounded(t, table);
  std::vector<double> ref(size_t(N) * H);
  ref::embedding_forward(ref.data(), ids.data(), tr.data(), N, H, V, double(scale));
  cuda::DeviceBuffer<int32_t> ids_d(ids, "ids");
  const auto table_d = upload_as(t, table);
  auto out = test::poisoned(t, ref.size());
  cuda::embedding_forward(out.get(), ids_d.get(), table_d.get(), N, H, V, scale, t);
  EXPECT_TRUE(all_close(download_as(t, out, ref.size()), ref, tol_for(t)));
}

TEST_P(GpuLayerOps, RmsNormForwardBackward) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  for (const auto [N, C] : {std::pair{1, 1}, std::pair{7, 300}, std::pair{3, 2048}}) {
    SCOPED_TRACE(testing::Message() << "N=" << N << " C=" << C);
    const size_t n = size_t(N) * C;
    const auto x = random_vec(n, 4, -2.0, 2.0), w = random_vec(C, 5, -0.5, 0.5), dy = random_vec(n, 6);
    const auto dx0 = random_vec(n, 7);
    const auto xr = rounded(t, x), wr = rounded(t, w), dyr = rounded(t, dy);
    std::vector<double> y_ref(n), rstd_ref(N), dx_ref = rounded(t, dx0);
    ref::rmsnorm_forward(y_ref.data(), rstd_ref.data(), xr.data(), wr.data(), N, C, 1e-6, 1.0);
    ref::rmsnorm_backward(dx_ref.data(), dyr.data(), xr.data(), wr.data(), rstd_ref.data(), N, C, 1.0);
    const auto x_d = upload_as(t, x), w_d = upload_as(t, w), dy_d = upload_as(t, dy);
    auto y = test::poisoned(t, n);
    cuda::DeviceBuffer<float> rstd(N, "rstd");
    cuda::rmsnorm_forward(y.get(), rstd.get(), x_d.get(), w_d.get(), N, C, 1e-6f, t);
    EXPECT_TRUE(all_close(download_as(t, y, n), y_ref, tol_for(t)));
    EXPECT_TRUE(all_close(rstd.download(), rstd_ref, tol_for(DType::F32, 10.0)));
    auto dx = upload_as(t, dx0);  // backward accumulates
    cuda::rmsnorm_backward(dx.get(), dy_d.get(), x_d.get(), w_d.get(), rstd.get(), N, C, t);
    EXPECT_TRUE(all_close(download_as(t, dx, n), dx_ref, tol_for(t, 2.0)));
  }
}

TEST_P(GpuLayerOps, RopeForwardBackward) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int B = 2, T = 9, nh = 3, D = 16, half = D / 2;
  std::vector<float> cos_t(size_t(T) * half), sin_t(cos_t.size());
  ref::rope_tables(cos_t.data(), sin_t.data(), T, D, 10000.0);  // fp32 tables, as the model uploads them
  const std::vector<double> cos_r(cos_t.begin(), cos_t.end()), sin_r(sin_t.begin(), sin_t.end());
  const size_t n = size_t(B) * T * nh * D;
  const auto x = random_vec(n, 8), g = random_vec(n, 9);
  std::vector<double> x_ref = rounded(t, x), g_ref = rounded(t, g);
  ref::rope_forward(x_ref.data(), cos_r.data(), sin_r.data(), B, T, nh, D);
  ref::rope_backward(g_ref.data(), cos_r.data(), sin_r.data(), B, T, nh, D);
  const cuda::DeviceBuffer<float> cos_d(cos_t, "cos"), sin_d(sin_t, "sin");
  auto x_d = upload_as(t, x), g_d = upload_as(t, g);
  cuda::rope_forward(x_d.get(), cos_d.get(), sin_d.get(), B, T, nh, D, t);
  cuda::rope_backward(g_d.get(), cos_d.get(), sin_d.get(), B, T, nh, D, t);
  EXPECT_TRUE(all_close(download_as(t, x_d, n), x_ref, tol_for(t)));
  EXPECT_TRUE(all_close(download_as(t, g_d, n), g_ref, tol_for(t)));
}

TEST_P(GpuLayerOps, GegluForwardBackwardTanhAndExact) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int64_t n = 3001;
  const auto gate = random_vec(n, 10, -5.0, 5.0), up = random_vec(n, 11, -2.0, 2.0), dh = random_vec(n, 12);
  const auto gr = rounded(t, gate), ur = rounded(t, up), dhr = rounded(t, dh);
  const auto gate_d = upload_as(t, gate), up_d = upload_as(t, up), dh_d = upload_as(t, dh);
  const test::Tol tol = tol_for(t, t == DType::F32 ? 10.0 : 1.0);  // fp32: tanhf/erff/expf are a few ulp off
  for (const Activation act : {Activation::GeluTanh, Activation::GeluExact}) {
    SCOPED_TRACE(act == Activation::GeluTanh ? "tanh" : "erf");
    std::vector<double> h_ref(n), dg_ref(n), du_ref(n);
    ref::geglu_forward(h_ref.data(), gr.data(), ur.data(), n, act);
    ref::geglu_backward(dg_ref.data(), du_ref.data(), dhr.data(), gr.data(), ur.data(), n, act);
    auto h = test::poisoned(t, n), dg = test::poisoned(t, n), du = test::poisoned(t, n);
    cuda::geglu_forward(h.get(), gate_d.get(), up_d.get(), n, act, t);
    cuda::geglu_backward(dg.get(), du.get(), dh_d.get(), gate_d.get(), up_d.get(), n, act, t);
    EXPECT_TRUE(all_close(download_as(t, h, n), h_ref, tol));
    EXPECT_TRUE(all_close(download_as(t, dg, n), dg_ref, tol));
    EXPECT_TRUE(all_close(download_as(t, du, n), du_ref, tol));
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, GpuLayerOps, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         test::dtype_param_name);

}  // namespace
}  // namespace tune
