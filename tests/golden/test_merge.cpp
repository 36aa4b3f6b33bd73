// Merging the golden adapters into the base weights gives the same logits as running them unmerged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "model/gemma.h"
#include "model/merge.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class MergeGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(MergeGolden, MergedWeightsReproduceAdapterLogits) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / GetParam();
  const bool exact = nlohmann::json::parse(read_text_file(dir / "meta.json")).value("exact_gelu", false);
  const ModelConfig cfg = load_hf_config(dir / "model", exact);
  ModelWeights weights = load_hf_weights(dir / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", cfg);

  Batch batch;
  batch.B = 2, batch.T = 7;
  for (int i = 0; i < batch.B * batch.T; ++i) batch.input_ids.push_back(3 + (i * 37) % (cfg.vocab_size - 3));
  batch.attention_mask.assign(14, 1);
  batch.labels = batch.input_ids;

  Tensor unmerged, merged, base;
  GemmaModel with_adapter(cfg, weights, &adapter, nullptr);
  with_adapter.forward(batch, {});
  with_adapter.lm_head_loss(0.0f, &unmerged);
  GemmaModel plain(cfg, weights, nullptr, nullptr);
  plain.forward(batch, {});
  plain.lm_head_loss(0.0f, &base);

  merge_lora(weights, adapter);
  GemmaModel merged_model(cfg, weights, nullptr, nullptr);
  merged_model.forward(batch, {});
  merged_model.lm_head_loss(0.0f, &merged);

  double diff = 0, moved = 0;
  for (size_t i = 0; i < merged.data.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(merged.data[i] - unmerged.data[i])));
    moved = std::max(moved, static_cast<double>(std::fabs(base.data[i] - unmerged.data[i])));
  }
  EXPECT_LE(diff, 1e-4);
  EXPECT_GT(moved, 1e-2);  // the adapter really changes the output, so the comparison means something
}

INSTANTIATE_TEST_SUITE_P(Models, MergeGolden, ::testing::Values("mqa", "gqa"));

TEST(MergeOverflow, Fp16OverflowBecomesInfAndIsCounted) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / "mqa";
  const ModelConfig cfg = load_hf_config(dir / "model");
  const ModelWeights base = load_hf_weights(dir / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", cfg);
  LoraModule& q = *adapter.layers[0][static_cast<int>(Proj::Q)];
  std::fill(q.A.data.begin(), q.A.data.end(), 300.0f);  // delta = r * 300^2 * scaling, far beyond fp16's 65504
  std::fill(q.B.data.begin(), q.B.data.end(), 300.0f);

  ModelWeights f16 = base, bf16 = base;
  EXPECT_EQ(merge_lora(f16, adapter, DType::F16), static_cast<int64_t>(base.layers[0].q.dense.data.size()));
  for (const float w : f16.layers[0].q.dense.data) EXPECT_EQ(w, INFINITY);
  EXPECT_EQ(merge_lora(bf16, adapter, DType::BF16), 0);  // within bf16's range
  for (const float w : bf16.layers[0].q.dense.data) EXPECT_TRUE(std::isfinite(w));
}

}  // namespace
}  // namespace tune
