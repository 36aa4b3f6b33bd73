// Text generation with the KV-cache decoder: greedy or sampled continuations of a prompt, streamed token by token,
// with the adapter as a LoRA branch or merged (whatever the InferenceModel holds), and LLaMA-Factory ChatModel's
// chat prompt.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "config/plan.h"
#include "infer/inference_model.h"
#include "infer/kv_decoder.h"
#include "text/template.h"

namespace tune {

struct SamplingParams {
  bool do_sample = true;  // false (or temperature 0): greedy argmax after the repetition penalty
  float temperature = 0.95f;
  float top_p = 0.7f;
  int top_k = 50;  // 0 = no top-k filter
  float repetition_penalty = 1.0f;
  int max_new_tokens = 1024;
  uint64_t seed = 0;  // sampling draws depend only on (seed, step): the same seed gives the same tokens
  static SamplingParams from_plan(const Plan& plan);  // LF generation keys + seed
};

enum class FinishReason { Stop, Length, Cancelled };  // stop id / max_new_tokens or context end / on_token false

struct Generation {
  std::vector<int32_t> tokens;  // the new tokens, without the stop id
  FinishReason finish = FinishReason::Length;
};

// One per thread; borrows the model, which must outlive it. Sampling draws come from the project's counter-based
// RNG (kernels/counter_rng.h), so sampled text is reproducible for a seed but differs from torch.multinomial's.
class Generator {
 public:
  explicit Generator(const InferenceModel& model);  // stop ids: model.stop_ids() (none without a tokenizer)
  Generator(const InferenceModel& model, std::vector<int32_t> stop_ids);
  // The parts themselves (e.g. a model being trained); adapter (a LoRA branch) may be null.
  Generator(const ModelConfig& cfg, const ModelWeights& weights, const LoraAdapter* adapter,
            std::vector<int32_t> stop_ids);

  // New tokens after `prompt` until a stop id, max_new_tokens, or the context length (max_position_embeddings).
  // on_token(id) is called for each new token as soon as it is chosen (streaming; never for the stop id); returning
  // false stops generation with FinishReason::Cancelled (that token is kept). A prompt that already fills the
  // context gives no tokens and FinishReason::Length. Bad parameters or token ids -> tune::Error.
  Generation generate(std::span<const int32_t> prompt, const SamplingParams& p,
                      const std::function<bool(int32_t)>& on_token = {});

  const std::vector<int32_t>& stop_ids() const { return stop_ids_; }

 private:
  int32_t choose(std::span<const float> logits, std::span<const int32_t> seen, const SamplingParams& p,
                 uint64_t step);

  const ModelConfig& cfg_;
  std::vector<int32_t> stop_ids_;
  KvDecoder decoder_;
  std::vector<float> scores_;  // [V] the logits being processed
};

// LF ChatModel's prompt: template.encode_oneturn(messages + empty assistant, system) -> prompt ids, i.e. every turn's
// source and target, then the last user turn's source. messages alternate user/assistant and end with a user
// message; system empty = plan.default_system, else the template's default. The conversation is cut to
// plan.cutoff_len as the template's encode_multiturn does. Errors: no template in the plan, bad message order,
// a cutoff_len that leaves no prompt token.
std::vector<int32_t> chat_prompt_ids(const InferenceModel& model, const std::vector<Message>& messages,
                                     const std::string& system);

}  // namespace tune
