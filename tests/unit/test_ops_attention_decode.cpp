// Tests for decode attention (one query over a K/V cache): cpu vs reference, vs the last row of the full causal
// attention, known values, scratch reuse and the head-count check.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct DecodeSize {
  int T, Nq, Nkv, D;
  int window = 0;       // sliding window (0: none)
  float softcap = 0.0f;  // score soft-capping (0: none)
};

class AttentionDecodeParity : public ::testing::TestWithParam<DecodeSize> {};

TEST_P(AttentionDecodeParity, MatchesReferenceAndLastRowOfFullAttention) {
  const auto [T, Nq, Nkv, D, window, softcap] = GetParam();
  const float scale = 1.0f / std::sqrt(float(D));
  const size_t nq = size_t(T) * Nq * D, nkv = size_t(T) * Nkv * D;
  const auto q_all = random_vec(nq, 11, -2.0, 2.0), k = random_vec(nkv, 12, -2.0, 2.0), v = random_vec(nkv, 13);
  const float* q_last = q_all.data() + size_t(T - 1) * Nq * D;  // [Nq, D]

  std::vector<float> out(size_t(Nq) * D, 9.0f), out_ref(out.size());
  cpu::attention_decode(out.data(), q_last, k.data(), v.data(), T, Nq, Nkv, D, scale, window, softcap);
  ref::attention_decode(out_ref.data(), q_last, k.data(), v.data(), T, Nq, Nkv, D, scale, window, softcap);
  EXPECT_LE(max_rel_err(out, out_ref), 1e-5);

  // The same numbers as the last query row of the training attention over the whole sequence.
  const std::vector<uint8_t> mask(size_t(T), 1);
  std::vector<float> full(nq), probs(size_t(Nq) * T * T);
  cpu::attention_forward(full.data(), probs.data(), q_all.data(), k.data(), v.data(), mask.data(), 1, T, Nq, Nkv, D,
                         scale, window, softcap);
  const std::vector<float> last(full.end() - Nq * D, full.end());
  EXPECT_LE(max_rel_err(out, last), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Sizes, AttentionDecodeParity,
                         ::testing::Values(DecodeSize{1, 1, 1, 2},       // the first position: copies v
                                           DecodeSize{7, 4, 2, 8},       // GQA groups of 2
                                           DecodeSize{5, 4, 1, 5},       // MQA, odd D
                                           DecodeSize{9, 3, 3, 4},       // MHA
                                           DecodeSize{9, 4, 2, 8, 4},    // sliding window 4 < T
                                           DecodeSize{7, 4, 2, 8, 0, 1.5f},  // soft-capped scores
                                           DecodeSize{11, 2, 1, 4, 3, 2.0f},  // both
                                           DecodeSize{300, 8, 1, 64}));  // long cache: the threaded path

TEST(AttentionDecodeKnown, SinglePositionCopiesValueOfItsGroup) {
  const int Nq = 4, Nkv = 2, D = 3;
  const auto q = random_vec(size_t(Nq) * D, 21), k = random_vec(size_t(Nkv) * D, 22), v = random_vec(size_t(Nkv) * D, 23);
  std::vector<float> out(size_t(Nq) * D);
  cpu::attention_decode(out.data(), q.data(), k.data(), v.data(), 1, Nq, Nkv, D, 0.5f, 0, 0.0f);
  for (int h = 0; h < Nq; ++h)
    for (int d = 0; d < D; ++d) EXPECT_FLOAT_EQ(out[h * D + d], v[(h / 2) * D + d]);
}

TEST(AttentionDecodeKnown, EqualKeysAverageTheValues) {
  const int T = 4, D = 2;
  const std::vector<float> q = {1.0f, -2.0f}, k(size_t(T) * D, 0.25f);
  const std::vector<float> v = {1, 10, 2, 20, 3, 30, 4, 40};
  std::vector<float> out(D);
  cpu::attention_decode(out.data(), q.data(), k.data(), v.data(), T, 1, 1, D, 1.0f, 0, 0.0f);
  EXPECT_FLOAT_EQ(out[0], 2.5f);
  EXPECT_FLOAT_EQ(out[1], 25.0f);
}

TEST(AttentionDecodeScratch, ReuseAcrossLengthsIsBitIdentical) {
  std::vector<float> scratch;
  for (const DecodeSize& c : {DecodeSize{300, 8, 1, 64}, DecodeSize{5, 4, 1, 5}, DecodeSize{40, 8, 2, 16}}) {
    const auto q = random_vec(size_t(c.Nq) * c.D, 31), k = random_vec(size_t(c.T) * c.Nkv * c.D, 32);
    const auto v = random_vec(size_t(c.T) * c.Nkv * c.D, 33);
    std::vector<float> a(size_t(c.Nq) * c.D), b(a.size());
    cpu::attention_decode(a.data(), q.data(), k.data(), v.data(), c.T, c.Nq, c.Nkv, c.D, 0.25f, 0, 0.0f);
    cpu::attention_decode(b.data(), q.data(), k.data(), v.data(), c.T, c.Nq, c.Nkv, c.D, 0.25f, 0, 0.0f, &scratch);
    EXPECT_EQ(a, b) << "T = " << c.T;
  }
}

TEST(AttentionDecodeErrors, HeadsNotAMultipleThrow) {
  std::vector<float> buf(64);
  EXPECT_THROW(cpu::attention_decode(buf.data(), buf.data(), buf.data(), buf.data(), 2, 3, 2, 2, 1.0f, 0, 0.0f), Error);
}

}  // namespace
}  // namespace tune
