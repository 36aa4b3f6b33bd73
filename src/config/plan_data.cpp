// Plan -> DataOptions.
#include "config/plan_data.h"

#include "core/error.h"

namespace tune {

namespace {

Stage stage_of(const std::string& stage) {
  if (stage == "pt") return Stage::Pt;
  if (stage == "sft") return Stage::Sft;
  if (stage == "rm") return Stage::Rm;
  if (stage == "dpo") return Stage::Dpo;
  fail("stage must be one of pt, sft, rm, dpo, got '", stage, "'");
}

}  // namespace

DataOptions data_options(const Plan& plan) {
  DataOptions opts;
  opts.stage = stage_of(plan.stage);
  opts.datasets = plan.dataset;
  opts.dataset_dir = plan.dataset_dir;
  opts.template_name = plan.template_;
  opts.cutoff_len = plan.cutoff_len;
  opts.max_samples = plan.max_samples;
  opts.train_on_prompt = plan.train_on_prompt;
  return opts;
}

}  // namespace tune
