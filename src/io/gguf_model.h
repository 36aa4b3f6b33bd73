// A GGUF file as a model: its architecture metadata as the config.json transformers' GGUF loader derives, the
// ModelSpec the families make of that, and its tensors under HF names as the fp32 weights transformers loads
// (llama's Q/K rows un-permuted, Gemma's stored 1 + w norms back to w).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "io/gguf.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

// "gemma, gemma2, gemma3, llama, qwen2, qwen3" (general.architecture values tune.cpp reads).
std::string supported_gguf_architectures();

// The general.architecture llama.cpp gives an HF model_type (mistral -> llama; gemma3_text and gemma3 -> gemma3), and
// whether its converter permuted the Q/K rows (llama). tune::Error naming the supported ones for another model_type.
struct GgufArchitecture {
  std::string name;
  bool permutes_qk = false;
};
GgufArchitecture gguf_architecture_of(const std::string& model_type);

// A llama-arch GGUF's Q/K rows: llama.cpp's permute (convert_hf_to_gguf.py LlamaModel.permute) interleaved each
// head's two rotary halves, so stored row h*2d + 2i + j holds HF row h*2d + j*d + i (d = rows / heads / 2).
// Entry r is the stored row of HF row r. `name` names the tensor in the error for rows that do not split.
std::vector<int64_t> llama_qk_stored_rows(int64_t rows, int64_t heads, const std::string& name);

// The config dict transformers 5.x's load_gguf_checkpoint builds from the metadata: model_type (gemma3 ->
// gemma3_text; llama -> mistral when general.name is "mistral"), the architecture's dims, rope_theta, rms_norm_eps,
// head_dim (rope.dimension_count for llama/mistral, attention.key_length for the Gemmas and Qwen3),
// sliding_window (Gemma 2/3), vocab_size (the tokenizer's token count when the arch key is absent), the token ids,
// and tie_word_embeddings = no output.weight. Keys the file lacks are left to the family's HF defaults.
// An unknown architecture is an error listing the supported ones.
nlohmann::json gguf_hf_config(const GgufFile& f);

// gguf_hf_config through the family code (model/families), validated like a config.json.
ModelConfig gguf_model_config(const GgufFile& f, bool exact_gelu = false);

// The GGUF tensor name of an HF weight key of `spec`'s role list: "model.layers.3.self_attn.q_proj.weight" ->
// "blk.3.attn_q.weight", the pre-MLP norm -> ffn_norm, Gemma's attention / MLP output norms -> post_attention_norm /
// post_ffw_norm, embed_tokens -> token_embd, norm -> output_norm, lm_head -> output.
std::string gguf_tensor_name(const ModelSpec& spec, const std::string& hf_key);

// One weight as stored in the GGUF and what turns it into the tensor transformers loads.
struct GgufWeightSource {
  const GgufTensorInfo* tensor = nullptr;
  Shape shape;                     // HF shape: [ne1, ne0] for a matrix, [ne0] for a vector
  std::vector<int64_t> row_order;  // HF row r is stored row row_order[r]; empty = the stored order
  float add = 0.0f;                // added to every dequantized value (-1 for Gemma norms)
  WeightRole role = WeightRole::Linear;
};

// Where every weight of `cfg` is in the file, checked: present, shape [out, in] matching the spec, and no tensor of
// the file left unused. Keyed in visit_weights order.
std::vector<GgufWeightSource> gguf_weight_sources(const GgufFile& f, const ModelConfig& cfg);

// The fp32 tensor of one source: rows dequantized (cpu::dequantize_row) in HF order, plus `add`.
Tensor gguf_weight_f32(const GgufFile& f, const GgufWeightSource& src);

// The GGML blocks of one Linear source in HF row order: a view of the file's mapping (which it keeps alive), or,
// for un-permuted Q/K rows, a reordered copy of the blocks.
QuantMatrix gguf_weight_blocks(const GgufFile& f, const GgufWeightSource& src);

// Every weight of cfg from the file, fp32; with keep_quantized, the projections stored in any type but F32 stay
// GGML blocks (gguf_weight_blocks) and everything else is fp32.
ModelWeights load_gguf_weights(const GgufFile& f, const ModelConfig& cfg, bool keep_quantized = false);

// The dtype an export of this model writes: the embedding's when it is F32/F16/BF16, else (quantized) BF16.
DType gguf_export_dtype(const GgufFile& f);

}  // namespace tune
