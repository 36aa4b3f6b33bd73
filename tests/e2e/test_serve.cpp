// `tune serve` end to end: a child process on a free loopback port, talked to with httplib::Client — models list,
// /v1/score equal to `tune score`, LLaMA-Factory's /v1/score/evaluation, OpenAI-style 4xx answers, 200 concurrent
// requests all answered correctly, a full queue answering 503, and a clean stop on SIGTERM / SIGINT.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "e2e/serve_support.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    rm_ = make_tiny_reward_model(dir_->path(), "per_device_eval_batch_size: 8\n");
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

TEST_F(Serve, BadRequestsGetOpenAiStyleErrors) {
  ServerProcess s({rm_.config.string(), "--port", "0", "--max-body-kib", "4"}, tmp("serve.log"));
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
  const std::vector<Json> in = inputs();
  std::vector<Json> expected;  // each input scored alone, one request at a time
  for (const Json& item : in) expected.push_back(post(s, "/v1/score", Json{{"input", {item}}}.dump(), 200)["scores"][0]);

  constexpr int kRequests = 200;
  std::vector<std::thread> threads;
  std::vector<int> status(kRequests, 0);
  std::vector<Json> got(kRequests);
  std::vector<std::string> failures(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c = s.client();
      const std::string body = Json{{"model", "rm"}, {"input", {in[i % in.size()]}}}.dump();
      const httplib::Result r = c.Post("/v1/score", body, "application/json");
      if (!r) {
        failures[i] = httplib::to_string(r.error());
        return;
      }
      status[i] = r->status;
      got[i] = Json::parse(r->body, nullptr, false);
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(failures[i], "") << "request " << i;
    EXPECT_EQ(status[i], 200) << "request " << i << ": " << got[i].dump();
    if (status[i] != 200) continue;
    ASSERT_EQ(got[i]["scores"].size(), 1u);
    EXPECT_EQ(got[i]["scores"][0], expected[i % in.size()]) << "request " << i;
    ok += got[i]["scores"][0] == expected[i % in.size()];
  }
  EXPECT_EQ(ok, kRequests);
  std::printf("load test: %d concurrent POST /v1/score, %d answered 200 with the expected scores\n", kRequests, ok);
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
