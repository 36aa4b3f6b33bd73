// numpy's np.random.default_rng(seed) bit for bit (SeedSequence -> PCG64 XSL-RR) and Generator.permutation(n),
// so that a split equals HF datasets' train_test_split(seed=...).
#pragma once
#include <cstdint>
#include <vector>

namespace tune {

class NumpyPcg64 {
 public:
  explicit NumpyPcg64(uint64_t seed);  // as np.random.default_rng(seed) for a non-negative integer seed

  uint64_t next_u64();
  uint32_t next_u32();  // numpy's pcg64_next32: low half of a fresh 64-bit draw, then its buffered high half
  // numpy's random_interval: uniform in [0, max] by masked rejection (32-bit draws when max fits in 32 bits).
  uint64_t interval(uint64_t max);

 private:
  void step();
  unsigned __int128 state_ = 0, inc_ = 0;
  bool has_u32_ = false;
  uint32_t buffered_u32_ = 0;
};

// np.random.default_rng(seed).permutation(n): arange(n) shuffled by Generator.shuffle (Fisher-Yates from the end).
std::vector<int64_t> numpy_permutation(int64_t n, uint64_t seed);

}  // namespace tune
