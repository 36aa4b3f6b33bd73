// Benchmark: KV-cache generation speed on the CPU for a Gemma-shaped random model — prefill tokens/s and greedy decode
// tokens/s, with the LoRA adapter as a branch (unmerged) and without one (base or merged). Prints one JSON line per
// case. Not a test.
// usage: cpu_decode [--hidden 512 --layers 8 --heads 8 --kv-heads 1 --head-dim 64 --intermediate 2048 --vocab 32000
//                    --prompt 128 --new 128 --lora-r 8]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "infer/generator.h"
#include "model/lora.h"
#include "model/random_init.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, int> opt = {{"hidden", 512},        {"layers", 8},     {"heads", 8},   {"kv-heads", 1},
                                    {"head-dim", 64},       {"intermediate", 2048}, {"vocab", 32000},
                                    {"prompt", 128},        {"new", 128},      {"lora-r", 8}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || !opt.count(key.substr(2))) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    opt[key.substr(2)] = std::atoi(argv[i + 1]);
  }
  tune::InferenceModel m;
  m.cfg = tune::gemma_spec_defaults();
  m.cfg.hidden_size = opt["hidden"];
  m.cfg.num_layers = opt["layers"];
  m.cfg.num_heads = opt["heads"];
  m.cfg.num_kv_heads = opt["kv-heads"];
  m.cfg.head_dim = opt["head-dim"];
  m.cfg.intermediate_size = opt["intermediate"];
  m.cfg.vocab_size = opt["vocab"];
  m.cfg.max_position_embeddings = opt["prompt"] + opt["new"];
  tune::finish_gemma_spec(m.cfg);
  m.weights = tune::random_weights(m.cfg, 1);
  tune::LoraConfig lc;
  lc.r = opt["lora-r"];
  lc.lora_alpha = 2.0f * lc.r;
  lc.target_modules.assign(tune::kProjNames.begin(), tune::kProjNames.end());
  tune::LoraAdapter adapter = tune::init_lora(m.cfg, lc, 2);
  for (auto& layer : adapter.layers)  // non-zero B: the branch changes the output
    for (auto& mod : layer)
      if (mod) mod->B.data.assign(mod->B.data.size(), 0.01f);

  std::vector<int32_t> prompt(static_cast<size_t>(opt["prompt"]));
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(3 + (i * 7919) % (m.cfg.vocab_size - 3));
  tune::SamplingParams p;
  p.do_sample = false;
  p.max_new_tokens = opt["new"];

  for (const bool branch : {false, true}) {
    if (branch) m.adapter = adapter;
    tune::Generator gen(m, {});
    gen.generate(prompt, p);  // warm-up
    // Median over 3 runs of the prefill time (start to the first token) and the decode rate (first to last token).
    std::vector<double> prefill, decode;
    size_t n_new = 0;
    for (int run = 0; run < 3; ++run) {
      const auto t0 = Clock::now();
      Clock::time_point first, last;
      const tune::Generation g = gen.generate(prompt, p, [&](int32_t) {
        last = Clock::now();
        if (first == Clock::time_point()) first = last;
        return true;
      });
      n_new = g.tokens.size();
      prefill.push_back(prompt.size() / std::chrono::duration<double>(first - t0).count());
      decode.push_back((n_new - 1) / std::chrono::duration<double>(last - first).count());
    }
    std::printf(
        "{\"bench\": \"cpu_decode\", \"lora\": \"%s\", \"threads\": %d, \"hidden\": %d, \"layers\": %d, "
        "\"vocab\": %d, \"prompt\": %zu, \"new\": %zu, \"prefill_tokens_per_s\": %.1f, "
        "\"decode_tokens_per_s\": %.1f}\n",
        branch ? "branch" : "none", omp_get_max_threads(), m.cfg.hidden_size, m.cfg.num_layers, m.cfg.vocab_size,
        prompt.size(), n_new, median(prefill), median(decode));
  }
  return 0;
}
