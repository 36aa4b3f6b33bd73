// torch's single-tensor AdamW update in fp32, reproducing its operation order and roundings, and its state I/O.
#include "train/adamw.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace tune {
namespace {

// torch's lerp(start, end, w) on CPU: fma(w, end − start, start) for |w| < 0.5, else fma(w − 1, end − start, end).
inline float torch_lerp(float start, float end, float w) {
  return std::abs(w) < 0.5f ? std::fma(w, end - start, start) : std::fma(w - 1.0f, end - start, end);
}

// θ *= factor as its own pass (torch's param.mul_), so the product is rounded before the later add.
void scale_in_place(Tensor& t, float factor) {
  float* x = t.ptr();
  const int64_t n = t.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * factor;
}

// One moment tensor of param p from an optimizer-state file, checked against the param's shape.
Tensor read_moment(const SafetensorsFile& file, const ParamRef& p, const char* suffix) {
  const std::string key = p.name + suffix;
  TUNE_CHECK(file.find(key) != nullptr, file.source(), ": optimizer state has no tensor '", key,
             "'; the checkpoint was saved for different trainable parameters (check lora_target / lora_rank)");
  return file.read_f32(key, &p.value->shape);
}

}  // namespace

AdamWOptions adamw_options(const Plan& plan) {
  return AdamWOptions{plan.adam_beta1, plan.adam_beta2, plan.adam_epsilon, plan.weight_decay};
}

AdamW::AdamW(std::vector<ParamRef> params, AdamWOptions options) : params_(std::move(params)), options_(options) {
  TUNE_CHECK(options_.beta1 >= 0.0 && options_.beta1 < 1.0, "adam_beta1 must be in [0, 1), got ", options_.beta1);
  TUNE_CHECK(options_.beta2 >= 0.0 && options_.beta2 < 1.0, "adam_beta2 must be in [0, 1), got ", options_.beta2);
  TUNE_CHECK(options_.eps >= 0.0, "adam_epsilon must be >= 0, got ", options_.eps);
  TUNE_CHECK(options_.weight_decay >= 0.0, "weight_decay must be >= 0, got ", options_.weight_decay);
  for (const ParamRef& p : params_) {
    TUNE_CHECK(p.value->shape == p.grad->shape, "AdamW: gradient of ", p.name, " has shape ", shape_str(p.grad->shape),
               ", the parameter ", shape_str(p.value->shape));
    state_.exp_avg.emplace_back(p.value->shape);
    state_.exp_avg_sq.emplace_back(p.value->shape);
  }
}

void AdamW::step(double lr) {
  state_.step += 1;
  const double t = static_cast<double>(state_.step);
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  const double step_size = lr / bias_correction1;
  const float neg_step_size = static_cast<float>(-step_size);
  const float bias_correction2_sqrt = static_cast<float>(std::pow(bias_correction2, 0.5));  // Python `** 0.5`
  const float lerp_weight = static_cast<float>(1.0 - options_.beta1);
  const float beta2 = static_cast<float>(options_.beta2);
  const float one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  const float eps = static_cast<float>(options_.eps);

  for (size_t k = 0; k < params_.size(); ++k) {
    const ParamRef& p = params_[k];
    const double weight_decay = p.decay ? options_.weight_decay : 0.0;
    if (weight_decay != 0.0) {
      // Python rounds lr·λ before subtracting; volatile keeps the compiler from fusing it into an fma.
      const volatile double lr_decay = lr * weight_decay;
      scale_in_place(*p.value, static_cast<float>(1.0 - lr_decay));
    }
    float* theta = p.value->ptr();
    const float* grad = p.grad->ptr();
    float* m = state_.exp_avg[k].ptr();
    float* v = state_.exp_avg_sq[k].ptr();
    const int64_t n = p.value->numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      const float g = grad[i];
      m[i] = torch_lerp(m[i], g, lerp_weight);
      v[i] = std::fma(one_minus_beta2 * g, g, v[i] * beta2);
      const float denom = std::sqrt(v[i]) / bias_correction2_sqrt + eps;
      theta[i] = theta[i] + (neg_step_size * m[i]) / denom;
    }
  }
}

std::vector<NamedTensor> AdamW::state_tensors() const {
  std::vector<NamedTensor> out;
  for (size_t k = 0; k < params_.size(); ++k) {
    out.push_back({params_[k].name + ".exp_avg", &state_.exp_avg[k]});
    out.push_back({params_[k].name + ".exp_avg_sq", &state_.exp_avg_sq[k]});
  }
  return out;
}

std::map<std::string, std::string> AdamW::state_metadata() const {
  return {{"format", "pt"}, {"step", std::to_string(state_.step)}};
}

void AdamW::load_state(const SafetensorsFile& file) {
  const auto it = file.metadata().find("step");
  TUNE_CHECK(it != file.metadata().end(), file.source(),
             ": optimizer state has no \"step\" in its __metadata__; it was not written by tune.cpp's AdamW");
  char* end = nullptr;
  const long long step = std::strtoll(it->second.c_str(), &end, 10);
  TUNE_CHECK(!it->second.empty() && *end == '\0' && step >= 0, file.source(), ": optimizer state \"step\" is '",
             it->second, "', expected a whole number >= 0");
  TUNE_CHECK(file.tensors().size() == 2 * params_.size(), file.source(), ": optimizer state has ",
             file.tensors().size(), " tensors, expected ", 2 * params_.size(),
             " (exp_avg and exp_avg_sq per trainable tensor); the checkpoint was saved for different trainable "
             "parameters (check lora_target / lora_rank)");
  AdamWState loaded;
  loaded.step = step;
  for (const ParamRef& p : params_) {
    loaded.exp_avg.push_back(read_moment(file, p, ".exp_avg"));
    loaded.exp_avg_sq.push_back(read_moment(file, p, ".exp_avg_sq"));
  }
  state_ = std::move(loaded);
}

}  // namespace tune
