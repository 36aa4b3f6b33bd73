// `tune train` checkpoints: resuming from any checkpoint gives bit-identical final weights and logs, a SIGKILL at any
// moment (checkpoint writes included) leaves only complete checkpoint-N folders, and save_total_limit prunes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "e2e/e2e_support.h"
#include "io/hf_config.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::json;

class TrainResume : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_tiny_model(*dir_ / "model", *dir_ / "new_model.log");
    // An rm run with every source of randomness on: LoRA dropout, value-head dropout (default 0.1), shuffling.
    // One thread: tiny matrices gain nothing from more, and the machine running the tests may be busy.
    write_text(*dir_ / "rm.yaml",
               "model_name_or_path: " + (*dir_ / "model").string() +
                   "\n"
                   "stage: rm\ndo_train: true\nfinetuning_type: lora\nlora_target: q_proj,v_proj\nlora_dropout: 0.1\n"
                   "dataset: age_bias\ndataset_dir: " + (kExample / "data").string() +
                   "\n"
                   "template: gemma\ncutoff_len: 256\nmax_samples: 40\n"
                   "per_device_train_batch_size: 2\ngradient_accumulation_steps: 2\nlearning_rate: 5.0e-3\n"
                   "lr_scheduler_type: cosine\nmax_steps: 9\nsave_steps: 3\nlogging_steps: 1\nseed: 42\nthreads: 1\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path config() { return *dir_ / "rm.yaml"; }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  static TempDir* dir_;
};
TempDir* TrainResume::dir_ = nullptr;

// The steps of out's checkpoint-N folders, ascending; none when out does not exist (a run killed in start-up).
std::vector<int64_t> checkpoint_steps(const fs::path& out) {
  static const std::regex name("checkpoint-([0-9]+)");
  std::vector<int64_t> steps;
  if (!fs::exists(out)) return steps;
  for (const auto& e : fs::directory_iterator(out)) {
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (std::regex_match(f, m, name)) steps.push_back(std::stoll(m[1]));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

Json read_json(const fs::path& file) { return Json::parse(read_bytes(file)); }

// log_history without the wall-clock keys, which differ from run to run.
Json timeless_history(const fs::path& out) {
  Json h = read_json(out / "trainer_state.json").at("log_history");
  for (auto& e : h)
    for (const char* k : {"eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "train_runtime",
                          "train_samples_per_second", "train_steps_per_second"})
      e.erase(k);
  return h;
}

// Trains into `full` once, then for each checkpoint copies `full`, removes the final weights from the copy and
// resumes from that checkpoint into it: weights must be byte-identical and the logs equal.
void expect_resume_identical(const fs::path& config, const std::vector<std::string>& overrides,
                             const std::vector<int64_t>& expected_checkpoints, const fs::path& work) {
  fs::create_directories(work);
  const fs::path full = work / "full";
  std::vector<std::string> o = overrides;
  o.push_back("output_dir=" + full.string());
  const auto t0 = std::chrono::steady_clock::now();
  const TuneRun r = run_tune(train_args(config, o), work / "full.log");
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  ASSERT_EQ(checkpoint_steps(full), expected_checkpoints);
  // train_runtime is the time spent training, so it cannot exceed the process's wall time (saves included).
  EXPECT_LE(read_json(full / "train_results.json").at("train_runtime").get<double>(), wall);

  for (int64_t step : expected_checkpoints) {
    SCOPED_TRACE("resumed from checkpoint-" + std::to_string(step));
    const fs::path copy = work / ("resumed-" + std::to_string(step));
    fs::copy(full, copy, fs::copy_options::recursive);
    for (const char* f : {"adapter_model.safetensors", "value_head.safetensors", "trainer_state.json",
                          "train_results.json", "all_results.json"})
      fs::remove(copy / f);
    std::vector<std::string> ro = overrides;
    ro.push_back("output_dir=" + copy.string());
    ro.push_back("resume_from_checkpoint=" + (copy / ("checkpoint-" + std::to_string(step))).string());
    const TuneRun rr = run_tune(train_args(config, ro), work / "resumed.log");
    ASSERT_EQ(rr.exit_code, 0) << tail(rr.output);
    EXPECT_NE(rr.output.find("resuming from"), std::string::npos);
    EXPECT_EQ(read_bytes(copy / "adapter_model.safetensors"), read_bytes(full / "adapter_model.safetensors"));
    EXPECT_EQ(read_bytes(copy / "value_head.safetensors"), read_bytes(full / "value_head.safetensors"));
    EXPECT_EQ(timeless_history(copy), timeless_history(full));
    // train_loss is the mean over every step, so it checks the restored loss accumulators bit for bit.
    EXPECT_EQ(read_json(copy / "train_results.json").at("train_loss").get<double>(),
              read_json(full / "train_results.json").at("train_loss").get<double>());
    // The checkpoints the resumed run wrote again are the same as the first run's.
    for (int64_t later : expected_checkpoints)
      if (later > step) {
        const std::string ck = "checkpoint-" + std::to_string(later);
        EXPECT_EQ(read_bytes(copy / ck / "adapter_model.safetensors"), read_bytes(full / ck / "adapter_model.safetensors"));
        EXPECT_EQ(read_bytes(copy / ck / "optimizer.safetensors"), read_bytes(full / ck / "optimizer.safetensors"));
      }
  }
}

TEST_F(TrainResume, EveryCheckpointResumesToIdenticalWeights) {
  // 36 training pairs, 18 micro-batches of 2 per epoch, GA 2: 9 updates in one epoch; checkpoints 3, 6, 9. An
  // evaluation every 2 steps on the 4 held-out pairs runs between updates and must not disturb anything; the
  // logging window (4 steps) straddles checkpoints, so the saved running loss matters.
  expect_resume_identical(config(), {"val_size=4", "do_eval=true", "eval_strategy=steps", "eval_steps=2",
                                     "logging_steps=4"},
                          {3, 6, 9}, tmp("one_epoch"));
}

TEST_F(TrainResume, ResumesAcrossAnEpochBoundaryWithAccumulation) {
  // 14 pairs: 7 micro-batches per epoch with GA 2, so epoch 0's last micro-batch is accumulated together with epoch
  // 1's first into update 4. num_train_epochs 2 -> 6 updates; checkpoints 2 (epoch 0), 4 (epoch 1, after the
  // straddling update) and 6: the epoch boundary falls between checkpoints 2 and 4.
  expect_resume_identical(config(), {"max_samples=14", "max_steps=-1", "num_train_epochs=2", "save_steps=2",
                                     "logging_steps=3"},
                          {2, 4, 6}, tmp("two_epochs"));
}

// Every checkpoint-N in out is a complete checkpoint that loads; anything else is a known output file or a
// temporary (.tmp-* folder, .<name>.tmp.* file).
void expect_only_complete_checkpoints(const fs::path& out, const ModelConfig& cfg) {
  if (!fs::exists(out)) return;
  static const std::regex ckpt("checkpoint-[0-9]+");
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0 || (name[0] == '.' && name.find(".tmp.") != std::string::npos)) continue;
    if (!std::regex_match(name, ckpt)) {
      EXPECT_FALSE(e.is_directory()) << "unexpected folder " << name;
      continue;
    }
    SCOPED_TRACE(e.path().string());
    ASSERT_TRUE(e.is_directory());
    std::vector<std::string> files;
    for (const auto& f : fs::directory_iterator(e.path())) files.push_back(f.path().filename().string());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{"adapter_config.json", "adapter_model.safetensors",
                                               "optimizer.safetensors", "trainer_state.json", "tune_loop_state.json",
                                               "value_head.safetensors"}));
    EXPECT_NO_THROW(load_peft_adapter(e.path(), cfg));
    EXPECT_NO_THROW(load_value_head(e.path() / "value_head.safetensors", cfg.hidden_size));
    EXPECT_NO_THROW(SafetensorsFile::open(e.path() / "optimizer.safetensors"));
    EXPECT_NO_THROW(read_json(e.path() / "tune_loop_state.json").at("global_step").get<int64_t>());
    EXPECT_NO_THROW(read_json(e.path() / "trainer_state.json").at("log_history"));
  }
}

// True when `out` holds the temporary folder (.tmp-checkpoint-<step>-<pid>) of process `pid`: it is writing, or
// died writing, a checkpoint.
bool writing_checkpoint(const fs::path& out, pid_t pid) {
  const std::regex its_temp(R"(\.tmp-checkpoint-[0-9]+-)" + std::to_string(pid));
  std::error_code ec;
  for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec))
    if (std::regex_match(it->path().filename().string(), its_temp)) return true;
  return false;
}

TEST_F(TrainResume, KillAtAnyMomentLeavesTheNewestCheckpointLoadable) {
  // 60 updates with a checkpoint after each (about half of the run is writing checkpoints); save_total_limit 3 also
  // deletes checkpoints under fire. Odd attempts are killed a few ms after a checkpoint write begins, even ones at a
  // random time (in start-up, a step or a write).
  const std::vector<std::string> run_keys = {"max_samples=300", "max_steps=60", "save_steps=1", "save_total_limit=3",
                                             "lora_target=all", "lora_rank=16"};
  const ModelConfig cfg = load_hf_config(tmp("model"));
  const fs::path reference = tmp("kill_reference"), out = tmp("kill_out");
  {
    std::vector<std::string> o = run_keys;
    o.push_back("output_dir=" + reference.string());
    o.push_back("save_steps=1000");
    const TuneRun r = run_tune(train_args(config(), o), tmp("kill_reference.log"));
    ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  }
  std::mt19937 rng(20240229);
  std::uniform_int_distribution<int> delay_ms(100, 400), write_delay_ms(0, 3);
  int kills = 0, kills_in_writes = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 8 && !finished; ++attempt) {
    std::vector<std::string> o = run_keys;
    o.push_back("output_dir=" + out.string());
    // Continue from the newest checkpoint (LLaMA-Factory's rule for a non-empty output_dir); with none yet, start over.
    if (fs::exists(out) && checkpoint_steps(out).empty()) o.push_back("overwrite_output_dir=true");
    const pid_t pid = spawn_tune(train_args(config(), o), tmp("kill.log"));
    const auto start = std::chrono::steady_clock::now();
    if (attempt % 2 == 1) {
      while (!writing_checkpoint(out, pid) && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(std::chrono::milliseconds(write_delay_ms(rng)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    }
    ::kill(pid, SIGKILL);
    const ExitStatus s = wait_for(pid);
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    if (s.signal == SIGKILL) {
      ++kills;
      kills_in_writes += writing_checkpoint(out, pid);
    } else {
      ASSERT_EQ(s.code, 0) << tail(read_bytes(tmp("kill.log")));
      finished = true;
    }
    expect_only_complete_checkpoints(out, cfg);
    EXPECT_LE(checkpoint_steps(out).size(), 3u);  // save_total_limit
  }
  std::printf("[          ] %d kills, %d of them during a checkpoint write\n", kills, kills_in_writes);
  EXPECT_GE(kills, 4);
  EXPECT_GE(kills_in_writes, 1);
  if (!finished) {
    std::vector<std::string> o = run_keys;
    o.push_back("output_dir=" + out.string());
    const bool resumes = !checkpoint_steps(out).empty();
    if (!resumes) o.push_back("overwrite_output_dir=true");
    const TuneRun r = run_tune(train_args(config(), o), tmp("kill_final.log"));
    ASSERT_EQ(r.exit_code, 0) << tail(r.output);
    EXPECT_EQ(r.output.find("resuming from") != std::string::npos, resumes) << tail(r.output);
  }
  expect_only_complete_checkpoints(out, cfg);
  EXPECT_EQ(checkpoint_steps(out), (std::vector<int64_t>{58, 59, 60}));
  EXPECT_EQ(read_bytes(out / "adapter_model.safetensors"), read_bytes(reference / "adapter_model.safetensors"));
  EXPECT_EQ(read_bytes(out / "value_head.safetensors"), read_bytes(reference / "value_head.safetensors"));
}

TEST_F(TrainResume, SaveTotalLimitKeepsTheNewestCheckpoints) {
  const fs::path out = tmp("limit");
  const TuneRun r = run_tune(train_args(config(), {"output_dir=" + out.string(), "max_steps=5", "save_steps=1",
                                                   "save_total_limit=2"}),
                             tmp("limit.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_EQ(checkpoint_steps(out), (std::vector<int64_t>{4, 5}));
  for (const auto& e : fs::directory_iterator(out))  // nothing temporary is left behind by a clean run
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();

  // Without a limit every checkpoint stays.
  const fs::path all = tmp("no_limit");
  const TuneRun r2 = run_tune(train_args(config(), {"output_dir=" + all.string(), "max_steps=5", "save_steps=2"}),
                              tmp("no_limit.log"));
  ASSERT_EQ(r2.exit_code, 0) << tail(r2.output);
  EXPECT_EQ(checkpoint_steps(all), (std::vector<int64_t>{2, 4}));
}

TEST_F(TrainResume, SaveOnlyModelCheckpointsHoldWeightsAndRefuseToResume) {
  const fs::path out = tmp("only_model");
  const TuneRun r = run_tune(train_args(config(), {"output_dir=" + out.string(), "max_steps=2", "save_steps=2",
                                                   "save_only_model=true"}),
                             tmp("only_model.log"));
  ASSERT_EQ(r.exit_code, 0) << tail(r.output);
  std::vector<std::string> files;
  for (const auto& f : fs::directory_iterator(out / "checkpoint-2")) files.push_back(f.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"adapter_config.json", "adapter_model.safetensors", "trainer_state.json",
                                             "value_head.safetensors"}));
  // The checkpoint's weights are the run's final ones (step 2 is the last step).
  EXPECT_EQ(read_bytes(out / "checkpoint-2" / "adapter_model.safetensors"),
            read_bytes(out / "adapter_model.safetensors"));

  const TuneRun resumed = run_tune(train_args(config(), {"output_dir=" + out.string(), "max_steps=4", "save_steps=2",
                                                         "resume_from_checkpoint=true"}),
                                   tmp("only_model_resume.log"));
  EXPECT_EQ(resumed.exit_code, 2);
  EXPECT_NE(resumed.output.find("saved with save_only_model: true"), std::string::npos) << tail(resumed.output);
  EXPECT_NE(resumed.output.find("adapter_name_or_path="), std::string::npos) << tail(resumed.output);
}

}  // namespace
}  // namespace tune::e2e
