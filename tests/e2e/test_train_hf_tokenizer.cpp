// A model folder whose tokenizer is an HF tokenizer.json (the real SmolLM2 vocabulary, copied in by
// `new-model --tokenizer`) trains end to end with a family template: `tune data` shows the template's ids, `tune train` (sft, 2 steps) writes the adapter and copies
// tokenizer.json into output_dir.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_support.h"
#include "text/template.h"
#include "text/tokenizer.h"
#include "unit/hf_tokenizer_fixture.h"

namespace tune::e2e {
namespace {

TEST(TrainHfTokenizer, SftRunsOnATokenizerJsonFolder) {
  TempDir dir;
  const fs::path model = dir / "model";
  const fs::path tok_dir = tune_test::hf_tokenizer_folder("smollm2");
  const TuneRun made = run_tune({"new-model", model.string(), "--tokenizer", tok_dir.string(), "--hidden", "32",
                                 "--intermediate", "64", "--layers", "1", "--heads", "2", "--kv-heads", "1",
                                 "--head-dim", "16", "--seed", "2"},
                                dir / "new_model.log");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(read_bytes(model / "config.json").find("\"vocab_size\": 49152"), std::string::npos);  // from the tokenizer

  fs::create_directories(dir / "data");
  write_text(dir / "data" / "dataset_info.json", R"({"tiny": {"file_name": "tiny.json"}})");
  write_text(dir / "data" / "tiny.json", R"([
    {"instruction": "Say hi in French 🙂", "input": "", "output": "Bonjour !"},
    {"instruction": "Count to three", "input": "", "output": "1, 2, 3"},
    {"instruction": "日本の首都は?", "input": "", "output": "東京です。"}])");
  write_text(dir / "sft.yaml", "model_name_or_path: " + model.string() +
                                   "\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
                                   "dataset: tiny\ndataset_dir: " + (dir / "data").string() +
                                   "\ntemplate: smollm2\ncutoff_len: 64\nper_device_train_batch_size: 1\n"
                                   "max_steps: 2\nlearning_rate: 1.0e-4\nlogging_steps: 1\nthreads: 1\n"
                                   "output_dir: " + (dir / "out").string() + "\n");

  const TuneRun data = run_tune({"data", (dir / "sft.yaml").string(), "--out", (dir / "ids.jsonl").string()},
                                dir / "data.log");
  ASSERT_EQ(data.exit_code, 0) << data.output;
  // The first example's ids are the smollm2 template's, on the SmolLM2 tokenizer.
  const Tokenizer tok = Tokenizer::load(model);
  const auto turns = Template::get("smollm2").encode_multiturn(
      tok, {{Role::User, "Say hi in French 🙂"}, {Role::Assistant, "Bonjour !"}}, "", 64);
  std::vector<int32_t> want = turns[0].source;
  want.insert(want.end(), turns[0].target.begin(), turns[0].target.end());
  std::istringstream lines(read_bytes(dir / "ids.jsonl"));
  std::string first;
  std::getline(lines, first);
  EXPECT_EQ(nlohmann::json::parse(first)["input_ids"].get<std::vector<int32_t>>(), want) << first;

  const TuneRun train = run_tune({"train", (dir / "sft.yaml").string()}, dir / "train.log");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(fs::is_regular_file(dir / "out" / "adapter_model.safetensors"));
  EXPECT_EQ(read_bytes(dir / "out" / "tokenizer.json"), read_bytes(model / "tokenizer.json"));
  tune_test::remove_inflated_hf_tokenizers();
}

}  // namespace
}  // namespace tune::e2e
