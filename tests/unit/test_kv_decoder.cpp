// KvDecoder on a random model wide enough for the threaded decode attention (8 heads x 64, up to 96 positions): step
// logits equal GemmaModel::forward's at every position with and without a LoRA branch, a reused decoder gives
// identical results, and the capacity is enforced.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "infer/kv_decoder.h"
#include "model/gemma.h"
#include "model/random_init.h"

namespace tune {
namespace {

ModelConfig wide_config() {
  ModelConfig c = gemma_spec_defaults();
  c.vocab_size = 500;
  c.hidden_size = 96;
  c.intermediate_size = 192;
  c.num_layers = 2;
  c.num_heads = 8;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.max_position_embeddings = 128;
  finish_gemma_spec(c);
  return c;
}

LoraAdapter random_adapter(const ModelConfig& cfg) {
  LoraConfig lc;
  lc.r = 4;
  lc.lora_alpha = 8.0f;
  lc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  LoraAdapter a = init_lora(cfg, lc, 3);
  int k = 0;
  for (auto& layer : a.layers)  // non-zero B so the branch changes the output
    for (auto& m : layer)
      if (m)
        for (float& b : m->B.data) b = 0.05f * std::sin(0.7f * float(++k));
  return a;
}

std::vector<int32_t> token_ids(int n, int V) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 131 + 7) % V);
  return ids;
}

// Logits [T, V] of the whole sequence through the training forward.
std::vector<float> full_logits(const ModelConfig& cfg, const ModelWeights& w, LoraAdapter* adapter,
                               const std::vector<int32_t>& seq) {
  Batch b;
  b.B = 1, b.T = static_cast<int>(seq.size());
  b.input_ids = seq;
  b.attention_mask.assign(seq.size(), 1);
  b.labels = seq;
  GemmaModel model(cfg, w, adapter, nullptr);
  model.forward(b, {});
  Tensor logits;
  model.lm_head_loss(0.0f, &logits);
  return logits.data;
}

class KvDecoderVsForward : public ::testing::TestWithParam<bool> {};

TEST_P(KvDecoderVsForward, EveryStepMatches) {
  const ModelConfig cfg = wide_config();
  const ModelWeights w = random_weights(cfg, 11, 0.1f);
  LoraAdapter adapter = random_adapter(cfg);
  LoraAdapter* lora = GetParam() ? &adapter : nullptr;
  const int prompt = 17, total = 96, V = cfg.vocab_size;
  const std::vector<int32_t> seq = token_ids(total, V);
  const std::vector<float> want = full_logits(cfg, w, lora, seq);

  KvDecoder dec(cfg, w, lora);
  std::span<const float> got = dec.prefill(std::span(seq).first(prompt), total);
  double worst = 0.0, scale = 0.0;
  for (int t = prompt - 1; t < total; ++t) {
    if (t >= prompt) got = dec.step(seq[t]);
    for (int v = 0; v < V; ++v) {
      worst = std::max(worst, double(std::fabs(got[v] - want[size_t(t) * V + v])));
      scale = std::max(scale, double(std::fabs(want[size_t(t) * V + v])));
    }
  }
  EXPECT_LE(worst, 1e-4 * std::max(1.0, scale)) << "scale " << scale;
  EXPECT_THROW(dec.step(1), Error);  // the capacity (96) is used up

  // A reused decoder, shorter sequence: the same numbers as a fresh one.
  KvDecoder fresh(cfg, w, lora);
  const std::vector<int32_t> short_seq = token_ids(5, V);
  const std::span<const float> a = dec.prefill(short_seq, 8), b = fresh.prefill(short_seq, 8);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  const std::span<const float> a2 = dec.step(3), b2 = fresh.step(3);
  EXPECT_TRUE(std::equal(a2.begin(), a2.end(), b2.begin(), b2.end()));
}

INSTANTIATE_TEST_SUITE_P(Lora, KvDecoderVsForward, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("Branch") : std::string("None"); });

TEST(KvDecoderErrors, EmptyPromptSmallCapacityAndBadIds) {
  const ModelConfig cfg = wide_config();
  const ModelWeights w = random_weights(cfg, 1);
  KvDecoder dec(cfg, w, nullptr);
  EXPECT_THROW(dec.prefill(std::vector<int32_t>{}, 4), Error);
  EXPECT_THROW(dec.prefill(token_ids(5, 500), 4), Error);
  EXPECT_THROW(dec.prefill(std::vector<int32_t>{2, 500}, 4), Error);  // vocab is 500
  EXPECT_THROW(dec.step(1), Error);  // no sequence yet
}

}  // namespace
}  // namespace tune
