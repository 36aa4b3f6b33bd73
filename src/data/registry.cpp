// dataset_info.json -> DatasetSpecs, following LLaMA-Factory's data/parser.py (v0.5.x) plus the chosen/rejected
// columns of its current preference form.
#include "data/registry.h"

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/nearest_name.h"
#include "data/json_rows.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

// Reads the typed fields of one dataset entry; every message names the registry file and the dataset.
class EntryReader {
 public:
  EntryReader(const Json& entry, std::string where) : entry_(entry), where_(std::move(where)) {}

  const Json* find(const Json& obj, const char* key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<std::string> string_in(const Json& obj, const char* key, const char* section) const {
    const Json* v = find(obj, key);
    if (!v) return std::nullopt;
    TUNE_CHECK(v->is_string(), where_, ": ", section, key, " must be a string, got ", v->dump());
    return v->get<std::string>();
  }

  std::optional<std::string> string(const char* key) const { return string_in(entry_, key, ""); }

  bool boolean(const char* key) const {
    const Json* v = find(entry_, key);
    if (!v) return false;
    TUNE_CHECK(v->is_boolean(), where_, ": ", key, " must be true or false, got ", v->dump());
    return v->get<bool>();
  }

  const Json* object(const char* key) const {
    const Json* v = find(entry_, key);
    if (v) TUNE_CHECK(v->is_object(), where_, ": ", key, " must be a JSON object, got ", v->dump());
    return v;
  }

  const std::string& where() const { return where_; }

 private:
  const Json& entry_;
  std::string where_;
};

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string known_names(const Json& info) {
  std::string names;
  for (const auto& item : info.items()) names += (names.empty() ? "" : ", ") + item.key();
  return names.empty() ? "(none)" : names;
}

// The names LLaMA-Factory's dataset_info.json entries use (data/parser.py, v0.5 to HEAD: DatasetAttr and its
// columns and tags). LF ignores any other name, so a misspelt "colums" silently fell back to the default columns.
const std::vector<std::string> kEntryKeys = {"hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name",
                                             "file_name", "file_sha1", "formatting", "ranking", "subset", "split",
                                             "folder", "num_samples", "revision", "columns", "tags"};
const std::vector<std::string> kColumnKeys = {"prompt", "query", "response", "history", "messages", "system", "tools",
                                              "images", "videos", "audios", "chosen", "rejected", "kto_tag"};
const std::vector<std::string> kTagKeys = {"role_tag",        "content_tag",  "user_tag",  "assistant_tag",
                                           "observation_tag", "function_tag", "system_tag"};

// Every key of obj is one of `known`; else tune::Error naming the key, the dataset and the nearest known key.
void check_known_keys(const EntryReader& r, const Json& obj, const std::vector<std::string>& known,
                      const std::string& section) {
  for (const auto& item : obj.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    const std::string near = nearest_name(item.key(), known);
    fail(r.where(), ": unknown key '", section, item.key(), "'",
         near.empty() ? "; LLaMA-Factory's keys here are " + join_names(known)
                      : "; did you mean '" + section + near + "'?");
  }
}

void read_columns(const EntryReader& r, const Json& columns, DatasetSpec& spec) {
  DatasetColumns& c = spec.columns;
  c = DatasetColumns{};
  c.system = r.string_in(columns, "system", "columns.");
  c.chosen = r.string_in(columns, "chosen", "columns.");
  c.rejected = r.string_in(columns, "rejected", "columns.");
  if (spec.formatting == Formatting::Alpaca) {
    c.prompt = r.string_in(columns, "prompt", "columns.");
    c.query = r.string_in(columns, "query", "columns.");
    c.response = r.string_in(columns, "response", "columns.");
    c.history = r.string_in(columns, "history", "columns.");
    TUNE_CHECK(c.prompt.has_value(), r.where(), ": alpaca data needs columns.prompt (the instruction column);"
               " LLaMA-Factory defaults it to \"instruction\" only when \"columns\" is absent");
  } else {
    c.messages = r.string_in(columns, "messages", "columns.");
    c.tools = r.string_in(columns, "tools", "columns.");
    TUNE_CHECK(c.messages.has_value(), r.where(), ": sharegpt data needs columns.messages (the conversation column);"
               " LLaMA-Factory defaults it to \"conversations\" only when \"columns\" is absent");
  }
}

void read_tags(const EntryReader& r, const Json& tags, DatasetSpec& spec) {
  auto required = [&](const char* key) {
    std::optional<std::string> v = r.string_in(tags, key, "tags.");
    TUNE_CHECK(v.has_value(), r.where(), ": tags.", key, " is missing; once \"tags\" is given LLaMA-Factory uses no"
               " defaults, so set role_tag, content_tag, user_tag and assistant_tag");
    return *v;
  };
  spec.tags.role = required("role_tag");
  spec.tags.content = required("content_tag");
  spec.tags.user = required("user_tag");
  spec.tags.assistant = required("assistant_tag");
  spec.tags.observation = r.string_in(tags, "observation_tag", "tags.");
  spec.tags.function = r.string_in(tags, "function_tag", "tags.");
  spec.tags.system = r.string_in(tags, "system_tag", "tags.");
}

DatasetSpec read_entry(const std::string& name, const Json& entry, const fs::path& dataset_dir,
                       const fs::path& info_file) {
  EntryReader r(entry, cat(info_file.string(), ": dataset '", name, "'"));
  TUNE_CHECK(entry.is_object(), r.where(), " must be a JSON object");
  check_known_keys(r, entry, kEntryKeys, "");
  for (const char* hub : {"hf_hub_url", "ms_hub_url", "script_url"}) {
    TUNE_CHECK(!r.find(entry, hub), r.where(), " uses ", hub, "; tune.cpp reads local files only; download the "
               "dataset and set file_name");
  }
  std::optional<std::string> file_name = r.string("file_name");
  TUNE_CHECK(file_name.has_value(), r.where(), " has no file_name; set it to a .json/.jsonl file or a folder "
             "under ", dataset_dir.string());

  DatasetSpec spec;
  spec.name = name;
  spec.path = dataset_dir / *file_name;
  spec.info_file = info_file;
  spec.ranking = r.boolean("ranking");
  std::string formatting = r.string("formatting").value_or("alpaca");
  if (formatting == "alpaca") {
    spec.formatting = Formatting::Alpaca;
  } else if (formatting == "sharegpt") {
    spec.formatting = Formatting::ShareGpt;
  } else {
    fail(r.where(), ": formatting must be \"alpaca\" or \"sharegpt\", got \"", formatting, "\"");
  }
  if (const Json* columns = r.object("columns")) {
    check_known_keys(r, *columns, kColumnKeys, "columns.");
    read_columns(r, *columns, spec);
    spec.columns_given = true;
  } else {
    if (spec.formatting == Formatting::Alpaca) {
      spec.columns.prompt = "instruction";
      spec.columns.query = "input";
      spec.columns.response = "output";
    } else {
      spec.columns.messages = "conversations";
    }
  }
  if (const Json* tags = r.object("tags")) {
    check_known_keys(r, *tags, kTagKeys, "tags.");
    if (spec.formatting == Formatting::ShareGpt) read_tags(r, *tags, spec);
  }
  return spec;
}

}  // namespace

std::vector<DatasetSpec> resolve_datasets(const fs::path& dataset_dir, const std::vector<std::string>& names) {
  TUNE_CHECK(!names.empty(), "no dataset given; set dataset to one or more names from ",
             (dataset_dir / "dataset_info.json").string());
  fs::path info_file = dataset_dir / "dataset_info.json";
  std::error_code ec;
  TUNE_CHECK(fs::is_regular_file(info_file, ec), info_file.string(), " does not exist; set dataset_dir to the folder"
             " that holds dataset_info.json");
  Json info = parse_json_text(read_text_file(info_file), info_file);
  TUNE_CHECK(info.is_object(), info_file.string(), ": must be a JSON object mapping dataset names to entries");

  std::vector<DatasetSpec> specs;
  for (const std::string& name : names) {
    auto it = info.find(name);
    TUNE_CHECK(it != info.end(), "dataset '", name, "' is not defined in ", info_file.string(), "; known datasets: ",
               known_names(info));
    specs.push_back(read_entry(name, *it, dataset_dir, info_file));
  }
  return specs;
}

}  // namespace tune
