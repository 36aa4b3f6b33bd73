// The memory a run's model takes, by kind of buffer: projections kept as GGML blocks (per type), fp32 weights
// (embedding, norms, biases, LM head, dense projections), the trainable state (LoRA / value-head masters, their
// gradients, AdamW's two moments: 4 fp32 copies) and an estimate of the activations one micro-batch saves for backward.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "model/lora.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

struct MemoryPlan {
  std::map<std::string, int64_t> kept_bytes;  // GGML type name -> bytes of the projections kept in it
  int64_t fp32_linear_bytes = 0;              // projections held dense in fp32
  int64_t fp32_other_bytes = 0;               // embedding, LM head, norms, biases (always fp32)
  int64_t trainable_bytes = 0;                // 4 x 4 bytes per trainable parameter (0 without training)
  int64_t activation_bytes = 0;               // saved per micro-batch of `rows` x `seq_len` (0 without training)
  int64_t params = 0;                         // parameters of the base model (kept ones included)

  int64_t weight_bytes() const;  // kept + fp32
  int64_t total_bytes() const;
};

// The weights' part (kept_bytes, fp32_*_bytes, params) of the plan.
MemoryPlan memory_plan(const ModelConfig& cfg, const ModelWeights& w);

// What training adds: 4 fp32 copies of each trainable parameter (LoRA and value-head masters, gradients, AdamW m, v),
// and the activations GemmaModel saves for backward (model/gemma.h LayerActs, for the spec's flags, plus the LoRA
// u = A·x of every module of `adapter`) for a micro-batch of rows x seq_len (rows as the model sees them: pairs
// count twice).
void add_training(MemoryPlan& plan, const ModelConfig& cfg, const LoraAdapter& adapter, int64_t trainable_params,
                  int64_t rows, int64_t seq_len);

// "weights 97.3 MiB (Q4_1 52.1 MiB kept, fp32 45.2 MiB: ...)" lines for the console, each starting with `indent`.
std::string format_memory_plan(const MemoryPlan& plan, const std::string& indent = "  ");

}  // namespace tune
