// plan_to_yaml: grouped, stable, every key once, and it loads back to an equal Plan (YAML text helpers included).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "config/config_value.h"
#include "config/plan.h"
#include "config/plan_keys.h"

namespace tune {
namespace {

const std::string kDir = std::string(TUNE_TEST_DATA) + "/config/";

Plan round_trip(const Plan& p) { return parse_plan(plan_to_yaml(p), ConfigFormat::Yaml, "tune_plan.yaml"); }

TEST(ConfigPrint, SeedPlanRoundTrips) {
  const Plan p = load_plan(kDir + "gemma2b_rm_lora.yaml");
  EXPECT_EQ(round_trip(p), p);
}

TEST(ConfigPrint, HeadExamplePlanRoundTrips) {
  const Plan p = load_plan(kDir + "lf_head_reward.yaml");
  EXPECT_EQ(round_trip(p), p);
}

TEST(ConfigPrint, AwkwardValuesRoundTrip) {
  Plan p;
  p.model_name_or_path = "/models/my gemma: 2b";  // space and colon need quotes
  p.adapter_name_or_path = {"a,1", "b"};          // an item with a comma needs a flow list
  p.template_ = "gemma";
  p.dataset = {"true", "123", "null"};            // bool, number and null look-alikes stay strings
  p.dataset_dir = "#data";
  p.output_dir = "out\"q\\";
  p.resume_from_checkpoint = std::string("yes");
  p.learning_rate = 0.1 + 0.2;  // not a short decimal: needs all 17 digits
  p.adam_epsilon = 1e-300;
  p.num_train_epochs = 2.0;
  p.val_size = 0.05;
  p.max_samples = int64_t{1} << 40;
  p.seed = 1234567890123;
  p.save_total_limit = 3;
  p.eval_strategy = "epoch";
  p.do_eval = true;
  p.eval_steps = 7;
  p.lora_target = {"down_proj", "q_proj"};
  p.report_to = {"tensorboard", "wandb"};
  p.logging_dir = "logs\tx";
  p.gguf_weights = "dequantize";  // what loading resolves for a model that is not a .gguf file
  EXPECT_EQ(round_trip(p), p);
}

TEST(ConfigPrint, GroupsInOrderAndEveryKeyOnce) {
  const std::string text = plan_to_yaml(load_plan(kDir + "gemma2b_rm_lora.yaml"));
  size_t last = 0;
  for (const char* g : {"### model", "### method", "### dataset", "### output", "### train", "### eval", "### tune.cpp"}) {
    const size_t at = text.find(std::string("\n") + g);
    ASSERT_NE(at, std::string::npos) << g;
    EXPECT_GT(at, last) << g;
    last = at;
  }
  EXPECT_EQ(text.rfind("# tune.cpp resolved plan", 0), 0u);
  for (const auto& key : plan_keys()) {
    const std::string line = "\n" + key.name + ": ";
    const size_t first = text.find(line);
    EXPECT_NE(first, std::string::npos) << key.name;
    EXPECT_EQ(text.find(line, first + 1), std::string::npos) << key.name;
  }
  EXPECT_NE(text.find("\nlearning_rate: 1.0e-06\n"), std::string::npos);
  EXPECT_NE(text.find("\nlora_target: q_proj,v_proj\n"), std::string::npos);
  EXPECT_NE(text.find("\nlora_alpha: 16\n"), std::string::npos);
  EXPECT_NE(text.find("\neval_strategy: steps\n"), std::string::npos);
  EXPECT_NE(text.find("\ndo_eval: true\n"), std::string::npos);
  EXPECT_NE(text.find("\nmax_samples: null\n"), std::string::npos);
  EXPECT_NE(text.find("\nnum_train_epochs: 1.0\n"), std::string::npos);
  EXPECT_NE(text.find("\nrm_loss: per_token\n"), std::string::npos);
  // Same plan, same text.
  EXPECT_EQ(text, plan_to_yaml(load_plan(kDir + "gemma2b_rm_lora.yaml")));
}

TEST(ConfigPrint, SavedPlanLoadsFromDisk) {
  const Plan p = load_plan(kDir + "gemma2b_rm_lora.yaml", {"seed=3"});
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "tune_test_config_print_plan.yaml";
  std::ofstream(file) << plan_to_yaml(p);
  EXPECT_EQ(load_plan(file), p);
  std::filesystem::remove(file);
}

TEST(ConfigPrint, YamlTextQuotesOnlyWhenNeeded) {
  EXPECT_EQ(yaml_text("saves/gemma-2b/lora/rm"), "saves/gemma-2b/lora/rm");
  EXPECT_EQ(yaml_text("q_proj,v_proj"), "q_proj,v_proj");
  EXPECT_EQ(yaml_text(""), "null");
  EXPECT_EQ(yaml_text("null"), "\"null\"");
  EXPECT_EQ(yaml_text("on"), "\"on\"");
  EXPECT_EQ(yaml_text("1e5"), "\"1e5\"");
  EXPECT_EQ(yaml_text(".5"), "\".5\"");
  EXPECT_EQ(yaml_text("2024-01-01"), "\"2024-01-01\"");
  EXPECT_EQ(yaml_text("a b"), "\"a b\"");
  EXPECT_EQ(yaml_text("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

TEST(ConfigPrint, YamlDoubleIsShortestAndHasADot) {
  EXPECT_EQ(yaml_double(1e-6), "1.0e-06");
  EXPECT_EQ(yaml_double(5e-5), "5.0e-05");
  EXPECT_EQ(yaml_double(3.0), "3.0");
  EXPECT_EQ(yaml_double(0.05), "0.05");
  EXPECT_EQ(yaml_double(0.999), "0.999");
  EXPECT_EQ(yaml_double(0.0), "0.0");
  EXPECT_EQ(yaml_double(1.5e-8), "1.5e-08");
  const double x = 0.1 + 0.2;
  EXPECT_EQ(std::stod(yaml_double(x)), x);
}

}  // namespace
}  // namespace tune
