// Benchmark of the CUDA backend's building blocks at Gemma-2b shapes: the device's copy bandwidth, cuBLAS GEMM
// TFLOP/s for the LoRA-training matmuls (bf16, fp16, fp32 storage), and the time of our kernels (RMSNorm, GeGLU,
// attention, chunked LM head + cross-entropy, AdamW). Prints one JSON line per measurement. Not a test.
// usage: gpu_ops_bench [--tokens 4096] [--iters 20]   (tokens = B*T rows of the activation matmuls)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/lm_head.h"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/train_ops.h"

namespace {

using tune::DType;
using tune::cuda::DeviceBuffer;

int g_iters = 20;

// Median milliseconds of f() over g_iters timed runs after 3 warm-ups, each run between two device events.
double time_ms(const std::function<void()>& f) {
  for (int i = 0; i < 3; ++i) f();
  cudaEvent_t a, b;
  TUNE_CUDA_CHECK(cudaEventCreate(&a));
  TUNE_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> ms;
  for (int i = 0; i < g_iters; ++i) {
    TUNE_CUDA_CHECK(cudaEventRecord(a));
    f();
    TUNE_CUDA_CHECK(cudaEventRecord(b));
    TUNE_CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0.0f;
    TUNE_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  TUNE_CUDA_CHECK(cudaEventDestroy(a));
  TUNE_CUDA_CHECK(cudaEventDestroy(b));
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

size_t bytes_of(DType t) { return t == DType::F32 ? 4 : 2; }
const char* name_of(DType t) { return t == DType::F32 ? "f32" : t == DType::BF16 ? "bf16" : "f16"; }

// n random values in [-1, 1) stored as t (never zeros: they make matmuls look faster than real data).
DeviceBuffer<char> random_buffer(size_t n, DType t, uint32_t seed) {
  const size_t pattern = std::min<size_t>(n, size_t(1) << 20);
  std::vector<float> host(pattern);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : host) x = dist(gen);
  DeviceBuffer<float> f32(n, "bench fp32 staging");
  TUNE_CUDA_CHECK(cudaMemcpy(f32.get(), host.data(), pattern * 4, cudaMemcpyHostToDevice));
  for (size_t done = pattern; done < n; done += std::min(done, n - done))  // doubling copies of the pattern
    TUNE_CUDA_CHECK(cudaMemcpy(f32.get() + done, f32.get(), std::min(done, n - done) * 4, cudaMemcpyDeviceToDevice));
  DeviceBuffer<char> out(n * bytes_of(t), "bench buffer");
  tune::cuda::convert(out.get(), t, f32.get(), DType::F32, int64_t(n));
  TUNE_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

void device_line() {
  int dev = 0;
  cudaDeviceProp p{};
  TUNE_CUDA_CHECK(cudaGetDevice(&dev));
  TUNE_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  std::printf(
      "{\"bench\":\"device\",\"name\":\"%s\",\"cc\":\"%d.%d\",\"sms\":%d,\"mem_gib\":%.1f,\"l2_mib\":%.1f,"
      "\"driver\":%d,\"runtime\":%d}\n",
      p.name, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem / 1073741824.0, p.l2CacheSize / 1048576.0,
      driver, runtime);
}

void copy_bandwidth() {
  const size_t n = size_t(1) << 30;  // 1 GiB each way
  DeviceBuffer<char> a(n, "copy src"), b(n, "copy dst");
  a.fill_bytes(1);
  const double ms = time_ms([&] { TUNE_CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), n, cudaMemcpyDeviceToDevice)); });
  std::printf("{\"bench\":\"d2d_copy\",\"bytes\":%zu,\"ms\":%.4f,\"gb_per_s\":%.1f}\n", n, ms, 2.0 * n / ms / 1e6);
}

struct GemmCase {
  const char* name;
  int N, in, out;
  int kind;  // 0 forward, 1 backward input, 2 backward weight (fp32 gradient)
};

void gemm_line(tune::cuda::Blas& blas, const GemmCase& c, DType t) {
  auto x = random_buffer(size_t(c.N) * (c.kind == 1 ? c.out : c.in), t, 1);
  auto w = random_buffer(size_t(c.out) * c.in, t, 2);
  auto dy = random_buffer(size_t(c.N) * c.out, t, 3);
  DeviceBuffer<char> y(size_t(c.N) * std::max(c.in, c.out) * 4, "gemm out");
  DeviceBuffer<float> dw(size_t(c.out) * c.in, "gemm dw");
  const double ms = time_ms([&] {
    if (c.kind == 0) tune::cuda::linear_forward(blas, y.get(), t, x.get(), w.get(), t, c.N, c.in, c.out, 1.0f, false);
    if (c.kind == 1)
      tune::cuda::linear_backward_input(blas, y.get(), t, x.get(), w.get(), t, c.N, c.in, c.out, 1.0f, false);
    if (c.kind == 2)
      tune::cuda::linear_backward_weight(blas, dw.get(), DType::F32, dy.get(), x.get(), t, c.N, c.in, c.out, 1.0f);
  });
  const double flops = 2.0 * c.N * c.in * c.out;
  std::printf(
      "{\"bench\":\"gemm\",\"case\":\"%s\",\"dtype\":\"%s\",\"N\":%d,\"in\":%d,\"out\":%d,\"ms\":%.4f,"
      "\"tflops\":%.1f}\n",
      c.name, name_of(t), c.N, c.in, c.out, ms, flops / ms / 1e9);
}

void kernel_line(const char* name, double ms, double bytes, const std::string& extra) {
  std::printf("{\"bench\":\"kernel\",\"case\":\"%s\",\"ms\":%.4f,\"gb_per_s\":%.1f%s}\n", name, ms, bytes / ms / 1e6,
              extra.c_str());
}

void kernels(int N) {
  const int H = 2048, I = 16384, V = 256000, Nq = 8, Nkv = 1, D = 256;
  const DType t = DType::BF16;
  {  // RMSNorm forward + backward [N, H]
    auto x = random_buffer(size_t(N) * H, t, 4), w = random_buffer(H, t, 5), y = random_buffer(size_t(N) * H, t, 6);
    DeviceBuffer<float> rstd(N, "rstd");
    kernel_line("rmsnorm_fwd_bf16",
                time_ms([&] { tune::cuda::rmsnorm_forward(y.get(), rstd.get(), x.get(), w.get(), N, H, 1e-6f, t); }),
                2.0 * N * H * 2, ",\"rows\":" + std::to_string(N));
    kernel_line("rmsnorm_bwd_bf16",
                time_ms([&] { tune::cuda::rmsnorm_backward(y.get(), x.get(), x.get(), w.get(), rstd.get(), N, H, t); }),
                4.0 * N * H * 2, ",\"rows\":" + std::to_string(N));
  }
  {  // GeGLU forward + backward [N, I]
    const int64_t n = int64_t(N) * I;
    auto g = random_buffer(n, t, 7), u = random_buffer(n, t, 8), h = random_buffer(n, t, 9);
    auto dg = random_buffer(n, t, 10), du = random_buffer(n, t, 11);
    kernel_line("geglu_fwd_bf16", time_ms([&] {
                  tune::cuda::geglu_forward(h.get(), g.get(), u.get(), n, tune::Activation::GeluTanh, t);
                }),
                3.0 * n * 2, "");
    kernel_line("geglu_bwd_bf16", time_ms([&] {
                  tune::cuda::geglu_backward(dg.get(), du.get(), h.get(), g.get(), u.get(), n,
                                             tune::Activation::GeluTanh, t);
                }),
                5.0 * n * 2, "");
  }
  for (const int T : {512, 1024}) {  // attention B x T, Gemma-2b heads (MQA)
    const int B = std::max(1, N / T);
    const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D;
    auto q = random_buffer(nq, t, 12), k = random_buffer(nkv, t, 13), v = random_buffer(nkv, t, 14);
    auto out = random_buffer(nq, t, 15), dout = random_buffer(nq, t, 16),
         probs = random_buffer(size_t(B) * Nq * T * T, t, 17);
    auto dq = random_buffer(nq, t, 18), dk = random_buffer(nkv, t, 19), dv = random_buffer(nkv, t, 20);
    DeviceBuffer<uint8_t> mask(std::vector<uint8_t>(size_t(B) * T, 1), "mask");
    DeviceBuffer<float> rowdot(size_t(B) * Nq * T, "rowdot");
    const float scale = 1.0f / 16.0f;
    const std::string shape = ",\"B\":" + std::to_string(B) + ",\"T\":" + std::to_string(T);
    const double attn_flops = 2.0 * 2.0 * B * Nq * double(T) * T * D / 2.0;  // QK^T and PV, causal half
    const double fwd = time_ms([&] {
      tune::cuda::attention_forward(out.get(), probs.get(), q.get(), k.get(), v.get(), mask.get(), B, T, Nq, Nkv, D,
                                    scale, t);
    });
    kernel_line("attention_fwd_bf16", fwd, double(B) * Nq * T * T * 2,
                shape + ",\"tflops\":" + std::to_string(attn_flops / fwd / 1e9));
    const double bwd = time_ms([&] {
      tune::cuda::attention_backward(dq.get(), dk.get(), dv.get(), dout.get(), probs.get(), q.get(), k.get(), v.get(),
                                     rowdot.get(), B, T, Nq, Nkv, D, scale, t);
    });
    kernel_line("attention_bwd_bf16", bwd, double(B) * Nq * T * T * 2,
                shape + ",\"tflops\":" + std::to_string(2.0 * attn_flops / bwd / 1e9));
  }
  {  // chunked LM head + cross-entropy with dh, N targets, V = 256000
    tune::cuda::Blas blas;
    tune::cuda::LmHeadWorkspace ws;
    const int B = 1, T = N + 1;
    auto h = random_buffer(size_t(T) * H, t, 21), E = random_buffer(size_t(V) * H, t, 22);
    auto dh = random_buffer(size_t(T) * H, t, 23);
    std::vector<int32_t> labels(T);
    for (int i = 0; i < T; ++i) labels[i] = (i * 7919) % V;
    for (const int chunk : {0, 1024}) {  // 0: the default (about 256 MiB of chunk logits)
      int64_t n_valid = 0;
      const double ms = time_ms([&] {
        tune::cuda::lm_head_cross_entropy(blas, dh.get(), h.get(), E.get(), labels.data(), B, T, H, V, 1.0f / N,
                                          &n_valid, t, &ws, chunk);
      });
      const double flops = 2.0 * 2.0 * double(N) * V * H;
      kernel_line("lm_head_ce_fwd_bwd_bf16", ms, double(V) * H * 2 * 2,
                  ",\"chunk_rows\":" + std::to_string(chunk) + ",\"targets\":" + std::to_string(n_valid) +
                      ",\"tflops\":" + std::to_string(flops / ms / 1e9));
    }
  }
  {  // AdamW over 10M fp32 master params (LoRA r=8 on all of Gemma-2b's projections is 9.8M)
    const int64_t n = 10'000'000;
    auto p = random_buffer(n, DType::F32, 24), g = random_buffer(n, DType::F32, 25);
    DeviceBuffer<float> m(n, "m"), v(n, "v");
    m.fill_bytes(0);
    v.fill_bytes(0);
    const auto k = tune::cuda::adamw_scalars(0.9, 0.999, 1e-8, 0.01, true, 1, 1e-4);
    kernel_line("adamw_f32", time_ms([&] {
                  tune::cuda::adamw_step(reinterpret_cast<float*>(p.get()), reinterpret_cast<float*>(g.get()), m.get(),
                                         v.get(), n, k);
                }),
                7.0 * n * 4, ",\"params\":" + std::to_string(n));
    kernel_line("global_grad_norm_f32", time_ms([&] {
                  tune::cuda::global_grad_norm({{reinterpret_cast<float*>(g.get()), n}});
                }),
                1.0 * n * 4, ",\"params\":" + std::to_string(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int tokens = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens"))
      tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iters"))
      g_iters = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\nusage: gpu_ops_bench [--tokens 4096] [--iters 20]\n", argv[i]);
      return 2;
    }
  }
  try {
    std::string why;
    if (!tune::cuda::device_available(&why)) {
      std::fprintf(stderr, "gpu_ops_bench: no CUDA device (%s)\n", why.c_str());
      return 1;
    }
    device_line();
    copy_bandwidth();
    tune::cuda::Blas blas;
    const int N = tokens, H = 2048, I = 16384, Q = 2048, KV = 256;
    const GemmCase cases[] = {
        {"square_8192", 8192, 8192, 8192, 0},
        {"q_proj_fwd", N, H, Q, 0},
        {"kv_proj_fwd", N, H, KV, 0},
        {"gate_up_fwd", N, H, I, 0},
        {"down_fwd", N, I, H, 0},
        {"gate_up_bwd_input", N, H, I, 1},
        {"down_bwd_input", N, I, H, 1},
        {"lora_A_bwd_weight_r8", N, H, 8, 2},
        {"lm_head_chunk_fwd", 512, H, 256000, 0},
    };
    for (const DType t : {DType::BF16, DType::F16, DType::F32})
      for (const GemmCase& c : cases)
        if (t != DType::F32 || !std::strcmp(c.name, "square_8192") || !std::strcmp(c.name, "gate_up_fwd"))
          gemm_line(blas, c, t);
    kernels(N);
  } catch (const tune::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
