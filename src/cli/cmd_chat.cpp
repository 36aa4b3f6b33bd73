// `tune chat CONFIG.yaml [key=value ...]`: an interactive terminal chat with the configured model and adapters,
// LLaMA-Factory's `llamafactory-cli chat`: the template's multi-turn prompt, streamed replies, history, /clear, /exit.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/error.h"
#include "core/threads.h"
#include "infer/generator.h"
#include "infer/inference_model.h"
#include "infer/text_stream.h"

namespace tune::cli {

namespace {

void say(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

int run_chat(const ParsedArgs& a) {
  const Plan plan = plan_from_args(a);
  apply_threads(plan.threads);
  TUNE_CHECK(!plan.template_.empty(),
             "tune chat needs a chat template, but the config names none; add `template: gemma` (or gemma_current, "
             "default, alpaca, empty) to the config or pass template=NAME");
  const InferenceModel model = load_inference_model(plan);
  Generator generator(model);
  const SamplingParams params = SamplingParams::from_plan(plan);
  const bool interactive = ::isatty(STDIN_FILENO);
  std::fprintf(stderr, "chat with %s (template %s, %s); /clear clears the history, /exit quits\n",
               model.model_id.c_str(), plan.template_.c_str(),
               params.do_sample && params.temperature > 0.0f ? "sampling" : "greedy");

  std::vector<Message> history;
  std::string line;
  for (;;) {
    if (interactive) say("\nUser: ");
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Commands are recognised with spaces around them (as LF strips them); a blank line is no message.
    const size_t first = line.find_first_not_of(" \t\r");
    const std::string command =
        first == std::string::npos ? "" : line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    if (command == "/exit") break;
    if (command == "/clear") {
      history.clear();
      say("History has been removed.\n");
      continue;
    }
    if (command.empty()) continue;

    history.push_back({Role::User, line});
    const std::vector<int32_t> prompt = chat_prompt_ids(model, history, "");
    TextStream stream(*model.tokenizer, plan.skip_special_tokens);
    std::string reply;
    say("Assistant: ");
    const Generation g = generator.generate(prompt, params, [&](int32_t id) {
      const std::string piece = stream.push(id);
      reply += piece;
      say(piece);
      return true;
    });
    const std::string rest = stream.finish();
    reply += rest;
    say(rest + "\n");
    if (g.finish == FinishReason::Length && static_cast<int>(g.tokens.size()) < params.max_new_tokens)
      std::fprintf(stderr, "(the reply stopped at the model's context length, %d tokens; /clear starts over)\n",
                   model.cfg.max_position_embeddings);
    history.push_back({Role::Assistant, reply});
  }
  return 0;
}

}  // namespace

const CommandSpec& chat_command() {
  static const CommandSpec spec{
      "chat",
      "chat with the configured model (and adapters) in the terminal",
      "tune chat CONFIG.yaml [key=value ...]",
      "Loads model_name_or_path, its tokenizer and the adapters of adapter_name_or_path (merged, or the last one as a\n"
      "LoRA branch with infer_merge_adapters: false) and reads user messages from stdin, one per line (a pipe works\n"
      "too). Each reply is streamed as it is generated, with the config's template and generation keys (do_sample,\n"
      "temperature, top_p, top_k, repetition_penalty, max_new_tokens, default_system, skip_special_tokens, seed).\n"
      "The conversation is kept as history and cut to cutoff_len; /clear clears it, /exit or end of input quits.",
      {},
      1,
      kMaxOverrides,
      run_chat,
      true};
  return spec;
}

}  // namespace tune::cli
