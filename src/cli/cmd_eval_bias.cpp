// `tune eval-bias CONFIG [key=value ...] --data FILE [--out-dir DIR] [--batch-size N]`: BBQ-style bias evaluation of
// a reward model or a policy, written as bias_results.json and as a section of the model card.
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "infer/bias_eval.h"
#include "infer/inference_model.h"

namespace tune::cli {

namespace {

namespace fs = std::filesystem;

int run_eval_bias(const ParsedArgs& a) {
  if (!a.has("data")) throw UsageError("tune eval-bias needs --data FILE; usage: " + a.spec->usage);
  const Plan plan = plan_from_args(a);
  if (plan.threads > 0) omp_set_num_threads(plan.threads);
  const fs::path data = a.str("data");
  TUNE_CHECK(fs::is_regular_file(data), "--data ", data.string(), " is not a file; give a .json or .jsonl file of ",
             "BBQ-style items");
  fs::path out_dir = a.has("out-dir") ? fs::path(a.str("out-dir"))
                     : !plan.adapter_name_or_path.empty() ? fs::path(plan.adapter_name_or_path.back())
                                                          : fs::path(plan.output_dir);
  TUNE_CHECK(!out_dir.empty(), "eval-bias writes bias_results.json next to the trained adapter, but the config has ",
             "no adapter_name_or_path or output_dir; set one or give --out-dir DIR");
  const int batch_size = a.has("batch-size") ? a.integer("batch-size") : plan.per_device_eval_batch_size;
  if (batch_size < 1) throw UsageError("--batch-size must be at least 1, got " + std::to_string(batch_size));

  const InferenceModel model = load_inference_model(plan);
  const BiasScorer scorer = plan.stage == "rm" ? BiasScorer::Reward : BiasScorer::LogLikelihood;
  const std::vector<BiasItem> items = read_bias_items(data, model);
  std::fprintf(stderr, "scoring %zu items by %s\n", items.size(),
               scorer == BiasScorer::Reward ? "reward (value head)" : "answer log-likelihood");
  const BiasReport report = bias_report(items, predict_answers(model, items, scorer, batch_size));
  const std::string dataset = data.filename().string();
  const auto json = bias_report_json(report, scorer, dataset);

  fs::create_directories(out_dir);
  write_file_atomic(out_dir / "bias_results.json", json.dump(2) + "\n");
  const fs::path card = out_dir / "README.md";
  if (fs::is_regular_file(card))
    write_file_atomic(card, with_bias_section(read_text_file(card), bias_card_section(report, scorer, dataset)));
  std::cout << json.dump(2) << "\nwrote " << (out_dir / "bias_results.json").string()
            << (fs::is_regular_file(card) ? " and the Bias evaluation section of " + card.string() : std::string())
            << "\n";
  return 0;
}

}  // namespace

const CommandSpec& eval_bias_command() {
  static const CommandSpec spec{
      "eval-bias",
      "BBQ-style bias evaluation of a reward model or a policy (accuracy and bias scores per context type)",
      "tune eval-bias CONFIG.yaml [key=value ...] --data FILE.json [--out-dir DIR] [--batch-size N]",
      "CONFIG names the model as for inference (model_name_or_path, adapter_name_or_path, template, cutoff_len);\n"
      "stage: rm scores each answer with the value head, any other stage by its log-likelihood under the LM\n"
      "(Σ log p of the answer tokens + eos given the prompt). --data is a .json array or .jsonl of BBQ-style items:\n"
      "  {\"instruction\": ..., \"input\": ..., \"answers\": [a0, a1, a2], \"label\": i, \"biased\": j,\n"
      "   \"unknown\": k, \"context_condition\": \"ambig\" | \"disambig\"}\n"
      "(examples/age_bias/data/age_bias_test_bbq.json). The model's answer is the highest-scoring one. Reported, as\n"
      "in BBQ (Parrish et al. 2022): accuracy per context type, s_DIS = 2 * n_biased / n_non_unknown - 1 over the\n"
      "disambiguated items and s_AMB = (1 - accuracy) * (2 * n_biased / n_non_unknown - 1) over the ambiguous\n"
      "ones. Writes DIR/bias_results.json (DIR: --out-dir, else the last adapter folder, else output_dir) and, when\n"
      "DIR/README.md exists, replaces or adds its \"Bias evaluation (BBQ)\" section.",
      {{"data", "FILE", "BBQ-style items to evaluate", ""},
       {"out-dir", "DIR", "where bias_results.json goes (default: the adapter folder)", ""},
       {"batch-size", "N", "items per forward pass (default: per_device_eval_batch_size)", ""}},
      1,
      kMaxOverrides,
      run_eval_bias,
      true};
  return spec;
}

}  // namespace tune::cli
