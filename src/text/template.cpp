// Template lookup and LLaMA-Factory's seed-era encoding: messages -> formatter elements -> ids -> cut (source, target).
#include "text/template.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "text/template_spec.h"

namespace tune {

using text_detail::Slot;
using text_detail::Slots;
using text_detail::TemplateSpec;

struct Template::Impl {
  TemplateSpec spec;
};

namespace {

// LF StringFormatter.apply: for each (name, value) in order, replace the first "{{name}}" of the slot text.
std::string substitute(std::string slot, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    const std::string key = "{{" + name + "}}";
    if (size_t at = slot.find(key); at != std::string::npos) slot.replace(at, key.size(), value);
  }
  return slot;
}

// LF _convert_elements_to_ids: each non-empty string encoded on its own; bos/eos only when the tokenizer has them.
void append_slots(TokenIds& ids, const Slots& slots, const std::vector<std::pair<std::string, std::string>>& values,
                  const Tokenizer& tok, int32_t eos_id) {
  for (const Slot& slot : slots) {
    if (slot.kind == Slot::Kind::Bos) {
      if (tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    } else if (slot.kind == Slot::Kind::Eos) {
      if (eos_id >= 0) ids.push_back(eos_id);
    } else if (std::string s = substitute(slot.text, values); !s.empty()) {
      TokenIds piece = tok.encode(s);
      ids.insert(ids.end(), piece.begin(), piece.end());
    }
  }
}

// LF data/utils.py infer_max_len, with Python's float arithmetic: int(max_len * (target_len / (source_len +
// target_len))) truncated toward zero, at least reserved_label_len (1).
std::pair<size_t, size_t> infer_max_len(size_t source_len, size_t target_len, size_t max_len) {
  const double share = static_cast<double>(target_len) / static_cast<double>(source_len + target_len);
  const size_t max_target = std::max<size_t>(static_cast<size_t>(static_cast<double>(max_len) * share), 1);
  return {max_len - max_target, max_target};
}

std::string role_name(Role r) { return r == Role::User ? "user" : "assistant"; }

}  // namespace

Template::Template(std::string name, std::shared_ptr<const Impl> impl, bool efficient_eos)
    : name_(std::move(name)), impl_(std::move(impl)), efficient_eos_(efficient_eos) {}

const Template& Template::get(std::string_view name) {
  static const std::map<std::string, Template, std::less<>> all = [] {
    std::map<std::string, Template, std::less<>> m;
    for (const TemplateSpec& spec : text_detail::template_registry())
      m.emplace(spec.name, Template(spec.name, std::make_shared<const Impl>(Impl{spec}), spec.efficient_eos));
    return m;
  }();
  if (auto it = all.find(name); it != all.end()) return it->second;
  std::string known;
  for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown template '", name, "'; known templates: ", known);
}

std::vector<std::string> Template::names() {
  std::vector<std::string> out;
  for (const TemplateSpec& spec : text_detail::template_registry()) out.push_back(spec.name);
  return out;
}

int32_t Template::eos_id(const Tokenizer& tok) const {
  const std::string& stop = impl_->spec.eos_token;
  if (stop.empty()) return tok.eos_id();
  auto id = tok.piece_to_id(stop);
  TUNE_CHECK(id, "template '", name_, "' uses ", stop, " as its eos, but the tokenizer has no such token; ",
             "pick a template that matches the model");
  return *id;
}

std::vector<int32_t> Template::stop_ids(const Tokenizer& tok) const {
  std::vector<int32_t> ids;
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  add(eos_id(tok));
  for (const std::string& word : impl_->spec.stop_words)
    if (auto id = tok.piece_to_id(word)) add(*id);
  return ids;
}

std::vector<EncodedTurn> Template::encode_multiturn(const Tokenizer& tok, const std::vector<Message>& messages,
                                                    const std::string& system, int cutoff_len) const {
  TUNE_CHECK(cutoff_len >= 1, "cutoff_len must be at least 1, got ", cutoff_len);
  TUNE_CHECK(!messages.empty() && messages.size() % 2 == 0, "template '", name_,
             "': a conversation needs user/assistant pairs, got ", messages.size(), " messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const Role want = i % 2 == 0 ? Role::User : Role::Assistant;
    TUNE_CHECK(messages[i].role == want, "template '", name_, "': message ", i, " must be ", role_name(want),
               ", got ", role_name(messages[i].role), " (turns alternate user/assistant, user first)");
  }
  const TemplateSpec& t = impl_->spec;
  const std::string& sys = system.empty() ? t.default_system : system;
  const int32_t eos = eos_id(tok);

  std::vector<TokenIds> encoded(messages.size());  // one id list per message
  for (size_t i = 0; i < messages.size(); ++i) {
    TokenIds& ids = encoded[i];
    std::string system_text;  // fuse_system: the formatted system text that opens the first user message
    if (i == 0) {
      append_slots(ids, t.prefix, {}, tok, eos);
      if (!sys.empty() || t.force_system) {
        if (t.fuse_system)
          system_text = substitute(t.system.at(0).text, {{"content", sys}});
        else
          append_slots(ids, t.system, {{"content", sys}}, tok, eos);
      }
    } else if (i % 2 == 0) {
      append_slots(ids, t.separator, {}, tok, eos);
    }
    if (messages[i].role == Role::User) {
      if (t.fuse_system)  // Llama2Template passes no idx
        append_slots(ids, t.user, {{"content", system_text + messages[i].content}}, tok, eos);
      else
        append_slots(ids, t.user, {{"content", messages[i].content}, {"idx", std::to_string(i / 2)}}, tok, eos);
    } else {
      append_slots(ids, t.assistant, {{"content", messages[i].content}}, tok, eos);
    }
  }

  // LF _make_pairs. A pair with no tokens at all (Python would divide by zero) is kept empty.
  std::vector<EncodedTurn> turns;
  const size_t cutoff = static_cast<size_t>(cutoff_len);
  size_t used = 0;
  for (size_t i = 0; i < encoded.size(); i += 2) {
    if (used >= cutoff) break;
    const TokenIds& source = encoded[i];
    const TokenIds& target = encoded[i + 1];
    EncodedTurn turn;
    if (!source.empty() || !target.empty()) {
      const auto [max_source, max_target] = infer_max_len(source.size(), target.size(), cutoff - used);
      turn.source.assign(source.begin(), source.begin() + std::min(max_source, source.size()));
      turn.target.assign(target.begin(), target.begin() + std::min(max_target, target.size()));
    }
    used += turn.source.size() + turn.target.size();
    turns.push_back(std::move(turn));
  }
  return turns;
}

}  // namespace tune
