// Golden trajectory tests: tune.cpp's trainer (run_workflow, the real `tune train` path) against an HF transformers +
// PEFT training loop written by tools/reference/make_trajectory_golden.py (tests/data/trajectory/<case>/): per-step
// loss, grad norm, learning rate and epoch, train_loss, and the final LoRA and value-head weights. Tolerance 1e-4
// relative (tensors: max |diff| / max |ref|); the logged loss is rounded to 4 decimals, so the unrounded per-step
// losses are taken from the checkpoints' loop state.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/plan.h"
#include "config/plan_data.h"
#include "core/atomic_file.h"
#include "data/dataset.h"
#include "data/numpy_rng.h"
#include "io/safetensors.h"
#include "text/tokenizer.h"
#include "train/trainer.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(TUNE_TEST_DATA) / "trajectory";
constexpr double kRel = 1e-4;

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() / ("tune_test_trajectory_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The case's config with the fixture paths made absolute and the output in out.
Plan case_plan(const std::string& name, const fs::path& out) {
  return load_plan(kRoot / name / "config.yaml",
                   {"model_name_or_path=" + (kRoot / "model").string(),
                    "adapter_name_or_path=" + (kRoot / "adapter").string(),
                    "dataset_dir=" + (kRoot / "data").string(), "output_dir=" + out.string()});
}

std::vector<double> read_f64(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo& t = f.get(name);
  EXPECT_EQ(t.dtype, DType::F64) << name;
  const auto bytes = f.data(t);
  std::vector<double> out(bytes.size() / sizeof(double));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(double));
  return out;
}

double rel_diff(double got, double ref) { return std::fabs(got - ref) / std::fabs(ref); }

// max |got - ref| / max |ref| over a tensor.
double tensor_rel_diff(const Tensor& got, const Tensor& ref) {
  EXPECT_EQ(got.shape, ref.shape);
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < std::min(got.data.size(), ref.data.size()); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(got.data[i]) - ref.data[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(ref.data[i])));
  }
  EXPECT_GT(scale, 0.0);
  return diff / scale;
}

// Σ of the step's loss as the trainer accumulated it (unrounded): checkpoint-k's total_loss is the sum of the logged
// per-step losses up to step k (logging_steps 1), written as a C99 hex float.
double total_loss_at(const fs::path& out, int step) {
  if (step == 0) return 0.0;
  const auto j = nlohmann::json::parse(
      read_text_file(out / ("checkpoint-" + std::to_string(step)) / "tune_loop_state.json"));
  return std::strtod(j.at("total_loss").get<std::string>().c_str(), nullptr);
}

class Trajectory : public ::testing::TestWithParam<std::string> {};

// The fixture was made from `tune data` ids; if preprocessing changes, regenerate it (tools/reference/README.md).
TEST_P(Trajectory, FixtureIdsAreTheIdsTuneTrainsOn) {
  const Plan plan = case_plan(GetParam(), "unused");
  const PreparedData data = prepare_dataset(data_options(plan), Tokenizer::load(plan.model_name_or_path));
  std::istringstream lines(read_text_file(kRoot / GetParam() / "ids.jsonl"));
  std::string line;
  size_t i = 0;
  for (; std::getline(lines, line); ++i) {
    ASSERT_LT(i, data.size());
    const auto j = nlohmann::json::parse(line);
    if (plan.stage == "rm" || plan.stage == "dpo") {
      const PairwiseExample& e = data.pairwise[i];
      TokenIds chosen = e.prompt_ids, rejected = e.prompt_ids;
      chosen.insert(chosen.end(), e.chosen_ids.begin(), e.chosen_ids.end());
      rejected.insert(rejected.end(), e.rejected_ids.begin(), e.rejected_ids.end());
      EXPECT_EQ(j.at("chosen_input_ids").get<TokenIds>(), chosen) << "example " << i;
      EXPECT_EQ(j.at("rejected_input_ids").get<TokenIds>(), rejected) << "example " << i;
    } else {
      EXPECT_EQ(j.at("input_ids").get<TokenIds>(), data.supervised[i].input_ids) << "example " << i;
      EXPECT_EQ(j.at("labels").get<TokenIds>(), data.supervised[i].labels) << "example " << i;
    }
  }
  EXPECT_EQ(i, data.size());
}

// The reference loop used tune.cpp's documented data order: numpy default_rng(seed + epoch).permutation per epoch,
// micro-batches in that order across epochs, GA of them per update (no epoch here is shorter than GA).
TEST_P(Trajectory, ReferenceUsesTuneDataOrder) {
  const Plan plan = case_plan(GetParam(), "unused");
  const SafetensorsFile expected = SafetensorsFile::open(kRoot / GetParam() / "expected.safetensors");
  const TensorInfo& info = expected.get("micro_batches");  // [steps, GA, micro-batch]
  const int64_t steps = info.shape[0], ga = info.shape[1], bs = info.shape[2];
  ASSERT_EQ(ga, plan.gradient_accumulation_steps);
  ASSERT_EQ(bs, plan.per_device_train_batch_size);
  const Tensor table = expected.read_f32("micro_batches");
  const std::string ids = read_text_file(kRoot / GetParam() / "ids.jsonl");
  const int64_t n = std::count(ids.begin(), ids.end(), '\n');  // training examples (val_size 0)
  std::vector<std::vector<int64_t>> micro_batches;
  for (int epoch = 0; static_cast<int64_t>(micro_batches.size()) < steps * ga; ++epoch) {
    const auto perm = numpy_permutation(n, static_cast<uint64_t>(plan.seed + epoch));
    for (int64_t b = 0; b < n; b += bs) micro_batches.emplace_back(perm.begin() + b, perm.begin() + std::min(n, b + bs));
  }
  for (int64_t k = 0; k < steps * ga; ++k)
    for (int64_t j = 0; j < bs; ++j) {
      const auto& mb = micro_batches[static_cast<size_t>(k)];
      const int64_t want = j < static_cast<int64_t>(mb.size()) ? mb[static_cast<size_t>(j)] : -1;
      EXPECT_EQ(static_cast<int64_t>(table.data[static_cast<size_t>(k * bs + j)]), want) << "micro-batch " << k;
    }
}

TEST_P(Trajectory, TrainerMatchesHfPeftLoop) {
  const std::string name = GetParam();
  TempDir out(name);
  const Plan plan = case_plan(name, out.path());
  ASSERT_EQ(plan.logging_steps, 1);
  ASSERT_EQ(plan.save_steps, 1);
  ASSERT_TRUE(plan.value_head_dropout == 0.0 || plan.stage == "dpo");
  run_workflow(plan);

  const SafetensorsFile expected = SafetensorsFile::open(kRoot / name / "expected.safetensors");
  const auto ref_loss = read_f64(expected, "loss"), ref_norm = read_f64(expected, "grad_norm");
  const auto ref_lr = read_f64(expected, "learning_rate"), ref_epoch = read_f64(expected, "epoch");
  const auto ref_lr_used = read_f64(expected, "lr_used");
  const int steps = static_cast<int>(ref_loss.size());
  ASSERT_GE(steps, 5);

  const auto state = nlohmann::json::parse(read_text_file(out.path() / "trainer_state.json"));
  const auto& history = state.at("log_history");
  ASSERT_EQ(static_cast<int>(history.size()), steps + 1);  // one entry per step, then the end-of-training entry
  double worst_loss = 0.0, worst_norm = 0.0;
  for (int k = 0; k < steps; ++k) {
    const auto& e = history[static_cast<size_t>(k)];
    SCOPED_TRACE("step " + std::to_string(k + 1));
    EXPECT_EQ(e.at("step").get<int>(), k + 1);
    const double loss = total_loss_at(out.path(), k + 1) - total_loss_at(out.path(), k);
    EXPECT_LE(rel_diff(loss, ref_loss[k]), kRel) << loss << " vs " << ref_loss[k];
    EXPECT_NEAR(e.at("loss").get<double>(), ref_loss[k], 5e-5 + kRel * std::fabs(ref_loss[k]));  // 4 decimals
    const double norm = e.at("grad_norm").get<double>();
    EXPECT_LE(rel_diff(norm, ref_norm[k]), kRel) << norm << " vs " << ref_norm[k];
    EXPECT_NEAR(e.at("learning_rate").get<double>(), ref_lr[k], 1e-9 * plan.learning_rate);
    EXPECT_NEAR(e.at("epoch").get<double>(), ref_epoch[k], 0.005 + 1e-12);  // 2 decimals
    worst_loss = std::max(worst_loss, rel_diff(loss, ref_loss[k]));
    worst_norm = std::max(worst_norm, rel_diff(norm, ref_norm[k]));
  }
  if (plan.stage == "dpo") {  // TRL's logged metrics: window means of the micro-batch values (float32)
    const auto ref_rc = read_f64(expected, "rewards_chosen"), ref_acc = read_f64(expected, "rewards_accuracies");
    const auto ref_lr = read_f64(expected, "logps_rejected");
    for (int k = 0; k < steps; ++k) {
      const auto& e = history[static_cast<size_t>(k)];
      SCOPED_TRACE("step " + std::to_string(k + 1));
      EXPECT_NEAR(e.at("rewards/chosen").get<double>(), ref_rc[k], kRel * std::fabs(ref_lr[k]) * plan.pref_beta);
      EXPECT_EQ(e.at("rewards/accuracies").get<double>(), ref_acc[k]);
      EXPECT_LE(rel_diff(e.at("logps/rejected").get<double>(), ref_lr[k]), kRel);
    }
  }
  const double train_loss = history.back().at("train_loss").get<double>();
  EXPECT_LE(rel_diff(train_loss, read_f64(expected, "train_loss")[0]), kRel);

  // Final weights: every LoRA tensor of the reference, and (rm) the value head.
  const SafetensorsFile adapter = SafetensorsFile::open(out.path() / "adapter_model.safetensors");
  const std::string prefix = "final.";
  double worst_lora = 0.0;
  int compared = 0;
  for (const TensorInfo& t : expected.tensors()) {
    if (t.name.rfind(prefix, 0) != 0 || t.name.find("v_head") != std::string::npos) continue;
    const std::string key = t.name.substr(prefix.size());
    const double rel = tensor_rel_diff(adapter.read_f32(key), expected.read_f32(t.name));
    EXPECT_LE(rel, kRel) << key;
    worst_lora = std::max(worst_lora, rel);
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(adapter.tensors().size()));
  std::printf("%s: %d steps; worst rel diff: loss %.2e, grad_norm %.2e, LoRA %.2e", name.c_str(), steps, worst_loss,
              worst_norm, worst_lora);
  if (plan.stage == "rm") {
    const SafetensorsFile head = SafetensorsFile::open(out.path() / "value_head.safetensors");
    const double rel_w =
        tensor_rel_diff(head.read_f32("v_head.summary.weight"), expected.read_f32("final.v_head.summary.weight"));
    EXPECT_LE(rel_w, kRel);
    // The bias cancels in v_chosen - v_rejected, so its exact gradient is 0. tune.cpp sums that gradient in double
    // and gets 0, so the bias keeps its starting value; HF's fp32 sum leaves ~1e-9 of rounding noise, which AdamW
    // normalizes into lr-sized steps, so HF's bias drifts by at most the sum of the learning rates used.
    const float start = SafetensorsFile::open(kRoot / "adapter" / "value_head.safetensors")
                            .read_f32("v_head.summary.bias").data[0];
    const float bias = head.read_f32("v_head.summary.bias").data[0];
    const float ref_bias = expected.read_f32("final.v_head.summary.bias").data[0];
    double lr_sum = 0.0;
    for (double lr : ref_lr_used) lr_sum += lr;
    EXPECT_EQ(bias, start);
    EXPECT_LE(std::fabs(static_cast<double>(ref_bias) - start), lr_sum);
    std::printf(", value-head weight %.2e (bias: tune.cpp %+.1e from start, HF %+.1e)", rel_w,
                static_cast<double>(bias) - start, static_cast<double>(ref_bias) - start);
  }
  std::printf("\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, Trajectory,
                         ::testing::Values("rm_per_token", "rm_last_token", "sft", "dpo_sigmoid", "dpo_orpo"));

}  // namespace
}  // namespace tune
