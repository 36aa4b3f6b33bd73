// KvDecoder: the decoder run incrementally for generation — one sequence (batch 1), a per-layer K/V cache of
// post-RoPE keys and values, and logits for the newest position only. The layer math is the training forward's
// (model/block.h, driven by the same ModelSpec): the same ops, RoPE tables, activation, scales, windows, soft-caps,
// LoRA branch and LM head, in fp32.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "model/block.h"
#include "model/lora.h"
#include "model/lora_linear.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

class KvDecoder {
 public:
  // Borrows everything; adapter may be null (no LoRA branch: base or merged weights).
  KvDecoder(const ModelConfig& cfg, const ModelWeights& weights, const LoraAdapter* adapter);

  // Starts a new sequence with room for `capacity` positions (>= ids.size()), runs the prompt ids through every
  // layer at once and returns the logits [V] of its last position. Valid until the next call.
  std::span<const float> prefill(std::span<const int32_t> ids, int capacity);
  // Appends one token at position length() and returns its logits [V]. Error when the capacity is used up.
  std::span<const float> step(int32_t id);
  int length() const { return len_; }  // positions held in the cache

 private:
  // Runs ids at positions len_ .. len_+n-1 (n > 1 only from an empty cache) and fills logits_.
  void run(std::span<const int32_t> ids);
  void layer(int l, int n);
  const LoraModule* lora(int l, Proj p) const;

  const ModelConfig& cfg_;
  const ModelWeights& w_;
  const LoraAdapter* adapter_;

  int capacity_ = 0, len_ = 0;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [capacity, Nkv, D], post-RoPE keys
  RopeTables rope_;                                    // per layer [capacity, D/2]

  // Activations of the tokens being run, [n, ...]; grown on demand, reused.
  std::vector<float> x_, ln_, q_, q_pre_, k_pre_, attn_, o_, h1_, gate_, up_, act_, down_;
  std::vector<float> probs_;   // [Nq, n, n] prefill attention probabilities
  std::vector<float> scores_;  // [Nq, T] decode attention scores
  std::vector<float> final_;   // [H] final-normed hidden state of the last position
  std::vector<float> rstd_, rstd2_, q_rstd_, k_rstd_;  // [n], [n], [n*Nq], [n*Nkv]
  std::vector<float> logits_;  // [V]
  LoraLinearCache lora_cache_;
  LoraScratch lora_scratch_;
};

}  // namespace tune
