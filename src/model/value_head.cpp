// Value head initialisation (nn.Linear(H, 1) default bounds, seeded) and gradient reset.
#include "model/value_head.h"

#include <cmath>
#include <random>

#include "core/error.h"

namespace tune {

void ValueHead::zero_grad() {
  dweight.zero();
  dbias.zero();
}

// Draw order: the H weights, then the bias; each is the top 24 bits of one mt19937_64 draw mapped to
// [-1/sqrt(H), 1/sqrt(H)).
ValueHead init_value_head(int hidden_size, uint64_t seed) {
  TUNE_CHECK(hidden_size > 0, "value head: hidden_size must be > 0, got ", hidden_size);
  ValueHead head;
  head.weight = Tensor({1, hidden_size});  // [1, H]
  head.bias = Tensor({1});                 // [1]
  head.dweight = Tensor(head.weight.shape);
  head.dbias = Tensor(head.bias.shape);
  std::mt19937_64 rng(seed);
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden_size));
  auto draw = [&] { return (2.0f * static_cast<float>(rng() >> 40) * 0x1.0p-24f - 1.0f) * bound; };
  for (float& x : head.weight.data) x = draw();
  head.bias.data[0] = draw();
  return head;
}

}  // namespace tune
