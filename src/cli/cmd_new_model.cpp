// `tune new-model OUT_DIR`: writes a small random Gemma model as an HF folder (config.json + model.safetensors).
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "io/hf_config_write.h"
#include "io/hf_weights.h"
#include "model/random_init.h"

namespace tune::cli {

namespace {

int run_new_model(const ParsedArgs& a) {
  ModelConfig cfg = gemma_spec_defaults();
  cfg.vocab_size = a.integer("vocab");
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
  finish_gemma_spec(cfg);
  const std::string out = a.positional[0];
  const ModelWeights w = random_weights(cfg, static_cast<uint64_t>(a.integer("seed")));
  save_hf_weights(out, cfg, w, cfg.torch_dtype);
  save_hf_config(out, cfg);
  std::printf("wrote a random Gemma model to %s (vocab %d, hidden %d, %d layers, %d heads / %d kv heads x %d, %s)\n",
              out.c_str(), cfg.vocab_size, cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.num_kv_heads,
              cfg.head_dim, dtype.c_str());
  return 0;
}

}  // namespace

const CommandSpec& new_model_command() {
  static const CommandSpec spec{
      "new-model",
      "write a small random Gemma model (HF folder) for demos, tests and benchmarks",
      "tune new-model OUT_DIR [options]",
      "Weights are N(0, 0.02) with N(0, 0.1) RMSNorm offsets, deterministic in --seed. The folder loads in tune.cpp\n"
      "and in HF transformers (GemmaForCausalLM).",
      {{"vocab", "N", "vocabulary size", "320"},
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
