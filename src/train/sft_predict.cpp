// sft predictions with the Generator (see sft_predict.h).
#include "train/sft_predict.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "infer/generator.h"
#include "infer/inference_model.h"
#include "model/batch.h"

namespace tune {

namespace {

// Python json.dumps(str, ensure_ascii=False): a JSON string with non-ASCII text kept as it is.
std::string json_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Ids past the tokenizer's vocabulary (a model vocab padded beyond it) decode to nothing, as in HF's fast tokenizers.
std::string decode(const Tokenizer& tok, std::span<const int32_t> ids, bool skip_special) {
  std::vector<int32_t> kept;
  for (const int32_t id : ids)
    if (id < tok.vocab_size() && !(skip_special && tok.is_special(id))) kept.push_back(id);
  return tok.decode(kept);
}

}  // namespace

SftPredictions sft_predict(const TrainingRun& run, std::span<const int64_t> indices) {
  const Plan& plan = run.plan;
  TUNE_CHECK(!plan.train_on_prompt, "sft do_predict finds each example's prompt by its -100 labels, but "
                                    "train_on_prompt is true; set train_on_prompt: false for the prediction run");
  const Tokenizer& tok = *run.tokenizer;
  // Stops are handled here so that the stop id stays in the output, as in HF's generated sequences.
  const std::vector<int32_t> stop_ids = generation_stop_ids(tok, run.chat_template);
  auto not_a_stop = [&](int32_t id) { return std::find(stop_ids.begin(), stop_ids.end(), id) == stop_ids.end(); };
  Generator gen(run.cfg, run.weights, &run.adapter, {});
  SamplingParams params = SamplingParams::from_plan(plan);
  const auto t0 = std::chrono::steady_clock::now();
  SftPredictions out;
  for (size_t i = 0; i < indices.size(); ++i) {
    const SupervisedExample& ex = run.data.supervised.at(static_cast<size_t>(indices[i]));
    size_t prompt_len = ex.labels.size();  // one past the last prompt position
    while (prompt_len > 0 && ex.labels[prompt_len - 1] != kIgnoreIndex) --prompt_len;
    TUNE_CHECK(prompt_len > 0, "sft do_predict: example ", indices[i], " has no prompt tokens (every label is "
                               "trained); check the dataset and cutoff_len");
    const std::span<const int32_t> ids(ex.input_ids);
    const std::span<const int32_t> prompt = ids.first(prompt_len), label = ids.subspan(prompt_len);

    params.seed = static_cast<uint64_t>(plan.seed) + i;
    const Generation g = gen.generate(prompt, params, not_a_stop);
    out.jsonl += "{\"prompt\": " + json_string(tok.decode(prompt)) + ", \"predict\": " +
                 json_string(decode(tok, g.tokens, plan.skip_special_tokens)) + ", \"label\": " +
                 json_string(decode(tok, label, plan.skip_special_tokens)) + "}\n";
    std::fprintf(stderr, "\rpredict %zu/%zu", i + 1, indices.size());
  }
  std::fprintf(stderr, "\n");
  out.run.runtime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.run.num_samples = static_cast<int64_t>(indices.size());
  const int64_t batch = plan.per_device_eval_batch_size;
  out.run.num_steps = (out.run.num_samples + batch - 1) / batch;
  return out;
}

}  // namespace tune
