// `tune train CONFIG [key=value ...]`: a LLaMA-Factory training/evaluation/prediction run from its YAML config.
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "dist/communicator.h"
#include "dist/guard.h"
#include "dist/rank_output.h"
#include "train/trainer.h"

namespace tune::cli {

namespace {

// Under mpirun (or torchrun-style variables) every process runs this; rank 0 alone prints.
int run_train(const ParsedArgs& a) {
  const dist::LaunchEnv env = dist::read_launch_env();
  dist::quiet_unless_main(env.rank);
  std::optional<Plan> plan;
  return dist::run_guarded(
      env,
      [&] {
        plan = plan_from_args(a);
        return dist::connect(env, plan->device, plan->ddp_timeout);
      },
      [&](dist::Communicator& comm) {
        run_workflow(*plan, comm);  // prints the resolved plan once the run is set up
        return 0;
      });
}

}  // namespace

const CommandSpec& train_command() {
  static const CommandSpec spec{
      "train",
      "train (and/or evaluate, predict) a LoRA model from a LLaMA-Factory config",
      "tune train CONFIG.yaml [key=value ...]",
      "CONFIG is a LLaMA-Factory YAML or JSON file (stage pt|sft|rm, lora_*, dataset, template, output_dir,\n"
      "per_device_train_batch_size, gradient_accumulation_steps, learning_rate, lr_scheduler_type, ...);\n"
      "key=value, --key value and --key=value arguments override it (a true/false key alone, --do_train, means true).\n"
      "Once the model and data are loaded the resolved plan is printed and saved as output_dir/tune_plan.yaml.\n"
      "Writes what LLaMA-Factory writes: adapter_model.safetensors + adapter_config.json (PEFT), value_head.safetensors\n"
      "(rm), trainer_state.json, *_results.json, trainer_log.jsonl, training_*.svg plots (plot_loss), README.md model\n"
      "card, checkpoint-N/ every save_steps (resume_from_checkpoint: true continues the newest).\n"
      "Data parallel on the CPU: mpirun -np N tune train CONFIG.yaml (each rank takes every N-th batch as HF +\n"
      "accelerate do; total batch = per_device_train_batch_size x gradient_accumulation_steps x N; rank 0 writes).",
      {},
      1,
      kMaxOverrides,
      run_train,
      true};
  return spec;
}

}  // namespace tune::cli
