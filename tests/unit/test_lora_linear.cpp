// Tests for the LoRA-wrapped linear: forward and backward (dx =/+=, dA, dB) against the reference matmuls, with and
// without LoRA dropout, at a rank on each side of the low-rank kernels' loop/sgemm switch; scratch reused across calls.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/reference/ops_ref.h"
#include "model/lora_linear.h"
#include "unit/ggml_blocks.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct LoraLinearCase {
  int N, in, out, r;
  float dropout;
};

Tensor tensor_of(std::vector<float> v, Shape shape) {
  Tensor t(std::move(shape));
  t.data = std::move(v);
  return t;
}

class LoraLinearParity : public ::testing::TestWithParam<LoraLinearCase> {};

TEST_P(LoraLinearParity, ForwardAndBackwardMatchReference) {
  const auto [N, in, out, r, p] = GetParam();
  const FrozenLinear W{tensor_of(random_vec(size_t(out) * in, 1), {out, in}), {}};
  LoraModule lora;
  lora.r = r;
  lora.scaling = 1.7f;
  lora.A = tensor_of(random_vec(size_t(r) * in, 2), {r, in});
  lora.B = tensor_of(random_vec(size_t(out) * r, 3), {out, r});
  lora.dA = tensor_of(random_vec(size_t(r) * in, 4), {r, in});  // gradients accumulate onto what is there
  lora.dB = tensor_of(random_vec(size_t(out) * r, 5), {out, r});
  const auto x = random_vec(size_t(N) * in, 6), dy = random_vec(size_t(N) * out, 7);
  const auto dx0 = random_vec(size_t(N) * in, 8);
  const std::vector<float> dA0 = lora.dA.data, dB0 = lora.dB.data;

  LoraLinearCache cache;
  LoraScratch scratch;
  std::vector<float> y(size_t(N) * out, 9.0f);
  lora_linear_forward(y.data(), x.data(), W, &lora, N, p, /*dropout_seed=*/42, &cache, scratch);
  ASSERT_EQ(cache.keep.empty(), p == 0.0f);

  // Reference: xd = dropout(x) with the same mask, u = xd.A^T, y = x.W^T + s.u.B^T.
  std::vector<float> xd = x;
  if (p > 0.0f) ref::dropout_apply(xd.data(), x.data(), cache.keep.data(), int64_t(xd.size()), p);
  std::vector<float> u(size_t(N) * r), y_ref(size_t(N) * out);
  ref::linear_forward(u.data(), xd.data(), lora.A.ptr(), N, in, r, 1.0f, false);
  ref::linear_forward(y_ref.data(), x.data(), W.dense.ptr(), N, in, out, 1.0f, false);
  ref::linear_forward(y_ref.data(), u.data(), lora.B.ptr(), N, r, out, lora.scaling, true);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-5);

  // Reference backward: dB += s.dy^T.u, du = s.dy.B, dA += du^T.xd, dx (+)= dy.W + dropout(du.A).
  std::vector<float> dB_ref = dB0, dA_ref = dA0, du(size_t(N) * r), dxd(size_t(N) * in), dx_lora(size_t(N) * in);
  ref::linear_backward_weight(dB_ref.data(), dy.data(), u.data(), N, r, out, lora.scaling);
  ref::linear_backward_input(du.data(), dy.data(), lora.B.ptr(), N, r, out, lora.scaling, false);
  ref::linear_backward_weight(dA_ref.data(), du.data(), xd.data(), N, in, r, 1.0f);
  ref::linear_backward_input(dxd.data(), du.data(), lora.A.ptr(), N, in, r, 1.0f, false);
  dx_lora = dxd;
  if (p > 0.0f) ref::dropout_apply(dx_lora.data(), dxd.data(), cache.keep.data(), int64_t(dxd.size()), p);

  for (bool accumulate : {false, true}) {
    lora.dA.data = dA0;
    lora.dB.data = dB0;
    std::vector<float> dx = dx0, dx_ref = dx0;
    ref::linear_backward_input(dx_ref.data(), dy.data(), W.dense.ptr(), N, in, out, 1.0f, accumulate);
    for (size_t i = 0; i < dx_ref.size(); ++i) dx_ref[i] += dx_lora[i];
    lora_linear_backward(dx.data(), accumulate, dy.data(), x.data(), W, &lora, N, p, cache, scratch);
    EXPECT_LE(max_rel_err(dx, dx_ref), 1e-5) << "accumulate=" << accumulate;
    EXPECT_LE(max_rel_err(lora.dA.data, dA_ref), 1e-5) << "accumulate=" << accumulate;
    EXPECT_LE(max_rel_err(lora.dB.data, dB_ref), 1e-5) << "accumulate=" << accumulate;
  }

  // Without dx only the LoRA gradients are formed.
  lora.dA.data = dA0;
  lora.dB.data = dB0;
  lora_linear_backward(nullptr, false, dy.data(), x.data(), W, &lora, N, p, cache, scratch);
  EXPECT_LE(max_rel_err(lora.dA.data, dA_ref), 1e-5);
  EXPECT_LE(max_rel_err(lora.dB.data, dB_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraLinearParity,
                         ::testing::Values(LoraLinearCase{5, 7, 6, 3, 0.0f}, LoraLinearCase{5, 7, 6, 3, 0.3f},
                                           LoraLinearCase{66, 130, 40, 8, 0.1f},
                                           LoraLinearCase{9, 50, 70, 40, 0.2f}));  // sgemm ranks

TEST(LoraLinear, WithoutLoraIsThePlainLinear) {
  const int N = 3, in = 4, out = 2;
  const FrozenLinear W{tensor_of(random_vec(size_t(out) * in, 1), {out, in}), {}};
  const auto x = random_vec(size_t(N) * in, 2), dy = random_vec(size_t(N) * out, 3);
  LoraLinearCache cache;
  LoraScratch scratch;
  std::vector<float> y(size_t(N) * out), y_ref(y.size()), dx(size_t(N) * in, 1.0f), dx_ref(dx);
  lora_linear_forward(y.data(), x.data(), W, nullptr, N, 0.5f, 1, &cache, scratch);
  ref::linear_forward(y_ref.data(), x.data(), W.dense.ptr(), N, in, out, 1.0f, false);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-6);
  lora_linear_backward(dx.data(), true, dy.data(), x.data(), W, nullptr, N, 0.5f, cache, scratch);
  ref::linear_backward_input(dx_ref.data(), dy.data(), W.dense.ptr(), N, in, out, 1.0f, true);
  EXPECT_LE(max_rel_err(dx, dx_ref), 1e-6);
}

// A kept-quantized base weight gives what its dequantized fp32 copy gives: the LoRA branch is the same, and the frozen
// products agree to the tiled sum order.
TEST(LoraLinear, QuantizedBaseMatchesItsDequantizedCopy) {
  const int N = 20, in = 256, out = 48, r = 4;
  const FrozenLinear Wq{{}, test::random_quant_matrix(GgmlType::Q4_K, out, in, 1)};
  const FrozenLinear Wd{dequantized(Wq), {}};
  ASSERT_EQ(Wd.dense.shape, (Shape{out, in}));
  LoraModule lora;
  lora.r = r;
  lora.scaling = 2.0f;
  lora.A = tensor_of(random_vec(size_t(r) * in, 2), {r, in});
  lora.B = tensor_of(random_vec(size_t(out) * r, 3), {out, r});
  lora.dA = Tensor({r, in});
  lora.dB = Tensor({out, r});
  const auto x = random_vec(size_t(N) * in, 4), dy = random_vec(size_t(N) * out, 5);
  auto run = [&](const FrozenLinear& W, std::vector<float>& y, std::vector<float>& dx, LoraModule& m) {
    LoraLinearCache cache;
    LoraScratch scratch;
    y.assign(size_t(N) * out, 0.0f);
    dx.assign(size_t(N) * in, 0.0f);
    lora_linear_forward(y.data(), x.data(), W, &m, N, 0.1f, 7, &cache, scratch);
    lora_linear_backward(dx.data(), false, dy.data(), x.data(), W, &m, N, 0.1f, cache, scratch);
  };
  LoraModule lq = lora, ld = lora;
  std::vector<float> yq, dxq, yd, dxd;
  run(Wq, yq, dxq, lq);
  run(Wd, yd, dxd, ld);
  EXPECT_LE(max_rel_err(yq, yd), 1e-5);
  EXPECT_LE(max_rel_err(dxq, dxd), 1e-5);
  EXPECT_EQ(lq.dA.data, ld.dA.data);  // LoRA gradients never read W
  EXPECT_EQ(lq.dB.data, ld.dB.data);
}

}  // namespace
}  // namespace tune
