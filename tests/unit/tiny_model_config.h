// The tiny Gemma shape the I/O and LoRA unit tests share: V=16, H=8, I=12, L=2, Nq=2, Nkv=1, D=6, so Nq*D = 12 != H
// and the q/o shapes are told apart. f32 bytes: embed 512; per layer input/post norms 32, q 384, k 192, v 192,
// o 384, gate/up/down 384; final norm 32.
#pragma once
#include "model/model_config.h"

namespace tune::test {

inline ModelConfig tiny_model_config() {
  ModelConfig c = gemma_spec_defaults();
  c.vocab_size = 16;
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 6;
  finish_gemma_spec(c);
  return c;
}

}  // namespace tune::test
