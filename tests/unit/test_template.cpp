// Chat templates against a Python rendition of LLaMA-Factory's template code (tests/data/tokenizer/expected.json,
// tools/reference/make_tokenizer_golden.py), plus the template shapes and error cases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "text/template.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using tune::EncodedTurn;
using tune::Message;
using tune::Role;
using tune::Template;
using tune::TokenIds;
using tune::Tokenizer;

namespace {

const fs::path kGolden = fs::path(TUNE_TEST_DATA) / "tokenizer";

const json& expected() {
  static const json e = [] {
    std::ifstream in(kGolden / "expected.json");
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
  }();
  return e;
}

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::load(kGolden);
  return t;
}

std::vector<Message> messages_of(const json& list) {
  std::vector<Message> out;
  for (const json& m : list)
    out.push_back({m["role"] == "user" ? Role::User : Role::Assistant, m["content"].get<std::string>()});
  return out;
}

std::vector<Message> one_turn(const std::string& q, const std::string& a) {
  return {{Role::User, q}, {Role::Assistant, a}};
}

TokenIds concat(std::initializer_list<TokenIds> parts) {
  TokenIds out;
  for (const TokenIds& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const tune::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Template, MatchesLlamaFactoryForEveryGoldenCase) {
  const json& cases = expected()["templates"];
  ASSERT_GE(cases.size(), 150u);
  int float_cuts = 0, truncated = 0;
  for (const json& c : cases) {
    const std::string name = c["template"].get<std::string>();
    const json& conv = expected()["conversations"][c["conversation"].get<std::string>()];
    const int cutoff = c["cutoff_len"].get<int>();
    const std::vector<EncodedTurn> got = Template::get(name).encode_multiturn(
        tok(), messages_of(conv["messages"]), conv["system"].get<std::string>(), cutoff);
    const json& want = c["turns"];
    SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>() + " / cutoff " + std::to_string(cutoff));
    ASSERT_EQ(got.size(), want.size());
    for (size_t t = 0; t < got.size(); ++t) {
      EXPECT_EQ(got[t].source, want[t]["source"].get<TokenIds>()) << "turn " << t;
      EXPECT_EQ(got[t].target, want[t]["target"].get<TokenIds>()) << "turn " << t;
    }
    float_cuts += c["float_cut"].get<bool>();
    truncated += want.size() < conv["messages"].size() / 2;
  }
  EXPECT_GT(float_cuts, 0);  // the golden covers infer_max_len's float rounding
  EXPECT_GT(truncated, 0);   // and turns dropped by the cutoff
}

TEST(Template, EosAndEfficientEosPerTemplate) {  // the seed-era templates (the family ones: test_template_families)
  for (const auto& [name, eos] : expected()["template_eos_ids"].items()) {
    const Template& t = Template::get(name);
    EXPECT_EQ(t.name(), name);
    EXPECT_EQ(t.eos_id(tok()), eos.get<int>()) << name;
    EXPECT_EQ(t.efficient_eos(), expected()["template_efficient_eos"][name].get<bool>()) << name;
  }
}

TEST(Template, KnownNames) {
  EXPECT_EQ(Template::names(),
            (std::vector<std::string>{"gemma", "gemma_current", "default", "alpaca", "empty", "llama3", "llama2",
                                      "mistral", "qwen", "qwen3_nothink", "chatml", "smollm", "smollm2", "gemma2",
                                      "gemma3"}));
}

// The shapes written out by hand from LF's template.py, independent of the golden file.
TEST(Template, GemmaSeedEraShape) {
  const Tokenizer& k = tok();
  const auto turns = Template::get("gemma").encode_multiturn(
      k, {{Role::User, "hi"}, {Role::Assistant, "yo"}, {Role::User, "q2"}, {Role::Assistant, "a2"}}, "", 1 << 20);
  ASSERT_EQ(turns.size(), 2u);
  const TokenIds user1 = k.encode("<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(turns[0].source, concat({{k.bos_id()}, user1}));  // bos even without a system text
  EXPECT_EQ(turns[0].target, k.encode("yo"));                  // no <end_of_turn>, no eos
  const TokenIds user2 = k.encode("<start_of_turn>user\nq2<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(turns[1].source, concat({k.encode("<end_of_turn>\n"), user2}));
  EXPECT_EQ(turns[1].target, k.encode("a2"));
}

TEST(Template, GemmaCurrentFusesTheSystemText) {
  const Tokenizer& k = tok();
  const auto turns = Template::get("gemma_current").encode_multiturn(k, one_turn("hi", "yo"), "Be kind.", 1 << 20);
  ASSERT_EQ(turns.size(), 1u);
  const TokenIds user = k.encode("<start_of_turn>user\nBe kind.\n\nhi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(turns[0].source, concat({{k.bos_id()}, user}));
  EXPECT_EQ(turns[0].target, k.encode("yo<end_of_turn>\n"));
}

TEST(Template, DefaultAndAlpacaAppendEosAndUseTheirSystemText) {
  const Tokenizer& k = tok();
  const auto d = Template::get("default").encode_multiturn(k, one_turn("hi", "yo"), "S", 1 << 20);
  EXPECT_EQ(d[0].source, concat({k.encode("S\n"), k.encode("Human: hi\nAssistant: ")}));
  EXPECT_EQ(d[0].target, concat({k.encode("yo"), {k.eos_id()}}));
  const auto a = Template::get("alpaca").encode_multiturn(k, one_turn("hi", "yo"), "", 1 << 20);
  EXPECT_EQ(a[0].source,
            concat({k.encode("Below is an instruction that describes a task. Write a response that appropriately "
                             "completes the request."),
                    k.encode("### Instruction:\nhi\n\n### Response:\n")}));
  const auto e = Template::get("empty").encode_multiturn(k, one_turn("hi", "yo"), "", 1 << 20);
  EXPECT_EQ(e[0].source, k.encode("hi"));
  EXPECT_EQ(e[0].target, k.encode("yo"));
}

TEST(Template, CutoffSplitsTheBudgetProportionally) {
  const Tokenizer& k = tok();
  const Template& t = Template::get("empty");
  const std::string q = "one two three four five six seven eight";
  const std::string a = "blue green";
  const TokenIds q_ids = k.encode(q);
  const size_t s = q_ids.size(), n = k.encode(a).size();
  ASSERT_GT(s, 4u);
  ASSERT_GT(n, 1u);
  const int budget = static_cast<int>((s + n) / 2);
  const auto turns = t.encode_multiturn(k, one_turn(q, a), "", budget);
  const size_t max_target = std::max<size_t>(static_cast<size_t>(budget * (double(n) / double(s + n))), 1);
  EXPECT_EQ(turns[0].target.size(), std::min(n, max_target));
  EXPECT_EQ(turns[0].source.size(), budget - max_target);
  EXPECT_EQ(turns[0].source, TokenIds(q_ids.begin(), q_ids.begin() + (budget - max_target)));  // head kept
  // A budget of one keeps one target token and no source.
  const auto tiny = t.encode_multiturn(k, one_turn(q, a), "", 1);
  EXPECT_TRUE(tiny[0].source.empty());
  EXPECT_EQ(tiny[0].target.size(), 1u);
}

TEST(Template, EmptyPairsDoNotDivideByZero) {
  const auto turns = Template::get("empty").encode_multiturn(tok(), one_turn("", ""), "", 8);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_TRUE(turns[0].source.empty());
  EXPECT_TRUE(turns[0].target.empty());
}

TEST(Template, Errors) {
  const std::string unknown = error_of([] { Template::get("gemma9"); });
  EXPECT_NE(unknown.find("unknown template 'gemma9'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("gemma, gemma_current, default, alpaca, empty, llama3,"), std::string::npos) << unknown;

  const Template& g = Template::get("gemma");
  EXPECT_NE(error_of([&] { g.encode_multiturn(tok(), {{Role::User, "q"}}, "", 16); }).find("1 messages"),
            std::string::npos);
  EXPECT_NE(error_of([&] { g.encode_multiturn(tok(), {}, "", 16); }).find("0 messages"), std::string::npos);
  EXPECT_NE(error_of([&] {
              g.encode_multiturn(tok(), {{Role::Assistant, "a"}, {Role::User, "q"}}, "", 16);
            }).find("message 0 must be user"),
            std::string::npos);
  EXPECT_NE(error_of([&] { g.encode_multiturn(tok(), one_turn("q", "a"), "", 0); }).find("cutoff_len"),
            std::string::npos);
}
