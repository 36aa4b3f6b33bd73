// Command-line parsing for `tune <command> [positional...] [--option value | --flag]`, validated against a spec.
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tune::cli {

// Bad command-line usage: printed with a pointer to --help, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // without dashes: "lora-r"
  std::string value_name;  // empty for a flag
  std::string help;
  std::string default_value;  // shown in help; used when the option is absent
};

struct ParsedArgs;
struct CommandSpec {
  std::string name;
  std::string summary;  // one line for `tune --help`
  std::string usage;    // "tune step MODEL_DIR [options]"
  std::string details;  // paragraph for `tune step --help`
  std::vector<OptionSpec> options;
  int min_positional = 0, max_positional = 0;
  int (*run)(const ParsedArgs&) = nullptr;
  bool config_keys = false;  // CONFIG [key=value ...] command: `--key value` / `--key=value` are config overrides too
};

struct ParsedArgs {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // every option with a value, defaults filled in
  std::map<std::string, bool> flags;

  bool has(const std::string& name) const;  // given on the command line or has a default
  bool flag(const std::string& name) const;
  std::string str(const std::string& name) const;
  int integer(const std::string& name) const;   // UsageError when not an integer
  double number(const std::string& name) const;  // UsageError when not a number
};

// Parses argv after the command name. Throws UsageError for unknown options (with the nearest valid name), missing
// values, and wrong positional counts. Sets help = true (and returns) when --help/-h is present.
ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& argv, bool* help);

std::string command_help(const CommandSpec& spec);
// The valid name closest to `word` by edit distance, or "" when none is close.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tune::cli
