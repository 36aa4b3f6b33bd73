// The `tune` subcommands: each file cmd_<name>.cpp defines one CommandSpec.
#pragma once
#include <vector>

#include "cli/args.h"

namespace tune::cli {

const CommandSpec& version_command();
const CommandSpec& inspect_command();
const CommandSpec& new_model_command();
const CommandSpec& step_command();
const CommandSpec& data_command();
const CommandSpec& train_command();
const CommandSpec& export_command();
const CommandSpec& chat_command();
const CommandSpec& score_command();
const CommandSpec& serve_command();
const CommandSpec& eval_bias_command();

// In the order `tune --help` lists them.
std::vector<const CommandSpec*> all_commands();

}  // namespace tune::cli
