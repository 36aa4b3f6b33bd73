// Benchmark: greedy KV-cache decode tokens/s of the model a config names (a GGUF or an HF folder, adapters merged as
// tune chat merges them), measured as llama-bench's `-p 0 -n N` test: N single-token evaluations from an empty
// cache, the first token the bos. Median of 3 runs after a warm-up; one JSON line. Not a test.
// usage: gguf_decode [--new 64] CONFIG.yaml [key=value ...]     (threads=N sets the team, as in tune chat)
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/plan.h"
#include "core/error.h"
#include "core/threads.h"
#include "infer/inference_model.h"
#include "infer/kv_decoder.h"
#include "infer/sampling.h"

namespace {

using Clock = std::chrono::steady_clock;

// Seconds for n single-token evaluations starting at position 0 (greedy: each next id is the argmax).
double decode_seconds(tune::KvDecoder& dec, int32_t first, int n) {
  const auto t0 = Clock::now();
  int32_t id = first;
  std::span<const float> logits = dec.prefill(std::span<const int32_t>(&id, 1), n);
  for (int i = 1; i < n; ++i) logits = dec.step(tune::argmax(logits));
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  int n_new = 64;
  int arg = 1;
  if (arg + 1 < argc && std::string(argv[arg]) == "--new") {
    n_new = std::atoi(argv[arg + 1]);
    arg += 2;
  }
  if (arg >= argc || n_new < 2) {
    std::fprintf(stderr, "usage: gguf_decode [--new N>=2] CONFIG.yaml [key=value ...]\n");
    return 2;
  }
  const std::string config = argv[arg++];
  const tune::Plan plan = tune::load_plan(config, std::vector<std::string>(argv + arg, argv + argc));
  const int threads = tune::apply_threads(plan.threads);
  const tune::InferenceModel m = tune::load_inference_model(plan);
  const int32_t bos = m.tokenizer->bos_id() >= 0 ? m.tokenizer->bos_id() : m.cfg.bos_token_id;
  tune::KvDecoder dec(m.cfg, m.weights, m.adapter ? &*m.adapter : nullptr);
  decode_seconds(dec, bos, n_new);  // warm-up
  std::vector<double> rates;
  for (int run = 0; run < 3; ++run) rates.push_back(n_new / decode_seconds(dec, bos, n_new));
  std::sort(rates.begin(), rates.end());
  std::printf("{\"bench\": \"gguf_decode\", \"model\": \"%s\", \"threads\": %d, \"new\": %d, "
              "\"decode_tokens_per_s\": %.2f, \"runs_tokens_per_s\": [%.2f, %.2f, %.2f]}\n",
              plan.model_name_or_path.c_str(), threads, n_new, rates[1], rates[0], rates[1], rates[2]);
  return 0;
} catch (const tune::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}
