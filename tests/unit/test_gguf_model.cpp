// GGUF -> model on tiny files written with GgufWriter: the config dict transformers' GGUF loader builds (keys per
// architecture, vocab_size from the tokens, tie from the absent output.weight, gemma3 -> gemma3_text, the mistral
// name rule), HF <-> GGUF tensor names, llama.cpp's Q/K row permutation undone (checked against its permute written
// out here), Gemma's stored 1 + w norms back to w (q/k norms and the final norm too, never a projection), and the
// errors: unknown architecture, missing / misshapen / unused tensors.
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_model.h"
#include "io/gguf_writer.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

constexpr int64_t kV = 8, kH = 8, kI = 16, kHeads = 2, kKvHeads = 1, kD = 4;

// HF value of element (r, c) of tensor number `id`: distinct everywhere, multiples of 2^-10 below 16, so + 1 - 1 is
// exact in fp32.
float hf_value(int id, int64_t r, int64_t c) { return static_cast<float>(id * 1000 + r * 37 + c) / 1024.0f; }

struct TinyFile {
  GgufWriter w;
  std::vector<std::vector<float>> buffers;  // tensor bytes the writer's spans point at
  int next_id = 0;

  // An F32 tensor [rows, cols] (ggml ne = {cols, rows}; rows = 0 for a vector), stored row `s` holding HF row
  // stored_to_hf(s); `add` is what the converter added (Gemma norms: + 1).
  void tensor(const std::string& name, int64_t rows, int64_t cols, const std::vector<int64_t>& stored_to_hf = {},
              float add = 0.0f) {
    const int id = next_id++;
    const int64_t n_rows = rows == 0 ? 1 : rows;
    std::vector<float> data(static_cast<size_t>(n_rows * cols));
    for (int64_t s = 0; s < n_rows; ++s)
      for (int64_t c = 0; c < cols; ++c)
        data[size_t(s * cols + c)] = hf_value(id, stored_to_hf.empty() ? s : stored_to_hf[size_t(s)], c) + add;
    buffers.push_back(std::move(data));
    const auto& b = buffers.back();
    w.add_tensor({name, GgmlType::F32, rows == 0 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows},
                  std::as_bytes(std::span<const float>(b))});
  }
  GgufFile open() {
    bytes = w.serialize();
    return GgufFile::parse(bytes, "tiny.gguf");
  }
  std::vector<std::byte> bytes;
};

// llama.cpp's LlamaModel.permute (convert_hf_to_gguf.py): w.reshape(heads, 2, d, cols).swapaxes(1, 2): stored row
// h*2d + 2i + j is HF row h*2d + j*d + i.
std::vector<int64_t> llama_cpp_permute(int64_t rows, int64_t heads) {
  const int64_t d = rows / heads / 2;
  std::vector<int64_t> stored_to_hf(static_cast<size_t>(rows));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < 2; ++j) stored_to_hf[size_t(h * 2 * d + 2 * i + j)] = h * 2 * d + j * d + i;
  return stored_to_hf;
}

void llama_metadata(GgufWriter& w, const std::string& name = "tiny") {
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", name);
  w.add_u32("llama.context_length", 64);
  w.add_u32("llama.embedding_length", kH);
  w.add_u32("llama.block_count", 1);
  w.add_u32("llama.feed_forward_length", kI);
  w.add_u32("llama.rope.dimension_count", kD);
  w.add_u32("llama.attention.head_count", kHeads);
  w.add_u32("llama.attention.head_count_kv", kKvHeads);
  w.add_f32("llama.rope.freq_base", 100000.0f);
  w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_strings("tokenizer.ggml.tokens", {"a", "b", "c", "d", "e", "f", "g", "h"});
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
}

// The tensors of a one-layer llama (Q/K permuted as llama.cpp stores them), in HF role order; ids 0..11.
void llama_tensors(TinyFile& f, bool untied) {
  f.tensor("token_embd.weight", kV, kH);
  f.tensor("blk.0.attn_norm.weight", 0, kH);
  f.tensor("blk.0.attn_q.weight", kHeads * kD, kH, llama_cpp_permute(kHeads * kD, kHeads));
  f.tensor("blk.0.attn_k.weight", kKvHeads * kD, kH, llama_cpp_permute(kKvHeads * kD, kKvHeads));
  f.tensor("blk.0.attn_v.weight", kKvHeads * kD, kH);
  f.tensor("blk.0.attn_output.weight", kH, kHeads * kD);
  f.tensor("blk.0.ffn_norm.weight", 0, kH);
  f.tensor("blk.0.ffn_gate.weight", kI, kH);
  f.tensor("blk.0.ffn_up.weight", kI, kH);
  f.tensor("blk.0.ffn_down.weight", kH, kI);
  f.tensor("output_norm.weight", 0, kH);
  if (untied) f.tensor("output.weight", kV, kH);
}

// Every element of t equals hf_value(id, r, c).
void expect_hf(const Tensor& t, int id, const char* what) {
  const int64_t cols = t.shape.back(), rows = t.numel() / cols;
  int bad = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) bad += t.data[size_t(r * cols + c)] != hf_value(id, r, c);
  EXPECT_EQ(bad, 0) << what;
}

TEST(GgufModel, LlamaConfigIsWhatTransformersDerives) {
  TinyFile f;
  llama_metadata(f.w);
  llama_tensors(f, false);
  const GgufFile g = f.open();
  const nlohmann::json c = gguf_hf_config(g);
  EXPECT_EQ(c["model_type"], "llama");
  EXPECT_EQ(c["hidden_size"], kH);
  EXPECT_EQ(c["intermediate_size"], kI);
  EXPECT_EQ(c["num_hidden_layers"], 1);
  EXPECT_EQ(c["num_attention_heads"], kHeads);
  EXPECT_EQ(c["num_key_value_heads"], kKvHeads);
  EXPECT_EQ(c["head_dim"], kD);
  EXPECT_EQ(c["max_position_embeddings"], 64);
  EXPECT_EQ(c["rope_theta"].get<double>(), 100000.0);
  EXPECT_EQ(c["rms_norm_eps"].get<double>(), static_cast<double>(1e-5f));  // the stored fp32, widened
  EXPECT_EQ(c["vocab_size"], 8);  // no llama.vocab_size: the token count
  EXPECT_EQ(c["bos_token_id"], 1);
  EXPECT_EQ(c["eos_token_id"], 2);
  EXPECT_FALSE(c.contains("pad_token_id"));
  EXPECT_EQ(c["tie_word_embeddings"], true);
  const ModelConfig spec = gguf_model_config(g);
  EXPECT_EQ(spec.model_type, "llama");
  EXPECT_EQ(spec.head_dim, kD);
  EXPECT_TRUE(spec.tie_word_embeddings);
  EXPECT_EQ(spec.layers.at(0).rope.theta, 100000.0);
}

TEST(GgufModel, OnlyAFileNamedMistralBecomesMistral) {
  for (const auto& [name, type] : {std::pair{"mistral", "mistral"}, std::pair{"Mistral 7B Instruct", "llama"}}) {
    TinyFile f;
    llama_metadata(f.w, name);
    llama_tensors(f, true);
    const nlohmann::json c = gguf_hf_config(f.open());
    EXPECT_EQ(c["model_type"], type) << name;
    EXPECT_EQ(c["tie_word_embeddings"], false);
  }
}

TEST(GgufModel, LlamaWeightsAreHfOrderedWithQkUnpermuted) {
  TinyFile f;
  llama_metadata(f.w);
  llama_tensors(f, true);
  const GgufFile g = f.open();
  const ModelConfig cfg = gguf_model_config(g);
  const ModelWeights w = load_gguf_weights(g, cfg);
  expect_hf(w.embed, 0, "embed");
  const LayerWeights& L = w.layers.at(0);
  expect_hf(L.input_norm, 1, "input_norm");
  expect_hf(L.q.dense, 2, "q (un-permuted)");
  expect_hf(L.k.dense, 3, "k (un-permuted)");
  expect_hf(L.v.dense, 4, "v");
  expect_hf(L.o.dense, 5, "o");
  expect_hf(L.mlp_norm, 6, "mlp_norm (ffn_norm)");
  expect_hf(L.gate.dense, 7, "gate");
  expect_hf(L.up.dense, 8, "up");
  expect_hf(L.down.dense, 9, "down");
  expect_hf(w.final_norm, 10, "final_norm");
  expect_hf(w.lm_head, 11, "lm_head (output)");
  EXPECT_EQ(L.q.dense.shape, (Shape{kHeads * kD, kH}));
  EXPECT_EQ(L.o.dense.shape, (Shape{kH, kHeads * kD}));
}

void gemma3_metadata(GgufWriter& w) {
  w.add_string("general.architecture", "gemma3");
  w.add_u32("gemma3.context_length", 64);
  w.add_u32("gemma3.embedding_length", kH);
  w.add_u32("gemma3.block_count", 1);
  w.add_u32("gemma3.feed_forward_length", kI);
  w.add_u32("gemma3.attention.head_count", kHeads);
  w.add_u32("gemma3.attention.head_count_kv", kKvHeads);
  w.add_u32("gemma3.attention.key_length", kD);
  w.add_u32("gemma3.attention.value_length", kD);
  w.add_u32("gemma3.attention.sliding_window", 5);
  w.add_f32("gemma3.rope.freq_base", 1000000.0f);
  w.add_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.add_strings("tokenizer.ggml.tokens", {"a", "b", "c", "d", "e", "f", "g", "h"});
}

TEST(GgufModel, Gemma3NormsLoseTheStoredOneAndQkAreNotPermuted) {
  TinyFile f;
  gemma3_metadata(f.w);
  f.tensor("token_embd.weight", kV, kH);
  f.tensor("blk.0.attn_norm.weight", 0, kH, {}, 1.0f);
  f.tensor("blk.0.attn_q.weight", kHeads * kD, kH);
  f.tensor("blk.0.attn_k.weight", kKvHeads * kD, kH);
  f.tensor("blk.0.attn_v.weight", kKvHeads * kD, kH);
  f.tensor("blk.0.attn_output.weight", kH, kHeads * kD);
  f.tensor("blk.0.attn_q_norm.weight", 0, kD, {}, 1.0f);
  f.tensor("blk.0.attn_k_norm.weight", 0, kD, {}, 1.0f);
  f.tensor("blk.0.post_attention_norm.weight", 0, kH, {}, 1.0f);
  f.tensor("blk.0.ffn_norm.weight", 0, kH, {}, 1.0f);
  f.tensor("blk.0.ffn_gate.weight", kI, kH);
  f.tensor("blk.0.ffn_up.weight", kI, kH);
  f.tensor("blk.0.ffn_down.weight", kH, kI);
  f.tensor("blk.0.post_ffw_norm.weight", 0, kH, {}, 1.0f);
  f.tensor("output_norm.weight", 0, kH, {}, 1.0f);
  const GgufFile g = f.open();
  const nlohmann::json c = gguf_hf_config(g);
  EXPECT_EQ(c["model_type"], "gemma3_text");
  EXPECT_EQ(c["head_dim"], kD);
  EXPECT_EQ(c["sliding_window"], 5);
  const ModelConfig cfg = gguf_model_config(g);
  EXPECT_EQ(cfg.names.module_prefix, "model.");
  EXPECT_EQ(cfg.layers.at(0).sliding_window, 5);
  EXPECT_EQ(cfg.layers.at(0).rope.theta, 10000.0);  // rope_local_base_freq: Gemma3TextConfig's default
  const ModelWeights w = load_gguf_weights(g, cfg);
  const LayerWeights& L = w.layers.at(0);
  expect_hf(w.embed, 0, "embed");
  expect_hf(L.input_norm, 1, "input_norm");
  expect_hf(L.q.dense, 2, "q (not permuted)");
  expect_hf(L.k.dense, 3, "k (not permuted)");
  expect_hf(L.o.dense, 5, "o");
  expect_hf(L.q_norm, 6, "q_norm");
  expect_hf(L.k_norm, 7, "k_norm");
  expect_hf(L.attn_out_norm, 8, "post_attention_layernorm");
  expect_hf(L.mlp_norm, 9, "pre_feedforward_layernorm");
  expect_hf(L.down.dense, 12, "down");
  expect_hf(L.mlp_out_norm, 13, "post_feedforward_layernorm");
  expect_hf(w.final_norm, 14, "final_norm");
}

TEST(GgufModel, TensorNamesMapBothFamilies) {
  TinyFile f;
  llama_metadata(f.w);
  const ModelConfig llama = gguf_model_config(f.open());
  EXPECT_EQ(gguf_tensor_name(llama, "model.layers.0.post_attention_layernorm.weight"), "blk.0.ffn_norm.weight");
  EXPECT_EQ(gguf_tensor_name(llama, "model.layers.0.self_attn.o_proj.weight"), "blk.0.attn_output.weight");
  EXPECT_EQ(gguf_tensor_name(llama, "model.layers.0.self_attn.k_proj.bias"), "blk.0.attn_k.bias");
  EXPECT_EQ(gguf_tensor_name(llama, "model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_tensor_name(llama, "model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(gguf_tensor_name(llama, "lm_head.weight"), "output.weight");
  TinyFile g;
  gemma3_metadata(g.w);
  const ModelConfig gemma3 = gguf_model_config(g.open());
  EXPECT_EQ(gguf_tensor_name(gemma3, "model.layers.0.post_attention_layernorm.weight"),
            "blk.0.post_attention_norm.weight");
  EXPECT_EQ(gguf_tensor_name(gemma3, "model.layers.0.pre_feedforward_layernorm.weight"), "blk.0.ffn_norm.weight");
  EXPECT_EQ(gguf_tensor_name(gemma3, "model.layers.0.post_feedforward_layernorm.weight"), "blk.0.post_ffw_norm.weight");
  EXPECT_EQ(gguf_tensor_name(gemma3, "model.layers.0.self_attn.q_norm.weight"), "blk.0.attn_q_norm.weight");
}

// The other architectures: model_type, and head_dim / sliding_window read only where transformers reads them
// (qwen2: neither; gemma, qwen3: key_length; gemma2: both).
TEST(GgufModel, OtherArchitecturesMapTheirKeys) {
  struct Case {
    const char* arch;
    const char* model_type;
    bool head_dim, window;
  };
  for (const Case& c : {Case{"gemma", "gemma", true, false}, Case{"gemma2", "gemma2", true, true},
                        Case{"qwen2", "qwen2", false, false}, Case{"qwen3", "qwen3", true, false}}) {
    TinyFile f;
    const std::string a = c.arch;
    f.w.add_string("general.architecture", a);
    f.w.add_u32(a + ".embedding_length", kH);
    f.w.add_u32(a + ".block_count", 1);
    f.w.add_u32(a + ".feed_forward_length", kI);
    f.w.add_u32(a + ".attention.head_count", kHeads);
    f.w.add_u32(a + ".attention.head_count_kv", kKvHeads);
    f.w.add_u32(a + ".attention.key_length", kD);
    f.w.add_u32(a + ".rope.dimension_count", kD);
    f.w.add_u32(a + ".attention.sliding_window", 5);
    f.w.add_u32(a + ".vocab_size", kV);
    f.tensor("output.weight", kV, kH);
    const GgufFile g = f.open();
    const nlohmann::json j = gguf_hf_config(g);
    EXPECT_EQ(j["model_type"], c.model_type) << a;
    EXPECT_EQ(j.contains("head_dim"), c.head_dim) << a;
    EXPECT_EQ(j.contains("sliding_window"), c.window) << a;
    EXPECT_EQ(j["vocab_size"], kV) << a;
    EXPECT_EQ(j["tie_word_embeddings"], false) << a;
    EXPECT_EQ(gguf_model_config(g).model_type, c.model_type) << a;
  }
}

TEST(GgufModel, UnknownArchitectureListsTheSupportedOnes) {
  TinyFile f;
  f.w.add_string("general.architecture", "phi3");
  EXPECT_CONTAINS(error_of([&] { gguf_hf_config(f.open()); }),
                  "tiny.gguf: GGUF architecture 'phi3' is not supported; tune.cpp reads gemma, gemma2, gemma3, llama, "
                  "qwen2, qwen3");
}

TEST(GgufModel, MissingMisshapenAndUnusedTensorsAreErrors) {
  {
    TinyFile f;
    llama_metadata(f.w);
    f.tensor("token_embd.weight", kV, kH);
    const GgufFile g = f.open();
    EXPECT_CONTAINS(error_of([&] { load_gguf_weights(g, gguf_model_config(g)); }),
                    "missing tensor 'blk.0.attn_norm.weight' (model.layers.0.input_layernorm.weight)");
  }
  {
    TinyFile f;
    llama_metadata(f.w);
    f.tensor("token_embd.weight", kV + 1, kH);
    const GgufFile g = f.open();
    EXPECT_CONTAINS(error_of([&] { load_gguf_weights(g, gguf_model_config(g)); }),
                    "tensor 'token_embd.weight' holds [out, in] [9, 8] but the metadata implies [8, 8]");
  }
  {
    TinyFile f;
    llama_metadata(f.w);
    llama_tensors(f, false);
    f.tensor("rope_freqs.weight", 0, kD / 2);
    const GgufFile g = f.open();
    EXPECT_CONTAINS(error_of([&] { load_gguf_weights(g, gguf_model_config(g)); }),
                    "tensors a llama model does not use: rope_freqs.weight; rope_freqs.weight holds llama3-style");
  }
}

}  // namespace
}  // namespace tune
