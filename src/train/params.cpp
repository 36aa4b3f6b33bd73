// Builds the trainable-parameter list from a LoRA adapter and value head, with HF Trainer's decay groups.
#include "train/params.h"

#include "core/error.h"

namespace tune {
namespace {

ParamRef make_ref(std::string name, Tensor& value, Tensor& grad) {
  TUNE_CHECK(value.shape == grad.shape, "trainable tensor ", name, ": gradient shape ", shape_str(grad.shape),
             " differs from the value shape ", shape_str(value.shape),
             "; allocate the gradient with the value's shape before training");
  const bool decay = hf_decays(name);
  return ParamRef{std::move(name), &value, &grad, decay};
}

}  // namespace

bool hf_decays(std::string_view name) { return name.find("bias") == std::string_view::npos; }

std::vector<ParamRef> trainable_params(LoraAdapter& adapter, ValueHead* value_head) {
  std::vector<ParamRef> params;
  for (size_t l = 0; l < adapter.layers.size(); ++l)
    for (int p = 0; p < kNumProj; ++p) {
      auto& module = adapter.layers[l][static_cast<size_t>(p)];
      if (!module) continue;
      const int layer = static_cast<int>(l);
      params.push_back(make_ref(adapter.tensor_key(layer, static_cast<Proj>(p), 'A'), module->A, module->dA));
      params.push_back(make_ref(adapter.tensor_key(layer, static_cast<Proj>(p), 'B'), module->B, module->dB));
    }
  if (value_head) {
    params.push_back(make_ref("v_head.summary.weight", value_head->weight, value_head->dweight));
    params.push_back(make_ref("v_head.summary.bias", value_head->bias, value_head->dbias));
  }
  return params;
}

void zero_grads(const std::vector<ParamRef>& params) {
  for (const ParamRef& p : params) p.grad->zero();
}

int64_t num_elements(const std::vector<ParamRef>& params) {
  int64_t n = 0;
  for (const ParamRef& p : params) n += p.value->numel();
  return n;
}

}  // namespace tune
