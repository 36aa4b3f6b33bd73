#include "model/merge.h"

#include "core/error.h"

namespace tune {

Tensor& projection_weight(LayerWeights& layer, Proj p) {
  switch (p) {
    case Proj::Q: return layer.q;
    case Proj::K: return layer.k;
    case Proj::V: return layer.v;
    case Proj::O: return layer.o;
    case Proj::Gate: return layer.gate;
    case Proj::Up: return layer.up;
    case Proj::Down: return layer.down;
  }
  fail("unknown projection");
}

void merge_lora(ModelWeights& weights, const LoraAdapter& adapter) {
  TUNE_CHECK(adapter.layers.size() == weights.layers.size(), "adapter has ", adapter.layers.size(),
             " layers but the model has ", weights.layers.size());
  for (size_t l = 0; l < adapter.layers.size(); ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const auto& m = adapter.layers[l][p];
      if (!m) continue;
      Tensor& W = projection_weight(weights.layers[l], static_cast<Proj>(p));  // [out, in]
      const int64_t out = W.dim(0), in = W.dim(1), r = m->r;
      TUNE_CHECK(m->B.dim(0) == out && m->A.dim(1) == in, "LoRA module ", module_name(static_cast<int>(l),
                 static_cast<Proj>(p)), " does not fit its base weight ", shape_str(W.shape));
#pragma omp parallel for schedule(static)
      for (int64_t o = 0; o < out; ++o) {
        float* w_row = W.ptr() + o * in;
        for (int64_t k = 0; k < r; ++k) {
          const float b = m->scaling * m->B.data[static_cast<size_t>(o * r + k)];
          const float* a_row = m->A.ptr() + k * in;
#pragma omp simd
          for (int64_t i = 0; i < in; ++i) w_row[i] += b * a_row[i];
        }
      }
    }
}

}  // namespace tune
