// JSON rows -> AlignedExamples for the alpaca and sharegpt formats (LLaMA-Factory data/aligner.py, v0.5.x).
#include "data/aligner.h"

#include <optional>

#include "core/error.h"

namespace tune {
namespace {

constexpr const char* kInvalidRoles = "the sharegpt roles do not alternate user/assistant";
constexpr const char* kToolRoles = "they use tool roles or a tools column, which tune.cpp templates cannot format";
constexpr const char* kEmptyConversation = "the sharegpt conversation is empty";

std::string list_keys(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "(none)" : out;
}

// Reads one row's fields; type errors name the file and line of the row.
class RowReader {
 public:
  RowReader(const JsonRows& rows, const JsonRow& row) : rows_(rows), row_(row) {}

  const Json* field(const std::optional<std::string>& column) const {
    if (!column) return nullptr;
    auto it = row_.value.find(*column);
    return it == row_.value.end() || it->is_null() ? nullptr : &*it;
  }

  // A string column; absent or null reads as "".
  std::string text(const std::optional<std::string>& column) const {
    const Json* v = field(column);
    if (!v) return "";
    TUNE_CHECK(v->is_string(), where(), ": column '", *column, "' must be a string, got ", v->dump());
    return v->get<std::string>();
  }

  std::string text_in(const Json& message, const std::string& key, const std::string& what) const {
    auto it = message.find(key);
    TUNE_CHECK(it != message.end() && it->is_string(), where(), ": ", what, " needs a string '", key, "', got ",
               message.dump());
    return it->get<std::string>();
  }

  std::string where() const { return rows_.where(row_); }

 private:
  const JsonRows& rows_;
  const JsonRow& row_;
};

void require_columns(const DatasetSpec& spec, const JsonRows& rows) {
  if (rows.rows.empty()) return;
  const DatasetColumns& c = spec.columns;
  // Columns LLaMA-Factory cannot do without even when they come from its defaults; the rest only when named.
  const std::pair<const char*, const std::optional<std::string>*> required[] = {
      {"prompt", &c.prompt}, {"messages", &c.messages}};
  const std::pair<const char*, const std::optional<std::string>*> named[] = {
      {"query", &c.query},   {"response", &c.response}, {"history", &c.history}, {"tools", &c.tools},
      {"system", &c.system}, {"chosen", &c.chosen},     {"rejected", &c.rejected}};
  auto check = [&](const char* key, const std::optional<std::string>& column) {
    TUNE_CHECK(!column || rows.keys.count(*column), "dataset '", spec.name, "' (", spec.path.string(), "): column '",
               *column, "' (columns.", key, ") is not in the data; its rows have the columns ", list_keys(rows.keys),
               "; fix \"columns\" for this dataset in ", spec.info_file.string());
  };
  for (const auto& [key, column] : required) check(key, *column);
  if (spec.columns_given) {
    for (const auto& [key, column] : named) check(key, *column);
  }
}

AlignedExample align_alpaca(const DatasetSpec& spec, const RowReader& r) {
  const DatasetColumns& c = spec.columns;
  AlignedExample ex;
  if (const Json* history = r.field(c.history); history && history->is_array()) {
    for (const Json& pair : *history) {
      TUNE_CHECK(pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string(), r.where(),
                 ": each history entry must be [question, answer] (two strings), got ", pair.dump());
      ex.prompt.push_back({Role::User, pair[0].get<std::string>()});
      ex.prompt.push_back({Role::Assistant, pair[1].get<std::string>()});
    }
  }
  std::string instruction = r.text(c.prompt), query = r.text(c.query);
  ex.prompt.push_back({Role::User, instruction.empty() || query.empty() ? instruction + query
                                                                         : instruction + "\n" + query});

  const Json* chosen = r.field(c.chosen);
  const Json* rejected = r.field(c.rejected);
  const Json* response = r.field(c.response);
  if (spec.ranking && chosen && rejected && chosen->is_string() && rejected->is_string()) {
    ex.responses = {chosen->get<std::string>(), rejected->get<std::string>()};
  } else if (response && response->is_array()) {
    for (const Json& answer : *response) {
      TUNE_CHECK(answer.is_string(), r.where(), ": column '", *c.response, "' must hold strings, got ", answer.dump());
      ex.responses.push_back(answer.get<std::string>());
    }
  } else if (response && response->is_string()) {
    ex.responses = {response->get<std::string>()};
  }
  ex.system = r.text(c.system);
  return ex;
}

std::optional<AlignedExample> align_sharegpt(const DatasetSpec& spec, const RowReader& r, DropTally& drops) {
  const DatasetColumns& c = spec.columns;
  const ShareGptTags& tags = spec.tags;
  const Json* messages = r.field(c.messages);
  TUNE_CHECK(!messages || messages->is_array(), r.where(), ": column '", *c.messages, "' must be a list of messages");

  struct Tagged {
    std::string role, content;
  };
  std::vector<Tagged> turns;
  if (messages) {
    for (const Json& m : *messages) {
      TUNE_CHECK(m.is_object(), r.where(), ": each message must be a JSON object, got ", m.dump());
      turns.push_back({r.text_in(m, tags.role, "a message"), r.text_in(m, tags.content, "a message")});
    }
  }
  AlignedExample ex;
  if (tags.system && !turns.empty() && turns[0].role == *tags.system) {
    ex.system = turns[0].content;
    turns.erase(turns.begin());
  } else {
    ex.system = r.text(c.system);
  }

  const Json* chosen = r.field(c.chosen);
  const Json* rejected = r.field(c.rejected);
  bool pairwise = spec.ranking && chosen && rejected && chosen->is_object() && rejected->is_object();
  if (pairwise) {
    turns.push_back({r.text_in(*chosen, tags.role, "the chosen message"),
                     r.text_in(*chosen, tags.content, "the chosen message")});
    turns.push_back({r.text_in(*rejected, tags.role, "the rejected message"),
                     r.text_in(*rejected, tags.content, "the rejected message")});
  } else {
    turns.resize(turns.size() / 2 * 2);  // v0.5.x keeps whole user/assistant pairs
  }
  if (turns.empty()) {
    drops.add(kEmptyConversation);
    return std::nullopt;
  }

  bool tool_roles = !r.text(c.tools).empty();
  for (size_t i = 0; i < turns.size(); ++i) {
    // position i of the prompt; the rejected answer sits at the chosen answer's position
    size_t position = pairwise && i + 1 == turns.size() ? i - 1 : i;
    const std::string& role = turns[i].role;
    bool is_tool = position % 2 == 0 ? tags.observation && role == *tags.observation
                                     : tags.function && role == *tags.function;
    bool is_plain = role == (position % 2 == 0 ? tags.user : tags.assistant);
    if (!is_tool && !is_plain) {
      drops.add(kInvalidRoles);
      return std::nullopt;
    }
    tool_roles = tool_roles || is_tool;
  }
  if (tool_roles) {
    drops.add(kToolRoles);
    return std::nullopt;
  }

  size_t n_answers = pairwise ? 2 : 1;
  for (size_t i = 0; i + n_answers < turns.size(); ++i) {
    ex.prompt.push_back({i % 2 == 0 ? Role::User : Role::Assistant, turns[i].content});
  }
  for (size_t i = turns.size() - n_answers; i < turns.size(); ++i) ex.responses.push_back(turns[i].content);
  return ex;
}

}  // namespace

std::vector<AlignedExample> align_rows(const DatasetSpec& spec, const JsonRows& rows, DropTally& drops) {
  require_columns(spec, rows);
  std::vector<AlignedExample> out;
  out.reserve(rows.rows.size());
  for (const JsonRow& row : rows.rows) {
    RowReader r(rows, row);
    if (spec.formatting == Formatting::Alpaca) {
      out.push_back(align_alpaca(spec, r));
    } else if (std::optional<AlignedExample> ex = align_sharegpt(spec, r, drops)) {
      out.push_back(std::move(*ex));
    }
  }
  return out;
}

}  // namespace tune
