// Collators: row order, right padding to a multiple of 8, masks and label padding.
#include <gtest/gtest.h>

#include "train/collate.h"

namespace tune {
namespace {

TEST(Collate, PairwisePutsAllChosenRowsFirstAndPadsToMultipleOf8) {
  const PairwiseExample a{{2, 10, 11}, {20, 1}, {21, 22, 23, 1}};
  const PairwiseExample b{{2, 12}, {30, 31, 32, 33, 34, 35, 1}, {40, 1}};
  const PairwiseExample* ex[] = {&a, &b};
  const Batch batch = collate_pairwise(ex, /*pad_id=*/0);
  ASSERT_EQ(batch.B, 4);
  EXPECT_EQ(batch.T, 16);  // longest row is 2 + 7 = 9 -> 16
  const std::vector<int32_t> row0(batch.input_ids.begin(), batch.input_ids.begin() + 16);
  EXPECT_EQ(row0, (std::vector<int32_t>{2, 10, 11, 20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(batch.input_ids[16 + 8], 1);      // row 1 = b chosen, eos at 8
  EXPECT_EQ(batch.input_ids[32 + 3], 21);     // row 2 = a rejected
  EXPECT_EQ(batch.input_ids[48 + 2], 40);     // row 3 = b rejected
  EXPECT_EQ(batch.last_token(0), 4);
  EXPECT_EQ(batch.last_token(2), 6);
  EXPECT_TRUE(batch.labels.empty());
}

// dpo: the rm rows, labelled on the answer tokens only (LF's chosen_labels / rejected_labels).
TEST(Collate, PreferenceLabelsTheAnswers) {
  const PairwiseExample a{{2, 10, 11}, {20, 1}, {21, 22, 23, 1}};
  const PairwiseExample b{{2, 12}, {30, 31, 32, 33, 34, 35, 1}, {40, 1}};
  const PairwiseExample* ex[] = {&a, &b};
  const Batch batch = collate_preference(ex, /*pad_id=*/0);
  EXPECT_EQ(batch.input_ids, collate_pairwise(ex, 0).input_ids);
  ASSERT_EQ(batch.labels.size(), 4u * 16u);
  const int I = kIgnoreIndex;
  auto row = [&](int r) {
    return std::vector<int32_t>(batch.labels.begin() + r * 16, batch.labels.begin() + r * 16 + 16);
  };
  EXPECT_EQ(row(0), (std::vector<int32_t>{I, I, I, 20, 1, I, I, I, I, I, I, I, I, I, I, I}));
  EXPECT_EQ(row(1), (std::vector<int32_t>{I, I, 30, 31, 32, 33, 34, 35, 1, I, I, I, I, I, I, I}));
  EXPECT_EQ(row(2), (std::vector<int32_t>{I, I, I, 21, 22, 23, 1, I, I, I, I, I, I, I, I, I}));
  EXPECT_EQ(row(3), (std::vector<int32_t>{I, I, 40, 1, I, I, I, I, I, I, I, I, I, I, I, I}));
}

TEST(Collate, SupervisedPadsLabelsWithIgnoreIndex) {
  const SupervisedExample a{{2, 5, 6, 1}, {-100, -100, 6, 1}};
  const SupervisedExample b{{2, 5, 6, 7, 8, 9, 10, 11, 1}, {-100, 5, 6, 7, 8, 9, 10, 11, 1}};
  const SupervisedExample* ex[] = {&a, &b};
  const Batch batch = collate_supervised(ex, 0);
  ASSERT_EQ(batch.B, 2);
  EXPECT_EQ(batch.T, 16);
  EXPECT_EQ(batch.labels[3], 1);
  EXPECT_EQ(batch.labels[4], kIgnoreIndex);
  EXPECT_EQ(batch.input_ids[4], 0);
  EXPECT_EQ(batch.attention_mask[3], 1);
  EXPECT_EQ(batch.attention_mask[4], 0);
  EXPECT_EQ(batch.labels[16 + 8], 1);
}

TEST(Collate, ExactMultipleOf8NeedsNoPadding) {
  const SupervisedExample a{{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3, 4, 5, 6, 7, 8}};
  const SupervisedExample* ex[] = {&a};
  EXPECT_EQ(collate_supervised(ex, 0).T, 8);
}

}  // namespace
}  // namespace tune
