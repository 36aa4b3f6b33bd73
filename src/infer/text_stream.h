// Incremental detokenization for streaming output (tune chat, tune serve): feed token ids as they are generated and
// get the text each one completes. The pieces concatenate to exactly tokenizer.decode(all kept ids); a piece never
// ends inside a UTF-8 sequence (byte-fallback tokens are held until their character is whole).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace tune {

class TextStream {
 public:
  // Borrows the tokenizer. skip_special_tokens: ids with tokenizer.is_special(id) add no text (HF's decode flag).
  // Ids past the tokenizer's vocabulary (a model whose vocab_size pads the tokenizer's) add no text either, as HF's
  // fast tokenizers decode them.
  TextStream(const Tokenizer& tok, bool skip_special_tokens);

  // The text that became final with `id`; often empty (a special token, or an unfinished character).
  std::string push(int32_t id);
  // Whatever is still held back (an unfinished character is emitted as decode gives it); then starts over.
  std::string finish();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::vector<int32_t> ids_;  // kept ids since the last finish()
  // Text is decoded from prefix_ on: ids_[prefix_, read_) were already emitted (context for the decode), ids_[read_,
  // end) not yet. Decoding a window with context keeps SentencePiece's piece joins the same as in a full decode.
  size_t prefix_ = 0, read_ = 0;
};

}  // namespace tune
