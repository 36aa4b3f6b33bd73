// A model whose projections are kept as GGML blocks computes what the same model with those blocks dequantized to
// fp32 computes: training forward (logits, loss) and backward (LoRA gradients), and KV-cache decoding, to the tiled
// matmuls' sum order (relative 1e-5); with 1 and 3 threads bit for bit; and dequantize_linears gives the dense twin.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "infer/kv_decoder.h"
#include "model/gemma.h"
#include "model/lora.h"
#include "model/random_init.h"
#include "unit/ggml_blocks.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;

ModelConfig small_config() {
  ModelConfig c = gemma_spec_defaults();
  c.vocab_size = 300;
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 64;  // q_dim 256: o_proj takes K-quant blocks
  c.max_position_embeddings = 128;
  finish_gemma_spec(c);
  return c;
}

// The model of random_weights with every projection replaced by random blocks: one type per projection, so the
// K-quants and the 32-blocks both run.
ModelWeights quantized_weights(const ModelConfig& cfg) {
  ModelWeights w = random_weights(cfg, 3, 0.05f);
  const GgmlType types[kNumProj] = {GgmlType::Q4_K, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q6_K,
                                    GgmlType::Q4_1, GgmlType::Q5_K, GgmlType::Q4_0};
  uint32_t seed = 100;
  for (LayerWeights& layer : w.layers)
    for (int p = 0; p < kNumProj; ++p) {
      FrozenLinear& W = projection(layer, static_cast<Proj>(p));
      W = FrozenLinear{{}, test::random_quant_matrix(types[p], W.out(), W.in(), seed++)};
    }
  return w;
}

struct Result {
  std::vector<float> logits;  // [B, T, V]
  double loss = 0.0;
  std::vector<std::vector<float>> grads;
};

Result train_step(const ModelConfig& cfg, const ModelWeights& w, int threads) {
  LoraConfig lc;
  lc.r = 4;
  lc.lora_alpha = 8.0f;
  lc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  LoraAdapter adapter = init_lora(cfg, lc, 5);
  int k = 0;
  for (auto& layer : adapter.layers)
    for (auto& m : layer)
      if (m)
        for (float& b : m->B.data) b = 0.02f * std::sin(0.37f * float(++k));
  Batch batch;
  batch.B = 2, batch.T = 40;
  for (int b = 0; b < batch.B; ++b)
    for (int t = 0; t < batch.T; ++t) {
      batch.input_ids.push_back((b * 97 + t * 31 + 7) % cfg.vocab_size);
      batch.attention_mask.push_back(t < batch.T - 5 * b ? 1 : 0);
    }
  batch.labels = batch.input_ids;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  GemmaModel model(cfg, w, &adapter, nullptr);
  model.forward(batch, {});
  Tensor logits;
  model.lm_head_loss(0.0f, &logits);
  const LmLossResult loss = model.lm_head_loss(1.0f);
  model.backward();
  omp_set_num_threads(saved);
  Result r{logits.data, loss.loss_sum, {}};
  for (auto& layer : adapter.layers)
    for (auto& m : layer) r.grads.push_back(m->dA.data), r.grads.push_back(m->dB.data);
  return r;
}

TEST(ModelQuantized, TrainingStepMatchesTheDequantizedModel) {
  const ModelConfig cfg = small_config();
  const ModelWeights wq = quantized_weights(cfg);
  ASSERT_TRUE(has_quantized_linears(wq));
  ModelWeights wd = wq;
  dequantize_linears(wd);
  ASSERT_FALSE(has_quantized_linears(wd));
  ASSERT_EQ(wd.layers[1].down.dense.shape, (Shape{cfg.hidden_size, cfg.intermediate_size}));

  const Result q = train_step(cfg, wq, 1), d = train_step(cfg, wd, 1);
  ASSERT_TRUE(std::isfinite(d.loss));
  EXPECT_LE(max_rel_err(q.logits, d.logits), 1e-5);
  EXPECT_NEAR(q.loss, d.loss, 1e-5 * std::fabs(d.loss));
  ASSERT_EQ(q.grads.size(), d.grads.size());
  for (size_t i = 0; i < q.grads.size(); ++i) EXPECT_LE(max_rel_err(q.grads[i], d.grads[i]), 1e-4) << "grad " << i;

  const Result q3 = train_step(cfg, wq, 3);
  EXPECT_EQ(q3.logits, q.logits);
  EXPECT_EQ(q3.loss, q.loss);
  EXPECT_EQ(q3.grads, q.grads);
}

TEST(ModelQuantized, KvDecodingMatchesTheDequantizedModel) {
  const ModelConfig cfg = small_config();
  const ModelWeights wq = quantized_weights(cfg);
  ModelWeights wd = wq;
  dequantize_linears(wd);
  KvDecoder dq(cfg, wq, nullptr), dd(cfg, wd, nullptr);
  constexpr double kTol = 3e-5;  // two layers of differently ordered sums, then a 300-way LM head
  const std::vector<int32_t> prompt = {5, 17, 99, 3, 250, 42};
  auto lq = dq.prefill(prompt, 16), ld = dd.prefill(prompt, 16);
  EXPECT_LE(max_rel_err(std::vector<float>(lq.begin(), lq.end()), std::vector<float>(ld.begin(), ld.end())), kTol);
  for (const int32_t id : {7, 8, 9}) {  // decode steps: the matrix-vector path
    lq = dq.step(id), ld = dd.step(id);
    EXPECT_LE(max_rel_err(std::vector<float>(lq.begin(), lq.end()), std::vector<float>(ld.begin(), ld.end())), kTol);
  }
}

}  // namespace
}  // namespace tune
