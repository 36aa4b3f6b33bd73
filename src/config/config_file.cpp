// YAML (yaml-cpp) and JSON (nlohmann) config text -> raw top-level entries; key=value overrides -> raw entries.
#include "config/config_file.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace tune {

namespace {

std::string line_note(const YAML::Mark& mark) {
  return mark.is_null() ? std::string() : cat(" (line ", mark.line + 1, ")");
}

// Fills v's shape from a YAML value node; v.key, v.source and v.where must already be set.
void yaml_value(const YAML::Node& node, ConfigValue& v) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      v.is_null = true;
      return;
    case YAML::NodeType::Scalar:
      // A plain `null`/`~` is already Null above; a quoted "null" stays the text null.
      v.items.push_back(node.Scalar());
      v.quoted = node.Tag() == "!";
      return;
    case YAML::NodeType::Sequence:
      v.is_list = true;
      for (const auto& item : node) {
        if (!item.IsScalar()) fail(v.source, ": ", v.key, " must be a single value or a list of values, got a nested ",
                                   item.IsMap() ? "mapping" : "list", v.where);
        v.items.push_back(item.Scalar());
      }
      return;
    case YAML::NodeType::Map:
      fail(v.source, ": ", v.key, " must be a single value or a list of values, got a mapping", v.where,
           "; every key sits at the top level of the file");
  }
}

std::vector<ConfigValue> read_yaml(std::string_view text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    fail(source, ": malformed YAML at line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg,
         "; fix the syntax there");
  }
  TUNE_CHECK(root.IsMap(), source, ": the top level must be a mapping of `key: value` lines (LLaMA-Factory config), got ",
             root.IsNull() ? "an empty document" : root.IsSequence() ? "a list" : "a single value");
  std::vector<ConfigValue> out;
  std::map<std::string, int> first_line;
  for (const auto& kv : root) {
    const YAML::Mark mark = kv.first.Mark();
    TUNE_CHECK(kv.first.IsScalar(), source, ": keys must be plain names", line_note(mark));
    ConfigValue v;
    v.key = kv.first.Scalar();
    v.source = source;
    v.where = line_note(mark);
    const auto [it, fresh] = first_line.emplace(v.key, mark.line + 1);
    TUNE_CHECK(fresh, source, ": key '", v.key, "' appears twice (lines ", it->second, " and ", mark.line + 1,
               "); keep one of them");
    yaml_value(kv.second, v);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<ConfigValue> read_json(std::string_view text, const std::string& source) {
  using Json = nlohmann::ordered_json;
  std::set<std::string> seen;
  std::string duplicate;
  const Json::parser_callback_t find_duplicates = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second &&
        duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), find_duplicates);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    const size_t bracket = what.find("] ");
    if (bracket != std::string::npos) what.erase(0, bracket + 2);
    fail(source, ": malformed JSON: ", what, "; fix the syntax there");
  }
  TUNE_CHECK(root.is_object(), source, ": the top level must be a JSON object of \"key\": value pairs, got ",
             root.type_name());
  TUNE_CHECK(duplicate.empty(), source, ": key '", duplicate, "' appears twice; keep one of them");
  std::vector<ConfigValue> out;
  const auto scalar_text = [](const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
  for (const auto& [key, value] : root.items()) {
    ConfigValue v;
    v.key = key;
    v.source = source;
    if (value.is_null()) {
      v.is_null = true;
    } else if (value.is_array()) {
      v.is_list = true;
      for (const auto& item : value) {
        TUNE_CHECK(item.is_primitive() && !item.is_null(), source, ": ", key,
                   " must be a single value or a list of values, got a list holding ", item.type_name());
        v.items.push_back(scalar_text(item));
      }
    } else {
      TUNE_CHECK(!value.is_object(), source, ": ", key,
                 " must be a single value or a list of values, got an object; every key sits at the top level");
      v.items.push_back(scalar_text(value));
      v.quoted = value.is_string();
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

std::vector<ConfigValue> read_config_entries(std::string_view text, ConfigFormat format, const std::string& source) {
  return format == ConfigFormat::Yaml ? read_yaml(text, source) : read_json(text, source);
}

ConfigValue read_override(const std::string& arg) {
  const size_t eq = arg.find('=');
  TUNE_CHECK(eq != std::string::npos && eq > 0, "command line: expected key=value after the config file, got '", arg,
             "' (for example learning_rate=1e-5)");
  ConfigValue v;
  v.key = arg.substr(0, eq);
  v.source = "command line";
  v.where = " (in '" + arg + "')";
  YAML::Node node;
  try {
    node = YAML::Load(arg.substr(eq + 1));
  } catch (const YAML::ParserException& e) {
    fail("command line: cannot read the value of '", arg, "': ", e.msg, "; quote it if it holds YAML syntax");
  }
  yaml_value(node, v);
  return v;
}

}  // namespace tune
