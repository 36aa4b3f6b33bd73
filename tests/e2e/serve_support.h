// Shared by the score and serve e2e tests: a tiny trained reward model with its inference config, and `tune serve`
// run as a child process on a free loopback port.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "e2e/e2e_support.h"

namespace tune::e2e {

inline const fs::path kAgeBiasData = kExample / "data";

// A tiny Gemma, an rm LoRA adapter with value head trained 2 steps on age_bias_test (folder name "rm"), and an
// inference config for it (threads: 1, the given extra lines appended).
struct TinyRewardModel {
  fs::path model, adapter, config;
};

inline fs::path write_infer_config(const fs::path& file, const fs::path& model, const fs::path& adapter,
                                   const std::string& extra) {
  write_text(file, "model_name_or_path: " + model.string() + "\n" +
                       (adapter.empty() ? "" : "adapter_name_or_path: " + adapter.string() + "\n") +
                       "stage: rm\ntemplate: gemma\ncutoff_len: 256\nthreads: 1\n" + extra);
  return file;
}

inline TinyRewardModel make_tiny_reward_model(const fs::path& dir, const std::string& extra_config = "") {
  TinyRewardModel m;
  m.model = make_tiny_model(dir / "model", dir / "new_model.log");
  m.adapter = dir / "rm";
  write_text(dir / "train.yaml", "model_name_or_path: " + m.model.string() +
                                     "\nstage: rm\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
                                     "dataset: age_bias_test\ndataset_dir: " + kAgeBiasData.string() +
                                     "\ntemplate: gemma\ncutoff_len: 256\noutput_dir: " + m.adapter.string() +
                                     "\nper_device_train_batch_size: 4\nmax_steps: 2\nlearning_rate: 5.0e-3\n"
                                     "threads: 1\n");
  const TuneRun r = run_tune({"train", (dir / "train.yaml").string()}, dir / "train.log");
  if (r.exit_code != 0) throw std::runtime_error("training the tiny reward model failed:\n" + tail(r.output));
  m.config = write_infer_config(dir / "infer.yaml", m.model, m.adapter, extra_config);
  return m;
}

// `tune serve` in a child process: started on port 0, the chosen port read from its "listening on" line.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& serve_args, const fs::path& log) : log_(log) {
    std::vector<std::string> args = {"serve"};
    args.insert(args.end(), serve_args.begin(), serve_args.end());
    fs::remove(log_);
    pid_ = spawn_tune(args, log_);
    const std::regex listening(R"(listening on http://([0-9.]+):([0-9]+))");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = output();
      std::smatch m;
      if (std::regex_search(out, m, listening)) {
        host_ = m[1];
        port_ = std::stoi(m[2]);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("tune serve exited before listening:\n" + tail(out));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("tune serve did not print its address within 60 s:\n" + tail(output()));
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_for(pid_);
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Sends the signal and waits for the process to end.
  ExitStatus stop(int signal = SIGTERM) {
    ::kill(pid_, signal);
    const ExitStatus s = wait_for(pid_);
    pid_ = -1;
    return s;
  }

  httplib::Client client() const {
    httplib::Client c(host_, port_);
    c.set_connection_timeout(30);
    c.set_read_timeout(120);
    c.set_write_timeout(30);
    return c;
  }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string output() const { return fs::exists(log_) ? read_bytes(log_) : ""; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  std::string host_;
  int port_ = 0;
};

}  // namespace tune::e2e
