#include "train/collate.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace tune {

namespace {

int padded_length(size_t longest) {
  const size_t m = kPadToMultipleOf;
  return static_cast<int>((longest + m - 1) / m * m);
}

// Appends one right-padded row of ids (and its mask) to the batch.
void append_row(Batch& b, const TokenIds& ids, int32_t pad_id) {
  b.input_ids.insert(b.input_ids.end(), ids.begin(), ids.end());
  b.input_ids.insert(b.input_ids.end(), b.T - ids.size(), pad_id);
  b.attention_mask.insert(b.attention_mask.end(), ids.size(), 1);
  b.attention_mask.insert(b.attention_mask.end(), b.T - ids.size(), 0);
}

}  // namespace

Batch collate_supervised(std::span<const SupervisedExample* const> examples, int32_t pad_id) {
  TUNE_CHECK(!examples.empty(), "cannot collate an empty batch");
  size_t longest = 0;
  for (const auto* e : examples) {
    TUNE_CHECK(e->input_ids.size() == e->labels.size(), "example has ", e->input_ids.size(), " ids but ",
               e->labels.size(), " labels");
    longest = std::max(longest, e->input_ids.size());
  }
  Batch b;
  b.B = static_cast<int>(examples.size());
  b.T = padded_length(longest);
  for (const auto* e : examples) {
    append_row(b, e->input_ids, pad_id);
    b.labels.insert(b.labels.end(), e->labels.begin(), e->labels.end());
    b.labels.insert(b.labels.end(), b.T - e->labels.size(), kIgnoreIndex);
  }
  return b;
}

Batch collate_rows(std::span<const TokenIds> rows, int32_t pad_id) {
  TUNE_CHECK(!rows.empty(), "cannot collate an empty batch");
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  Batch b;
  b.B = static_cast<int>(rows.size());
  b.T = padded_length(longest);
  for (const auto& r : rows) append_row(b, r, pad_id);
  return b;
}

Batch collate_pairwise(std::span<const PairwiseExample* const> examples, int32_t pad_id) {
  TUNE_CHECK(!examples.empty(), "cannot collate an empty batch");
  std::vector<TokenIds> rows;
  for (bool chosen : {true, false})
    for (const auto* e : examples) {
      TokenIds row = e->prompt_ids;
      const TokenIds& answer = chosen ? e->chosen_ids : e->rejected_ids;
      row.insert(row.end(), answer.begin(), answer.end());
      rows.push_back(std::move(row));
    }
  return collate_rows(rows, pad_id);
}

Batch collate_preference(std::span<const PairwiseExample* const> examples, int32_t pad_id) {
  Batch b = collate_pairwise(examples, pad_id);
  b.labels.assign(b.input_ids.size(), kIgnoreIndex);
  const size_t n = examples.size();
  for (size_t row = 0; row < 2 * n; ++row) {
    const PairwiseExample& e = *examples[row % n];
    const TokenIds& answer = row < n ? e.chosen_ids : e.rejected_ids;
    const size_t start = row * static_cast<size_t>(b.T) + e.prompt_ids.size();
    std::copy(answer.begin(), answer.end(), b.labels.begin() + static_cast<std::ptrdiff_t>(start));
  }
  return b;
}

}  // namespace tune
