// The padding masks the attention parity tests (CPU and GPU) share.
#pragma once
#include <cstdint>
#include <vector>

namespace tune::test {

// mask[B,T]: row 0 all real; row 1 left-padded by 2; row 2 (if any) entirely padding; further rows have holes.
inline std::vector<uint8_t> attention_test_mask(int B, int T) {
  std::vector<uint8_t> m(size_t(B) * T, 1);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      if (b == 1 && t < 2) m[b * T + t] = 0;
      if (b == 2) m[b * T + t] = 0;
      if (b >= 3 && t % 3 == 1) m[b * T + t] = 0;
    }
  return m;
}

}  // namespace tune::test
