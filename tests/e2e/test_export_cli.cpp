// `tune export` end to end: a bf16 tiny model with the age_bias tokenizer and a PEFT adapter (+ value head) becomes an
// HF model folder whose weights are the library's PEFT-exact merge; bad input exits 2 with one clear error line and
// leaves no export_dir (and no temp folder) behind.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "e2e/e2e_support.h"
#include "export/export_model.h"
#include "io/gguf.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "model/merge.h"

namespace tune::e2e {
namespace {

class ExportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const fs::path model = tmp("model");
    const TuneRun r = run_tune({"new-model", model.string(), "--vocab", "2000", "--hidden", "64", "--intermediate",
                                "128", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--head-dim", "16",
                                "--dtype", "bf16", "--seed", "3"},
                               tmp("new_model.log"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* name : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
      fs::copy_file(kExample / "model" / name, model / name);

    const ModelConfig cfg = load_hf_config(model);
    LoraConfig lc;
    lc.r = 4;
    lc.lora_alpha = 8;
    lc.target_modules = {"q_proj", "v_proj", "down_proj"};
    LoraAdapter adapter = init_lora(cfg, lc, 11);
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (auto& layer : adapter.layers)
      for (auto& m : layer)
        if (m)
          for (float& b : m->B.data) b = normal(rng);  // a non-zero B, so the merge changes the weights
    save_peft_adapter(tmp("adapter"), adapter);
    ValueHead head;
    head.weight = Tensor({1, cfg.hidden_size});
    head.bias = Tensor({1});
    for (float& w : head.weight.data) w = normal(rng);
    head.bias.data[0] = 0.25f;
    fs::copy(tmp("adapter"), tmp("rm_adapter"));
    save_value_head(tmp("rm_adapter") / "value_head.safetensors", head);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  // A config for `tune export` with the given extra YAML lines.
  static fs::path config(const std::string& name, const std::string& extra) {
    const fs::path file = tmp(name + ".yaml");
    write_text(file, "model_name_or_path: " + tmp("model").string() + "\ntemplate: gemma\n" + extra);
    return file;
  }
  static TuneRun tune_export(const fs::path& cfg, const std::vector<std::string>& overrides = {}) {
    std::vector<std::string> args = {"export", cfg.string()};
    args.insert(args.end(), overrides.begin(), overrides.end());
    return run_tune(args, tmp(cfg.stem().string() + ".log"));
  }
  // Bad input: exit status 2, an error line containing `message`, and no folder at `out`.
  static void expect_refused(const TuneRun& r, const std::string& message, const fs::path& out) {
    EXPECT_EQ(r.exit_code, 2) << tail(r.output);
    EXPECT_NE(r.output.find("error: "), std::string::npos) << tail(r.output);
    EXPECT_NE(r.output.find(message), std::string::npos) << tail(r.output);
    EXPECT_FALSE(fs::exists(out));
    for (const auto& e : fs::directory_iterator(out.parent_path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }

  static TempDir* dir_;
};
TempDir* ExportCli::dir_ = nullptr;

TEST_F(ExportCli, WritesAnHfFolderWithPeftMergedWeights) {
  const fs::path out = tmp("exports") / "merged";
  const TuneRun r = tune_export(config("sft", "adapter_name_or_path: " + tmp("adapter").string() +
                                                   "\nexport_dir: " + out.string() + "\n"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json", "tokenizer.model",
                        "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "value_head.safetensors"));  // sft adapter: no value head
  EXPECT_FALSE(fs::exists(out / "model.safetensors.index.json"));
  EXPECT_EQ(read_bytes(out / "tokenizer.model"), read_bytes(tmp("model") / "tokenizer.model"));
  EXPECT_NE(read_bytes(out / "config.json").find("\"torch_dtype\": \"bfloat16\""), std::string::npos);

  const ModelConfig cfg = load_hf_config(out);
  EXPECT_EQ(cfg.torch_dtype, DType::BF16);
  ModelWeights want = load_hf_weights(tmp("model"), cfg);
  const ModelWeights base = want;
  merge_lora(want, load_peft_adapter(tmp("adapter"), cfg), DType::BF16);
  const SafetensorsFile got = SafetensorsFile::open(out / "model.safetensors");
  EXPECT_EQ(got.find("lm_head.weight"), nullptr);  // tied
  for (const TensorInfo& t : got.tensors()) EXPECT_EQ(t.dtype, DType::BF16) << t.name;
  const ModelWeights loaded = load_hf_weights(out, cfg);
  EXPECT_EQ(loaded.layers[1].q.dense.data, want.layers[1].q.dense.data);
  EXPECT_EQ(loaded.layers[0].down.dense.data, want.layers[0].down.dense.data);
  EXPECT_EQ(loaded.layers[0].k.dense.data, base.layers[0].k.dense.data);  // not targeted
  EXPECT_NE(loaded.layers[0].q.dense.data, base.layers[0].q.dense.data);

  const TuneRun inspect = run_tune({"inspect", out.string()}, tmp("inspect.log"));
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("stored as BF16"), std::string::npos) << inspect.output;
}

TEST_F(ExportCli, RewardModelGetsItsValueHead) {
  const fs::path out = tmp("rm_merged");
  const TuneRun r = tune_export(config("rm", "stage: rm\nadapter_name_or_path: " + tmp("rm_adapter").string() +
                                                 "\nexport_dir: " + out.string() + "\n"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_EQ(read_bytes(out / "value_head.safetensors"), read_bytes(tmp("rm_adapter") / "value_head.safetensors"));
}

TEST_F(ExportCli, RewardModelWithoutValueHeadIsRefused) {
  const fs::path out = tmp("rm_no_head");
  expect_refused(tune_export(config("rm_no_head", "stage: rm\nadapter_name_or_path: " + tmp("adapter").string() +
                                                      "\nexport_dir: " + out.string() + "\n")),
                 "value_head.safetensors does not exist", out);
}

TEST_F(ExportCli, MissingExportDirKeyIsRefused) {
  const TuneRun r = tune_export(config("no_dir", ""));
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("error: "), std::string::npos);
  EXPECT_NE(r.output.find("export_dir is missing; set export_dir"), std::string::npos) << tail(r.output);
}

TEST_F(ExportCli, LoraGgufAloneNeedsNoExportDir) {
  const fs::path out = tmp("gguf") / "adapter.gguf";  // its folder is created
  const TuneRun r = tune_export(config("lora_gguf", "stage: rm\nadapter_name_or_path: " + tmp("rm_adapter").string() +
                                                        "\nexport_lora_gguf: " + out.string() +
                                                        "\nexport_lora_gguf_type: f16\n"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_NE(r.output.find("as a llama.cpp LoRA adapter (6 modules, f16)"), std::string::npos) << tail(r.output);
  EXPECT_NE(r.output.find("llama.cpp has no value head"), std::string::npos) << tail(r.output);
  const GgufFile f = GgufFile::open(out);
  EXPECT_EQ(f.get_string("general.architecture"), "gemma");
  EXPECT_EQ(f.get_string("general.name"), "rm_adapter");
  EXPECT_EQ(f.get_float("adapter.lora.alpha"), 8.0);
  ASSERT_EQ(f.tensors().size(), 12u);  // 2 layers x q, v, down x (a, b)
  EXPECT_EQ(f.tensor("blk.1.ffn_down.weight.lora_b").type, GgmlType::F16);
  EXPECT_EQ(f.tensor("blk.1.ffn_down.weight.lora_b").ne, (std::vector<int64_t>{4, 64}));  // [r, out]
  EXPECT_FALSE(fs::exists(tmp("lora_gguf_merged")));
}

TEST_F(ExportCli, LoraGgufOfTwoAdaptersIsRefused) {
  const fs::path out = tmp("two.gguf");
  const TuneRun r = tune_export(config("lora_gguf_two", "adapter_name_or_path: " + tmp("adapter").string() + "," +
                                                            tmp("adapter").string() + "\nexport_lora_gguf: " +
                                                            out.string() + "\n"));
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("export_lora_gguf writes one adapter, but adapter_name_or_path names 2"), std::string::npos)
      << tail(r.output);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ExportCli, NonEmptyExportDirNeedsOverwrite) {
  const fs::path out = tmp("occupied");
  fs::create_directories(out);
  write_text(out / "notes.txt", "keep me");
  const fs::path cfg = config("occupied", "export_dir: " + out.string() + "\n");
  const TuneRun r = tune_export(cfg);
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("exists and is not empty; set overwrite_output_dir: true"), std::string::npos)
      << tail(r.output);
  EXPECT_EQ(read_bytes(out / "notes.txt"), "keep me");

  const TuneRun again = tune_export(cfg, {"overwrite_output_dir=true"});
  ASSERT_EQ(again.exit_code, 0) << tail(again.output);
  EXPECT_FALSE(fs::exists(out / "notes.txt"));
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
}

TEST_F(ExportCli, OverwriteNeverReplacesTheConfigOrTheWorkingFolder) {
  // export_dir is the folder the config lives in: overwrite_output_dir must not delete the config with it.
  const fs::path project = tmp("project");
  fs::create_directories(project);
  const fs::path cfg = project / "export.yaml";
  const std::string text = "model_name_or_path: " + tmp("model").string() + "\ntemplate: gemma\nexport_dir: " +
                           project.string() + "\noverwrite_output_dir: true\n";
  write_text(cfg, text);
  const TuneRun r = tune_export(cfg);
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("error: export_dir " + project.string() + " is or contains the config file"),
            std::string::npos)
      << tail(r.output);
  ASSERT_TRUE(fs::exists(cfg));
  EXPECT_EQ(read_bytes(cfg), text);

  // export_dir "." from inside a folder with the user's files (the library call, run from that folder).
  const fs::path work = tmp("workdir");
  fs::create_directories(work);
  write_text(work / "notes.txt", "keep me");
  const fs::path cwd = fs::current_path();
  fs::current_path(work);
  ExportRequest req;
  req.model_dir = tmp("model");
  req.export_dir = ".";
  req.overwrite = true;
  try {
    export_merged_model(req);
    ADD_FAILURE() << "export_dir . replaced the working folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is or contains the working folder"), std::string::npos) << e.what();
  }
  fs::current_path(cwd);
  EXPECT_EQ(read_bytes(work / "notes.txt"), "keep me");
}

TEST_F(ExportCli, UnusablePathIsAnErrorNotACrash) {
  const fs::path out = tmp(std::string(300, 'x'));  // longer than a file name may be
  const TuneRun r = tune_export(config("long_name", "export_dir: " + out.string() + "\n"));
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  EXPECT_NE(r.output.find("error: cannot use " + out.string() + ": File name too long; check the path"),
            std::string::npos)
      << tail(r.output);
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << tail(r.output);
}

TEST_F(ExportCli, MismatchedAdapterIsRefused) {
  const fs::path out = tmp("mismatch");
  const fs::path other = kRepo / "tests" / "data" / "golden" / "mqa" / "adapter";  // trained for another model
  expect_refused(tune_export(config("mismatch", "adapter_name_or_path: " + other.string() + "\nexport_dir: " +
                                                    out.string() + "\n")),
                 (other / "adapter_model.safetensors").string(), out);
}

TEST_F(ExportCli, AdapterTargetingMissingModulesIsRefused) {
  const fs::path adapter = tmp("bad_targets");
  fs::copy(tmp("adapter"), adapter);
  std::string text = read_bytes(adapter / "adapter_config.json");
  text.replace(text.find("\"q_proj\""), 8, "\"dense\"");
  write_text(adapter / "adapter_config.json", text);
  const fs::path out = tmp("bad_targets_out");
  expect_refused(tune_export(config("bad_targets", "adapter_name_or_path: " + adapter.string() + "\nexport_dir: " +
                                                       out.string() + "\n")),
                 (adapter / "adapter_model.safetensors").string(), out);
}

// kill -9 at any moment: export_dir is either absent or a complete folder that loads (the staged temp folder may
// stay behind, hidden, next to it).
TEST_F(ExportCli, KillLeavesNoHalfWrittenExportDir) {
  const fs::path model = tmp("big_model");
  const TuneRun made = run_tune({"new-model", model.string(), "--vocab", "8000", "--hidden", "256", "--intermediate",
                                 "1024", "--layers", "4", "--heads", "4", "--kv-heads", "1", "--head-dim", "64"},
                                tmp("big_model.log"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  int absent = 0, complete = 0;
  for (int delay_ms : {0, 20, 40, 60, 80, 120, 160, 240, 400, 2000}) {
    const fs::path out = tmp("killed_" + std::to_string(delay_ms));
    const fs::path cfg = tmp("killed.yaml");
    write_text(cfg, "model_name_or_path: " + model.string() + "\ntemplate: gemma\nexport_dir: " + out.string() + "\n");
    const pid_t pid = spawn_tune({"export", cfg.string()}, tmp("killed.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    wait_for(pid);
    if (!fs::exists(out)) {
      ++absent;
      continue;
    }
    const ModelConfig cfg_out = load_hf_config(out);
    EXPECT_NO_THROW(load_hf_weights(out, cfg_out)) << out;
    EXPECT_TRUE(fs::is_regular_file(out / "generation_config.json")) << out;
    ++complete;
  }
  std::printf("killed exports: %d left no export_dir, %d finished before the kill\n", absent, complete);
  EXPECT_GT(complete, 0);  // the 2 s run finishes
}

}  // namespace
}  // namespace tune::e2e
