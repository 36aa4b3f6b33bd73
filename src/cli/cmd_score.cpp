// `tune score CONFIG [key=value ...] --in FILE.jsonl --out FILE.jsonl`: reward-model scores for a JSON Lines file (or
// a LLaMA-Factory .json array file) of conversations or pairs, scored in batches (JSON Lines are streamed: memory
// bounded by the batch, not the file).
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/threads.h"
#include "infer/inference_model.h"
#include "infer/reward_scorer.h"
#include "infer/score_input.h"
#include "infer/score_json.h"
#include "report/rate_progress.h"

namespace tune::cli {

namespace {

volatile std::sig_atomic_t interrupted = 0;

void note_interrupt(int sig) {
  interrupted = sig;
  std::signal(sig, SIG_DFL);  // a second one ends the process at once
}

// While alive, SIGINT/SIGTERM only mark the run interrupted; the loop then stops with a tune::Error, whose unwinding
// removes the temp file of --out (killed by the signal, the process left it behind).
class InterruptToError {
 public:
  InterruptToError()
      : old_int_(std::signal(SIGINT, note_interrupt)), old_term_(std::signal(SIGTERM, note_interrupt)) {
    // a signal the process was started ignoring (nohup, a background job of a script) stays ignored
    if (old_int_ == SIG_IGN) std::signal(SIGINT, SIG_IGN);
    if (old_term_ == SIG_IGN) std::signal(SIGTERM, SIG_IGN);
  }
  ~InterruptToError() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  InterruptToError(const InterruptToError&) = delete;
  InterruptToError& operator=(const InterruptToError&) = delete;
  static void check(int64_t lines_done) {
    if (interrupted)
      fail("interrupted by ", interrupted == SIGINT ? "SIGINT" : "SIGTERM", " after ", lines_done,
           " scored lines; nothing was written to --out");
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// True when the stream's first non-space byte is '[' (a JSON array file); the stream is left at its start.
bool starts_json_array(std::istream& in) {
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  const bool array = in.good() && c == '[';
  in.clear();
  in.seekg(0);
  return array;
}

std::string read_stream(std::istream& in, const std::filesystem::path& path) {
  std::ostringstream text;
  text << in.rdbuf();
  TUNE_CHECK(!in.bad(), "reading --in ", path.string(), " failed");
  return text.str();
}

struct PendingLine {
  Json object;
  ScoreItem item;
};

// Scores the pending lines in one forward pass and appends their output lines to `out`.
void score_batch(RewardScorer& scorer, std::vector<PendingLine>& pending, AtomicFileWriter& out) {
  std::vector<const ScoreItem*> items;
  for (const PendingLine& p : pending) items.push_back(&p.item);
  const std::vector<ItemScores> scores = score_items(scorer, items);
  std::string text;
  for (size_t i = 0; i < pending.size(); ++i) {
    add_scores(pending[i].object, scores[i]);
    text += pending[i].object.dump() + "\n";
  }
  out.write(text);
  pending.clear();
}

int run_score(const ParsedArgs& a) {
  if (!a.has("in") || !a.has("out")) throw UsageError("tune score needs --in FILE and --out FILE; usage: " + a.spec->usage);
  const Plan plan = plan_from_args(a);
  apply_threads(plan.threads);
  const std::filesystem::path in_path = a.str("in"), out_path = a.str("out");
  const int batch_size = !a.has("batch-size") ? plan.per_device_eval_batch_size : a.integer("batch-size");
  if (batch_size < 1) throw UsageError("--batch-size must be at least 1, got " + std::to_string(batch_size));
  const bool skip_bad = a.flag("skip-bad");
  std::ifstream in(in_path, std::ios::binary);
  TUNE_CHECK(in.is_open(), "cannot read --in ", in_path.string(), ": no such file or not readable");
  // checked before the model loads: a folder opens as a stream that fails at the first read, and --out over --in
  // would replace the input with the scores
  TUNE_CHECK(!std::filesystem::is_directory(in_path), "--in ", in_path.string(),
             " is a folder; give a JSON Lines file");
  TUNE_CHECK(!std::filesystem::is_directory(out_path), "--out ", out_path.string(),
             " is a folder; give the file to write");
  std::error_code no_out;  // --out need not exist yet
  TUNE_CHECK(!std::filesystem::equivalent(in_path, out_path, no_out), "--out ", out_path.string(),
             " is the --in file; write the scores to another file");

  const InferenceModel model = load_inference_model(plan);
  RewardScorer scorer(model);
  const InterruptToError interrupt;  // before the temp file exists
  AtomicFileWriter out(out_path);
  RateProgress progress(std::cerr, RateProgress::stderr_is_terminal());
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  std::vector<PendingLine> pending;
  int64_t written = 0, skipped = 0;
  auto flush = [&] {
    const auto n = static_cast<int64_t>(pending.size());
    written += n;
    score_batch(scorer, pending, out);
    progress.add(n, elapsed());
  };
  // `parse` gives the object (a JSON Lines line is parsed here, so that --skip-bad covers its syntax errors too)
  auto take = [&](auto parse, const ItemSource& source) {
    InterruptToError::check(written);
    try {
      Json object = parse();
      ScoreItem item = read_score_item(object, model, source);
      pending.push_back({std::move(object), std::move(item)});
    } catch (const Error& e) {
      if (!skip_bad) throw;
      std::fprintf(stderr, "warning: %s; %s skipped (--skip-bad)\n", e.what(), source.line ? "line" : "element");
      ++skipped;
    }
    if (static_cast<int>(pending.size()) == batch_size) flush();
  };
  if (starts_json_array(in)) {
    // LLaMA-Factory's .json dataset files: one array of objects, read whole (as LF and HF datasets read them)
    const Json array = parse_json_text(read_stream(in, in_path), in_path);
    TUNE_CHECK(array.is_array(), "--in ", in_path.string(), ": expected a JSON array of objects");
    int64_t element = 0;
    for (const Json& object : array) {
      ++element;
      take([&] { return object; }, ItemSource{in_path, 0, element});
    }
  } else {
    int64_t line_no = 0;
    std::string line;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      take([&] { return parse_json_text(line, in_path, line_no); }, ItemSource{in_path, line_no, 0});
    }
    TUNE_CHECK(in.eof(), "reading --in ", in_path.string(), " failed after line ", line_no);
  }
  if (!pending.empty()) flush();
  InterruptToError::check(written);
  out.commit();
  progress.finish(elapsed());
  std::fprintf(stderr, "wrote %lld scored lines to %s", static_cast<long long>(written), out_path.c_str());
  if (skipped > 0) std::fprintf(stderr, " (%lld bad lines skipped)", static_cast<long long>(skipped));
  std::fprintf(stderr, "\n");
  return 0;
}

}  // namespace

const CommandSpec& score_command() {
  static const CommandSpec spec{
      "score",
      "score conversations or answer pairs with a reward model (JSONL in, JSONL out)",
      "tune score CONFIG.yaml [key=value ...] --in FILE.jsonl --out FILE.jsonl [--batch-size N] [--skip-bad]",
      "CONFIG names the reward model as for inference: model_name_or_path, adapter_name_or_path (the output_dir of\n"
      "a `stage: rm` run, which holds value_head.safetensors), template, cutoff_len, rm_loss. --in is JSON Lines\n"
      "(one object per line) or, as LLaMA-Factory's .json dataset files, one JSON array of objects; each object is\n"
      "in one of LLaMA-Factory's dataset formats:\n"
      "  {\"messages\": [{\"role\": \"user\", \"content\": ...}, {\"role\": \"assistant\", ...}]}   (system first if any)\n"
      "  {\"conversations\": [{\"from\": \"human\", \"value\": ...}, {\"from\": \"gpt\", ...}]}\n"
      "  {\"instruction\": ..., \"input\": ..., \"output\": ..., \"system\": ..., \"history\": [[q, a], ...]}\n"
      "  {\"prompt\": ..., \"response\": ...}\n"
      "The last message (output, response) is the answer scored. Pairs: \"chosen\" and \"rejected\" next to the\n"
      "prompt (messages/conversations then end with the user's message), or an alpaca \"output\": [chosen,\n"
      "rejected]. Tokens are built as rm training builds them (template, answer + eos, cutoff_len), and the score\n"
      "is the value head at the last token as do_predict takes it, so pairs score exactly as do_predict's\n"
      "generated_predictions.jsonl (unrounded here).\n"
      "Each output line is the input object with \"score\" added, or \"chosen_score\" and \"rejected_score\" for a\n"
      "pair. --out is written under a temp name and renamed when all lines are done: a failed run leaves no --out,\n"
      "nor does one stopped by SIGINT/SIGTERM (it stops at the next line with an error and removes the temp file).\n"
      "A bad line stops the run with an error naming FILE:LINE (FILE element K in an array), unless --skip-bad\n"
      "(then it is reported on stderr and left out of --out). Progress (lines, lines/s) goes to stderr.",
      {{"in", "FILE", "JSON Lines (or a JSON array) to score", ""},
       {"out", "FILE", "where to write the scored JSON Lines", ""},
       {"batch-size", "N", "input lines per forward pass (default: per_device_eval_batch_size)", ""},
       {"skip-bad", "", "report bad lines on stderr and leave them out instead of stopping", ""}},
      1,
      kMaxOverrides,
      run_score,
      true};
  return spec;
}

}  // namespace tune::cli
