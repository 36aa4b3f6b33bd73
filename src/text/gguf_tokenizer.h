// The tokenizer of a GGUF file: its tokenizer.ggml.* metadata turned into the tokenizer.json transformers builds from
// the same file (AutoTokenizer.from_pretrained(dir, gguf_file=...)), run by the tokenizer.json backend.
#pragma once
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "text/tokenizer_files.h"

namespace tune {

class GgufFile;

// tokenizer.ggml.model "llama" (SentencePiece vocabulary with scores; merges from the file or derived from the
// scores, Gemma's from the token order) and "gpt2" (byte-level BPE with merges; tokenizer.ggml.pre picks the split
// regex). Control tokens become special added tokens, user-defined ones plain added tokens; bos/eos/unk/pad from the
// *_token_id keys; bos/eos added per add_bos_token (default true for "llama") and add_eos_token. Another tokenizer
// model, or inconsistent metadata -> Error naming the file and the key. source_file() is "GGUF metadata".
Tokenizer tokenizer_from_gguf(const GgufFile& gguf);

// tokenizer_from_gguf plus load_model_tokenizer's check: every id fits the model's embedding.
Tokenizer load_gguf_model_tokenizer(const GgufFile& gguf, int model_vocab_size);

namespace text_detail {

// The tokenizer.json document and the declared special tokens tokenizer_from_gguf runs (tests compare it with the one
// transformers saves).
struct GgufTokenizerJson {
  nlohmann::json doc;
  DeclaredTokens declared;
};
GgufTokenizerJson gguf_tokenizer_json(const GgufFile& gguf);

}  // namespace text_detail
}  // namespace tune
