// config.json as tune.cpp writes it keeps numbers in the source's text form: `tune export` edits only the dtype of
// the source text, and `tune new-model` writes float fields with their shortest digits (1e-06, not 9.99999997e-07).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "export/model_dir_files.h"
#include "io/hf_config_write.h"

namespace tune {
namespace {

TEST(ConfigJsonText, ExportChangesOnlyTheDtypeValue) {
  const std::string source =
      "{\n  \"architectures\": [\"GemmaForCausalLM\"],\n  \"rms_norm_eps\": 1e-06,\n  \"rope_theta\": 10000.0,\n"
      "  \"initializer_range\": 0.02,\n  \"odd\": 1E-6, \"nested\": {\"torch_dtype\": \"float32\", \"x\": [1.50, 2]},\n"
      "  \"torch_dtype\": \"float32\",\n  \"use_cache\": true\n}\n";
  const std::string out = config_json_with_dtype(source, "config.json", DType::BF16);
  std::string expected = source;
  expected.replace(expected.rfind("\"float32\""), 9, "\"bfloat16\"");  // the top-level one only
  EXPECT_EQ(out, expected);
}

TEST(ConfigJsonText, ExportUpdatesBothDtypeKeysAndAddsOneWhenAbsent) {
  EXPECT_EQ(config_json_with_dtype("{\"dtype\": null, \"torch_dtype\": \"float32\", \"eps\": 1e-5}", "c", DType::F16),
            "{\"dtype\": \"float16\", \"torch_dtype\": \"float16\", \"eps\": 1e-5}\n");
  EXPECT_EQ(config_json_with_dtype("{\n    \"rope_theta\": 10000.0,\n    \"eps\": 1e-06\n}", "c", DType::BF16),
            "{\n    \"rope_theta\": 10000.0,\n    \"eps\": 1e-06,\n    \"torch_dtype\": \"bfloat16\"\n}\n");
  EXPECT_EQ(config_json_with_dtype("{}", "c", DType::F32), "{\"torch_dtype\": \"float32\"}\n");
  const std::string added = config_json_with_dtype("{\"a\": {\"b\": 1}, \"c\": [1, {\"d\": 2}]}", "c", DType::F32);
  EXPECT_EQ(added, "{\"a\": {\"b\": 1}, \"c\": [1, {\"d\": 2}], \"torch_dtype\": \"float32\"}\n");
  EXPECT_EQ(nlohmann::json::parse(added)["c"][1]["d"], 2);
}

TEST(ConfigJsonText, NewModelConfigWritesFloatsAsPythonDoes) {
  ModelConfig cfg;  // rms_norm_eps 1e-6f, rope_theta 10000
  const std::string text = hf_config_json(cfg);
  EXPECT_NE(text.find("\"rms_norm_eps\": 1e-06,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"rope_theta\": 10000.0,"), std::string::npos) << text;
  cfg.rms_norm_eps = 1e-5f;
  EXPECT_NE(hf_config_json(cfg).find("\"rms_norm_eps\": 1e-05,"), std::string::npos);
}

}  // namespace
}  // namespace tune
