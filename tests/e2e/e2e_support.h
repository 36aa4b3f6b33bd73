// Shared by the e2e tests: temporary folders, running the tune binary (to completion or killed), a tiny Gemma model
// with the age_bias tokenizer, config files and byte/tensor comparisons of output files.
#pragma once
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/safetensors.h"

extern char** environ;

namespace tune::e2e {

namespace fs = std::filesystem;

inline const fs::path kRepo = fs::path(TUNE_TEST_DATA).parent_path().parent_path();
inline const fs::path kExample = kRepo / "examples" / "age_bias";

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (fs::path(base && *base ? base : "/tmp") / "tune_e2e_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// Starts `args` (args[0] is the program's path) with stdout and stderr appended to `log`; returns its pid.
inline pid_t spawn_command(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0)
    throw std::runtime_error("posix_spawn " + args[0] + " (log " + log.string() + ") failed: " + std::strerror(err));
  return pid;
}

// Starts `tune args...` with stdout and stderr appended to `log`; returns its pid.
inline pid_t spawn_tune(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv = {TUNE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_command(argv, log);
}

struct ExitStatus {
  int code = -1;    // exit code when it exited
  int signal = 0;   // the signal that ended it, else 0
};
// Waits for a spawned process to end.
inline ExitStatus wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

struct TuneRun {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string output;  // stdout and stderr, interleaved
};
// Runs `tune args...` to completion; its output goes to `log` (truncated first).
inline TuneRun run_tune(const std::vector<std::string>& args, const fs::path& log) {
  fs::remove(log);
  const ExitStatus s = wait_for(spawn_tune(args, log));
  TuneRun r;
  r.exit_code = s.signal ? 128 + s.signal : s.code;
  r.output = fs::exists(log) ? read_bytes(log) : "";
  return r;
}

struct ChatRun {
  int exit_code = -1;
  std::string out, err;  // stdout, stderr
};

// Runs `tune chat args...` with `input` as its stdin (files in `dir`).
inline ChatRun run_chat(const std::vector<std::string>& args, const std::string& input, const fs::path& dir) {
  const fs::path in = dir / "stdin.txt", out = dir / "stdout.txt", err = dir / "stderr.txt";
  write_text(in, input);
  std::vector<std::string> argv_s = {TUNE_BINARY, "chat"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, TUNE_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("posix_spawn failed: ") + std::strerror(rc));
  const ExitStatus s = wait_for(pid);
  return {s.signal ? 128 + s.signal : s.code, read_bytes(out), read_bytes(err)};
}

// The last lines of a run's output, for failure messages.
inline std::string tail(const std::string& text, size_t chars = 3000) {
  return text.size() <= chars ? text : "..." + text.substr(text.size() - chars);
}

// `tune new-model` with the age_bias example's sizes (README.md), plus the example's tokenizer files copied in.
inline fs::path make_tiny_model(const fs::path& dir, const fs::path& log) {
  const TuneRun r = run_tune({"new-model", dir.string(), "--vocab", "2000", "--hidden", "64", "--intermediate", "256",
                              "--layers", "2", "--heads", "4", "--kv-heads", "1", "--head-dim", "16", "--seed", "0"},
                             log);
  if (r.exit_code != 0) throw std::runtime_error("tune new-model failed:\n" + r.output);
  for (const char* name : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    fs::copy_file(kExample / "model" / name, dir / name, fs::copy_options::overwrite_existing);
  return dir;
}

// A tune train command line: CONFIG then key=value overrides.
inline std::vector<std::string> train_args(const fs::path& config, const std::vector<std::string>& overrides) {
  std::vector<std::string> a = {"train", config.string()};
  a.insert(a.end(), overrides.begin(), overrides.end());
  return a;
}

// Largest |a - b| over a tensor's elements divided by the largest |a| (0 when both are all zero).
inline double max_relative_diff(const Tensor& a, const Tensor& b) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a.data[i] - b.data[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(a.data[i])));
  }
  return scale > 0.0 ? diff / scale : diff;
}

// Every tensor of two safetensors files has the same name and shape and agrees within `rel` (max_relative_diff).
inline void expect_tensors_close(const fs::path& a_file, const fs::path& b_file, double rel) {
  const SafetensorsFile a = SafetensorsFile::open(a_file), b = SafetensorsFile::open(b_file);
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (const TensorInfo& t : a.tensors()) {
    ASSERT_NE(b.find(t.name), nullptr) << t.name;
    const Tensor ta = a.read_f32(t.name), tb = b.read_f32(t.name);
    ASSERT_EQ(ta.shape, tb.shape) << t.name;
    EXPECT_LE(max_relative_diff(ta, tb), rel) << t.name;
  }
}

}  // namespace tune::e2e
