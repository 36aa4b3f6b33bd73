#include "model/random_init.h"

#include <random>

namespace tune {

namespace {

Tensor normal(Shape shape, float stddev, std::mt19937_64& rng) {
  Tensor t(std::move(shape));
  std::normal_distribution<float> dist(0.0f, stddev);
  for (float& v : t.data) v = dist(rng);
  return t;
}

}  // namespace

ModelWeights random_weights(const ModelConfig& cfg, uint64_t seed, float std, float norm_std) {
  std::mt19937_64 rng(seed);
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(cfg.num_layers));
  // Norm scales are 1 + N(0, norm_std) whichever way the spec stores them ((1 + w) or w).
  const float norm_mean = 1.0f - cfg.norm_offset();
  visit_weights(cfg, w, [&](const std::string&, Tensor& t, Shape shape, WeightRole role) {
    t = normal(std::move(shape), role == WeightRole::Norm ? norm_std : std, rng);
    if (role == WeightRole::Norm)
      for (float& v : t.data) v += norm_mean;
  });
  return w;
}

}  // namespace tune
