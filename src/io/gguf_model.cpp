// GGUF -> HF config dict -> ModelSpec, and GGUF tensors -> HF-named fp32 weights, the way transformers 5.x's
// load_gguf_checkpoint (modeling_gguf_pytorch_utils.py, integrations/ggml.py) maps them.
#include "io/gguf_model.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/threads.h"
#include "io/hf_config.h"
#include "kernels/cpu/dequant.h"

namespace tune {
namespace {

using json = nlohmann::json;

// What differs between the architectures at the GGUF boundary.
struct GgufArch {
  std::string_view arch;        // general.architecture
  std::string_view model_type;  // the HF model_type transformers gives it
  const char* head_dim_key;     // the metadata key (under "<arch>.") transformers reads head_dim from, or nullptr
  bool sliding_window;          // <arch>.attention.sliding_window -> sliding_window
  bool permute_qk;              // llama.cpp's converter permuted the Q/K rows (LlamaTensorProcessor undoes it)
  bool norm_plus_one;           // the converter stored norm weights as 1 + w (Gemma2TensorProcessor subtracts 1)
};

// gemma (v1): transformers has no GGUF mapping for it; llama.cpp's converter treats it like gemma2 (key_length is
// the head dim, norms stored + 1), so it is read the same way. qwen3: transformers leaves head_dim to Qwen3Config's
// default (128); llama.cpp stores the real one in attention.key_length, read here (equal on the released models).
constexpr std::array<GgufArch, 6> kArchs = {{
    {"gemma", "gemma", "attention.key_length", false, false, true},
    {"gemma2", "gemma2", "attention.key_length", true, false, true},
    {"gemma3", "gemma3_text", "attention.key_length", true, false, true},
    {"llama", "llama", "rope.dimension_count", false, true, false},
    {"qwen2", "qwen2", nullptr, false, false, false},
    {"qwen3", "qwen3", "attention.key_length", false, false, false},
}};

const GgufArch& find_arch(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  for (const GgufArch& a : kArchs)
    if (a.arch == arch) return a;
  fail(f.source(), ": GGUF architecture '", arch, "' is not supported; tune.cpp reads ", supported_gguf_architectures(),
       " (mistral files use llama)");
}

// <arch>.<suffix> -> config[key] when the file has it (integers stay integers, floats are the stored fp32 widened).
void map_int(const GgufFile& f, const std::string& arch, const char* suffix, const char* key, json& cfg) {
  if (auto v = f.get_int_or(arch + "." + suffix)) cfg[key] = *v;
}
void map_float(const GgufFile& f, const std::string& arch, const char* suffix, const char* key, json& cfg) {
  if (auto v = f.get_float_or(arch + "." + suffix)) cfg[key] = *v;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::vector<int64_t> llama_qk_stored_rows(int64_t rows, int64_t heads, const std::string& name) {
  TUNE_CHECK(heads > 0 && rows % (2 * heads) == 0, name, ": ", rows, " rows do not split into ", heads,
             " heads of two rotary halves");
  const int64_t d = rows / heads / 2;
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < d; ++i) order[static_cast<size_t>(h * 2 * d + j * d + i)] = h * 2 * d + 2 * i + j;
  return order;
}

GgufArchitecture gguf_architecture_of(const std::string& model_type) {
  const std::string hf = model_type == "mistral" ? "llama" : model_type == "gemma3" ? "gemma3_text" : model_type;
  for (const GgufArch& a : kArchs)
    if (a.model_type == hf) return {std::string(a.arch), a.permute_qk};
  fail("model_type ", model_type, " has no llama.cpp architecture mapped (tune.cpp maps ",
       supported_gguf_architectures(), ", and mistral as llama)");
}

std::string supported_gguf_architectures() {
  std::string out;
  for (const GgufArch& a : kArchs) out += (out.empty() ? "" : ", ") + std::string(a.arch);
  return out;
}

json gguf_hf_config(const GgufFile& f) {
  const GgufArch& a = find_arch(f);
  const std::string arch(a.arch);
  json cfg = json::object();
  cfg["model_type"] = std::string(a.model_type);
  // load_gguf_checkpoint: `"mistral" in model_name` tests the one-element list [general.name], so only a file named
  // exactly "mistral" becomes MistralForCausalLM; every other llama-arch file (Mistral ones too) loads as llama.
  if (a.arch == "llama" && f.get_string_or("general.name") == std::optional<std::string>("mistral"))
    cfg["model_type"] = "mistral";
  map_int(f, arch, "context_length", "max_position_embeddings", cfg);
  map_int(f, arch, "block_count", "num_hidden_layers", cfg);
  map_int(f, arch, "feed_forward_length", "intermediate_size", cfg);
  map_int(f, arch, "embedding_length", "hidden_size", cfg);
  if (a.head_dim_key) map_int(f, arch, a.head_dim_key, "head_dim", cfg);
  map_float(f, arch, "rope.freq_base", "rope_theta", cfg);
  map_int(f, arch, "attention.head_count", "num_attention_heads", cfg);
  map_int(f, arch, "attention.head_count_kv", "num_key_value_heads", cfg);
  map_float(f, arch, "attention.layer_norm_rms_epsilon", "rms_norm_eps", cfg);
  if (a.sliding_window) map_int(f, arch, "attention.sliding_window", "sliding_window", cfg);
  map_int(f, arch, "vocab_size", "vocab_size", cfg);
  if (!cfg.contains("vocab_size") && f.find("tokenizer.ggml.tokens"))
    cfg["vocab_size"] = f.get_strings("tokenizer.ggml.tokens").size();
  const std::array<std::pair<const char*, const char*>, 4> ids = {{{"bos_token_id", "bos_token_id"},
                                                                   {"eos_token_id", "eos_token_id"},
                                                                   {"unknown_token_id", "unk_token_id"},
                                                                   {"padding_token_id", "pad_token_id"}}};
  for (const auto& [suffix, key] : ids)
    if (auto v = f.get_int_or(std::string("tokenizer.ggml.") + suffix)) cfg[key] = *v;
  cfg["tie_word_embeddings"] = f.find_tensor("output.weight") == nullptr;
  for (const char* key : {"num_hidden_layers", "hidden_size", "num_attention_heads"})
    TUNE_CHECK(cfg.contains(key), f.source(), ": the GGUF metadata lacks the ", arch, " key that gives '", key,
               "'; the file is incomplete");
  return cfg;
}

ModelConfig gguf_model_config(const GgufFile& f, bool exact_gelu) {
  return parse_hf_config(gguf_hf_config(f).dump(), f.source() + " (GGUF metadata)", exact_gelu);
}

std::string gguf_tensor_name(const ModelSpec& spec, const std::string& hf_key) {
  if (hf_key == "lm_head.weight") return "output.weight";
  const std::string& pre = spec.names.prefix;
  TUNE_CHECK(starts_with(hf_key, pre), "internal: weight key '", hf_key, "' lacks the prefix '", pre, "'");
  const std::string key = hf_key.substr(pre.size());
  if (key == "embed_tokens.weight") return "token_embd.weight";
  if (key == "norm.weight") return "output_norm.weight";
  TUNE_CHECK(starts_with(key, "layers."), "internal: no GGUF name for weight key '", hf_key, "'");
  const size_t dot = key.find('.', 7);
  const std::string layer = key.substr(7, dot - 7);
  const std::string rest = key.substr(dot + 1);  // "self_attn.q_proj.weight"
  const size_t last = rest.rfind('.');
  const std::string module = rest.substr(0, last), suffix = rest.substr(last);  // suffix ".weight" | ".bias"
  static const std::array<std::pair<std::string_view, std::string_view>, 10> kModules = {{
      {"input_layernorm", "attn_norm"},
      {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"},
      {"self_attn.q_norm", "attn_q_norm"},
      {"self_attn.k_norm", "attn_k_norm"},
      {"mlp.gate_proj", "ffn_gate"},
      {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},
  }};
  std::string gguf;
  for (const auto& [hf, g] : kModules)
    if (module == hf) gguf = g;
  // The pre-MLP norm first: Llama calls it post_attention_layernorm, the name Gemma 2/3 give the attention output's.
  if (gguf.empty() && module == spec.names.mlp_norm) gguf = "ffn_norm";
  if (gguf.empty() && module == spec.names.attn_out_norm) gguf = "post_attention_norm";
  if (gguf.empty() && module == spec.names.mlp_out_norm) gguf = "post_ffw_norm";
  TUNE_CHECK(!gguf.empty(), "internal: no GGUF name for weight key '", hf_key, "'");
  return "blk." + layer + "." + gguf + suffix;
}

std::vector<GgufWeightSource> gguf_weight_sources(const GgufFile& f, const ModelConfig& cfg) {
  const GgufArch& a = find_arch(f);
  ModelWeights shapes_only;
  shapes_only.layers.resize(static_cast<size_t>(cfg.num_layers));
  std::vector<GgufWeightSource> out;
  std::set<std::string> used;
  visit_weights(cfg, shapes_only, [&](const std::string& key, Tensor&, Shape shape, WeightRole role) {
    const std::string name = gguf_tensor_name(cfg, key);
    GgufWeightSource s;
    s.tensor = f.find_tensor(name);
    TUNE_CHECK(s.tensor, f.source(), ": missing tensor '", name, "' (", key, ") that the metadata implies");
    const std::vector<int64_t>& ne = s.tensor->ne;
    const Shape stored = ne.size() == 1 ? Shape{ne[0]} : ne.size() == 2 ? Shape{ne[1], ne[0]} : Shape{};
    TUNE_CHECK(stored == shape, f.source(), ": tensor '", name, "' holds ", ne.size() == 2 ? "[out, in] " : "",
               stored.empty() ? cat(ne.size(), " dimensions") : shape_str(stored), " but the metadata implies ",
               shape_str(shape));
    s.shape = std::move(shape);
    s.role = role;
    if (a.permute_qk && (name.find(".attn_q.") != std::string::npos || name.find(".attn_k.") != std::string::npos)) {
      const bool q = name.find(".attn_q.") != std::string::npos;
      s.row_order = llama_qk_stored_rows(s.shape[0], q ? cfg.num_heads : cfg.num_kv_heads, name);
    }
    // Gemma2TensorProcessor: every tensor whose GGUF name contains "norm.weight" (attn/ffn/post norms, q/k norms,
    // output_norm) gets - 1.
    if (a.norm_plus_one && name.find("norm.weight") != std::string::npos) s.add = -1.0f;
    used.insert(name);
    out.push_back(std::move(s));
  });
  std::vector<std::string> extra;
  for (const GgufTensorInfo& t : f.tensors())
    if (!used.count(t.name)) extra.push_back(t.name);
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 5) list += cat(", ... (", extra.size(), " in all)");
    const bool rope_freqs = std::find(extra.begin(), extra.end(), "rope_freqs.weight") != extra.end();
    fail(f.source(), ": tensors a ", cfg.model_type, " model does not use: ", list,
         rope_freqs ? "; rope_freqs.weight holds llama3-style RoPE scaling, which tune.cpp does not read from GGUF"
                    : "; the file does not match its architecture metadata");
  }
  return out;
}

Tensor gguf_weight_f32(const GgufFile& f, const GgufWeightSource& src) {
  const GgufTensorInfo& t = *src.tensor;
  const int64_t cols = t.cols(), rows = t.rows();
  const int64_t row_bytes = ggml_row_bytes(t.type, cols);
  const auto* data = reinterpret_cast<const uint8_t*>(f.data(t).data());
  Tensor out(src.shape);  // [rows, cols]
#pragma omp parallel for schedule(static) if (parallel: parallel_worth(rows * cols))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t stored = src.row_order.empty() ? r : src.row_order[static_cast<size_t>(r)];
    float* dst = out.ptr() + r * cols;
    cpu::dequantize_row(t.type, data + stored * row_bytes, dst, cols);
    if (src.add != 0.0f)
      for (int64_t c = 0; c < cols; ++c) dst[c] += src.add;
  }
  return out;
}

QuantMatrix gguf_weight_blocks(const GgufFile& f, const GgufWeightSource& src) {
  const GgufTensorInfo& t = *src.tensor;
  TUNE_CHECK(src.role == WeightRole::Linear && src.add == 0.0f, "internal: ", t.name, " is not a plain linear weight");
  const std::span<const std::byte> bytes = f.data(t);
  const std::string what = f.source() + ": " + t.name;
  if (src.row_order.empty())
    return make_quant_matrix(t.type, t.rows(), t.cols(), bytes.data(), int64_t(bytes.size()), f.mapping(),
                             what.c_str());
  const int64_t row_bytes = ggml_row_bytes(t.type, t.cols());
  auto reordered = std::make_shared<std::vector<uint8_t>>(bytes.size());
  const auto* stored = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t r = 0; r < src.row_order.size(); ++r)
    std::copy_n(stored + src.row_order[r] * row_bytes, row_bytes, reordered->data() + int64_t(r) * row_bytes);
  return make_quant_matrix(t.type, t.rows(), t.cols(), reordered->data(), int64_t(reordered->size()), reordered,
                           what.c_str());
}

ModelWeights load_gguf_weights(const GgufFile& f, const ModelConfig& cfg, bool keep_quantized) {
  const std::vector<GgufWeightSource> sources = gguf_weight_sources(f, cfg);
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(cfg.num_layers));
  std::map<std::string, const GgufWeightSource*> kept;  // HF key -> source of a projection kept as blocks
  size_t i = 0;
  visit_weights(cfg, w, [&](const std::string& key, Tensor& t, Shape, WeightRole role) {
    const GgufWeightSource& src = sources[i++];
    if (keep_quantized && role == WeightRole::Linear && src.tensor->type != GgmlType::F32)
      kept[key] = &src;
    else
      t = gguf_weight_f32(f, src);
  });
  for (int l = 0; l < cfg.num_layers; ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const std::string key = cfg.names.prefix + "layers." + std::to_string(l) + "." +
                              std::string(proj_module_path(static_cast<Proj>(p))) + ".weight";
      if (auto it = kept.find(key); it != kept.end())
        projection(w.layers[static_cast<size_t>(l)], static_cast<Proj>(p)) =
            FrozenLinear{{}, gguf_weight_blocks(f, *it->second)};
    }
  return w;
}

DType gguf_export_dtype(const GgufFile& f) {
  switch (f.tensor("token_embd.weight").type) {
    case GgmlType::F32: return DType::F32;
    case GgmlType::F16: return DType::F16;
    case GgmlType::BF16: return DType::BF16;
    default: return DType::BF16;
  }
}

}  // namespace tune
