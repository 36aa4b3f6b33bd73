// ModelSpec helpers: the per-layer lookup and the Gemma-1 defaults synthetic models start from.
#include "model/spec.h"

#include <cmath>

#include "core/error.h"

namespace tune {

const LayerSpec& ModelSpec::layer(int l) const {
  TUNE_CHECK(static_cast<int>(layers.size()) == num_layers, "the model spec lists ", layers.size(),
             " layers but num_hidden_layers is ", num_layers, "; build it from config.json or with finish_gemma_spec");
  return layers[static_cast<size_t>(l)];
}

ModelSpec gemma_spec_defaults() {
  ModelSpec s;
  s.model_type = "gemma";
  s.architecture = "GemmaForCausalLM";
  s.norm = NormKind::OnePlusWeight;
  s.activation = Activation::GeluTanh;
  s.tie_word_embeddings = true;
  return s;
}

void finish_gemma_spec(ModelSpec& s) {
  // Gemma scales token embeddings by sqrt(H), as an fp32 scalar; scores by head_dim^-1/2.
  s.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(s.hidden_size)));
  s.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)));
  LayerSpec layer;
  layer.rope.theta = s.rope_theta;
  s.layers.assign(static_cast<size_t>(std::max(s.num_layers, 0)), layer);
}

}  // namespace tune
