#include "serve/chat_routes.h"

#include <atomic>
#include <chrono>
#include <memory>

#include "core/error.h"
#include "infer/generator.h"
#include "infer/text_stream.h"
#include "serve/chat_request.h"
#include "serve/event_channel.h"

namespace tune {

namespace {

// What every chunk or answer of one completion repeats.
struct CompletionMeta {
  std::string id, model;
  int64_t created = 0;
};

CompletionMeta new_meta(const ServerContext& ctx) {
  static std::atomic<uint64_t> counter{0};
  return {cat("chatcmpl-", counter.fetch_add(1)), ctx.model.model_id,
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count()};
}

const char* finish_name(FinishReason f) { return f == FinishReason::Stop ? "stop" : "length"; }

std::string event(const Json& data) { return "data: " + data.dump() + "\n\n"; }

Json chunk(const CompletionMeta& m, const Json& delta, const Json& finish_reason) {
  Json choice = {{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}};
  return {{"id", m.id}, {"object", "chat.completion.chunk"}, {"created", m.created}, {"model", m.model},
          {"choices", Json::array({choice})}};
}

void require_generator(const ServerContext& ctx) {
  if (!ctx.generator)
    throw bad_request("no_chat_template", "chat completions need a chat template; serve a config with template: "
                                          "(e.g. template: gemma)");
}

void complete(ServerContext& ctx, const ChatRequest& request, const std::vector<int32_t>& prompt,
              httplib::Response& res) {
  const CompletionMeta meta = new_meta(ctx);
  const auto [text, generation] = ctx.on_worker([&] {
    const Generation g = ctx.generator->generate(prompt, request.params);
    TextStream stream(*ctx.model.tokenizer, ctx.model.plan.skip_special_tokens);
    std::string out;
    for (int32_t id : g.tokens) out += stream.push(id);
    return std::make_pair(out + stream.finish(), g);
  });
  Json message = {{"role", "assistant"}, {"content", text}};
  Json choice = {{"index", 0}, {"message", message}, {"finish_reason", finish_name(generation.finish)}};
  const auto completion_tokens = static_cast<int64_t>(generation.tokens.size());
  const auto prompt_tokens = static_cast<int64_t>(prompt.size());
  send_json(res, {{"id", meta.id},
                  {"object", "chat.completion"},
                  {"created", meta.created},
                  {"model", meta.model},
                  {"choices", Json::array({choice})},
                  {"usage",
                   {{"prompt_tokens", prompt_tokens},
                    {"completion_tokens", completion_tokens},
                    {"total_tokens", prompt_tokens + completion_tokens}}}});
}

// Queues the generation, whose pieces the worker pushes into a channel that the response streams out.
void stream(ServerContext& ctx, const ChatRequest& request, std::vector<int32_t> prompt, httplib::Response& res) {
  const CompletionMeta meta = new_meta(ctx);
  auto channel = std::make_shared<EventChannel>();
  channel->push(event(chunk(meta, {{"role", "assistant"}, {"content", ""}}, nullptr)));
  const bool queued = ctx.queue.try_push([&ctx, channel, meta, params = request.params, prompt = std::move(prompt)] {
    try {
      TextStream text(*ctx.model.tokenizer, ctx.model.plan.skip_special_tokens);
      auto send_text = [&](const std::string& piece) {
        if (!piece.empty()) channel->push(event(chunk(meta, {{"content", piece}}, nullptr)));
      };
      const Generation g = ctx.generator->generate(prompt, params, [&](int32_t id) {
        send_text(text.push(id));
        return !channel->cancelled;
      });
      send_text(text.finish());
      channel->push(event(chunk(meta, Json::object(), finish_name(g.finish))));
    } catch (const std::exception& e) {
      channel->push(event(error_body(e.what(), "server_error", "generation_failed")));
    }
    channel->push("data: [DONE]\n\n");
    channel->close();
  });
  if (!queued) throw ctx.queue_full();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [channel](size_t, httplib::DataSink& sink) {
        std::vector<std::string> events;
        const bool more = channel->pop(events);
        for (const std::string& e : events) {
          if (!sink.write(e.data(), e.size())) {
            channel->cancelled = true;
            return false;
          }
        }
        if (!more) sink.done();
        return true;
      },
      [channel](bool success) {
        if (!success) channel->cancelled = true;
      });
}

void chat_completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Json body = ctx.parse_body(req);
  ctx.check_model(body);
  require_generator(ctx);
  const ChatRequest request = parse_chat_request(body, ctx.model.plan);
  std::vector<int32_t> prompt = chat_prompt_ids(ctx.model, request.messages, request.system);
  if (request.stream) {
    stream(ctx, request, std::move(prompt), res);
  } else {
    complete(ctx, request, prompt, res);
  }
}

}  // namespace

void add_chat_routes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { chat_completions(ctx, req, res); });
  });
}

}  // namespace tune
