// Generator: prefill, then one KV-cache step per token; the choice of each token follows HF generate's processors.
#include "infer/generator.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "infer/sampling.h"
#include "kernels/counter_rng.h"

namespace tune {

namespace {

void check(const SamplingParams& p) {
  TUNE_CHECK(p.temperature >= 0.0f, "temperature must be >= 0 (0 = greedy), got ", p.temperature);
  TUNE_CHECK(p.top_p > 0.0f && p.top_p <= 1.0f, "top_p must be in (0, 1], got ", p.top_p);
  TUNE_CHECK(p.top_k >= 0, "top_k must be >= 0 (0 = no top-k filter), got ", p.top_k);
  TUNE_CHECK(p.repetition_penalty > 0.0f, "repetition_penalty must be > 0 (1 = none), got ", p.repetition_penalty);
  TUNE_CHECK(p.max_new_tokens >= 1, "max_new_tokens must be >= 1, got ", p.max_new_tokens);
}

}  // namespace

SamplingParams SamplingParams::from_plan(const Plan& plan) {
  SamplingParams p;
  p.do_sample = plan.do_sample;
  p.temperature = static_cast<float>(plan.temperature);
  p.top_p = static_cast<float>(plan.top_p);
  p.top_k = plan.top_k;
  p.repetition_penalty = static_cast<float>(plan.repetition_penalty);
  p.max_new_tokens = plan.max_new_tokens;
  p.seed = static_cast<uint64_t>(plan.seed);
  return p;
}

Generator::Generator(const InferenceModel& model)
    : Generator(model, model.tokenizer ? model.stop_ids() : std::vector<int32_t>{}) {}

Generator::Generator(const InferenceModel& model, std::vector<int32_t> stop_ids)
    : Generator(model.cfg, model.weights, model.adapter ? &*model.adapter : nullptr, std::move(stop_ids)) {}

Generator::Generator(const ModelConfig& cfg, const ModelWeights& weights, const LoraAdapter* adapter,
                     std::vector<int32_t> stop_ids)
    : cfg_(cfg), stop_ids_(std::move(stop_ids)), decoder_(cfg, weights, adapter) {}

Generation Generator::generate(std::span<const int32_t> prompt, const SamplingParams& p,
                               const std::function<bool(int32_t)>& on_token) {
  check(p);
  TUNE_CHECK(!prompt.empty(), "generation needs a prompt of at least one token");
  Generation g;
  const int context = cfg_.max_position_embeddings;
  const int room = context - static_cast<int>(prompt.size());
  if (room <= 0) return g;  // the prompt fills the context: FinishReason::Length, no tokens
  const int limit = std::min(p.max_new_tokens, room);

  std::vector<int32_t> seen(prompt.begin(), prompt.end());  // prompt + generated, for the repetition penalty
  std::span<const float> logits = decoder_.prefill(prompt, static_cast<int>(prompt.size()) + limit);
  for (int step = 0;; ++step) {
    const int32_t id = choose(logits, seen, p, static_cast<uint64_t>(step));
    if (std::find(stop_ids_.begin(), stop_ids_.end(), id) != stop_ids_.end()) {
      g.finish = FinishReason::Stop;
      return g;
    }
    g.tokens.push_back(id);
    seen.push_back(id);
    if (on_token && !on_token(id)) {
      g.finish = FinishReason::Cancelled;
      return g;
    }
    if (static_cast<int>(g.tokens.size()) == limit) {
      g.finish = FinishReason::Length;
      return g;
    }
    logits = decoder_.step(id);
  }
}

int32_t Generator::choose(std::span<const float> logits, std::span<const int32_t> seen, const SamplingParams& p,
                          uint64_t step) {
  TUNE_CHECK(std::none_of(logits.begin(), logits.end(), [](float s) { return std::isnan(s); }),
             "the model's logits are NaN at generation step ", step, "; its weights or an adapter hold NaN or inf "
             "values (check the model folder and the training run that wrote the adapter)");
  scores_.assign(logits.begin(), logits.end());
  apply_repetition_penalty(scores_, seen, p.repetition_penalty);
  if (!p.do_sample || p.temperature == 0.0f) return argmax(scores_);
  // A temperature so small that the best score overflows leaves only the argmax (the limit of temperature -> 0).
  if (std::isinf(scores_[argmax(scores_)] / p.temperature)) return argmax(scores_);
  if (p.temperature != 1.0f) apply_temperature(scores_, p.temperature);
  apply_top_k(scores_, p.top_k);
  apply_top_p(scores_, p.top_p);
  return sample_softmax(scores_, counter_uniform(splitmix64(p.seed), step));
}

std::vector<int32_t> chat_prompt_ids(const InferenceModel& model, const std::vector<Message>& messages,
                                     const std::string& system) {
  TUNE_CHECK(model.chat_template != nullptr,
             "chat needs a chat template, but the config names none; add `template: gemma` (or gemma_current, "
             "default, alpaca, empty) to the config or pass template=NAME");
  TUNE_CHECK(model.tokenizer.has_value(), "chat needs the model's tokenizer");
  TUNE_CHECK(!messages.empty() && messages.back().role == Role::User,
             "a chat prompt must end with a user message (messages alternate user/assistant, user first)");
  std::vector<Message> paired = messages;
  paired.push_back({Role::Assistant, ""});
  const std::string& sys = system.empty() ? model.plan.default_system : system;
  const std::vector<EncodedTurn> turns =
      model.chat_template->encode_multiturn(*model.tokenizer, paired, sys, model.plan.cutoff_len);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < turns.size(); ++i) {
    ids.insert(ids.end(), turns[i].source.begin(), turns[i].source.end());
    if (i + 1 < turns.size()) ids.insert(ids.end(), turns[i].target.begin(), turns[i].target.end());
  }
  TUNE_CHECK(!ids.empty(), "cutoff_len ", model.plan.cutoff_len,
             " leaves no room for the chat prompt; raise cutoff_len (LLaMA-Factory's default is 2048)");
  return ids;
}

}  // namespace tune
