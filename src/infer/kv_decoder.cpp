// Incremental decoder forward with a K/V cache (see kv_decoder.h). Each layer is model/block.h's two halves around
// the attention: prefill runs the training forward's batched attention over the prompt; a decode step attends one
// query over the cache.
#include "infer/kv_decoder.h"

#include <cmath>

#include "core/error.h"
#include "kernels/cpu/ops.h"

namespace tune {

namespace {

float* grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace

KvDecoder::KvDecoder(const ModelConfig& cfg, const ModelWeights& weights, const LoraAdapter* adapter)
    : cfg_(cfg), w_(weights), adapter_(adapter) {
  TUNE_CHECK(static_cast<int>(weights.layers.size()) == cfg.num_layers, "model has ", weights.layers.size(),
             " layers of weights but config.json says num_hidden_layers = ", cfg.num_layers);
  TUNE_CHECK(!adapter || static_cast<int>(adapter->layers.size()) == cfg.num_layers, "adapter covers ",
             adapter->layers.size(), " layers but the model has ", cfg.num_layers);
  if (cfg.num_layers > 0) cfg.layer(cfg.num_layers - 1);  // the per-layer spec covers every layer
  k_cache_.resize(static_cast<size_t>(cfg.num_layers));
  v_cache_.resize(static_cast<size_t>(cfg.num_layers));
}

const LoraModule* KvDecoder::lora(int l, Proj p) const {
  if (!adapter_) return nullptr;
  const auto& m = adapter_->layers[l][static_cast<int>(p)];
  return m ? &*m : nullptr;
}

std::span<const float> KvDecoder::prefill(std::span<const int32_t> ids, int capacity) {
  TUNE_CHECK(!ids.empty(), "generation needs a prompt of at least one token");
  TUNE_CHECK(capacity >= static_cast<int>(ids.size()), "KV cache capacity ", capacity, " is below the prompt's ",
             ids.size(), " tokens");
  if (capacity > capacity_) {
    // Table entries depend on the position only, so a longer table serves every shorter sequence too.
    rope_.build(cfg_, capacity);
    for (int l = 0; l < cfg_.num_layers; ++l) {
      k_cache_[l].resize(static_cast<size_t>(capacity) * cfg_.kv_dim());
      v_cache_[l].resize(static_cast<size_t>(capacity) * cfg_.kv_dim());
    }
    capacity_ = capacity;
  }
  len_ = 0;
  run(ids);
  return logits_;
}

std::span<const float> KvDecoder::step(int32_t id) {
  TUNE_CHECK(len_ > 0, "KvDecoder::step before prefill");
  TUNE_CHECK(len_ < capacity_, "the KV cache is full (", capacity_, " positions)");
  run(std::span<const int32_t>(&id, 1));
  return logits_;
}

void KvDecoder::run(std::span<const int32_t> ids) {
  const int n = static_cast<int>(ids.size()), H = cfg_.hidden_size, V = cfg_.vocab_size;
  grow(x_, int64_t(n) * H);
  cpu::embedding_forward(x_.data(), ids.data(), w_.embed.ptr(), n, H, V, cfg_.embed_scale);
  for (int l = 0; l < cfg_.num_layers; ++l) layer(l, n);
  len_ += n;

  // Final norm and LM head on the last position only: logits[V] = head[V,H] . h[H], soft-capped per the spec.
  final_.resize(static_cast<size_t>(H));
  float rstd = 0.0f;
  cpu::rmsnorm_forward(final_.data(), &rstd, x_.data() + int64_t(n - 1) * H, w_.final_norm.ptr(), 1, H,
                       cfg_.rms_norm_eps, cfg_.norm_offset());
  logits_.resize(static_cast<size_t>(V));
  cpu::linear_forward(logits_.data(), final_.data(), w_.head().ptr(), 1, H, V, 1.0f, false);
  if (cfg_.final_softcap > 0.0f)
    for (float& l : logits_) l = cfg_.final_softcap * std::tanh(l / cfg_.final_softcap);
}

void KvDecoder::layer(int l, int n) {
  const LayerSpec& ls = cfg_.layer(l);
  const int H = cfg_.hidden_size, I = cfg_.intermediate_size, Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads;
  const int D = cfg_.head_dim, pos = len_, T = pos + n;
  const int64_t nH = int64_t(n) * H, nI = int64_t(n) * I;
  const LinearFn linear = [&](float* y, const float* x, const FrozenLinear& W, Proj p) {
    lora_linear_forward(y, x, W, lora(l, p), n, 0.0f, 0, &lora_cache_, lora_scratch_);
  };
  // New keys/values go straight into the cache rows pos .. pos+n-1 and are normed and rotated there.
  float* kc = k_cache_[l].data();  // [capacity, Nkv, D]
  float* vc = v_cache_[l].data();
  BlockBuffers b{.ln1 = grow(ln_, nH), .rstd1 = grow(rstd_, n), .q = grow(q_, int64_t(n) * cfg_.q_dim()),
                 .k = kc + int64_t(pos) * cfg_.kv_dim(), .v = vc + int64_t(pos) * cfg_.kv_dim(),
                 .attn = grow(attn_, int64_t(n) * cfg_.q_dim()), .h1 = grow(h1_, nH), .ln2 = grow(ln_, nH),
                 .rstd2 = grow(rstd2_, n), .gate = grow(gate_, nI), .up = grow(up_, nI), .act = grow(act_, nI)};
  if (ls.qk_norm) {
    b.q_pre = grow(q_pre_, int64_t(n) * cfg_.q_dim());
    b.k_pre = grow(k_pre_, int64_t(n) * cfg_.kv_dim());
    b.q_rstd = grow(q_rstd_, int64_t(n) * Nq);
    b.k_rstd = grow(k_rstd_, int64_t(n) * Nkv);
  }
  if (ls.attn_out_norm) b.o = grow(o_, nH), b.rstd_o = grow(rstd2_, n);
  if (ls.mlp_out_norm) b.down = grow(down_, nH), b.rstd_d = grow(rstd2_, n);
  block_attention_in(cfg_, l, w_.layers[l], linear, x_.data(), 1, n, rope_.cos(l, pos), rope_.sin(l, pos), b);
  if (n == 1) {
    cpu::attention_decode(b.attn, b.q, kc, vc, T, Nq, Nkv, D, cfg_.attn_scale, ls.sliding_window, cfg_.attn_softcap,
                          &scores_);
  } else {
    TUNE_CHECK(pos == 0, "KvDecoder: several tokens at once only from an empty cache");
    const std::vector<uint8_t> mask(static_cast<size_t>(n), 1);
    cpu::attention_forward(b.attn, grow(probs_, int64_t(Nq) * n * n), b.q, kc, vc, mask.data(), 1, n, Nq, Nkv, D,
                           cfg_.attn_scale, ls.sliding_window, cfg_.attn_softcap);
  }
  block_attention_out_mlp(cfg_, l, w_.layers[l], linear, x_.data(), n, b, x_.data());  // in place
}

}  // namespace tune
