// Tests for the Python-compatible float/JSON/repr text (expected strings produced by CPython 3.11 and PyYAML 6).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/py_json.h"
#include "report/yaml_scalar.h"

namespace tune {
namespace {

using Json = nlohmann::ordered_json;

TEST(PyFloatRepr, MatchesPythonRepr) {
  EXPECT_EQ(py_float_repr(1e-06), "1e-06");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(1e-05), "1e-05");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(py_float_repr(1.0), "1.0");
  EXPECT_EQ(py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_float_repr(1.5e-06), "1.5e-06");
  EXPECT_EQ(py_float_repr(123456789.125), "123456789.125");
  EXPECT_EQ(py_float_repr(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(py_float_repr(5e-324), "5e-324");
  EXPECT_EQ(py_float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(py_float_repr(static_cast<double>(1.0176f)), "1.0176000595092773");  // a float32 .item()
  EXPECT_EQ(py_float_repr(0.0), "0.0");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(std::nan("")), "nan");
  EXPECT_EQ(py_float_repr(-HUGE_VAL), "-inf");
}

TEST(PyRound, HalfEvenOnTheExactBinaryValue) {
  EXPECT_EQ(py_round(0.125, 2), 0.12);   // exact tie -> even
  EXPECT_EQ(py_round(0.375, 2), 0.38);   // exact tie -> even
  EXPECT_EQ(py_round(2.675, 2), 2.67);   // 2.675 is stored just below the tie
  EXPECT_EQ(py_round(1.06982, 4), 1.0698);
  EXPECT_EQ(py_float_repr(py_round(10.0 / 260.0 * 100.0, 2)), "3.85");
  EXPECT_EQ(py_float_repr(py_round(10.0 / 260.0, 2)), "0.04");
  EXPECT_TRUE(std::isnan(py_round(std::nan(""), 2)));
}

TEST(PyFormatFixed, MatchesFString) {
  EXPECT_EQ(py_format_fixed(0.548974943052391, 4), "0.5490");
  EXPECT_EQ(py_format_fixed(1.5e-06, 4), "0.0000");
  EXPECT_EQ(py_format_fixed(2.5, 0), "2");
  EXPECT_EQ(py_format_fixed(-1.25, 1), "-1.2");
}

TEST(PyJsonDumps, IndentSortKeysAndSpecialValues) {
  Json v;
  v["b"] = Json::array({1, 2.0, Json{{"z", nullptr}, {"a", true}}});
  v["a"] = "h\xc3\xa9\xf0\x9f\x98\x80\x7f\"\\\n";
  v["c"] = Json::array();
  v["d"] = Json::object();
  v["e"] = std::nan("");
  v["f"] = HUGE_VAL;
  v["g"] = -HUGE_VAL;
  const std::string expected =
      "{\n"
      "  \"a\": \"h\\u00e9\\ud83d\\ude00\\u007f\\\"\\\\\\n\",\n"
      "  \"b\": [\n"
      "    1,\n"
      "    2.0,\n"
      "    {\n"
      "      \"a\": true,\n"
      "      \"z\": null\n"
      "    }\n"
      "  ],\n"
      "  \"c\": [],\n"
      "  \"d\": {},\n"
      "  \"e\": NaN,\n"
      "  \"f\": Infinity,\n"
      "  \"g\": -Infinity\n"
      "}";
  EXPECT_EQ(py_json_dumps(v, {.indent = 2, .sort_keys = true}), expected);
}

TEST(PyJsonDumps, OneLineKeepsInsertionOrder) {
  Json v;
  v["b"] = Json::array({1, 2.0});
  v["a"] = "x";
  EXPECT_EQ(py_json_dumps(v), "{\"b\": [1, 2.0], \"a\": \"x\"}");
}

TEST(PyJsonLoads, ReadsPythonLiteralsBack) {
  const Json v = py_json_loads("{\"a\": NaN, \"b\": [Infinity, -Infinity], \"s\": \"NaN Infinity\", \"n\": 2.0}", "t");
  EXPECT_TRUE(std::isnan(v["a"].get<double>()));
  EXPECT_EQ(v["b"][0].get<double>(), HUGE_VAL);
  EXPECT_EQ(v["b"][1].get<double>(), -HUGE_VAL);
  EXPECT_EQ(v["s"], "NaN Infinity");
  EXPECT_TRUE(v["n"].is_number_float());
  EXPECT_EQ(py_json_dumps(v), "{\"a\": NaN, \"b\": [Infinity, -Infinity], \"s\": \"NaN Infinity\", \"n\": 2.0}");
}

TEST(PyJsonLoads, MalformedTextNamesTheSource) {
  try {
    py_json_loads("{\"a\": 1,", "out/all_results.json");
    FAIL() << "expected tune::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out/all_results.json: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(PyRepr, MatchesPythonStrOfADict) {
  Json v;
  v["loss"] = 1.0698;
  v["it's"] = "a'b";
  v["x"] = nullptr;
  v["t"] = true;
  v["n"] = std::nan("");
  v["l"] = Json::array({1, "q\""});
  EXPECT_EQ(py_repr(v), "{'loss': 1.0698, \"it's\": \"a'b\", 'x': None, 't': True, 'n': nan, 'l': [1, 'q\"']}");
}

TEST(PyyamlScalar, MatchesYamlDump) {
  const std::pair<const char*, const char*> cases[] = {
      {"other", "other"},     {"/home/u/gemma-2b", "/home/u/gemma-2b"},
      {"1.0", "'1.0'"},       {"true", "'true'"},
      {"2024-02-21", "'2024-02-21'"},
      {"", "''"},             {"- x", "'- x'"},
      {"-x", "-x"},           {"#tag", "'#tag'"},
      {"a #b", "'a #b'"},     {"a#b", "a#b"},
      {"a: b", "'a: b'"},     {"a:b", "a:b"},
      {"caf\xc3\xa9", "\"caf\\xE9\""},
      {"x\ty", "\"x\\ty\""},  {"1_000", "'1_000'"},
      {"0x1F", "'0x1F'"},     {"~", "'~'"},
      {"null", "'null'"},     {"=", "'='"},
      {"<<", "'<<'"},         {".inf", "'.inf'"},
      {"1:30", "'1:30'"},     {" lead", "' lead'"},
      {"trail ", "'trail '"}, {"it's", "it's"},
      {"?x", "?x"},           {"? x", "'? x'"},
      {":x", ":x"},           {"---x", "'---x'"},
      {"1e5", "1e5"},         {"1e+5", "1e+5"},
      {"v1.0", "v1.0"},       {"gemma-2b", "gemma-2b"},
      {"[x]", "'[x]'"},       {"x]", "x]"},
      {"@x", "'@x'"},         {"%x", "'%x'"},
      {"a,b", "a,b"},         {"o'k: x", "'o''k: x'"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(pyyaml_scalar(in), out) << "input: " << in;
}

}  // namespace
}  // namespace tune
