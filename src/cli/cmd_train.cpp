// `tune train CONFIG [key=value ...]`: a LLaMA-Factory training/evaluation/prediction run from its YAML config.

#include "cli/commands.h"
#include "cli/run_config.h"
#include "train/trainer.h"

namespace tune::cli {

namespace {

int run_train(const ParsedArgs& a) {
  run_workflow(plan_from_args(a));  // prints the resolved plan once the run is set up
  return 0;
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
      "card, checkpoint-N/ every save_steps (resume_from_checkpoint: true continues the newest).",
      {},
      1,
      kMaxOverrides,
      run_train,
      true};
  return spec;
}

}  // namespace tune::cli
