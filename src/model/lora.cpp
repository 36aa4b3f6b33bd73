// LoRA module naming, PEFT target/rank/alpha matching, and PEFT-default initialisation of an adapter.
#include "model/lora.h"

#include <cmath>
#include <random>
#include <regex>

#include "core/error.h"

namespace tune {
namespace {

size_t index_of(Proj p) { return static_cast<size_t>(p); }

// std::regex that reports a bad pattern as a user error naming where it came from (`what` and the user's text).
std::regex compile_regex(const std::string& pattern, const char* what, const std::string& user_text) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail(what, " '", user_text, "' is not a valid regular expression (", e.what(), ")");
  }
}

// PEFT's pattern lookup: the first key k (in key order) whose regex `(.*\.)?k$` matches the module name.
template <class V>
const V* find_pattern(const std::map<std::string, V>& patterns, const std::string& module, const char* what) {
  for (const auto& [key, value] : patterns)
    if (std::regex_match(module, compile_regex("(.*\\.)?(?:" + key + ")", what, key))) return &value;
  return nullptr;
}

// Uniform float in [-bound, bound) from the top 24 bits of one 64-bit draw (same on every platform).
float uniform(std::mt19937_64& rng, float bound) {
  const float u = static_cast<float>(rng() >> 40) * 0x1.0p-24f;  // [0, 1)
  return (2.0f * u - 1.0f) * bound;
}

}  // namespace

std::string_view proj_module_path(Proj p) {
  static constexpr std::array<std::string_view, kNumProj> paths = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
      "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  return paths[index_of(p)];
}

int proj_in_features(const ModelConfig& cfg, Proj p) {
  switch (p) {
    case Proj::O: return cfg.q_dim();
    case Proj::Down: return cfg.intermediate_size;
    default: return cfg.hidden_size;
  }
}

int proj_out_features(const ModelConfig& cfg, Proj p) {
  switch (p) {
    case Proj::Q: return cfg.q_dim();
    case Proj::K:
    case Proj::V: return cfg.kv_dim();
    case Proj::Gate:
    case Proj::Up: return cfg.intermediate_size;
    default: return cfg.hidden_size;  // O, Down
  }
}

std::string module_name(std::string_view prefix, int layer, Proj p) {
  return cat(prefix, "layers.", layer, ".", proj_module_path(p));
}

std::string LoraAdapter::module_name(int layer, Proj p) const { return tune::module_name(prefix, layer, p); }

std::string LoraAdapter::tensor_key(int layer, Proj p, char which) const {
  return cat("base_model.model.", module_name(layer, p), ".lora_", which, ".weight");
}

int64_t LoraAdapter::num_params() const {
  int64_t n = 0;
  for (const auto& layer : layers)
    for (const auto& m : layer)
      if (m) n += m->A.numel() + m->B.numel();
  return n;
}

void LoraAdapter::zero_grad() {
  for (auto& layer : layers)
    for (auto& m : layer)
      if (m) {
        m->dA.zero();
        m->dB.zero();
      }
}

bool lora_targets(const LoraConfig& cfg, std::string_view prefix, int layer, Proj p) {
  const std::string name = module_name(prefix, layer, p);
  if (cfg.target_regex)
    return std::regex_match(name, compile_regex(*cfg.target_regex, "target_modules regex", *cfg.target_regex));
  for (const std::string& entry : cfg.target_modules) {
    if (name == entry) return true;
    if (name.size() > entry.size() && name.compare(name.size() - entry.size(), entry.size(), entry) == 0 &&
        name[name.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

int lora_rank_for(const LoraConfig& cfg, const std::string& module) {
  const int* r = find_pattern(cfg.rank_pattern, module, "rank_pattern key");
  return r ? *r : cfg.r;
}

float lora_alpha_for(const LoraConfig& cfg, const std::string& module) {
  const float* a = find_pattern(cfg.alpha_pattern, module, "alpha_pattern key");
  return a ? *a : cfg.lora_alpha;
}

// Draw order: layer-major, then projections q,k,v,o,gate,up,down, each targeted A filled row-major; B = 0.
LoraAdapter init_lora(const ModelConfig& model, const LoraConfig& cfg, uint64_t seed) {
  LoraAdapter adapter;
  adapter.config = cfg;
  adapter.prefix = model.names.module_prefix;
  adapter.layers.resize(static_cast<size_t>(model.num_layers));
  std::mt19937_64 rng(seed);
  int targeted = 0;
  for (int l = 0; l < model.num_layers; ++l) {
    for (int pi = 0; pi < kNumProj; ++pi) {
      const Proj p = static_cast<Proj>(pi);
      if (!lora_targets(cfg, adapter.prefix, l, p)) continue;
      const std::string name = adapter.module_name(l, p);
      const int r = lora_rank_for(cfg, name);
      const float alpha = lora_alpha_for(cfg, name);
      TUNE_CHECK(r > 0, "LoRA rank for ", name, " must be > 0, got ", r, "; fix lora_rank / rank_pattern");
      const int in = proj_in_features(model, p), out = proj_out_features(model, p);
      LoraModule m;
      m.r = r;
      const double denom = cfg.use_rslora ? std::sqrt(static_cast<double>(r)) : static_cast<double>(r);
      m.scaling = static_cast<float>(static_cast<double>(alpha) / denom);
      m.A = Tensor({r, in});  // [r, in]
      m.B = Tensor({out, r});  // [out, r]
      m.dA = Tensor(m.A.shape);
      m.dB = Tensor(m.B.shape);
      const float bound = 1.0f / std::sqrt(static_cast<float>(in));
      for (float& x : m.A.data) x = uniform(rng, bound);
      adapter.layers[static_cast<size_t>(l)][static_cast<size_t>(pi)] = std::move(m);
      ++targeted;
    }
  }
  TUNE_CHECK(targeted > 0, "LoRA target_modules match no module of the model; use names among q_proj, k_proj, "
             "v_proj, o_proj, gate_proj, up_proj, down_proj");
  return adapter;
}

}  // namespace tune
