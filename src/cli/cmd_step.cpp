// `tune step MODEL_DIR`: one or more forward+backward passes of the LoRA model on synthetic tokens — a quick check
// that a model folder and an adapter load and train, with loss, gradient norms and speed.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"
#include "model/gemma.h"
#include "train/rm_loss.h"

namespace tune::cli {

namespace {

LoraConfig lora_from_options(const ParsedArgs& a) {
  LoraConfig c;
  c.r = a.integer("lora-r");
  TUNE_CHECK(c.r > 0, "--lora-r must be positive, got ", c.r);
  c.lora_alpha = a.has("lora-alpha") ? static_cast<float>(a.number("lora-alpha")) : 2.0f * c.r;
  const std::string targets = a.str("lora-target");
  if (targets == "all") {
    c.target_modules.assign(kProjNames.begin(), kProjNames.end());
  } else {
    std::stringstream s(targets);
    for (std::string t; std::getline(s, t, ',');) {
      bool known = false;
      for (auto name : kProjNames) known |= name == t;
      TUNE_CHECK(known, "--lora-target: unknown module '", t,
                 "'; use 'all' or a comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj");
      c.target_modules.push_back(t);
    }
  }
  return c;
}

double grad_norm(const LoraAdapter& adapter, const ValueHead* head) {
  double s = 0.0;
  auto add = [&](const Tensor& t) {
    for (float g : t.data) s += static_cast<double>(g) * g;
  };
  for (const auto& layer : adapter.layers)
    for (const auto& m : layer)
      if (m) add(m->dA), add(m->dB);
  if (head) add(head->dweight), add(head->dbias);
  return std::sqrt(s);
}

Batch synthetic_batch(const ModelConfig& cfg, int B, int T, uint64_t seed) {
  Batch b;
  b.B = B, b.T = T;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> tok(3, cfg.vocab_size - 1);
  for (int i = 0; i < B * T; ++i) b.input_ids.push_back(i % T == 0 ? cfg.bos_token_id : tok(rng));
  b.attention_mask.assign(static_cast<size_t>(B) * T, 1);
  b.labels = b.input_ids;
  return b;
}

int run_step(const ParsedArgs& a) {
  const std::string dir = a.positional[0];
  const ModelConfig cfg = load_model_config(dir, a.flag("exact-gelu"));
  const ModelWeights w = load_model_weights(dir, cfg);
  const uint64_t seed = static_cast<uint64_t>(a.integer("seed"));
  LoraAdapter adapter = a.has("adapter") ? load_peft_adapter(a.str("adapter"), cfg)
                                         : init_lora(cfg, lora_from_options(a), seed);
  const std::string head_kind = a.str("head");
  TUNE_CHECK(head_kind == "lm" || head_kind == "value", "--head must be lm or value, got '", head_kind, "'");
  const bool value = head_kind == "value";
  ValueHead head = init_value_head(cfg.hidden_size, seed + 1);
  const int B = a.integer("batch"), T = a.integer("seq"), iters = a.integer("iters");
  TUNE_CHECK(B > 0 && T > 1 && iters > 0, "--batch, --seq (> 1) and --iters must be positive");
  TUNE_CHECK(!value || B % 2 == 0, "--head value pairs rows (chosen, rejected): --batch must be even, got ", B);

  GemmaModel model(cfg, w, &adapter, value ? &head : nullptr);
  std::printf("model %s: %d layers, hidden %d; LoRA r %d on %zu module kinds, %lld trainable parameters\n",
              dir.c_str(), cfg.num_layers, cfg.hidden_size, adapter.config.r, adapter.config.target_modules.size(),
              static_cast<long long>(adapter.num_params() + (value ? head.weight.numel() + 1 : 0)));
  for (int it = 0; it < iters; ++it) {
    const Batch batch = synthetic_batch(cfg, B, T, seed + 100 + it);
    adapter.zero_grad();
    head.zero_grad();
    const auto t0 = std::chrono::steady_clock::now();
    model.forward(batch, ForwardOptions{.training = true, .dropout_seed = seed + it});
    double loss = 0.0;
    if (value) {
      Tensor dvalues;
      loss = rm_last_token_loss(model.values(), batch, &dvalues).loss;
      model.values_backward(dvalues);
    } else {
      const int64_t valid = static_cast<int64_t>(B) * (T - 1);
      loss = model.lm_head_loss(1.0f / static_cast<float>(valid)).mean();
    }
    model.backward();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("step %d: %s loss %.6f, grad norm %.6g, %.1f ms, %.0f tokens/s\n", it + 1,
                value ? "reward" : "lm", loss, grad_norm(adapter, value ? &head : nullptr), s * 1e3, B * T / s);
  }
  return 0;
}

}  // namespace

const CommandSpec& step_command() {
  static const CommandSpec spec{
      "step",
      "run forward+backward passes of a LoRA model on synthetic tokens (loss, gradient norm, speed)",
      "tune step MODEL_DIR [options]",
      "Loads MODEL_DIR (HF folder) and either --adapter (a PEFT folder) or a fresh LoRA adapter with PEFT's init,\n"
      "then runs --iters forward+backward passes on random tokens. --head lm uses the causal-LM loss; --head value\n"
      "uses a value head and the pairwise reward loss on (first half = chosen, second half = rejected) rows.",
      {{"adapter", "DIR", "PEFT adapter folder to train instead of a fresh one", ""},
       {"lora-target", "LIST", "modules for a fresh adapter: all or a comma list", "all"},
       {"lora-r", "N", "LoRA rank for a fresh adapter", "8"},
       {"lora-alpha", "X", "LoRA alpha for a fresh adapter (default 2 x rank)", ""},
       {"head", "KIND", "lm or value", "lm"},
       {"batch", "N", "rows per micro-batch", "2"},
       {"seq", "N", "tokens per row", "64"},
       {"iters", "N", "forward+backward passes", "3"},
       {"seed", "N", "random seed", "42"},
       {"exact-gelu", "", "use exact erf GELU (HF 4.38 behaviour)", ""}},
      1,
      1,
      run_step};
  return spec;
}

}  // namespace tune::cli
