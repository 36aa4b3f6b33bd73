// Dev-side probe (tools/llamacpp_check.sh): the logits of the last prompt position and a greedy continuation for given
// token ids, on a model (HF folder or GGUF, fp32) with PEFT adapters merged in order as tune export merges them, as one
// JSON line in the format of tools/llamacpp_logits.cpp, so the two engines are compared on the same ids (no tokenizer
// involved). Not a test.
// usage: logits_probe --tokens 1,2,3 [--greedy N] [--threads N] MODEL [ADAPTER_DIR ...]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "infer/kv_decoder.h"
#include "infer/sampling.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"
#include "model/merge.h"

int main(int argc, char** argv) try {
  std::vector<int32_t> prompt;
  int greedy = 0, threads = 0, arg = 1;
  for (; arg + 1 < argc && std::string(argv[arg]).rfind("--", 0) == 0; arg += 2) {
    const std::string key = argv[arg];
    if (key == "--tokens") {
      std::stringstream in(argv[arg + 1]);
      for (std::string item; std::getline(in, item, ',');) prompt.push_back(std::stoi(item));
    } else if (key == "--greedy") {
      greedy = std::atoi(argv[arg + 1]);
    } else if (key == "--threads") {
      threads = std::atoi(argv[arg + 1]);
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (arg >= argc || prompt.empty()) {
    std::fprintf(stderr, "usage: logits_probe --tokens 1,2,3 [--greedy N] [--threads N] MODEL [ADAPTER_DIR ...]\n");
    return 2;
  }
  tune::apply_threads(threads);
  const tune::ModelConfig cfg = tune::load_model_config(argv[arg]);
  tune::ModelWeights weights = tune::load_model_weights(argv[arg], cfg);
  for (int a = arg + 1; a < argc; ++a) tune::merge_lora(weights, tune::load_peft_adapter(argv[a], cfg));
  tune::KvDecoder dec(cfg, weights, nullptr);
  std::span<const float> logits = dec.prefill(prompt, static_cast<int>(prompt.size()) + greedy);
  const std::vector<float> last(logits.begin(), logits.end());  // [V]
  std::vector<int32_t> continuation;
  for (int i = 0; i < greedy; ++i) {
    continuation.push_back(tune::argmax(logits));
    if (i + 1 < greedy) logits = dec.step(continuation.back());
  }
  std::printf("{\"n_vocab\": %zu, \"greedy\": [", last.size());
  for (size_t i = 0; i < continuation.size(); ++i) std::printf("%s%d", i ? ", " : "", continuation[i]);
  std::printf("], \"logits\": [");
  for (size_t i = 0; i < last.size(); ++i) std::printf("%s%.7g", i ? ", " : "", last[i]);
  std::printf("]}\n");
  return 0;
} catch (const tune::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}
