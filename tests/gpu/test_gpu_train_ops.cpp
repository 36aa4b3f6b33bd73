// The GPU optimizer-side ops vs the CPU implementations they mirror: AdamW (bit-identical to train/adamw.cpp),
// the global gradient norm (train/grad_clip.cpp), and the loss scaler's unscale + inf/NaN check.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gpu/gpu_test.h"
#include "kernels/cuda/train_ops.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::random_vec;

Tensor tensor_of(std::vector<float> v) {
  Tensor t(Shape{static_cast<int64_t>(v.size())});
  t.data = std::move(v);
  return t;
}

TEST(GpuTrainOps, AdamWIsBitIdenticalToTheCpuOptimizer) {
  TUNE_REQUIRE_GPU();
  const size_t n = 5000;
  Tensor w = tensor_of(random_vec(n, 1)), gw(Shape{int64_t(n)}), b = tensor_of(random_vec(7, 2)), gb(Shape{7});
  const AdamWOptions o{0.9, 0.999, 1e-8, 0.01};
  AdamW cpu({{"w", &w, &gw, true}, {"b", &b, &gb, false}}, o);
  cuda::DeviceBuffer<float> w_d(w.data, "w"), b_d(b.data, "b");
  cuda::DeviceBuffer<float> mw(std::vector<float>(n, 0.0f), "m"), vw(std::vector<float>(n, 0.0f), "v");
  cuda::DeviceBuffer<float> mb(std::vector<float>(7, 0.0f), "m"), vb(std::vector<float>(7, 0.0f), "v");
  const double lrs[] = {1e-3, 5e-4, 0.0, 2e-3};
  for (int step = 1; step <= 4; ++step) {
    gw.data = random_vec(n, 10 + step, -0.1, 0.1);
    gb.data = random_vec(7, 20 + step, -0.1, 0.1);
    const double lr = lrs[step - 1];
    cpu.step(lr);
    const cuda::DeviceBuffer<float> gw_d(gw.data, "gw"), gb_d(gb.data, "gb");
    cuda::adamw_step(w_d.get(), gw_d.get(), mw.get(), vw.get(), int64_t(n),
                     cuda::adamw_scalars(o.beta1, o.beta2, o.eps, o.weight_decay, true, step, lr));
    cuda::adamw_step(b_d.get(), gb_d.get(), mb.get(), vb.get(), 7,
                     cuda::adamw_scalars(o.beta1, o.beta2, o.eps, o.weight_decay, false, step, lr));
    EXPECT_EQ(w_d.download(), w.data) << "step " << step;
    EXPECT_EQ(b_d.download(), b.data) << "step " << step;
    EXPECT_EQ(mw.download(), cpu.state().exp_avg[0].data) << "step " << step;
    EXPECT_EQ(vw.download(), cpu.state().exp_avg_sq[0].data) << "step " << step;
  }
}

TEST(GpuTrainOps, GlobalGradNormMatchesClipGradNorm) {
  TUNE_REQUIRE_GPU();
  Tensor g1 = tensor_of(random_vec((1 << 20) + 7, 3)), g2 = tensor_of(random_vec(3, 4, -10.0, 10.0));
  Tensor g3 = tensor_of({0.0f}), v1(g1.shape), v2(g2.shape), v3(g3.shape);
  const float cpu = clip_grad_norm({{"a", &v1, &g1, true}, {"b", &v2, &g2, true}, {"c", &v3, &g3, false}}, 0.0);
  const cuda::DeviceBuffer<float> d1(g1.data, "g1"), d2(g2.data, "g2"), d3(g3.data, "g3");
  const float gpu = cuda::global_grad_norm({{d1.get(), g1.numel()}, {d2.get(), g2.numel()}, {d3.get(), 1}});
  EXPECT_FLOAT_EQ(gpu, cpu);

  double want = 0.0;  // sum_squares alone, against a double sum
  for (const float x : g1.data) want += double(x) * double(x);
  cuda::DeviceBuffer<double> out(1, "out"), partials(cuda::kSumSquaresBlocks, "partials");
  cuda::sum_squares(out.get(), d1.get(), g1.numel(), partials.get());
  EXPECT_NEAR(out.download()[0], want, 1e-12 * want);
}

TEST(GpuTrainOps, ScaleAndCheckUnscalesAndFlagsNonFinite) {
  TUNE_REQUIRE_GPU();
  const float inv_scale = static_cast<float>(1.0 / 65536.0);
  std::vector<float> clean = random_vec(1000, 5, -1e4, 1e4), dirty = clean;
  dirty[17] = std::numeric_limits<float>::infinity();
  dirty[900] = std::numeric_limits<float>::quiet_NaN();
  cuda::DeviceBuffer<float> c(clean, "clean"), d(dirty, "dirty");
  cuda::DeviceBuffer<int> flag(std::vector<int>{0}, "flag");
  cuda::scale_and_check(c.get(), 1000, inv_scale, flag.get());
  EXPECT_EQ(flag.download()[0], 0);
  const std::vector<float> got = c.download();
  for (size_t i = 0; i < clean.size(); ++i) ASSERT_EQ(got[i], clean[i] * inv_scale) << i;
  cuda::scale_and_check(d.get(), 1000, inv_scale, flag.get());
  EXPECT_EQ(flag.download()[0], 1);
  const std::vector<float> got_dirty = d.download();
  EXPECT_TRUE(std::isinf(got_dirty[17]));
  EXPECT_TRUE(std::isnan(got_dirty[900]));
  EXPECT_EQ(got_dirty[0], clean[0] * inv_scale);
}

}  // namespace
}  // namespace tune
