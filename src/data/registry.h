// dataset_info.json -> one DatasetSpec per requested name: source file, formatting, ranking, columns and tags,
// with LLaMA-Factory's defaults.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tune {

enum class Formatting { Alpaca, ShareGpt };

// Column names in the data files; nullopt = the column is not used. Without a "columns" object LLaMA-Factory uses
// prompt "instruction", query "input", response "output", messages "conversations"; with one, only the keys it names.
struct DatasetColumns {
  std::optional<std::string> prompt, query, response, history;  // alpaca
  std::optional<std::string> messages, tools;                   // sharegpt
  std::optional<std::string> system;                            // both
  std::optional<std::string> chosen, rejected;                  // preference data in the current LLaMA-Factory form
};

// ShareGPT message keys and role values. Without a "tags" object the defaults below apply; with one, a tag it
// leaves out is unset (as in LLaMA-Factory), and role/content/user/assistant must be given.
struct ShareGptTags {
  std::string role = "from", content = "value", user = "human", assistant = "gpt";
  std::optional<std::string> observation = "observation", function = "function_call", system = "system";
};

struct DatasetSpec {
  std::string name;                // the key in dataset_info.json
  std::filesystem::path path;      // <dataset_dir>/<file_name>: a .json/.jsonl file or a folder of them
  std::filesystem::path info_file; // the dataset_info.json it came from (for messages)
  Formatting formatting = Formatting::Alpaca;
  bool ranking = false;
  DatasetColumns columns;
  bool columns_given = false;  // "columns" was in the entry: every column it names must exist in the data
  ShareGptTags tags;
};

// Reads <dataset_dir>/dataset_info.json and returns the specs of `names` in order. Throws tune::Error for a missing
// or malformed registry, an unknown name (listing the known ones), a hub/script source, or a malformed entry.
std::vector<DatasetSpec> resolve_datasets(const std::filesystem::path& dataset_dir, const std::vector<std::string>& names);

}  // namespace tune
