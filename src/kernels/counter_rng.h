// Counter-based random numbers for dropout: element i of a stream depends only on (seed, i), never on threading.
#pragma once
#include <cstdint>

namespace tune {

// SplitMix64 finalizer: a bijective 64-bit mix with good avalanche.
inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform float in [0, 1) with 24 random bits for counter `index` of the stream `mixed_seed` = splitmix64(seed).
inline float counter_uniform(uint64_t mixed_seed, uint64_t index) {
  return static_cast<float>(splitmix64(mixed_seed ^ index) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace tune
