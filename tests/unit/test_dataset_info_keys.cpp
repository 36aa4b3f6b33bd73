// dataset_info.json: a key LLaMA-Factory does not know (in an entry, its columns or its tags) is an error naming the
// key, the dataset and the nearest valid key, instead of being silently ignored as LF ignores it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "data/registry.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class DatasetInfoKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_dataset_info_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The tune::Error of resolving dataset "d" from this dataset_info.json text, or "(no error)".
  std::string error_of(const std::string& info) {
    std::ofstream(dir_ / "dataset_info.json") << info;
    try {
      resolve_datasets(dir_, {"d"});
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  std::string where() const { return (dir_ / "dataset_info.json").string() + ": dataset 'd'"; }

  fs::path dir_;
};

TEST_F(DatasetInfoKeys, UnknownEntryKeyNamesKeyDatasetAndNearest) {
  EXPECT_EQ(error_of(R"({"d": {"file_name": "d.json", "colums": {"prompt": "q"}}})"),
            where() + ": unknown key 'colums'; did you mean 'columns'?");
  EXPECT_EQ(error_of(R"({"d": {"file_name": "d.json", "rankin": true}})"),
            where() + ": unknown key 'rankin'; did you mean 'ranking'?");
  const std::string far = error_of(R"({"d": {"file_name": "d.json", "zzzzzzzz": 1}})");
  EXPECT_EQ(far.rfind(where() + ": unknown key 'zzzzzzzz'; LLaMA-Factory's keys here are hf_hub_url, ", 0), 0u)
      << far;
}

TEST_F(DatasetInfoKeys, UnknownColumnAndTagKeys) {
  EXPECT_EQ(error_of(R"({"d": {"file_name": "d.json", "columns": {"prompt": "q", "respons": "a"}}})"),
            where() + ": unknown key 'columns.respons'; did you mean 'columns.response'?");
  EXPECT_EQ(error_of(R"({"d": {"file_name": "d.json", "formatting": "sharegpt", "columns": {"messages": "m"},
                              "tags": {"role_tag": "r", "content_tag": "c", "user_tag": "u", "asistant_tag": "a"}}})"),
            where() + ": unknown key 'tags.asistant_tag'; did you mean 'tags.assistant_tag'?");
}

TEST_F(DatasetInfoKeys, EveryLlamaFactoryKeyIsAccepted) {
  EXPECT_EQ(error_of(R"({"d": {"file_name": "d.json", "file_sha1": "abc", "formatting": "alpaca", "ranking": true,
                              "subset": null, "split": "train", "folder": null, "num_samples": 10, "revision": null,
                              "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                          "history": "h", "system": "s", "tools": "t", "images": "i",
                                          "videos": "v", "audios": "a", "chosen": "c", "rejected": "r",
                                          "kto_tag": "k"}}})"),
            "(no error)");
}

}  // namespace
}  // namespace tune
