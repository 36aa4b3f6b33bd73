// Byte counts of a model's buffers (see memory_plan.h).
#include "model/memory_plan.h"

#include <cstdio>


namespace tune {
namespace {

constexpr int64_t kF32 = 4;

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

int64_t MemoryPlan::weight_bytes() const {
  int64_t kept = 0;
  for (const auto& [type, bytes] : kept_bytes) kept += bytes;
  return kept + fp32_linear_bytes + fp32_other_bytes;
}

int64_t MemoryPlan::total_bytes() const { return weight_bytes() + trainable_bytes + activation_bytes; }

MemoryPlan memory_plan(const ModelConfig& cfg, const ModelWeights& w) {
  MemoryPlan plan;
  visit_weights(cfg, w, [&](const std::string&, const Tensor& t, const Shape&, WeightRole role) {
    if (role == WeightRole::Linear) return;  // below, kept or dense
    plan.fp32_other_bytes += t.numel() * kF32;
    plan.params += t.numel();
  });
  for (const LayerWeights& layer : w.layers)
    for (int p = 0; p < kNumProj; ++p) {
      const FrozenLinear& W = projection(layer, static_cast<Proj>(p));
      plan.params += W.out() * W.in();
      if (W.quantized())
        plan.kept_bytes[std::string(ggml_type_info(W.quant.type).name)] += W.quant.bytes();
      else
        plan.fp32_linear_bytes += W.dense.numel() * kF32;
    }
  return plan;
}

void add_training(MemoryPlan& plan, const ModelConfig& cfg, const LoraAdapter& adapter, int64_t trainable_params,
                  int64_t rows, int64_t seq_len) {
  plan.trainable_bytes = 4 * kF32 * trainable_params;
  const int64_t N = rows * seq_len, H = cfg.hidden_size, I = cfg.intermediate_size;
  const int64_t Q = cfg.q_dim(), KV = cfg.kv_dim();
  int64_t floats = 0;
  for (int l = 0; l < cfg.num_layers; ++l) {
    const LayerSpec& ls = cfg.layer(l);
    // x, ln1, h1, ln2 [N, H]; q, attn [N, Q]; k, v [N, KV]; gate, up, act [N, I]; rstd1, rstd2 [N]; probs [B, Nq, T, T]
    floats += N * (4 * H + 2 * Q + 2 * KV + 3 * I + 2) + rows * cfg.num_heads * seq_len * seq_len;
    if (ls.qk_norm) floats += N * (Q + KV + cfg.num_heads + cfg.num_kv_heads);  // q_pre, k_pre, their rstd
    if (ls.attn_out_norm) floats += N * (H + 1);                                // o, rstd_o
    if (ls.mlp_out_norm) floats += N * (H + 1);                                 // down, rstd_d
    if (static_cast<size_t>(l) < adapter.layers.size())
      for (const auto& m : adapter.layers[static_cast<size_t>(l)])
        if (m) floats += N * m->r;  // u [N, r]
  }
  plan.activation_bytes = floats * kF32;
}

std::string format_memory_plan(const MemoryPlan& p, const std::string& indent) {
  std::string kept, kept_list;
  int64_t kept_total = 0;
  for (const auto& [type, bytes] : p.kept_bytes) {
    kept_list += (kept_list.empty() ? "" : ", ") + type + " " + mib(bytes);
    kept_total += bytes;
  }
  std::string out = indent + "memory: weights " + mib(p.weight_bytes()) + " (";
  if (kept_total > 0) out += "projections kept quantized " + mib(kept_total) + ": " + kept_list + "; ";
  if (p.fp32_linear_bytes > 0) out += "fp32 projections " + mib(p.fp32_linear_bytes) + "; ";
  out += "fp32 embedding, norms, biases, head " + mib(p.fp32_other_bytes) + ")\n";
  if (p.trainable_bytes > 0 || p.activation_bytes > 0)
    out += indent + "  trainable state " + mib(p.trainable_bytes) + " (fp32 masters, gradients, AdamW m and v), " +
           "activations of the largest micro-batch ~" + mib(p.activation_bytes) + ", total ~" + mib(p.total_bytes()) +
           "\n";
  return out;
}

}  // namespace tune
