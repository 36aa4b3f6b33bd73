// Shared config.json readers of the family parsers (see common.h).
#include "model/families/common.h"

#include <cmath>

#include "core/error.h"

namespace tune::family {

using json = nlohmann::json;

void read_common(const ConfigReader& r, const Defaults& d, ModelSpec& s) {
  s.vocab_size = r.required_int("vocab_size");
  s.hidden_size = r.required_int("hidden_size");
  s.intermediate_size = r.required_int("intermediate_size");
  s.num_layers = r.required_int("num_hidden_layers");
  s.num_heads = r.required_int("num_attention_heads");
  s.num_kv_heads = r.optional_int("num_key_value_heads", s.num_heads);
  TUNE_CHECK(s.num_heads > 0, r.source(), ": 'num_attention_heads' must be > 0, got ", s.num_heads);
  s.head_dim = r.optional_int("head_dim", s.hidden_size / s.num_heads);
  s.rms_norm_eps = static_cast<float>(r.optional_number("rms_norm_eps", 1e-6));
  s.max_position_embeddings = r.optional_int("max_position_embeddings", d.max_position_embeddings);
  s.tie_word_embeddings = r.optional_bool("tie_word_embeddings", d.tie_word_embeddings);
  s.pad_token_id = r.token_id("pad_token_id", d.pad_token_id);
  s.bos_token_id = r.token_id("bos_token_id", d.bos_token_id);
  s.eos_token_id = r.token_id("eos_token_id", d.eos_token_id);
  s.torch_dtype = read_torch_dtype(r);
}

DType read_torch_dtype(const ConfigReader& r) {
  const char* key = r.optional_string("torch_dtype") ? "torch_dtype" : "dtype";
  const std::string* name = r.optional_string(key);
  if (!name || *name == "float32") return DType::F32;
  if (*name == "bfloat16") return DType::BF16;
  if (*name == "float16") return DType::F16;
  fail(r.source(), ": '", key, "' = \"", *name, "\" is not supported; expected float32, bfloat16 or float16");
}

Activation read_activation(const ConfigReader& r, const char* family, Activation absent, bool gelu_is_tanh,
                           bool exact_gelu) {
  const char* key = r.optional_string("hidden_activation") ? "hidden_activation" : "hidden_act";
  const std::string* name = r.optional_string(key);
  Activation act;
  if (!name) act = absent;
  else if (*name == "gelu_pytorch_tanh" || *name == "gelu_new" || *name == "gelu_fast") act = Activation::GeluTanh;
  else if (*name == "gelu") act = gelu_is_tanh ? Activation::GeluTanh : Activation::GeluExact;
  else if (*name == "silu" || *name == "swish") act = Activation::Silu;
  else
    fail(r.source(), ": '", key, "' = \"", *name, "\" is not supported for ", family,
         "; use gelu_pytorch_tanh, gelu, gelu_new, gelu_fast or silu");
  if (exact_gelu) {
    TUNE_CHECK(act != Activation::Silu, r.source(), ": exact_gelu selects erf GELU, but this ", family,
               " model uses SiLU; drop exact_gelu");
    act = Activation::GeluExact;
  }
  return act;
}

RopeSpec read_rope_object(const ConfigReader& r, const json& obj, const std::string& key, RopeSpec base) {
  TUNE_CHECK(obj.is_object(), r.source(), ": '", key, "' must be an object, got ", obj.dump());
  const ConfigReader o(obj, r.source());
  const std::string k = key + ".";
  auto number = [&](const char* name, double fallback) {
    const json* v = o.find(name);
    return v ? r.to_number((k + name).c_str(), *v) : fallback;
  };
  base.theta = number("rope_theta", base.theta);
  TUNE_CHECK(number("partial_rotary_factor", 1.0) == 1.0, r.source(), ": '", k,
             "partial_rotary_factor' other than 1 is not supported yet");
  const char* type_key = o.find("rope_type") ? "rope_type" : "type";
  const json* type = o.find(type_key);
  const std::string name = type && type->is_string() ? type->get<std::string>() : "default";
  if (type && !type->is_string()) fail(r.source(), ": '", k, type_key, "' must be a string, got ", type->dump());
  if (name == "default") {
    base.scaling = RopeScaling::None;
  } else if (name == "linear") {
    base.scaling = RopeScaling::Linear;
    base.factor = number("factor", 1.0);
  } else if (name == "llama3") {
    base.scaling = RopeScaling::Llama3;
    base.factor = number("factor", 8.0);
    base.low_freq_factor = number("low_freq_factor", 1.0);
    base.high_freq_factor = number("high_freq_factor", 4.0);
    base.original_max_position = static_cast<int>(number("original_max_position_embeddings", 8192));
    TUNE_CHECK(base.high_freq_factor > base.low_freq_factor, r.source(), ": '", k,
               "high_freq_factor' must be greater than low_freq_factor");
  } else {
    fail(r.source(), ": '", key, "' has ", type_key, " \"", name,
         "\"; supported RoPE types: default, linear, llama3 (yarn, dynamic and longrope are not supported yet)");
  }
  TUNE_CHECK(base.factor > 0, r.source(), ": '", k, "factor' must be > 0, got ", base.factor);
  return base;
}

RopeSpec read_rope(const ConfigReader& r, double default_theta) {
  RopeSpec rope;
  rope.theta = r.optional_number("rope_theta", default_theta);
  if (const json* scaling = r.find("rope_scaling")) rope = read_rope_object(r, *scaling, "rope_scaling", rope);
  if (const json* params = r.find("rope_parameters")) rope = read_rope_object(r, *params, "rope_parameters", rope);
  TUNE_CHECK(rope.theta > 0, r.source(), ": 'rope_theta' must be > 0, got ", rope.theta);
  return rope;
}

std::vector<bool> read_sliding_layers(const ConfigReader& r, int num_layers, const std::function<bool(int)>& rule) {
  std::vector<bool> out(static_cast<size_t>(std::max(num_layers, 0)));
  const json* types = r.find("layer_types");
  if (!types) {
    for (int l = 0; l < num_layers; ++l) out[static_cast<size_t>(l)] = rule(l);
    return out;
  }
  TUNE_CHECK(types->is_array() && static_cast<int>(types->size()) == num_layers, r.source(),
             ": 'layer_types' must be a list of ", num_layers, " entries (one per layer), got ", types->dump());
  for (int l = 0; l < num_layers; ++l) {
    const json& t = (*types)[static_cast<size_t>(l)];
    const std::string name = t.is_string() ? t.get<std::string>() : t.dump();
    TUNE_CHECK(name == "sliding_attention" || name == "full_attention", r.source(), ": 'layer_types'[", l, "] = ",
               t.dump(), "; expected \"sliding_attention\" or \"full_attention\"");
    out[static_cast<size_t>(l)] = name == "sliding_attention";
  }
  return out;
}

std::vector<bool> qwen_sliding_layers(const ConfigReader& r, int num_layers, int* window) {
  const bool use = r.optional_bool("use_sliding_window", false);
  *window = use ? r.optional_int("sliding_window", 4096) : 0;
  const int first = r.optional_int("max_window_layers", 28);
  std::vector<bool> sliding = read_sliding_layers(r, num_layers, [&](int l) { return *window > 0 && l >= first; });
  if (*window == 0) sliding.assign(sliding.size(), false);  // HF: no window without use_sliding_window
  return sliding;
}

bool read_attention_bias(const ConfigReader& r, bool fallback) {
  TUNE_CHECK(!r.optional_bool("mlp_bias", false), r.source(), ": mlp_bias = true is not supported yet");
  return r.optional_bool("attention_bias", fallback);
}

void set_layers(ModelSpec& s, const LayerSpec& base, const std::vector<bool>& sliding, int window,
                const RopeSpec* sliding_rope) {
  s.layers.assign(static_cast<size_t>(s.num_layers), base);
  for (int l = 0; l < s.num_layers; ++l) {
    if (!sliding[static_cast<size_t>(l)]) continue;
    TUNE_CHECK(window > 0, "config.json: layer ", l, " uses sliding-window attention but 'sliding_window' is ",
               window, "; set sliding_window > 0");
    LayerSpec& layer = s.layers[static_cast<size_t>(l)];
    layer.sliding_window = window;
    if (sliding_rope) layer.rope = *sliding_rope;
  }
}

float read_softcap(const ConfigReader& r, const char* key, double fallback) {
  if (!r.object().contains(key)) return static_cast<float>(fallback);
  const double cap = r.optional_number(key, 0.0);
  TUNE_CHECK(cap >= 0, r.source(), ": '", key, "' must be > 0 (or null for none), got ", cap);
  return static_cast<float>(cap);
}

float inverse_sqrt(double x) { return static_cast<float>(std::pow(x, -0.5)); }

}  // namespace tune::family
