// prepare_dataset's user-facing errors: registry, files, malformed JSON (file and line), columns, stages, and data
// that leaves nothing after filtering; each message names the problem and the fix.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/json_rows.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(TUNE_TEST_DATA) + "/datasets";

const Tokenizer& tokenizer() {
  static const Tokenizer tok = Tokenizer::load(std::string(TUNE_TEST_DATA) + "/tokenizer");
  return tok;
}

DataOptions options(Stage stage, std::vector<std::string> datasets, fs::path dir = kData) {
  DataOptions opts;
  opts.stage = stage;
  opts.datasets = std::move(datasets);
  opts.dataset_dir = std::move(dir);
  opts.template_name = "gemma";
  return opts;
}

// The tune::Error message of prepare_dataset(opts); fails the test when nothing is thrown.
std::string error_of(const DataOptions& opts) {
  try {
    prepare_dataset(opts, tokenizer());
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no tune::Error thrown";
  return "";
}

void expect_all(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "missing '" << p << "' in: "
                                                                                    << message;
}

// A scratch dataset_dir with the given files, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / (std::string("tune_data_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(DataErrors, MissingDatasetInfo) {
  expect_all(error_of(options(Stage::Sft, {"alpaca_sft"}, kData + "/pt_folder")),
             {"pt_folder/dataset_info.json does not exist", "set dataset_dir"});
}

TEST(DataErrors, MissingFile) {
  expect_all(error_of(options(Stage::Sft, {"missing_file"})),
             {"dataset 'missing_file'", "no_such_file.json does not exist", "fix file_name"});
}

TEST(DataErrors, UnknownDatasetListsKnownNames) {
  expect_all(error_of(options(Stage::Sft, {"alpaca_sft", "nope"})),
             {"dataset 'nope' is not defined in", "dataset_info.json",
              "known datasets: alpaca_sft, sharegpt_sft, ranking_seed"});
}

TEST(DataErrors, NoDatasetGiven) { expect_all(error_of(options(Stage::Sft, {})), {"no dataset given"}); }

TEST(DataErrors, HubSourceNeedsALocalFile) {
  expect_all(error_of(options(Stage::Sft, {"hub_only"})),
             {"dataset 'hub_only'", "hf_hub_url", "tune.cpp reads local files only; download the dataset and set "
                                                  "file_name"});
}

TEST(DataErrors, MalformedJsonLineNamesFileAndLine) {
  expect_all(error_of(options(Stage::Sft, {"broken_line"})), {"broken_line.jsonl:3: malformed JSON"});
}

TEST(DataErrors, JsonNestedTooDeeplyIsAnErrorNotAStackOverflow) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(parse_json_text(nested(kMaxJsonDepth), "rows.jsonl", 4).dump(), nested(kMaxJsonDepth));
  try {
    parse_json_text("{\"a\": " + nested(kMaxJsonDepth) + "}", "rows.jsonl", 4);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rows.jsonl:4: the JSON starting on this line nests arrays and objects more than 100 deep; "
                           "such data is not a dataset row");
  }
  // was parsed, then copied or dumped recursively: a segfault
  const std::string deep = "{\"prompt\": \"q\", \"x\": " + nested(200000) + "}";
  EXPECT_THROW(parse_json_text(deep, "rows.jsonl"), Error);
}

TEST(DataErrors, MalformedJsonArrayNamesFileAndLine) {
  expect_all(error_of(options(Stage::Sft, {"broken_array"})), {"broken_array.json:3: malformed JSON"});
}

TEST(DataErrors, MalformedDatasetInfoNamesLine) {
  ScratchDir dir;
  dir.write("dataset_info.json", "{\n  \"a\": {\"file_name\": \"a.json\"},\n  \"b\": {\"file_name\" \"b.json\"}\n}\n");
  expect_all(error_of(options(Stage::Sft, {"a"}, dir.path())), {"dataset_info.json:3: malformed JSON"});
}

TEST(DataErrors, WrongColumnNamesListTheDataColumns) {
  expect_all(error_of(options(Stage::Sft, {"wrong_columns"})),
             {"dataset 'wrong_columns'", "column 'question' (columns.prompt) is not in the data",
              "its rows have the columns history, input, instruction, output, system", "fix \"columns\""});
}

TEST(DataErrors, RankingWithoutTwoAnswers) {
  expect_all(error_of(options(Stage::Rm, {"ranking_one_answer"})),
             {"no valid examples in ranking_one_answer after preprocessing",
              "2 dropped because they have fewer than 2 responses", "check the column names in dataset_info.json"});
}

TEST(DataErrors, EmptyAfterFilteringSaysWhy) {
  expect_all(error_of(options(Stage::Sft, {"all_invalid_roles"})),
             {"no valid examples in all_invalid_roles after preprocessing",
              "1 dropped because the sharegpt roles do not alternate user/assistant"});
}

TEST(DataErrors, PretrainTextShorterThanOneBlock) {
  DataOptions opts = options(Stage::Pt, {"pt_text"});
  opts.cutoff_len = 100000;
  expect_all(error_of(opts), {"no valid examples in pt_text", "fewer tokens than one cutoff_len block",
                              "lower cutoff_len"});
}

TEST(DataErrors, StageMustMatchRanking) {
  expect_all(error_of(options(Stage::Rm, {"alpaca_sft"})), {"'alpaca_sft' is not preference data", "ranking"});
  expect_all(error_of(options(Stage::Sft, {"ranking_seed"})), {"'ranking_seed' is preference data",
                                                                "only stages rm and dpo"});
  expect_all(error_of(options(Stage::Dpo, {"alpaca_sft"})), {"'alpaca_sft' is not preference data",
                                                              "stage dpo needs chosen/rejected"});
}

TEST(DataErrors, TemplateNeededForSft) {
  DataOptions opts = options(Stage::Sft, {"alpaca_sft"});
  opts.template_name = "";
  expect_all(error_of(opts), {"needs a chat template; set template"});
}

TEST(DataErrors, BadOptions) {
  DataOptions opts = options(Stage::Sft, {"alpaca_sft"});
  opts.cutoff_len = 0;
  expect_all(error_of(opts), {"cutoff_len must be positive"});
  opts.cutoff_len = 16;
  opts.max_samples = 0;
  expect_all(error_of(opts), {"max_samples must be positive"});
}

TEST(DataErrors, RegistryEntryProblems) {
  ScratchDir dir;
  dir.write("d.json", "[{\"conversations\": [{\"role\": \"user\", \"content\": \"q\"}]}]\n");
  dir.write("dataset_info.json", R"({
    "no_source": {"ranking": false},
    "bad_format": {"file_name": "d.json", "formatting": "chatml"},
    "bad_ranking": {"file_name": "d.json", "ranking": "yes"},
    "partial_tags": {"file_name": "d.json", "formatting": "sharegpt", "tags": {"role_tag": "role"}},
    "sharegpt_no_messages": {"file_name": "d.json", "formatting": "sharegpt", "columns": {"system": "s"}},
    "alpaca_no_prompt": {"file_name": "d.json", "columns": {"response": "r"}}
  })");
  auto err = [&](const char* name) { return error_of(options(Stage::Sft, {name}, dir.path())); };
  expect_all(err("no_source"), {"dataset 'no_source' has no file_name"});
  expect_all(err("bad_format"), {"formatting must be \"alpaca\" or \"sharegpt\", got \"chatml\""});
  expect_all(err("bad_ranking"), {"ranking must be true or false"});
  expect_all(err("partial_tags"), {"tags.content_tag is missing", "uses no defaults"});
  expect_all(err("sharegpt_no_messages"), {"sharegpt data needs columns.messages"});
  expect_all(err("alpaca_no_prompt"), {"alpaca data needs columns.prompt"});
}

TEST(DataErrors, RowProblemsNameTheRow) {
  ScratchDir dir;
  dir.write("object.json", "{\n  \"instruction\": \"a\",\n  \"output\": \"b\"\n}\n");
  dir.write("not_object.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n[1, 2]\n");
  dir.write("bad_history.json", "[{\"instruction\": \"a\", \"output\": \"b\", \"history\": [[\"only one\"]]}]");
  dir.write("number.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": 7, \"output\": \"b\"}\n");
  dir.write("folder/a.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n");
  dir.write("folder/b.csv", "instruction,output\n");
  dir.write("data.csv", "instruction,output\n");
  dir.write("dataset_info.json", R"({
    "object": {"file_name": "object.json"},
    "not_object": {"file_name": "not_object.jsonl"},
    "bad_history": {"file_name": "bad_history.json", "columns": {"prompt": "instruction", "response": "output",
                                                                 "history": "history"}},
    "number": {"file_name": "number.jsonl"},
    "folder": {"file_name": "folder"},
    "csv": {"file_name": "data.csv"}
  })");
  auto err = [&](const char* name) { return error_of(options(Stage::Sft, {name}, dir.path())); };
  expect_all(err("object"), {"object.json: holds one JSON object", "JSON array of objects", "JSON Lines"});
  expect_all(err("not_object"), {"not_object.jsonl:2: a data row must be a JSON object, got array"});
  expect_all(err("bad_history"), {"bad_history.json element 1: each history entry must be [question, answer]"});
  expect_all(err("number"), {"number.jsonl:2: column 'instruction' must be a string, got 7"});
  expect_all(err("folder"), {"b.csv: a dataset folder may hold only .json and .jsonl files"});
  expect_all(err("csv"), {"data.csv: tune.cpp reads .json and .jsonl data files only"});
}

TEST(DataErrors, ToolRolesAreDroppedAndCounted) {
  ScratchDir dir;
  dir.write("tools.jsonl",
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"function_call\", \"value\": "
            "\"{}\"}]}\n");
  dir.write("dataset_info.json", R"({"tools": {"file_name": "tools.jsonl", "formatting": "sharegpt"}})");
  expect_all(error_of(options(Stage::Sft, {"tools"}, dir.path())),
             {"1 dropped because they use tool roles or a tools column"});
}

}  // namespace
}  // namespace tune
