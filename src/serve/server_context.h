// What the route handlers of `tune serve` share: the model, the worker queue that owns it, request parsing and the
// JSON / error answers.
#pragma once
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include <httplib.h>

#include "data/json_rows.h"
#include "infer/generator.h"
#include "infer/inference_model.h"
#include "infer/reward_scorer.h"
#include "serve/api_error.h"
#include "serve/work_queue.h"

namespace tune {

struct ServerContext {
  const InferenceModel& model;
  WorkQueue& queue;
  std::unique_ptr<RewardScorer> scorer;  // null without a value head; used on the worker thread only
  std::unique_ptr<Generator> generator;  // null without a chat template; used on the worker thread only
  int64_t created = 0;                   // unix time the model was loaded (the "created" of /v1/models)
  int max_items_per_forward = 8;         // per_device_eval_batch_size
  bool strict_model = false;             // check_model refuses other model names (ServeOptions::strict_model)

  // The request body as a JSON object: ApiError 400 (invalid_json) when it is not one.
  Json parse_body(const httplib::Request& req) const;
  // A "model" field, when present, must be a string (400 otherwise); with strict_model it must name this server's
  // model (404 model_not_found otherwise), else any name is served by this model, as LLaMA-Factory's API does.
  void check_model(const Json& body) const;

  // Runs f on the worker thread and waits for its result; ApiError 503 (queue_full) when the queue is full. What f
  // throws is rethrown here.
  template <class F>
  auto on_worker(F f) const -> decltype(f()) {
    using R = decltype(f());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
    std::future<R> result = task->get_future();
    if (!queue.try_push([task] { (*task)(); })) throw queue_full();
    return result.get();
  }
  ApiError queue_full() const;
};

// Writes an ApiError as the response.
void send_error(httplib::Response& res, const ApiError& e);
// 200 with a JSON body.
void send_json(httplib::Response& res, const Json& body);
// Runs a handler, turning ApiError, tune::Error (400) and anything else (500) into error answers.
void answer(httplib::Response& res, const std::function<void()>& handler);

}  // namespace tune
