#include "infer/score_json.h"

#include <string>

#include "core/py_json.h"

namespace tune {

std::vector<ItemScores> score_items(RewardScorer& scorer, std::span<const ScoreItem* const> items) {
  std::vector<TokenIds> rows;
  for (const ScoreItem* item : items) rows.push_back(item->sequences[0]);
  for (const ScoreItem* item : items)
    if (item->pair) rows.push_back(item->sequences[1]);
  const std::vector<float> values = scorer.score(rows);
  std::vector<ItemScores> out;
  size_t next_rejected = items.size();
  for (size_t i = 0; i < items.size(); ++i) {
    out.push_back({values[i]});
    if (items[i]->pair) out.back().push_back(values[next_rejected++]);
  }
  return out;
}

// The double nearest the float's shortest digits, which nlohmann prints with those digits (NaN prints as null).
Json score_number(float score) { return Json(std::stod(py_float_repr(score))); }

void add_scores(Json& object, const ItemScores& scores) {
  if (scores.size() == 1) {
    object["score"] = score_number(scores[0]);
  } else {
    object["chosen_score"] = score_number(scores[0]);
    object["rejected_score"] = score_number(scores[1]);
  }
}

}  // namespace tune
