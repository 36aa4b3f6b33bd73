// Generation on the golden tiny models: greedy token ids equal HF generate's (tests/data/generate, from
// tools/reference/make_generate_golden.py) without the adapter, with it merged and with it as a LoRA branch, with and
// without a repetition penalty; KV-cache logits equal a full recomputation through GemmaModel::forward; stopping,
// max_new_tokens, the context end, cancellation and seeded sampling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "infer/generator.h"
#include "infer/kv_decoder.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "model/gemma.h"
#include "model/merge.h"

namespace tune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

enum class AdapterMode { None, Merged, Branch };

const fs::path kGolden = fs::path(TUNE_TEST_DATA) / "golden";

// The golden model as load_inference_model would hold it (no tokenizer: the fixtures have none).
InferenceModel load_golden(const std::string& name, AdapterMode mode) {
  const fs::path dir = kGolden / name;
  const bool exact = json::parse(read_text_file(dir / "meta.json")).value("exact_gelu", false);
  InferenceModel m;
  m.cfg = load_hf_config(dir / "model", exact);
  m.weights = load_hf_weights(dir / "model", m.cfg);
  if (mode == AdapterMode::None) return m;
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", m.cfg);
  if (mode == AdapterMode::Merged)
    merge_lora(m.weights, adapter);
  else
    m.adapter = std::move(adapter);
  return m;
}

json load_cases(const std::string& name) {
  return json::parse(read_text_file(fs::path(TUNE_TEST_DATA) / "generate" / (name + ".json")));
}

SamplingParams greedy(int max_new_tokens, float repetition_penalty = 1.0f) {
  SamplingParams p;
  p.do_sample = false;
  p.max_new_tokens = max_new_tokens;
  p.repetition_penalty = repetition_penalty;
  return p;
}

struct GreedyCase {
  std::string model;
  AdapterMode mode;
};

std::string case_name(const ::testing::TestParamInfo<GreedyCase>& info) {
  static const char* const kMode[] = {"NoAdapter", "Merged", "LoraBranch"};
  return info.param.model + "_" + kMode[static_cast<int>(info.param.mode)];
}

class GreedyMatchesHf : public ::testing::TestWithParam<GreedyCase> {};

TEST_P(GreedyMatchesHf, TokenIdsEqualHfGenerate) {
  const auto& [name, mode] = GetParam();
  const InferenceModel model = load_golden(name, mode);
  Generator gen(model, {});  // no stop ids: HF ran without eos
  const json doc = load_cases(name);
  int matched = 0, compared = 0;
  for (const json& c : doc["cases"]) {
    const std::string variant = c["variant"];
    const bool adapter_variant = variant.rfind("adapter", 0) == 0;
    if (adapter_variant != (mode != AdapterMode::None)) continue;
    const std::vector<int32_t> prompt = c["prompt"], want = c["generated"];
    const Generation g = gen.generate(prompt, greedy(doc["max_new_tokens"], c["repetition_penalty"].get<float>()));
    EXPECT_EQ(g.tokens, want) << variant << ", prompt of " << prompt.size() << " tokens";
    EXPECT_EQ(g.finish, FinishReason::Length);
    ++compared;
    matched += g.tokens == want;
  }
  EXPECT_EQ(compared, 10);
  std::cout << name << ": " << matched << "/" << compared << " greedy continuations equal HF generate's\n";
}

INSTANTIATE_TEST_SUITE_P(Models, GreedyMatchesHf,
                         ::testing::Values(GreedyCase{"mqa", AdapterMode::None}, GreedyCase{"mqa", AdapterMode::Merged},
                                           GreedyCase{"mqa", AdapterMode::Branch}, GreedyCase{"gqa", AdapterMode::None},
                                           GreedyCase{"gqa", AdapterMode::Merged},
                                           GreedyCase{"gqa", AdapterMode::Branch}),
                         case_name);

// One model per family (tools/reference/make_family_golden.py): sliding windows shorter than the prompts, soft-caps,
// biases, QK-norm, untied heads and scaled RoPE in the KV-cache decoder.
INSTANTIATE_TEST_SUITE_P(Families, GreedyMatchesHf,
                         ::testing::Values(GreedyCase{"llama", AdapterMode::None}, GreedyCase{"llama", AdapterMode::Branch},
                                           GreedyCase{"mistral", AdapterMode::None},
                                           GreedyCase{"mistral", AdapterMode::Branch},
                                           GreedyCase{"qwen2", AdapterMode::None}, GreedyCase{"qwen2", AdapterMode::Branch},
                                           GreedyCase{"qwen3", AdapterMode::None}, GreedyCase{"qwen3", AdapterMode::Branch},
                                           GreedyCase{"gemma2", AdapterMode::None},
                                           GreedyCase{"gemma2", AdapterMode::Branch},
                                           GreedyCase{"gemma3_text", AdapterMode::None},
                                           GreedyCase{"gemma3_text", AdapterMode::Branch},
                                           GreedyCase{"gemma3", AdapterMode::Branch}),
                         case_name);

// The logits of every step (prefill's last position, then one per decoded token) against GemmaModel::forward over the
// whole sequence at once, whose position t sees exactly tokens 0..t.
class KvCacheVsFull : public ::testing::TestWithParam<GreedyCase> {};

TEST_P(KvCacheVsFull, StepLogitsEqualFullRecomputation) {
  const auto& [name, mode] = GetParam();
  const InferenceModel model = load_golden(name, mode);
  const json doc = load_cases(name);
  const int V = model.cfg.vocab_size;
  double worst = 0.0;
  KvDecoder decoder(model.cfg, model.weights, model.adapter ? &*model.adapter : nullptr);
  for (const json& c : doc["cases"]) {
    if (c["variant"] != (mode == AdapterMode::None ? "base_penalty" : "adapter_penalty")) continue;
    const std::vector<int32_t> prompt = c["prompt"], generated = c["generated"];
    std::vector<int32_t> seq = prompt;
    seq.insert(seq.end(), generated.begin(), generated.end());

    Batch batch;
    batch.B = 1, batch.T = static_cast<int>(seq.size());
    batch.input_ids = seq;
    batch.attention_mask.assign(seq.size(), 1);
    batch.labels = seq;
    LoraAdapter* adapter = model.adapter ? const_cast<LoraAdapter*>(&*model.adapter) : nullptr;
    GemmaModel full(model.cfg, model.weights, adapter, nullptr);
    full.forward(batch, {});
    Tensor logits;  // [1, T, V]
    full.lm_head_loss(0.0f, &logits);

    std::span<const float> step = decoder.prefill(prompt, static_cast<int>(seq.size()));
    for (size_t t = prompt.size() - 1; t < seq.size(); ++t) {
      if (t >= prompt.size()) step = decoder.step(seq[t]);
      double diff = 0.0;
      for (int v = 0; v < V; ++v)
        diff = std::max(diff, static_cast<double>(std::fabs(step[v] - logits.data[t * V + v])));
      EXPECT_LE(diff, 1e-4) << "position " << t << " of a " << prompt.size() << "-token prompt";
      worst = std::max(worst, diff);
    }
    EXPECT_EQ(decoder.length(), static_cast<int>(seq.size()));
  }
  std::cout << name << ": max |KV-cache - full| logit difference " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(Models, KvCacheVsFull,
                         ::testing::Values(GreedyCase{"mqa", AdapterMode::None}, GreedyCase{"mqa", AdapterMode::Branch},
                                           GreedyCase{"gqa", AdapterMode::None},
                                           GreedyCase{"gqa", AdapterMode::Branch}),
                         case_name);

INSTANTIATE_TEST_SUITE_P(Families, KvCacheVsFull,
                         ::testing::Values(GreedyCase{"mistral", AdapterMode::Branch},
                                           GreedyCase{"gemma2", AdapterMode::Branch},
                                           GreedyCase{"gemma3_text", AdapterMode::Branch},
                                           GreedyCase{"qwen2", AdapterMode::Branch}),
                         case_name);

// A golden case with the adapter and the penalty: varied ids.
json varied_case(const std::string& name) {
  const json doc = load_cases(name);
  for (const json& c : doc["cases"])
    if (c["variant"] == "adapter_penalty" && c["prompt"].size() == 9) return c;
  throw std::runtime_error("no adapter_penalty case with a 9-token prompt");
}

TEST(Generate, StopsAtAStopIdWithoutEmittingIt) {
  const InferenceModel model = load_golden("gqa", AdapterMode::Branch);
  const json c = varied_case("gqa");
  const std::vector<int32_t> prompt = c["prompt"], want = c["generated"];
  const int k = 5;  // the 6th generated token becomes a stop id; it first occurs there
  ASSERT_EQ(std::find(want.begin(), want.end(), want[k]) - want.begin(), k);
  Generator gen(model, {want[k], 299});
  std::vector<int32_t> streamed;
  const Generation g = gen.generate(prompt, greedy(24, 3.0f), [&](int32_t id) {
    streamed.push_back(id);
    return true;
  });
  EXPECT_EQ(g.finish, FinishReason::Stop);
  EXPECT_EQ(g.tokens, std::vector<int32_t>(want.begin(), want.begin() + k));
  EXPECT_EQ(streamed, g.tokens);
}

TEST(Generate, MaxNewTokensCancelAndContextEnd) {
  const InferenceModel model = load_golden("mqa", AdapterMode::Branch);
  const json c = varied_case("mqa");
  const std::vector<int32_t> prompt = c["prompt"], want = c["generated"];
  Generator gen(model, {});

  Generation g = gen.generate(prompt, greedy(5, 3.0f));
  EXPECT_EQ(g.finish, FinishReason::Length);
  EXPECT_EQ(g.tokens, std::vector<int32_t>(want.begin(), want.begin() + 5));

  int calls = 0;
  g = gen.generate(prompt, greedy(24, 3.0f), [&](int32_t) { return ++calls < 3; });
  EXPECT_EQ(g.finish, FinishReason::Cancelled);
  EXPECT_EQ(g.tokens, std::vector<int32_t>(want.begin(), want.begin() + 3));

  // max_position_embeddings is 64: a 60-token prompt has room for 4 new tokens.
  ASSERT_EQ(model.cfg.max_position_embeddings, 64);
  std::vector<int32_t> long_prompt(60);
  for (int i = 0; i < 60; ++i) long_prompt[i] = 3 + (i * 37) % 300;
  g = gen.generate(long_prompt, greedy(100));
  EXPECT_EQ(g.finish, FinishReason::Length);
  EXPECT_EQ(g.tokens.size(), 4u);
  long_prompt.resize(64, 5);
  g = gen.generate(long_prompt, greedy(100));
  EXPECT_EQ(g.finish, FinishReason::Length);
  EXPECT_TRUE(g.tokens.empty());

  // The generator is reusable: the first continuation again, after all of the above.
  EXPECT_EQ(gen.generate(prompt, greedy(24, 3.0f)).tokens, want);
}

TEST(Generate, SamplingIsDeterministicForASeed) {
  const InferenceModel model = load_golden("gqa", AdapterMode::Branch);
  Generator gen(model, {});
  const std::vector<int32_t> prompt = varied_case("gqa")["prompt"];
  SamplingParams p;  // LF defaults: temperature 0.95, top_p 0.7, top_k 50
  p.max_new_tokens = 24;
  p.temperature = 1.5f;
  p.top_p = 0.95f;
  p.seed = 7;
  const Generation a = gen.generate(prompt, p), b = gen.generate(prompt, p);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.tokens.size(), 24u);
  p.seed = 8;
  EXPECT_NE(gen.generate(prompt, p).tokens, a.tokens);
  // top_k 1 keeps only the argmax: sampling reduces to greedy whatever the seed.
  p.top_k = 1;
  EXPECT_EQ(gen.generate(prompt, p).tokens, gen.generate(prompt, greedy(24)).tokens);
  // temperature 0 means greedy even with do_sample.
  p.top_k = 50;
  p.temperature = 0.0f;
  EXPECT_EQ(gen.generate(prompt, p).tokens, gen.generate(prompt, greedy(24)).tokens);
}

TEST(Generate, BadParametersAndIdsAreErrors) {
  const InferenceModel model = load_golden("mqa", AdapterMode::None);
  Generator gen(model, {});
  const std::vector<int32_t> prompt = {2, 5, 7};
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(gen.generate(prompt, p), Error);
  p = {};
  p.max_new_tokens = 0;
  EXPECT_THROW(gen.generate(prompt, p), Error);
  EXPECT_THROW(gen.generate(std::vector<int32_t>{}, greedy(3)), Error);
  EXPECT_THROW(gen.generate(std::vector<int32_t>{2, 320}, greedy(3)), Error);  // vocab is 320
}

}  // namespace
}  // namespace tune

namespace tune {
namespace {

TEST(Generate, NanLogitsAreAClearError) {
  InferenceModel model = load_golden("mqa", AdapterMode::None);
  model.weights.final_norm.data[0] = NAN;  // every logit becomes NaN
  Generator gen(model, {});
  for (const bool sample : {false, true}) {
    SamplingParams p = greedy(4);
    p.do_sample = sample;
    try {
      gen.generate(std::vector<int32_t>{2, 5, 7}, p);
      FAIL() << "NaN logits gave tokens (do_sample " << sample << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("logits are NaN at generation step 0"), std::string::npos) << e.what();
    }
  }
}

TEST(Generate, TinyTemperatureSamplesTheArgmax) {
  const InferenceModel model = load_golden("gqa", AdapterMode::Branch);
  Generator gen(model, {});
  const std::vector<int32_t> prompt = varied_case("gqa")["prompt"];
  SamplingParams p;
  p.max_new_tokens = 24;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.temperature = 1e-44f;  // a subnormal: logits / temperature overflow to +-inf
  EXPECT_EQ(gen.generate(prompt, p).tokens, gen.generate(prompt, greedy(24)).tokens);
}

}  // namespace
}  // namespace tune
