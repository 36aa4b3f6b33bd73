// `tune` entry point: dispatches to a subcommand and turns errors into messages and exit codes
// (0 success, 2 bad usage or bad input, 1 internal failure).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config_options.h"
#include "cli/wait_policy.h"
#include "core/error.h"

namespace {

using tune::cli::CommandSpec;

void print_main_help() {
  std::printf(
      "tune.cpp — LoRA fine-tuning for LLMs (LLaMA-Factory compatible), one binary, CPU or CUDA.\n\n"
      "usage: tune <command> [arguments] [--options]\n\ncommands:\n");
  for (const CommandSpec* c : tune::cli::all_commands()) {
    std::string name = "  " + c->name;
    name.resize(14, ' ');
    std::printf("%s %s\n", name.c_str(), c->summary.c_str());
  }
  std::printf("  help          show help for a command: tune help <command>\n\n"
              "Run 'tune <command> --help' for a command's arguments and options.\n");
}

const CommandSpec* find_command(const std::string& name) {
  for (const CommandSpec* c : tune::cli::all_commands())
    if (c->name == name) return c;
  return nullptr;
}

[[noreturn]] void unknown_command(const std::string& name) {
  std::vector<std::string> names;
  for (const CommandSpec* c : tune::cli::all_commands()) names.push_back(c->name);
  const std::string near = tune::cli::nearest(name, names);
  throw tune::cli::UsageError("unknown command '" + name + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    print_main_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") args[0] = "version";
  if (args[0] == "help") {
    if (args.size() == 1) {
      print_main_help();
      return 0;
    }
    const CommandSpec* c = find_command(args[1]);
    if (!c) unknown_command(args[1]);
    std::printf("%s", tune::cli::command_help(*c).c_str());
    return 0;
  }
  const CommandSpec* c = find_command(args[0]);
  if (!c) {
    if (args[0].rfind("-", 0) == 0) throw tune::cli::UsageError("unknown option " + args[0] + "; options come after the command");
    unknown_command(args[0]);
  }
  bool help = false;
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (c->config_keys) rest = tune::cli::config_options_to_overrides(*c, rest);
  const auto parsed = tune::cli::parse_args(*c, rest, &help);
  if (help) {
    std::printf("%s", tune::cli::command_help(*c).c_str());
    return 0;
  }
  return c->run(parsed);
}

}  // namespace

int main(int argc, char** argv) {
  tune::cli::use_passive_wait_policy(argv);
  try {
    return run(argc, argv);
  } catch (const tune::cli::UsageError& e) {
    std::fprintf(stderr, "error: %s\nRun 'tune --help' for usage.\n", e.what());
    return 2;
  } catch (const tune::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // a path the user gave that cannot be used
    std::fprintf(stderr, "error: cannot use %s: %s; check the path (its length, its folders and their permissions)\n",
                 e.path1().c_str(), e.code().message().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\nPlease report this with the command you ran.\n", e.what());
    return 1;
  }
}
