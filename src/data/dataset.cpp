// prepare_dataset: registry -> rows -> aligned conversations -> token ids for the run's stage (LLaMA-Factory v0.5.x
// get_dataset: datasets loaded in order, max_samples per dataset, concatenated, then preprocessed).
#include "data/dataset.h"

#include "core/error.h"
#include "data/aligner.h"
#include "data/json_rows.h"
#include "data/preprocess.h"
#include "data/registry.h"

namespace tune {
namespace {

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::Pt: return "pt";
    case Stage::Sft: return "sft";
    case Stage::Rm: return "rm";
    case Stage::Dpo: return "dpo";
  }
  return "?";
}

void check_stage(const DatasetSpec& spec, Stage stage) {
  if (stage == Stage::Rm || stage == Stage::Dpo) {
    TUNE_CHECK(spec.ranking, "dataset '", spec.name, "' is not preference data, but stage ", stage_name(stage),
               " needs chosen/rejected answers; use a dataset with \"ranking\": true in ", spec.info_file.string());
  } else {
    TUNE_CHECK(!spec.ranking, "dataset '", spec.name, "' is preference data (\"ranking\": true in ",
               spec.info_file.string(), "), which only stages rm and dpo read; stage is ", stage_name(stage));
  }
}

// A pair whose two answers tokenize the same gives DPO no preference to learn (its loss gradient is 0).
void drop_identical_pairs(PreparedData& out, DropTally& drops) {
  std::erase_if(out.pairwise, [&](const PairwiseExample& e) {
    if (e.chosen_ids != e.rejected_ids) return false;
    drops.add("its chosen and rejected answers are identical");
    return true;
  });
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

PreparedData prepare_dataset(const DataOptions& opts, const Tokenizer& tok) {
  TUNE_CHECK(opts.cutoff_len > 0, "cutoff_len must be positive, got ", opts.cutoff_len);
  TUNE_CHECK(!opts.max_samples || *opts.max_samples > 0, "max_samples must be positive, got ", *opts.max_samples);

  DropTally drops;
  std::vector<AlignedExample> examples;
  for (const DatasetSpec& spec : resolve_datasets(opts.dataset_dir, opts.datasets)) {
    check_stage(spec, opts.stage);
    std::error_code ec;
    TUNE_CHECK(std::filesystem::exists(spec.path, ec), "dataset '", spec.name, "': ", spec.path.string(),
               " does not exist; fix file_name in ", spec.info_file.string(), " or dataset_dir");
    JsonRows rows = read_json_rows(spec.path);
    if (opts.max_samples && static_cast<int64_t>(rows.rows.size()) > *opts.max_samples) {
      rows.rows.resize(static_cast<size_t>(*opts.max_samples));
    }
    std::vector<AlignedExample> aligned = align_rows(spec, rows, drops);
    examples.insert(examples.end(), std::make_move_iterator(aligned.begin()), std::make_move_iterator(aligned.end()));
  }

  PreparedData out;
  if (opts.stage == Stage::Pt) {
    preprocess_pretrain(examples, tok, opts.cutoff_len, out);
  } else {
    TUNE_CHECK(!opts.template_name.empty(), "stage ", stage_name(opts.stage), " needs a chat template; set template "
               "(one of the names tune.cpp knows, e.g. gemma)");
    const Template& tmpl = Template::get(opts.template_name);
    if (opts.stage == Stage::Sft) {
      preprocess_supervised(examples, tok, tmpl, opts.cutoff_len, opts.train_on_prompt, out, drops);
    } else {
      preprocess_pairwise(examples, tok, tmpl, opts.cutoff_len, out, drops);
      if (opts.stage == Stage::Dpo) drop_identical_pairs(out, drops);
    }
  }
  out.dropped = drops.total();
  out.drop_summary = drops.summary();

  if (out.size() == 0) {
    std::string why = opts.stage == Stage::Pt
                          ? cat(examples.size(), " texts hold fewer tokens than one cutoff_len block (",
                                opts.cutoff_len, " tokens) per group of ", kHfMapBatchSize, " texts")
                          : cat(out.dropped, " dropped");
    if (!out.drop_summary.empty()) why = out.drop_summary;
    fail("no valid examples in ", join(opts.datasets), " after preprocessing: ", why,
         "; check the column names in dataset_info.json", opts.stage == Stage::Pt ? " or lower cutoff_len" : "");
  }
  return out;
}

}  // namespace tune
