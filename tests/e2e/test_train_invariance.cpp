// `tune train` batching invariance: on unpadded equal-length data, gradient accumulation 8 x micro-batch 1 and
// micro-batch 8 x accumulation 1 take the same optimizer steps (pt, and rm with the per_token loss).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "config/plan.h"
#include "config/plan_data.h"
#include "data/dataset.h"
#include "e2e/e2e_support.h"
#include "text/tokenizer.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::json;

constexpr double kRelTol = 1e-5;

class TrainInvariance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_tiny_model(*dir_ / "model", *dir_ / "new_model.log");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  // Trains with the given micro-batch and accumulation (and learning rate); returns the output folder.
  static fs::path train(const fs::path& config, int micro_batch, int accumulation, const std::string& lr = "10.0") {
    const std::string name = config.stem().string() + "_mb" + std::to_string(micro_batch) + "_ga" +
                             std::to_string(accumulation) + "_lr" + lr;
    const fs::path out = tmp(name);
    const TuneRun r = run_tune(train_args(config, {"output_dir=" + out.string(), "learning_rate=" + lr,
                                                   "per_device_train_batch_size=" + std::to_string(micro_batch),
                                                   "gradient_accumulation_steps=" + std::to_string(accumulation)}),
                               tmp(name + ".log"));
    EXPECT_EQ(r.exit_code, 0) << tail(r.output);
    return out;
  }

  static TempDir* dir_;
};
TempDir* TrainInvariance::dir_ = nullptr;

// adam_epsilon 1 is far above every gradient entry, so AdamW's update is learning_rate x the bias-corrected momentum
// (learning_rate 10 makes it a sizable step): linear in the gradient. With the usual 1e-8, Adam's step is about
// lr x sign(g) and a gradient entry near zero turns float rounding into a difference of up to lr, which is no test of
// batching; linear steps also show a gradient scaled wrongly (Adam's usual step hides the scale).
std::string common_keys(const fs::path& model) {
  return "model_name_or_path: " + model.string() +
         "\n"
         "do_train: true\nfinetuning_type: lora\nlora_target: all\nlora_dropout: 0.0\n"
         "adam_epsilon: 1.0\nlr_scheduler_type: linear\nmax_steps: 3\nlogging_steps: 1\nsave_steps: 1000\n"
         "max_grad_norm: 1.0\nseed: 7\nthreads: 1\n";
}

// The train log entries of two runs agree: same loss (the mean of the 8 examples' mean losses either way) and the
// same gradient norm (so the gradient is not only parallel but equally scaled, which Adam alone would hide).
void expect_same_train_logs(const fs::path& a, const fs::path& b) {
  const Json ha = Json::parse(read_bytes(a / "trainer_state.json")).at("log_history");
  const Json hb = Json::parse(read_bytes(b / "trainer_state.json")).at("log_history");
  ASSERT_EQ(ha.size(), hb.size());
  int train_entries = 0;
  for (size_t i = 0; i < ha.size(); ++i) {
    if (!ha[i].contains("grad_norm")) continue;
    ++train_entries;
    const double ga = ha[i]["grad_norm"].get<double>(), gb = hb[i].at("grad_norm").get<double>();
    EXPECT_NEAR(ga, gb, kRelTol * ga) << "step " << ha[i]["step"];
    EXPECT_NEAR(ha[i]["loss"].get<double>(), hb[i].at("loss").get<double>(), 1e-4) << "step " << ha[i]["step"];
  }
  EXPECT_EQ(train_entries, 3);
}

// Training moved the weights far beyond the comparison tolerance: the largest change of the A tensors, the B tensors
// (which start at zero) and the value head, relative to the largest weight, is over 100 x kRelTol. `untrained` is
// the same run with learning_rate 0.
void expect_trained(const fs::path& untrained, const fs::path& trained, const std::string& file) {
  const SafetensorsFile a = SafetensorsFile::open(untrained / file), b = SafetensorsFile::open(trained / file);
  std::map<std::string, double> largest_change;  // by kind: lora_A, lora_B, or the file's other tensors
  for (const TensorInfo& t : a.tensors()) {
    const std::string kind = t.name.find("lora_A") != std::string::npos   ? "lora_A"
                             : t.name.find("lora_B") != std::string::npos ? "lora_B"
                                                                          : file;
    const double change = max_relative_diff(b.read_f32(t.name), a.read_f32(t.name));
    largest_change[kind] = std::max(largest_change[kind], change);
  }
  for (const auto& [kind, change] : largest_change) EXPECT_GT(change, 100 * kRelTol) << kind;
}

TEST_F(TrainInvariance, PretrainingAccumulationEqualsBatching) {
  // pt packs the text into cutoff_len blocks, so every example has exactly 64 tokens and nothing is padded.
  const fs::path config = tmp("pt.yaml");
  write_text(config, common_keys(tmp("model")) + "stage: pt\ndataset: pt_many\ndataset_dir: " +
                         (fs::path(TUNE_TEST_DATA) / "datasets").string() + "\ncutoff_len: 64\n");
  const fs::path accumulated = train(config, 1, 8), batched = train(config, 8, 1), mixed = train(config, 2, 4);
  expect_trained(train(config, 8, 1, "0.0"), batched, "adapter_model.safetensors");
  expect_tensors_close(accumulated / "adapter_model.safetensors", batched / "adapter_model.safetensors", kRelTol);
  expect_tensors_close(mixed / "adapter_model.safetensors", batched / "adapter_model.safetensors", kRelTol);
  expect_same_train_logs(accumulated, batched);
  expect_same_train_logs(mixed, batched);
}

// A ranking dataset whose pairs all have the same lengths: the tokenizer splits digits, so "Question 4821" has the
// same number of tokens for every 4-digit number, and "Answer 37" for every 2-digit one.
void write_equal_length_pairs(const fs::path& dir) {
  fs::create_directories(dir);
  Json rows = Json::array();
  for (int i = 0; i < 48; ++i) {
    const int q = 1000 + (i * 7919) % 9000, good = 10 + (i * 37) % 90, bad = 10 + (good - 10 + 1 + i % 88) % 90;
    rows.push_back({{"instruction", "Question " + std::to_string(q)},
                    {"output", {"Answer " + std::to_string(good), "Answer " + std::to_string(bad)}}});
  }
  write_text(dir / "pairs.json", rows.dump(1));
  write_text(dir / "dataset_info.json",
             R"({"pairs": {"file_name": "pairs.json", "ranking": true,
                 "columns": {"prompt": "instruction", "response": "output"}}})");
}

TEST_F(TrainInvariance, RewardModelPerTokenAccumulationEqualsBatching) {
  write_equal_length_pairs(tmp("pairs"));
  const fs::path config = tmp("rm.yaml");
  write_text(config, common_keys(tmp("model")) + "stage: rm\ndataset: pairs\ndataset_dir: " +
                         tmp("pairs").string() +
                         "\ntemplate: gemma\ncutoff_len: 64\nrm_loss: per_token\nvalue_head_dropout: 0.0\n");

  // The premise: every prompt, chosen and rejected sequence has one length, so no batch has padding.
  const Plan plan = load_plan(config, {"output_dir=" + tmp("unused").string()});
  const PreparedData data = prepare_dataset(data_options(plan), Tokenizer::load(tmp("model")));
  ASSERT_EQ(data.pairwise.size(), 48u);
  for (const PairwiseExample& p : data.pairwise) {
    EXPECT_EQ(p.prompt_ids.size(), data.pairwise[0].prompt_ids.size());
    EXPECT_EQ(p.chosen_ids.size(), data.pairwise[0].chosen_ids.size());
    EXPECT_EQ(p.rejected_ids.size(), data.pairwise[0].chosen_ids.size());
    EXPECT_NE(p.chosen_ids, p.rejected_ids);
  }

  const fs::path accumulated = train(config, 1, 8), batched = train(config, 8, 1), untrained = train(config, 8, 1, "0.0");
  expect_trained(untrained, batched, "adapter_model.safetensors");
  expect_trained(untrained, batched, "value_head.safetensors");
  expect_tensors_close(accumulated / "adapter_model.safetensors", batched / "adapter_model.safetensors", kRelTol);
  expect_tensors_close(accumulated / "value_head.safetensors", batched / "value_head.safetensors", kRelTol);
  expect_same_train_logs(accumulated, batched);
}

}  // namespace
}  // namespace tune::e2e
