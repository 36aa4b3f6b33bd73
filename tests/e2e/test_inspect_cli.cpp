// `tune inspect` runs train's checks on a model folder (the tokenizer is loaded and must fit the model's
// vocabulary; a template must match the tokenizer); a malformed GGUF file, or any other file, as model_name_or_path
// gets one clear error from inspect and train alike.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

namespace tune::e2e {
namespace {

class InspectCli : public ::testing::Test {
 protected:
  // A random model with `vocab` rows and the age_bias example's SentencePiece tokenizer.
  fs::path model_with_tokenizer(const std::string& name, int vocab) {
    const fs::path model = dir_ / name;
    const TuneRun r = run_tune({"new-model", model.string(), "--vocab", std::to_string(vocab), "--hidden", "32",
                                "--intermediate", "64", "--layers", "1", "--heads", "2", "--kv-heads", "1",
                                "--head-dim", "16", "--seed", "1"},
                               dir_ / (name + "_new.log"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
      fs::copy_file(kExample / "model" / f, model / f);
    return model;
  }
  TempDir dir_;
};

TEST_F(InspectCli, PrintsTheTokenizerAndTheTemplateItChecked) {
  const fs::path model = model_with_tokenizer("ok", 2000);
  const TuneRun r = run_tune({"inspect", model.string(), "--template", "gemma3"}, dir_ / "inspect.log");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tokenizer tokenizer.model:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("template gemma3: eos"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(<end_of_turn>)"), std::string::npos) << r.output;
}

TEST_F(InspectCli, RefusesATokenizerLargerThanTheModelAsTrainDoes) {
  const fs::path model = model_with_tokenizer("small", 100);
  const TuneRun r = run_tune({"inspect", model.string()}, dir_ / "inspect.log");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("does not belong to this model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vocab_size is 100"), std::string::npos) << r.output;
}

TEST_F(InspectCli, RefusesAFolderWithoutATokenizer) {
  const fs::path model = model_with_tokenizer("none", 2000);
  fs::remove(model / "tokenizer.model");
  const TuneRun r = run_tune({"inspect", model.string()}, dir_ / "inspect.log");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("tokenizer.model not found"), std::string::npos) << r.output;
}

TEST_F(InspectCli, RefusesATemplateWhoseEosTheTokenizerLacks) {
  const fs::path model = model_with_tokenizer("tmpl", 2000);
  const TuneRun r = run_tune({"inspect", model.string(), "--template", "llama3"}, dir_ / "inspect.log");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("<|eot_id|>"), std::string::npos) << r.output;
}

TEST_F(InspectCli, AMalformedGgufFileOrAnotherFileIsRefused) {
  const fs::path gguf = dir_ / "model-q4_k_m.gguf";
  std::ofstream(gguf) << "GGUF";
  const TuneRun inspect = run_tune({"inspect", gguf.string()}, dir_ / "inspect.log");
  EXPECT_EQ(inspect.exit_code, 2) << inspect.output;
  EXPECT_NE(inspect.output.find("error: " + gguf.string()), std::string::npos) << inspect.output;

  const fs::path cfg = dir_ / "train.yaml";
  std::ofstream(cfg) << "model_name_or_path: " << gguf.string() << "\nstage: sft\ndo_train: true\n"
                     << "template: gemma\ndataset: x\noutput_dir: " << (dir_ / "out").string() << "\n";
  const TuneRun train = run_tune({"train", cfg.string()}, dir_ / "train.log");
  EXPECT_EQ(train.exit_code, 2) << train.output;
  EXPECT_NE(train.output.find(gguf.string()), std::string::npos) << train.output;
  EXPECT_FALSE(fs::exists(dir_ / "out"));

  const fs::path weights = dir_ / "model.safetensors";
  std::ofstream(weights) << "x";
  const TuneRun file = run_tune({"inspect", weights.string()}, dir_ / "inspect_file.log");
  EXPECT_EQ(file.exit_code, 2) << file.output;
  for (const char* part : {"is a file, not a model folder or a .gguf file", "GGUF files (architectures gemma,"})
    EXPECT_NE(file.output.find(part), std::string::npos) << part << "\n" << file.output;
}

}  // namespace
}  // namespace tune::e2e
