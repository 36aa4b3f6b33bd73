// Thread count never changes a result: a forward + backward of a model large enough that every threaded path runs in
// parallel (products cut into blocks, softmax / GeGLU / LoRA loops above kMinParallelWork) gives bit-identical
// logits, loss and LoRA gradients with 1, 2 and 3 threads, padding and a rank above the loop kernels' included.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "model/gemma.h"
#include "model/lora.h"
#include "model/random_init.h"

namespace tune {
namespace {

ModelConfig threaded_config() {
  ModelConfig c = gemma_spec_defaults();
  c.vocab_size = 1000;
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.max_position_embeddings = 256;
  finish_gemma_spec(c);
  return c;
}

struct Result {
  std::vector<float> logits;              // [B, T, V]
  double loss = 0.0;                      // summed cross-entropy
  std::vector<std::vector<float>> grads;  // every LoRA dA, dB
};

Result forward_backward(const ModelConfig& cfg, const ModelWeights& w, int threads) {
  LoraConfig lc;
  lc.r = 40;  // above lowrank's loop kernels (r <= 32): the sgemm path
  lc.lora_alpha = 16.0f;
  lc.target_modules = {"q_proj", "v_proj", "gate_proj", "down_proj"};
  LoraAdapter adapter = init_lora(cfg, lc, 5);
  int k = 0;
  for (auto& layer : adapter.layers)  // non-zero B so the branch reaches the output and dA is not zero
    for (auto& m : layer)
      if (m)
        for (float& b : m->B.data) b = 0.02f * std::sin(0.37f * float(++k));
  Batch batch;
  batch.B = 4, batch.T = 128;
  for (int b = 0; b < batch.B; ++b)
    for (int t = 0; t < batch.T; ++t) {
      batch.input_ids.push_back((b * 977 + t * 131 + 7) % cfg.vocab_size);
      batch.attention_mask.push_back(t < batch.T - 9 * b ? 1 : 0);  // rows padded by 0, 9, 18, 27
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
    for (auto& m : layer)
      if (m) {
        r.grads.push_back(m->dA.data);
        r.grads.push_back(m->dB.data);
      }
  return r;
}

TEST(ModelThreads, ForwardAndBackwardAreBitIdenticalForAnyThreadCount) {
  const ModelConfig cfg = threaded_config();
  const ModelWeights w = random_weights(cfg, 21, 0.05f);
  const Result one = forward_backward(cfg, w, 1);
  ASSERT_TRUE(std::isfinite(one.loss));
  ASSERT_EQ(one.grads.size(), 16u);
  double grad_abs = 0.0;
  for (const auto& g : one.grads)
    for (float v : g) grad_abs += std::abs(v);
  ASSERT_GT(grad_abs, 0.0) << "the gradients are not all zero";
  for (int threads : {2, 3}) {
    const Result r = forward_backward(cfg, w, threads);
    EXPECT_EQ(r.logits, one.logits) << threads << " threads";
    EXPECT_EQ(r.loss, one.loss) << threads << " threads";
    for (size_t i = 0; i < one.grads.size(); ++i)
      EXPECT_EQ(r.grads[i], one.grads[i]) << threads << " threads, grad " << i;
  }
}

}  // namespace
}  // namespace tune
