// Tests for reading OpenAI chat completion requests: messages and system, sampling overrides over the plan's
// generation keys, and a 400 naming the field for everything tune.cpp does not serve.
#include <gtest/gtest.h>

#include "serve/api_error.h"
#include "serve/chat_request.h"

namespace tune {
namespace {

ChatRequest parse(const std::string& text, const Plan& plan = Plan()) {
  return parse_chat_request(Json::parse(text), plan);
}

std::string error_code(const std::string& text) {
  try {
    parse(text);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.code + ": " + e.what();
  }
  return "(no error)";
}

TEST(ChatRequest, MessagesSystemAndPlanDefaults) {
  Plan plan;
  plan.temperature = 0.5;
  plan.top_p = 0.8;
  plan.max_new_tokens = 77;
  plan.seed = 9;
  const ChatRequest r = parse(R"({"model": "x", "messages": [
      {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]},
      {"role": "user", "content": "Again"}]})",
                              plan);
  EXPECT_EQ(r.system, "Be brief.");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, Role::User);
  EXPECT_EQ(r.messages[1].role, Role::Assistant);
  EXPECT_EQ(r.messages[1].content, "Hello");
  EXPECT_EQ(r.messages[2].content, "Again");
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.params.do_sample);
  EXPECT_FLOAT_EQ(r.params.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.params.top_p, 0.8f);
  EXPECT_EQ(r.params.max_new_tokens, 77);
  EXPECT_EQ(r.params.seed, 9u);
}

TEST(ChatRequest, RequestFieldsOverrideThePlan) {
  const ChatRequest r = parse(R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5,
                                  "temperature": 0, "top_p": 0.3, "seed": 42, "stream": true, "n": 1, "user": "u1"})");
  EXPECT_EQ(r.params.max_new_tokens, 5);
  EXPECT_FALSE(r.params.do_sample);  // temperature 0 = greedy
  EXPECT_FLOAT_EQ(r.params.top_p, 0.3f);
  EXPECT_EQ(r.params.seed, 42u);
  EXPECT_TRUE(r.stream);
  // the largest seed: was read as int64 -1 and refused as negative
  EXPECT_EQ(parse(R"({"messages": [{"role": "user", "content": "Hi"}], "seed": 18446744073709551615})").params.seed,
            18446744073709551615u);
  EXPECT_EQ(parse(R"({"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 3})")
                .params.max_new_tokens,
            3);
  Plan greedy;
  greedy.do_sample = false;
  EXPECT_TRUE(parse(R"({"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.7})", greedy).params.do_sample);
  EXPECT_FALSE(parse(R"({"messages": [{"role": "user", "content": "Hi"}]})", greedy).params.do_sample);
  EXPECT_FALSE(parse(R"({"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.7, "do_sample": false})")
                   .params.do_sample);
}

TEST(ChatRequest, BadFieldsAre400NamingTheField) {
  EXPECT_EQ(error_code(R"({})").substr(0, 17), "invalid_messages:");
  EXPECT_EQ(error_code(R"({"messages": []})").substr(0, 17), "invalid_messages:");
  EXPECT_NE(error_code(R"({"messages": [{"role": "assistant", "content": "x"}]})")
                .find("messages[0] has role 'assistant' where 'user' is expected"),
            std::string::npos);
  EXPECT_NE(error_code(R"({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"}]})")
                .find("messages[1] has role 'system'"),
            std::string::npos);
  EXPECT_NE(error_code(R"({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})")
                .find("the last message must be the user's"),
            std::string::npos);
  EXPECT_NE(error_code(R"({"messages": [{"role": "user", "content": 5}]})").find("needs a string \"content\""),
            std::string::npos);
  // a part whose "type" is not a string: was nlohmann's type_error (500), not a 400
  EXPECT_NE(error_code(R"({"messages": [{"role": "user", "content": [{"type": 5, "text": "x"}]}]})")
                .find("only text content parts are supported"),
            std::string::npos);
  EXPECT_NE(error_code(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})")
                .find("only text content parts"),
            std::string::npos);
  const std::string user = R"("messages": [{"role": "user", "content": "Hi"}])";
  EXPECT_EQ(error_code("{" + user + R"(, "max_tokens": 0})").substr(0, 19), "invalid_max_tokens:");
  EXPECT_EQ(error_code("{" + user + R"(, "max_tokens": 2.5})").substr(0, 19), "invalid_max_tokens:");
  EXPECT_EQ(error_code("{" + user + R"(, "temperature": 3})").substr(0, 20), "invalid_temperature:");
  EXPECT_EQ(error_code("{" + user + R"(, "temperature": "hot"})").substr(0, 20), "invalid_temperature:");
  EXPECT_EQ(error_code("{" + user + R"(, "top_p": 0})").substr(0, 14), "invalid_top_p:");
  // positive as a double but 0 as the sampler's float: was accepted, then failed inside the generator
  EXPECT_EQ(error_code("{" + user + R"(, "top_p": 1e-50})").substr(0, 14), "invalid_top_p:");
  EXPECT_EQ(error_code("{" + user + R"(, "seed": -1})").substr(0, 13), "invalid_seed:");
  EXPECT_EQ(error_code("{" + user + R"(, "n": 2})").substr(0, 10), "invalid_n:");
  EXPECT_EQ(error_code("{" + user + R"(, "stream": "yes"})").substr(0, 15), "invalid_stream:");
  EXPECT_EQ(error_code("{" + user + R"(, "do_sample": 1})").substr(0, 18), "invalid_do_sample:");
}

}  // namespace
}  // namespace tune
