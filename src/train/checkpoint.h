// Checkpoints: output_dir/checkpoint-<step>/ with the adapter, value head, optimizer state, trainer_state.json and
// tune.cpp's exact loop state. Written into a temporary folder and renamed into place, so a kill during a save
// leaves every earlier checkpoint intact.
#pragma once
#include <filesystem>
#include <optional>

#include "report/run_facts.h"
#include "train/adamw.h"
#include "train/loop_state.h"
#include "train/run_setup.h"

namespace tune {

// Saves checkpoint-<state.global_step> and then removes the oldest ones beyond plan.save_total_limit.
void save_checkpoint(const std::filesystem::path& output_dir, const TrainingRun& run, const AdamW& optimizer,
                     const LoopState& state, const RunFacts& facts);

// The checkpoint-<N> folder with the largest N in output_dir (temporary folders are ignored), if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& output_dir);

// Restores adapter and value-head weights, optimizer state and loop state from a checkpoint folder. Errors name the
// file and say the checkpoint does not belong to this configuration when shapes or names differ.
void load_checkpoint(const std::filesystem::path& dir, TrainingRun& run, AdamW& optimizer, LoopState& state);

}  // namespace tune
