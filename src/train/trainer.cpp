#include "train/trainer.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/numpy_rng.h"
#include "dist/communicator.h"
#include "io/peft_adapter.h"
#include "model/memory_plan.h"
#include "report/model_card.h"
#include "report/plot_loss.h"
#include "report/progress.h"
#include "core/py_json.h"
#include "report/trainer_log.h"
#include "report/trainer_state.h"
#include "train/checkpoint.h"
#include "train/dist_eval.h"
#include "train/grad_sync.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/params.h"
#include "train/sft_predict.h"
#include "train/shard.h"
#include "train/stage_step.h"
#include "train/step_math.h"

namespace tune {

namespace fs = std::filesystem;

namespace {

// The longest sequence of the training examples (a pair's longer side): the T of the largest micro-batch.
int64_t longest_example(const TrainingRun& run) {
  int64_t T = 0;
  for (const int64_t i : run.train_indices) {
    const size_t k = static_cast<size_t>(i);
    if (!run.data.pairwise.empty()) {
      const PairwiseExample& e = run.data.pairwise[k];
      T = std::max<int64_t>(T, int64_t(e.prompt_ids.size() + std::max(e.chosen_ids.size(), e.rejected_ids.size())));
    } else {
      T = std::max<int64_t>(T, int64_t(run.data.supervised[k].input_ids.size()));
    }
  }
  return T;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One dropout stream per micro-batch, a pure function of its global batch index (train/shard.h: it includes the
// rank) so a resumed run, and one process with world x the accumulation, draw the same masks.
uint64_t micro_batch_seed(int64_t seed, int epoch, int64_t global_batch) {
  uint64_t z = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch) << 40) ^
               static_cast<uint64_t>(global_batch);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The order of the training examples in an epoch: seeded by seed + epoch like HF's sampler (numpy's generator
// rather than torch's, so it is not the same permutation).
std::vector<int64_t> epoch_order(const TrainingRun& run, int epoch) {
  const auto perm = numpy_permutation(static_cast<int64_t>(run.train_indices.size()),
                                      static_cast<uint64_t>(run.plan.seed + epoch));
  std::vector<int64_t> order;
  order.reserve(perm.size());
  for (int64_t p : perm) order.push_back(run.train_indices[static_cast<size_t>(p)]);
  return order;
}

// HF floating_point_ops: 6 x (non-embedding parameters) x input tokens of a micro-batch.
double micro_batch_flos(const TrainingRun& run, const Batch& batch) {
  const double H = run.cfg.hidden_size, I = run.cfg.intermediate_size;
  const double per_layer = H * run.cfg.q_dim() * 2 + H * run.cfg.kv_dim() * 2 + 3 * H * I + 2 * H;
  return 6.0 * (per_layer * run.cfg.num_layers + run.adapter.num_params()) * batch.tokens();
}

// The plan the reports describe: on the CPU the run computed in fp32 whatever fp16/bf16 say.
Plan reported_plan(const Plan& plan) {
  Plan p = plan;
  p.fp16 = p.bf16 = false;
  return p;
}

void copy_tokenizer_files(const fs::path& model_dir, const fs::path& out) {
  for (const char* name : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"})
    if (fs::exists(model_dir / name)) fs::copy_file(model_dir / name, out / name, fs::copy_options::overwrite_existing);
}

class Workflow {
 public:
  Workflow(TrainingRun& run, GemmaModel& model, dist::Communicator& comm, ReferenceModel reference)
      : run_(run), model_(model), comm_(comm), reference_(reference), out_(run.plan.output_dir) {}

  void train(const std::optional<fs::path>& resume_from);
  void evaluate_and_save();
  void predict_and_save();
  void sft_predict_and_save();
  void save_card() const {
    if (comm_.is_main()) save_model_card(out_, reported_plan(run_.plan), facts(), state_.log_history);
  }

 private:
  void log_entry(const nlohmann::ordered_json& entry, Progress& progress, double elapsed);
  void run_eval(Progress& progress, double elapsed);
  RunFacts facts() const;
  void store_flos();
  void print_throughput(double train_seconds, int64_t gradient_values);
  void save(const AdamW& optimizer, double elapsed);

  TrainingRun& run_;
  GemmaModel& model_;
  dist::Communicator& comm_;
  ReferenceModel reference_;  // dpo
  fs::path out_;
  double current_flos_ = 0.0;  // this rank's flos since the last store_flos (HF current_flos)
  int64_t tokens_ = 0;         // this rank's padded input tokens trained in this process (throughput line)
  double sync_seconds_ = 0.0;  // time in the gradient all-reduce, and how many there were
  int64_t syncs_ = 0;
  TrainSchedule schedule_;
  LoopState state_;
};

RunFacts Workflow::facts() const {
  RunFacts f;
  f.world_size = comm_.world_size();
  f.global_step = static_cast<int>(state_.global_step);
  f.max_steps = static_cast<int>(schedule_.max_steps);
  f.steps_per_epoch = static_cast<int>(schedule_.updates_per_epoch);
  f.epoch = state_.epoch_progress;
  f.total_flos = state_.total_flos;
  return f;
}

// HF store_flos: the flos every rank counted since the last call join the run's total.
void Workflow::store_flos() {
  state_.total_flos += dist::all_reduce_scalar(comm_, current_flos_, dist::ReduceOp::Sum);
  current_flos_ = 0.0;
}

// What bench/run_dist_bench.sh reads: tokens/s of all ranks and the gradient sync's cost per optimizer step (the
// all-reduce plus the wait for the slowest rank).
void Workflow::print_throughput(double train_seconds, int64_t gradient_values) {
  const double tokens = dist::all_reduce_scalar(comm_, static_cast<double>(tokens_), dist::ReduceOp::Sum);
  std::fprintf(stderr, "throughput: %.0f tokens/s (%.0f padded input tokens in %.2f s on %d process(es)); gradient "
               "sync of %lld values (all-reduce and wait for the slowest rank): %.3f ms per optimizer step\n",
               train_seconds > 0 ? tokens / train_seconds : 0.0, tokens, train_seconds, comm_.world_size(),
               static_cast<long long>(gradient_values), syncs_ ? 1e3 * sync_seconds_ / static_cast<double>(syncs_) : 0.0);
}

// A checkpoint: every rank contributes its flos and its loss accumulator, rank 0 alone writes.
void Workflow::save(const AdamW& optimizer, double elapsed) {
  store_flos();
  state_.train_seconds = elapsed;
  state_.world_size = comm_.world_size();
  state_.tr_loss_by_rank.clear();
  if (comm_.world_size() > 1) {
    state_.tr_loss_by_rank.assign(static_cast<size_t>(comm_.world_size()), 0.0);
    state_.tr_loss_by_rank[static_cast<size_t>(comm_.rank())] = state_.tr_loss;
    comm_.all_reduce(std::span<double>(state_.tr_loss_by_rank), dist::ReduceOp::Sum);
  }
  if (comm_.is_main()) save_checkpoint(out_, run_, optimizer, state_, facts());
}

void Workflow::log_entry(const nlohmann::ordered_json& entry, Progress& progress, double elapsed) {
  state_.log_history.push_back(entry);
  progress.log(entry);
  if (!comm_.is_main()) return;
  LogClock clock;
  clock.current_steps = static_cast<int>(state_.global_step);
  clock.total_steps = static_cast<int>(schedule_.max_steps);
  clock.elapsed_s = elapsed;
  append_trainer_log(out_, trainer_log_record(entry, clock));
}

void Workflow::run_eval(Progress& progress, double elapsed) {
  const EvalResult r = evaluate_sharded(model_, run_, run_.eval_indices, comm_, reference_);
  log_entry(eval_log_entry(r.run, state_.epoch_progress, static_cast<int>(state_.global_step)), progress, elapsed);
}

void Workflow::train(const std::optional<fs::path>& resume_from) {
  const Plan& plan = run_.plan;
  TUNE_CHECK(!run_.train_indices.empty(), "no training examples left after the val_size split");
  const int world = comm_.world_size(), rank = comm_.rank();
  schedule_ = make_train_schedule(plan, static_cast<int64_t>(run_.train_indices.size()), world);
  const LrSchedule lr = make_lr_schedule(plan, schedule_.max_steps);
  const std::vector<ParamRef> params = trainable_params(run_.adapter, run_.value_head ? &*run_.value_head : nullptr);
  AdamW optimizer(params, adamw_options(plan));
  if (resume_from) {
    load_checkpoint(*resume_from, run_, optimizer, state_);
    TUNE_CHECK(state_.world_size == world, resume_from->string(), " was saved by a run on ", state_.world_size,
               " process(es) but this run has ", world, "; resume with the same number (mpirun -np ",
               state_.world_size, "), since each rank's data order and loss accumulator depend on it, or start ",
               "over with overwrite_output_dir: true");
    TUNE_CHECK(world == 1 || state_.tr_loss_by_rank.size() == static_cast<size_t>(world), resume_from->string(),
               ": tune_loop_state.json lacks the ranks' loss accumulators (tr_loss_by_rank); it is damaged");
    if (world > 1) state_.tr_loss = state_.tr_loss_by_rank[static_cast<size_t>(rank)];
    std::fprintf(stderr, "resuming from %s at step %lld\n", resume_from->c_str(),
                 static_cast<long long>(state_.global_step));
  } else if (comm_.is_main()) {
    fs::remove(out_ / "trainer_log.jsonl");
  }
  const bool rm = run_.stage == Stage::Rm;
  const bool eval_steps = plan.eval_strategy == "steps" && !run_.eval_indices.empty();
  std::fprintf(stderr,
               "***** training *****\n  examples %zu, epochs %d, micro-batch %d, gradient accumulation %d, total "
               "batch %lld\n  optimizer steps %lld, trainable parameters %lld, threads %d, processes %d (%s)\n",
               run_.train_indices.size(), schedule_.num_epochs, plan.per_device_train_batch_size,
               plan.gradient_accumulation_steps, static_cast<long long>(schedule_.total_train_batch_size),
               static_cast<long long>(schedule_.max_steps), static_cast<long long>(num_elements(params)),
               omp_get_max_threads(), world, comm_.backend());
  MemoryPlan memory = memory_plan(run_.cfg, run_.weights);
  const int64_t rows = int64_t(plan.per_device_train_batch_size) * (run_.data.pairwise.empty() ? 1 : 2);
  add_training(memory, run_.cfg, run_.adapter, num_elements(params), rows, longest_example(run_));
  std::fputs(format_memory_plan(memory).c_str(), stderr);

  Progress progress(static_cast<int>(schedule_.max_steps), std::cout, Progress::stdout_is_terminal());
  const auto t0 = Clock::now();
  const double seconds_before_resume = state_.train_seconds;  // state_.train_seconds is updated at each save
  auto elapsed = [&] { return seconds_before_resume + seconds_since(t0); };
  // DDP's mean over ranks folded into the loss scale: each rank's micro-batch counts 1 / (GA · world).
  const float grad_scale = 1.0f / static_cast<float>(plan.gradient_accumulation_steps * world);
  GradAccumulator accumulated(params);
  zero_grads(params);
  bool done = state_.global_step >= schedule_.max_steps;
  for (int epoch = state_.epoch; epoch < schedule_.num_epochs && !done; ++epoch) {
    const std::vector<int64_t> order = padded_order(epoch_order(run_, epoch), plan.per_device_train_batch_size, world);
    const int64_t first = epoch == state_.epoch ? state_.step_in_epoch : 0;
    for (int64_t s = first; s < schedule_.batches_per_epoch && !done; ++s) {
      const Batch batch = make_batch(run_, rank_batch(order, plan.per_device_train_batch_size, world, rank, s));
      auto step_start = Clock::now();
      const double loss = train_micro_batch(model_, run_, batch, grad_scale,
                                            micro_batch_seed(plan.seed, epoch, global_batch_index(s, world, rank)),
                                            {reference_, &state_.train_metrics});
      accumulated.add_micro_batch();
      // HF logging_nan_inf_filter: a non-finite micro loss counts as the window's running average.
      state_.tr_loss += std::isfinite(loss) ? loss / plan.gradient_accumulation_steps
                                            : state_.tr_loss / (1 + state_.global_step - state_.last_logged_step);
      current_flos_ += micro_batch_flos(run_, batch);
      tokens_ += batch.tokens();
      ++state_.total_micro_batches;
      if (!schedule_.is_update_boundary(state_.total_micro_batches, s)) continue;

      const auto sync_start = Clock::now();
      accumulated.reduce(comm_);
      sync_seconds_ += seconds_since(sync_start);
      ++syncs_;
      const double grad_norm = clip_grad_norm(params, plan.max_grad_norm);
      optimizer.step(lr.lr_at(state_.global_step));
      zero_grads(params);
      ++state_.global_step;
      state_.epoch = epoch;
      state_.step_in_epoch = s + 1;
      state_.epoch_progress = schedule_.epoch_progress(epoch, s);
      const int step = static_cast<int>(state_.global_step);
      progress.step(step, seconds_since(step_start), loss, lr.lr_at(state_.global_step));
      if (plan.logging_steps > 0 && step % plan.logging_steps == 0) {
        const double window = static_cast<double>(state_.global_step - state_.last_logged_step);
        const double tr_loss = dist::all_reduce_scalar(comm_, state_.tr_loss, dist::ReduceOp::Mean);  // HF gathers
        // dpo's reward metrics stay per rank (rank 0's are written), as TRL's store_metrics keeps them
        log_entry(train_log_entry(tr_loss / window, grad_norm, lr.lr_at(state_.global_step),
                                  state_.epoch_progress, step, state_.train_metrics.take_means()),
                  progress, elapsed());
        state_.total_loss += tr_loss;
        state_.tr_loss = 0.0;
        state_.last_logged_step = state_.global_step;
      }
      if (eval_steps && plan.eval_steps && step % *plan.eval_steps == 0) run_eval(progress, elapsed());
      if (plan.save_steps > 0 && step % plan.save_steps == 0) save(optimizer, elapsed());
      done = state_.global_step >= schedule_.max_steps;
    }
    if (!done) state_.epoch = epoch + 1, state_.step_in_epoch = 0;
    if (plan.eval_strategy == "epoch" && !run_.eval_indices.empty()) run_eval(progress, elapsed());
  }
  progress.finish();
  print_throughput(seconds_since(t0), num_elements(params));

  // End of training, in LLaMA-Factory's order: save model, train metrics, state, plots.
  store_flos();
  TrainEnd end;
  end.runtime_s = elapsed();
  end.num_samples = plan.max_steps > 0 ? static_cast<double>(plan.max_steps) * schedule_.total_train_batch_size
                                       : static_cast<double>(run_.train_indices.size()) * plan.num_train_epochs;
  end.num_steps = schedule_.max_steps;
  end.total_flos = state_.total_flos;
  // HF 4.38 adds the last window's loss of this rank only (tr_loss.item(), not gathered).
  end.train_loss = (state_.total_loss + state_.tr_loss) / std::max<int64_t>(1, state_.global_step);
  const auto end_entry = train_end_entry(end, state_.epoch_progress, static_cast<int>(state_.global_step));
  log_entry(end_entry, progress, end.runtime_s);  // LF's LogCallback writes a trainer_log line for it too
  if (!comm_.is_main()) return;
  save_peft_adapter(out_, run_.adapter);
  if (rm) save_value_head(out_ / "value_head.safetensors", *run_.value_head);
  copy_tokenizer_files(plan.model_name_or_path, out_);
  save_metrics(out_, "train", metrics_of(end_entry));
  save_trainer_state(out_, reported_plan(plan), facts(), state_.log_history);
  if (plan.plot_loss) plot_loss(out_, state_.log_history, plot_keys(plan.stage));
}

void Workflow::evaluate_and_save() {
  TUNE_CHECK(!run_.eval_indices.empty(), "nothing to evaluate: the evaluation set is empty");
  const EvalResult r = evaluate_sharded(model_, run_, run_.eval_indices, comm_, reference_);
  auto entry = eval_log_entry(r.run, state_.epoch_progress, static_cast<int>(state_.global_step));
  if (!run_.plan.do_train) entry.erase("epoch");  // HF logs no epoch before any training (state.epoch is None)
  state_.log_history.push_back(entry);
  if (!comm_.is_main()) return;
  std::cout << "***** eval metrics *****\n" << metrics_of(entry).dump(2) << "\n";
  fs::create_directories(out_);
  save_metrics(out_, "eval", metrics_of(entry));
  if (run_.plan.do_train) {
    LogClock clock;
    clock.current_steps = clock.total_steps = static_cast<int>(state_.global_step);
    append_trainer_log(out_, trainer_log_record(entry, clock));
    if (run_.plan.plot_loss) plot_loss(out_, state_.log_history, plot_keys(run_.plan.stage));
  }
}

void Workflow::predict_and_save() {
  if (run_.stage == Stage::Sft) return sft_predict_and_save();
  const EvalResult r = evaluate_sharded(model_, run_, run_.eval_indices, comm_);
  if (!comm_.is_main()) return;
  // LF's save_predictions: json.dumps({"chosen": round(float(c), 2), "rejected": ...}) lines joined by "\n".
  std::string lines;
  for (size_t i = 0; i < r.chosen_scores.size(); ++i) {
    nlohmann::ordered_json j;
    j["chosen"] = py_round(r.chosen_scores[i], 2);
    j["rejected"] = py_round(r.rejected_scores[i], 2);
    lines += (i ? "\n" : "") + py_json_dumps(j);
  }
  fs::create_directories(out_);
  write_file_atomic(out_ / "generated_predictions.jsonl", lines);
  // HF predict(): the evaluation metrics and speed metrics under the "predict_" prefix, no epoch.
  const nlohmann::ordered_json eval_metrics = eval_log_entry(r.run, 0.0, 0);
  nlohmann::ordered_json metrics;
  for (const auto& [key, value] : eval_metrics.items())
    if (key.rfind("eval_", 0) == 0) metrics["predict_" + key.substr(5)] = value;
  save_metrics(out_, "predict", metrics);
  std::cout << "***** predict metrics *****\n" << metrics.dump(2) << "\nwrote " << (out_ / "generated_predictions.jsonl").string() << "\n";
}

void Workflow::sft_predict_and_save() {
  const SftPredictions p = sft_predict(run_, run_.eval_indices);
  fs::create_directories(out_);
  write_file_atomic(out_ / "generated_predictions.jsonl", p.jsonl);
  // HF predict(): speed metrics under the "predict_" prefix (LF's BLEU/ROUGE similarity metrics are not computed).
  const nlohmann::ordered_json eval_metrics = eval_log_entry(p.run, 0.0, 0);
  nlohmann::ordered_json metrics;
  for (const auto& [key, value] : eval_metrics.items())
    if (key.rfind("eval_", 0) == 0 && key != "eval_loss") metrics["predict_" + key.substr(5)] = value;
  save_metrics(out_, "predict", metrics);
  std::cout << "***** predict metrics *****\n" << metrics.dump(2) << "\nwrote "
            << (out_ / "generated_predictions.jsonl").string() << "\n";
}

// LLaMA-Factory / HF rules for an existing output_dir: resume from its newest checkpoint unless
// overwrite_output_dir; refuse a non-empty folder without checkpoints.
std::optional<fs::path> resolve_resume(const Plan& plan) {
  const fs::path out = plan.output_dir;
  if (std::holds_alternative<std::string>(plan.resume_from_checkpoint))
    return fs::path(std::get<std::string>(plan.resume_from_checkpoint));
  if (std::get<bool>(plan.resume_from_checkpoint)) {
    auto latest = latest_checkpoint(out);
    TUNE_CHECK(latest.has_value(), "resume_from_checkpoint is true but ", out.string(), " has no checkpoint-N folder");
    return latest;
  }
  if (!plan.do_train || plan.overwrite_output_dir || !fs::is_directory(out) || fs::is_empty(out)) return std::nullopt;
  if (auto latest = latest_checkpoint(out)) {
    std::fprintf(stderr, "%s has checkpoints; resuming from %s (set overwrite_output_dir: true to start over)\n",
                 out.c_str(), latest->c_str());
    return latest;
  }
  fail("output_dir ", out.string(), " already exists and is not empty; set overwrite_output_dir: true to write into ",
       "it, or choose another output_dir");
}

// do_predict's requirements, checked before any training so that a run does not fail only at its end.
void check_predict(const Plan& plan) {
  if (!plan.do_predict) return;
  TUNE_CHECK(plan.stage != "pt" && plan.stage != "dpo", "do_predict is for stages sft (generated answers) and rm ",
             "(scores), not ", plan.stage, "; use do_eval for the loss",
             plan.stage == "dpo" ? " and metrics, or tune eval-bias for answer choices" : "");
  if (plan.stage != "sft") return;
  TUNE_CHECK(plan.predict_with_generate, "do_predict for sft writes generated answers; set ",
             "predict_with_generate: true (as LLaMA-Factory requires), or use do_eval for the loss");
  TUNE_CHECK(!plan.train_on_prompt, "sft do_predict finds each example's prompt by its -100 labels, but "
                                    "train_on_prompt is true; set train_on_prompt: false for the prediction run");
}

}  // namespace

void run_workflow(const Plan& plan) { run_workflow(plan, *dist::single_process()); }

void run_workflow(const Plan& plan, dist::Communicator& comm) {
  TUNE_CHECK(plan.do_train || plan.do_eval || plan.do_predict,
             "nothing to do: set do_train, do_eval or do_predict to true");
  check_predict(plan);
  TUNE_CHECK(!(plan.do_predict && plan.stage == "sft" && comm.world_size() > 1),
             "do_predict for sft (generation) runs in one process; run it without mpirun (adapter_name_or_path = the "
             "trained output_dir, do_train: false)");
  TUNE_CHECK(plan.device != "cuda", "device: cuda was requested but this build of tune.cpp has no CUDA backend; "
                                    "use device: cpu (or auto)");
  TUNE_CHECK(!plan.output_dir.empty(), "output_dir is not set; set it to the folder for results");
  apply_threads(plan.threads, comm.local_world_size());  // ranks on one machine share its cores
  if (plan.fp16 || plan.bf16)
    std::fprintf(stderr, "note: %s applies to CUDA; the CPU backend computes in fp32\n", plan.fp16 ? "fp16" : "bf16");
  const std::optional<fs::path> resume = resolve_resume(plan);
  comm.barrier();  // every rank has looked at output_dir before rank 0 writes into it
  TrainingRun run = setup_run(plan);
  if (comm.is_main()) {
    fs::create_directories(plan.output_dir);
    write_file_atomic(fs::path(plan.output_dir) / "tune_plan.yaml", plan_to_yaml(plan));
    // printed once the run is set up, so a run that cannot start shows its error alone
    std::printf("%s# saved as %s\n", plan_to_yaml(plan).c_str(), (fs::path(plan.output_dir) / "tune_plan.yaml").c_str());
    std::fflush(stdout);  // before the stderr lines of training
  }
  GemmaModel model(run.cfg, run.weights, &run.adapter, run.value_head ? &*run.value_head : nullptr);
  std::optional<GemmaModel> reference_model;  // dpo
  const ReferenceModel reference = make_reference_model(run, reference_model);
  std::fprintf(stderr, "model %s: %d layers, hidden %d, %d heads / %d kv heads x %d, vocab %d\n",
               plan.model_name_or_path.c_str(), run.cfg.num_layers, run.cfg.hidden_size, run.cfg.num_heads,
               run.cfg.num_kv_heads, run.cfg.head_dim, run.cfg.vocab_size);
  Workflow workflow(run, model, comm, reference);
  if (plan.do_train) workflow.train(resume);
  if (plan.do_eval) workflow.evaluate_and_save();
  if (plan.do_predict) workflow.predict_and_save();
  if (plan.do_train) workflow.save_card();  // last, so its results are the final evaluation's (as LF)
}

}  // namespace tune
