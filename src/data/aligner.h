// JSON rows of one dataset -> conversations (system, prompt messages, responses), as LLaMA-Factory's aligner
// (data/aligner.py, v0.5.x) builds them from the alpaca and sharegpt formats.
#pragma once
#include <string>
#include <vector>

#include "data/drops.h"
#include "data/json_rows.h"
#include "data/registry.h"
#include "text/template.h"

namespace tune {

struct AlignedExample {
  std::vector<Message> prompt;         // user, assistant, ..., user when valid (odd length)
  std::vector<std::string> responses;  // one answer, or [chosen, rejected] for preference data
  std::string system;
};

// Converts rows in order. Rows that cannot form a conversation (sharegpt role order broken, tool roles, nothing
// left) are skipped and counted in drops. Throws tune::Error for a configured column the data lacks (listing the
// columns it has) and for a value of the wrong JSON type (naming the file and line).
std::vector<AlignedExample> align_rows(const DatasetSpec& spec, const JsonRows& rows, DropTally& drops);

}  // namespace tune
