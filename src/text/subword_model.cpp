// tokenizer.json "model" -> BPE.
#include "text/subword_model.h"

#include "core/error.h"
#include "text/hf_json.h"

namespace tune::text_detail {

std::unique_ptr<SubwordModel> make_bpe_model(const nlohmann::json& model, const std::string& file);

std::unique_ptr<SubwordModel> parse_subword_model(const nlohmann::json& model, const std::string& file) {
  TUNE_CHECK(model.is_object(), file, ": \"model\" must be an object");
  // Files written by tokenizers < 0.14 may leave out the BPE model's "type".
  const std::string type = model.contains("type") ? hf_type(model, file + ": model") : "BPE";
  if (type == "BPE") return make_bpe_model(model, file);
  fail(file, ": model type \"", type, "\" is not supported (supported: BPE; Unigram, WordPiece and WordLevel tokenizers are not)");
}

}  // namespace tune::text_detail
