// Datasets as LLaMA-Factory reads them: dataset_info.json registry -> examples -> template -> token ids.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "text/template.h"
#include "text/tokenizer.h"

namespace tune {

enum class Stage { Pt, Sft, Rm, Dpo };  // rm and dpo read preference (ranking) data

// The data side of a run, resolved from the config (LLaMA-Factory key names in comments).
struct DataOptions {
  Stage stage = Stage::Sft;                // stage
  std::vector<std::string> datasets;       // dataset (comma list in the config)
  std::filesystem::path dataset_dir = "data";  // dataset_dir
  std::string template_name;               // template
  int cutoff_len = 1024;                   // cutoff_len
  std::optional<int64_t> max_samples;      // max_samples (per dataset)
  bool train_on_prompt = false;            // train_on_prompt
};

struct SupervisedExample {  // sft and pt
  TokenIds input_ids;
  TokenIds labels;  // -100 where no loss is taken
};

struct PairwiseExample {  // rm, dpo: full sequences are prompt + chosen and prompt + rejected
  TokenIds prompt_ids;
  TokenIds chosen_ids;    // answer + eos
  TokenIds rejected_ids;  // answer + eos
};

struct PreparedData {
  std::vector<SupervisedExample> supervised;  // filled for pt / sft
  std::vector<PairwiseExample> pairwise;      // filled for rm and dpo
  int64_t dropped = 0;                        // invalid examples skipped (logged by the caller)
  std::string drop_summary;                   // "3 dropped because <reason>, ..."; empty when none was dropped
  size_t size() const { return supervised.size() + pairwise.size(); }
};

// Loads every dataset of opts in order (file order, max_samples applied per dataset), converts and tokenizes it
// as LLaMA-Factory v0.5.x does (see data/preprocess.h for each stage). The stage must match the datasets' "ranking".
// Errors (tune::Error): missing dataset_info.json / file, unknown dataset name, hub-only source, malformed JSON
// (naming file and line), wrong columns, stage/ranking mismatch, nothing left after filtering (saying why, e.g.
// ranking data without two answers). dpo also drops pairs whose chosen and rejected ids are identical.
PreparedData prepare_dataset(const DataOptions& opts, const Tokenizer& tok);

// LLaMA-Factory's val_size split (HF datasets train_test_split: n_test = ceil(v*n) for a fraction, int(v) for a
// count > 1; test = the first n_test of np.random.default_rng(seed).permutation(n), train = the rest, reproduced
// exactly). val_size <= 1e-6: no split, train = 0..n-1 in order. Returns index lists into the prepared examples.
// Errors: val_size 1.0 or negative, a count >= n, no training data left.
struct SplitIndices {
  std::vector<int64_t> train, eval;
};
SplitIndices split_indices(int64_t n, double val_size, uint64_t seed);

}  // namespace tune
