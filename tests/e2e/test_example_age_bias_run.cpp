// The bundled age_bias example run end to end through the tune binary (rm_lora.yaml on 400 pairs with the README's
// tiny model): every output file as LLaMA-Factory / HF 4.38 / PEFT 0.8 write it, an eval + predict run of the
// trained adapter, and bad input failing cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "config/plan.h"
#include "e2e/e2e_support.h"
#include "io/safetensors.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

const fs::path kConfig = kExample / "rm_lora.yaml";

// 400 pairs, val_size 0.05 -> 20 evaluation pairs and 380 training pairs: 95 micro-batches of 4, GA 2 -> 47 steps;
// logging and evaluation every 10 steps (as the example config says) -> 4 of each during training.
constexpr int kSteps = 47;
constexpr int kEvalsDuringTraining = 4;

std::vector<std::string> keys_of(const Json& object) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : object.items()) keys.push_back(k);
  return keys;
}
std::vector<std::string> sorted_keys(const Json& object) {
  auto keys = keys_of(object);
  std::sort(keys.begin(), keys.end());
  return keys;
}

Json read_json(const fs::path& file) { return Json::parse(read_bytes(file)); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Where one example run keeps its files: the tiny model, the training output and scratch files.
struct ExampleDirs {
  fs::path root;
  fs::path model() const { return root / "model"; }
  fs::path out() const { return root / "rm_lora"; }
  fs::path tmp(const std::string& name) const { return root / name; }
  // The example's config with only paths, size and thread count changed (one thread: tiny matrices gain nothing
  // from more, and the machine running the tests may be busy).
  std::vector<std::string> overrides() const {
    return {"model_name_or_path=" + model().string(), "dataset_dir=" + (kExample / "data").string(),
            "output_dir=" + out().string(), "max_samples=400", "threads=1"};
  }
};

// Every file LLaMA-Factory leaves in output_dir (its PNG plots, plus SVG twins), and nothing else.
void check_output_files(const ExampleDirs& d) {
  for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "value_head.safetensors",
                        "trainer_state.json", "train_results.json", "eval_results.json", "all_results.json",
                        "trainer_log.jsonl", "README.md", "tokenizer.model", "tokenizer_config.json",
                        "special_tokens_map.json", "training_loss.svg", "training_eval_loss.svg",
                        "training_eval_accuracy.svg", "training_loss.png", "training_eval_loss.png",
                        "training_eval_accuracy.png", "tune_plan.yaml"})
    EXPECT_TRUE(fs::is_regular_file(d.out() / f)) << f;
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_EQ(read_bytes(d.out() / f), read_bytes(d.model() / f)) << f;
  for (const char* f : {"training_loss.svg", "training_eval_loss.svg", "training_eval_accuracy.svg"})
    EXPECT_NE(read_bytes(d.out() / f).find("<svg"), std::string::npos) << f;
  for (const char* f : {"training_loss.png", "training_eval_loss.png", "training_eval_accuracy.png"})
    EXPECT_EQ(read_bytes(d.out() / f).compare(0, 8, "\x89PNG\r\n\x1a\n"), 0) << f;
  // save_steps is 500 (HF's default) and the run has 47 steps: no checkpoint, nothing temporary left.
  for (const auto& e : fs::directory_iterator(d.out())) {
    EXPECT_FALSE(e.is_directory()) << e.path();
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

// adapter_config.json has PEFT 0.8.x's 22 keys; tensor names and shapes are PEFT's and TRL's value head's.
void check_adapter_is_peft08(const ExampleDirs& d) {
  const Json cfg = read_json(d.out() / "adapter_config.json");
  EXPECT_EQ(sorted_keys(cfg),
            (std::vector<std::string>{"alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias",
                                      "fan_in_fan_out", "inference_mode", "init_lora_weights", "layers_pattern",
                                      "layers_to_transform", "loftq_config", "lora_alpha", "lora_dropout",
                                      "megatron_config", "megatron_core", "modules_to_save", "peft_type", "r",
                                      "rank_pattern", "revision", "target_modules", "task_type", "use_rslora"}));
  EXPECT_EQ(cfg["r"], 8);
  EXPECT_EQ(cfg["lora_alpha"], 16);
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "CAUSAL_LM");
  EXPECT_EQ(cfg["inference_mode"], true);
  EXPECT_EQ(cfg["base_model_name_or_path"], d.model().string());
  std::set<std::string> targets;
  for (const auto& t : cfg["target_modules"]) targets.insert(t.get<std::string>());
  EXPECT_EQ(targets, (std::set<std::string>{"q_proj", "v_proj"}));

  // Tiny model: hidden 64, 4 heads x 16 (q_proj out 64), 1 kv head x 16 (v_proj out 16), 2 layers; r 8.
  const SafetensorsFile adapter = SafetensorsFile::open(d.out() / "adapter_model.safetensors");
  std::map<std::string, Shape> expected;
  for (int l = 0; l < 2; ++l) {
    const std::string prefix = "base_model.model.model.layers." + std::to_string(l) + ".self_attn.";
    expected[prefix + "q_proj.lora_A.weight"] = {8, 64};
    expected[prefix + "q_proj.lora_B.weight"] = {64, 8};
    expected[prefix + "v_proj.lora_A.weight"] = {8, 64};
    expected[prefix + "v_proj.lora_B.weight"] = {16, 8};
  }
  std::map<std::string, Shape> actual;
  for (const TensorInfo& t : adapter.tensors()) {
    actual[t.name] = t.shape;
    EXPECT_EQ(t.dtype, DType::F32) << t.name;
  }
  EXPECT_EQ(actual, expected);

  const SafetensorsFile head = SafetensorsFile::open(d.out() / "value_head.safetensors");
  ASSERT_EQ(head.tensors().size(), 2u);
  EXPECT_EQ(head.get("v_head.summary.weight").shape, (Shape{1, 64}));
  EXPECT_EQ(head.get("v_head.summary.bias").shape, (Shape{1}));
}

bool is_train_entry(const Json& e) { return e.contains("loss"); }
bool is_eval_entry(const Json& e) { return e.contains("eval_loss"); }
bool is_end_entry(const Json& e) { return e.contains("train_runtime"); }

// trainer_state.json has HF 4.38's keys, and its log_history the train / eval / end entries with their keys.
void check_trainer_state_is_hf438(const ExampleDirs& d) {
  const Json state = read_json(d.out() / "trainer_state.json");
  EXPECT_EQ(keys_of(state),  // json.dumps(sort_keys=True)
            (std::vector<std::string>{"best_metric", "best_model_checkpoint", "epoch", "eval_steps", "global_step",
                                      "is_hyper_param_search", "is_local_process_zero", "is_world_process_zero",
                                      "log_history", "logging_steps", "max_steps", "num_input_tokens_seen",
                                      "num_train_epochs", "save_steps", "total_flos", "train_batch_size",
                                      "trial_name", "trial_params"}));
  EXPECT_EQ(state["global_step"], kSteps);
  EXPECT_EQ(state["max_steps"], kSteps);
  EXPECT_EQ(state["logging_steps"], 10);
  EXPECT_EQ(state["eval_steps"], 10);
  EXPECT_EQ(state["save_steps"], 500);
  EXPECT_EQ(state["train_batch_size"], 4);
  EXPECT_EQ(state["num_train_epochs"], 1);

  // The state is saved after training and before the final evaluation: 4 train logs, 4 evaluations, the end entry.
  const Json& history = state["log_history"];
  ASSERT_EQ(history.size(), 9u);
  int train = 0, eval = 0;
  for (size_t i = 0; i + 1 < history.size(); ++i) {
    const Json& e = history[i];
    const int step = 10 * (static_cast<int>(i) / 2 + 1);  // a train log, then an evaluation, every 10 steps
    EXPECT_EQ(e["step"], step);
    if (is_train_entry(e)) {
      ++train;
      EXPECT_EQ(sorted_keys(e), (std::vector<std::string>{"epoch", "grad_norm", "learning_rate", "loss", "step"}));
    } else {
      ++eval;
      EXPECT_EQ(sorted_keys(e), (std::vector<std::string>{"epoch", "eval_accuracy", "eval_loss", "eval_runtime",
                                                          "eval_samples_per_second", "eval_steps_per_second",
                                                          "step"}));
      const double accuracy = e["eval_accuracy"].get<double>();
      EXPECT_TRUE(accuracy >= 0.0 && accuracy <= 1.0);
      EXPECT_DOUBLE_EQ(accuracy * 20, std::round(accuracy * 20));  // a share of the 20 evaluation pairs
    }
  }
  EXPECT_EQ(train, 4);
  EXPECT_EQ(eval, kEvalsDuringTraining);
  const Json& end = history.back();
  EXPECT_EQ(sorted_keys(end), (std::vector<std::string>{"epoch", "step", "total_flos", "train_loss", "train_runtime",
                                                        "train_samples_per_second", "train_steps_per_second"}));
  EXPECT_EQ(end["step"], kSteps);
  EXPECT_DOUBLE_EQ(end["epoch"].get<double>(), 0.99);  // micro-batch 94 of 95: round(94/95, 2)
}

// HF save_metrics files: train_results.json, eval_results.json and their union all_results.json.
void check_result_files(const ExampleDirs& d) {
  const Json train = read_json(d.out() / "train_results.json"), eval = read_json(d.out() / "eval_results.json");
  EXPECT_EQ(keys_of(train), (std::vector<std::string>{"epoch", "total_flos", "train_loss", "train_runtime",
                                                      "train_samples_per_second", "train_steps_per_second"}));
  EXPECT_EQ(keys_of(eval), (std::vector<std::string>{"epoch", "eval_accuracy", "eval_loss", "eval_runtime",
                                                     "eval_samples_per_second", "eval_steps_per_second"}));
  Json both = train;
  for (const auto& [k, v] : eval.items()) both[k] = v;
  EXPECT_EQ(sorted_keys(read_json(d.out() / "all_results.json")), sorted_keys(both));
  // json.dump(indent=4, sort_keys=True), no trailing newline.
  const std::string text = read_bytes(d.out() / "eval_results.json");
  EXPECT_EQ(text.rfind("{\n    \"epoch\": ", 0), 0u) << text;
  EXPECT_EQ(text.back(), '}');
  EXPECT_EQ(train["epoch"], eval["epoch"]);
}

// The model card's "Training results" table: one row per evaluation before the train-end entry.
void check_model_card_rows(const ExampleDirs& d) {
  const std::string card = read_bytes(d.out() / "README.md");
  const size_t section = card.find("### Training results");
  ASSERT_NE(section, std::string::npos) << card;
  const auto lines = lines_of(card.substr(section));
  ASSERT_GT(lines.size(), 3u);
  EXPECT_EQ(lines[2], "| Training Loss | Epoch | Step | Validation Loss | Accuracy |");
  int rows = 0;
  for (size_t i = 4; i < lines.size() && lines[i].rfind("| ", 0) == 0; ++i) ++rows;
  // Rows: the evaluations logged before the train-end (train_runtime) entry.
  const Json history = read_json(d.out() / "trainer_state.json")["log_history"];
  int evals_before_end = 0;
  for (const Json& e : history) {
    if (is_end_entry(e)) break;
    evals_before_end += is_eval_entry(e);
  }
  EXPECT_EQ(evals_before_end, kEvalsDuringTraining);
  EXPECT_EQ(rows, evals_before_end);
  EXPECT_NE(card.find("library_name: peft"), std::string::npos);
  EXPECT_NE(card.find("base_model: " + d.model().string()), std::string::npos);
}

// trainer_log.jsonl: one line per log event, LF's keys in LF's order, values from the log_history entry.
void check_trainer_log(const ExampleDirs& d) {
  // LLaMA-Factory HEAD's LogCallback keys, in order (nulls dropped).
  const std::vector<std::string> lf_keys = {"current_steps", "total_steps", "loss",         "eval_loss",
                                            "predict_loss",  "reward",      "accuracy",     "lr",
                                            "epoch",         "percentage",  "elapsed_time", "remaining_time",
                                            "throughput",    "total_tokens"};
  const auto lines = lines_of(read_bytes(d.out() / "trainer_log.jsonl"));
  // Every log_history entry of the training (train logs, evaluations, the end) and the final evaluation.
  const Json history = read_json(d.out() / "trainer_state.json")["log_history"];
  ASSERT_EQ(lines.size(), history.size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i]);
    const Json line = Json::parse(lines[i]);
    const auto keys = keys_of(line);
    size_t pos = 0;  // keys must be a subsequence of lf_keys
    for (const std::string& k : keys) {
      while (pos < lf_keys.size() && lf_keys[pos] != k) ++pos;
      EXPECT_LT(pos, lf_keys.size()) << "key " << k << " is not LF's or out of order";
    }
    for (const char* k : {"current_steps", "total_steps", "epoch", "percentage", "elapsed_time", "remaining_time"})
      EXPECT_TRUE(line.contains(k)) << k;
    EXPECT_EQ(line["total_steps"], kSteps);
    const Json& entry = i < history.size() ? history[i] : history.back();
    if (i < history.size()) EXPECT_EQ(line["current_steps"], entry["step"]);
    if (i < history.size() && is_train_entry(entry)) {
      EXPECT_EQ(line["loss"], entry["loss"]);
      EXPECT_EQ(line["lr"], entry["learning_rate"]);
    }
    if (i < history.size() && is_eval_entry(entry)) {
      EXPECT_EQ(line["eval_loss"], entry["eval_loss"]);
      EXPECT_EQ(line["accuracy"], entry["eval_accuracy"]);
    }
    if (i < history.size() && is_end_entry(entry)) EXPECT_FALSE(line.contains("loss"));
    if (i == history.size()) {  // the final evaluation after training, as eval_results.json has it
      EXPECT_EQ(line["eval_loss"].get<double>(), read_json(d.out() / "eval_results.json")["eval_loss"].get<double>());
    }
  }
}

// tune_plan.yaml gives back the plan the run used.
void check_saved_plan(const ExampleDirs& d) {
  const Plan saved = load_plan(d.out() / "tune_plan.yaml");
  EXPECT_EQ(saved, load_plan(kConfig, d.overrides()));
  EXPECT_EQ(saved.stage, "rm");
  EXPECT_EQ(saved.output_dir, d.out().string());
  EXPECT_EQ(saved.max_samples, 400);
}

// do_train false, do_eval + do_predict with the trained adapter on age_bias_test (200 pairs).
void check_eval_and_predict(const ExampleDirs& d) {
  const fs::path eval_out = d.tmp("eval_test");
  std::vector<std::string> o = d.overrides();
  o.push_back("output_dir=" + eval_out.string());
  o.push_back("do_train=false");
  o.push_back("do_eval=true");
  o.push_back("do_predict=true");
  o.push_back("adapter_name_or_path=" + d.out().string());
  o.push_back("dataset=age_bias_test");
  const TuneRun r = run_tune(train_args(kConfig, o), d.tmp("eval_test.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_NE(r.output.find("loaded value head"), std::string::npos) << tail(r.output);

  const Json eval = read_json(eval_out / "eval_results.json");
  EXPECT_EQ(keys_of(eval), (std::vector<std::string>{"eval_accuracy", "eval_loss", "eval_runtime",
                                                     "eval_samples_per_second", "eval_steps_per_second"}));
  const Json predict = read_json(eval_out / "predict_results.json");
  EXPECT_EQ(keys_of(predict), (std::vector<std::string>{"predict_accuracy", "predict_loss", "predict_runtime",
                                                        "predict_samples_per_second", "predict_steps_per_second"}));
  EXPECT_EQ(predict["predict_loss"], eval["eval_loss"]);
  EXPECT_EQ(predict["predict_accuracy"], eval["eval_accuracy"]);

  // LF's save_predictions: json.dumps of {"chosen": round(score, 2), "rejected": ...} per pair, joined by "\n".
  const std::string text = read_bytes(eval_out / "generated_predictions.jsonl");
  EXPECT_NE(text.back(), '\n');
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 200u);  // every pair of age_bias_test.json
  static const std::regex line_re(R"(\{"chosen": (-?[0-9]+\.[0-9]{1,2}), "rejected": (-?[0-9]+\.[0-9]{1,2})\})");
  int chosen_higher = 0, ties = 0;
  for (const std::string& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, line_re)) << line;
    const double c = std::stod(m[1]), rj = std::stod(m[2]);
    chosen_higher += c > rj;
    ties += c == rj;
  }
  // Accuracy counts unrounded scores; rounding to 2 decimals can only turn a win or a loss into a tie.
  const double accuracy = eval["eval_accuracy"].get<double>();
  EXPECT_LE(chosen_higher, std::lround(accuracy * 200));
  EXPECT_GE(chosen_higher + ties, std::lround(accuracy * 200));

  // An evaluation run writes no adapter, checkpoint or training file.
  for (const char* f : {"adapter_model.safetensors", "value_head.safetensors", "trainer_state.json",
                        "train_results.json", "README.md"})
    EXPECT_FALSE(fs::exists(eval_out / f)) << f;
}

// One training run (seconds) serves every check: ctest runs each TEST in its own process.
TEST(AgeBiasExampleRun, TrainsEvaluatesAndPredictsWritingLlamaFactoryFiles) {
  const TempDir dir;
  const ExampleDirs d{dir.path()};
  make_tiny_model(d.model(), d.tmp("new_model.log"));
  const TuneRun r = run_tune(train_args(kConfig, d.overrides()), d.tmp("train.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  const std::vector<std::pair<const char*, void (*)(const ExampleDirs&)>> checks = {
      {"output files", check_output_files},
      {"adapter_config.json and the adapter and value-head tensors", check_adapter_is_peft08},
      {"trainer_state.json", check_trainer_state_is_hf438},
      {"train/eval/all_results.json", check_result_files},
      {"README.md training results", check_model_card_rows},
      {"trainer_log.jsonl", check_trainer_log},
      {"tune_plan.yaml", check_saved_plan},
      {"eval + predict run on age_bias_test", check_eval_and_predict}};
  for (const auto& [what, check] : checks) {
    SCOPED_TRACE(what);
    check(d);
  }
}

class AgeBiasExampleErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_tiny_model(dirs().model(), dirs().tmp("new_model.log"));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static ExampleDirs dirs() { return ExampleDirs{dir_->path()}; }
  static fs::path tmp(const std::string& name) { return dirs().tmp(name); }
  static std::vector<std::string> overrides() { return dirs().overrides(); }

  static TempDir* dir_;
};
TempDir* AgeBiasExampleErrors::dir_ = nullptr;

// A failed run exits with code 2, prints one "error: ..." line naming the problem, and leaves no adapter behind.
void expect_clean_failure(const TuneRun& r, const std::string& message, const fs::path& out) {
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("error: "), std::string::npos) << tail(r.output);
  EXPECT_NE(r.output.find(message), std::string::npos) << tail(r.output);
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << tail(r.output);
  EXPECT_FALSE(fs::exists(out / "adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(out / "value_head.safetensors"));
}

TEST_F(AgeBiasExampleErrors, UnknownConfigKeyFails) {
  const fs::path bad = tmp("unknown_key.yaml"), bad_out = tmp("unknown_key_out");
  write_text(bad, read_bytes(kConfig) + "lora_rnk: 4\n");
  std::vector<std::string> o = overrides();
  o.push_back("output_dir=" + bad_out.string());
  const TuneRun r = run_tune(train_args(bad, o), tmp("unknown_key.log"));
  expect_clean_failure(r, "unknown key 'lora_rnk'", bad_out);
  EXPECT_NE(r.output.find("did you mean 'lora_rank'"), std::string::npos) << tail(r.output);
  EXPECT_FALSE(fs::exists(bad_out));
}

TEST_F(AgeBiasExampleErrors, MissingDatasetFileFails) {
  const fs::path data = tmp("data_without_file"), bad_out = tmp("missing_file_out");
  fs::create_directories(data);
  write_text(data / "dataset_info.json", R"({"age_bias": {"file_name": "age_bias.json", "ranking": true}})");
  std::vector<std::string> o = overrides();
  o.push_back("dataset_dir=" + data.string());
  o.push_back("output_dir=" + bad_out.string());
  const TuneRun r = run_tune(train_args(kConfig, o), tmp("missing_file.log"));
  expect_clean_failure(r, (data / "age_bias.json").string() + " does not exist", bad_out);
  EXPECT_FALSE(fs::exists(bad_out));
}

TEST_F(AgeBiasExampleErrors, NonEmptyOutputDirWithoutCheckpointsFails) {
  const fs::path used = tmp("used_out");
  fs::create_directories(used);
  write_text(used / "notes.txt", "someone's results\n");
  std::vector<std::string> o = overrides();
  o.push_back("output_dir=" + used.string());
  o.push_back("overwrite_output_dir=false");
  const TuneRun r = run_tune(train_args(kConfig, o), tmp("used_out.log"));
  expect_clean_failure(r, "set overwrite_output_dir: true", used);
  // Nothing was written into the folder.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(used)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"notes.txt"});
}

}  // namespace
}  // namespace tune::e2e
