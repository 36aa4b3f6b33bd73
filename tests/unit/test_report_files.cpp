// Tests for the run files besides weights: log_history entries, trainer_state.json, {train,eval,all}_results.json and
// trainer_log.jsonl. Expected texts were produced by CPython's json.dumps from the same dicts HF / LF build.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "report/log_history.h"
#include "report/trainer_log.h"
#include "report/trainer_state.h"

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

class ReportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_report_files_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A 26-step run logging every 10 steps with one evaluation: train, eval, train, train-end.
  static LogHistory history() {
    LogHistory h = Json::array();
    h.push_back(train_log_entry(1.069821, 2.2517521381378174, 9.963544370490268e-07, 10.0 / 26.0, 10));
    h.push_back(eval_log_entry({.loss = 1.0175857543945312,
                                .accuracy = 242.0 / 439.0,
                                .runtime_s = 95.12345,
                                .num_samples = 439,
                                .num_steps = 110},
                               10.0 / 26.0, 10));
    h.push_back(train_log_entry(1.02391, 1.5, 9.8549e-07, 20.0 / 26.0, 20));
    h.push_back(train_end_entry({.runtime_s = 1234.56789,
                                 .num_samples = 832.2,
                                 .num_steps = 26,
                                 .total_flos = 1.2345678e16,
                                 .train_loss = 1.0465123456789},
                                1.0, 26));
    return h;
  }

  static Plan plan() {
    Plan p;
    p.logging_steps = 10;
    p.eval_steps = 10;
    p.per_device_train_batch_size = 1;
    p.num_train_epochs = 1.0;
    return p;
  }

  static RunFacts facts() {
    RunFacts f;
    f.global_step = 26;
    f.max_steps = 26;
    f.steps_per_epoch = 26;
    f.epoch = 0.9988;
    f.total_flos = 1.2345678e16;
    return f;
  }

  fs::path dir_;
};

TEST_F(ReportFiles, EntriesHaveHfKeyOrderAndRounding) {
  const LogHistory h = history();
  EXPECT_EQ(h[0].dump(), R"({"loss":1.0698,"grad_norm":2.2517521381378174,"learning_rate":9.963544370490268e-07,)"
                         R"("epoch":0.38,"step":10})");
  std::vector<std::string> eval_keys, end_keys;
  for (const auto& [k, v] : h[1].items()) eval_keys.push_back(k);
  for (const auto& [k, v] : h[3].items()) end_keys.push_back(k);
  EXPECT_EQ(eval_keys, (std::vector<std::string>{"eval_loss", "eval_accuracy", "eval_runtime",
                                                 "eval_samples_per_second", "eval_steps_per_second", "epoch", "step"}));
  EXPECT_EQ(end_keys, (std::vector<std::string>{"train_runtime", "train_samples_per_second", "train_steps_per_second",
                                                "total_flos", "train_loss", "epoch", "step"}));
  EXPECT_EQ(h[1]["eval_runtime"].get<double>(), 95.1235);
  EXPECT_EQ(h[1]["eval_samples_per_second"].get<double>(), 4.615);
  EXPECT_EQ(h[1]["eval_steps_per_second"].get<double>(), 1.156);
  EXPECT_TRUE(h[3]["epoch"].is_number_float());
  EXPECT_FALSE(metrics_of(h[3]).contains("step"));

  const Json no_acc = eval_log_entry({.loss = 0.5, .runtime_s = 0.0, .num_samples = 3, .num_steps = 1}, 0.5, 1);
  EXPECT_EQ(no_acc.dump(), R"({"eval_loss":0.5,"eval_runtime":0.0,"epoch":0.5,"step":1})");  // no rates at runtime 0
}

TEST_F(ReportFiles, TrainerStateJsonIsHfText) {
  save_trainer_state(dir_, plan(), facts(), history());
  const std::string expected = R"({
  "best_metric": null,
  "best_model_checkpoint": null,
  "epoch": 0.9988,
  "eval_steps": 10,
  "global_step": 26,
  "is_hyper_param_search": false,
  "is_local_process_zero": true,
  "is_world_process_zero": true,
  "log_history": [
    {
      "epoch": 0.38,
      "grad_norm": 2.2517521381378174,
      "learning_rate": 9.963544370490268e-07,
      "loss": 1.0698,
      "step": 10
    },
    {
      "epoch": 0.38,
      "eval_accuracy": 0.55125284738041,
      "eval_loss": 1.0175857543945312,
      "eval_runtime": 95.1235,
      "eval_samples_per_second": 4.615,
      "eval_steps_per_second": 1.156,
      "step": 10
    },
    {
      "epoch": 0.77,
      "grad_norm": 1.5,
      "learning_rate": 9.8549e-07,
      "loss": 1.0239,
      "step": 20
    },
    {
      "epoch": 1.0,
      "step": 26,
      "total_flos": 1.2345678e+16,
      "train_loss": 1.0465123456789,
      "train_runtime": 1234.5679,
      "train_samples_per_second": 0.674,
      "train_steps_per_second": 0.021
    }
  ],
  "logging_steps": 10,
  "max_steps": 26,
  "num_input_tokens_seen": 0,
  "num_train_epochs": 1,
  "save_steps": 500,
  "total_flos": 1.2345678e+16,
  "train_batch_size": 1,
  "trial_name": null,
  "trial_params": null
}
)";
  EXPECT_EQ(slurp(dir_ / "trainer_state.json"), expected);
}

TEST_F(ReportFiles, TrainerStateEpochCountAndEvalStepsDefault) {
  Plan p = plan();
  p.eval_steps.reset();  // evaluation off: HF keeps TrainerState's default 500
  p.max_steps = 60;      // 60 steps at 26 per epoch -> 3 epochs
  p.num_train_epochs = 1.0;
  const Json s = trainer_state(p, facts(), Json::array());
  EXPECT_EQ(s["eval_steps"], 500);
  EXPECT_EQ(s["num_train_epochs"], 3);
  p.max_steps = -1;
  p.num_train_epochs = 2.5;
  EXPECT_EQ(trainer_state(p, facts(), Json::array())["num_train_epochs"], 3);  // ceil
}

TEST_F(ReportFiles, SaveMetricsWritesSplitAndMergesAllResults) {
  const LogHistory h = history();
  save_metrics(dir_, "train", metrics_of(h[3]));
  EXPECT_EQ(slurp(dir_ / "train_results.json"), R"({
    "epoch": 1.0,
    "total_flos": 1.2345678e+16,
    "train_loss": 1.0465123456789,
    "train_runtime": 1234.5679,
    "train_samples_per_second": 0.674,
    "train_steps_per_second": 0.021
})");
  EXPECT_EQ(slurp(dir_ / "all_results.json"), slurp(dir_ / "train_results.json"));

  save_metrics(dir_, "eval", metrics_of(h[1]));
  EXPECT_EQ(slurp(dir_ / "all_results.json"), R"({
    "epoch": 0.38,
    "eval_accuracy": 0.55125284738041,
    "eval_loss": 1.0175857543945312,
    "eval_runtime": 95.1235,
    "eval_samples_per_second": 4.615,
    "eval_steps_per_second": 1.156,
    "total_flos": 1.2345678e+16,
    "train_loss": 1.0465123456789,
    "train_runtime": 1234.5679,
    "train_samples_per_second": 0.674,
    "train_steps_per_second": 0.021
})");
}

TEST_F(ReportFiles, SaveMetricsKeepsNanThroughAllResults) {
  save_metrics(dir_, "train", Json{{"train_loss", std::nan("")}});
  save_metrics(dir_, "eval", Json{{"eval_loss", 0.5}});
  EXPECT_EQ(slurp(dir_ / "all_results.json"), "{\n    \"eval_loss\": 0.5,\n    \"train_loss\": NaN\n}");
}

TEST_F(ReportFiles, SaveMetricsRejectsACorruptAllResults) {
  std::ofstream(dir_ / "all_results.json") << "{oops";
  EXPECT_THROW(save_metrics(dir_, "eval", Json{{"eval_loss", 0.5}}), Error);
}

TEST(TrainerLog, TimedeltaLikePython) {
  EXPECT_EQ(py_timedelta(3600 * 25 + 61), "1 day, 1:01:01");
  EXPECT_EQ(py_timedelta(59.9), "0:00:59");
  EXPECT_EQ(py_timedelta(86400 * 2), "2 days, 0:00:00");
  EXPECT_EQ(py_timedelta(-5), "-1 day, 23:59:55");
  EXPECT_EQ(py_timedelta(3599), "0:59:59");
}

TEST_F(ReportFiles, TrainerLogLinesMatchLlamaFactory) {
  const LogHistory h = history();
  append_trainer_log(dir_, trainer_log_record(h[0], {.current_steps = 10, .total_steps = 26, .elapsed_s = 125.7}));
  append_trainer_log(dir_, trainer_log_record(h[1], {.current_steps = 10, .total_steps = 26, .elapsed_s = 220.9}));
  append_trainer_log(dir_, trainer_log_record(h[3], {.current_steps = 26,
                                                     .total_steps = 26,
                                                     .elapsed_s = 1234.56789,
                                                     .num_input_tokens_seen = 123456}));
  EXPECT_EQ(slurp(dir_ / "trainer_log.jsonl"),
            R"({"current_steps": 10, "total_steps": 26, "loss": 1.0698, "lr": 9.963544370490268e-07, "epoch": 0.38, )"
            R"("percentage": 38.46, "elapsed_time": "0:02:05", "remaining_time": "0:03:21"})"
            "\n"
            R"({"current_steps": 10, "total_steps": 26, "eval_loss": 1.0175857543945312, )"
            R"("accuracy": 0.55125284738041, "epoch": 0.38, "percentage": 38.46, "elapsed_time": "0:03:40", )"
            R"("remaining_time": "0:05:53"})"
            "\n"
            R"({"current_steps": 26, "total_steps": 26, "epoch": 1.0, "percentage": 100.0, "elapsed_time": "0:20:34", )"
            R"("remaining_time": "0:00:00", "throughput": 100.0, "total_tokens": 123456})"
            "\n");
}

TEST(TrainerLog, PrefersRewardsAccuraciesAndHandlesZeroTotal) {
  const Json entry{{"rewards/accuracies", 0.75}, {"eval_accuracy", 0.5}, {"epoch", 0.1}, {"step", 0}};
  const Json r = trainer_log_record(entry, {.current_steps = 0, .total_steps = 0, .elapsed_s = 3.0});
  EXPECT_EQ(r["accuracy"].get<double>(), 0.75);
  EXPECT_EQ(r["percentage"], 100);
  EXPECT_TRUE(r["percentage"].is_number_integer());
  EXPECT_EQ(r["remaining_time"], "0:00:00");
}

TEST_F(ReportFiles, TrainerLogNamesTheFileWhenTheFolderIsMissing) {
  try {
    append_trainer_log(dir_ / "missing", Json{{"a", 1}});
    FAIL() << "expected tune::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trainer_log.jsonl"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tune
