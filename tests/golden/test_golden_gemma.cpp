// Golden tests: tune.cpp's Gemma + LoRA + value head against HF transformers + PEFT outputs written by
// tools/reference/make_golden.py (tests/data/golden/<model>/). Tolerances: logits 1e-4 abs, loss 1e-5 rel,
// gradients 1e-4 rel (max |diff| / max |ref| per tensor).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "model/gemma.h"
#include "train/rm_loss.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  ModelConfig cfg;
  ModelWeights weights;
  LoraAdapter adapter;
  ValueHead head;
  Batch batch;
  SafetensorsFile expected;
};

std::vector<int32_t> read_ints(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = f.read_f32(name);
  std::vector<int32_t> out;
  for (float v : t.data) out.push_back(static_cast<int32_t>(v));
  return out;
}

Fixture load_fixture(const std::string& name) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / name;
  const auto meta = nlohmann::json::parse(read_text_file(dir / "meta.json"));
  ModelConfig cfg = load_hf_config(dir / "model", meta.value("exact_gelu", false));
  ModelWeights weights = load_hf_weights(dir / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", cfg);
  ValueHead head = load_value_head(dir / "adapter" / "value_head.safetensors", cfg.hidden_size);
  const SafetensorsFile inputs = SafetensorsFile::open(dir / "inputs.safetensors");
  Batch batch;
  const TensorInfo& ids = inputs.get("input_ids");
  batch.B = static_cast<int>(ids.shape[0]);
  batch.T = static_cast<int>(ids.shape[1]);
  batch.input_ids = read_ints(inputs, "input_ids");
  for (int32_t m : read_ints(inputs, "attention_mask")) batch.attention_mask.push_back(static_cast<uint8_t>(m));
  batch.labels = read_ints(inputs, "labels");
  return {std::move(cfg), std::move(weights), std::move(adapter), std::move(head), std::move(batch),
          SafetensorsFile::open(dir / "expected.safetensors")};
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

// Every LoRA gradient (and, for the reward loss, the value-head gradients) against "<prefix>.<PEFT key>".
// Returns the worst relative error seen.
double expect_grads(const Fixture& f, const std::string& prefix, bool with_head) {
  int compared = 0;
  double worst = 0.0;
  for (int l = 0; l < f.cfg.num_layers; ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const auto& m = f.adapter.layers[l][p];
      if (!m) continue;
      for (char which : {'A', 'B'}) {
        const std::string key = f.adapter.tensor_key(l, static_cast<Proj>(p), which);
        const Tensor ref = f.expected.read_f32(prefix + "." + key);
        const Tensor& got = which == 'A' ? m->dA : m->dB;
        EXPECT_GT(max_abs(ref.data), 0.0) << key << " has an all-zero reference gradient";
        const double rel = max_abs_diff(got.data, ref.data) / max_abs(ref.data);
        EXPECT_LE(rel, 1e-4) << prefix << "." << key;
        worst = std::max(worst, rel);
        ++compared;
      }
    }
  EXPECT_GT(compared, 0);
  if (!with_head) return worst;
  const Tensor rw = f.expected.read_f32(prefix + ".v_head.summary.weight");
  const Tensor rb = f.expected.read_f32(prefix + ".v_head.summary.bias");
  const double rel_w = max_abs_diff(f.head.dweight.data, rw.data) / max_abs(rw.data);
  EXPECT_LE(rel_w, 1e-4);
  // The bias cancels in v_chosen - v_rejected: its true gradient is 0 and HF's value is rounding noise.
  EXPECT_LE(max_abs_diff(f.head.dbias.data, rb.data), 1e-6);
  return std::max(worst, rel_w);
}

class GoldenGemma : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenGemma, LogitsLossAndLoraGradientsMatchHfPeft) {
  Fixture f = load_fixture(GetParam());
  GemmaModel model(f.cfg, f.weights, &f.adapter, &f.head);
  model.forward(f.batch, ForwardOptions{.training = true});
  Tensor logits;
  // First pass only counts valid targets so the gradient can be scaled to the mean loss.
  const LmLossResult counted = model.lm_head_loss(0.0f, &logits);
  ASSERT_GT(counted.n_valid, 0);
  const Tensor ref_logits = f.expected.read_f32("logits");
  ASSERT_EQ(logits.shape, ref_logits.shape);
  const double logits_err = max_abs_diff(logits.data, ref_logits.data);
  EXPECT_LE(logits_err, 1e-4);

  const LmLossResult r = model.lm_head_loss(1.0f / static_cast<float>(counted.n_valid));
  const double ref_loss = f.expected.read_f32("lm_loss").data[0];
  const double loss_err = std::fabs(r.mean() - ref_loss) / std::fabs(ref_loss);
  EXPECT_LE(loss_err, 1e-5) << r.mean() << " vs " << ref_loss;
  model.backward();
  const double grad_err = expect_grads(f, "lm_grad", /*with_head=*/false);
  std::printf("%s LM: logits max|diff| %.2e, loss rel %.2e, worst LoRA grad rel %.2e\n", GetParam().c_str(),
              logits_err, loss_err, grad_err);
}

TEST_P(GoldenGemma, ValuesRewardLossAndGradientsMatchHfPeft) {
  Fixture f = load_fixture(GetParam());
  GemmaModel model(f.cfg, f.weights, &f.adapter, &f.head);
  model.forward(f.batch, ForwardOptions{.training = true});
  const Tensor& values = model.values();
  const Tensor ref_values = f.expected.read_f32("values");
  const double values_err = max_abs_diff(values.data, ref_values.data);
  EXPECT_LE(values_err, 1e-4);
  Tensor dvalues;
  const RmLossResult r = rm_last_token_loss(values, f.batch, &dvalues);
  const double ref_loss = f.expected.read_f32("rm_loss").data[0];
  const double loss_err = std::fabs(r.loss - ref_loss) / std::fabs(ref_loss);
  EXPECT_LE(loss_err, 1e-5) << r.loss << " vs " << ref_loss;
  model.values_backward(dvalues);
  model.backward();
  const double grad_err = expect_grads(f, "rm_grad", /*with_head=*/true);
  std::printf("%s RM: values max|diff| %.2e, loss rel %.2e, worst LoRA/value-head grad rel %.2e\n",
              GetParam().c_str(), values_err, loss_err, grad_err);
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenGemma, ::testing::Values("mqa", "gqa"));

}  // namespace
}  // namespace tune
