// tune export against PEFT's merge_and_unload (tests/data/export, made by tools/reference/make_export_golden.py):
// merged weights for fp32 (<= 1e-6 relative) and bf16/fp16 (bit-equal) checkpoints, one adapter and two chained
// adapters, HF's shard index, and an exported folder that loads back and reproduces the adapter model's logits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "export/export_model.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "model/gemma.h"
#include "model/merge.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(TUNE_TEST_DATA) / "export";

class TempFolder {
 public:
  TempFolder() : path_(fs::temp_directory_path() / ("tune_export_test_" + std::to_string(::getpid()) + "_" +
                                                     std::to_string(counter_++))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

ExportResult export_to(const fs::path& model, const std::vector<std::string>& adapters, const fs::path& out,
                       uint64_t max_shard_bytes = kNoShardLimit) {
  ExportRequest r;
  r.model_dir = model;
  for (const std::string& a : adapters) r.adapters.push_back(kData / a);
  r.export_dir = out;
  r.max_shard_bytes = max_shard_bytes;
  return export_merged_model(r);
}

struct Case {
  const char* tag;    // model_<tag>, expected/<tag>_<chain>.safetensors
  DType dtype;
  const char* chain;  // "a" or "ab"
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.tag) + "_" + info.param.chain;
}

class ExportGolden : public ::testing::TestWithParam<Case> {};

TEST_P(ExportGolden, MergedWeightsEqualPeftMergeAndUnload) {
  const Case c = GetParam();
  TempFolder tmp;
  const fs::path out = tmp.path() / "merged";
  const std::vector<std::string> adapters =
      std::string(c.chain) == "a" ? std::vector<std::string>{"adapter_a"}
                                  : std::vector<std::string>{"adapter_a", "adapter_b"};
  const ExportResult result = export_to(kData / (std::string("model_") + c.tag), adapters, out);
  EXPECT_EQ(result.dtype, c.dtype);

  const SafetensorsFile got = SafetensorsFile::open(out / "model.safetensors");
  const SafetensorsFile want = SafetensorsFile::open(kData / "expected" / cat(c.tag, "_", c.chain, ".safetensors"));
  ASSERT_EQ(got.tensors().size(), want.tensors().size());  // no lm_head.weight (tied)
  double worst_rel = 0.0;
  size_t mismatches = 0, elements = 0;
  for (const TensorInfo& w : want.tensors()) {
    const TensorInfo* g = got.find(w.name);
    ASSERT_NE(g, nullptr) << w.name;
    ASSERT_EQ(g->dtype, c.dtype) << w.name;
    ASSERT_EQ(g->shape, w.shape) << w.name;
    elements += static_cast<size_t>((w.end - w.begin) / dtype_size(w.dtype));
    if (c.dtype == DType::F32) {
      const Tensor a = got.read_f32(w.name), b = want.read_f32(w.name);
      for (size_t i = 0; i < a.data.size(); ++i) {
        const double rel = std::fabs(a.data[i] - b.data[i]) / std::max(std::fabs(b.data[i]), 1e-30f);
        worst_rel = std::max(worst_rel, rel);
      }
    } else {  // bit patterns of the 16-bit values
      const auto ga = got.data(*g), wa = want.data(w);
      for (size_t i = 0; i + 1 < wa.size(); i += 2) mismatches += std::memcmp(&ga[i], &wa[i], 2) != 0;
    }
  }
  EXPECT_LE(worst_rel, 1e-6);
  EXPECT_EQ(mismatches, 0u);
  std::printf("%s_%s: %zu elements, worst relative error %.3g, 16-bit mismatches %zu\n", c.tag, c.chain, elements,
              worst_rel, mismatches);

  const ModelConfig cfg = load_hf_config(out);  // config.json states the exported dtype
  EXPECT_EQ(cfg.torch_dtype, c.dtype);
}

INSTANTIATE_TEST_SUITE_P(PeftMerge, ExportGolden,
                         ::testing::Values(Case{"f32", DType::F32, "a"}, Case{"f32", DType::F32, "ab"},
                                           Case{"bf16", DType::BF16, "a"}, Case{"bf16", DType::BF16, "ab"},
                                           Case{"f16", DType::F16, "a"}, Case{"f16", DType::F16, "ab"}),
                         case_name);

// The fixture tells PEFT's rounding rule apart from the other plausible one: rounding the delta to bf16 before the
// add, round(W + round(s * B . A)), disagrees with PEFT on many elements, so bit equality above pins the rule.
TEST(ExportGolden, DeltaRoundedFirstWouldNotMatchPeft) {
  const fs::path model = kData / "model_bf16";
  const ModelConfig cfg = load_hf_config(model);
  const ModelWeights base = load_hf_weights(model, cfg);
  const LoraAdapter adapter = load_peft_adapter(kData / "adapter_a", cfg);
  ModelWeights delta = base;  // the same shapes, zeroed: merging gives fp32(fp32(B . A) * s) exactly
  for (LayerWeights& l : delta.layers)
    for (FrozenLinear* t : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      std::fill(t->dense.data.begin(), t->dense.data.end(), 0.0f);
  merge_lora(delta, adapter, DType::F32);

  const SafetensorsFile want = SafetensorsFile::open(kData / "expected" / "bf16_a.safetensors");
  const Tensor& w = base.layers[0].q.dense;
  const Tensor& d = delta.layers[0].q.dense;
  const Tensor peft = want.read_f32("model.layers.0.self_attn.q_proj.weight");
  auto bf16 = [](float x) { return bf16_to_f32(f32_to_bf16(x)); };
  int single = 0, double_rounded = 0;
  for (size_t i = 0; i < w.data.size(); ++i) {
    single += bf16(w.data[i] + d.data[i]) != peft.data[i];
    double_rounded += bf16(w.data[i] + bf16(d.data[i])) != peft.data[i];
  }
  EXPECT_EQ(single, 0);
  EXPECT_GT(double_rounded, static_cast<int>(w.data.size() / 10));
}

// Several shards (a forced 20 kB limit) with the same files and the same index as HF's save_pretrained, and the
// sharded folder loads back through load_hf_weights.
TEST(ExportGolden, ShardedLikeSavePretrained) {
  TempFolder tmp;
  const fs::path out = tmp.path() / "sharded";
  const ExportResult result = export_to(kData / "model_f32", {"adapter_a", "adapter_b"}, out, 20'000);
  const std::vector<std::string> want_files = {
      "config.json", "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
      "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors", "model.safetensors.index.json",
      "generation_config.json"};
  EXPECT_EQ(result.files, want_files);
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  const std::string hf_index = read_text_file(kData / "expected" / "f32_ab_sharded.index.json");
  EXPECT_EQ(read_text_file(out / "model.safetensors.index.json"), hf_index);
  for (int s = 1; s <= 4; ++s)
    EXPECT_LE(fs::file_size(out / cat("model-0000", s, "-of-00004.safetensors")), 20'000u + 4'096u);  // + header

  const ModelConfig cfg = load_hf_config(out);
  const ModelWeights loaded = load_hf_weights(out, cfg);
  const SafetensorsFile want = SafetensorsFile::open(kData / "expected" / "f32_ab.safetensors");
  const Tensor expected_down = want.read_f32("model.layers.1.mlp.down_proj.weight");
  ASSERT_EQ(loaded.layers[1].down.dense.shape, expected_down.shape);
  for (size_t i = 0; i < expected_down.data.size(); ++i)
    ASSERT_NEAR(loaded.layers[1].down.dense.data[i], expected_down.data[i], 1e-6 * std::fabs(expected_down.data[i]));
}

// The exported folder of a golden fixture (model + PEFT adapter + value head) loads back and gives the logits of the
// base model running the unmerged adapter.
class ExportRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportRoundTrip, ExportedModelReproducesAdapterLogits) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / GetParam();
  const bool exact = nlohmann::json::parse(read_text_file(dir / "meta.json")).value("exact_gelu", false);
  TempFolder tmp;
  const fs::path out = tmp.path() / "exported";
  ExportRequest r;
  r.model_dir = dir / "model";
  r.adapters = {dir / "adapter"};
  r.export_dir = out;
  r.max_shard_bytes = 50'000;  // several shards
  r.reward_model = true;
  export_merged_model(r);
  EXPECT_TRUE(fs::exists(out / "model.safetensors.index.json"));
  EXPECT_EQ(read_text_file(out / "value_head.safetensors"), read_text_file(dir / "adapter" / "value_head.safetensors"));

  const ModelConfig cfg = load_hf_config(dir / "model", exact);
  ModelWeights base = load_hf_weights(dir / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(dir / "adapter", cfg);
  const ModelConfig exported_cfg = load_hf_config(out, exact);
  const ModelWeights exported = load_hf_weights(out, exported_cfg);

  Batch batch;
  batch.B = 2, batch.T = 7;
  for (int i = 0; i < batch.B * batch.T; ++i) batch.input_ids.push_back(3 + (i * 37) % (cfg.vocab_size - 3));
  batch.attention_mask.assign(14, 1);
  batch.labels = batch.input_ids;
  Tensor unmerged, merged, plain;
  GemmaModel with_adapter(cfg, base, &adapter, nullptr);
  with_adapter.forward(batch, {});
  with_adapter.lm_head_loss(0.0f, &unmerged);
  GemmaModel merged_model(exported_cfg, exported, nullptr, nullptr);
  merged_model.forward(batch, {});
  merged_model.lm_head_loss(0.0f, &merged);
  GemmaModel base_model(cfg, base, nullptr, nullptr);
  base_model.forward(batch, {});
  base_model.lm_head_loss(0.0f, &plain);
  double diff = 0, moved = 0;
  for (size_t i = 0; i < merged.data.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(merged.data[i] - unmerged.data[i])));
    moved = std::max(moved, static_cast<double>(std::fabs(plain.data[i] - unmerged.data[i])));
  }
  std::printf("%s: exported vs unmerged logits max |diff| %.3g (the adapter moves them by %.3g)\n",
              GetParam().c_str(), diff, moved);
  EXPECT_LE(diff, 1e-4);
  EXPECT_GT(moved, 1e-2);
}

INSTANTIATE_TEST_SUITE_P(Models, ExportRoundTrip, ::testing::Values("mqa", "gqa"));

// Other families: the export equals PEFT's merge_and_unload state dict (tools/reference/make_family_golden.py
// merged.safetensors) bit for bit, key for key: llama (untied lm_head, q/k/v/o biases), gemma3_text (QK-norm, four
// norms per layer).
class ExportFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportFamily, EqualsPeftMergeAndUnload) {
  const fs::path dir = fs::path(TUNE_TEST_DATA) / "golden" / GetParam();
  TempFolder tmp;
  ExportRequest r;
  r.model_dir = dir / "model";
  r.adapters = {dir / "adapter"};
  r.export_dir = tmp.path() / "exported";
  export_merged_model(r);
  const SafetensorsFile got = SafetensorsFile::open(r.export_dir / "model.safetensors");
  const SafetensorsFile want = SafetensorsFile::open(dir / "merged.safetensors");
  ASSERT_EQ(got.tensors().size(), want.tensors().size());
  int changed = 0;
  const SafetensorsFile base = SafetensorsFile::open(dir / "model" / "model.safetensors");
  for (const TensorInfo& t : want.tensors()) {
    ASSERT_NE(got.find(t.name), nullptr) << t.name << " is missing from the export";
    EXPECT_EQ(got.read_f32(t.name).data, want.read_f32(t.name).data) << t.name;
    changed += base.read_f32(t.name).data != want.read_f32(t.name).data;
  }
  EXPECT_EQ(changed, load_hf_config(dir / "model").num_layers * kNumProj);  // every projection, nothing else
}

INSTANTIATE_TEST_SUITE_P(Families, ExportFamily, ::testing::Values("llama", "gemma3_text"));

// Errors leave neither export_dir nor a temp folder behind.
TEST(ExportErrors, MismatchedAdapterLeavesNothing) {
  TempFolder tmp;
  const fs::path out = tmp.path() / "merged";
  ExportRequest r;
  r.model_dir = kData / "model_f32";
  r.adapters = {fs::path(TUNE_TEST_DATA) / "golden" / "mqa" / "adapter"};  // made for another model
  r.export_dir = out;
  try {
    export_merged_model(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("adapter_model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(ExportErrors, NonEmptyExportDirNeedsOverwrite) {
  TempFolder tmp;
  const fs::path out = tmp.path() / "merged";
  fs::create_directories(out);
  write_file_atomic(out / "keep.txt", std::string("old"));
  ExportRequest r;
  r.model_dir = kData / "model_bf16";
  r.export_dir = out;
  try {
    export_merged_model(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overwrite_output_dir: true"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(out / "keep.txt"));
  r.overwrite = true;
  EXPECT_EQ(export_merged_model(r).dtype, DType::BF16);
  EXPECT_FALSE(fs::exists(out / "keep.txt"));
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 1u);  // no temp or old folder left next to it
}

TEST(ExportErrors, ExportDirHoldingTheInputIsRefused) {
  TempFolder tmp;
  const fs::path model = tmp.path() / "models" / "base";
  fs::create_directories(model);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(kData / "model_bf16" / f, model / f);
  ExportRequest r;
  r.model_dir = model;
  r.overwrite = true;
  for (const fs::path& dir : {model, model.parent_path(), model / ".." / "base" / ""}) {
    r.export_dir = dir;
    try {
      export_merged_model(r);
      FAIL() << "no error for export_dir " << dir;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is or contains the input folder"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(model / "model.safetensors"));
  }
}

}  // namespace
}  // namespace tune
