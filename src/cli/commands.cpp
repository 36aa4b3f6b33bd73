#include "cli/commands.h"

namespace tune::cli {

std::vector<const CommandSpec*> all_commands() {
  return {&train_command(),  &data_command(),      &chat_command(),    &score_command(), &serve_command(),
          &eval_bias_command(), &export_command(), &new_model_command(), &inspect_command(), &step_command(),
          &version_command()};
}

}  // namespace tune::cli
