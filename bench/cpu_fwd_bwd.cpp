// Benchmark: LoRA forward+backward tokens/s on the CPU for a Gemma-shaped random model, plus the SGEMM GFLOP/s this
// machine's BLAS reaches. Prints one JSON line. Not a test.
// usage: cpu_fwd_bwd [--hidden 512 --layers 8 --heads 8 --kv-heads 1 --head-dim 64 --intermediate 2048
//                     --vocab 32000 --seq 256 --batch 1 --lora-r 8 --iters 5]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/ops.h"
#include "model/gemma.h"
#include "model/random_init.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// GFLOP/s of y[N,out] = x[N,in]·Wᵀ at the model's MLP shape.
double sgemm_gflops(int N, int in, int out) {
  std::vector<float> x(static_cast<size_t>(N) * in, 0.5f), w(static_cast<size_t>(out) * in, 0.25f),
      y(static_cast<size_t>(N) * out);
  tune::cpu::linear_forward(y.data(), x.data(), w.data(), N, in, out, 1.0f, false);
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = Clock::now();
    tune::cpu::linear_forward(y.data(), x.data(), w.data(), N, in, out, 1.0f, false);
    times.push_back(seconds_since(t0));
  }
  return 2.0 * N * in * out / median(times) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, int> opt = {{"hidden", 512}, {"layers", 8},   {"heads", 8},    {"kv-heads", 1},
                                    {"head-dim", 64}, {"intermediate", 2048}, {"vocab", 32000}, {"seq", 256},
                                    {"batch", 1},     {"lora-r", 8},  {"iters", 5}};
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || !opt.count(key.substr(2))) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    opt[key.substr(2)] = std::atoi(argv[i + 1]);
  }
  tune::ModelConfig cfg = tune::gemma_spec_defaults();
  cfg.hidden_size = opt["hidden"];
  cfg.num_layers = opt["layers"];
  cfg.num_heads = opt["heads"];
  cfg.num_kv_heads = opt["kv-heads"];
  cfg.head_dim = opt["head-dim"];
  cfg.intermediate_size = opt["intermediate"];
  cfg.vocab_size = opt["vocab"];
  tune::finish_gemma_spec(cfg);
  const int B = opt["batch"], T = opt["seq"];

  const tune::ModelWeights w = tune::random_weights(cfg, 1);
  tune::LoraConfig lc;
  lc.r = opt["lora-r"];
  lc.lora_alpha = 2.0f * lc.r;
  lc.target_modules.assign(tune::kProjNames.begin(), tune::kProjNames.end());
  tune::LoraAdapter adapter = tune::init_lora(cfg, lc, 2);
  for (auto& layer : adapter.layers)  // non-zero B so every LoRA gradient is real work
    for (auto& m : layer)
      if (m) std::fill(m->B.data.begin(), m->B.data.end(), 0.01f);
  tune::GemmaModel model(cfg, w, &adapter, nullptr);

  tune::Batch batch;
  batch.B = B, batch.T = T;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> tok(3, cfg.vocab_size - 1);
  for (int i = 0; i < B * T; ++i) batch.input_ids.push_back(tok(rng));
  batch.attention_mask.assign(static_cast<size_t>(B) * T, 1);
  batch.labels = batch.input_ids;
  const float grad_scale = 1.0f / static_cast<float>(B * (T - 1));

  std::vector<double> times;
  double loss = 0.0;
  for (int it = 0; it < 2 + opt["iters"]; ++it) {
    adapter.zero_grad();
    const auto t0 = Clock::now();
    model.forward(batch, tune::ForwardOptions{.training = true});
    loss = model.lm_head_loss(grad_scale).mean();
    model.backward();
    if (it >= 2) times.push_back(seconds_since(t0));
  }
  const double step = median(times);
  const double tokens = static_cast<double>(B) * T;
  // Matmul FLOPs per token: forward 2·(linear params + LM head) and the same again for input gradients.
  const double H = cfg.hidden_size, I = cfg.intermediate_size, Q = cfg.q_dim(), KV = cfg.kv_dim();
  const double linear_params = cfg.num_layers * (H * Q + 2 * H * KV + Q * H + 3 * H * I);
  const double attn_flops = cfg.num_layers * 2.0 * 2.0 * T * Q * 3.0;  // QKᵀ and PV, forward + 2x backward
  const double flops_per_token = 4.0 * (linear_params + cfg.vocab_size * H) + attn_flops;
  std::printf(
      "{\"bench\":\"tune_cpu_fwd_bwd\",\"engine\":\"tune.cpp fp32 OpenBLAS+OpenMP\",\"threads\":%d,\"hidden\":%d,"
      "\"layers\":%d,\"vocab\":%d,\"seq\":%d,\"batch\":%d,\"lora_r\":%d,\"tokens_per_s\":%.1f,\"ms_per_step\":%.2f,"
      "\"model_gflops\":%.2f,\"sgemm_gflops\":%.2f,\"loss\":%.5f,\"command\":\"%s\"}\n",
      omp_get_max_threads(), cfg.hidden_size, cfg.num_layers, cfg.vocab_size, T, B, lc.r, tokens / step, step * 1e3,
      flops_per_token * tokens / step / 1e9, sgemm_gflops(B * T, cfg.hidden_size, cfg.intermediate_size), loss,
      command.c_str());
  return 0;
}
