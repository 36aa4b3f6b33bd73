// Local LLaMA-Factory data files -> JSON rows, with file:line error messages.
#include "data/json_rows.h"

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

// nlohmann's message without its "[json.exception...] parse error at line L, column C: " prefix (its own line
// count is wrong for a single JSON Lines row, so ours replaces it).
std::string parse_problem(const std::string& what) {
  size_t column = what.find("column ");
  size_t colon = column == std::string::npos ? std::string::npos : what.find(": ", column);
  if (colon != std::string::npos) return what.substr(colon + 2);
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

bool is_data_file(const fs::path& p) { return p.extension() == ".json" || p.extension() == ".jsonl"; }

std::vector<fs::path> list_data_files(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    TUNE_CHECK(is_data_file(path), path.string(), ": tune.cpp reads .json and .jsonl data files only; convert the data"
               " to a JSON array of objects or JSON Lines");
    return {path};
  }
  TUNE_CHECK(fs::is_directory(path, ec), path.string(), " does not exist; check file_name in dataset_info.json and"
             " dataset_dir");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    TUNE_CHECK(entry.is_regular_file() && is_data_file(entry.path()), entry.path().string(),
               ": a dataset folder may hold only .json and .jsonl files; move this out of ", path.string());
    files.push_back(entry.path());
  }
  TUNE_CHECK(!files.empty(), path.string(), ": the dataset folder holds no .json or .jsonl files");
  std::sort(files.begin(), files.end());
  return files;
}

void add_row(JsonRows& out, Json value, size_t file, int64_t line, int64_t element) {
  JsonRow row{std::move(value), file, line, element};
  TUNE_CHECK(row.value.is_object(), out.where(row), ": a data row must be a JSON object, got ",
             row.value.type_name());
  for (const auto& item : row.value.items()) out.keys.insert(item.key());
  out.rows.push_back(std::move(row));
}

void read_array(JsonRows& out, size_t file, std::string_view text) {
  Json doc = parse_json_text(text, out.files[file]);
  int64_t element = 0;
  for (auto& value : doc) add_row(out, std::move(value), file, 0, ++element);
}

void read_lines(JsonRows& out, size_t file, std::string_view text) {
  int64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = text.substr(pos, end - pos);
    ++line;
    pos = end + 1;
    if (piece.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    add_row(out, parse_json_text(piece, out.files[file], line), file, line, 0);
  }
}

// A pretty-printed single object would otherwise fail as JSON Lines at its first line with a confusing message.
void reject_single_object(const fs::path& file, std::string_view text) {
  size_t last = text.find_last_not_of(" \t\r\n");
  if (text.substr(0, last).find('\n') == std::string_view::npos) return;
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  TUNE_CHECK(!doc.is_object(), file.string(), ": holds one JSON object; a dataset file must be a JSON array of"
             " objects ([{...}, {...}]) or JSON Lines (one object per line)");
}

}  // namespace

bool refuse_deep_json(int depth, Json::parse_event_t event, Json&) {
  // depth is the number of containers around this one
  if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
      depth >= kMaxJsonDepth)
    throw JsonTooDeep();
  return true;
}

Json parse_json_text(std::string_view text, const fs::path& file, int64_t first_line) {
  try {
    return Json::parse(text.begin(), text.end(), refuse_deep_json);
  } catch (const JsonTooDeep&) {
    fail(file.string(), ":", first_line, ": the JSON starting on this line nests arrays and objects more than ",
         kMaxJsonDepth, " deep; such data is not a dataset row");
  } catch (const Json::parse_error& e) {
    size_t failed_at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    int64_t line = first_line + std::count(text.begin(), text.begin() + failed_at, '\n');
    fail(file.string(), ":", line, ": malformed JSON (", parse_problem(e.what()), "); fix this line of the file");
  } catch (const Json::exception& e) {  // e.g. a number too large for a double
    fail(file.string(), ": malformed JSON (", e.what(), ")");
  }
}

std::string JsonRows::where(const JsonRow& row) const {
  if (row.line > 0) return cat(files[row.file].string(), ":", row.line);
  return cat(files[row.file].string(), " element ", row.element);
}

JsonRows read_json_rows(const fs::path& path) {
  JsonRows out;
  out.files = list_data_files(path);
  for (size_t f = 0; f < out.files.size(); ++f) {
    std::string text = read_text_file(out.files[f]);
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // UTF-8 byte order mark
    size_t first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) continue;
    if (body[first] == '[') {
      read_array(out, f, body);
    } else {
      reject_single_object(out.files[f], body);
      read_lines(out, f, body);
    }
  }
  return out;
}

}  // namespace tune
