// numpy SeedSequence, PCG64 and Generator.shuffle re-implemented from their published algorithms.
#include "data/numpy_rng.h"

#include <array>
#include <cstddef>
#include <utility>

namespace tune {
namespace {

using u128 = unsigned __int128;

// SeedSequence constants (numpy/random/bit_generator.pyx), pool of 4 uint32 words.
constexpr uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875, kInitB = 0x8b51f9dd, kMultB = 0x58f38ded;
constexpr uint32_t kMixMultL = 0xca01f9dd, kMixMultR = 0x4973f715;
constexpr int kXShift = 16;
constexpr size_t kPoolSize = 4;

constexpr u128 kPcgMultiplier = (static_cast<u128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

// SeedSequence(seed).pool: the seed's 32-bit words (little-endian, at least one) hashed and mixed into 4 words.
std::array<uint32_t, kPoolSize> seed_pool(uint64_t seed) {
  std::vector<uint32_t> entropy;
  do {
    entropy.push_back(static_cast<uint32_t>(seed));
    seed >>= 32;
  } while (seed != 0);

  uint32_t hash_const = kInitA;
  auto hashmix = [&](uint32_t value) {
    value ^= hash_const;
    hash_const *= kMultA;
    value *= hash_const;
    return value ^ (value >> kXShift);
  };
  auto mix = [](uint32_t x, uint32_t y) {
    uint32_t result = kMixMultL * x - kMixMultR * y;
    return result ^ (result >> kXShift);
  };
  std::array<uint32_t, kPoolSize> pool{};
  for (size_t i = 0; i < kPoolSize; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0);
  for (size_t src = 0; src < kPoolSize; ++src) {
    for (size_t dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    }
  }
  for (size_t src = kPoolSize; src < entropy.size(); ++src) {
    for (size_t dst = 0; dst < kPoolSize; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  return pool;
}

// SeedSequence.generate_state(4, np.uint64): 8 uint32 words paired little-endian into 4 uint64.
std::array<uint64_t, 4> generate_state_u64(const std::array<uint32_t, kPoolSize>& pool) {
  uint32_t hash_const = kInitB;
  std::array<uint32_t, 8> words{};
  for (size_t i = 0; i < words.size(); ++i) {
    uint32_t value = pool[i % kPoolSize] ^ hash_const;
    hash_const *= kMultB;
    value *= hash_const;
    words[i] = value ^ (value >> kXShift);
  }
  std::array<uint64_t, 4> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = words[2 * i] | (static_cast<uint64_t>(words[2 * i + 1]) << 32);
  return out;
}

}  // namespace

NumpyPcg64::NumpyPcg64(uint64_t seed) {
  std::array<uint64_t, 4> s = generate_state_u64(seed_pool(seed));
  u128 init_state = (static_cast<u128>(s[0]) << 64) | s[1];
  u128 init_seq = (static_cast<u128>(s[2]) << 64) | s[3];
  // pcg_setseq_128_srandom_r
  state_ = 0;
  inc_ = (init_seq << 1) | 1;
  step();
  state_ += init_state;
  step();
}

void NumpyPcg64::step() { state_ = state_ * kPcgMultiplier + inc_; }

uint64_t NumpyPcg64::next_u64() {
  step();
  uint64_t xored = static_cast<uint64_t>(state_ >> 64) ^ static_cast<uint64_t>(state_);
  unsigned rot = static_cast<unsigned>(state_ >> 122);
  return (xored >> rot) | (xored << ((64 - rot) & 63));
}

uint32_t NumpyPcg64::next_u32() {
  if (has_u32_) {
    has_u32_ = false;
    return buffered_u32_;
  }
  uint64_t next = next_u64();
  has_u32_ = true;
  buffered_u32_ = static_cast<uint32_t>(next >> 32);
  return static_cast<uint32_t>(next);
}

uint64_t NumpyPcg64::interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    while ((value = (next_u32() & mask)) > max) {
    }
  } else {
    while ((value = (next_u64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<int64_t> numpy_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  NumpyPcg64 rng(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    std::swap(perm[static_cast<size_t>(i)], perm[rng.interval(static_cast<uint64_t>(i))]);
  }
  return perm;
}

}  // namespace tune
