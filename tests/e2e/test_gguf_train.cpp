// The real SmolLM2-135M-Instruct GGUF (Q4_1, tests/real_gguf.h) as model_name_or_path end to end: a LoRA reward
// model and an SFT run (6 steps each on 12 short rows, cutoff_len 48) bring the eval loss well below the untrained
// model's (an eval-only run of the same config), the adapter has HF module names and base_model_name_or_path = the
// .gguf path; `tune chat` with the smollm2 template answers "What is the capital of France?" with Paris; `tune export`
// writes an HF folder whose config and weights load back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "e2e/e2e_support.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "real_gguf.h"

namespace tune::e2e {
namespace {

using json = nlohmann::json;

const std::vector<std::pair<std::string, std::string>> kCapitals = {
    {"France", "Paris"},   {"Italy", "Rome"},     {"Spain", "Madrid"},  {"Germany", "Berlin"},
    {"Japan", "Tokyo"},    {"Egypt", "Cairo"},    {"Peru", "Lima"},     {"Kenya", "Nairobi"},
    {"Norway", "Oslo"},    {"Greece", "Athens"},  {"Cuba", "Havana"},   {"Chile", "Santiago"},
    {"Poland", "Warsaw"},  {"Ireland", "Dublin"}, {"Austria", "Vienna"}, {"Portugal", "Lisbon"}};

// dataset_dir with "rm" / "sft" (the first 12 countries) and "rm_eval" / "sft_eval" (the last 4).
void write_datasets(const fs::path& dir) {
  fs::create_directories(dir);
  json rm = json::array(), rm_eval = json::array(), sft = json::array(), sft_eval = json::array();
  for (size_t i = 0; i < kCapitals.size(); ++i) {
    const auto& [country, city] = kCapitals[i];
    const json pair = {{"instruction", "What is the capital of " + country + "?"},
                       {"input", ""},
                       {"output", {"The capital of " + country + " is " + city + ".", "I do not want to talk about that."}}};
    const json row = {{"instruction", "Name the capital of " + country + "."},
                      {"input", ""},
                      {"output", "Capital: " + city + ". Country: " + country + ". Done."}};
    (i < 12 ? rm : rm_eval).push_back(pair);
    (i < 12 ? sft : sft_eval).push_back(row);
  }
  write_text(dir / "rm.json", rm.dump());
  write_text(dir / "rm_eval.json", rm_eval.dump());
  write_text(dir / "sft.json", sft.dump());
  write_text(dir / "sft_eval.json", sft_eval.dump());
  write_text(dir / "dataset_info.json",
             json{{"rm", {{"file_name", "rm.json"}, {"ranking", true}}},
                  {"rm_eval", {{"file_name", "rm_eval.json"}, {"ranking", true}}},
                  {"sft", {{"file_name", "sft.json"}}},
                  {"sft_eval", {{"file_name", "sft_eval.json"}}}}
                 .dump());
}

std::string train_config(const fs::path& model, const fs::path& data, const std::string& stage, const fs::path& out) {
  return "model_name_or_path: " + model.string() + "\nstage: " + stage +
         "\ndo_train: true\ndo_eval: true\nfinetuning_type: lora\nlora_target: all\ndataset: " + stage +
         "\neval_dataset: " + stage + "_eval\ndataset_dir: " + data.string() +
         "\ntemplate: smollm2\ncutoff_len: 48\noutput_dir: " + out.string() +
         "\noverwrite_output_dir: true\nper_device_train_batch_size: 2\nper_device_eval_batch_size: 4\n"
         "learning_rate: 2.0e-3\nmax_steps: 6\nlogging_steps: 1\nseed: 1\n";
}

double eval_loss(const fs::path& out) {
  return json::parse(read_text_file(out / "eval_results.json")).at("eval_loss").get<double>();
}

class GgufTrain : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTrain, LoraRunOnTheRealGgufReducesEvalLoss) {
  TUNE_REAL_GGUF(model, test::kSmolLM2Gguf);
  const std::string stage = GetParam();
  TempDir dir;
  write_datasets(dir / "data");
  write_text(dir / "train.yaml", train_config(model, dir / "data", stage, dir / "out"));
  const TuneRun base = run_tune(train_args(dir / "train.yaml", {"do_train=false", "output_dir=" + (dir / "base").string()}),
                                dir / "base.log");
  ASSERT_EQ(base.exit_code, 0) << tail(base.output);
  const TuneRun run = run_tune(train_args(dir / "train.yaml", {}), dir / "train.log");
  ASSERT_EQ(run.exit_code, 0) << tail(run.output);
  const double before = eval_loss(dir / "base"), after = eval_loss(dir / "out");
  std::printf("%s on %s: eval loss %.4f untrained -> %.4f after 6 steps\n", stage.c_str(), test::kSmolLM2Gguf, before,
              after);
  EXPECT_LT(after, 0.5 * before);

  const json adapter = json::parse(read_text_file(dir / "out" / "adapter_config.json"));
  EXPECT_EQ(adapter["base_model_name_or_path"], model.string());
  const SafetensorsFile weights = SafetensorsFile::open(dir / "out" / "adapter_model.safetensors");
  EXPECT_TRUE(weights.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_TRUE(weights.find("base_model.model.model.layers.29.mlp.down_proj.lora_B.weight"));
  if (stage == "rm") EXPECT_TRUE(fs::exists(dir / "out" / "value_head.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Stages, GgufTrain, ::testing::Values("rm", "sft"));

TEST(GgufChat, SmolLM2AnswersTheCapitalOfFrance) {
  TUNE_REAL_GGUF(model, test::kSmolLM2Gguf);
  TempDir dir;
  write_text(dir / "chat.yaml", "model_name_or_path: " + model.string() +
                                    "\ntemplate: smollm2\ndo_sample: false\nmax_new_tokens: 24\n");
  const ChatRun r = run_chat({(dir / "chat.yaml").string()}, "What is the capital of France?\n/exit\n", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Paris"), std::string::npos) << r.out;
}

TEST(GgufExport, WritesAnHfFolderThatLoadsBack) {
  TUNE_REAL_GGUF(model, test::kSmolLM2Gguf);
  TempDir dir;
  write_text(dir / "export.yaml", "model_name_or_path: " + model.string() + "\ntemplate: smollm2\nexport_dir: " +
                                      (dir / "export").string() + "\n");
  const TuneRun r = run_tune({"export", (dir / "export.yaml").string()}, dir / "export.log");
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_NE(r.output.find("BF16"), std::string::npos) << r.output;  // a quantized base is exported in bf16
  const ModelConfig cfg = load_hf_config(dir / "export");
  EXPECT_EQ(cfg.model_type, "llama");
  EXPECT_EQ(cfg.num_layers, 30);
  EXPECT_EQ(cfg.torch_dtype, DType::BF16);
  EXPECT_EQ(load_hf_weights(dir / "export", cfg).layers.size(), 30u);
}

}  // namespace
}  // namespace tune::e2e
