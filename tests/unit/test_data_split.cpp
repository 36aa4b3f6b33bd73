// split_indices and the numpy PCG64 behind it against numpy / HF datasets (tests/data/datasets/split_expected.json,
// written by tools/reference/make_dataset_golden.py).
#include <fstream>
#include <numeric>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/dataset.h"
#include "data/numpy_rng.h"

namespace tune {
namespace {

using nlohmann::json;

const json& expected() {
  static const json doc = [] {
    std::ifstream in(std::string(TUNE_TEST_DATA) + "/datasets/split_expected.json");
    return json::parse(in);
  }();
  return doc;
}

TEST(NumpyPcg64, RawOutputsEqualNumpy) {
  const json& raw = expected().at("pcg64_raw");
  ASSERT_EQ(raw.size(), 3u);
  for (const auto& [seed, values] : raw.items()) {
    NumpyPcg64 rng(std::stoull(seed));
    for (const json& v : values) EXPECT_EQ(rng.next_u64(), v.get<uint64_t>()) << "seed " << seed;
  }
}

TEST(NumpyPcg64, Next32SplitsOneDrawLowHalfFirst) {
  NumpyPcg64 a(42), b(42);
  uint64_t full = a.next_u64();
  EXPECT_EQ(b.next_u32(), static_cast<uint32_t>(full));
  EXPECT_EQ(b.next_u32(), static_cast<uint32_t>(full >> 32));
  EXPECT_EQ(b.next_u64(), a.next_u64());
}

TEST(SplitIndices, EqualsHfTrainTestSplit) {
  const json& splits = expected().at("splits");
  ASSERT_GE(splits.size(), 5u);
  for (const json& s : splits) {
    const int64_t n = s.at("n");
    SCOPED_TRACE("n=" + std::to_string(n) + " seed=" + s.at("seed").dump());
    SplitIndices got = split_indices(n, s.at("val_size").get<double>(), s.at("seed").get<uint64_t>());
    EXPECT_EQ(got.eval, s.at("eval").get<std::vector<int64_t>>());
    ASSERT_EQ(static_cast<int64_t>(got.train.size() + got.eval.size()), n);
    if (s.contains("train")) {
      EXPECT_EQ(got.train, s.at("train").get<std::vector<int64_t>>());
    } else {
      auto head = s.at("train_head").get<std::vector<int64_t>>();
      EXPECT_EQ(std::vector<int64_t>(got.train.begin(), got.train.begin() + head.size()), head);
      EXPECT_EQ(std::accumulate(got.train.begin(), got.train.end(), int64_t{0}), s.at("train_sum").get<int64_t>());
    }
  }
}

TEST(SplitIndices, SeedRunSizeGives439EvalExamples) {
  EXPECT_EQ(split_indices(8780, 0.05, 42).eval.size(), 439u);
  EXPECT_EQ(split_indices(8761, 0.05, 42).eval.size(), 439u);
  EXPECT_EQ(split_indices(8760, 0.05, 42).eval.size(), 438u);
}

TEST(SplitIndices, CountAndFractionSizes) {
  EXPECT_EQ(split_indices(100, 10.0, 1).eval.size(), 10u);   // a count > 1
  EXPECT_EQ(split_indices(100, 10.9, 1).eval.size(), 10u);   // int(val_size)
  EXPECT_EQ(split_indices(101, 0.1, 1).eval.size(), 11u);    // ceil(10.1)
  EXPECT_EQ(split_indices(3, 0.5, 1).eval.size(), 2u);       // ceil(1.5)
}

TEST(SplitIndices, NoSplitKeepsOrder) {
  SplitIndices s = split_indices(5, 0.0, 42);
  EXPECT_TRUE(s.eval.empty());
  EXPECT_EQ(s.train, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(SplitIndices, Deterministic) {
  EXPECT_EQ(split_indices(500, 0.2, 9).eval, split_indices(500, 0.2, 9).eval);
  EXPECT_NE(split_indices(500, 0.2, 9).eval, split_indices(500, 0.2, 10).eval);
}

TEST(SplitIndices, Errors) {
  EXPECT_THROW(split_indices(10, 1.0, 0), Error);   // a fraction must be below 1
  EXPECT_THROW(split_indices(10, 10.0, 0), Error);  // count >= n
  EXPECT_THROW(split_indices(0, 0.1, 0), Error);    // nothing to split
  EXPECT_THROW(split_indices(1, 0.5, 0), Error);    // no training data left
  EXPECT_THROW(split_indices(10, -0.1, 0), Error);
}

}  // namespace
}  // namespace tune
