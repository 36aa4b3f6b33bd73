#include "train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "report/trainer_state.h"

namespace tune {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "checkpoint-";
constexpr const char* kLoopStateFile = "tune_loop_state.json";
constexpr const char* kOptimizerFile = "optimizer.safetensors";

// N for a folder named checkpoint-N (digits only), else -1.
int64_t checkpoint_step(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind(kPrefix, 0) != 0 || name.size() == std::string(kPrefix).size()) return -1;
  const std::string digits = name.substr(std::string(kPrefix).size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  return std::stoll(digits);
}

std::vector<std::pair<int64_t, fs::path>> checkpoints(const fs::path& output_dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  if (!fs::is_directory(output_dir)) return out;
  for (const auto& e : fs::directory_iterator(output_dir))
    if (e.is_directory() && checkpoint_step(e.path()) >= 0) out.emplace_back(checkpoint_step(e.path()), e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Doubles go through JSON as exact decimal strings so a resumed run continues with the same bits.
std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}
double from_exact(const nlohmann::json& j, const char* key, const fs::path& file) {
  TUNE_CHECK(j.contains(key) && j[key].is_string(), file.string(), ": missing or malformed '", key, "'");
  return std::strtod(j[key].get<std::string>().c_str(), nullptr);
}

nlohmann::ordered_json loop_state_json(const LoopState& s) {
  nlohmann::ordered_json j;
  j["global_step"] = s.global_step;
  j["epoch"] = s.epoch;
  j["step_in_epoch"] = s.step_in_epoch;
  j["total_micro_batches"] = s.total_micro_batches;
  j["last_logged_step"] = s.last_logged_step;
  j["tr_loss"] = exact(s.tr_loss);
  j["total_loss"] = exact(s.total_loss);
  j["epoch_progress"] = exact(s.epoch_progress);
  j["total_flos"] = exact(s.total_flos);
  j["train_seconds"] = exact(s.train_seconds);
  j["world_size"] = s.world_size;
  if (!s.tr_loss_by_rank.empty()) {
    j["tr_loss_by_rank"] = nlohmann::ordered_json::array();
    for (double v : s.tr_loss_by_rank) j["tr_loss_by_rank"].push_back(exact(v));
  }
  if (!s.train_metrics.empty()) j["train_metrics"] = s.train_metrics.to_json();
  return j;
}

void copy_tensor_values(Tensor& dst, const Tensor& src) { dst.data = src.data; }

// Deletes a checkpoint folder so that a kill midway cannot leave it half-deleted under its checkpoint-N name (which
// would then be taken for the newest checkpoint): it is renamed to a temporary name first.
void remove_checkpoint_dir(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  const fs::path doomed =
      dir.parent_path() / (".tmp-removing-" + dir.filename().string() + "-" + std::to_string(::getpid()));
  fs::remove_all(doomed);
  fs::rename(dir, doomed);
  fs::remove_all(doomed);
}

// Removes all but the `keep` highest-numbered checkpoint-N folders.
void keep_newest_checkpoints(const fs::path& output_dir, size_t keep) {
  const auto all = checkpoints(output_dir);
  for (size_t i = 0; i + keep < all.size(); ++i) remove_checkpoint_dir(all[i].second);
}

}  // namespace

void save_checkpoint(const fs::path& output_dir, const TrainingRun& run, const AdamW& optimizer,
                     const LoopState& state, const RunFacts& facts) {
  const fs::path final_dir = output_dir / (kPrefix + std::to_string(state.global_step));
  const fs::path tmp = output_dir / (".tmp-" + std::string(kPrefix) + std::to_string(state.global_step) + "-" +
                                     std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  save_peft_adapter(tmp, run.adapter);
  if (run.value_head) save_value_head(tmp / "value_head.safetensors", *run.value_head);
  save_trainer_state(tmp, run.plan, facts, state.log_history);
  // save_only_model (HF): the weights and trainer_state.json only, so the checkpoint cannot be resumed.
  if (!run.plan.save_only_model) {
    write_safetensors_f32(tmp / kOptimizerFile, optimizer.state_tensors(), DType::F32, optimizer.state_metadata());
    write_file_atomic(tmp / kLoopStateFile, loop_state_json(state).dump(2) + "\n");
  }
  remove_checkpoint_dir(final_dir);
  // save_total_limit: make room before the new checkpoint appears, so that a kill at any moment never leaves more
  // than the limit; but the newest existing checkpoint goes only after the new one is in place (limit 1), so that a
  // kill never leaves none.
  const size_t keep = run.plan.save_total_limit ? static_cast<size_t>(std::max(1, *run.plan.save_total_limit)) : 0;
  if (keep) keep_newest_checkpoints(output_dir, std::max<size_t>(keep - 1, 1));
  fs::rename(tmp, final_dir);
  if (keep) keep_newest_checkpoints(output_dir, keep);
}

std::optional<fs::path> latest_checkpoint(const fs::path& output_dir) {
  auto all = checkpoints(output_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

void load_checkpoint(const fs::path& dir, TrainingRun& run, AdamW& optimizer, LoopState& state) {
  TUNE_CHECK(fs::is_directory(dir), "checkpoint ", dir.string(), " does not exist; resume_from_checkpoint takes a ",
             "checkpoint-N folder or true for the newest one in output_dir");
  TUNE_CHECK(fs::exists(dir / kOptimizerFile) && fs::exists(dir / kLoopStateFile), dir.string(),
             " has no optimizer and loop state (it was saved with save_only_model: true), so training cannot resume "
             "from it; start a new run from its weights with adapter_name_or_path=", dir.string());
  const LoraAdapter saved = load_peft_adapter(dir, run.cfg);
  for (size_t l = 0; l < run.adapter.layers.size(); ++l)
    for (int p = 0; p < kNumProj; ++p) {
      auto& m = run.adapter.layers[l][p];
      const auto& s = saved.layers[l][p];
      TUNE_CHECK(m.has_value() == s.has_value() && (!m || (m->A.shape == s->A.shape && m->B.shape == s->B.shape)),
                 dir.string(), ": the checkpoint's LoRA modules differ from this configuration's (module ",
                 run.adapter.module_name(static_cast<int>(l), static_cast<Proj>(p)), "); resume with the config it was saved with");
      if (m) copy_tensor_values(m->A, s->A), copy_tensor_values(m->B, s->B);
    }
  if (run.value_head) {
    const ValueHead head = load_value_head(dir / "value_head.safetensors", run.cfg.hidden_size);
    copy_tensor_values(run.value_head->weight, head.weight);
    copy_tensor_values(run.value_head->bias, head.bias);
  }
  optimizer.load_state(SafetensorsFile::open(dir / kOptimizerFile));
  const fs::path loop_file = dir / kLoopStateFile;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(loop_file));
  } catch (const nlohmann::json::exception& e) {
    fail(loop_file.string(), ": not valid JSON (", e.what(), ")");
  }
  try {
    state.global_step = j.at("global_step").get<int64_t>();
    state.epoch = j.at("epoch").get<int>();
    state.step_in_epoch = j.at("step_in_epoch").get<int64_t>();
    state.total_micro_batches = j.at("total_micro_batches").get<int64_t>();
    state.last_logged_step = j.at("last_logged_step").get<int64_t>();
    state.world_size = j.value("world_size", 1);  // checkpoints from before data parallelism: one process
  } catch (const nlohmann::json::exception& e) {
    fail(loop_file.string(), ": missing or malformed counter (", e.what(), ")");
  }
  state.tr_loss = from_exact(j, "tr_loss", loop_file);
  state.total_loss = from_exact(j, "total_loss", loop_file);
  state.epoch_progress = from_exact(j, "epoch_progress", loop_file);
  state.total_flos = from_exact(j, "total_flos", loop_file);
  state.train_seconds = from_exact(j, "train_seconds", loop_file);
  state.tr_loss_by_rank.clear();
  if (j.contains("tr_loss_by_rank")) {
    const auto& by_rank = j["tr_loss_by_rank"];
    TUNE_CHECK(by_rank.is_array() && by_rank.size() == static_cast<size_t>(state.world_size), loop_file.string(),
               ": 'tr_loss_by_rank' must list one value per rank (world_size ", state.world_size, ")");
    for (const auto& v : by_rank) {
      TUNE_CHECK(v.is_string(), loop_file.string(), ": malformed 'tr_loss_by_rank'");
      state.tr_loss_by_rank.push_back(std::strtod(v.get<std::string>().c_str(), nullptr));
    }
  }
  try {
    if (j.contains("train_metrics")) state.train_metrics = MetricWindow::from_json(j["train_metrics"]);
  } catch (const nlohmann::json::exception& e) {
    fail(loop_file.string(), ": malformed train_metrics (", e.what(), ")");
  }
  const auto trainer_state = nlohmann::ordered_json::parse(read_text_file(dir / "trainer_state.json"));
  state.log_history = trainer_state.at("log_history");
}

}  // namespace tune
