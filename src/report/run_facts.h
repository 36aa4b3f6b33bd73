// What the training loop knows about a run when it writes its reports (the rest comes from the Plan).
#pragma once
#include <cstdint>
#include <string>

#include "core/version.h"

namespace tune {

struct RunFacts {
  int world_size = 1;            // data-parallel processes
  int global_step = 0;           // optimizer steps done
  int max_steps = 0;             // optimizer steps of the whole run
  int steps_per_epoch = 0;       // optimizer steps per epoch (HF num_update_steps_per_epoch)
  double epoch = 0.0;            // fractional epoch reached, unrounded
  double total_flos = 0.0;       // HF state.total_flos (floating-point operations, 6 * params * tokens)
  int64_t num_input_tokens_seen = 0;
  std::string tune_version = TUNE_VERSION;  // for the model card's "Framework versions"
  std::string git_rev = TUNE_GIT_REV;
};

}  // namespace tune
