// Random base weights for a ModelConfig: synthetic models for demos, benchmarks and tests (no download needed).
#pragma once
#include <cstdint>

#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

// Linear and embedding weights ~ N(0, std) (HF Gemma's initializer_range is 0.02); RMSNorm scales ~ 1 + N(0, norm_std)
// (stored as offsets w for a (1 + w) norm) so the scale is exercised. Deterministic in `seed`.
ModelWeights random_weights(const ModelConfig& cfg, uint64_t seed, float std = 0.02f, float norm_std = 0.1f);

}  // namespace tune
