// LLaMA-Factory keys tune.cpp does not implement say so (an error when used, a warning when left off), and report_to
// names integrations out loud instead of doing nothing.
#include <gtest/gtest.h>

#include "config/lf_unsupported_keys.h"
#include "config/plan.h"
#include "config/plan_keys.h"
#include "core/error.h"

namespace tune {
namespace {

const std::string kBase = "model_name_or_path: m\ntemplate: gemma\n";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    std::vector<std::string> warnings;
    parse_plan(text, ConfigFormat::Yaml, "config.yaml", overrides, &warnings);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> warnings_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> warnings;
  parse_plan(text, ConfigFormat::Yaml, "config.yaml", overrides, &warnings);
  return warnings;
}

TEST(LfKeys, UsedFeatureIsAnErrorNamingTheKey) {
  EXPECT_EQ(error_of(kBase + "deepspeed: examples/deepspeed/ds_z3_config.json\n"),
            "config.yaml: `deepspeed` is a LLaMA-Factory key that tune.cpp does not support yet (in LLaMA-Factory it "
            "trains with DeepSpeed ZeRO); got 'examples/deepspeed/ds_z3_config.json' (line 3); remove the key to "
            "train without it");
  for (const char* line : {"packing: true\n", "neftune_noise_alpha: 5\n", "loraplus_lr_ratio: 16.0\n",
                           "use_unsloth: true\n", "use_dora: true\n", "pissa_init: true\n", "use_galore: true\n",
                           "galore_rank: 32\n", "streaming: true\n", "mix_strategy: interleave_under\n"}) {
    const std::string e = error_of(kBase + line);
    const std::string key = std::string(line).substr(0, std::string(line).find(':'));
    EXPECT_NE(e.find("`" + key + "` is a LLaMA-Factory key that tune.cpp does not support yet"), std::string::npos)
        << line << e;
  }
  EXPECT_NE(error_of(kBase, {"packing=true"})
                .find("command line: `packing` is a LLaMA-Factory key that tune.cpp does not support yet (in "
                      "LLaMA-Factory it packs several examples into one sequence); got 'true' (in 'packing=true')"),
            std::string::npos);
}

TEST(LfKeys, DisabledOrDefaultValueIsAWarningAndChangesNothing) {
  const std::vector<std::string> w =
      warnings_of(kBase + "packing: false\nneftune_noise_alpha: null\ngalore_rank: 16\nmix_strategy: CONCAT\n"
                          "upcast_layernorm: no\nloraplus_lr_embedding: 1.0e-6\n");
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0],
            "config.yaml: `packing` is a LLaMA-Factory key that tune.cpp does not support yet (in LLaMA-Factory it "
            "packs several examples into one sequence); ignored, since 'false' (line 3) leaves it off");
  EXPECT_NE(w[1].find("`neftune_noise_alpha`"), std::string::npos) << w[1];
  EXPECT_NE(w[1].find("ignored, since 'null' (line 4) leaves it off"), std::string::npos) << w[1];
  EXPECT_NE(w[5].find("ignored, since '1.0e-6' (line 8)"), std::string::npos) << w[5];
  EXPECT_EQ(parse_plan(kBase + "packing: false\n", ConfigFormat::Yaml, "c.yaml", {}, nullptr),
            parse_plan(kBase, ConfigFormat::Yaml, "c.yaml"));
  // a quoted "false" is a string, not LF's bool default
  EXPECT_NE(error_of(kBase + "packing: \"false\"\n").find("does not support yet"), std::string::npos);
}

TEST(LfKeys, NoneIsAPlanKeyAndTheTableIsSorted) {
  const auto& keys = unsupported_lf_keys();
  ASSERT_GT(keys.size(), 90u);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) EXPECT_LT(keys[i - 1].name, keys[i].name);
    EXPECT_FALSE(keys[i].off.empty()) << keys[i].name;
    for (const auto& k : plan_keys()) EXPECT_NE(k.name, keys[i].name);
    EXPECT_EQ(find_unsupported_lf_key(keys[i].name), &keys[i]);
  }
  EXPECT_EQ(find_unsupported_lf_key("learning_rate"), nullptr);
  EXPECT_TRUE(is_bool_lf_key(*find_unsupported_lf_key("use_dora")));
  EXPECT_FALSE(is_bool_lf_key(*find_unsupported_lf_key("deepspeed")));
}

TEST(LfKeys, UnknownKeysStayUnknown) {
  EXPECT_NE(error_of(kBase + "zzqq_key: 1\n").find("config.yaml: unknown key 'zzqq_key' (line 3)"), std::string::npos);
  EXPECT_EQ(error_of(kBase + "learning_rat: 1\n"),
            "config.yaml: unknown key 'learning_rat' (line 3); did you mean 'learning_rate'?");
  EXPECT_EQ(error_of(kBase + "deepsped: ds.json\n"),
            "config.yaml: unknown key 'deepsped' (line 3); did you mean 'deepspeed'?");
}

TEST(ReportTo, IntegrationsAreAWarningNoneIsSilent) {
  EXPECT_TRUE(warnings_of(kBase + "report_to: none\n").empty());
  EXPECT_TRUE(warnings_of(kBase).empty());
  const std::vector<std::string> w = warnings_of(kBase + "report_to: wandb,tensorboard\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "config.yaml: report_to: wandb, tensorboard is not supported: tune.cpp has no reporting integrations and "
            "sends nothing anywhere; the metrics are in output_dir/trainer_log.jsonl and trainer_state.json "
            "(plot_loss: true draws them); set report_to: none to silence this");
  EXPECT_EQ(warnings_of(kBase, {"report_to=all"}).size(), 1u);
  const Plan p = parse_plan(kBase + "report_to: [mlflow]\n", ConfigFormat::Yaml, "c.yaml", {}, nullptr);
  EXPECT_EQ(p.report_to, std::vector<std::string>{"mlflow"});
}

TEST(ReportTo, UnknownIntegrationIsAnError) {
  const std::string e = error_of(kBase + "report_to: wandbb\n");
  EXPECT_NE(e.find("config.yaml: report_to must be none, all or a list of HF integrations (none, all, azure_ml"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("got 'wandbb' (line 3)"), std::string::npos) << e;
}

}  // namespace
}  // namespace tune
