// Replays the torch AdamW + HF schedule + clip_grad_norm_ fixtures (tests/data/optim) and compares every step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/plan.h"
#include "io/safetensors.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/params.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

// One fixture file: the case's settings (from __metadata__) and its tensors.
struct OptimCase {
  SafetensorsFile file;
  Plan plan;
  int steps = 0;
  std::vector<std::string> names;  // params in model order

  explicit OptimCase(const std::string& name)
      : file(SafetensorsFile::open(std::string(TUNE_TEST_DATA) + "/optim/" + name + ".safetensors")) {
    const auto& m = file.metadata();
    plan.lr_scheduler_type = m.at("lr_scheduler_type");
    plan.learning_rate = std::stod(m.at("learning_rate"));
    plan.warmup_steps = std::stoi(m.at("warmup_steps"));
    plan.warmup_ratio = std::stod(m.at("warmup_ratio"));
    plan.weight_decay = std::stod(m.at("weight_decay"));
    plan.max_grad_norm = std::stod(m.at("max_grad_norm"));
    plan.adam_beta1 = std::stod(m.at("adam_beta1"));
    plan.adam_beta2 = std::stod(m.at("adam_beta2"));
    plan.adam_epsilon = std::stod(m.at("adam_epsilon"));
    steps = std::stoi(m.at("steps"));
    std::stringstream list(m.at("params"));
    for (std::string n; std::getline(list, n, ',');) names.push_back(n);
  }

  Tensor get(const std::string& key) const { return file.read_f32(key); }
  std::vector<double> f64(const std::string& key) const {
    const TensorInfo& info = file.get(key);
    EXPECT_EQ(info.dtype, DType::F64) << key;
    const auto bytes = file.data(info);
    std::vector<double> out(bytes.size() / sizeof(double));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

// Trainable tensors that own their storage, with ParamRefs into them.
struct OwnedParams {
  std::vector<Tensor> values, grads;
  std::vector<ParamRef> refs;

  OwnedParams(const OptimCase& c) {
    for (const std::string& n : c.names) {
      values.push_back(c.get("init." + n));
      grads.emplace_back(values.back().shape);
    }
    for (size_t i = 0; i < c.names.size(); ++i)
      refs.push_back({c.names[i], &values[i], &grads[i], hf_decays(c.names[i])});
  }
};

int64_t count_equal(const Tensor& a, const Tensor& b) {
  int64_t n = 0;
  for (int64_t i = 0; i < a.numel(); ++i) n += a.data[i] == b.data[i];
  return n;
}

class OptimGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimGolden, ScheduleLrIsBitwiseHf) {
  const OptimCase c(GetParam());
  const LrSchedule schedule = make_lr_schedule(c.plan, c.steps);
  EXPECT_EQ(schedule.warmup_steps(), std::stoll(c.file.metadata().at("resolved_warmup_steps")));
  const std::vector<double> used = c.f64("lr");
  ASSERT_EQ(used.size(), static_cast<size_t>(c.steps));
  for (int k = 1; k <= c.steps; ++k) EXPECT_EQ(schedule.lr_at(k - 1), used[k - 1]) << "update " << k;
  const std::vector<double> table = c.f64("schedule_lr");
  for (size_t s = 0; s < table.size(); ++s) EXPECT_EQ(schedule.lr_at(static_cast<int64_t>(s)), table[s]) << "s=" << s;
}

// AdamW alone, fed torch's clipped gradients and started each step from torch's previous parameters. The moments
// must equal torch's bit for bit. So must every parameter, except that torch's CPU sqrt (MKL VML) is not always
// correctly rounded (ours is, like CUDA's): an element may differ only where torch's value is exactly what the update
// gives with sqrt(v) moved by one ulp.
TEST_P(OptimGolden, AdamWIsBitwiseTorchUpToCpuSqrtRounding) {
  const OptimCase c(GetParam());
  OwnedParams p(c);
  AdamW opt(p.refs, adamw_options(c.plan));
  const LrSchedule schedule = make_lr_schedule(c.plan, c.steps);
  int64_t exact = 0, sqrt_neighbour = 0;
  for (int k = 1; k <= c.steps; ++k) {
    const std::string prev = k == 1 ? "init." : "step" + std::to_string(k - 1) + ".param.";
    const std::string step = "step" + std::to_string(k);
    for (size_t i = 0; i < c.names.size(); ++i) {
      p.values[i] = c.get(prev + c.names[i]);
      p.grads[i] = c.get(step + ".clipped." + c.names[i]);
    }
    const double lr = schedule.lr_at(k - 1);
    opt.step(lr);
    const float neg_step_size = static_cast<float>(-(lr / (1.0 - std::pow(0.9, k))));
    const float bc2_sqrt = static_cast<float>(std::pow(1.0 - std::pow(0.999, k), 0.5));
    for (size_t i = 0; i < c.names.size(); ++i) {
      const Tensor before = c.get(prev + c.names[i]), want = c.get(step + ".param." + c.names[i]);
      const double wd = p.refs[i].decay ? c.plan.weight_decay : 0.0;
      for (int64_t j = 0; j < want.numel(); ++j) {
        if (p.values[i].data[j] == want.data[j]) {
          ++exact;
          continue;
        }
        const float decayed = wd != 0.0 ? before.data[j] * static_cast<float>(1.0 - lr * wd) : before.data[j];
        const float m = opt.state().exp_avg[i].data[j], root = std::sqrt(opt.state().exp_avg_sq[i].data[j]);
        auto update_with = [&](float r) { return decayed + (neg_step_size * m) / (r / bc2_sqrt + 1e-8f); };
        EXPECT_EQ(p.values[i].data[j], update_with(root)) << step << " " << c.names[i] << "[" << j << "]";
        const bool explained = want.data[j] == update_with(std::nextafter(root, 0.0f)) ||
                               want.data[j] == update_with(std::nextafter(root, INFINITY));
        EXPECT_TRUE(explained) << step << " " << c.names[i] << "[" << j << "]: got " << p.values[i].data[j]
                               << ", torch " << want.data[j];
        sqrt_neighbour += explained;
      }
    }
  }
  std::printf("%s: %lld parameter values bitwise equal, %lld differ only by torch's CPU sqrt rounding\n",
              GetParam().c_str(), static_cast<long long>(exact), static_cast<long long>(sqrt_neighbour));
  EXPECT_GE(exact, 50 * sqrt_neighbour);
  EXPECT_EQ(opt.state().step, c.steps);
  for (size_t i = 0; i < c.names.size(); ++i) {
    const Tensor m = c.get("final.exp_avg." + c.names[i]), v = c.get("final.exp_avg_sq." + c.names[i]);
    EXPECT_EQ(count_equal(opt.state().exp_avg[i], m), m.numel()) << c.names[i];
    EXPECT_EQ(count_equal(opt.state().exp_avg_sq[i], v), v.numel()) << c.names[i];
  }
}

// The whole update from raw gradients: clip (norm accumulated differently from torch's SIMD reduction, so ~1 ulp),
// then AdamW with the scheduled lr.
TEST_P(OptimGolden, ClipThenAdamWMatchesTorch) {
  const OptimCase c(GetParam());
  OwnedParams p(c);
  AdamW opt(p.refs, adamw_options(c.plan));
  const LrSchedule schedule = make_lr_schedule(c.plan, c.steps);
  const Tensor norms = c.get("grad_norm");
  int64_t equal = 0, total = 0;
  for (int k = 1; k <= c.steps; ++k) {
    const std::string step = "step" + std::to_string(k);
    for (size_t i = 0; i < c.names.size(); ++i) p.grads[i] = c.get(step + ".grad." + c.names[i]);
    const float norm = clip_grad_norm(p.refs, c.plan.max_grad_norm);
    const float want_norm = norms.data[k - 1];  // at most 1 ulp apart
    EXPECT_TRUE(norm == want_norm || norm == std::nextafter(want_norm, 0.0f) ||
                norm == std::nextafter(want_norm, INFINITY))
        << step << ": " << norm << " vs torch " << want_norm;
    for (size_t i = 0; i < c.names.size(); ++i) {
      const Tensor want = c.get(step + ".clipped." + c.names[i]);
      EXPECT_LE(test::max_rel_err(p.grads[i].data, want.data), 1e-6) << step << " " << c.names[i];
    }
    opt.step(schedule.lr_at(k - 1));
    for (size_t i = 0; i < c.names.size(); ++i) {
      const Tensor want = c.get(step + ".param." + c.names[i]);
      EXPECT_LE(test::max_rel_err(p.values[i].data, want.data), 1e-6) << step << " " << c.names[i];
      equal += count_equal(p.values[i], want);
      total += want.numel();
    }
  }
  RecordProperty("bitwise_equal_params", std::to_string(equal) + "/" + std::to_string(total));
  std::printf("%s: %lld of %lld parameter values bitwise equal to torch\n", GetParam().c_str(),
              static_cast<long long>(equal), static_cast<long long>(total));
}

INSTANTIATE_TEST_SUITE_P(Cases, OptimGolden,
                         ::testing::Values("cosine_wd", "linear", "constant_with_warmup", "constant_noclip"));

// HF warmup: update 1 runs with lr 0, so no parameter moves (not even through weight decay), yet t, m and v advance.
TEST(OptimGoldenWarmup, FirstUpdateWithLrZeroOnlyAdvancesMoments) {
  const OptimCase c("cosine_wd");
  ASSERT_GT(c.plan.weight_decay, 0.0);
  OwnedParams p(c);
  AdamW opt(p.refs, adamw_options(c.plan));
  const LrSchedule schedule = make_lr_schedule(c.plan, c.steps);
  ASSERT_EQ(schedule.lr_at(0), 0.0);
  for (size_t i = 0; i < c.names.size(); ++i) p.grads[i] = c.get("step1.clipped." + c.names[i]);
  opt.step(schedule.lr_at(0));
  EXPECT_EQ(opt.state().step, 1);
  for (size_t i = 0; i < c.names.size(); ++i) {
    const Tensor init = c.get("init." + c.names[i]);
    EXPECT_EQ(count_equal(p.values[i], init), init.numel()) << c.names[i];
    EXPECT_EQ(count_equal(c.get("step1.param." + c.names[i]), init), init.numel()) << "torch too: " << c.names[i];
    for (int64_t j = 0; j < init.numel(); ++j) {
      // m = lerp(0, g, 1 − β1) = fma(1 − β1, g, 0); v = fma((1 − β2)·g, g, 0).
      const float g = p.grads[i].data[j], w1 = static_cast<float>(1.0 - 0.9), w2 = static_cast<float>(1.0 - 0.999);
      EXPECT_EQ(opt.state().exp_avg[i].data[j], std::fma(w1, g, 0.0f));
      EXPECT_EQ(opt.state().exp_avg_sq[i].data[j], std::fma(w2 * g, g, 0.0f));
      EXPECT_NE(opt.state().exp_avg[i].data[j], 0.0f);
    }
  }
}

}  // namespace
}  // namespace tune
