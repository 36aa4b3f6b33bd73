#include "model/batch.h"

#include "core/error.h"

namespace tune {

int Batch::last_token(int b) const {
  for (int t = T - 1; t >= 0; --t)
    if (attention_mask[static_cast<size_t>(b) * T + t]) return t;
  return -1;
}

void Batch::validate() const {
  const size_t n = static_cast<size_t>(B) * T;
  TUNE_CHECK(B > 0 && T > 0, "batch is empty (B=", B, ", T=", T, ")");
  TUNE_CHECK(input_ids.size() == n, "batch input_ids has ", input_ids.size(), " entries, expected B*T = ", n);
  TUNE_CHECK(attention_mask.size() == n, "batch attention_mask has ", attention_mask.size(), " entries, expected ", n);
  TUNE_CHECK(labels.empty() || labels.size() == n, "batch labels has ", labels.size(), " entries, expected ", n);
}

}  // namespace tune
