// Tests for the README.md model card: the seed run's card reproduced byte for byte from its numbers, plus small
// cases for the optional hyperparameter lines, dataset sentences, front-matter metrics and HF's table quirks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/log_history.h"
#include "report/model_card.h"

namespace tune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The seed card's "Training results" rows: training loss, step, validation loss, and the eval accuracy as the count
// of correctly ranked pairs out of the 439 eval pairs (the card shows k/439 to 4 decimals).
struct SeedRow {
  double train_loss;
  int step;
  double eval_loss;
  int correct;
};
constexpr SeedRow kSeedRows[] = {
    {1.0698, 10, 1.0176, 242},  {1.0239, 20, 1.0151, 240},  {0.9997, 30, 1.0126, 244},  {1.0204, 40, 1.0100, 243},
    {1.012, 50, 1.0073, 242},   {1.0319, 60, 1.0047, 241},  {0.9938, 70, 1.0023, 241},  {1.0022, 80, 0.9999, 243},
    {1.0181, 90, 0.9976, 244},  {1.0136, 100, 0.9955, 244}, {0.9753, 110, 0.9934, 245}, {0.9773, 120, 0.9916, 246},
    {1.0077, 130, 0.9903, 246}, {0.992, 140, 0.9888, 246},  {0.9944, 150, 0.9873, 244}, {0.9893, 160, 0.9862, 243},
    {0.9928, 170, 0.9852, 244}, {0.9849, 180, 0.9844, 243}, {1.0108, 190, 0.9837, 243}, {0.992, 200, 0.9833, 243},
    {0.994, 210, 0.9829, 243},  {0.9816, 220, 0.9827, 244}, {0.9838, 230, 0.9823, 244}, {0.9823, 240, 0.9822, 243},
    {1.0015, 250, 0.9822, 243}, {1.004, 260, 0.9822, 243},
};
constexpr int kSeedSteps = 260;
constexpr int kEvalPairs = 439;

// What the trainer would have logged: per-step-averaged losses before HF's 4-decimal rounding, float32 eval losses.
EvalRun seed_eval(double loss, int correct) {
  return {.loss = static_cast<double>(static_cast<float>(loss)),
          .accuracy = static_cast<double>(correct) / kEvalPairs,
          .runtime_s = 96.4821,
          .num_samples = kEvalPairs,
          .num_steps = 110};
}

LogHistory seed_history() {
  LogHistory h = Json::array();
  for (const auto& r : kSeedRows) {
    const double epoch = static_cast<double>(r.step) / kSeedSteps;
    const double lr = 1e-6 * 0.5 * (1.0 + std::cos(M_PI * r.step / kSeedSteps));
    h.push_back(train_log_entry(r.train_loss + 2e-5, 3.1, lr, epoch, r.step));
    h.push_back(eval_log_entry(seed_eval(r.eval_loss, r.correct), epoch, r.step));
  }
  h.push_back(train_end_entry(
      {.runtime_s = 25130.9, .num_samples = 8322.0, .num_steps = kSeedSteps, .total_flos = 0.0, .train_loss = 1.0012},
      1.0, kSeedSteps));
  h.push_back(eval_log_entry(seed_eval(0.9822, 243), 1.0, kSeedSteps));  // LF's final do_eval pass
  return h;
}

Plan seed_plan() {
  Plan p;
  p.model_name_or_path = "/home/student2020/srcao/base-model/gemma-2b";
  p.stage = "rm";
  p.finetuning_type = "lora";
  p.dataset = {"age_bias"};
  p.output_dir = "/home/student2020/srcao/saves/gemma-2b/";
  p.per_device_train_batch_size = 1;
  p.per_device_eval_batch_size = 1;
  p.gradient_accumulation_steps = 8;
  p.learning_rate = 1e-6;
  p.num_train_epochs = 1.0;
  p.lr_scheduler_type = "cosine";
  p.fp16 = true;
  p.seed = 42;
  return p;
}

std::string up_to_framework_versions(const std::string& card) {
  const size_t at = card.find("### Framework versions");
  EXPECT_NE(at, std::string::npos);
  return card.substr(0, at);
}

TEST(ModelCard, ReproducesTheSeedCardByteForByte) {
  RunFacts facts;
  facts.world_size = 4;
  const std::string ours = model_card(seed_plan(), facts, seed_history());
  const std::string seed = slurp(fs::path(TUNE_TEST_DATA) / "report" / "seed_model_card.md");
  ASSERT_FALSE(seed.empty()) << "missing tests/data/report/seed_model_card.md";
  EXPECT_EQ(up_to_framework_versions(ours), up_to_framework_versions(seed));
}

TEST(ModelCard, FrameworkVersionsNameTuneCppAndTheAdapterFormat) {
  RunFacts facts;
  facts.tune_version = "0.1.0";
  facts.git_rev = "abc1234";
  const std::string card = model_card(seed_plan(), facts, seed_history());
  const std::string tail = card.substr(card.find("### Framework versions"));
  EXPECT_EQ(tail,
            "### Framework versions\n\n"
            "- tune.cpp 0.1.0 (git abc1234)\n"
            "- PEFT-compatible adapter format (PEFT 0.8.x)\n");
}

TEST(ModelCard, SingleProcessSftRunWithoutEvaluation) {
  Plan p;
  p.model_name_or_path = "google/gemma-2b";
  p.stage = "sft";
  p.dataset = {"alpaca_en", "glaive", "oaast"};
  p.output_dir = "saves/2024";
  p.per_device_train_batch_size = 4;
  p.per_device_eval_batch_size = 8;
  p.learning_rate = 5e-5;
  p.max_steps = 2;
  p.warmup_ratio = 0.1;
  p.warmup_steps = 3;
  p.lr_scheduler_type = "linear";
  p.bf16 = true;  // HF prints no mixed-precision line for bf16
  RunFacts facts;
  facts.tune_version = "0.1.0";
  facts.git_rev = "abc1234";
  LogHistory h = Json::array();
  h.push_back(train_log_entry(2.5, 1.0, 2.5e-5, 0.5, 1));
  h.push_back(train_end_entry({.runtime_s = 2.0, .num_samples = 8, .num_steps = 2, .train_loss = 2.25}, 1.0, 2));
  const std::string expected = R"(---
license: other
library_name: peft
tags:
- llama-factory
- lora
- generated_from_trainer
base_model: google/gemma-2b
model-index:
- name: '2024'
  results: []
---

<!-- This model card has been generated automatically according to the information the Trainer had access to. You
should probably proofread and complete it, then remove this comment. -->

# 2024

This model is a fine-tuned version of [google/gemma-2b](https://huggingface.co/google/gemma-2b) on the alpaca_en, the glaive and the oaast datasets.

## Model description

More information needed

## Intended uses & limitations

More information needed

## Training and evaluation data

More information needed

## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 5e-05
- train_batch_size: 4
- eval_batch_size: 8
- seed: 42
- optimizer: Adam with betas=(0.9,0.999) and epsilon=1e-08
- lr_scheduler_type: linear
- lr_scheduler_warmup_ratio: 0.1
- lr_scheduler_warmup_steps: 3
- training_steps: 2

### Training results



### Framework versions

- tune.cpp 0.1.0 (git abc1234)
- PEFT-compatible adapter format (PEFT 0.8.x)
)";
  EXPECT_EQ(model_card(p, facts, h), expected);
}

TEST(ModelCard, TableFollowsHfParseLogHistory) {
  Plan p = seed_plan();
  p.dataset = {};
  RunFacts facts;
  LogHistory h = Json::array();
  // An eval before any training log ("No log"), an eval metric whose str() is short (printed as is), a value
  // needing 4-decimal rounding, and an eval after the train-end entry (not a row, but the final result).
  h.push_back(eval_log_entry({.loss = 0.75, .accuracy = 0.5, .runtime_s = 1, .num_samples = 2, .num_steps = 1},
                             0.0, 0));
  h.push_back(train_log_entry(0.123456, 1.0, 1e-6, 0.5, 5));
  h.push_back(eval_log_entry({.loss = 2.0 / 3.0, .accuracy = 1.0, .runtime_s = 1, .num_samples = 2, .num_steps = 1},
                             0.5, 5));
  h.push_back(train_end_entry({.runtime_s = 1, .num_samples = 2, .num_steps = 5, .train_loss = 0.2}, 0.5, 5));
  h.push_back(eval_log_entry({.loss = 1e-05, .accuracy = 0.25, .runtime_s = 1, .num_samples = 2, .num_steps = 1},
                             0.5, 5));
  const std::string card = model_card(p, facts, h);
  EXPECT_NE(card.find("on an unknown dataset.\nIt achieves the following results on the evaluation set:\n"
                      "- Loss: 1e-05\n- Accuracy: 0.25\n"),
            std::string::npos)
      << card;
  EXPECT_NE(card.find("| Training Loss | Epoch | Step | Validation Loss | Accuracy |\n"
                      "|:-------------:|:-----:|:----:|:---------------:|:--------:|\n"
                      "| No log        | 0.0   | 0    | 0.75            | 0.5      |\n"
                      "| 0.1235        | 0.5   | 5    | 0.6667          | 1.0      |\n"),
            std::string::npos)
      << card;
}

TEST(ModelCard, WritesReadme) {
  const fs::path dir = fs::temp_directory_path() / ("tune_test_model_card_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  RunFacts facts;
  facts.world_size = 4;
  save_model_card(dir, seed_plan(), facts, seed_history());
  EXPECT_EQ(slurp(dir / "README.md"), model_card(seed_plan(), facts, seed_history()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tune
