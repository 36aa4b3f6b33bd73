// Tests for the llama.cpp LoRA adapter GGUF export: the file read back with our GGUF reader holds the metadata
// llama.cpp checks, the tensor names and ne it expects, A as is, B with llama's Q/K row permutation, any scaling
// other than alpha / r folded into B, and F16 values rounded once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "export/lora_gguf.h"
#include "io/gguf.h"
#include "io/gguf_model.h"
#include "io/hf_config.h"
#include "unit/expect_error.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

using test::error_of;

namespace fs = std::filesystem;

// A llama of H=8, I=12, L=2, Nq=2, Nkv=1, D=4: q rows 8, k/v rows 4.
ModelConfig tiny_llama() {
  const nlohmann::json j = {{"model_type", "llama"},       {"vocab_size", 16},          {"hidden_size", 8},
                            {"intermediate_size", 12},     {"num_hidden_layers", 2},    {"num_attention_heads", 2},
                            {"num_key_value_heads", 1},    {"head_dim", 4}};
  return parse_hf_config(j.dump(), "config.json");
}

// r 2 on q, k, v, o, gate, down of every layer; A and B hold distinct values (module * 1000 + index, scaled down).
LoraAdapter filled_adapter(const ModelConfig& cfg, float alpha, bool rslora) {
  LoraConfig lc;
  lc.r = 2;
  lc.lora_alpha = alpha;
  lc.use_rslora = rslora;
  lc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "down_proj"};
  LoraAdapter a = init_lora(cfg, lc, 7);
  int module = 0;
  for (auto& layer : a.layers)
    for (auto& m : layer) {
      if (!m) continue;
      ++module;
      for (int64_t i = 0; i < m->A.numel(); ++i) m->A.data[i] = 0.001f * static_cast<float>(module * 1000 + i);
      for (int64_t i = 0; i < m->B.numel(); ++i) m->B.data[i] = -0.002f * static_cast<float>(module * 1000 + i);
    }
  return a;
}

struct TempFile {
  fs::path path = fs::temp_directory_path() / ("tune_lora_gguf_" + std::to_string(getpid()) + ".gguf");
  ~TempFile() { fs::remove(path); }
};

std::vector<float> f32_values(const GgufFile& f, const GgufTensorInfo& t) {
  const auto bytes = f.data(t);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

TEST(LoraGguf, LlamaQkRowOrderIsTheConvertersReshapeSwapaxes) {
  // permute(W, n_head): W.reshape(n_head, 2, D/2, in).swapaxes(1, 2): GGUF row (h, i, j) = HF row (h, j, i).
  // Entry r = the stored row of HF row r.
  EXPECT_EQ(llama_qk_stored_rows(8, 2, "q"), (std::vector<int64_t>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(llama_qk_stored_rows(6, 1, "q"), (std::vector<int64_t>{0, 2, 4, 1, 3, 5}));
  EXPECT_CONTAINS(error_of([] { llama_qk_stored_rows(10, 2, "q"); }), "do not split into 2 heads");
}

TEST(LoraGguf, ArchitecturesAreLlamaCpps) {
  ModelConfig cfg = tiny_llama();
  EXPECT_EQ(gguf_architecture_of(cfg.model_type).name, "llama");
  EXPECT_TRUE(gguf_architecture_of(cfg.model_type).permutes_qk);
  for (const auto& [type, arch] : std::vector<std::pair<std::string, std::string>>{
           {"mistral", "llama"}, {"qwen2", "qwen2"}, {"qwen3", "qwen3"}, {"gemma", "gemma"}, {"gemma2", "gemma2"},
           {"gemma3_text", "gemma3"}, {"gemma3", "gemma3"}}) {
    cfg.model_type = type;
    EXPECT_EQ(gguf_architecture_of(cfg.model_type).name, arch) << type;
    EXPECT_EQ(gguf_architecture_of(cfg.model_type).permutes_qk, arch == "llama") << type;
  }
  cfg.model_type = "phi3";
  EXPECT_CONTAINS(error_of([&] { gguf_architecture_of(cfg.model_type); }), "model_type phi3 has no llama.cpp architecture");
}

TEST(LoraGguf, LlamaAdapterReadsBackWithPermutedQkRowsOfB) {
  const ModelConfig cfg = tiny_llama();
  const LoraAdapter adapter = filled_adapter(cfg, 4.0f, false);  // scaling 4 / 2 = alpha / r: nothing folded
  TempFile file;
  write_lora_gguf(file.path, adapter, cfg, {GgmlType::F32, "tiny"});
  const GgufFile f = GgufFile::open(file.path);

  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("general.type"), "adapter");
  EXPECT_EQ(f.get_string("general.name"), "tiny");
  EXPECT_EQ(f.get_string("adapter.type"), "lora");
  EXPECT_EQ(f.get_float("adapter.lora.alpha"), 4.0);
  ASSERT_EQ(f.tensors().size(), 2u * 6u * 2u);  // 2 layers x 6 modules x (a, b)

  struct Module {
    Proj p;
    const char* gguf;
    std::vector<int> order;  // per GGUF row of B, its HF row
  };
  const std::vector<Module> modules = {{Proj::Q, "attn_q", {0, 2, 1, 3, 4, 6, 5, 7}},
                                       {Proj::K, "attn_k", {0, 2, 1, 3}},
                                       {Proj::V, "attn_v", {0, 1, 2, 3}},
                                       {Proj::O, "attn_output", {0, 1, 2, 3, 4, 5, 6, 7}},
                                       {Proj::Gate, "ffn_gate", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
                                       {Proj::Down, "ffn_down", {0, 1, 2, 3, 4, 5, 6, 7}}};
  for (int l = 0; l < 2; ++l) {
    for (const auto& [p, gguf, order] : modules) {
      const LoraModule& m = *adapter.layers[l][static_cast<size_t>(p)];
      const std::string base = "blk." + std::to_string(l) + "." + gguf + ".weight";
      const GgufTensorInfo& a = f.tensor(base + ".lora_a");
      const GgufTensorInfo& b = f.tensor(base + ".lora_b");
      EXPECT_EQ(a.type, GgmlType::F32);
      EXPECT_EQ(a.ne, (std::vector<int64_t>{proj_in_features(cfg, p), 2})) << base;   // [in, r]
      EXPECT_EQ(b.ne, (std::vector<int64_t>{2, proj_out_features(cfg, p)})) << base;  // [r, out]
      EXPECT_EQ(f32_values(f, a), m.A.data) << base;
      const std::vector<float> bv = f32_values(f, b);
      ASSERT_EQ(bv.size(), order.size() * 2) << base;
      for (size_t g = 0; g < order.size(); ++g)
        for (int k = 0; k < 2; ++k)
          EXPECT_EQ(bv[g * 2 + k], m.B.data[static_cast<size_t>(order[g]) * 2 + k]) << base << " row " << g;
    }
  }
}

TEST(LoraGguf, GemmaKeepsHfRowsAndF16RoundsOnce) {
  const ModelConfig cfg = test::tiny_model_config();  // gemma, Nq 2, Nkv 1, D 6
  const LoraAdapter adapter = filled_adapter(cfg, 16.0f, false);
  TempFile file;
  write_lora_gguf(file.path, adapter, cfg, {GgmlType::F16, ""});
  const GgufFile f = GgufFile::open(file.path);
  EXPECT_EQ(f.get_string("general.architecture"), "gemma");
  EXPECT_EQ(f.find("general.name"), nullptr);
  const LoraModule& q = *adapter.layers[1][0];
  for (const auto& [suffix, values] : {std::pair{".lora_a", &q.A}, std::pair{".lora_b", &q.B}}) {
    const GgufTensorInfo& t = f.tensor("blk.1.attn_q.weight" + std::string(suffix));
    EXPECT_EQ(t.type, GgmlType::F16);
    const auto bytes = f.data(t);
    ASSERT_EQ(bytes.size(), values->data.size() * 2);
    for (size_t i = 0; i < values->data.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      EXPECT_EQ(h, f32_to_f16(values->data[i])) << suffix << " " << i;  // same order: gemma is not permuted
    }
  }
}

TEST(LoraGguf, ScalingOtherThanAlphaOverRIsFoldedIntoB) {
  const ModelConfig cfg = tiny_llama();
  const LoraAdapter adapter = filled_adapter(cfg, 4.0f, true);  // rslora: scaling 4 / sqrt(2), llama.cpp uses 4 / 2
  TempFile file;
  write_lora_gguf(file.path, adapter, cfg, {GgmlType::F32, ""});
  const GgufFile f = GgufFile::open(file.path);
  EXPECT_EQ(f.get_float("adapter.lora.alpha"), 4.0);
  const LoraModule& v = *adapter.layers[0][static_cast<size_t>(Proj::V)];
  ASSERT_FLOAT_EQ(v.scaling, 4.0f / std::sqrt(2.0f));
  const std::vector<float> bv = f32_values(f, f.tensor("blk.0.attn_v.weight.lora_b"));
  ASSERT_EQ(bv.size(), v.B.data.size());
  for (size_t i = 0; i < bv.size(); ++i)  // what llama.cpp applies, (alpha / r) * B', equals scaling * B
    EXPECT_NEAR(bv[i] * (4.0f / 2.0f), v.B.data[i] * v.scaling, 1e-6f * std::abs(v.B.data[i] * v.scaling)) << i;
}

TEST(LoraGguf, RefusesWhatLlamaCppCannotLoad) {
  const ModelConfig cfg = tiny_llama();
  LoraAdapter adapter = filled_adapter(cfg, 4.0f, false);
  TempFile file;
  EXPECT_CONTAINS(error_of([&] { write_lora_gguf(file.path, adapter, cfg, {GgmlType::Q8_0, ""}); }),
                  "tensors are written as F32 or F16, not Q8_0");
  ModelConfig wider = cfg;
  wider.hidden_size = 16;
  EXPECT_CONTAINS(error_of([&] { write_lora_gguf(file.path, adapter, wider, {}); }), "which do not fit the model");
  for (auto& layer : adapter.layers)
    for (auto& m : layer) m.reset();
  EXPECT_CONTAINS(error_of([&] { write_lora_gguf(file.path, adapter, cfg, {}); }), "has no LoRA modules");
  EXPECT_FALSE(fs::exists(file.path));
}

}  // namespace
}  // namespace tune
