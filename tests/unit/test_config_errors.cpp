// Every way a config can be wrong gives one tune::Error that names the source, key and value.
#include <gtest/gtest.h>

#include "config/plan.h"
#include "core/error.h"

namespace tune {
namespace {

const std::string kDir = std::string(TUNE_TEST_DATA) + "/config/";
const std::string kBase = "model_name_or_path: m\ntemplate: gemma\n";

// The message parse_plan throws for text (+ overrides), or "(no error)".
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {},
                     ConfigFormat format = ConfigFormat::Yaml, const std::string& source = "config.yaml") {
  try {
    parse_plan(text, format, source, overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string load_error(const std::string& path) {
  try {
    load_plan(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

TEST(ConfigErrors, UnknownKeySuggestsTheNearest) {
  EXPECT_EQ(error_of(kBase + "learning_rat: 1e-5\n"),
            "config.yaml: unknown key 'learning_rat' (line 3); did you mean 'learning_rate'?");
  EXPECT_EQ(error_of(kBase + "evaluation_stratgy: steps\n"),
            "config.yaml: unknown key 'evaluation_stratgy' (line 3); did you mean 'evaluation_strategy'?");
  const std::string far = error_of(kBase + "zqxw_vvv: 1\n");
  EXPECT_TRUE(has(far, "config.yaml: unknown key 'zqxw_vvv' (line 3)")) << far;
  EXPECT_FALSE(has(far, "did you mean")) << far;
  EXPECT_EQ(error_of(kBase, {"lerning_rate=1e-5"}),
            "command line: unknown key 'lerning_rate' (in 'lerning_rate=1e-5'); did you mean 'learning_rate'?");
  EXPECT_TRUE(has(error_of("{\"model_name_or_path\": \"m\", \"templte\": \"gemma\"}", {}, ConfigFormat::Json,
                           "c.json"),
                  "c.json: unknown key 'templte'; did you mean 'template'?"));
}

TEST(ConfigErrors, OptimizersOtherThanAdamWAreRefused) {
  EXPECT_TRUE(has(error_of(kBase + "optim: adafactor\n"),
                  "config.yaml: optim 'adafactor' (line 3) is not supported: tune.cpp trains with AdamW"));
  EXPECT_TRUE(has(error_of(kBase + "optim: adamw_mystery\n"), "optim must be one of adamw_torch, adamw_torch_fused"));
  EXPECT_TRUE(has(error_of(kBase + "num_beams: 4\n"), "num_beams 4 (line 3) is not supported"));
  EXPECT_TRUE(has(error_of(kBase + "export_legacy_format: true\n"), "tune.cpp exports safetensors only"));
}

TEST(ConfigErrors, WrongTypesNameKeyAndValue) {
  EXPECT_EQ(error_of(kBase + "per_device_train_batch_size: abc\n"),
            "config.yaml: per_device_train_batch_size must be a positive integer, got 'abc' (line 3)");
  EXPECT_TRUE(has(error_of(kBase + "per_device_train_batch_size: 0\n"), "must be a positive integer, got '0'"));
  EXPECT_TRUE(has(error_of(kBase + "gradient_accumulation_steps: 1.5\n"), "must be a positive integer, got '1.5'"));
  EXPECT_TRUE(has(error_of(kBase + "cutoff_len: 99999999999\n"), "cutoff_len must be a positive integer"));
  EXPECT_TRUE(has(error_of(kBase + "learning_rate: fast\n"), "learning_rate must be a non-negative number, got 'fast'"));
  EXPECT_TRUE(has(error_of(kBase + "learning_rate: nan\n"), "learning_rate must be a non-negative number, got 'nan'"));
  EXPECT_TRUE(has(error_of(kBase + "learning_rate: [1, 2]\n"), "learning_rate must be a non-negative number, got '[1, 2]'"));
  EXPECT_TRUE(has(error_of(kBase + "fp16: maybe\n"), "fp16 must be true or false, got 'maybe' (line 3)"));
  EXPECT_TRUE(has(error_of(kBase + "seed: -1\n"), "seed must be a non-negative integer, got '-1'"));
  EXPECT_TRUE(has(error_of(kBase + "lora_rank: 0\n"), "lora_rank must be a positive integer, got '0'"));
  EXPECT_TRUE(has(error_of(kBase + "lora_dropout: 1.0\n"), "lora_dropout must be a number in [0, 1), got '1.0'"));
  EXPECT_TRUE(has(error_of(kBase + "warmup_ratio: 1.5\n"), "warmup_ratio must be a number in [0, 1]"));
  EXPECT_TRUE(has(error_of(kBase + "adam_beta2: 1\n"), "adam_beta2 must be a number in [0, 1)"));
  // Generation keys the generator cannot use: refused with the config, not at the first generated token.
  EXPECT_TRUE(has(error_of(kBase + "top_p: 0\n"), "top_p must be a number in (0, 1], got '0'"));
  EXPECT_TRUE(has(error_of(kBase + "repetition_penalty: 0.0\n"), "repetition_penalty must be a positive number"));
  EXPECT_TRUE(has(error_of(kBase + "max_steps: 0\n"), "max_steps must be -1 (train for num_train_epochs) or a positive"));
  EXPECT_TRUE(has(error_of(kBase + "max_steps: -2\n"), "max_steps must be -1"));
  EXPECT_TRUE(has(error_of(kBase + "threads: -1\n"), "threads must be a non-negative integer (0 = all cores)"));
  EXPECT_TRUE(has(error_of(kBase + "eval_steps: 0\n"), "eval_steps must be a positive integer"));
  EXPECT_TRUE(has(error_of(kBase + "dataset_dir: null\n"), "dataset_dir must be a folder holding dataset_info.json"));
  EXPECT_TRUE(has(error_of("template: gemma\nmodel_name_or_path: [a, b]\n"), "model_name_or_path must be a single value"));
  EXPECT_TRUE(has(error_of(kBase, {"per_device_eval_batch_size=x"}),
                  "command line: per_device_eval_batch_size must be a positive integer, got 'x' (in "
                  "'per_device_eval_batch_size=x')"));
  EXPECT_TRUE(has(error_of("{\"model_name_or_path\": \"m\", \"template\": \"gemma\", \"lora_rank\": \"abc\"}", {},
                           ConfigFormat::Json, "c.json"),
                  "c.json: lora_rank must be a positive integer, got 'abc'"));
}

TEST(ConfigErrors, ValSizeRange) {
  EXPECT_TRUE(has(error_of(kBase + "val_size: -0.1\n"), "val_size must be 0 (no eval split), a fraction in (0, 1)"));
  EXPECT_TRUE(has(error_of(kBase + "val_size: 2.5\n"), "or a whole count >= 1, got '2.5'"));
}

// LLaMA-Factory's rules for the preference keys of stage dpo.
TEST(ConfigErrors, PreferenceKeys) {
  const std::string dpo = kBase + "stage: dpo\n";
  EXPECT_EQ(error_of(dpo + "pref_beta: 0\n"), "config.yaml: pref_beta must be a positive number, got '0' (line 4)");
  EXPECT_TRUE(has(error_of(dpo + "pref_loss: kto_pair\n"), "pref_loss 'kto_pair' (line 4) is not supported"));
  EXPECT_TRUE(has(error_of(dpo + "pref_loss: dpo\n"), "pref_loss must be one of sigmoid, hinge, ipo, orpo, simpo"));
  EXPECT_TRUE(has(error_of(dpo + "dpo_label_smoothing: 0.6\n"), "dpo_label_smoothing must be a number in [0, 0.5]"));
  EXPECT_TRUE(has(error_of(dpo + "pref_loss: hinge\ndpo_label_smoothing: 0.1\n"),
                  "label smoothing is only defined for pref_loss: sigmoid"));
  EXPECT_TRUE(has(error_of(dpo + "pref_loss: orpo\nref_model: r\n"), "pref_loss orpo uses no reference model"));
  EXPECT_TRUE(has(error_of(dpo + "ref_model_adapters: a\n"), "ref_model_adapters is set but ref_model is not"));
  EXPECT_TRUE(has(error_of(kBase + "dataset: d\neval_dataset: e\nval_size: 0.1\n"),
                  "eval_dataset and val_size are both set"));
  EXPECT_EQ(error_of(dpo + "pref_loss: simpo\nsimpo_gamma: 1.0\npref_ftx: 0.5\nref_model: \n"), "(no error)");
}

TEST(ConfigErrors, BadEnumWordsListTheChoices) {
  EXPECT_TRUE(has(error_of(kBase + "lr_scheduler_type: cosine_with_restarts\n"),
                  "lr_scheduler_type must be one of linear, cosine, constant, constant_with_warmup, got "
                  "'cosine_with_restarts'"));
  EXPECT_EQ(error_of(kBase + "stage: ppo\n"),
            "config.yaml: stage 'ppo' (line 3) is not a supported stage (supported: pt, sft, rm, dpo; ORPO and SimPO "
            "are stage: dpo with pref_loss: orpo or simpo)");
  EXPECT_TRUE(has(error_of(kBase + "stage: orpo\n"), "stage: dpo with pref_loss: orpo or simpo"));
  EXPECT_TRUE(has(error_of(kBase + "stage: train\n"), "stage must be one of pt, sft, rm, dpo, got 'train'"));
  EXPECT_TRUE(has(error_of(kBase + "finetuning_type: full\n"),
                  "finetuning_type 'full' (line 3) is not supported: tune.cpp trains LoRA adapters only"));
  EXPECT_TRUE(has(error_of(kBase + "finetuning_type: qlora\n"), "finetuning_type must be one of lora"));
  EXPECT_TRUE(has(error_of(kBase + "eval_strategy: always\n"), "eval_strategy must be one of no, steps, epoch"));
  EXPECT_TRUE(has(error_of(kBase + "evaluation_strategy: always\n"),
                  "evaluation_strategy must be one of no, steps, epoch"));
  EXPECT_TRUE(has(error_of(kBase + "device: tpu\n"), "device must be one of cpu, cuda, auto, got 'tpu'"));
  EXPECT_TRUE(has(error_of(kBase + "rm_loss: mean\n"), "rm_loss must be one of per_token, last_token"));
  EXPECT_TRUE(has(error_of(kBase + "flash_attn: fast\n"), "flash_attn must be one of auto, disabled, sdpa, fa2, fa3"));
}

TEST(ConfigErrors, LoraTargetNames) {
  const std::string choices = "lora_target must be all or a comma list of q_proj, k_proj, v_proj, o_proj, gate_proj, "
                              "up_proj, down_proj";
  EXPECT_TRUE(has(error_of(kBase + "lora_target: q_proj,attn\n"), choices + ", got 'q_proj,attn'"));
  EXPECT_TRUE(has(error_of(kBase + "lora_target: all,q_proj\n"), choices));
  EXPECT_TRUE(has(error_of(kBase + "lora_target: null\n"), choices));
  EXPECT_TRUE(has(error_of(kBase + "lora_target: q_proj,,v_proj\n"), "without empty items"));
  EXPECT_TRUE(has(error_of(kBase + "lora_target: q_proj,v_proj,q_proj\n"), "lora_target lists 'q_proj' twice"));
}

TEST(ConfigErrors, QuantizationIsRejected) {
  EXPECT_EQ(error_of(kBase + "quantization_bit: 4\n"),
            "config.yaml: quantization_bit '4' (line 3) is not supported: tune.cpp has no quantized (QLoRA) "
            "training; remove the key or set it to null");
}

TEST(ConfigErrors, CrossKeyRules) {
  EXPECT_EQ(error_of(kBase + "fp16: true\nbf16: true\n"), "config.yaml: fp16 and bf16 are both true; set at most one of them");
  EXPECT_TRUE(has(error_of(kBase, {"fp16=true", "bf16=true"}), "fp16 and bf16 are both true"));
  EXPECT_TRUE(has(error_of("model_name_or_path: m\nstage: rm\n"), "config.yaml: stage rm needs a template"));
  EXPECT_TRUE(has(error_of("model_name_or_path: m\n"), "stage sft needs a template"));
  EXPECT_TRUE(has(error_of("template: gemma\n"), "config.yaml: model_name_or_path is missing"));
  EXPECT_TRUE(has(error_of(kBase + "do_train: true\ndataset: d\n"), "do_train needs output_dir"));
  EXPECT_TRUE(has(error_of(kBase + "do_train: true\noutput_dir: o\n"), "no dataset given"));
  EXPECT_TRUE(has(error_of(kBase + "do_train: true\noutput_dir: o\ndataset: d\neval_strategy: steps\n"),
                  "evaluation (eval_strategy steps) needs an evaluation split, but val_size is 0"));
  const std::string train = kBase + "do_train: true\noutput_dir: o\ndataset: d\n";
  EXPECT_TRUE(has(error_of(train + "do_eval: true\n"), "evaluation needs an evaluation split"));
  EXPECT_TRUE(has(error_of(train + "do_predict: true\n"), "do_predict needs an evaluation split"));
  // Without do_train the whole dataset is evaluated or scored: no split needed.
  EXPECT_NO_THROW(parse_plan(kBase + "do_eval: true\ndo_predict: true\ndataset: d\n", ConfigFormat::Yaml, "c.yaml"));
  EXPECT_TRUE(has(error_of(kBase + "resume_from_checkpoint: true\n"), "resume_from_checkpoint: true looks for"));
  EXPECT_TRUE(has(error_of(kBase + "do_train: true\noutput_dir: o\ndataset: d\nnum_train_epochs: 0\n"),
                  "num_train_epochs is 0 and max_steps is -1"));
  EXPECT_EQ(error_of(kBase + "do_train: true\noutput_dir: o\ndataset: d\nnum_train_epochs: 0\nmax_steps: 5\n"),
            "(no error)");
}

TEST(ConfigErrors, MalformedYamlNamesTheLine) {
  const std::string msg = error_of(kBase + "lora_target: [q_proj, v_proj\ncutoff_len: 10\n");
  EXPECT_TRUE(has(msg, "config.yaml: malformed YAML at line 4, column")) << msg;
  const std::string indent = error_of("model_name_or_path: m\n  template: gemma\n");
  EXPECT_TRUE(has(indent, "config.yaml: malformed YAML at line 2")) << indent;
}

TEST(ConfigErrors, MalformedJsonNamesTheLine) {
  const std::string msg = error_of("{\"model_name_or_path\": \"m\",\n \"template\": }", {}, ConfigFormat::Json, "c.json");
  EXPECT_TRUE(has(msg, "c.json: malformed JSON: parse error at line 2")) << msg;
}

TEST(ConfigErrors, DuplicateKeys) {
  EXPECT_EQ(error_of(kBase + "learning_rate: 1e-5\nseed: 1\nlearning_rate: 2e-5\n"),
            "config.yaml: key 'learning_rate' appears twice (lines 3 and 5); keep one of them");
  EXPECT_TRUE(has(error_of("{\"model_name_or_path\": \"m\", \"seed\": 1, \"seed\": 2}", {}, ConfigFormat::Json, "c.json"),
                  "c.json: key 'seed' appears twice"));
  EXPECT_TRUE(has(error_of(kBase + "evaluation_strategy: steps\neval_strategy: steps\n"),
                  "'evaluation_strategy' and 'eval_strategy' are the old and new names of the same key"));
}

TEST(ConfigErrors, TopLevelShape) {
  EXPECT_TRUE(has(error_of(""), "config.yaml: the top level must be a mapping"));
  EXPECT_TRUE(has(error_of("- a\n- b\n"), "got a list"));
  EXPECT_TRUE(has(error_of(kBase + "lora:\n  rank: 8\n"), "lora must be a single value or a list of values, got a mapping"));
  EXPECT_TRUE(has(error_of(kBase + "dataset: [[a]]\n"), "dataset must be a single value or a list of values, got a nested list"));
  EXPECT_TRUE(has(error_of("[1, 2]", {}, ConfigFormat::Json, "c.json"), "c.json: the top level must be a JSON object"));
  EXPECT_TRUE(has(error_of("{\"model_name_or_path\": {\"a\": 1}}", {}, ConfigFormat::Json, "c.json"),
                  "model_name_or_path must be a single value or a list of values, got an object"));
}

TEST(ConfigErrors, OverrideSyntax) {
  EXPECT_TRUE(has(error_of(kBase, {"learning_rate"}), "command line: expected key=value after the config file, got "
                                                      "'learning_rate'"));
  EXPECT_TRUE(has(error_of(kBase, {"=5"}), "expected key=value"));
  EXPECT_TRUE(has(error_of(kBase, {"dataset=[a"}), "command line: cannot read the value of 'dataset=[a'"));
}

TEST(ConfigErrors, Files) {
  EXPECT_TRUE(has(load_error(kDir + "no_such_config.yaml"), "no_such_config.yaml not found"));
  EXPECT_TRUE(has(load_error(kDir + "gemma2b_rm_lora.txt"), "unsupported config format '.txt'"));
  EXPECT_TRUE(has(load_error(kDir + "gemma2b_rm_lora"), "unsupported config format '(no extension)'"));
}

}  // namespace
}  // namespace tune
