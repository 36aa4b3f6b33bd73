// TextStream: decode a sliding window [prefix_, end) and emit what it adds beyond [prefix_, read_) once that text
// does not end in an unfinished character.
#include "infer/text_stream.h"

#include <span>

namespace tune {

namespace {

// True when the text ends inside a UTF-8 sequence, or with U+FFFD, which SentencePiece writes for bytes that do not
// (yet) form a character.
bool ends_unfinished(const std::string& s) {
  if (s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0) return true;
  // Walk back over continuation bytes to the lead byte of the last sequence and check its length.
  size_t i = s.size(), cont = 0;
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80 && cont < 4) --i, ++cont;
  if (i == 0) return cont > 0;
  const unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  const size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  return cont < need;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tok, bool skip_special_tokens) : tok_(tok), skip_special_(skip_special_tokens) {}

std::string TextStream::push(int32_t id) {
  if (id >= tok_.vocab_size() || (skip_special_ && tok_.is_special(id))) return {};
  ids_.push_back(id);
  const std::span<const int32_t> all(ids_);
  const std::string before = tok_.decode(all.subspan(prefix_, read_ - prefix_));
  const std::string now = tok_.decode(all.subspan(prefix_));
  if (now.size() <= before.size() || ends_unfinished(now)) return {};
  prefix_ = read_;
  read_ = ids_.size();
  return now.substr(before.size());
}

std::string TextStream::finish() {
  const std::span<const int32_t> all(ids_);
  const std::string before = tok_.decode(all.subspan(prefix_, read_ - prefix_));
  const std::string now = tok_.decode(all.subspan(prefix_));
  ids_.clear();
  prefix_ = read_ = 0;
  return now.size() > before.size() ? now.substr(before.size()) : std::string();
}

}  // namespace tune
