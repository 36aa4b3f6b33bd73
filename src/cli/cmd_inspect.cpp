// `tune inspect MODEL_DIR [--adapter DIR] [--template NAME]`: loads and validates a model, its tokenizer (and an
// adapter, a template) with the checks train runs, and prints what it found.
#include <cstdio>

#include "cli/commands.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"
#include "text/template.h"
#include "text/tokenizer.h"

namespace tune::cli {

namespace {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::GeluExact: return "gelu (exact erf)";
    case Activation::GeluTanh: return "gelu (tanh)";
    case Activation::Silu: return "silu";
  }
  return "?";
}

int run_inspect(const ParsedArgs& a) {
  const std::string dir = a.positional[0];
  check_model_path(dir, "tune inspect");
  const ModelConfig cfg = load_model_config(dir, a.flag("exact-gelu"));
  const ModelWeights w = load_model_weights(dir, cfg);
  int64_t params = 0;
  visit_weights(cfg, w, [&](const std::string&, const Tensor& t, const Shape&, WeightRole) { params += t.numel(); });
  std::printf("model %s: %s, vocab %d, hidden %d, intermediate %d, %d layers, %d heads / %d kv heads x %d,\n"
              "  rope_theta %g, rms_norm_eps %g, %s, stored as %s, %lld parameters (%s)\n",
              dir.c_str(), cfg.model_type.c_str(), cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size,
              cfg.num_layers, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.rope_theta, cfg.rms_norm_eps,
              activation_name(cfg.activation), std::string(dtype_name(cfg.torch_dtype)).c_str(),
              static_cast<long long>(params), cfg.tie_word_embeddings ? "embeddings tied" : "untied LM head");
  const Tokenizer tok = load_model_tokenizer_of(dir, cfg.vocab_size, !a.flag("slow-tokenizer"));
  std::printf("tokenizer %s: %d tokens, bos %d, eos %d, pad %d, unk %d\n", tok.source_file(), tok.vocab_size(),
              tok.bos_id(), tok.eos_id(), tok.pad_id(), tok.unk_id());
  if (a.has("template")) {
    const Template& t = Template::get(a.str("template"));
    std::string stops;
    for (const int32_t id : t.stop_ids(tok)) stops += (stops.empty() ? "" : ", ") + tok.id_to_piece(id);
    std::printf("template %s: eos %d (%s), stops at %s\n", t.name().c_str(), t.eos_id(tok),
                tok.id_to_piece(t.eos_id(tok)).c_str(), stops.c_str());
  }
  if (!a.has("adapter")) return 0;
  const std::string adir = a.str("adapter");
  const LoraAdapter adapter = load_peft_adapter(adir, cfg);
  int modules = 0;
  for (const auto& layer : adapter.layers)
    for (const auto& m : layer) modules += m.has_value();
  std::printf("adapter %s: LoRA r %d, alpha %g, dropout %g%s, %d modules, %lld trainable parameters\n", adir.c_str(),
              adapter.config.r, adapter.config.lora_alpha, adapter.config.lora_dropout,
              adapter.config.use_rslora ? ", rslora" : "", modules, static_cast<long long>(adapter.num_params()));
  return 0;
}

}  // namespace

const CommandSpec& inspect_command() {
  static const CommandSpec spec{
      "inspect",
      "load and validate an HF model folder or a GGUF file (weights, tokenizer; a PEFT adapter, a template) and print "
      "what it holds",
      "tune inspect MODEL_DIR|MODEL.gguf [--adapter ADAPTER_DIR] [--template NAME]",
      "",
      {{"adapter", "DIR", "PEFT adapter folder to load and check against the model", ""},
       {"template", "NAME", "chat template to check against the tokenizer (its eos and stop words)", ""},
       {"slow-tokenizer", "", "read tokenizer.model even when tokenizer.json is there (use_fast_tokenizer: false)", ""},
       {"exact-gelu", "", "use exact erf GELU (HF 4.38 behaviour) instead of the tanh approximation", ""}},
      1,
      1,
      run_inspect};
  return spec;
}

}  // namespace tune::cli
