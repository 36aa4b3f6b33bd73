// Dev-side probe against libllama (built by tools/llamacpp_check.sh, not part of tune's build): the logits of the last
// prompt position and a greedy continuation for given token ids, optionally with a LoRA adapter GGUF, as one JSON line.
// usage: llamacpp-logits MODEL.gguf --tokens 1,2,3 [--lora ADAPTER.gguf] [--scale S] [--greedy N] [--threads N]
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "llamacpp-logits: %s\n", what.c_str());
    std::exit(2);
}

std::vector<llama_token> parse_ids(const std::string& csv) {
    std::vector<llama_token> ids;
    std::stringstream in(csv);
    std::string item;
    while (std::getline(in, item, ',')) ids.push_back(static_cast<llama_token>(std::stol(item)));
    if (ids.empty()) fail("--tokens is empty");
    return ids;
}

llama_token argmax(const float* logits, int n_vocab) {
    int best = 0;
    for (int i = 1; i < n_vocab; ++i)
        if (logits[i] > logits[best]) best = i;
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: llamacpp-logits MODEL.gguf --tokens 1,2,3 [--lora A.gguf] [--scale S] [--greedy N]");
    std::string model_path = argv[1], lora_path, tokens_csv;
    float scale = 1.0f;
    int greedy = 0, threads = 2;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string key = argv[i];
        if (key == "--tokens") tokens_csv = argv[i + 1];
        else if (key == "--lora") lora_path = argv[i + 1];
        else if (key == "--scale") scale = std::strtof(argv[i + 1], nullptr);
        else if (key == "--greedy") greedy = std::atoi(argv[i + 1]);
        else if (key == "--threads") threads = std::atoi(argv[i + 1]);
        else fail("unknown option " + key);
    }
    std::vector<llama_token> prompt = parse_ids(tokens_csv);

    llama_backend_init();
    llama_model* model = llama_model_load_from_file(model_path.c_str(), llama_model_default_params());
    if (!model) fail("cannot load " + model_path);
    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx = static_cast<uint32_t>(prompt.size() + greedy + 8);
    cparams.n_batch = cparams.n_ctx;
    cparams.n_threads = cparams.n_threads_batch = threads;
    llama_context* ctx = llama_init_from_model(model, cparams);
    if (!ctx) fail("cannot create a context");
    if (!lora_path.empty()) {
        llama_adapter_lora* lora = llama_adapter_lora_init(model, lora_path.c_str());
        if (!lora) fail("cannot load the LoRA adapter " + lora_path);
        if (llama_set_adapters_lora(ctx, &lora, 1, &scale) != 0) fail("cannot set the LoRA adapter");
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    if (llama_decode(ctx, llama_batch_get_one(prompt.data(), static_cast<int32_t>(prompt.size()))) != 0)
        fail("decode failed");
    std::vector<float> last(llama_get_logits_ith(ctx, -1), llama_get_logits_ith(ctx, -1) + n_vocab);  // [V]
    std::vector<llama_token> continuation;
    llama_token next = argmax(last.data(), n_vocab);
    for (int step = 0; step < greedy; ++step) {
        continuation.push_back(next);
        if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) fail("decode failed");
        next = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
    }

    std::printf("{\"n_vocab\": %d, \"greedy\": [", n_vocab);
    for (size_t i = 0; i < continuation.size(); ++i) std::printf("%s%d", i ? ", " : "", continuation[i]);
    std::printf("], \"logits\": [");
    for (int i = 0; i < n_vocab; ++i) std::printf("%s%.7g", i ? ", " : "", last[i]);
    std::printf("]}\n");
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
