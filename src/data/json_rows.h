// Local LLaMA-Factory data files -> JSON rows: a .json array of objects or JSON Lines (.jsonl), or a folder of such
// files; malformed JSON is reported with the file and line.
#pragma once
#include <cstdint>
#include <exception>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tune {

using Json = nlohmann::ordered_json;

// Arrays and objects nested deeper than this are refused by the parsers below: nlohmann parses any depth, but it
// copies, compares, dumps and (in some versions) destroys values recursively, so a line of 100k "[" overflowed the
// stack (a crash of `tune score`, or of `tune serve` from one request).
inline constexpr int kMaxJsonDepth = 100;

// Thrown by refuse_deep_json.
struct JsonTooDeep : std::exception {
  const char* what() const noexcept override { return "JSON nested too deeply"; }
};
// A Json::parse callback that keeps everything and throws JsonTooDeep at an array or object nested more than
// kMaxJsonDepth deep.
bool refuse_deep_json(int depth, Json::parse_event_t event, Json& parsed);

// Parses one JSON document; a syntax error throws tune::Error "<file>:<line>: malformed JSON (...)", where the line
// is first_line plus the newlines before the failing byte; nesting deeper than kMaxJsonDepth is a tune::Error too.
Json parse_json_text(std::string_view text, const std::filesystem::path& file, int64_t first_line = 1);

struct JsonRow {
  Json value;        // one JSON object
  size_t file = 0;   // index into JsonRows::files
  int64_t line = 0;  // JSON Lines: the 1-based line; JSON array: 0 (see element)
  int64_t element = 0;  // JSON array: the 1-based element index
};

struct JsonRows {
  std::vector<std::filesystem::path> files;  // in read order (a folder's files sorted by name)
  std::vector<JsonRow> rows;                 // [N] in file order
  std::set<std::string> keys;                // every key seen in any row (the columns the data has)

  // "<file>:<line>" or "<file> element <k>", for messages about one row.
  std::string where(const JsonRow& row) const;
};

// Reads every row of a file or folder. A file whose first non-space character is '[' is a JSON array of objects;
// anything else is read as JSON Lines (blank lines skipped). Only .json and .jsonl files are accepted.
JsonRows read_json_rows(const std::filesystem::path& path);

}  // namespace tune
