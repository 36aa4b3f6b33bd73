// `tune serve`'s HTTP server (cpp-httplib): OpenAI-compatible routes over one loaded model. HTTP threads parse and
// tokenize; one worker thread owns the model and runs requests one at a time from a bounded FIFO queue.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "infer/inference_model.h"

namespace tune {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                      // 0: any free port (see ApiServer::port)
  size_t queue_size = 256;              // requests waiting for the model; one more gets 503 + Retry-After
  size_t max_body_bytes = 1 << 20;      // a larger request body gets 413
  bool strict_model = false;            // a request's "model" must be the served model's id (else 404); LLaMA-Factory's
                                        // API ignores the field, and so does the default
};

class ApiServer {
 public:
  // Binds host:port (tune::Error when it cannot) and prepares the routes:
  //   GET  /v1/models
  //   POST /v1/chat/completions            (serve/chat_routes.h)
  //   POST /v1/score, /v1/score/evaluation (serve/score_routes.h)
  // Errors are OpenAI-style JSON: 400 malformed JSON or fields, 404 unknown model or path, 413 body too large,
  // 503 queue full.
  ApiServer(const InferenceModel& model, const ServeOptions& options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const;  // the bound port
  // Serves until stop(); then finishes the requests in progress and queued, and returns.
  void run();
  // Makes run() return; safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tune
