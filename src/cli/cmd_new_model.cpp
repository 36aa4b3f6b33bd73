// `tune new-model OUT_DIR`: writes a small random Gemma model as an HF folder (config.json + model.safetensors, and
// the tokenizer files of --tokenizer DIR).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/commands.h"
#include "core/error.h"
#include "export/model_dir_files.h"
#include "io/hf_config_write.h"
#include "io/hf_weights.h"
#include "model/random_init.h"
#include "text/tokenizer.h"

namespace tune::cli {

namespace {

int run_new_model(const ParsedArgs& a) {
  namespace fs = std::filesystem;
  const std::string out = a.positional[0];
  std::optional<Tokenizer> tokenizer;
  if (a.has("tokenizer")) {
    const fs::path dir = a.str("tokenizer");
    TUNE_CHECK(fs::is_regular_file(dir / "tokenizer.json") || fs::is_regular_file(dir / "tokenizer.model"),
               "--tokenizer ", dir.string(),
               " has neither tokenizer.json nor tokenizer.model; give a folder holding an HF tokenizer.json or a "
               "SentencePiece tokenizer.model (and its tokenizer_config.json), for example examples/age_bias/model");
    tokenizer = Tokenizer::load(dir);
  }
  ModelConfig cfg;
  cfg.model_type = "gemma";
  cfg.vocab_size = a.has("vocab") ? a.integer("vocab") : tokenizer ? tokenizer->vocab_size() : 320;
  if (tokenizer) {
    TUNE_CHECK(cfg.vocab_size >= tokenizer->vocab_size(), "--vocab ", cfg.vocab_size, " is smaller than the ",
               "tokenizer's ", tokenizer->vocab_size(), " tokens; leave --vocab out to use the tokenizer's size");
    // config.json names the tokenizer's special ids (Gemma's are pad 0, eos 1, bos 2)
    if (tokenizer->pad_id() >= 0) cfg.pad_token_id = tokenizer->pad_id();
    if (tokenizer->eos_id() >= 0) cfg.eos_token_id = tokenizer->eos_id();
    if (tokenizer->bos_id() >= 0) cfg.bos_token_id = tokenizer->bos_id();
  }
  cfg.hidden_size = a.integer("hidden");
  cfg.intermediate_size = a.integer("intermediate");
  cfg.num_layers = a.integer("layers");
  cfg.num_heads = a.integer("heads");
  cfg.num_kv_heads = a.integer("kv-heads");
  cfg.head_dim = a.integer("head-dim");
  const std::string dtype = a.str("dtype");
  TUNE_CHECK(dtype == "f32" || dtype == "bf16" || dtype == "f16", "--dtype must be f32, bf16 or f16, got '", dtype, "'");
  cfg.torch_dtype = dtype == "bf16" ? DType::BF16 : dtype == "f16" ? DType::F16 : DType::F32;
  TUNE_CHECK(cfg.vocab_size > 3 && cfg.hidden_size > 0 && cfg.intermediate_size > 0 && cfg.num_layers > 0 &&
                 cfg.num_heads > 0 && cfg.num_kv_heads > 0 && cfg.head_dim > 0,
             "model sizes must be positive (and --vocab > 3 for the special tokens)");
  TUNE_CHECK(cfg.num_heads % cfg.num_kv_heads == 0, "--heads (", cfg.num_heads, ") must be a multiple of --kv-heads (",
             cfg.num_kv_heads, ")");
  TUNE_CHECK(cfg.head_dim % 2 == 0, "--head-dim must be even for RoPE, got ", cfg.head_dim);
  const ModelWeights w = random_weights(cfg, static_cast<uint64_t>(a.integer("seed")));
  save_hf_weights(out, cfg, w, cfg.torch_dtype);
  save_hf_config(out, cfg);
  std::error_code same;  // --tokenizer OUT_DIR: the files are there already
  if (tokenizer && !fs::equivalent(a.str("tokenizer"), out, same)) copy_tokenizer_files(a.str("tokenizer"), out);
  std::printf("wrote a random Gemma model to %s (vocab %d, hidden %d, %d layers, %d heads / %d kv heads x %d, %s)\n",
              out.c_str(), cfg.vocab_size, cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.num_kv_heads,
              cfg.head_dim, dtype.c_str());
  if (tokenizer) {
    std::printf("with the tokenizer of %s (%d tokens): the folder trains, chats and serves with a template such as "
                "gemma\n", a.str("tokenizer").c_str(), tokenizer->vocab_size());
  } else if (!fs::exists(fs::path(out) / "tokenizer.model")) {
    std::printf("no tokenizer: training, chat and scoring need one; run again with --tokenizer DIR (a folder with a "
                "SentencePiece tokenizer.model, such as examples/age_bias/model or an HF Gemma model), or copy "
                "tokenizer.model, tokenizer_config.json and special_tokens_map.json into %s (--vocab at least the "
                "tokenizer's size)\n", out.c_str());
  }
  return 0;
}

}  // namespace

const CommandSpec& new_model_command() {
  static const CommandSpec spec{
      "new-model",
      "write a small random Gemma model (HF folder) for demos, tests and benchmarks",
      "tune new-model OUT_DIR [options]",
      "Weights are N(0, 0.02) with N(0, 0.1) RMSNorm offsets, deterministic in --seed. The folder loads in tune.cpp\n"
      "and in HF transformers (GemmaForCausalLM). With --tokenizer DIR the tokenizer files of DIR (tokenizer.model,\n"
      "tokenizer_config.json, special_tokens_map.json, ...) are copied in, config.json takes its special token ids\n"
      "and --vocab defaults to its size, so the folder trains with a template; without it the folder has no\n"
      "tokenizer (tune inspect and tune step need none) and the command says how to add one.",
      {{"vocab", "N", "vocabulary size (default: the tokenizer's size with --tokenizer, else 320)", ""},
       {"tokenizer", "DIR", "copy the tokenizer of this folder (e.g. examples/age_bias/model)", ""},
       {"hidden", "N", "hidden size", "64"},
       {"intermediate", "N", "MLP intermediate size", "128"},
       {"layers", "N", "decoder layers", "2"},
       {"heads", "N", "attention heads", "4"},
       {"kv-heads", "N", "key/value heads (1 = MQA)", "1"},
       {"head-dim", "N", "head dimension", "16"},
       {"dtype", "T", "storage dtype: f32, bf16 or f16", "f32"},
       {"seed", "N", "random seed", "0"}},
      1,
      1,
      run_new_model};
  return spec;
}

}  // namespace tune::cli
