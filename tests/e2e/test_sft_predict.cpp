// `tune train` sft with do_predict + predict_with_generate: generated_predictions.jsonl has LLaMA-Factory's
// {"prompt", "predict", "label"} line per example, the predictions equal the library's generation with the adapter
// for the same chat prompt, predict_results.json has the speed metrics, and a missing predict_with_generate is an
// error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/plan.h"
#include "e2e/e2e_support.h"
#include "infer/generator.h"
#include "infer/inference_model.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::json;

const fs::path kTrajectory = kRepo / "tests" / "data" / "trajectory";

// Eval-only sft prediction over the trajectory fixture's 9 alpaca examples with its adapter, greedy.
std::string predict_config(const fs::path& out) {
  return "model_name_or_path: " + (kTrajectory / "model").string() +
         "\nadapter_name_or_path: " + (kTrajectory / "adapter").string() +
         "\ndataset_dir: " + (kTrajectory / "data").string() +
         "\ndataset: sft\nstage: sft\ntemplate: gemma\nfinetuning_type: lora\ncutoff_len: 1024\n"
         "do_predict: true\npredict_with_generate: true\ndo_sample: false\nrepetition_penalty: 2.0\n"
         "max_new_tokens: 8\nper_device_eval_batch_size: 2\nthreads: 1\noutput_dir: " +
         out.string() + "\n";
}

TEST(SftPredict, PredictionsEqualTheLibrarysGeneration) {
  TempDir dir;
  const fs::path out = dir / "predict", config = dir / "predict.yaml";
  write_text(config, predict_config(out));
  const TuneRun r = run_tune({"train", config.string()}, dir / "train.log");
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);

  // The library: the same adapter as a LoRA branch (as training holds it), LF's chat prompt of each instruction.
  Plan plan = load_plan(config);
  plan.infer_merge_adapters = false;
  const InferenceModel m = load_inference_model(plan);
  Generator gen(m);
  const Json data = Json::parse(read_bytes(kTrajectory / "data" / "sft.json"));

  std::istringstream lines(read_bytes(out / "generated_predictions.jsonl"));
  std::string line;
  size_t i = 0;
  int nonempty = 0;
  for (; std::getline(lines, line); ++i) {
    ASSERT_LT(i, data.size());
    const Json row = Json::parse(line);
    ASSERT_EQ(row.size(), 3u) << line;
    const std::string input = data[i]["input"];
    const std::string query = data[i]["instruction"].get<std::string>() + (input.empty() ? "" : "\n" + input);
    const std::vector<int32_t> prompt = chat_prompt_ids(m, {{Role::User, query}}, "");
    SamplingParams p = SamplingParams::from_plan(plan);
    const Generation g = gen.generate(prompt, p);
    std::vector<int32_t> kept;
    for (const int32_t id : g.tokens)
      if (!m.tokenizer->is_special(id)) kept.push_back(id);
    EXPECT_EQ(row["prompt"], m.tokenizer->decode(prompt)) << i;
    EXPECT_EQ(row["predict"], m.tokenizer->decode(kept)) << i;
    EXPECT_EQ(row["label"], data[i]["output"]) << i;
    EXPECT_EQ(line.rfind("{\"prompt\": \"<bos><start_of_turn>user\\n", 0), 0u) << line;
    nonempty += !row["predict"].get<std::string>().empty();
  }
  EXPECT_EQ(i, data.size());
  EXPECT_GT(nonempty, 0);

  const Json metrics = Json::parse(read_bytes(out / "predict_results.json"));
  EXPECT_TRUE(metrics.contains("predict_runtime")) << metrics.dump();
  EXPECT_TRUE(metrics.contains("predict_samples_per_second")) << metrics.dump();
  EXPECT_FALSE(metrics.contains("predict_loss")) << metrics.dump();
}

TEST(SftPredict, WithoutPredictWithGenerateIsAnError) {
  TempDir dir;
  const fs::path config = dir / "predict.yaml";
  write_text(config, predict_config(dir / "predict"));
  const TuneRun r = run_tune({"train", config.string(), "predict_with_generate=false"}, dir / "train.log");
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("predict_with_generate: true"), std::string::npos) << tail(r.output);
}

TEST(SftPredict, IdsPastTheTokenizerDecodeToNothing) {
  // config.json's vocab_size 3000 pads the tokenizer's 2000 ids; hot sampling picks padded ids often.
  TempDir dir;
  const fs::path model = dir / "model", out = dir / "predict", config = dir / "predict.yaml";
  const TuneRun made = run_tune({"new-model", model.string(), "--vocab", "3000", "--hidden", "32", "--intermediate",
                                 "64", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--head-dim", "16"},
                                dir / "new_model.log");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  for (const char* name : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    fs::copy_file(kExample / "model" / name, model / name);
  write_text(config, "model_name_or_path: " + model.string() + "\ndataset_dir: " +
                         (kTrajectory / "data").string() +
                         "\ndataset: sft\nstage: sft\ntemplate: gemma\nfinetuning_type: lora\n"
                         "do_predict: true\npredict_with_generate: true\ndo_sample: true\ntemperature: 3.0\n"
                         "top_k: 0\ntop_p: 1.0\nmax_new_tokens: 12\nthreads: 1\noutput_dir: " +
                         out.string() + "\n");
  const TuneRun r = run_tune({"train", config.string()}, dir / "train.log");
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);

  const Plan plan = load_plan(config);
  const InferenceModel m = load_inference_model(plan);
  ASSERT_EQ(m.tokenizer->vocab_size(), 2000);
  Generator gen(m);
  const Json data = Json::parse(read_bytes(kTrajectory / "data" / "sft.json"));
  std::istringstream lines(read_bytes(out / "generated_predictions.jsonl"));
  std::string line;
  size_t i = 0, padded = 0;
  for (; std::getline(lines, line); ++i) {
    ASSERT_LT(i, data.size());
    const std::string input = data[i]["input"];
    const std::string query = data[i]["instruction"].get<std::string>() + (input.empty() ? "" : "\n" + input);
    SamplingParams p = SamplingParams::from_plan(plan);
    p.seed = static_cast<uint64_t>(plan.seed) + i;  // sft_predict's seed for example i
    const Generation g = gen.generate(chat_prompt_ids(m, {{Role::User, query}}, ""), p);
    std::vector<int32_t> kept;
    for (const int32_t id : g.tokens)
      if (id >= 2000)
        ++padded;
      else if (!m.tokenizer->is_special(id))
        kept.push_back(id);
    EXPECT_EQ(Json::parse(line)["predict"], m.tokenizer->decode(kept)) << i;
  }
  EXPECT_EQ(i, data.size());
  EXPECT_GT(padded, 0u) << "no padded id was sampled";
}

TEST(SftPredict, UnusableSettingsAreRefusedBeforeTraining) {
  // do_train + do_predict: a setting do_predict cannot use must stop the run before it trains, not after.
  for (const std::string bad : {"predict_with_generate=false", "train_on_prompt=true"}) {
    TempDir dir;
    const fs::path config = dir / "predict.yaml", out = dir / "predict";
    write_text(config, predict_config(out));
    const TuneRun r = run_tune({"train", config.string(), "do_train=true", "val_size=2", bad}, dir / "train.log");
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << tail(r.output);
    EXPECT_NE(r.output.find("error: "), std::string::npos) << tail(r.output);
    EXPECT_NE(r.output.find(bad.substr(0, bad.find('='))), std::string::npos) << tail(r.output);
    EXPECT_FALSE(fs::exists(out / "adapter_model.safetensors")) << bad << ": trained before refusing";
  }
}

}  // namespace
}  // namespace tune::e2e
