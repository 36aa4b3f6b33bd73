// Tests for global-norm clipping: the norm of norms, the fp32 coefficient, no-clip mode and non-finite grads.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "train/grad_clip.h"

namespace tune {
namespace {

struct Grads {
  Tensor a{Shape{2}}, ga{Shape{2}}, b{Shape{1, 2}}, gb{Shape{1, 2}};
  std::vector<ParamRef> refs() { return {{"a", &a, &ga, true}, {"b", &b, &gb, true}}; }
};

TEST(GradClip, NormOfPerTensorNorms) {
  Grads g;
  g.ga.data = {3.0f, 4.0f};   // ‖·‖ = 5
  g.gb.data = {0.0f, 12.0f};  // ‖·‖ = 12
  EXPECT_EQ(grad_norm_f32(g.ga), 5.0f);
  const float total = clip_grad_norm(g.refs(), 0.0);  // no clipping: norm only
  EXPECT_EQ(total, 13.0f);
  EXPECT_EQ(g.ga.data[0], 3.0f);
  EXPECT_EQ(g.gb.data[1], 12.0f);
}

TEST(GradClip, ScalesEveryGradByOneFp32Coefficient) {
  Grads g;
  g.ga.data = {3.0f, 4.0f};
  g.gb.data = {0.0f, 12.0f};
  EXPECT_EQ(clip_grad_norm(g.refs(), 1.0), 13.0f);  // returns the pre-clip norm
  const float coef = 1.0f / (13.0f + static_cast<float>(1e-6));
  EXPECT_EQ(g.ga.data[0], 3.0f * coef);
  EXPECT_EQ(g.ga.data[1], 4.0f * coef);
  EXPECT_EQ(g.gb.data[1], 12.0f * coef);
  EXPECT_NEAR(clip_grad_norm(g.refs(), 0.0), 1.0f, 1e-6f);
}

TEST(GradClip, SmallNormsAreMultipliedByOne) {
  Grads g;
  g.ga.data = {0.3f, 0.4f};
  g.gb.data = {0.0f, 0.0f};
  EXPECT_NEAR(clip_grad_norm(g.refs(), 1.0), 0.5f, 1e-7f);
  EXPECT_EQ(g.ga.data[0], 0.3f);
  EXPECT_EQ(g.ga.data[1], 0.4f);
}

TEST(GradClip, NonFiniteGradientsPropagate) {
  Grads g;
  g.ga.data = {INFINITY, 1.0f};
  g.gb.data = {2.0f, 0.0f};
  EXPECT_TRUE(std::isinf(clip_grad_norm(g.refs(), 1.0)));
  EXPECT_EQ(g.ga.data[1], 0.0f);  // coef = 1 / inf = 0, as torch
  EXPECT_TRUE(std::isnan(g.ga.data[0]));  // inf · 0
  Grads n;
  n.ga.data = {NAN, 1.0f};
  EXPECT_TRUE(std::isnan(clip_grad_norm(n.refs(), 1.0)));
  EXPECT_TRUE(std::isnan(n.ga.data[1]));  // NaN coefficient poisons every grad, as torch
}

TEST(GradClip, LargeTensorIndependentOfThreads) {
  Tensor v({300001}), g({300001});
  for (int64_t i = 0; i < g.numel(); ++i) g.data[i] = static_cast<float>((i % 97) - 48) * 1e-3f;
  double sum_sq = 0.0;
  for (float x : g.data) sum_sq += static_cast<double>(x) * x;
  const float norm = grad_norm_f32(g);
  EXPECT_NEAR(norm, std::sqrt(sum_sq), 1e-7 * std::sqrt(sum_sq));
  EXPECT_EQ(grad_norm_f32(g), norm);
}

}  // namespace
}  // namespace tune
