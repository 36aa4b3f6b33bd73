// val_size -> train/eval index lists, as LLaMA-Factory's split_dataset calls HF datasets' train_test_split.
#include <cmath>

#include "core/error.h"
#include "data/dataset.h"
#include "data/numpy_rng.h"

namespace tune {

SplitIndices split_indices(int64_t n, double val_size, uint64_t seed) {
  SplitIndices out;
  TUNE_CHECK(std::isfinite(val_size) && val_size >= 0, "val_size must be a fraction in (0, 1) or a count > 1, got ",
             val_size);
  if (val_size <= 1e-6) {  // LLaMA-Factory: no split, the data is all training data in order
    for (int64_t i = 0; i < n; ++i) out.train.push_back(i);
    return out;
  }
  int64_t n_test = 0;
  if (val_size > 1) {  // LLaMA-Factory passes int(val_size): a count
    n_test = static_cast<int64_t>(val_size);
    TUNE_CHECK(n_test < n, "val_size ", n_test, " asks for more evaluation examples than there are (", n,
               "); lower val_size");
  } else {
    TUNE_CHECK(val_size < 1, "val_size 1.0 leaves no training data; use a fraction below 1 or a count");
    n_test = static_cast<int64_t>(std::ceil(val_size * static_cast<double>(n)));
  }
  TUNE_CHECK(n - n_test > 0, "val_size ", val_size, " with ", n, " examples leaves no training data; lower val_size");

  std::vector<int64_t> perm = numpy_permutation(n, seed);
  out.eval.assign(perm.begin(), perm.begin() + n_test);
  out.train.assign(perm.begin() + n_test, perm.end());
  return out;
}

}  // namespace tune
