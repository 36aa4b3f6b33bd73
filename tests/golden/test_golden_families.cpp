// Golden tests per model family: tune.cpp's spec-driven decoder + LoRA against HF transformers + PEFT on the tiny
// random models of tools/reference/make_family_golden.py (tests/data/golden/<family>/). Every family's distinguishing
// feature is on and matters there (sliding window 4 < sequence 11, soft-capping that bends, biases, QK-norm, untied
// heads, llama3 / linear RoPE; gemma3 is a multimodal checkpoint whose language model is loaded from under
// language_model.model.* with LoRA modules named model.language_model.layers.N). Tolerances: logits 1e-4 abs, loss 1e-5 rel, LoRA gradients 1e-4 rel
// (max |diff| / max |ref| per tensor), with LoRA on all seven projections.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "model/gemma.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> read_ints(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = f.read_f32(name);
  std::vector<int32_t> out;
  for (float v : t.data) out.push_back(static_cast<int32_t>(v));
  return out;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

class GoldenFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenFamily, LogitsLossAndLoraGradientsMatchHfPeft) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / GetParam();
  const ModelConfig cfg = load_hf_config(dir / "model");
  const ModelWeights weights = load_hf_weights(dir / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", cfg);
  const SafetensorsFile inputs = SafetensorsFile::open(dir / "inputs.safetensors");
  const SafetensorsFile expected = SafetensorsFile::open(dir / "expected.safetensors");
  Batch batch;
  batch.B = static_cast<int>(inputs.get("input_ids").shape[0]);
  batch.T = static_cast<int>(inputs.get("input_ids").shape[1]);
  batch.input_ids = read_ints(inputs, "input_ids");
  for (int32_t m : read_ints(inputs, "attention_mask")) batch.attention_mask.push_back(static_cast<uint8_t>(m));
  batch.labels = read_ints(inputs, "labels");

  GemmaModel model(cfg, weights, &adapter, nullptr);
  model.forward(batch, ForwardOptions{.training = true});
  Tensor logits;
  const LmLossResult counted = model.lm_head_loss(0.0f, &logits);
  ASSERT_GT(counted.n_valid, 0);
  const Tensor ref_logits = expected.read_f32("logits");
  ASSERT_EQ(logits.shape, ref_logits.shape);
  // Logits at real positions. A padding query whose window holds no real key has no visible key: tune.cpp outputs 0
  // there, HF's eager softmax over an all-masked row averages every value; neither reaches a loss or a real position.
  double logits_err = 0.0;
  const int V = cfg.vocab_size;
  for (int n = 0; n < batch.tokens(); ++n) {
    if (!batch.attention_mask[n]) continue;
    for (int v = 0; v < V; ++v)
      logits_err = std::max(logits_err, std::fabs(double(logits.data[size_t(n) * V + v]) -
                                                  double(ref_logits.data[size_t(n) * V + v])));
  }
  EXPECT_LE(logits_err, 1e-4);

  const LmLossResult r = model.lm_head_loss(1.0f / static_cast<float>(counted.n_valid));
  const double ref_loss = expected.read_f32("lm_loss").data[0];
  const double loss_err = std::fabs(r.mean() - ref_loss) / std::fabs(ref_loss);
  EXPECT_LE(loss_err, 1e-5) << r.mean() << " vs " << ref_loss;
  model.backward();

  int compared = 0;
  double worst = 0.0;
  for (int l = 0; l < cfg.num_layers; ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const auto& m = adapter.layers[l][p];
      ASSERT_TRUE(m.has_value()) << "lora_target all leaves out layer " << l << " " << kProjNames[p];
      for (char which : {'A', 'B'}) {
        const std::string key = adapter.tensor_key(l, static_cast<Proj>(p), which);
        const Tensor ref = expected.read_f32("lm_grad." + key);
        const Tensor& got = which == 'A' ? m->dA : m->dB;
        ASSERT_GT(max_abs(ref.data), 0.0) << key;
        const double rel = max_abs_diff(got.data, ref.data) / max_abs(ref.data);
        EXPECT_LE(rel, 1e-4) << key;
        worst = std::max(worst, rel);
        ++compared;
      }
    }
  EXPECT_EQ(compared, cfg.num_layers * kNumProj * 2);
  std::printf("%s: logits max|diff| %.2e, loss rel %.2e, worst LoRA grad rel %.2e\n", GetParam().c_str(), logits_err,
              loss_err, worst);
}

INSTANTIATE_TEST_SUITE_P(Families, GoldenFamily,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text",
                                           "gemma3"));

}  // namespace
}  // namespace tune
