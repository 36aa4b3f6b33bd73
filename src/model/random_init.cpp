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
  const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, Q = cfg.q_dim(), KV = cfg.kv_dim();
  ModelWeights w;
  w.embed = normal({cfg.vocab_size, H}, std, rng);
  for (int l = 0; l < cfg.num_layers; ++l) {
    LayerWeights lw;
    lw.input_norm = normal({H}, norm_std, rng);
    lw.q = normal({Q, H}, std, rng);
    lw.k = normal({KV, H}, std, rng);
    lw.v = normal({KV, H}, std, rng);
    lw.o = normal({H, Q}, std, rng);
    lw.post_attn_norm = normal({H}, norm_std, rng);
    lw.gate = normal({I, H}, std, rng);
    lw.up = normal({I, H}, std, rng);
    lw.down = normal({H, I}, std, rng);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = normal({H}, norm_std, rng);
  return w;
}

}  // namespace tune
