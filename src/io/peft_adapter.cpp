// PEFT adapter folders: adapter_config.json parse/write (0.8.x key set), adapter weights and the value head file.
#include "io/peft_adapter.h"

#include "core/py_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace tune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";
constexpr const char* kWeightKey = "v_head.summary.weight";
constexpr const char* kBiasKey = "v_head.summary.bias";

// ---- reading adapter_config.json ----

bool is_null_or_empty(const json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || ((v.is_array() || v.is_object()) && v.empty()) ||
         (v.is_string() && v.get<std::string>().empty());
}

int json_int(const json& v, const std::string& key, const std::string& src) {
  TUNE_CHECK(v.is_number_integer(), src, ": '", key, "' must be an integer, got ", v.dump());
  const int64_t x = v.get<int64_t>();
  TUNE_CHECK(x >= INT32_MIN && x <= INT32_MAX, src, ": '", key, "' = ", x, " is out of range");
  return static_cast<int>(x);
}

float json_float(const json& v, const std::string& key, const std::string& src) {
  TUNE_CHECK(v.is_number(), src, ": '", key, "' must be a number, got ", v.dump());
  return static_cast<float>(v.get<double>());
}

// Keys of newer PEFT versions (and old options) that change what the adapter computes; tune.cpp supports them only
// at their neutral value. Each entry: key, message.
struct Unsupported {
  const char* key;
  const char* message;
};
constexpr Unsupported kUnsupported[] = {
    {"use_dora", "DoRA adapters are not supported"},
    {"fan_in_fan_out", "fan_in_fan_out=true is not supported (Gemma linears are not Conv1D)"},
    {"layers_to_transform", "layers_to_transform is not supported yet; target every layer"},
    {"modules_to_save", "modules_to_save is not supported yet (only LoRA weights are loaded)"},
    {"layer_replication", "layer_replication is not supported"},
    {"exclude_modules", "exclude_modules is not supported yet"},
    {"lora_bias", "lora_bias=true is not supported"},
    {"trainable_token_indices", "trainable_token_indices is not supported"},
    {"target_parameters", "target_parameters is not supported"},
    {"alora_invocation_tokens", "aLoRA adapters are not supported"},
    {"use_qalora", "QALoRA adapters are not supported"},
};

template <class V, class Read>
std::map<std::string, V> read_pattern(const json& root, const char* key, const std::string& src, Read read) {
  std::map<std::string, V> out;
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return out;
  TUNE_CHECK(it->is_object(), src, ": '", key, "' must be an object of module pattern -> value, got ", it->dump());
  for (const auto& [pattern, value] : it->items()) out[pattern] = read(value, cat(key, "[\"", pattern, "\"]"), src);
  return out;
}

// ---- writing adapter_config.json the way Python json.dumps(indent=2, sort_keys=True) does ----

std::string json_string(const std::string& s) { return json(s).dump(-1, ' ', /*ensure_ascii=*/true); }

// Python repr() of a float32 config value: "0.05", "0.0", "1e-05", "1.5e+16".
std::string python_float(float x) {
  TUNE_CHECK(std::isfinite(x), "adapter_config.json: cannot write the non-finite number ", x);
  return py_float_repr(x);
}

// An alpha the way PEFT users write it: integral values as integers (16), others as Python floats (0.5).
std::string number_text(float x) {
  if (std::isfinite(x) && std::floor(x) == x && std::abs(x) < 1e15f) return std::to_string(static_cast<int64_t>(x));
  return python_float(x);
}

template <class V, class Text>
std::string dict_text(const std::map<std::string, V>& m, Text text) {
  if (m.empty()) return "{}";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    out += first ? "\n    " : ",\n    ";
    out += json_string(k) + ": " + text(v);
    first = false;
  }
  return out + "\n  }";
}

std::string list_text(const std::vector<std::string>& items) {
  if (items.empty()) return "[]";
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\n    " : "\n    ") + json_string(items[i]);
  return out + "\n  ]";
}

// ---- adapter weights ----

// A LoRA tensor key PEFT writes for a decoder-layer projection: layer, projection, 'A'/'B'.
struct ParsedKey {
  int layer;
  Proj proj;
  char which;
};

// PEFT's key of a decoder-layer projection under `prefix` (the checkpoint's decoder prefix, "model." or
// "model.language_model."): layer, projection, 'A'/'B'.
std::optional<ParsedKey> parse_lora_key(const std::string& key, const std::string& prefix) {
  const std::string head = "base_model.model." + prefix + "layers.";
  if (key.compare(0, head.size(), head) != 0) return std::nullopt;
  static const std::regex re(R"((\d{1,9})\.(self_attn|mlp)\.(\w+)\.lora_([AB])\.weight)");
  std::smatch m;
  const std::string rest = key.substr(head.size());
  if (!std::regex_match(rest, m, re)) return std::nullopt;
  const std::string path = m[2].str() + "." + m[3].str();
  for (int pi = 0; pi < kNumProj; ++pi)
    if (proj_module_path(static_cast<Proj>(pi)) == path)
      return ParsedKey{std::stoi(m[1].str()), static_cast<Proj>(pi), m[4].str()[0]};
  return std::nullopt;
}

// Explains why `key` in the adapter file has no place in the adapter the config describes.
[[noreturn]] void fail_unexpected_key(const std::string& key, const std::string& src, const LoraAdapter& adapter) {
  const std::optional<ParsedKey> k = parse_lora_key(key, adapter.prefix);
  if (!k) {
    if (key.find("lora_") != std::string::npos)
      fail(src, ": tensor '", key, "' is a LoRA weight tune.cpp does not know (only the q/k/v/o/gate/up/down "
           "projections of a gemma decoder are supported)");
    fail(src, ": tensor '", key, "' is not a LoRA weight; adapters with extra trained tensors are not supported");
  }
  const int layers = static_cast<int>(adapter.layers.size());
  if (k->layer >= layers)
    fail(src, ": tensor '", key, "' is for layer ", k->layer, " but the model has ", layers,
         " layers; the adapter was trained for a different model");
  fail(src, ": tensor '", key, "' is for module ", adapter.module_name(k->layer, k->proj),
       " which adapter_config.json's target_modules does not target; the config and weights do not match");
}

// Reads one LoRA matrix after checking its presence and shape.
Tensor read_lora_tensor(const SafetensorsFile& f, const std::string& key, const Shape& expected) {
  const TensorInfo* t = f.find(key);
  TUNE_CHECK(t, f.source(), ": missing tensor '", key, "' for a module that adapter_config.json targets");
  TUNE_CHECK(t->shape == expected, f.source(), ": tensor '", key, "' has shape ", shape_str(t->shape), " but ",
             shape_str(expected), " is expected; the adapter was trained for a different model (or rank)");
  TUNE_CHECK(dtype_is_float(t->dtype), f.source(), ": tensor '", key, "' has dtype ", dtype_name(t->dtype),
             "; LoRA weights must be a floating-point type");
  return f.read_f32(key, &expected);
}

}  // namespace

LoraConfig parse_adapter_config(std::string_view json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    fail(source, ": not valid JSON (", e.what(), ")");
  }
  TUNE_CHECK(root.is_object(), source, ": expected a JSON object at the top level");
  auto get = [&](const char* key) -> const json* {
    auto it = root.find(key);
    return it == root.end() || it->is_null() ? nullptr : &*it;
  };
  auto get_string = [&](const char* key) -> const std::string* {
    const json* v = get(key);
    if (!v) return nullptr;
    TUNE_CHECK(v->is_string(), source, ": '", key, "' must be a string, got ", v->dump());
    return v->get_ptr<const std::string*>();
  };

  const std::string* peft_type = get_string("peft_type");
  TUNE_CHECK(peft_type, source, ": missing 'peft_type'; is this a PEFT adapter_config.json?");
  TUNE_CHECK(*peft_type == "LORA", source, ": peft_type '", *peft_type, "' is not supported; only LORA adapters");

  for (const Unsupported& u : kUnsupported) {
    const json* v = get(u.key);
    if (v && !is_null_or_empty(*v)) fail(source, ": ", u.message, " ('", u.key, "' = ", v->dump(), ")");
  }

  LoraConfig c;
  if (const json* v = get("r")) c.r = json_int(*v, "r", source);
  TUNE_CHECK(c.r > 0, source, ": 'r' must be > 0, got ", c.r);
  if (const json* v = get("lora_alpha")) c.lora_alpha = json_float(*v, "lora_alpha", source);
  TUNE_CHECK(std::isfinite(c.lora_alpha), source, ": 'lora_alpha' must be finite, got ", c.lora_alpha);
  if (const json* v = get("lora_dropout")) c.lora_dropout = json_float(*v, "lora_dropout", source);
  TUNE_CHECK(c.lora_dropout >= 0.0f && c.lora_dropout < 1.0f, source, ": 'lora_dropout' must be in [0, 1), got ",
             c.lora_dropout);
  if (const json* v = get("use_rslora")) {
    TUNE_CHECK(v->is_boolean(), source, ": 'use_rslora' must be true or false, got ", v->dump());
    c.use_rslora = v->get<bool>();
  }

  const json* targets = get("target_modules");
  TUNE_CHECK(targets, source, ": adapter_config.json has no target_modules; set lora_target");
  if (targets->is_string()) {
    c.target_regex = targets->get<std::string>();
  } else {
    TUNE_CHECK(targets->is_array(), source, ": 'target_modules' must be a list of names or a regex string, got ",
               targets->dump());
    for (const json& t : *targets) {
      TUNE_CHECK(t.is_string(), source, ": 'target_modules' entries must be strings, got ", t.dump());
      c.target_modules.push_back(t.get<std::string>());
    }
    TUNE_CHECK(!c.target_modules.empty(), source, ": 'target_modules' is empty; set lora_target");
  }

  c.rank_pattern = read_pattern<int>(root, "rank_pattern", source, json_int);
  c.alpha_pattern = read_pattern<float>(root, "alpha_pattern", source, json_float);
  for (const auto& [pattern, r] : c.rank_pattern)
    TUNE_CHECK(r > 0, source, ": rank_pattern[\"", pattern, "\"] must be > 0, got ", r);

  if (const std::string* s = get_string("base_model_name_or_path")) c.base_model_name_or_path = *s;
  const std::string* task = get_string("task_type");
  c.task_type = task ? *task : "";
  if (const std::string* bias = get_string("bias")) c.bias = *bias;
  TUNE_CHECK(c.bias == "none", source, ": bias '", c.bias, "' is not supported (bias training); use \"none\"");
  return c;
}

std::string adapter_config_json(const LoraConfig& cfg) {
  auto opt_string = [](const std::string& s) { return s.empty() ? std::string("null") : json_string(s); };
  const std::string targets = cfg.target_regex ? json_string(*cfg.target_regex) : list_text(cfg.target_modules);
  const std::pair<const char*, std::string> entries[] = {
      {"alpha_pattern", dict_text(cfg.alpha_pattern, number_text)},
      {"auto_mapping", "null"},
      {"base_model_name_or_path", opt_string(cfg.base_model_name_or_path)},
      {"bias", json_string(cfg.bias)},
      {"fan_in_fan_out", "false"},
      {"inference_mode", "true"},
      {"init_lora_weights", "true"},
      {"layers_pattern", "null"},
      {"layers_to_transform", "null"},
      {"loftq_config", "{}"},
      {"lora_alpha", number_text(cfg.lora_alpha)},
      {"lora_dropout", python_float(cfg.lora_dropout)},
      {"megatron_config", "null"},
      {"megatron_core", "\"megatron.core\""},
      {"modules_to_save", "null"},
      {"peft_type", "\"LORA\""},
      {"r", std::to_string(cfg.r)},
      {"rank_pattern", dict_text(cfg.rank_pattern, [](int r) { return std::to_string(r); })},
      {"revision", "null"},
      {"target_modules", targets},
      {"task_type", opt_string(cfg.task_type)},
      {"use_rslora", cfg.use_rslora ? "true" : "false"},
  };
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : entries) {
    out += first ? "\n  " : ",\n  ";
    out += cat("\"", key, "\": ", value);
    first = false;
  }
  return out + "\n}";
}

LoraAdapter load_peft_adapter(const fs::path& dir, const ModelConfig& model) {
  TUNE_CHECK(fs::is_directory(dir), dir.string(), " is not a directory; pass a PEFT adapter folder");
  const fs::path config_file = dir / kConfigFile, weights_file = dir / kWeightsFile;
  TUNE_CHECK(fs::is_regular_file(config_file), config_file.string(),
             " not found; pass a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)");
  if (!fs::is_regular_file(weights_file)) {
    TUNE_CHECK(!fs::exists(dir / "adapter_model.bin"), (dir / "adapter_model.bin").string(),
               ": .bin adapters are not supported; re-save it with save_pretrained(..., safe_serialization=True)");
    fail(weights_file.string(), " not found; the adapter folder is incomplete");
  }

  const LoraConfig config = parse_adapter_config(read_text_file(config_file), config_file.string());
  // The module layout (which modules, r, scaling, shapes) comes from init_lora; the loaded tensors replace A and B.
  LoraAdapter adapter;
  try {
    adapter = init_lora(model, config, /*seed=*/0);
  } catch (const Error& e) {
    fail(config_file.string(), ": ", e.what());
  }
  const SafetensorsFile f = SafetensorsFile::open(weights_file);

  std::set<std::string> used;
  for (int l = 0; l < model.num_layers; ++l) {
    for (int pi = 0; pi < kNumProj; ++pi) {
      std::optional<LoraModule>& m = adapter.layers[static_cast<size_t>(l)][static_cast<size_t>(pi)];
      if (!m) continue;
      const Proj p = static_cast<Proj>(pi);
      const std::string key_a = adapter.tensor_key(l, p, 'A'), key_b = adapter.tensor_key(l, p, 'B');
      m->A = read_lora_tensor(f, key_a, m->A.shape);  // [r, in]
      m->B = read_lora_tensor(f, key_b, m->B.shape);  // [out, r]
      used.insert(key_a);
      used.insert(key_b);
    }
  }
  for (const TensorInfo& t : f.tensors())
    if (!used.count(t.name)) fail_unexpected_key(t.name, f.source(), adapter);
  return adapter;
}

void save_peft_adapter(const fs::path& dir, const LoraAdapter& adapter) {
  std::vector<NamedTensor> tensors;
  for (size_t l = 0; l < adapter.layers.size(); ++l) {
    for (int pi = 0; pi < kNumProj; ++pi) {
      const std::optional<LoraModule>& m = adapter.layers[l][static_cast<size_t>(pi)];
      if (!m) continue;
      const Proj p = static_cast<Proj>(pi);
      tensors.push_back({adapter.tensor_key(static_cast<int>(l), p, 'A'), &m->A});
      tensors.push_back({adapter.tensor_key(static_cast<int>(l), p, 'B'), &m->B});
    }
  }
  TUNE_CHECK(!tensors.empty(), "save_peft_adapter: the adapter has no LoRA modules; nothing to save to ",
             dir.string());
  fs::create_directories(dir);
  write_safetensors_f32(dir / kWeightsFile, tensors, DType::F32);
  write_file_atomic(dir / kConfigFile, adapter_config_json(adapter.config));
}

ValueHead load_value_head(const fs::path& file, int hidden_size) {
  TUNE_CHECK(fs::is_regular_file(file), file.string(), " not found; a reward model needs its value_head.safetensors");
  const SafetensorsFile f = SafetensorsFile::open(file);
  for (const TensorInfo& t : f.tensors())
    TUNE_CHECK(t.name == kWeightKey || t.name == kBiasKey, f.source(), ": unexpected tensor '", t.name,
               "'; a value head file holds only ", kWeightKey, " and ", kBiasKey);
  auto read = [&](const char* key, const Shape& shape) {
    const TensorInfo* t = f.find(key);
    TUNE_CHECK(t, f.source(), ": missing tensor '", key, "'");
    TUNE_CHECK(t->shape == shape, f.source(), ": tensor '", key, "' has shape ", shape_str(t->shape), " but ",
               shape_str(shape), " is expected; the value head was trained for a model with a different hidden_size");
    TUNE_CHECK(dtype_is_float(t->dtype), f.source(), ": tensor '", key, "' has dtype ", dtype_name(t->dtype),
               "; value head weights must be a floating-point type");
    return f.read_f32(key, &shape);
  };
  ValueHead head;
  head.weight = read(kWeightKey, {1, hidden_size});  // [1, H]
  head.bias = read(kBiasKey, {1});                   // [1]
  head.dweight = Tensor(head.weight.shape);
  head.dbias = Tensor(head.bias.shape);
  return head;
}

void save_value_head(const fs::path& file, const ValueHead& head) {
  TUNE_CHECK(head.weight.shape.size() == 2 && head.weight.shape[0] == 1 && head.bias.shape == Shape{1},
             "save_value_head: expected weight [1, H] and bias [1], got ", shape_str(head.weight.shape), " and ",
             shape_str(head.bias.shape));
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  write_safetensors_f32(file, {{kWeightKey, &head.weight}, {kBiasKey, &head.bias}}, DType::F32);
}

}  // namespace tune
