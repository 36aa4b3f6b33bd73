// Golden DPO tests: preference_step (stage dpo's loss, rewards, metrics and LoRA gradients) against LLaMA-Factory's
// CustomDPOTrainer math computed with HF transformers + PEFT autograd by tools/reference/make_dpo_golden.py
// (tests/data/dpo/<case>/), for every pref_loss, on the trajectory fixture's model, adapter and ranking pairs.
// Tolerances: per-pair values and the loss 1e-5 relative, gradients 1e-5 relative (max |diff| / max |ref|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/plan.h"
#include "core/atomic_file.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "model/gemma.h"
#include "train/collate.h"
#include "train/params.h"
#include "train/stage_step.h"
#include "train/stages/dpo_step.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(TUNE_TEST_DATA);
constexpr double kRel = 1e-5;

std::vector<double> read_f64(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo& t = f.get(name);
  EXPECT_EQ(t.dtype, DType::F64) << name;
  const auto bytes = f.data(t);
  std::vector<double> out(bytes.size() / sizeof(double));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(double));
  return out;
}

// The pairs tune data wrote for the case: prompt = the -100 prefix of chosen_labels.
std::vector<PairwiseExample> read_pairs(const fs::path& file) {
  std::vector<PairwiseExample> pairs;
  std::istringstream lines(read_text_file(file));
  std::string line;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    const auto chosen = j.at("chosen_input_ids").get<TokenIds>(), rejected = j.at("rejected_input_ids").get<TokenIds>();
    const auto labels = j.at("chosen_labels").get<TokenIds>();
    const size_t prompt = static_cast<size_t>(std::find_if(labels.begin(), labels.end(), [](int32_t x) {
                                                return x != kIgnoreIndex;
                                              }) - labels.begin());
    PairwiseExample e;
    e.prompt_ids.assign(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(prompt));
    e.chosen_ids.assign(chosen.begin() + static_cast<std::ptrdiff_t>(prompt), chosen.end());
    e.rejected_ids.assign(rejected.begin() + static_cast<std::ptrdiff_t>(prompt), rejected.end());
    EXPECT_TRUE(std::equal(e.prompt_ids.begin(), e.prompt_ids.end(), rejected.begin()));
    EXPECT_EQ(j.at("rejected_labels").get<TokenIds>().size(), rejected.size());
    pairs.push_back(std::move(e));
  }
  return pairs;
}

double rel(double got, double ref) { return std::fabs(got - ref) / std::fabs(ref); }

class DpoGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(DpoGolden, LossRewardsMetricsAndLoraGradientsMatchHfPeft) {
  const fs::path dir = kData / "dpo" / GetParam();
  const fs::path traj = kData / "trajectory";
  const Plan plan = load_plan(dir / "config.yaml");
  const ModelConfig cfg = load_hf_config(traj / "model", false);
  const ModelWeights weights = load_hf_weights(traj / "model", cfg);
  LoraAdapter adapter = load_peft_adapter(traj / "adapter", cfg);
  const std::vector<ParamRef> params = trainable_params(adapter, nullptr);
  zero_grads(params);

  const std::vector<PairwiseExample> pairs = read_pairs(dir / "ids.jsonl");
  std::vector<const PairwiseExample*> ptrs;
  for (const auto& p : pairs) ptrs.push_back(&p);
  const Batch batch = collate_preference(ptrs, 0);
  GemmaModel policy(cfg, weights, &adapter, nullptr);
  GemmaModel base(cfg, weights, nullptr, nullptr);
  const PrefLossOptions opts = preference_options(plan);
  const ReferenceModel ref = uses_reference(opts.loss) ? ReferenceModel{&base, &weights.embed} : ReferenceModel{};
  const PreferenceBatch r = preference_step(policy, weights.embed, ref, batch, opts, 1.0f);

  const SafetensorsFile expected = SafetensorsFile::open(dir / "expected.safetensors");
  const size_t n = pairs.size();
  ASSERT_EQ(r.pairs.size(), n);
  double worst = rel(r.loss, read_f64(expected, "loss")[0]);
  EXPECT_LE(worst, kRel) << "loss " << r.loss;
  // scale(i): what the value is relative to; by default itself. A DPO reward beta * (logp - ref_logp) is a difference
  // of two log-probabilities of ~-100 in fp32, so it is compared relative to beta * |logp| (cancellation).
  auto per_pair = [&](const std::string& key, auto get, auto scale) {
    const auto want = read_f64(expected, key);
    ASSERT_EQ(want.size(), n) << key;
    for (size_t i = 0; i < n; ++i) {
      const double got = get(i), s = scale(i, want[i]);
      const double err = s == 0 ? std::fabs(got) : std::fabs(got - want[i]) / s;
      EXPECT_LE(err, kRel) << key << "[" << i << "] " << got << " vs " << want[i];
      worst = std::max(worst, err);
    }
  };
  const auto itself = [](size_t, double want) { return std::fabs(want); };
  const auto logp_scale = [&](bool chosen) {
    return [&, chosen](size_t i, double want) {
      if (!uses_reference(opts.loss)) return std::fabs(want);
      return opts.beta * std::fabs(chosen ? r.logps[i].chosen : r.logps[i].rejected);
    };
  };
  per_pair("losses", [&](size_t i) { return r.pairs[i].loss; }, itself);
  per_pair("chosen", [&](size_t i) { return r.logps[i].chosen; }, itself);
  per_pair("rejected", [&](size_t i) { return r.logps[i].rejected; }, itself);
  per_pair("ref_chosen", [&](size_t i) { return r.logps[i].ref_chosen; }, itself);
  per_pair("ref_rejected", [&](size_t i) { return r.logps[i].ref_rejected; }, itself);
  per_pair("chosen_rewards", [&](size_t i) { return r.pairs[i].chosen_reward; }, logp_scale(true));
  per_pair("rejected_rewards", [&](size_t i) { return r.pairs[i].rejected_reward; }, logp_scale(false));
  per_pair("sft_loss", [&](size_t i) { return r.pairs[i].sft_loss; }, itself);

  // Metrics: logits means (LF: all_logits[:n].mean()) and the reward means, as float32 values.
  auto metric = [&](const std::string& name) {
    for (const auto& [k, v] : r.metrics)
      if (k == name) return v;
    ADD_FAILURE() << "no metric " << name;
    return 0.0;
  };
  EXPECT_NEAR(metric("logits/chosen"), read_f64(expected, "logits_chosen")[0], 1e-6);
  EXPECT_NEAR(metric("logits/rejected"), read_f64(expected, "logits_rejected")[0], 1e-6);
  const auto rc = read_f64(expected, "chosen_rewards");
  double mean_rc = 0;
  for (double x : rc) mean_rc += x / static_cast<double>(n);
  EXPECT_NEAR(metric("rewards/chosen"), mean_rc, 1e-6 + 1e-6 * std::fabs(mean_rc));

  // Every LoRA gradient of the mean loss.
  double worst_grad = 0;
  int compared = 0;
  for (int l = 0; l < cfg.num_layers; ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const auto& m = adapter.layers[l][p];
      if (!m) continue;
      for (char which : {'A', 'B'}) {
        const std::string key = adapter.tensor_key(l, static_cast<Proj>(p), which);
        const Tensor want = expected.read_f32("grad." + key);
        const Tensor& got = which == 'A' ? m->dA : m->dB;
        ASSERT_EQ(got.data.size(), want.data.size()) << key;
        double diff = 0, scale = 0;
        for (size_t i = 0; i < want.data.size(); ++i) {
          diff = std::max(diff, std::fabs(static_cast<double>(got.data[i]) - want.data[i]));
          scale = std::max(scale, std::fabs(static_cast<double>(want.data[i])));
        }
        ASSERT_GT(scale, 0.0) << key;
        EXPECT_LE(diff / scale, kRel) << key;
        worst_grad = std::max(worst_grad, diff / scale);
        ++compared;
      }
    }
  EXPECT_EQ(compared, static_cast<int>(params.size()));
  std::printf("%s: loss %.6f; worst rel diff: per-pair values %.2e, LoRA gradients %.2e (%d tensors)\n",
              GetParam().c_str(), r.loss, worst, worst_grad, compared);
}

// The sigmoid case's plan through setup_run / evaluate with the fixture paths made absolute and `extra` overrides.
EvalResult evaluate_sigmoid_case(const std::vector<std::string>& extra) {
  const fs::path traj = kData / "trajectory";
  std::vector<std::string> o = {"model_name_or_path=" + (traj / "model").string(),
                                "adapter_name_or_path=" + (traj / "adapter").string(),
                                "dataset_dir=" + (traj / "data").string(), "output_dir=unused"};
  o.insert(o.end(), extra.begin(), extra.end());
  TrainingRun run = setup_run(load_plan(kData / "dpo" / "sigmoid" / "config.yaml", o));
  std::optional<GemmaModel> storage;
  const ReferenceModel reference = make_reference_model(run, storage);
  EXPECT_NE(reference.model, nullptr);
  GemmaModel policy(run.cfg, run.weights, &run.adapter, nullptr);
  return evaluate(policy, run, run.eval_indices, reference);
}

double metric_of(const EvalResult& r, const std::string& name) {
  for (const auto& [k, v] : r.run.metrics)
    if (k == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return 0.0;
}

// ref_model = the base folder is the adapter-disabled reference (LF's default), and ref_model_adapters = the trained
// adapter itself makes the reference equal the policy (up to merge rounding): rewards 0, loss ln 2.
TEST(DpoReferenceModel, RefModelAndItsAdapters) {
  const fs::path traj = kData / "trajectory";
  const SafetensorsFile expected = SafetensorsFile::open(kData / "dpo" / "sigmoid" / "expected.safetensors");
  const EvalResult base = evaluate_sigmoid_case({});
  const EvalResult ref_folder = evaluate_sigmoid_case({"ref_model=" + (traj / "model").string()});
  EXPECT_LE(rel(base.run.loss, read_f64(expected, "loss")[0]), kRel);
  EXPECT_EQ(ref_folder.run.loss, base.run.loss);
  EXPECT_EQ(ref_folder.run.metrics, base.run.metrics);
  const EvalResult same = evaluate_sigmoid_case(
      {"ref_model=" + (traj / "model").string(), "ref_model_adapters=" + (traj / "adapter").string()});
  EXPECT_NEAR(same.run.loss, std::log(2.0), 1e-5);
  EXPECT_NEAR(metric_of(same, "eval_rewards/margins"), 0.0, 1e-4);
  EXPECT_NE(metric_of(base, "eval_rewards/margins"), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Losses, DpoGolden,
                         ::testing::Values("sigmoid", "sigmoid_smooth_ftx", "hinge", "ipo", "orpo", "simpo"));

}  // namespace
}  // namespace tune
