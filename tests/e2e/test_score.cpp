// `tune score` end to end on a tiny trained reward model: pair scores equal `tune train` do_predict's
// generated_predictions.jsonl, every input format scores its conversation alike, output keeps the input, and bad
// input stops with file:line and leaves no --out (or is skipped with --skip-bad).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/py_json.h"
#include "e2e/serve_support.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::ordered_json;

class Score : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    rm_ = make_tiny_reward_model(dir_->path(), "per_device_eval_batch_size: 4\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  static TuneRun score(const fs::path& in, const fs::path& out, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"score", rm_.config.string(), "--in", in.string(), "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tune(args, tmp(out.filename().string() + ".log"));
  }
  static std::vector<Json> read_lines(const fs::path& file) {
    std::vector<Json> out;
    std::istringstream s(read_bytes(file));
    for (std::string line; std::getline(s, line);) out.push_back(Json::parse(line));
    return out;
  }
  static std::vector<std::string> folder_listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  static TempDir* dir_;
  static TinyRewardModel rm_;
};
TempDir* Score::dir_ = nullptr;
TinyRewardModel Score::rm_;

TEST_F(Score, PairScoresEqualDoPredictPredictions) {
  const fs::path pred = tmp("pred");
  const TuneRun p = run_tune({"train", rm_.config.string(), "do_predict=true", "dataset=age_bias_test",
                              "dataset_dir=" + kAgeBiasData.string(), "output_dir=" + pred.string()},
                             tmp("predict.log"));
  ASSERT_EQ(p.exit_code, 0) << tail(p.output);
  const Json rows = Json::parse(read_bytes(kAgeBiasData / "age_bias_test.json"));
  std::string lines;
  for (const Json& row : rows) lines += row.dump() + "\n";
  write_text(tmp("pairs.jsonl"), lines);
  const TuneRun s = score(tmp("pairs.jsonl"), tmp("pairs_scored.jsonl"));
  ASSERT_EQ(s.exit_code, 0) << tail(s.output);
  EXPECT_NE(s.output.find("200 lines scored"), std::string::npos) << s.output;

  const std::vector<Json> predictions = read_lines(pred / "generated_predictions.jsonl");
  const std::vector<Json> scored = read_lines(tmp("pairs_scored.jsonl"));
  ASSERT_EQ(predictions.size(), 200u);
  ASSERT_EQ(scored.size(), 200u);
  int chosen_higher = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    const double c = scored[i].at("chosen_score").get<double>(), r = scored[i].at("rejected_score").get<double>();
    // LF's save_predictions rounds to 2 decimals; the unrounded scores come from the very same batches
    EXPECT_EQ(py_round(c, 2), predictions[i].at("chosen").get<double>()) << "line " << i + 1;
    EXPECT_EQ(py_round(r, 2), predictions[i].at("rejected").get<double>()) << "line " << i + 1;
    chosen_higher += c > r;
    Json input = scored[i];
    input.erase("chosen_score");
    input.erase("rejected_score");
    EXPECT_EQ(input, rows[i]) << "the output line keeps the input object, keys in order";
  }
  // the same share do_predict's accuracy reports
  const Json metrics = Json::parse(read_bytes(pred / "predict_results.json"));
  EXPECT_NEAR(chosen_higher / 200.0, metrics.at("predict_accuracy").get<double>(), 1e-12);
}

// Answers ending in pad tokens (template empty: no eos after them) tell do_predict's two rules apart: per_token scores
// the last id that is not the pad id, last_token the last real token. tune score follows rm_loss as do_predict does.
TEST_F(Score, ScorePositionFollowsRmLossAsDoPredictDoes) {
  const fs::path data = tmp("padded_data");
  fs::create_directories(data);
  write_text(data / "dataset_info.json", R"({"padded": {"file_name": "padded.jsonl", "ranking": true}})");
  write_text(data / "padded.jsonl", "{\"instruction\": \"Say hi\", \"output\": [\"hello<pad>\", \"bye<pad><pad>\"]}\n"
                                    "{\"instruction\": \"Who?\", \"output\": [\"Ann<pad>\", \"Bob\"]}\n");
  std::vector<double> per_token;
  for (const std::string loss : {"per_token", "last_token"}) {
    const fs::path pred = tmp("pred_" + loss);
    const TuneRun p = run_tune({"train", rm_.config.string(), "do_predict=true", "dataset=padded",
                                "dataset_dir=" + data.string(), "template=empty", "rm_loss=" + loss,
                                "output_dir=" + pred.string()},
                               tmp("predict_" + loss + ".log"));
    ASSERT_EQ(p.exit_code, 0) << tail(p.output);
    const fs::path out = tmp("padded_" + loss + ".jsonl");
    const TuneRun s = run_tune({"score", rm_.config.string(), "template=empty", "rm_loss=" + loss, "--in",
                                (data / "padded.jsonl").string(), "--out", out.string()},
                               tmp("score_" + loss + ".log"));
    ASSERT_EQ(s.exit_code, 0) << tail(s.output);
    const std::vector<Json> predictions = read_lines(pred / "generated_predictions.jsonl"), scored = read_lines(out);
    ASSERT_EQ(scored.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(py_round(scored[i]["chosen_score"].get<double>(), 2), predictions[i]["chosen"]) << loss << " " << i;
      EXPECT_EQ(py_round(scored[i]["rejected_score"].get<double>(), 2), predictions[i]["rejected"]) << loss << " " << i;
      if (loss == "per_token") per_token.push_back(scored[i]["chosen_score"]);
      else EXPECT_NE(scored[i]["chosen_score"].get<double>(), per_token[i]) << "the rules pick different positions";
    }
  }
}

TEST_F(Score, EveryFormatScoresItsConversationAlike) {
  const Json row = Json::parse(read_bytes(kAgeBiasData / "age_bias_test.json"))[0];
  const std::string q = row["instruction"].get<std::string>() + "\n" + row["input"].get<std::string>();
  const std::string a = row["output"][0], b = row["output"][1];
  const Json user = {{"role", "user"}, {"content", q}};
  std::vector<Json> lines = {
      row,
      {{"messages", {user}}, {"chosen", a}, {"rejected", b}},
      {{"messages", {user, {{"role", "assistant"}, {"content", a}}}}},
      {{"conversations", {{{"from", "human"}, {"value", q}}, {{"from", "gpt"}, {"value", b}}}}},
      {{"instruction", row["instruction"]}, {"input", row["input"]}, {"output", a}},
      {{"prompt", q}, {"response", b}},
  };
  std::string text;
  for (const Json& l : lines) text += l.dump() + "\n\n";  // blank lines are skipped
  write_text(tmp("formats.jsonl"), text);
  const TuneRun s = score(tmp("formats.jsonl"), tmp("formats_scored.jsonl"), {"--batch-size", "2"});
  ASSERT_EQ(s.exit_code, 0) << tail(s.output);
  const std::vector<Json> out = read_lines(tmp("formats_scored.jsonl"));
  ASSERT_EQ(out.size(), lines.size());
  const double c = out[0]["chosen_score"], r = out[0]["rejected_score"];
  EXPECT_NE(c, r);
  // batches of different shapes may round the last bits differently
  EXPECT_NEAR(out[1]["chosen_score"].get<double>(), c, 1e-5);
  EXPECT_NEAR(out[1]["rejected_score"].get<double>(), r, 1e-5);
  EXPECT_NEAR(out[2]["score"].get<double>(), c, 1e-5);
  EXPECT_NEAR(out[3]["score"].get<double>(), r, 1e-5);
  EXPECT_NEAR(out[4]["score"].get<double>(), c, 1e-5);
  EXPECT_NEAR(out[5]["score"].get<double>(), r, 1e-5);
  EXPECT_FALSE(out[2].contains("chosen_score"));
}

TEST_F(Score, BadLineStopsWithFileLineAndLeavesNoOutput) {
  const fs::path folder = tmp("bad");
  fs::create_directories(folder);
  write_text(folder / "in.jsonl", "{\"prompt\": \"q\", \"response\": \"a\"}\n\n{\"prompt\": \"q\"}\n");
  const TuneRun s = score(folder / "in.jsonl", folder / "out.jsonl");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.output.find("error: " + (folder / "in.jsonl").string() + ":3: no answer to score"), std::string::npos)
      << s.output;
  EXPECT_EQ(folder_listing(folder), std::vector<std::string>{"in.jsonl"});  // no out.jsonl, no temp file

  write_text(folder / "in.jsonl", "{\"prompt\": \"q\", \"response\": \"a\"}\n{\"prompt\": \"q\", \n");
  const TuneRun m = score(folder / "in.jsonl", folder / "out.jsonl");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.output.find((folder / "in.jsonl").string() + ":2: malformed JSON"), std::string::npos) << m.output;
  EXPECT_EQ(folder_listing(folder), std::vector<std::string>{"in.jsonl"});
}

// LLaMA-Factory's .json dataset files hold one array of objects: `tune score` reads them as well as JSON Lines, and
// scores each element exactly as the same object on a line.
TEST_F(Score, JsonArrayFileScoresAsItsJsonLines) {
  const Json rows = Json::parse(read_bytes(kAgeBiasData / "age_bias_test.json"));
  ASSERT_TRUE(rows.is_array());
  Json first = Json::array();
  std::string lines;
  for (size_t i = 0; i < 10; ++i) first.push_back(rows[i]), lines += rows[i].dump() + "\n";
  first.push_back({{"prompt", "Who?"}, {"response", "Ann."}});
  lines += Json{{"prompt", "Who?"}, {"response", "Ann."}}.dump() + "\n";
  write_text(tmp("array.json"), "\n  " + first.dump(2) + "\n");
  write_text(tmp("array_lines.jsonl"), lines);
  const TuneRun a = score(tmp("array.json"), tmp("array_scored.jsonl"), {"--batch-size", "3"});
  ASSERT_EQ(a.exit_code, 0) << tail(a.output);
  EXPECT_NE(a.output.find("wrote 11 scored lines"), std::string::npos) << a.output;
  const TuneRun l = score(tmp("array_lines.jsonl"), tmp("array_lines_scored.jsonl"), {"--batch-size", "3"});
  ASSERT_EQ(l.exit_code, 0) << tail(l.output);
  const std::vector<Json> from_array = read_lines(tmp("array_scored.jsonl"));
  ASSERT_EQ(from_array.size(), 11u);
  EXPECT_EQ(from_array, read_lines(tmp("array_lines_scored.jsonl")));
  EXPECT_TRUE(from_array[0].contains("chosen_score")) << from_array[0];
  EXPECT_TRUE(from_array[10].contains("score")) << from_array[10];
}

TEST_F(Score, BadJsonArrayNamesFileAndElementAndLeavesNoOutput) {
  const fs::path folder = tmp("bad_array");
  fs::create_directories(folder);
  write_text(folder / "in.json", "[{\"prompt\": \"q\", \"response\": \"a\"},\n 5,\n {\"prompt\": \"q\"}]\n");
  const TuneRun e = score(folder / "in.json", folder / "out.jsonl");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.output.find("error: " + (folder / "in.json").string() + " element 2: expected a JSON object, got number"),
            std::string::npos)
      << e.output;
  EXPECT_EQ(folder_listing(folder), std::vector<std::string>{"in.json"});

  write_text(folder / "in.json", "[{\"prompt\": \"q\", \"response\": \"a\"},\n {\"prompt\": ]\n");
  const TuneRun m = score(folder / "in.json", folder / "out.jsonl");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.output.find((folder / "in.json").string() + ":2: malformed JSON"), std::string::npos) << m.output;
  EXPECT_EQ(folder_listing(folder), std::vector<std::string>{"in.json"});

  write_text(folder / "in.json", "[{\"prompt\": \"q\", \"response\": \"a\"}, {\"prompt\": \"q\"}]");
  const TuneRun k = score(folder / "in.json", folder / "out.jsonl", {"--skip-bad"});
  ASSERT_EQ(k.exit_code, 0) << tail(k.output);
  EXPECT_NE(k.output.find("in.json element 2: no answer to score"), std::string::npos) << k.output;
  EXPECT_NE(k.output.find("; element skipped (--skip-bad)"), std::string::npos) << k.output;
  EXPECT_EQ(read_lines(folder / "out.jsonl").size(), 1u);
}

TEST_F(Score, SkipBadReportsAndLeavesOutBadLines) {
  write_text(tmp("mixed.jsonl"),
             "{\"prompt\": \"q\", \"response\": \"a\"}\n{\"text\": 1}\n{\"prompt\": \"q\", \"response\": \"b\"}\nnot json\n");
  const TuneRun s = score(tmp("mixed.jsonl"), tmp("mixed_scored.jsonl"), {"--skip-bad", "--batch-size", "1"});
  ASSERT_EQ(s.exit_code, 0) << tail(s.output);
  EXPECT_NE(s.output.find("mixed.jsonl:2: no conversation to score"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("mixed.jsonl:4: malformed JSON"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("wrote 2 scored lines to " + tmp("mixed_scored.jsonl").string() + " (2 bad lines skipped)"),
            std::string::npos)
      << s.output;
  const std::vector<Json> out = read_lines(tmp("mixed_scored.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["response"], "a");
  EXPECT_EQ(out[1]["response"], "b");
  EXPECT_NE(out[0]["score"], out[1]["score"]);
}

TEST_F(Score, OutOverInOrAFolderIsRefusedBeforeScoring) {
  const fs::path folder = tmp("same");
  fs::create_directories(folder / "sub");
  const std::string input = "{\"prompt\": \"q\", \"response\": \"a\"}\n";
  write_text(folder / "in.jsonl", input);
  // the same file under another spelling: was scored and renamed over the input
  const TuneRun same = score(folder / "in.jsonl", folder / "sub" / ".." / "in.jsonl");
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.output.find("error: --out " + (folder / "sub" / ".." / "in.jsonl").string() + " is the --in file"),
            std::string::npos)
      << same.output;
  EXPECT_EQ(read_bytes(folder / "in.jsonl"), input);
  // a folder as --out: was scored in full, then failed to rename over the folder
  const TuneRun to_folder = score(folder / "in.jsonl", folder / "sub");
  EXPECT_EQ(to_folder.exit_code, 2);
  EXPECT_NE(to_folder.output.find("error: --out " + (folder / "sub").string() + " is a folder"), std::string::npos)
      << to_folder.output;
  const TuneRun from_folder = score(folder / "sub", folder / "out.jsonl");
  EXPECT_EQ(from_folder.exit_code, 2);
  EXPECT_NE(from_folder.output.find("error: --in " + (folder / "sub").string() + " is a folder"), std::string::npos)
      << from_folder.output;
  EXPECT_EQ(folder_listing(folder), (std::vector<std::string>{"in.jsonl", "sub"}));
  EXPECT_TRUE(fs::is_empty(folder / "sub"));
}

TEST_F(Score, InterruptLeavesNoOutputAndNoTempFile) {
  const fs::path folder = tmp("interrupt");
  fs::create_directories(folder);
  std::string lines;
  for (int i = 0; i < 20000; ++i) lines += "{\"prompt\": \"" + std::string(100, 'q') + "\", \"response\": \"a\"}\n";
  write_text(folder / "in.jsonl", lines);
  const pid_t pid = spawn_tune({"score", rm_.config.string(), "--in", (folder / "in.jsonl").string(), "--out",
                                (folder / "out.jsonl").string()},
                               tmp("interrupt.log"));
  // SIGTERM (SIGINT may be ignored by a test run in the background) once the temp file of --out exists
  bool started = false;
  for (int i = 0; i < 60000 && !started; ++i) {
    for (const auto& e : fs::directory_iterator(folder)) started = started || e.path().filename() != "in.jsonl";
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(started);
  ::kill(pid, SIGTERM);
  const ExitStatus s = wait_for(pid);
  const std::string output = read_bytes(tmp("interrupt.log"));
  EXPECT_EQ(s.signal, 0);  // was killed by the signal, leaving .out.jsonl.tmp.* behind
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(output.find("error: interrupted by SIGTERM after "), std::string::npos) << output;
  EXPECT_EQ(folder_listing(folder), std::vector<std::string>{"in.jsonl"});
}

TEST_F(Score, ModelWithoutValueHeadIsAClearError) {
  const fs::path config = write_infer_config(tmp("base.yaml"), rm_.model, "", "");
  write_text(tmp("one.jsonl"), "{\"prompt\": \"q\", \"response\": \"a\"}\n");
  const TuneRun s = run_tune({"score", config.string(), "--in", tmp("one.jsonl").string(), "--out",
                              tmp("one_scored.jsonl").string()},
                             tmp("novalue.log"));
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.output.find("has no value_head.safetensors"), std::string::npos) << s.output;
  EXPECT_FALSE(fs::exists(tmp("one_scored.jsonl")));
  const TuneRun u = run_tune({"score", rm_.config.string(), "--in", tmp("one.jsonl").string()}, tmp("usage.log"));
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_NE(u.output.find("needs --in FILE and --out FILE"), std::string::npos) << u.output;
}

}  // namespace
}  // namespace tune::e2e
