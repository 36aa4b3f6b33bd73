// Masked GQA attention on the GPU vs the reference twin in double, for F32, BF16 and F16 storage: odd sizes,
// MQA/GQA/MHA, left padding, an all-padding row, a mask with holes, and a Gemma-2b-shaped head (D = 256, MQA).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/gpu_test.h"
#include "kernels/cuda/ops.h"
#include "kernels/reference/attention_ref.h"
#include "unit/attention_test_mask.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::all_close;
using test::download_as;
using test::random_vec;
using test::rounded;
using test::tol_for;
using test::upload_as;

struct AttnSize {
  int B, T, Nq, Nkv, D;
};

class GpuAttention : public ::testing::TestWithParam<DType> {};

TEST_P(GpuAttention, ForwardAndBackwardMatchReference) {
  TUNE_REQUIRE_GPU();
  const DType t = GetParam();
  for (const AttnSize& c : {AttnSize{1, 1, 1, 1, 2}, AttnSize{2, 7, 4, 2, 8}, AttnSize{3, 5, 4, 1, 4},
                            AttnSize{4, 9, 3, 3, 5}, AttnSize{2, 33, 8, 2, 16}, AttnSize{2, 70, 8, 1, 256}}) {
    const auto [B, T, Nq, Nkv, D] = c;
    SCOPED_TRACE(testing::Message() << "B=" << B << " T=" << T << " Nq=" << Nq << " Nkv=" << Nkv << " D=" << D);
    const double scale = 1.0 / std::sqrt(double(D));
    const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D, np = size_t(B) * Nq * T * T;
    const auto q = random_vec(nq, 1, -2.0, 2.0), k = random_vec(nkv, 2, -2.0, 2.0), v = random_vec(nkv, 3);
    const auto dout = random_vec(nq, 4);
    const auto mask = test::attention_test_mask(B, T);
    const auto qr = rounded(t, q), kr = rounded(t, k), vr = rounded(t, v), dor = rounded(t, dout);

    std::vector<double> out_ref(nq), probs_ref(np), dq_ref(nq), dk_ref(nkv), dv_ref(nkv);
    ref::attention_forward(out_ref.data(), probs_ref.data(), qr.data(), kr.data(), vr.data(), mask.data(), B, T, Nq,
                           Nkv, D, scale);
    ref::attention_backward(dq_ref.data(), dk_ref.data(), dv_ref.data(), dor.data(), probs_ref.data(), qr.data(),
                            kr.data(), vr.data(), B, T, Nq, Nkv, D, scale);

    const auto q_d = upload_as(t, q), k_d = upload_as(t, k), v_d = upload_as(t, v), do_d = upload_as(t, dout);
    const cuda::DeviceBuffer<uint8_t> mask_d(mask, "mask");
    auto out = test::poisoned(t, nq), probs = test::poisoned(t, np);
    cuda::attention_forward(out.get(), probs.get(), q_d.get(), k_d.get(), v_d.get(), mask_d.get(), B, T, Nq, Nkv, D,
                            float(scale), t);
    EXPECT_TRUE(all_close(download_as(t, out, nq), out_ref, tol_for(t)));
    EXPECT_TRUE(all_close(download_as(t, probs, np), probs_ref, tol_for(t)));

    auto dq = test::poisoned(t, nq), dk = test::poisoned(t, nkv), dv = test::poisoned(t, nkv);
    cuda::DeviceBuffer<float> rowdot(size_t(B) * Nq * T, "rowdot");
    cuda::attention_backward(dq.get(), dk.get(), dv.get(), do_d.get(), probs.get(), q_d.get(), k_d.get(), v_d.get(),
                             rowdot.get(), B, T, Nq, Nkv, D, float(scale), t);
    EXPECT_TRUE(all_close(download_as(t, dq, nq), dq_ref, tol_for(t)));
    EXPECT_TRUE(all_close(download_as(t, dk, nkv), dk_ref, tol_for(t)));
    EXPECT_TRUE(all_close(download_as(t, dv, nkv), dv_ref, tol_for(t)));
  }
}

// Gemma's head-count rule is checked before anything touches the device (so this runs without one too).
TEST_P(GpuAttention, HeadsNotAMultipleOfKvHeadsIsAnError) {
  const DType t = GetParam();
  try {
    cuda::attention_forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 1, 2, 3, 2, 4, 0.5f, t);
    ADD_FAILURE() << "3 query heads over 2 kv heads were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("num_attention_heads 3 is not a multiple of num_key_value_heads 2"),
              std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, GpuAttention, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         test::dtype_param_name);

}  // namespace
}  // namespace tune
