// The real SmolLM2 GGUF (Q4_1 projections) trained with its projections kept quantized and with them dequantized:
// the same LoRA, batch and AdamW give losses within 1e-4 relative over 4 steps, and the loss falls; the memory plan
// counts the kept blocks and the fp32 rest exactly as the file's tensor table sizes them.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_model.h"
#include "model/gemma.h"
#include "model/lora.h"
#include "model/memory_plan.h"
#include "real_gguf.h"
#include "train/adamw.h"
#include "train/params.h"

namespace tune {
namespace {

std::vector<double> train_losses(const ModelConfig& cfg, const ModelWeights& w, int steps) {
  LoraConfig lc;
  lc.r = 8;
  lc.lora_alpha = 16.0f;
  lc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  LoraAdapter adapter = init_lora(cfg, lc, 42);
  const std::vector<ParamRef> params = trainable_params(adapter, nullptr);
  AdamW optimizer(params, {});
  Batch batch;
  batch.B = 2, batch.T = 24;
  for (int b = 0; b < batch.B; ++b)
    for (int t = 0; t < batch.T; ++t) {
      batch.input_ids.push_back((b * 7919 + t * 104729 + 13) % cfg.vocab_size);
      batch.attention_mask.push_back(1);
    }
  batch.labels = batch.input_ids;
  GemmaModel model(cfg, w, &adapter, nullptr);
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    zero_grads(params);
    model.forward(batch, {});
    const LmLossResult r = model.lm_head_loss(1.0f / 46.0f);  // mean over the 2 x 23 shifted targets
    model.backward();
    optimizer.step(1e-3);
    losses.push_back(r.mean());
  }
  return losses;
}

TEST(GgufKeep, SmolLM2TrainsTheSameKeptOrDequantized) {
  TUNE_REAL_GGUF(path, test::kSmolLM2Gguf);
  const GgufFile f = GgufFile::open(path);
  const ModelConfig cfg = gguf_model_config(f);
  const ModelWeights kept = load_gguf_weights(f, cfg, /*keep_quantized=*/true);
  const ModelWeights dense = load_gguf_weights(f, cfg);
  ASSERT_TRUE(has_quantized_linears(kept));
  ASSERT_FALSE(has_quantized_linears(dense));

  const std::vector<double> lk = train_losses(cfg, kept, 4), ld = train_losses(cfg, dense, 4);
  for (size_t s = 0; s < lk.size(); ++s) {
    std::printf("step %zu: loss kept %.7f dequantized %.7f\n", s, lk[s], ld[s]);
    EXPECT_NEAR(lk[s], ld[s], 1e-4 * ld[s]) << "step " << s;
  }
  EXPECT_LT(lk.back(), lk.front());

  // The plan against the file's own tensor table: projections (blk.N.attn_q/k/v/output, ffn_gate/up/down) kept at
  // their stored bytes, every other tensor fp32.
  int64_t kept_bytes = 0, fp32_bytes = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    bool projection = false;
    for (const char* p : {".attn_q.", ".attn_k.", ".attn_v.", ".attn_output.", ".ffn_gate.", ".ffn_up.", ".ffn_down."})
      projection |= t.name.find(p) != std::string::npos;
    if (projection) {
      ASSERT_EQ(t.type, GgmlType::Q4_1) << t.name;
      kept_bytes += int64_t(t.nbytes);
    } else {
      fp32_bytes += 4 * t.rows() * t.cols();
    }
  }
  const MemoryPlan mk = memory_plan(cfg, kept), md = memory_plan(cfg, dense);
  ASSERT_EQ(mk.kept_bytes.size(), 1u);
  EXPECT_EQ(mk.kept_bytes.at("Q4_1"), kept_bytes);
  EXPECT_EQ(mk.fp32_other_bytes, fp32_bytes);
  EXPECT_EQ(mk.fp32_linear_bytes, 0);
  EXPECT_EQ(md.fp32_linear_bytes, kept_bytes / 20 * 32 * 4);  // a Q4_1 block: 20 bytes for 32 weights
  EXPECT_EQ(mk.params, md.params);
  std::printf("weights kept %.1f MiB, dequantized %.1f MiB\n", mk.weight_bytes() / 1048576.0,
              md.weight_bytes() / 1048576.0);
}

}  // namespace
}  // namespace tune
