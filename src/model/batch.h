// Batch: one micro-batch of padded token rows as the model consumes it.
#pragma once
#include <cstdint>
#include <vector>

namespace tune {

inline constexpr int32_t kIgnoreIndex = -100;  // label value that takes no loss (HF / LLaMA-Factory IGNORE_INDEX)

struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> input_ids;       // [B, T]
  std::vector<uint8_t> attention_mask;  // [B, T]  1 = real token, 0 = padding
  std::vector<int32_t> labels;          // [B, T]  next-token targets are labels[t+1]; empty when no LM loss

  int tokens() const { return B * T; }
  // Index of the last real token of row b (attention_mask == 1), or -1 for an all-padding row.
  int last_token(int b) const;
  void validate() const;  // sizes agree; throws tune::Error otherwise
};

}  // namespace tune
