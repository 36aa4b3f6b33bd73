// ModelConfig: the name most of tune.cpp uses for the ModelSpec of a checkpoint (model/spec.h).
#pragma once
#include "model/spec.h"

namespace tune {

using ModelConfig = ModelSpec;

}  // namespace tune
