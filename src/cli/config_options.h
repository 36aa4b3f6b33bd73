// `--key value` and `--key=value` config overrides (as HfArgumentParser takes them) turned into key=value arguments.
#pragma once
#include <string>
#include <vector>

#include "cli/args.h"

namespace tune::cli {

// For a command with config_keys: every `--name` that is not one of the command's options and names a config key
// (plan key, old alias, or a LLaMA-Factory key tune.cpp knows) becomes a positional "key=value" after CONFIG, in the
// order given. HfArgumentParser's rules: `--key=value` or `--key value`; `-` in the name reads as `_`; a true/false
// key alone means true, and takes a following yes/no/true/false/t/f/y/n/1/0 (any case) as its value; `--no_key`
// sets a true/false key to false. The command's own options and their values pass through unchanged.
// An unknown `--name` -> UsageError suggesting the nearest option or key; a key with no value -> UsageError.
std::vector<std::string> config_options_to_overrides(const CommandSpec& spec, const std::vector<std::string>& argv);

}  // namespace tune::cli
