// `tune serve CONFIG [key=value ...] [--host H] [--port N]`: an OpenAI-compatible HTTP API over the configured model
// (LLaMA-Factory's api_demo / `llamafactory-cli api`).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/threads.h"
#include "infer/inference_model.h"
#include "serve/api_server.h"

namespace tune::cli {

namespace {

// Turns SIGINT/SIGTERM into server.stop(): the signals are blocked in every thread (the constructor must run before
// any thread starts) and one thread waits for them.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  void start(ApiServer& server) {
    waiter_ = std::thread([this, &server] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (!done_) std::fprintf(stderr, "%s: stopping (finishing the requests in progress)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      server.stop();
    });
  }
  // Wakes the waiter (if no signal came) and joins it.
  ~StopOnSignal() {
    if (!waiter_.joinable()) return;
    done_ = true;
    pthread_kill(waiter_.native_handle(), SIGTERM);
    waiter_.join();
  }

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

int run_serve(const ParsedArgs& a) {
  StopOnSignal signals;
  const Plan plan = plan_from_args(a);
  apply_threads(plan.threads);
  ServeOptions options;
  options.host = a.str("host");
  options.port = a.integer("port");
  const int queue_size = a.integer("queue-size"), max_body_kib = a.integer("max-body-kib");
  if (options.port < 0 || options.port > 65535) throw UsageError("--port must be 0..65535");
  if (queue_size < 1) throw UsageError("--queue-size must be at least 1");
  if (max_body_kib < 1) throw UsageError("--max-body-kib must be at least 1");
  options.queue_size = static_cast<size_t>(queue_size);
  options.max_body_bytes = static_cast<size_t>(max_body_kib) * 1024;
  options.strict_model = a.flag("strict-model");

  const InferenceModel model = load_inference_model(plan);
  ApiServer server(model, options);
  std::printf("serving model '%s'%s\nlistening on http://%s:%d\n", model.model_id.c_str(),
              model.value_head ? " (reward model: /v1/score)" : "", options.host.c_str(), server.port());
  std::fflush(stdout);
  signals.start(server);
  server.run();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

const CommandSpec& serve_command() {
  static const CommandSpec spec{
      "serve",
      "serve the model over an OpenAI-compatible HTTP API (chat completions, reward scores)",
      "tune serve CONFIG.yaml [key=value ...] [--host H] [--port N] [--queue-size N] [--max-body-kib N]\n"
      "                  [--strict-model]",
      "Loads the model as `tune score` does (model_name_or_path, adapter_name_or_path, template, ...) and serves\n"
      "  GET  /v1/models            {\"object\": \"list\", \"data\": [{\"id\": MODEL_ID, ...}]}; MODEL_ID is the\n"
      "                             last adapter folder's name (else the model folder's)\n"
      "  POST /v1/chat/completions  OpenAI chat completions: messages, max_tokens, temperature, top_p, seed,\n"
      "                             stream (server-sent events ending with data: [DONE])\n"
      "  POST /v1/score             reward models: {\"input\": [conversation or pair, ...]} in any format\n"
      "                             `tune score` reads, or one conversation as {\"messages\": [...]} ->\n"
      "                             {\"scores\": [score | {\"chosen_score\", \"rejected_score\"}, ...]}\n"
      "  POST /v1/score/evaluation  LLaMA-Factory's: {\"messages\": [text, ...], \"max_length\"} -> {\"scores\"}\n"
      "\"model\" in a request may be omitted or name any model: as in LLaMA-Factory's API, this server's model\n"
      "answers (replies name MODEL_ID); with --strict-model any other name gets 404 (model_not_found).\n"
      "One worker owns the model and runs requests in arrival order; when --queue-size requests are already\n"
      "waiting the answer is 503 with Retry-After. Bodies over --max-body-kib get 413, malformed JSON (or nested\n"
      "over 100 deep) 400, a route's wrong method 405, a POST without Content-Length 411, all errors as OpenAI's\n"
      "{\"error\": {\"message\", \"type\", \"param\", \"code\"}}. --port 0 picks a free port; the chosen address is\n"
      "printed as \"listening on http://HOST:PORT\". SIGINT/SIGTERM stop the server after the requests in progress.",
      {{"host", "H", "address to bind (0.0.0.0 for every interface)", "127.0.0.1"},
       {"port", "N", "TCP port (LLaMA-Factory's API_PORT default); 0 = any free port", "8000"},
       {"queue-size", "N", "requests that may wait for the model before 503", "256"},
       {"max-body-kib", "N", "largest request body in KiB before 413", "1024"},
       {"strict-model", "", "answer 404 to a request naming a model other than MODEL_ID", ""}},
      1,
      kMaxOverrides,
      run_serve,
      true};
  return spec;
}

}  // namespace tune::cli
