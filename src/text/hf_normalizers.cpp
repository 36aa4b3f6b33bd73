// tokenizer.json normalizers: Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD.
#include "core/error.h"
#include "text/hf_json.h"
#include "text/hf_pattern.h"
#include "text/hf_pipeline.h"
#include "text/unicode.h"

namespace tune::text_detail {

using json = nlohmann::json;

Normalizer parse_normalizer(const json& j, const std::string& file) {
  if (j.is_null()) return [](std::string s) { return s; };
  const std::string where = file + ": normalizer";
  const std::string type = hf_type(j, where);
  if (type == "Sequence") {
    const json& list = hf_field(j, "normalizers", where);
    TUNE_CHECK(list.is_array(), where, ": \"normalizers\" must be a list");
    std::vector<Normalizer> steps;
    for (const json& n : list) steps.push_back(parse_normalizer(n, file));
    return [steps](std::string s) {
      for (const Normalizer& n : steps) s = n(std::move(s));
      return s;
    };
  }
  if (type == "Prepend") {  // only a non-empty text gets the prefix
    const std::string prepend = hf_string(j, "prepend", where);
    return [prepend](std::string s) { return s.empty() ? s : prepend + s; };
  }
  if (type == "Replace") {
    const TextPattern pattern(hf_field(j, "pattern", where), where);
    const std::string content = hf_string(j, "content", where);
    return [pattern, content](std::string s) { return pattern.replace_all(s, content); };
  }
  if (type == "NFC") return [](std::string s) { return normalize(s, NormalForm::Nfc); };
  if (type == "NFD") return [](std::string s) { return normalize(s, NormalForm::Nfd); };
  if (type == "NFKC") return [](std::string s) { return normalize(s, NormalForm::Nfkc); };
  if (type == "NFKD") return [](std::string s) { return normalize(s, NormalForm::Nfkd); };
  fail(where, ": type \"", type, "\" is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD)");
}

}  // namespace tune::text_detail
