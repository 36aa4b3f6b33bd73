// What a LLaMA-Factory user expects of the `tune` binary: `--key value` / `--key=value` overrides and HF bool flags,
// LF keys tune.cpp lacks named as such, report_to said out loud, a failed run showing its error rather than the plan,
// PNG plots beside the SVGs, evaluation progress, and `tune new-model` folders that carry a tokenizer and write
// config.json floats as Python does.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/plan.h"
#include "e2e/e2e_support.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A PNG file's IHDR size, or {0, 0} when the bytes are not a PNG.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

class LfCompat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // the age_bias example's sizes, its tokenizer copied in by --tokenizer (and --vocab taken from it)
    const TuneRun r = run_tune({"new-model", model().string(), "--tokenizer", (kExample / "model").string(),
                                "--hidden", "64", "--intermediate", "256", "--layers", "2", "--heads", "4",
                                "--kv-heads", "1", "--head-dim", "16"},
                               *dir_ / "new_model.log");
    new_model_output_ = new std::string(r.output);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    write_text(config(), "model_name_or_path: " + model().string() +
                             "\nstage: rm\ndo_train: false\nfinetuning_type: lora\nlora_target: all\n"
                             "dataset: age_bias_test\ndataset_dir: " + (kExample / "data").string() +
                             "\ntemplate: gemma\ncutoff_len: 256\nper_device_train_batch_size: 4\n"
                             "per_device_eval_batch_size: 8\nmax_steps: 100\nlearning_rate: 5.0e-3\nval_size: 0.1\n"
                             "eval_strategy: steps\neval_steps: 3\nlogging_steps: 1\nplot_loss: false\nthreads: 1\n"
                             "report_to: none\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete new_model_output_;
    dir_ = nullptr;
  }
  static fs::path model() { return *dir_ / "model"; }
  static fs::path config() { return *dir_ / "rm.yaml"; }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }
  static TuneRun tune(const std::vector<std::string>& args, const std::string& log) { return run_tune(args, tmp(log)); }

  static TempDir* dir_;
  static std::string* new_model_output_;
};
TempDir* LfCompat::dir_ = nullptr;
std::string* LfCompat::new_model_output_ = nullptr;

// One short run: `--key value`, `--key=value`, bool flags alone and `--no_<key>`, hyphens, then key=value, mixed.
// The resolved plan is printed after setup and saved; plot_loss writes PNGs beside the SVGs; eval shows progress.
TEST_F(LfCompat, DashDashOverridesTrainWithPngPlotsAndEvalProgress) {
  const fs::path out = tmp("run");
  const TuneRun r = tune({"train", config().string(), "--do_train", "--max_steps=3", "--learning_rate", "1e-3",
                          "--plot_loss", "--use_fast_tokenizer", "false", "--no_infer_merge_adapters",
                          "--per-device-eval-batch-size", "4", "--output_dir", out.string(), "seed=7"},
                         "run.log");
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  const Plan p = load_plan(out / "tune_plan.yaml");
  EXPECT_TRUE(p.do_train);
  EXPECT_EQ(p.max_steps, 3);
  EXPECT_EQ(p.learning_rate, 1e-3);
  EXPECT_TRUE(p.plot_loss);
  EXPECT_FALSE(p.use_fast_tokenizer);
  EXPECT_FALSE(p.infer_merge_adapters);
  EXPECT_EQ(p.per_device_eval_batch_size, 4);
  EXPECT_EQ(p.seed, 7);
  EXPECT_EQ(p.output_dir, out.string());
  // the plan is printed once the run is set up: after the dataset is read, before training starts
  const size_t dataset_at = r.output.find("dataset age_bias_test:"), plan_at = r.output.find("### model");
  ASSERT_NE(plan_at, std::string::npos) << tail(r.output);
  EXPECT_LT(dataset_at, plan_at);
  EXPECT_LT(plan_at, r.output.find("***** training *****"));
  EXPECT_TRUE(has(r.output, "# saved as " + (out / "tune_plan.yaml").string())) << tail(r.output);
  // 20 eval examples in batches of 4, evaluated at step 3 and at the end
  EXPECT_TRUE(has(r.output, "eval 5/5 [####################] 100.0%")) << tail(r.output);
  for (const char* key : {"loss", "eval_loss", "eval_accuracy"}) {
    const std::string svg = read_bytes(out / ("training_" + std::string(key) + ".svg"));
    const std::string png = read_bytes(out / ("training_" + std::string(key) + ".png"));
    const size_t w = svg.find("width=\""), h = svg.find("height=\"");
    ASSERT_NE(w, std::string::npos);
    EXPECT_EQ(png_size(png), std::make_pair(static_cast<uint32_t>(std::stoul(svg.substr(w + 7))),
                                            static_cast<uint32_t>(std::stoul(svg.substr(h + 8)))))
        << key;
    EXPECT_GT(png.size(), 2000u) << key;  // a drawn chart, not an empty image
  }
}

TEST_F(LfCompat, BadDashDashOptionsAreUsageErrors) {
  const TuneRun unknown = tune({"train", config().string(), "--lerning_rate", "1"}, "unknown.log");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(has(unknown.output, "error: unknown option --lerning_rate for 'tune train' (neither an option nor a "
                                  "config key); did you mean --learning_rate?"))
      << unknown.output;
  const TuneRun missing = tune({"train", config().string(), "--learning_rate"}, "missing.log");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(has(missing.output, "error: option --learning_rate needs a value")) << missing.output;
  const TuneRun bad_bool = tune({"train", config().string(), "--do_train=maybe"}, "bad_bool.log");
  EXPECT_EQ(bad_bool.exit_code, 2);
  EXPECT_TRUE(has(bad_bool.output, "do_train must be true or false, got 'maybe'")) << bad_bool.output;
}

// A run that cannot start prints warnings and its error, not the resolved plan.
TEST_F(LfCompat, FailedRunShowsTheErrorNotThePlan) {
  const TuneRun r = tune({"train", config().string(), "--do_train", "--output_dir", tmp("failed").string(),
                          "--model_name_or_path", tmp("no_such_model").string(), "--report_to", "wandb"},
                         "failed.log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.output, "error: ")) << r.output;
  EXPECT_TRUE(has(r.output, "no_such_model")) << r.output;
  EXPECT_FALSE(has(r.output, "### model")) << r.output;
  EXPECT_FALSE(has(r.output, "learning_rate:")) << r.output;
  EXPECT_TRUE(has(r.output, "warning: " + config().string() + ": report_to: wandb is not supported: tune.cpp has "
                            "no reporting integrations and sends nothing anywhere"))
      << r.output;
  EXPECT_FALSE(fs::exists(tmp("failed") / "tune_plan.yaml"));
}

TEST_F(LfCompat, UnsupportedLlamaFactoryKeysSaySo) {
  const TuneRun used = tune({"train", config().string(), "--packing"}, "packing.log");
  EXPECT_EQ(used.exit_code, 2);
  EXPECT_TRUE(has(used.output, "error: command line: `packing` is a LLaMA-Factory key that tune.cpp does not support "
                               "yet (in LLaMA-Factory it packs several examples into one sequence); got 'true'"))
      << used.output;
  write_text(tmp("ds.yaml"), read_bytes(config()) + "deepspeed: ds_z3_config.json\n");
  const TuneRun file = tune({"train", tmp("ds.yaml").string()}, "ds.log");
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_TRUE(has(file.output, "ds.yaml: `deepspeed` is a LLaMA-Factory key that tune.cpp does not support yet"))
      << file.output;
  EXPECT_FALSE(has(file.output, "unknown key")) << file.output;
  // left off (LF's default), it is a warning and the command goes on: here `tune data` shows the examples
  const TuneRun off = tune({"data", config().string(), "--packing", "false", "flash_attn=auto", "--show", "1",
                            "--cutoff_len=16"},
                           "off.log");
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_TRUE(has(off.output, "warning: command line: `packing` is a LLaMA-Factory key that tune.cpp does not "
                              "support yet (in LLaMA-Factory it packs several examples into one sequence); ignored, "
                              "since 'false' (in 'packing=false') leaves it off"))
      << off.output;
}

// `tune data`'s own options (--out) and config keys given as options (--cutoff_len) in one command line: the ids
// equal those of the key=value form, and the override took effect (rows shorter than without it).
TEST_F(LfCompat, CommandOptionsAndConfigOptionsMix) {
  const TuneRun dashed = tune({"data", config().string(), "--out", tmp("ids.jsonl").string(), "--cutoff_len", "12",
                               "max_samples=5"},
                              "data.log");
  ASSERT_EQ(dashed.exit_code, 0) << dashed.output;
  const TuneRun plain = tune({"data", config().string(), "cutoff_len=12", "max_samples=5", "--out",
                              tmp("ids_plain.jsonl").string()},
                             "data_plain.log");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const TuneRun full = tune({"data", config().string(), "max_samples=5", "--out", tmp("ids_full.jsonl").string()},
                            "data_full.log");
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string ids = read_bytes(tmp("ids.jsonl"));
  EXPECT_EQ(ids, read_bytes(tmp("ids_plain.jsonl")));
  EXPECT_LT(ids.size(), read_bytes(tmp("ids_full.jsonl")).size());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), '\n'), 5);
}

TEST_F(LfCompat, NewModelCarriesTheTokenizerAndPythonFloats) {
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_EQ(read_bytes(model() / f), read_bytes(kExample / "model" / f)) << f;
  EXPECT_TRUE(has(*new_model_output_, "with the tokenizer of " + (kExample / "model").string() + " (2000 tokens)"))
      << *new_model_output_;
  const std::string config_text = read_bytes(model() / "config.json");
  EXPECT_TRUE(has(config_text, "\"vocab_size\": 2000,")) << config_text;
  EXPECT_TRUE(has(config_text, "\"rms_norm_eps\": 1e-06,")) << config_text;
  EXPECT_TRUE(has(config_text, "\"rope_theta\": 10000.0,")) << config_text;

  const TuneRun bare = tune({"new-model", tmp("bare").string()}, "bare.log");
  ASSERT_EQ(bare.exit_code, 0) << bare.output;
  EXPECT_TRUE(has(bare.output, "no tokenizer: training, chat and scoring need one; run again with --tokenizer DIR"))
      << bare.output;
  const TuneRun small = tune({"new-model", tmp("small").string(), "--tokenizer", (kExample / "model").string(),
                              "--vocab", "100"},
                             "small.log");
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_TRUE(has(small.output, "--vocab 100 is smaller than the tokenizer's 2000 tokens")) << small.output;
  EXPECT_FALSE(fs::exists(tmp("small")));
}

}  // namespace
}  // namespace tune::e2e
