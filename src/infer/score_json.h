// Scores of ScoreItems in one batch and their JSON form, shared by `tune score` and `tune serve`.
#pragma once
#include <span>
#include <vector>

#include "data/json_rows.h"
#include "infer/reward_scorer.h"
#include "infer/score_input.h"

namespace tune {

using ItemScores = std::vector<float>;  // [1] score, or [2] chosen, rejected

// One forward over every sequence of the items. Row order: the first sequence of every item, then the rejected
// sequences of the pairs, so a batch of pairs is exactly do_predict's (collate_pairwise) batch.
std::vector<ItemScores> score_items(RewardScorer& scorer, std::span<const ScoreItem* const> items);

// A float score as a JSON number with the float's shortest decimal digits (0.1f -> 0.1, not 0.10000000149...).
Json score_number(float score);

// Adds "score", or "chosen_score" and "rejected_score", to the object (replacing keys of those names).
void add_scores(Json& object, const ItemScores& scores);

}  // namespace tune
