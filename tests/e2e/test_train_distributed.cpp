// Data-parallel `tune train` under OpenMPI's mpirun on the tiny age_bias example: W ranks with accumulation GA equal
// one process with accumulation W·GA on the same data order (logs, eval metrics, final adapter and value head, with
// dropout on), the MPI collectives are exact and deterministic, an error or a kill -9 on one rank ends the job with a
// non-zero status within seconds, and a resumed run (same world size) ends with the uninterrupted run's adapter.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dist/communicator.h"
#include "e2e/e2e_support.h"

namespace tune::e2e {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr double kRel = 1e-6;  // the bound; by design (train/grad_sync.h) the runs are expected bit-equal

bool under_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

// mpirun's arguments for `np` local ranks (oversubscribed: CI has 2 cores) running `tune args...`.
std::vector<std::string> mpirun_args(int np, const std::vector<std::string>& tune_args) {
  std::vector<std::string> a = {TUNE_MPIEXEC, "--oversubscribe", "--bind-to", "none", "-np", std::to_string(np),
                                TUNE_BINARY};
  a.insert(a.end(), tune_args.begin(), tune_args.end());
  return a;
}

TuneRun run_command(const std::vector<std::string>& args, const fs::path& log) {
  fs::remove(log);
  const ExitStatus s = wait_for(spawn_command(args, log));
  TuneRun r;
  r.exit_code = s.signal ? 128 + s.signal : s.code;
  r.output = fs::exists(log) ? read_bytes(log) : "";
  return r;
}

// The pids of the processes whose parent is `parent` (mpirun's ranks on this machine).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');  // "pid (comm) state ppid ..."
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

// Whether process `pid` exists and is not a zombie (an exited child not yet reaped by its new parent).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

class TrainDistributed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);  // CI runs as root; mpirun refuses that without both
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    dir_ = new TempDir();
    make_tiny_model(*dir_ / "model", *dir_ / "new_model.log");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
#ifndef TUNE_HAVE_MPI
    GTEST_SKIP() << "this build has no MPI (install libopenmpi-dev)";
#endif
    if (under_mpirun()) GTEST_SKIP() << "a rank of MpiCollectives";
  }
  static fs::path tmp(const std::string& name) { return *dir_ / name; }

  // The tiny example's rm config, small: 4 optimizer steps, dropout on in LoRA and the value head, eval every 2.
  static std::vector<std::string> train_config(const std::string& out, int accumulation,
                                               const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a = train_args(
        kExample / "rm_lora.yaml",
        {"model_name_or_path=" + tmp("model").string(), "dataset_dir=" + (kExample / "data").string(),
         "output_dir=" + tmp(out).string(), "overwrite_output_dir=true", "per_device_train_batch_size=2",
         "gradient_accumulation_steps=" + std::to_string(accumulation), "max_steps=4", "logging_steps=1",
         "eval_steps=2", "save_steps=1000", "per_device_eval_batch_size=1", "lora_dropout=0.1", "threads=1",
         "plot_loss=false"});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  static TempDir* dir_;
};
TempDir* TrainDistributed::dir_ = nullptr;

double rel_diff(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(a), 1e-300); }

// Same log entries (train: loss, grad_norm, learning_rate, epoch; eval: loss and accuracy) within kRel.
void expect_same_logs(const fs::path& a, const fs::path& b) {
  const Json ha = Json::parse(read_bytes(a / "trainer_state.json")).at("log_history");
  const Json hb = Json::parse(read_bytes(b / "trainer_state.json")).at("log_history");
  ASSERT_EQ(ha.size(), hb.size());
  int evals = 0, trains = 0;
  for (size_t i = 0; i < ha.size(); ++i)
    for (const char* key : {"loss", "grad_norm", "learning_rate", "epoch", "eval_loss", "eval_accuracy", "train_loss",
                            "total_flos"}) {
      if (!ha[i].contains(key)) continue;
      ASSERT_TRUE(hb[i].contains(key)) << key << " in entry " << i;
      EXPECT_LE(rel_diff(ha[i][key].get<double>(), hb[i][key].get<double>()), kRel) << key << " in entry " << i;
      evals += std::string(key) == "eval_loss";
      trains += std::string(key) == "grad_norm";
    }
  EXPECT_EQ(trains, 4);
  EXPECT_EQ(evals, 2);  // steps 2 and 4 (the final do_eval is in eval_results.json)
  const Json ea = Json::parse(read_bytes(a / "eval_results.json")), eb = Json::parse(read_bytes(b / "eval_results.json"));
  EXPECT_EQ(ea.at("eval_loss").get<double>(), eb.at("eval_loss").get<double>());
  EXPECT_EQ(ea.at("eval_accuracy").get<double>(), eb.at("eval_accuracy").get<double>());
}

void expect_same_weights(const fs::path& a, const fs::path& b) {
  expect_tensors_close(a / "adapter_model.safetensors", b / "adapter_model.safetensors", kRel);
  expect_tensors_close(a / "value_head.safetensors", b / "value_head.safetensors", kRel);
}

TEST_F(TrainDistributed, FourRanksEqualOneProcessWithFourTimesTheAccumulation) {
  const TuneRun one = run_tune(train_config("one_ga8", 8), tmp("one_ga8.log"));
  ASSERT_EQ(one.exit_code, 0) << tail(one.output);
  const TuneRun four = run_command(mpirun_args(4, train_config("four_ga2", 2)), tmp("four_ga2.log"));
  ASSERT_EQ(four.exit_code, 0) << tail(four.output);
  expect_same_logs(tmp("one_ga8"), tmp("four_ga2"));
  expect_same_weights(tmp("one_ga8"), tmp("four_ga2"));
  // The model card as HF writes it for a 4-process DDP run (multi-CPU included: its parallel_mode is DISTRIBUTED).
  const std::string card = read_bytes(tmp("four_ga2") / "README.md");
  for (const char* line : {"- distributed_type: multi-GPU\n", "- num_devices: 4\n", "- total_train_batch_size: 16\n",
                           "- total_eval_batch_size: 4\n"})
    EXPECT_NE(card.find(line), std::string::npos) << line;
  // Rank 0 alone printed: one training banner.
  EXPECT_EQ(four.output.find("***** training *****"), four.output.rfind("***** training *****"));
  EXPECT_NE(four.output.find("processes 4 (mpi)"), std::string::npos) << tail(four.output);
}

TEST_F(TrainDistributed, TwoRanksEqualOneRankWithTwiceTheAccumulation) {
  const TuneRun one = run_tune(train_config("one_ga4", 4), tmp("one_ga4.log"));
  ASSERT_EQ(one.exit_code, 0) << tail(one.output);
  const TuneRun two = run_command(mpirun_args(2, train_config("two_ga2", 2)), tmp("two_ga2.log"));
  ASSERT_EQ(two.exit_code, 0) << tail(two.output);
  expect_same_logs(tmp("one_ga4"), tmp("two_ga2"));
  expect_same_weights(tmp("one_ga4"), tmp("two_ga2"));
}

TEST_F(TrainDistributed, AnErrorOnOneRankEndsTheJobWithOneMessage) {
  // MPMD: rank 1 gets a dataset that does not exist; rank 0 is already waiting for it in a collective.
  std::vector<std::string> args = {TUNE_MPIEXEC, "--oversubscribe", "--bind-to", "none", "-np", "1", TUNE_BINARY};
  const std::vector<std::string> good = train_config("err", 2);
  args.insert(args.end(), good.begin(), good.end());
  args.insert(args.end(), {":", "-np", "1", TUNE_BINARY});
  args.insert(args.end(), good.begin(), good.end());
  args.push_back("dataset=no_such_dataset");
  const auto t0 = Clock::now();
  const TuneRun r = run_command(args, tmp("err.log"));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 60.0);
  EXPECT_EQ(r.exit_code, 2) << tail(r.output);
  const std::string message = "error: rank 1 of 2: dataset 'no_such_dataset' is not defined";
  EXPECT_NE(r.output.find(message), std::string::npos) << tail(r.output);
  EXPECT_EQ(r.output.find(message), r.output.rfind(message));
}

TEST_F(TrainDistributed, KillNineOfOneRankEndsTheJobAndResumeFinishesTheSameRun) {
  const std::vector<std::string> extra = {"max_steps=24", "save_steps=2", "eval_steps=1000"};
  const TuneRun whole = run_command(mpirun_args(2, train_config("whole", 2, extra)), tmp("whole.log"));
  ASSERT_EQ(whole.exit_code, 0) << tail(whole.output);

  const pid_t job = spawn_command(mpirun_args(2, train_config("killed", 2, extra)), tmp("killed.log"));
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!fs::exists(tmp("killed") / "checkpoint-4") && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(tmp("killed") / "checkpoint-4")) << tail(read_bytes(tmp("killed.log")));
  const std::vector<pid_t> ranks = children_of(job);
  ASSERT_EQ(ranks.size(), 2u) << "mpirun's children";
  const auto killed_at = Clock::now();
  ::kill(ranks.back(), SIGKILL);
  const ExitStatus s = wait_for(job);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed_at).count(), 30.0) << "the job did not end promptly";
  EXPECT_TRUE(s.signal != 0 || s.code != 0) << "mpirun exited 0 after a rank was killed";
  EXPECT_FALSE(fs::exists(tmp("killed") / "adapter_model.safetensors")) << "the killed run finished anyway";
  for (const pid_t r : ranks) EXPECT_FALSE(alive(r)) << "rank process " << r << " outlived the job";

  // Every checkpoint left is whole (rank 0 writes them into a temporary folder and renames it).
  for (const auto& e : fs::directory_iterator(tmp("killed")))
    if (e.path().filename().string().rfind("checkpoint-", 0) == 0)
      for (const char* f : {"adapter_model.safetensors", "value_head.safetensors", "optimizer.safetensors",
                            "tune_loop_state.json", "trainer_state.json"})
        EXPECT_TRUE(fs::exists(e.path() / f)) << e.path() << " lacks " << f;

  // A different world size is refused, naming the one to use.
  const TuneRun alone = run_tune(train_config("killed", 2, {"max_steps=24", "save_steps=2", "eval_steps=1000",
                                                            "overwrite_output_dir=false"}),
                                 tmp("alone.log"));
  EXPECT_EQ(alone.exit_code, 2) << tail(alone.output);
  EXPECT_NE(alone.output.find("was saved by a run on 2 process(es) but this run has 1"), std::string::npos)
      << tail(alone.output);

  const TuneRun resumed = run_command(
      mpirun_args(2, train_config("killed", 2, {"max_steps=24", "save_steps=2", "eval_steps=1000",
                                                "overwrite_output_dir=false"})),
      tmp("resumed.log"));
  ASSERT_EQ(resumed.exit_code, 0) << tail(resumed.output);
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << tail(resumed.output);
  expect_same_weights(tmp("whole"), tmp("killed"));
  const Json a = Json::parse(read_bytes(tmp("whole") / "train_results.json"));
  const Json b = Json::parse(read_bytes(tmp("killed") / "train_results.json"));
  EXPECT_EQ(a.at("train_loss").get<double>(), b.at("train_loss").get<double>());
}

// The collectives themselves: the test binary runs itself under mpirun with 3 ranks (MpiRank below).
TEST_F(TrainDistributed, MpiCollectivesAreExactAndDeterministic) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const TuneRun r = run_command({TUNE_MPIEXEC, "--oversubscribe", "--bind-to", "none", "-np", "3", self,
                                 "--gtest_filter=MpiRank.*", "--gtest_color=no"},
                                tmp("collectives.log"));
  EXPECT_EQ(r.exit_code, 0) << tail(r.output);
  EXPECT_EQ(r.output.find("FAILED"), std::string::npos) << tail(r.output);
  EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << tail(r.output);
}

// Runs only as a rank of MpiCollectivesAreExactAndDeterministic.
TEST(MpiRank, AllReduceBroadcastBarrier) {
  if (!under_mpirun()) GTEST_SKIP() << "runs under mpirun only";
  const auto comm = dist::connect(dist::read_launch_env(), "cpu", 60);
  const int world = comm->world_size(), rank = comm->rank();
  ASSERT_EQ(world, 3);
  ASSERT_STREQ(comm->backend(), "mpi");
  // 10 elements over 3 ranks: slices of 3, 3, 4. Values whose float sum depends on the order.
  auto value = [](int r, int i) { return static_cast<float>(std::ldexp(1.0, -24 * r) * (i + 1) + (r == 0 ? 1 : 0)); };
  std::vector<float> f(10);
  std::vector<double> d(10);
  for (int i = 0; i < 10; ++i) f[static_cast<size_t>(i)] = value(rank, i), d[static_cast<size_t>(i)] = 0.1 * (rank + 1) * i;
  comm->all_reduce(std::span<float>(f), dist::ReduceOp::Sum);
  comm->all_reduce(std::span<double>(d), dist::ReduceOp::Mean);
  for (int i = 0; i < 10; ++i) {
    double sum = 0.0, dsum = 0.0;
    for (int r = 0; r < world; ++r) sum += value(r, i), dsum += 0.1 * (r + 1) * i;
    EXPECT_EQ(f[static_cast<size_t>(i)], static_cast<float>(sum)) << i;
    EXPECT_EQ(d[static_cast<size_t>(i)], dsum / world) << i;
  }
  std::vector<std::byte> bytes(5, std::byte{0});
  if (rank == 1) bytes = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}, std::byte{5}};
  comm->broadcast(std::span<std::byte>(bytes), 1);
  EXPECT_EQ(bytes[4], std::byte{5});
  comm->barrier();
}

}  // namespace
}  // namespace tune::e2e
