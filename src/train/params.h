// The flat list of trainable tensors (LoRA A/B, value head) the optimizer, clipping and loss scaling walk over.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "model/lora.h"
#include "model/value_head.h"

namespace tune {

struct ParamRef {
  std::string name;  // saved key: PEFT's "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                     // or "v_head.summary.weight" / "v_head.summary.bias"
  Tensor* value;     // owned by the adapter / value head
  Tensor* grad;      // same shape as *value
  bool decay;        // in HF Trainer's weight-decay group
};

// HF Trainer's decay rule (get_decay_parameter_names): every trainable parameter whose name does not contain "bias"
// and that is not in a LayerNorm/RMSNorm module. tune.cpp never trains norm weights, so only the "bias" test remains.
bool hf_decays(std::string_view name);

// The trainable tensors in HF's model.parameters() order: layer by layer, projections q,k,v,o,gate,up,down, A then B,
// then (when value_head != nullptr) v_head.summary.weight and v_head.summary.bias. The refs point into the arguments,
// which must outlive them. A tensor whose grad shape differs from its value shape is a tune::Error.
std::vector<ParamRef> trainable_params(LoraAdapter& adapter, ValueHead* value_head);

// Sets every grad to zero (Trainer's model.zero_grad() after each optimizer update).
void zero_grads(const std::vector<ParamRef>& params);

int64_t num_elements(const std::vector<ParamRef>& params);

}  // namespace tune
