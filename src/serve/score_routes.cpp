#include "serve/score_routes.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "core/error.h"
#include "infer/score_input.h"
#include "infer/score_json.h"

namespace tune {

namespace {

std::string next_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  return cat(prefix, counter.fetch_add(1));
}

void require_value_head(const ServerContext& ctx) {
  if (!ctx.scorer)
    throw bad_request("no_value_head", cat("the model '", ctx.model.model_id,
                                           "' has no value head, so it cannot score; serve a reward model (an "
                                           "adapter folder with value_head.safetensors)"));
}

// The items of a /v1/score body, tokenized (on the HTTP thread; the worker only runs the model).
std::vector<ScoreItem> score_items_of(const Json& body, const InferenceModel& model) {
  std::vector<ScoreItem> items;
  auto input = body.find("input");
  if (input == body.end()) {
    if (!body.contains("messages"))
      throw bad_request("missing_input", "give \"input\": [conversation, ...] or one conversation as \"messages\"");
    items.push_back(read_score_item(body, model, {"request", 0, 1}));
    return items;
  }
  if (!input->is_array() || input->empty())
    throw bad_request("invalid_input", "\"input\" must be a non-empty list of conversations");
  for (size_t i = 0; i < input->size(); ++i)
    items.push_back(read_score_item((*input)[i], model, {"input", 0, static_cast<int64_t>(i + 1)}));
  return items;
}

// Scores on the worker, at most max_items items per forward pass.
std::vector<ItemScores> score_in_batches(ServerContext& ctx, const std::vector<ScoreItem>& items) {
  return ctx.on_worker([&] {
    std::vector<ItemScores> out;
    const size_t step = static_cast<size_t>(ctx.max_items_per_forward);
    for (size_t start = 0; start < items.size(); start += step) {
      std::vector<const ScoreItem*> part;
      for (size_t i = start; i < std::min(items.size(), start + step); ++i) part.push_back(&items[i]);
      for (ItemScores& s : score_items(*ctx.scorer, part)) out.push_back(std::move(s));
    }
    return out;
  });
}

void score(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Json body = ctx.parse_body(req);
  ctx.check_model(body);
  require_value_head(ctx);
  const std::vector<ScoreItem> items = score_items_of(body, ctx.model);
  Json scores = Json::array();
  for (const ItemScores& s : score_in_batches(ctx, items)) {
    if (s.size() == 1) {
      scores.push_back(score_number(s[0]));
    } else {
      Json pair;
      add_scores(pair, s);
      scores.push_back(pair);
    }
  }
  send_json(res, {{"id", next_id("score-")}, {"object", "score"}, {"model", ctx.model.model_id}, {"scores", scores}});
}

// LLaMA-Factory's ChatModel.get_scores: tokenizer(text, add_special_tokens=True, truncation, max_length).
std::vector<TokenIds> evaluation_rows(const Json& body, const ServerContext& ctx) {
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty())
    throw bad_request("invalid_messages", "\"messages\" must be a non-empty list of strings (full texts to score)");
  int64_t max_length = ctx.model.plan.cutoff_len;
  if (auto m = body.find("max_length"); m != body.end() && !m->is_null()) {
    // longer rows than the model's context only cost memory (attention is quadratic in the row length)
    const int64_t context = ctx.model.cfg.max_position_embeddings;
    if (!m->is_number_unsigned() || m->get<uint64_t>() < 1 || m->get<uint64_t>() > static_cast<uint64_t>(context))
      throw bad_request("invalid_max_length",
                        cat("\"max_length\" must be an integer from 1 to ", context, " (the model's context)"));
    max_length = m->get<int64_t>();
  }
  const Tokenizer& tok = *ctx.model.tokenizer;
  std::vector<TokenIds> rows;
  for (const Json& text : *messages) {
    if (!text.is_string()) throw bad_request("invalid_messages", "each of \"messages\" must be a string");
    TokenIds ids;
    if (tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    const TokenIds body_ids = tok.encode(text.get<std::string>());
    ids.insert(ids.end(), body_ids.begin(), body_ids.end());
    if (static_cast<int64_t>(ids.size()) > max_length) ids.resize(static_cast<size_t>(max_length));
    rows.push_back(std::move(ids));
  }
  return rows;
}

void score_evaluation(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Json body = ctx.parse_body(req);
  ctx.check_model(body);
  require_value_head(ctx);
  const std::vector<TokenIds> rows = evaluation_rows(body, ctx);
  const std::vector<float> values = ctx.on_worker([&] {
    std::vector<float> out;
    const size_t step = static_cast<size_t>(ctx.max_items_per_forward);
    for (size_t start = 0; start < rows.size(); start += step) {
      const size_t n = std::min(step, rows.size() - start);
      for (float v : ctx.scorer->score(std::span<const TokenIds>(rows).subspan(start, n))) out.push_back(v);
    }
    return out;
  });
  Json scores = Json::array();
  for (float v : values) scores.push_back(score_number(v));
  send_json(res, {{"id", next_id("scoreeval-")},
                  {"object", "score.evaluation"},
                  {"model", ctx.model.model_id},
                  {"scores", scores}});
}

}  // namespace

void add_score_routes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/v1/score", [&ctx](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { score(ctx, req, res); });
  });
  server.Post("/v1/score/evaluation", [&ctx](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { score_evaluation(ctx, req, res); });
  });
}

}  // namespace tune
