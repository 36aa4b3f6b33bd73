// Counts of examples skipped during alignment and preprocessing, grouped by reason, for logs and error messages.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tune {

class DropTally {
 public:
  void add(const std::string& reason) {
    for (auto& [r, n] : counts_) {
      if (r == reason) {
        ++n;
        return;
      }
    }
    counts_.emplace_back(reason, 1);
  }

  int64_t total() const {
    int64_t sum = 0;
    for (const auto& entry : counts_) sum += entry.second;
    return sum;
  }

  // "3 dropped because <reason>, 1 dropped because <reason>", in first-seen order; empty when nothing was dropped.
  std::string summary() const {
    std::string out;
    for (const auto& [reason, n] : counts_) {
      if (!out.empty()) out += ", ";
      out += cat(n, " dropped because ", reason);
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, int64_t>> counts_;  // reason -> count, first-seen order
};

}  // namespace tune
