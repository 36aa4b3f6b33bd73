// Whole-model operations on the kept-quantized projections (see weights.h).
#include "model/weights.h"

namespace tune {

bool has_quantized_linears(const ModelWeights& w) {
  for (const LayerWeights& layer : w.layers)
    for (int p = 0; p < kNumProj; ++p)
      if (projection(layer, static_cast<Proj>(p)).quantized()) return true;
  return false;
}

void dequantize_linears(ModelWeights& w) {
  for (LayerWeights& layer : w.layers)
    for (int p = 0; p < kNumProj; ++p) {
      FrozenLinear& W = projection(layer, static_cast<Proj>(p));
      if (W.quantized()) W = FrozenLinear{dequantized(W), {}};
    }
}

}  // namespace tune
