// Tests for the embedding lookup: cpu vs reference, known rows and scale, out-of-range ids.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

TEST(Embedding, MatchesReference) {
  const int N = 9, H = 13, V = 11;
  const auto table = test::random_vec(size_t(V) * H, 1);
  const std::vector<int32_t> ids = {0, 10, 3, 3, 7, 1, 0, 9, 5};
  std::vector<float> out(N * H), out_ref(N * H);
  cpu::embedding_forward(out.data(), ids.data(), table.data(), N, H, V, 45.25f);
  ref::embedding_forward(out_ref.data(), ids.data(), table.data(), N, H, V, 45.25f);
  EXPECT_EQ(out, out_ref);
}

TEST(Embedding, CopiesScaledRows) {
  const std::vector<float> table = {1, 2, 3, 4, 5, 6};  // [V=3, H=2]
  const std::vector<int32_t> ids = {2, 0, 2};
  std::vector<float> out(6);
  cpu::embedding_forward(out.data(), ids.data(), table.data(), 3, 2, 3, 0.5f);
  EXPECT_EQ(out, (std::vector<float>{2.5f, 3.0f, 0.5f, 1.0f, 2.5f, 3.0f}));
}

TEST(Embedding, IdOutsideVocabularyThrows) {
  const std::vector<float> table(6, 1.0f);  // [V=3, H=2]
  std::vector<float> out(4);
  for (int32_t bad : {-1, 3}) {
    const std::vector<int32_t> ids = {0, bad};
    EXPECT_THROW(cpu::embedding_forward(out.data(), ids.data(), table.data(), 2, 2, 3, 1.0f), Error) << bad;
    EXPECT_THROW(ref::embedding_forward(out.data(), ids.data(), table.data(), 2, 2, 3, 1.0f), Error) << bad;
  }
  try {
    const std::vector<int32_t> ids = {0, 7};
    cpu::embedding_forward(out.data(), ids.data(), table.data(), 2, 2, 3, 1.0f);
    FAIL() << "expected tune::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tune
