// ModelConfig: the architecture facts tune.cpp needs, read from an HF config.json (Gemma-1 first).
#pragma once
#include <filesystem>
#include <string>

#include "core/dtype.h"

namespace tune {

enum class Activation { GeluTanh, GeluExact };

struct ModelConfig {
  std::string model_type;  // "gemma"
  int vocab_size = 0;
  int hidden_size = 0;        // H
  int intermediate_size = 0;  // I
  int num_layers = 0;         // L
  int num_heads = 0;          // Nq
  int num_kv_heads = 0;       // Nkv (divides Nq)
  int head_dim = 0;           // D (explicit; Nq*D may differ from H)
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000.0;
  Activation activation = Activation::GeluTanh;
  bool tie_word_embeddings = true;
  int max_position_embeddings = 8192;
  int pad_token_id = 0, eos_token_id = 1, bos_token_id = 2;
  DType torch_dtype = DType::F32;  // dtype the checkpoint is stored in

  int q_dim() const { return num_heads * head_dim; }      // Nq*D
  int kv_dim() const { return num_kv_heads * head_dim; }  // Nkv*D
};

}  // namespace tune
