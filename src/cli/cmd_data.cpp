// `tune data CONFIG [key=value ...]`: the preprocessed examples exactly as training will see them — written as JSONL
// with --out, or a few decoded examples on the terminal with the masked (no-loss) part marked.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "config/plan_data.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "data/dataset.h"
#include "io/model_path.h"
#include "text/tokenizer.h"

namespace tune::cli {

namespace {

TokenIds concat(const TokenIds& a, const TokenIds& b) {
  TokenIds out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Examples to show: the whole dataset without do_train, else the train split; in file order.
std::vector<int64_t> selected_indices(const Plan& plan, int64_t n) {
  if (!plan.do_train) {
    std::vector<int64_t> all(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
    return all;
  }
  std::vector<int64_t> train = split_indices(n, plan.val_size, static_cast<uint64_t>(plan.seed)).train;
  std::sort(train.begin(), train.end());
  return train;
}

// Prompt ids as -100, then the answer (LF's chosen_labels / rejected_labels for dpo).
TokenIds answer_labels(const TokenIds& prompt, const TokenIds& answer) {
  TokenIds labels(prompt.size(), -100);
  labels.insert(labels.end(), answer.begin(), answer.end());
  return labels;
}

// pairwise_labels (dpo): each row also gets its labels, as LF's preference preprocessing writes them.
std::string jsonl(const PreparedData& data, const std::vector<int64_t>& indices, bool pairwise_labels) {
  std::string out;
  for (int64_t i : indices) {
    nlohmann::ordered_json j;
    if (!data.pairwise.empty()) {
      const PairwiseExample& e = data.pairwise[static_cast<size_t>(i)];
      j["chosen_input_ids"] = concat(e.prompt_ids, e.chosen_ids);
      if (pairwise_labels) j["chosen_labels"] = answer_labels(e.prompt_ids, e.chosen_ids);
      j["rejected_input_ids"] = concat(e.prompt_ids, e.rejected_ids);
      if (pairwise_labels) j["rejected_labels"] = answer_labels(e.prompt_ids, e.rejected_ids);
    } else {
      const SupervisedExample& e = data.supervised[static_cast<size_t>(i)];
      j["input_ids"] = e.input_ids;
      j["labels"] = e.labels;
    }
    out += j.dump() + "\n";
  }
  return out;
}

// Decodes ids, wrapping runs whose label is -100 in ⟦…⟧ so the user sees what takes no loss.
std::string decode_marked(const Tokenizer& tok, const TokenIds& ids, const TokenIds& labels) {
  std::string out;
  size_t i = 0;
  while (i < ids.size()) {
    const bool masked = labels[i] == -100;
    size_t j = i;
    while (j < ids.size() && (labels[j] == -100) == masked) ++j;
    const std::string text = tok.decode(std::span<const int32_t>(ids.data() + i, j - i));
    out += masked ? "⟦" + text + "⟧" : text;
    i = j;
  }
  return out;
}

void show(const PreparedData& data, const std::vector<int64_t>& indices, const Tokenizer& tok, int count) {
  for (int k = 0; k < count && k < static_cast<int>(indices.size()); ++k) {
    const size_t i = static_cast<size_t>(indices[static_cast<size_t>(k)]);
    std::printf("---- example %zu ----\n", i);
    if (!data.pairwise.empty()) {
      const PairwiseExample& e = data.pairwise[i];
      std::printf("prompt (%zu tokens): %s\n", e.prompt_ids.size(), tok.decode(e.prompt_ids).c_str());
      std::printf("chosen (%zu tokens): %s\n", e.chosen_ids.size(), tok.decode(e.chosen_ids).c_str());
      std::printf("rejected (%zu tokens): %s\n", e.rejected_ids.size(), tok.decode(e.rejected_ids).c_str());
    } else {
      const SupervisedExample& e = data.supervised[i];
      std::printf("%zu tokens, ⟦no loss⟧ marked:\n%s\n", e.input_ids.size(),
                  decode_marked(tok, e.input_ids, e.labels).c_str());
    }
  }
}

int run_data(const ParsedArgs& a) {
  const Plan plan = plan_from_args(a);
  const Tokenizer tok = load_tokenizer_of(plan.model_name_or_path, plan.use_fast_tokenizer);
  const PreparedData data = prepare_dataset(data_options(plan), tok);
  const std::vector<int64_t> indices = selected_indices(plan, static_cast<int64_t>(data.size()));
  std::fprintf(stderr, "%zu examples prepared (%lld invalid dropped); %zu selected (%s)\n", data.size(),
               static_cast<long long>(data.dropped), indices.size(),
               plan.do_train ? "train split" : "whole dataset");
  if (a.has("out")) {
    write_file_atomic(a.str("out"), jsonl(data, indices, plan.stage == "dpo"));
    std::fprintf(stderr, "wrote %s\n", a.str("out").c_str());
    return 0;
  }
  show(data, indices, tok, a.integer("show"));
  return 0;
}

}  // namespace

const CommandSpec& data_command() {
  static const CommandSpec spec{
      "data",
      "preprocess the configured dataset and show or write the token ids training will see",
      "tune data CONFIG.yaml [key=value ...] [--out FILE.jsonl] [--show N]",
      "Reads the config like `tune train` does (LLaMA-Factory keys; key=value overrides win), tokenizes the\n"
      "dataset with the model's tokenizer and template, and either writes one JSON object per example to --out\n"
      "(sft/pt: input_ids, labels; rm: chosen_input_ids, rejected_input_ids, full sequences) in file order — the\n"
      "whole dataset when do_train is false, else the train split — or prints the first --show examples decoded.",
      {{"out", "FILE", "write the examples as JSONL to FILE", ""},
       {"show", "N", "examples to print when --out is not given", "3"}},
      1,
      kMaxOverrides,
      run_data,
      true};
  return spec;
}

}  // namespace tune::cli
