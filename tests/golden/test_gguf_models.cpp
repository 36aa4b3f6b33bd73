// The two real GGUF models (tests/real_gguf.h) against transformers loading the same files with gguf_file= in fp32
// (tests/data/gguf_model/<name>/, from tools/reference/make_gguf_model_golden.py): the config transformers derives
// gives the same spec; on 3 prompts (one longer than Gemma 3's 512-token window) every position's argmax equals HF's
// and the logits of 256 fixed vocab ids agree to 1e-4 relative (max |diff| / max |HF| per position, and each
// position's max logit); greedy continuations equal HF generate's; PEFT's LoRA adapter made on the HF model loads by
// its HF module names and gives PEFT's logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "infer/generator.h"
#include "io/gguf.h"
#include "io/gguf_model.h"
#include "io/hf_config.h"
#include "io/peft_adapter.h"
#include "kernels/cpu/gemm.h"
#include "model/gemma.h"
#include "real_gguf.h"

namespace tune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr double kRelTol = 1e-4;

struct RealModel {
  std::string name;  // tests/data/gguf_model/<name>
  const char* file;  // in TUNE_GGUF_DIR
};

fs::path fixture_dir(const RealModel& m) { return fs::path(TUNE_TEST_DATA) / "gguf_model" / m.name; }

// One model loaded once for all the tests of the suite (dequantizing the Gemma 3 embedding takes a while).
struct Loaded {
  ModelConfig cfg;
  ModelWeights weights;
  json expected;
};

const Loaded& loaded(const RealModel& m, const fs::path& file) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(m.name);
  if (it != cache.end()) return it->second;
  const GgufFile f = GgufFile::open(file);
  Loaded l;
  l.cfg = gguf_model_config(f);
  l.weights = load_gguf_weights(f, l.cfg);
  l.expected = json::parse(read_text_file(fixture_dir(m) / "expected.json"));
  return cache.emplace(m.name, std::move(l)).first->second;
}

// The logits of every position of one prompt: [T, V].
Tensor forward_logits(const Loaded& l, const std::vector<int32_t>& ids, LoraAdapter* adapter) {
  Batch b;
  b.B = 1;
  b.T = static_cast<int>(ids.size());
  b.input_ids = ids;
  b.attention_mask.assign(ids.size(), 1);
  GemmaModel model(l.cfg, l.weights, adapter, nullptr);
  model.forward(b, ForwardOptions{});
  const Tensor& h = model.final_hidden();  // [T, H]
  const Tensor& head = l.weights.head();   // [V, H]
  const int T = b.T, V = l.cfg.vocab_size, H = l.cfg.hidden_size;
  Tensor logits(Shape{T, V});
  cpu::sgemm(false, true, T, V, H, 1.0f, h.ptr(), H, head.ptr(), H, 0.0f, logits.ptr(), V);
  if (l.cfg.final_softcap > 0)
    for (float& x : logits.data) x = l.cfg.final_softcap * std::tanh(x / l.cfg.final_softcap);
  return logits;
}

// max_v |got - want| / max_v |want| over the subset ids of each stored position; the worst position.
double subset_rel_error(const Tensor& logits, const json& positions, const json& want, const json& vocab) {
  const int64_t V = logits.shape[1];
  double worst = 0;
  for (size_t p = 0; p < positions.size(); ++p) {
    const int64_t t = positions[p].get<int64_t>();
    double diff = 0, scale = 0;
    for (size_t k = 0; k < vocab.size(); ++k) {
      const double ref = want[p][k].get<double>();
      diff = std::max(diff, std::fabs(logits.data[size_t(t * V + vocab[k].get<int64_t>())] - ref));
      scale = std::max(scale, std::fabs(ref));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

class GgufModel : public ::testing::TestWithParam<RealModel> {};

TEST_P(GgufModel, SpecEqualsTheOneFromTransformersConfig) {
  TUNE_REAL_GGUF(path, GetParam().file);
  const ModelConfig got = gguf_model_config(GgufFile::open(path));
  const ModelConfig want = load_hf_config(fixture_dir(GetParam()));
  EXPECT_EQ(got.model_type, want.model_type);
  EXPECT_EQ(got.vocab_size, want.vocab_size);
  EXPECT_EQ(got.hidden_size, want.hidden_size);
  EXPECT_EQ(got.intermediate_size, want.intermediate_size);
  EXPECT_EQ(got.num_layers, want.num_layers);
  EXPECT_EQ(got.num_heads, want.num_heads);
  EXPECT_EQ(got.num_kv_heads, want.num_kv_heads);
  EXPECT_EQ(got.head_dim, want.head_dim);
  EXPECT_EQ(got.rms_norm_eps, want.rms_norm_eps);
  EXPECT_EQ(got.norm, want.norm);
  EXPECT_EQ(got.activation, want.activation);
  EXPECT_EQ(got.tie_word_embeddings, want.tie_word_embeddings);
  EXPECT_EQ(got.embed_scale, want.embed_scale);
  EXPECT_EQ(got.attn_scale, want.attn_scale);
  EXPECT_EQ(got.attn_softcap, want.attn_softcap);
  EXPECT_EQ(got.final_softcap, want.final_softcap);
  EXPECT_EQ(got.max_position_embeddings, want.max_position_embeddings);
  EXPECT_EQ(got.bos_token_id, want.bos_token_id);
  EXPECT_EQ(got.eos_token_id, want.eos_token_id);
  EXPECT_EQ(got.pad_token_id, want.pad_token_id);
  EXPECT_EQ(got.names.module_prefix, "model.");
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (size_t l = 0; l < got.layers.size(); ++l) {
    EXPECT_EQ(got.layers[l].sliding_window, want.layers[l].sliding_window) << "layer " << l;
    EXPECT_EQ(got.layers[l].rope, want.layers[l].rope) << "layer " << l;
    EXPECT_EQ(got.layers[l].qk_norm, want.layers[l].qk_norm) << "layer " << l;
    EXPECT_EQ(got.layers[l].attn_out_norm, want.layers[l].attn_out_norm) << "layer " << l;
    EXPECT_EQ(got.layers[l].mlp_out_norm, want.layers[l].mlp_out_norm) << "layer " << l;
  }
}

TEST_P(GgufModel, LogitsAndArgmaxEqualTransformers) {
  TUNE_REAL_GGUF(path, GetParam().file);
  const Loaded& l = loaded(GetParam(), path);
  const json& vocab = l.expected["vocab_subset"];
  ASSERT_EQ(l.expected["prompts"].size(), 3u);
  for (const json& p : l.expected["prompts"]) {
    const std::vector<int32_t> ids = p["input_ids"];
    const Tensor logits = forward_logits(l, ids, nullptr);
    const int64_t V = logits.shape[1];
    int argmax_equal = 0;
    double max_rel = 0;
    for (size_t t = 0; t < ids.size(); ++t) {
      const float* row = logits.ptr() + t * V;
      const int64_t arg = std::max_element(row, row + V) - row;
      argmax_equal += arg == p["argmax"][t].get<int64_t>();
      const double ref = p["max_logit"][t].get<double>();
      max_rel = std::max(max_rel, std::fabs(row[arg] - ref) / std::fabs(ref));
    }
    EXPECT_EQ(argmax_equal, static_cast<int>(ids.size())) << p["label"];
    EXPECT_LE(max_rel, kRelTol) << p["label"] << ": max logit";
    const double rel = subset_rel_error(logits, p["positions"], p["subset_logits"], vocab);
    EXPECT_LE(rel, kRelTol) << p["label"] << ": subset logits";
    std::printf("%s %s (%zu tokens): argmax %d/%zu equal, max relative error %.2e\n", GetParam().name.c_str(),
                p["label"].get<std::string>().c_str(), ids.size(), argmax_equal, ids.size(), std::max(rel, max_rel));
  }
}

TEST_P(GgufModel, GreedyContinuationsEqualHfGenerate) {
  TUNE_REAL_GGUF(path, GetParam().file);
  const Loaded& l = loaded(GetParam(), path);
  const int32_t eos = l.expected["eos_token_id"];
  Generator gen(l.cfg, l.weights, nullptr, {eos});
  for (const json& p : l.expected["prompts"]) {
    const std::vector<int32_t> ids = p["input_ids"];
    std::vector<int32_t> want = p["greedy"];
    const bool stopped = !want.empty() && want.back() == eos;  // HF generate keeps the eos it stopped at
    if (stopped) want.pop_back();
    SamplingParams greedy;
    greedy.do_sample = false;
    greedy.max_new_tokens = 20;
    const Generation g = gen.generate(ids, greedy);
    EXPECT_EQ(g.tokens, want) << p["label"];
    EXPECT_EQ(g.finish, stopped ? FinishReason::Stop : FinishReason::Length) << p["label"];
  }
}

TEST_P(GgufModel, PeftAdapterLoadsAndGivesPeftLogits) {
  TUNE_REAL_GGUF(path, GetParam().file);
  const Loaded& l = loaded(GetParam(), path);
  LoraAdapter adapter = load_peft_adapter(fixture_dir(GetParam()) / "adapter", l.cfg);
  EXPECT_EQ(adapter.config.r, 4);
  const json& vocab = l.expected["vocab_subset"];
  int compared = 0;
  for (const json& p : l.expected["prompts"]) {
    if (!p.contains("peft")) continue;
    const std::vector<int32_t> ids = p["input_ids"];
    const Tensor logits = forward_logits(l, ids, &adapter);
    const Tensor base = forward_logits(l, ids, nullptr);
    const int64_t V = logits.shape[1];
    for (size_t t = 0; t < ids.size(); ++t) {
      const float* row = logits.ptr() + t * V;
      EXPECT_EQ(std::max_element(row, row + V) - row, p["peft"]["argmax"][t].get<int64_t>())
          << p["label"] << " position " << t;
    }
    EXPECT_LE(subset_rel_error(logits, p["positions"], p["peft"]["subset_logits"], vocab), kRelTol) << p["label"];
    // The adapter matters: without it the logits are far from PEFT's.
    EXPECT_GT(subset_rel_error(base, p["positions"], p["peft"]["subset_logits"], vocab), 100 * kRelTol) << p["label"];
    ++compared;
  }
  EXPECT_EQ(compared, 2);
}

INSTANTIATE_TEST_SUITE_P(Real, GgufModel,
                         ::testing::Values(RealModel{"smollm2", test::kSmolLM2Gguf},
                                           RealModel{"gemma3", test::kGemma3Gguf}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tune
