// `tune serve` end to end: a child process on a free loopback port, talked to with httplib::Client — models list,
// /v1/score equal to `tune score`, LLaMA-Factory's /v1/score/evaluation, chat completions (plain and streamed) equal
// to the library's generation, OpenAI-style 4xx answers, 200 concurrent requests all answered correctly, a full
// queue answering 503, and a clean stop on SIGTERM / SIGINT.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "config/plan.h"
#include "e2e/serve_support.h"
#include "infer/generator.h"
#include "infer/inference_model.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // greedy with a strong repetition penalty: the random model says something different at every step
    rm_ = make_tiny_reward_model(dir_->path(), "per_device_eval_batch_size: 8\ndo_sample: false\n"
                                               "repetition_penalty: 3.0\nmax_new_tokens: 10\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  // Eight conversations and pairs in the formats `tune score` reads.
  static std::vector<Json> inputs() {
    const Json rows = Json::parse(read_bytes(kAgeBiasData / "age_bias_test.json"));
    std::vector<Json> out;
    for (size_t i = 0; i < 4; ++i) out.push_back(rows[i]);
    out.push_back({{"prompt", rows[4]["instruction"]}, {"response", rows[4]["output"][1]}});
    out.push_back({{"messages", {{{"role", "user"}, {"content", "Who?"}}, {{"role", "assistant"}, {"content", "Ann."}}}}});
    out.push_back({{"messages", {{{"role", "user"}, {"content", "Who?"}}}}, {"chosen", "Ann."}, {"rejected", "Bob."}});
    out.push_back({{"instruction", rows[7]["instruction"]}, {"output", rows[7]["output"][0]}});
    return out;
  }

  static Json post(const ServerProcess& s, const std::string& path, const std::string& body, int expected_status) {
    httplib::Client c = s.client();
    const httplib::Result r = c.Post(path.c_str(), body, "application/json");
    EXPECT_TRUE(r) << "no answer to POST " << path << ": " << httplib::to_string(r.error());
    if (!r) return Json();
    EXPECT_EQ(r->status, expected_status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return Json::parse(r->body);
  }

  // The reply the library gives (what `tune chat` prints), for the server's config and the given sampling.
  static std::string library_reply(const std::vector<Message>& conversation, const std::string& system,
                                   const SamplingParams& params, std::string* finish = nullptr) {
    const InferenceModel m = load_inference_model(load_plan(rm_.config));
    Generator gen(m);
    const Generation g = gen.generate(chat_prompt_ids(m, conversation, system), params);
    std::vector<int32_t> kept;
    for (const int32_t id : g.tokens)
      if (!m.tokenizer->is_special(id)) kept.push_back(id);
    if (finish) *finish = g.finish == FinishReason::Stop ? "stop" : "length";
    return m.tokenizer->decode(kept);
  }
  static SamplingParams plan_params() { return SamplingParams::from_plan(load_plan(rm_.config)); }

  // The "data: " payloads of a server-sent event stream.
  static std::vector<std::string> sse_events(const std::string& body) {
    std::vector<std::string> events;
    size_t at = 0;
    while (at < body.size()) {
      const size_t end = body.find("\n\n", at);
      EXPECT_NE(end, std::string::npos) << "unterminated event in " << body;
      if (end == std::string::npos) break;
      const std::string e = body.substr(at, end - at);
      EXPECT_EQ(e.rfind("data: ", 0), 0u) << e;
      events.push_back(e.substr(6));
      at = end + 2;
    }
    return events;
  }
  // The content of a streamed completion (checking the chunk shapes), and its finish_reason.
  static std::string streamed_content(const std::string& body, std::string* finish) {
    const std::vector<std::string> events = sse_events(body);
    EXPECT_GE(events.size(), 3u);
    if (events.size() < 3) return "";
    EXPECT_EQ(events.back(), "[DONE]");
    std::string content;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
      const Json c = Json::parse(events[i]);
      EXPECT_EQ(c["object"], "chat.completion.chunk");
      EXPECT_EQ(c["model"], "rm");
      EXPECT_EQ(c["id"], Json::parse(events[0])["id"]);
      const Json& choice = c["choices"][0];
      if (i == 0) EXPECT_EQ(choice["delta"], (Json{{"role", "assistant"}, {"content", ""}}));
      if (i + 2 == events.size()) {
        EXPECT_TRUE(choice["delta"].empty());
        *finish = choice["finish_reason"];
      } else {
        EXPECT_TRUE(choice["finish_reason"].is_null());
        if (i > 0) content += choice["delta"]["content"].get<std::string>();
      }
    }
    return content;
  }

  // Sends raw bytes on a new connection and reads the answer until the server closes it.
  static std::string raw_exchange(const ServerProcess& s, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(s.port()));
    ::inet_pton(AF_INET, s.host().c_str(), &addr.sin_addr);
    const timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string answer;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return answer;
  }

  static void expect_error(const Json& body, const std::string& code, const std::string& message_part) {
    ASSERT_TRUE(body.contains("error")) << body.dump();
    const Json& e = body["error"];
    EXPECT_EQ(e.at("code"), code) << body.dump();
    EXPECT_TRUE(e.at("type").is_string());
    EXPECT_TRUE(e.at("param").is_null());
    EXPECT_NE(e.at("message").get<std::string>().find(message_part), std::string::npos) << body.dump();
  }

  static TempDir* dir_;
  static TinyRewardModel rm_;
};
TempDir* Serve::dir_ = nullptr;
TinyRewardModel Serve::rm_;

TEST_F(Serve, ListsTheModelOnLoopbackAndStopsOnSigterm) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  EXPECT_EQ(s.host(), "127.0.0.1");
  httplib::Client c = s.client();
  const httplib::Result r = c.Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const Json models = Json::parse(r->body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "rm");  // the adapter folder's name
  EXPECT_EQ(models["data"][0]["object"], "model");
  EXPECT_GT(models["data"][0]["created"].get<int64_t>(), 1700000000);
  const ExitStatus e = s.stop(SIGTERM);
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(e.signal, 0);
  EXPECT_NE(s.output().find("SIGTERM: stopping"), std::string::npos) << s.output();
  EXPECT_NE(s.output().find("stopped"), std::string::npos) << s.output();
}

TEST_F(Serve, ScoresEqualTuneScore) {
  const std::vector<Json> in = inputs();
  std::string lines;
  for (const Json& j : in) lines += j.dump() + "\n";
  write_text(tmp("in.jsonl"), lines);
  const TuneRun cli = run_tune({"score", rm_.config.string(), "--in", tmp("in.jsonl").string(), "--out",
                                tmp("out.jsonl").string()},
                               tmp("score.log"));
  ASSERT_EQ(cli.exit_code, 0) << tail(cli.output);
  std::vector<Json> expected;
  std::istringstream out(read_bytes(tmp("out.jsonl")));
  for (std::string line; std::getline(out, line);) expected.push_back(Json::parse(line));
  ASSERT_EQ(expected.size(), in.size());

  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  // all eight in one request: one forward over the same batch `tune score` ran (batch size 8), so equal bits
  const Json body = post(s, "/v1/score", Json{{"model", "rm"}, {"input", in}}.dump(), 200);
  EXPECT_EQ(body["object"], "score");
  EXPECT_EQ(body["model"], "rm");
  ASSERT_EQ(body["scores"].size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Json& got = body["scores"][i];
    if (expected[i].contains("score")) {
      EXPECT_EQ(got, expected[i]["score"]) << "input " << i;
    } else {
      EXPECT_EQ(got["chosen_score"], expected[i]["chosen_score"]) << "input " << i;
      EXPECT_EQ(got["rejected_score"], expected[i]["rejected_score"]) << "input " << i;
    }
  }
  // one conversation at the top level, no model field: as `tune score` scores it alone
  const TuneRun one = run_tune({"score", rm_.config.string(), "--in", tmp("in.jsonl").string(), "--out",
                                tmp("out1.jsonl").string(), "--batch-size", "1"},
                               tmp("score1.log"));
  ASSERT_EQ(one.exit_code, 0) << tail(one.output);
  std::istringstream out1(read_bytes(tmp("out1.jsonl")));
  std::vector<Json> expected1;
  for (std::string line; std::getline(out1, line);) expected1.push_back(Json::parse(line));
  const Json single = post(s, "/v1/score", in[5].dump(), 200);
  ASSERT_EQ(single["scores"].size(), 1u);
  EXPECT_EQ(single["scores"][0], expected1[5]["score"]);
}

TEST_F(Serve, ScoreEvaluationFollowsLlamaFactory) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  const Json texts = {"Who was careful? Ann.", "Who was careful? Nobody knows.", "Who was careful? Ann."};
  const Json body = post(s, "/v1/score/evaluation", Json{{"model", "rm"}, {"messages", texts}}.dump(), 200);
  EXPECT_EQ(body["object"], "score.evaluation");
  EXPECT_EQ(body["model"], "rm");
  ASSERT_EQ(body["scores"].size(), 3u);
  EXPECT_EQ(body["scores"][0], body["scores"][2]);
  EXPECT_NE(body["scores"][0], body["scores"][1]);
  // max_length 1 keeps only the bos token: every text scores the same
  const Json cut = post(s, "/v1/score/evaluation", Json{{"messages", texts}, {"max_length", 1}}.dump(), 200);
  EXPECT_EQ(cut["scores"][0], cut["scores"][1]);
  EXPECT_NE(cut["scores"][0], body["scores"][0]);
}

TEST_F(Serve, ChatCompletionsEqualTheLibrarysGeneration) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  const std::string request = R"({"model": "rm", "messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"},
      {"role": "user", "content": "how old are you?"}]})";
  std::string finish;
  const std::string expected = library_reply(
      {{Role::User, "hello there"}, {Role::Assistant, "hi"}, {Role::User, "how old are you?"}}, "Be brief.",
      plan_params(), &finish);
  ASSERT_FALSE(expected.empty());

  const Json body = post(s, "/v1/chat/completions", request, 200);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "rm");
  EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["index"], 0);
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], expected);
  EXPECT_EQ(body["choices"][0]["finish_reason"], finish);
  const Json& usage = body["usage"];
  EXPECT_GT(usage["prompt_tokens"].get<int>(), 10);
  EXPECT_EQ(usage["completion_tokens"], 10);  // max_new_tokens of the config, no stop token seen
  EXPECT_EQ(usage["total_tokens"].get<int>(), usage["prompt_tokens"].get<int>() + 10);

  // streamed: the deltas concatenate to the same text
  Json streamed_request = Json::parse(request);
  streamed_request["stream"] = true;
  httplib::Client c = s.client();
  const httplib::Result r = c.Post("/v1/chat/completions", streamed_request.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::string streamed_finish;
  EXPECT_EQ(streamed_content(r->body, &streamed_finish), expected);
  EXPECT_EQ(streamed_finish, finish);

  // request sampling fields: seeded sampling repeats, plain and streamed alike, and max_tokens cuts
  SamplingParams sampled = plan_params();
  sampled.do_sample = true;
  sampled.temperature = 1.0f;
  sampled.top_p = 0.9f;
  sampled.seed = 5;
  sampled.max_new_tokens = 6;
  const std::string expected_sampled = library_reply({{Role::User, "tell me something"}}, "", sampled);
  const std::string sampled_request = R"({"messages": [{"role": "user", "content": "tell me something"}],
      "temperature": 1.0, "top_p": 0.9, "seed": 5, "max_tokens": 6)";
  const Json plain = post(s, "/v1/chat/completions", sampled_request + "}", 200);
  EXPECT_EQ(plain["choices"][0]["message"]["content"], expected_sampled);
  EXPECT_EQ(plain["usage"]["completion_tokens"], 6);
  const httplib::Result sr = c.Post("/v1/chat/completions", sampled_request + R"(, "stream": true})", "application/json");
  ASSERT_TRUE(sr);
  std::string sampled_finish;
  EXPECT_EQ(streamed_content(sr->body, &sampled_finish), expected_sampled);
  EXPECT_EQ(sampled_finish, "length");
}

TEST_F(Serve, AClientLeavingAStreamDoesNotHurtTheServer) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  httplib::Client c = s.client();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = R"({"messages": [{"role": "user", "content": "go on"}], "max_tokens": 500, "stream": true})";
  int chunks = 0;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 2; };  // hang up
  const httplib::Result gone = c.send(req);
  EXPECT_FALSE(gone);
  EXPECT_EQ(chunks, 2);
  const Json body = post(s, "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}]})", 200);
  EXPECT_EQ(body["usage"]["completion_tokens"], 10);
  const ExitStatus e = s.stop(SIGTERM);
  EXPECT_EQ(e.code, 0);
}

// As LLaMA-Factory's API: the "model" field names no model to choose, so any name is served by the loaded one.
TEST_F(Serve, AnyModelNameIsServedByDefault) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  const Json in = Json::array({inputs()[0]});
  const Json named = post(s, "/v1/score", Json{{"model", "gpt-4"}, {"input", in}}.dump(), 200);
  const Json unnamed = post(s, "/v1/score", Json{{"input", in}}.dump(), 200);
  EXPECT_EQ(named["model"], "rm");
  EXPECT_EQ(named["scores"], unnamed["scores"]);
  const Json chat = post(s, "/v1/chat/completions",
                         R"({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]})", 200);
  EXPECT_EQ(chat["model"], "rm");
  EXPECT_EQ(chat["usage"]["completion_tokens"], 10);
  expect_error(post(s, "/v1/score", R"({"model": 7, "input": [{"prompt": "q", "response": "a"}]})", 400),
               "invalid_model", "\"model\" must be a string");
}

TEST_F(Serve, BadRequestsGetOpenAiStyleErrors) {
  ServerProcess s({rm_.config.string(), "--port", "0", "--max-body-kib", "4", "--strict-model"}, tmp("serve.log"));
  expect_error(post(s, "/v1/score", "{\"input\": [", 400), "invalid_json", "not valid JSON");
  expect_error(post(s, "/v1/score", "[1, 2]", 400), "invalid_json", "must be a JSON object");
  expect_error(post(s, "/v1/score", R"({"model": "gpt-4", "input": [{"prompt": "q", "response": "a"}]})", 404),
               "model_not_found", "'gpt-4' does not exist; this server serves 'rm'");
  expect_error(post(s, "/v1/chat/completions", R"({"model": "gpt-4", "messages": []})", 404), "model_not_found",
               "gpt-4");
  expect_error(post(s, "/v1/score", R"({"input": [{"prompt": "q", "response": "a"}, {"prompt": "q"}]})", 400),
               "invalid_request", "input element 2: no answer to score");
  expect_error(post(s, "/v1/score", R"({"input": []})", 400), "invalid_input", "non-empty list");
  expect_error(post(s, "/v1/score/evaluation", R"({"messages": [1]})", 400), "invalid_messages", "string");
  expect_error(post(s, "/v1/score", "{\"input\": [{\"prompt\": \"" + std::string(5000, 'a') + "\"}]}", 413),
               "request_too_large", "over the limit of 4096 bytes");
  expect_error(post(s, "/v1/completions", "{}", 404), "not_found", "no route POST /v1/completions");
  // a known path with the wrong method: 405 naming the method it takes (was 404 "no route")
  expect_error(post(s, "/v1/models", "{}", 405), "method_not_allowed", "/v1/models takes GET, not POST");
  {
    httplib::Client c = s.client();
    const httplib::Result r = c.Get("/v1/chat/completions");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->get_header_value("Allow"), "POST");
    expect_error(Json::parse(r->body), "method_not_allowed", "/v1/chat/completions takes POST, not GET");
  }
  // a POST without Content-Length: httplib waited for the body until its read timeout, then answered a vague 400
  {
    const std::string answer = raw_exchange(s, "POST /v1/score HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 411 ", 0), 0u) << answer;
    const size_t body = answer.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << answer;
    expect_error(Json::parse(answer.substr(body + 4)), "length_required",
                 "POST /v1/score needs a JSON body with a Content-Length header");
  }
  const std::string no_body = raw_exchange(s, "DELETE /v1/score HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(no_body.rfind("HTTP/1.1 405 ", 0), 0u) << no_body;
  // nesting deeper than 100: the server copied (or dumped) it recursively and died of a stack overflow
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  expect_error(post(s, "/v1/score", R"({"input": [{"prompt": "q", "response": "a", "x": )" + deep + "}]}", 400),
               "invalid_json", "nests arrays and objects more than 100 deep");
  // JSON sent as a form (curl -d without -H) over httplib's 8 KiB form cap: was 413 "over the limit of 4096 bytes"
  // under a 16 KiB limit
  {
    ServerProcess big({rm_.config.string(), "--port", "0", "--max-body-kib", "16"}, tmp("serve_form.log"));
    httplib::Client c = big.client();
    const std::string text = "{\"messages\": [\"" + std::string(9000, 'a') + "\"]}";
    const httplib::Result r = c.Post("/v1/score/evaluation", text, "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415);
    expect_error(Json::parse(r->body), "unsupported_media_type", "send JSON with Content-Type: application/json");
    EXPECT_EQ(post(big, "/v1/score/evaluation", text, 200)["scores"].size(), 1u);
  }
  // rows longer than the model's context (8192 positions) were scored at any cost in memory
  expect_error(post(s, "/v1/score/evaluation", R"({"messages": ["q"], "max_length": 8193})", 400),
               "invalid_max_length", "from 1 to 8192 (the model's context)");
  expect_error(post(s, "/v1/score/evaluation", R"({"messages": ["q"], "max_length": 0})", 400), "invalid_max_length",
               "from 1 to 8192");
  // the server still answers after all of that
  const Json ok = post(s, "/v1/score", R"({"input": [{"prompt": "q", "response": "a"}]})", 200);
  EXPECT_EQ(ok["scores"].size(), 1u);
}

TEST_F(Serve, ScoringWithoutValueHeadIs400) {
  const fs::path base = write_infer_config(tmp("base.yaml"), rm_.model, "", "");
  ServerProcess s({base.string(), "--port", "0"}, tmp("serve.log"));
  expect_error(post(s, "/v1/score", R"({"input": [{"prompt": "q", "response": "a"}]})", 400), "no_value_head",
               "value_head.safetensors");
  expect_error(post(s, "/v1/score/evaluation", R"({"messages": ["q"]})", 400), "no_value_head", "cannot score");
  httplib::Client c = s.client();
  const httplib::Result r = c.Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["data"][0]["id"], "model");  // no adapter: the model folder's name
}

TEST_F(Serve, TwoHundredConcurrentRequestsAreAllAnsweredCorrectly) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  // every 4th request a chat completion (streamed every 8th), the rest scores; the expected answers first, one at a time
  const std::vector<Json> in = inputs();
  std::vector<Json> expected_scores;
  for (const Json& item : in)
    expected_scores.push_back(post(s, "/v1/score", Json{{"input", {item}}}.dump(), 200)["scores"][0]);
  auto chat_request = [](int i, bool stream) {
    return Json{{"messages", {{{"role", "user"}, {"content", "question " + std::to_string(i % 5)}}}},
                {"max_tokens", 3},
                {"stream", stream}}
        .dump();
  };
  std::vector<std::string> expected_chat;
  for (int k = 0; k < 5; ++k)
    expected_chat.push_back(post(s, "/v1/chat/completions", chat_request(k, false), 200)["choices"][0]["message"]["content"]);

  constexpr int kRequests = 200;
  std::vector<std::thread> threads;
  std::vector<std::string> problems(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c = s.client();
      const bool chat = i % 4 == 0, stream = i % 8 == 0;
      const std::string body = chat ? chat_request(i, stream)
                                    : Json{{"model", "rm"}, {"input", {in[i % in.size()]}}}.dump();
      const httplib::Result r = c.Post(chat ? "/v1/chat/completions" : "/v1/score", body, "application/json");
      if (!r) {
        problems[i] = "no answer: " + httplib::to_string(r.error());
      } else if (r->status != 200) {
        problems[i] = "status " + std::to_string(r->status) + ": " + r->body;
      } else if (stream) {
        std::string finish;
        const std::string content = streamed_content(r->body, &finish);
        if (content != expected_chat[i % 5] || finish != "length") problems[i] = "wrong stream: " + r->body;
      } else if (chat) {
        const Json got = Json::parse(r->body);
        if (got["choices"][0]["message"]["content"] != expected_chat[i % 5]) problems[i] = "wrong chat: " + r->body;
      } else {
        const Json got = Json::parse(r->body);
        if (got["scores"] != Json::array({expected_scores[i % in.size()]})) problems[i] = "wrong score: " + r->body;
      }
    });
  }
  for (auto& t : threads) t.join();
  int correct = 0;
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(problems[i], "") << "request " << i;
    correct += problems[i].empty();
  }
  EXPECT_EQ(correct, kRequests);
  std::printf("load test: %d concurrent requests (150 POST /v1/score, 25 chat completions, 25 streamed), %d answered "
              "200 with the expected content\n",
              kRequests, correct);
}

TEST_F(Serve, FullQueueAnswers503WithRetryAfterAndNothingIsLost) {
  ServerProcess s({rm_.config.string(), "--port", "0", "--queue-size", "1"}, tmp("serve.log"));
  const std::vector<Json> in = inputs();
  const std::string body = Json{{"input", in}}.dump();
  constexpr int kRequests = 40;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, busy{0}, other{0};
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&] {
      httplib::Client c = s.client();
      const httplib::Result r = c.Post("/v1/score", body, "application/json");
      if (r && r->status == 200 && Json::parse(r->body)["scores"].size() == in.size()) {
        ++ok;
      } else if (r && r->status == 503 && r->get_header_value("Retry-After") == "1" &&
                 Json::parse(r->body)["error"]["code"] == "queue_full") {
        ++busy;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok + busy, kRequests);
  EXPECT_GE(ok.load(), 1);
  std::printf("queue size 1, %d concurrent requests: %d answered 200, %d answered 503\n", kRequests, ok.load(),
              busy.load());
}

TEST_F(Serve, SigintStopsCleanlyAndAPortInUseIsAnError) {
  ServerProcess s({rm_.config.string(), "--port", "0"}, tmp("serve.log"));
  const TuneRun second = run_tune({"serve", rm_.config.string(), "--port", std::to_string(s.port())},
                                  tmp("second.log"));
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.output.find("error: cannot listen on 127.0.0.1:" + std::to_string(s.port())), std::string::npos)
      << second.output;
  const Json body = post(s, "/v1/score", R"({"input": [{"prompt": "q", "response": "a"}]})", 200);
  EXPECT_EQ(body["scores"].size(), 1u);
  const ExitStatus e = s.stop(SIGINT);
  EXPECT_EQ(e.code, 0);
  EXPECT_NE(s.output().find("SIGINT: stopping"), std::string::npos) << s.output();
}

}  // namespace
}  // namespace tune::e2e
