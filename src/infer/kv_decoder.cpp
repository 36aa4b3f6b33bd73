// Incremental Gemma forward with a K/V cache (see kv_decoder.h). Prefill runs the prompt through the training
// forward's batched ops; a decode step is the same math for one row with attention over the cache.
#include "infer/kv_decoder.h"

#include <cmath>

#include "core/error.h"
#include "kernels/cpu/ops.h"

namespace tune {

namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

KvDecoder::KvDecoder(const ModelConfig& cfg, const ModelWeights& weights, const LoraAdapter* adapter)
    : cfg_(cfg), w_(weights), adapter_(adapter) {
  TUNE_CHECK(static_cast<int>(weights.layers.size()) == cfg.num_layers, "model has ", weights.layers.size(),
             " layers of weights but config.json says num_hidden_layers = ", cfg.num_layers);
  TUNE_CHECK(!adapter || static_cast<int>(adapter->layers.size()) == cfg.num_layers, "adapter covers ",
             adapter->layers.size(), " layers but the model has ", cfg.num_layers);
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
  const int D = cfg_.head_dim;
  if (capacity > capacity_) {
    // Table entries depend on the position only, so a longer table serves every shorter sequence too.
    rope_cos_.resize(static_cast<size_t>(capacity) * D / 2);
    rope_sin_.resize(rope_cos_.size());
    cpu::rope_tables(rope_cos_.data(), rope_sin_.data(), capacity, D, cfg_.rope_theta);
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
  // Gemma scales token embeddings by sqrt(H) as an fp32 scalar (as GemmaModel::forward).
  const float embed_scale = static_cast<float>(std::sqrt(static_cast<double>(H)));
  cpu::embedding_forward(x_.data(), ids.data(), w_.embed.ptr(), n, H, V, embed_scale);
  for (int l = 0; l < cfg_.num_layers; ++l) layer(l, n);
  len_ += n;

  // Final norm and tied LM head on the last position only: logits[V] = E[V,H] . h[H].
  final_.resize(static_cast<size_t>(H));
  float rstd = 0.0f;
  cpu::rmsnorm_forward(final_.data(), &rstd, x_.data() + int64_t(n - 1) * H, w_.final_norm.ptr(), 1, H,
                       cfg_.rms_norm_eps);
  logits_.resize(static_cast<size_t>(V));
  cpu::linear_forward(logits_.data(), final_.data(), w_.embed.ptr(), 1, H, V, 1.0f, false);
}

void KvDecoder::layer(int l, int n) {
  const LayerWeights& lw = w_.layers[l];
  const int H = cfg_.hidden_size, I = cfg_.intermediate_size, Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads;
  const int D = cfg_.head_dim, pos = len_, T = pos + n;
  const int64_t nH = int64_t(n) * H, nI = int64_t(n) * I;
  auto linear = [&](float* y, const float* x, const Tensor& W, Proj p) {
    lora_linear_forward(y, x, W, lora(l, p), n, 0.0f, 0, &lora_cache_, lora_scratch_);
  };
  grow(ln_, nH);
  grow(q_, int64_t(n) * cfg_.q_dim());
  grow(attn_, int64_t(n) * cfg_.q_dim());
  grow(h1_, nH);
  grow(gate_, nI);
  grow(up_, nI);
  grow(act_, nI);
  grow(rstd_, n);

  // Attention: new keys/values go straight into the cache rows pos .. pos+n-1 and are rotated there.
  float* kc = k_cache_[l].data();  // [capacity, Nkv, D]
  float* vc = v_cache_[l].data();
  float* k_new = kc + int64_t(pos) * cfg_.kv_dim();
  float* v_new = vc + int64_t(pos) * cfg_.kv_dim();
  cpu::rmsnorm_forward(ln_.data(), rstd_.data(), x_.data(), lw.input_norm.ptr(), n, H, cfg_.rms_norm_eps);
  linear(q_.data(), ln_.data(), lw.q, Proj::Q);
  linear(k_new, ln_.data(), lw.k, Proj::K);
  linear(v_new, ln_.data(), lw.v, Proj::V);
  const float* cos_p = rope_cos_.data() + int64_t(pos) * D / 2;  // tables from position pos on
  const float* sin_p = rope_sin_.data() + int64_t(pos) * D / 2;
  cpu::rope_forward(q_.data(), cos_p, sin_p, 1, n, Nq, D);
  cpu::rope_forward(k_new, cos_p, sin_p, 1, n, Nkv, D);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  if (n == 1) {
    cpu::attention_decode(attn_.data(), q_.data(), kc, vc, T, Nq, Nkv, D, scale, &scores_);
  } else {
    TUNE_CHECK(pos == 0, "KvDecoder: several tokens at once only from an empty cache");
    grow(probs_, int64_t(Nq) * n * n);
    const std::vector<uint8_t> mask(static_cast<size_t>(n), 1);
    cpu::attention_forward(attn_.data(), probs_.data(), q_.data(), kc, vc, mask.data(), 1, n, Nq, Nkv, D, scale);
  }
  linear(h1_.data(), attn_.data(), lw.o, Proj::O);
  add_into(h1_.data(), x_.data(), nH);

  // MLP: x = h1 + down(gelu(gate(ln2)) * up(ln2)).
  cpu::rmsnorm_forward(ln_.data(), rstd_.data(), h1_.data(), lw.post_attn_norm.ptr(), n, H, cfg_.rms_norm_eps);
  linear(gate_.data(), ln_.data(), lw.gate, Proj::Gate);
  linear(up_.data(), ln_.data(), lw.up, Proj::Up);
  cpu::geglu_forward(act_.data(), gate_.data(), up_.data(), nI, cfg_.activation);
  linear(x_.data(), act_.data(), lw.down, Proj::Down);
  add_into(x_.data(), h1_.data(), nH);
}

}  // namespace tune
