// The GPU loss heads vs the reference twins in double: the chunked tied LM head + cross-entropy (F32/BF16/F16, several
// chunk sizes, ignored labels) and the fp32-master value head forward/backward.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "gpu/gpu_test.h"
#include "kernels/cuda/lm_head.h"
#include "kernels/cuda/ops.h"
#include "kernels/reference/cross_entropy_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::all_close;
using test::download_as;
using test::random_vec;
using test::rounded;
using test::tol_for;
using test::upload_as;

class GpuHeads : public ::testing::TestWithParam<DType> {};

TEST_P(GpuHeads, LmHeadCrossEntropyMatchesReferenceForAnyChunking) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int B = 2, T = 9, H = 24, V = 300;
  const float grad_scale = 0.125f;
  const auto h = random_vec(size_t(B) * T * H, 1, -2.0, 2.0), E = random_vec(size_t(V) * H, 2);
  const auto dh0 = random_vec(size_t(B) * T * H, 3, -0.01, 0.01);
  std::vector<int32_t> labels(size_t(B) * T);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = (i % 4 == 1) ? -100 : int32_t((i * 37 + 5) % V);
  const auto hr = rounded(t, h), Er = rounded(t, E);
  std::vector<double> dh_ref = rounded(t, dh0);
  int64_t n_ref = 0;
  const double loss_ref = ref::lm_head_cross_entropy<double>(dh_ref.data(), nullptr, hr.data(), Er.data(),
                                                             labels.data(), B, T, H, V, grad_scale, &n_ref);
  ASSERT_GT(n_ref, 0);

  cuda::Blas blas;
  cuda::LmHeadWorkspace ws;  // reused across the chunkings, as a training loop keeps it
  const auto h_d = upload_as(t, h), E_d = upload_as(t, E);
  for (const int chunk : {1, 4, 5, 0}) {
    SCOPED_TRACE(testing::Message() << "chunk_rows=" << chunk);
    auto dh = upload_as(t, dh0);
    int64_t n = -1;
    const double loss = cuda::lm_head_cross_entropy(blas, dh.get(), h_d.get(), E_d.get(), labels.data(), B, T, H, V,
                                                    grad_scale, &n, t, &ws, chunk);
    EXPECT_EQ(n, n_ref);
    EXPECT_NEAR(loss, loss_ref, (t == DType::F32 ? 1e-5 : 1e-4) * loss_ref);  // fp32 logits from half inputs
    EXPECT_TRUE(all_close(download_as(t, dh, dh_ref.size()), dh_ref, tol_for(t)));
    int64_t n_loss_only = -1;  // loss only: dh untouched
    EXPECT_DOUBLE_EQ(cuda::lm_head_cross_entropy(blas, nullptr, h_d.get(), E_d.get(), labels.data(), B, T, H, V,
                                                 grad_scale, &n_loss_only, t, &ws, chunk),
                     loss);
    EXPECT_EQ(n_loss_only, n_ref);
  }
}

TEST_P(GpuHeads, LmHeadEdgeCases) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int B = 1, T = 3, H = 4, V = 5;
  cuda::Blas blas;
  const auto h_d = upload_as(t, random_vec(size_t(B) * T * H, 4)), E_d = upload_as(t, random_vec(size_t(V) * H, 5));
  const std::vector<int32_t> ignored = {7, -100, -100};  // the first label is never a target
  int64_t n = -1;
  EXPECT_EQ(cuda::lm_head_cross_entropy(blas, nullptr, h_d.get(), E_d.get(), ignored.data(), B, T, H, V, 1.0f, &n, t),
            0.0);
  EXPECT_EQ(n, 0);
  const std::vector<int32_t> bad = {0, 1, 5};
  try {
    cuda::lm_head_cross_entropy(blas, nullptr, h_d.get(), E_d.get(), bad.data(), B, T, H, V, 1.0f, &n, t);
    ADD_FAILURE() << "a label outside the vocabulary was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the vocabulary [0, 5)"), std::string::npos) << e.what();
  }
}

TEST_P(GpuHeads, ValueHeadForwardBackward) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  const int N = 13, H = 300;
  const auto x = random_vec(size_t(N) * H, 6), w = random_vec(H, 7, -0.1, 0.1), dvalues = random_vec(N, 8);
  const auto dw0 = random_vec(H, 9);
  const auto xr = rounded(t, x);
  const float b = 0.375f, db0 = -0.5f;
  std::vector<double> values_ref(N), dw_ref(dw0.begin(), dw0.end()), dx_ref(size_t(N) * H);
  double db_ref = db0;
  for (int n = 0; n < N; ++n) {
    double acc = 0.0;
    for (int c = 0; c < H; ++c) {
      acc += xr[size_t(n) * H + c] * double(w[c]);
      dw_ref[c] += double(dvalues[n]) * xr[size_t(n) * H + c];
      dx_ref[size_t(n) * H + c] = double(dvalues[n]) * double(w[c]);
    }
    values_ref[n] = acc + b;
    db_ref += dvalues[n];
  }
  const auto x_d = upload_as(t, x);
  const cuda::DeviceBuffer<float> w_d(w, "w"), b_d(std::vector<float>{b}, "b"), dv_d(dvalues, "dvalues");
  cuda::DeviceBuffer<float> values(N, "values"), dw(dw0, "dw"), db(std::vector<float>{db0}, "db");
  cuda::value_head_forward(values.get(), x_d.get(), w_d.get(), b_d.get(), N, H, t);
  EXPECT_TRUE(all_close(values.download(), values_ref, tol_for(DType::F32, 10.0)));
  auto dx = test::poisoned(t, size_t(N) * H);
  cuda::value_head_backward(dx.get(), dw.get(), db.get(), dv_d.get(), x_d.get(), w_d.get(), N, H, t);
  EXPECT_TRUE(all_close(dw.download(), dw_ref, tol_for(DType::F32, 10.0)));
  EXPECT_NEAR(db.download()[0], db_ref, 1e-5);
  EXPECT_TRUE(all_close(download_as(t, dx, dx_ref.size()), dx_ref, tol_for(t)));
}

INSTANTIATE_TEST_SUITE_P(Storage, GpuHeads, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         test::dtype_param_name);

}  // namespace
}  // namespace tune
