// Stage dpo end to end through the tune binary: the age_bias example (dpo_lora.yaml on 800 pairs) raises the eval
// rewards/accuracies and writes TRL's metrics into every log file, the plot and the model card; eval_dataset; tune
// eval-bias on the trained policy; resume from a checkpoint is bit-identical; bad preference data fails cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e/e2e_support.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

Json read_json(const fs::path& file) { return Json::parse(read_bytes(file)); }

class DpoRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_tiny_model(*dir_ / "model", *dir_ / "new_model.log");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path model() { return *dir_ / "model"; }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }
  static std::vector<std::string> example_overrides(const fs::path& out) {
    return {"model_name_or_path=" + model().string(), "dataset_dir=" + (kExample / "data").string(),
            "output_dir=" + out.string(), "threads=1"};
  }
  static TempDir* dir_;
};
TempDir* DpoRun::dir_ = nullptr;

// 800 pairs, 100 held out: 700 training pairs, 175 micro-batches of 4, GA 2 -> 87 steps; logging and evaluation
// every 20 steps.
TEST_F(DpoRun, AgeBiasExampleRaisesEvalRewardAccuracyAndLogsTrlMetrics) {
  const fs::path out = tmp("dpo_lora");
  std::vector<std::string> o = example_overrides(out);
  for (const char* k : {"max_samples=800", "val_size=100", "eval_steps=20", "logging_steps=20"}) o.push_back(k);
  const TuneRun r = run_tune(train_args(kExample / "dpo_lora.yaml", o), tmp("dpo_lora.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);

  for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "trainer_state.json", "train_results.json",
                        "eval_results.json", "all_results.json", "trainer_log.jsonl", "README.md",
                        "training_loss.svg", "training_rewards_accuracies.svg", "training_eval_loss.svg"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "value_head.safetensors"));  // a policy, not a reward model

  const Json history = read_json(out / "trainer_state.json").at("log_history");
  const std::vector<std::string> metric_names = {"rewards/chosen", "rewards/rejected", "rewards/accuracies",
                                                 "rewards/margins", "logps/chosen",    "logps/rejected",
                                                 "logits/chosen",   "logits/rejected"};
  std::vector<double> eval_accuracy;
  int train_entries = 0;
  // trainer_state.json sorts the keys (HF's json.dumps(sort_keys=True)): compare key sets.
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  for (const auto& e : history) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : e.items()) keys.push_back(k);
    keys = sorted(keys);
    if (e.contains("loss")) {
      ++train_entries;
      std::vector<std::string> want = {"loss", "grad_norm", "learning_rate"};
      want.insert(want.end(), metric_names.begin(), metric_names.end());
      want.insert(want.end(), {"epoch", "step"});
      EXPECT_EQ(keys, sorted(want));
    } else if (e.contains("eval_loss")) {
      std::vector<std::string> want = {"eval_loss", "eval_runtime", "eval_samples_per_second",
                                       "eval_steps_per_second"};
      for (const auto& m : metric_names) want.push_back("eval_" + m);
      want.insert(want.end(), {"epoch", "step"});
      EXPECT_EQ(keys, sorted(want));
      eval_accuracy.push_back(e.at("eval_rewards/accuracies").get<double>());
    }
  }
  EXPECT_EQ(train_entries, 4);
  ASSERT_EQ(eval_accuracy.size(), 4u);  // steps 20, 40, 60, 80; then the final do_eval in eval_results.json
  eval_accuracy.push_back(read_json(out / "eval_results.json").at("eval_rewards/accuracies").get<double>());
  std::printf("eval rewards/accuracies:");
  for (double a : eval_accuracy) std::printf(" %.2f", a);
  std::printf("\n");
  EXPECT_GE(eval_accuracy.back(), 0.65);
  EXPECT_GE(eval_accuracy.back(), eval_accuracy.front() + 0.1);

  // trainer_log.jsonl: LF's LogCallback copies rewards/accuracies into "accuracy" for training lines.
  const std::string log = read_bytes(out / "trainer_log.jsonl");
  const Json first = Json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(first.at("accuracy"), history[0].at("rewards/accuracies"));
  // The card's results table has TRL's columns (HF names a column from the key after "eval_").
  const std::string card = read_bytes(out / "README.md");
  for (const char* col : {"Validation Loss", "Rewards/chosen", "Rewards/accuracies", "Logps/rejected"})
    EXPECT_NE(card.find(col), std::string::npos) << col;
  EXPECT_TRUE(read_json(out / "eval_results.json").contains("eval_rewards/margins"));

  // tune eval-bias on the trained policy: bias_results.json and the card's section.
  const TuneRun bias = run_tune({"eval-bias", (kExample / "dpo_lora.yaml").string(),
                                 "model_name_or_path=" + model().string(), "adapter_name_or_path=" + out.string(),
                                 "threads=1", "--data", (kExample / "data" / "age_bias_test_bbq.json").string()},
                                tmp("bias.log"));
  ASSERT_EQ(bias.exit_code, 0) << tail(bias.output);
  const Json b = read_json(out / "bias_results.json");
  EXPECT_EQ(b.at("scorer"), "log_likelihood");
  EXPECT_EQ(b.at("n"), 200);
  EXPECT_EQ(b.at("ambiguous").at("n").get<int>() + b.at("disambiguated").at("n").get<int>(), 200);
  for (const char* k : {"bias_score_amb", "bias_score_dis"}) {
    EXPECT_GE(b.at(k).get<double>(), -1.0);
    EXPECT_LE(b.at(k).get<double>(), 1.0);
  }
  EXPECT_NE(read_bytes(out / "README.md").find("## Bias evaluation (BBQ)"), std::string::npos);

  // eval_dataset: an evaluation-only run of the trained adapter on the held-out test file.
  const TuneRun ev = run_tune(train_args(kExample / "dpo_lora.yaml",
                                         {"model_name_or_path=" + model().string(),
                                          "dataset_dir=" + (kExample / "data").string(),
                                          "adapter_name_or_path=" + out.string(), "output_dir=" + tmp("eval").string(),
                                          "do_train=false", "eval_dataset=age_bias_test", "val_size=0",
                                          "max_samples=40", "threads=1"}),
                              tmp("eval.log"));
  ASSERT_EQ(ev.exit_code, 0) << tail(ev.output);
  const Json metrics = read_json(tmp("eval") / "eval_results.json");
  EXPECT_TRUE(metrics.contains("eval_rewards/accuracies"));
  EXPECT_GT(metrics.at("eval_samples_per_second").get<double>(), 0.0);
}

// log_history without the wall-clock keys.
Json timeless_history(const fs::path& out) {
  Json h = read_json(out / "trainer_state.json").at("log_history");
  for (auto& e : h)
    for (const char* k : {"eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "train_runtime",
                          "train_samples_per_second", "train_steps_per_second"})
      e.erase(k);
  return h;
}

// The logging window (4 steps) straddles checkpoint 3, so the stored metric window must be restored too.
TEST_F(DpoRun, ResumeFromCheckpointIsBitIdentical) {
  const std::vector<std::string> common = {
      "model_name_or_path=" + model().string(), "dataset_dir=" + (kExample / "data").string(), "max_samples=44",
      "val_size=4", "per_device_train_batch_size=2", "gradient_accumulation_steps=2", "max_steps=6", "save_steps=3",
      "logging_steps=4", "eval_steps=2", "per_device_eval_batch_size=2", "threads=1"};
  const fs::path full = tmp("resume_full"), copy = tmp("resume_copy");
  std::vector<std::string> o = common;
  o.push_back("output_dir=" + full.string());
  const TuneRun r = run_tune(train_args(kExample / "dpo_lora.yaml", o), tmp("resume_full.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  ASSERT_TRUE(fs::is_directory(full / "checkpoint-3"));
  fs::copy(full, copy, fs::copy_options::recursive);
  for (const char* f : {"adapter_model.safetensors", "trainer_state.json", "train_results.json", "all_results.json"})
    fs::remove(copy / f);
  std::vector<std::string> ro = common;
  ro.push_back("output_dir=" + copy.string());
  ro.push_back("resume_from_checkpoint=" + (copy / "checkpoint-3").string());
  const TuneRun rr = run_tune(train_args(kExample / "dpo_lora.yaml", ro), tmp("resume_copy.log"));
  ASSERT_EQ(rr.exit_code, 0) << tail(rr.output);
  EXPECT_NE(rr.output.find("resuming from"), std::string::npos);
  EXPECT_EQ(read_bytes(copy / "adapter_model.safetensors"), read_bytes(full / "adapter_model.safetensors"));
  EXPECT_EQ(timeless_history(copy), timeless_history(full));
  EXPECT_TRUE(timeless_history(full)[1].contains("rewards/accuracies"));  // [0] is the eval at step 2
}

// Preference data that DPO cannot use fails with one clear error (exit 2) and writes no adapter.
TEST_F(DpoRun, BadPreferenceDataIsAClearError) {
  const fs::path data = tmp("bad_data");
  fs::create_directories(data);
  const std::string columns = R"("columns": {"prompt": "instruction", "query": "input", "response": "output"})";
  write_text(data / "dataset_info.json",
             R"({"one_answer": {"file_name": "one.json", "ranking": true, )" + columns + R"(},
  "identical": {"file_name": "same.json", "ranking": true, )" + columns + R"(},
  "no_output": {"file_name": "none.json", "ranking": true, )" + columns + R"(},
  "plain": {"file_name": "plain.json", )" + columns + "}}\n");
  write_text(data / "one.json", R"([{"instruction": "Who?", "input": "", "output": ["Only one."]}])");
  write_text(data / "same.json", R"([{"instruction": "Who?", "input": "", "output": ["Same.", "Same."]}])");
  write_text(data / "none.json", R"([{"instruction": "Who?", "input": ""}])");
  write_text(data / "plain.json", R"([{"instruction": "Who?", "input": "", "output": "A."}])");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"one_answer", "1 dropped because they have fewer than 2 responses (chosen, rejected)"},
      {"identical", "1 dropped because its chosen and rejected answers are identical"},
      {"no_output", "output"},
      {"plain", "is not preference data, but stage dpo needs chosen/rejected answers"}};
  for (const auto& [name, message] : cases) {
    SCOPED_TRACE(name);
    const fs::path out = tmp("bad_" + name);
    const TuneRun r = run_tune(train_args(kExample / "dpo_lora.yaml",
                                          {"model_name_or_path=" + model().string(), "dataset_dir=" + data.string(),
                                           "dataset=" + name, "val_size=0", "do_eval=false", "eval_strategy=no",
                                           "output_dir=" + out.string()}),
                               tmp("bad.log"));
    EXPECT_EQ(r.exit_code, 2) << tail(r.output);
    EXPECT_NE(r.output.find("error: "), std::string::npos) << tail(r.output);
    EXPECT_NE(r.output.find(message), std::string::npos) << tail(r.output);
    EXPECT_FALSE(fs::exists(out / "adapter_model.safetensors"));
  }
  // do_predict has nothing to write for a policy
  const TuneRun p = run_tune(train_args(kExample / "dpo_lora.yaml", {"model_name_or_path=" + model().string(),
                                                                      "do_predict=true"}),
                             tmp("predict.log"));
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.output.find("tune eval-bias"), std::string::npos) << tail(p.output);
}

}  // namespace
}  // namespace tune::e2e
