// Orientation: a GGUF tensor lists ne innermost first, so a row-major [rows, cols] matrix is stored byte for byte
// with ne = [cols, rows]; llama.cpp checks base ne = [in, out], lora_a ne = [in, r], lora_b ne = [r, out].
#include "export/lora_gguf.h"

#include <cstring>
#include <map>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf_model.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"

namespace tune {
namespace {

// "blk.{layer}.attn_q.weight": the base weight's GGUF name (the one HF -> GGUF name map, io/gguf_model).
std::string base_tensor_name(const ModelConfig& model, int layer, Proj p) {
  return gguf_tensor_name(model, cat(model.names.prefix, "layers.", layer, ".", proj_module_path(p), ".weight"));
}

// fp32 values as the tensor type's bytes.
std::vector<std::byte> encode(const float* values, size_t n, GgmlType type) {
  std::vector<std::byte> out;
  if (type == GgmlType::F32) {
    out.resize(n * sizeof(float));
    std::memcpy(out.data(), values, out.size());
  } else {
    out.resize(n * sizeof(uint16_t));
    for (size_t i = 0; i < n; ++i) {
      const uint16_t h = f32_to_f16(values[i]);
      std::memcpy(out.data() + i * sizeof h, &h, sizeof h);
    }
  }
  return out;
}

// B [out, r] with its rows in llama.cpp's order and multiplied by `factor` (1 leaves the values exact).
std::vector<float> gguf_b(const LoraModule& m, const ModelConfig& model, Proj p, bool permute, float factor) {
  const int64_t rows = m.B.dim(0), r = m.B.dim(1);
  std::vector<int64_t> stored_row;
  if (permute && (p == Proj::Q || p == Proj::K))
    stored_row = llama_qk_stored_rows(rows, p == Proj::Q ? model.num_heads : model.num_kv_heads,
                                      std::string(proj_module_path(p)));
  std::vector<float> out(static_cast<size_t>(rows * r));
  for (int64_t hf = 0; hf < rows; ++hf) {
    const int64_t g = stored_row.empty() ? hf : stored_row[static_cast<size_t>(hf)];
    for (int64_t k = 0; k < r; ++k) out[static_cast<size_t>(g * r + k)] = m.B.ptr()[hf * r + k] * factor;
  }
  return out;
}

}  // namespace

GgufWriter lora_gguf(const LoraAdapter& adapter, const ModelConfig& model, const LoraGgufOptions& options,
                     std::vector<std::vector<std::byte>>& storage) {
  TUNE_CHECK(options.type == GgmlType::F32 || options.type == GgmlType::F16,
             "export_lora_gguf: tensors are written as F32 or F16, not ", ggml_type_info(options.type).name);
  const GgufArchitecture arch = gguf_architecture_of(model.model_type);
  const float alpha = adapter.config.lora_alpha;
  GgufWriter w;
  w.add_string("general.architecture", arch.name);
  w.add_string("general.type", "adapter");
  if (!options.name.empty()) w.add_string("general.name", options.name);
  w.add_string("adapter.type", "lora");
  w.add_f32("adapter.lora.alpha", alpha);

  size_t modules = 0;
  for (const auto& layer : adapter.layers)
    for (const auto& m : layer) modules += m.has_value();
  TUNE_CHECK(modules > 0, "export_lora_gguf: the adapter has no LoRA modules to export");
  storage.clear();
  storage.reserve(2 * modules);  // the writer keeps spans into these buffers: no reallocation below
  for (size_t l = 0; l < adapter.layers.size(); ++l) {
    for (int pi = 0; pi < kNumProj; ++pi) {
      const auto& m = adapter.layers[l][static_cast<size_t>(pi)];
      if (!m) continue;
      const Proj p = static_cast<Proj>(pi);
      const int64_t r = m->A.dim(0), in = m->A.dim(1), out = m->B.dim(0);
      TUNE_CHECK(m->B.dim(1) == r && in == proj_in_features(model, p) && out == proj_out_features(model, p),
                 "export_lora_gguf: ", adapter.module_name(static_cast<int>(l), p), " has A ", shape_str(m->A.shape),
                 " and B ", shape_str(m->B.shape), ", which do not fit the model");
      // llama.cpp multiplies by alpha / r (scale 1 when alpha is 0); fold any other scaling into B.
      const float llama_scale = alpha != 0.0f ? alpha / static_cast<float>(r) : 1.0f;
      const float factor = m->scaling == llama_scale ? 1.0f : m->scaling / llama_scale;
      const std::string base = base_tensor_name(model, static_cast<int>(l), p);
      storage.push_back(encode(m->A.ptr(), static_cast<size_t>(m->A.numel()), options.type));
      w.add_tensor({base + ".lora_a", options.type, {in, r}, storage.back()});
      const std::vector<float> b = gguf_b(*m, model, p, arch.permutes_qk, factor);
      storage.push_back(encode(b.data(), b.size(), options.type));
      w.add_tensor({base + ".lora_b", options.type, {r, out}, storage.back()});
    }
  }
  return w;
}

void write_lora_gguf(const std::filesystem::path& path, const LoraAdapter& adapter, const ModelConfig& model,
                     const LoraGgufOptions& options) {
  std::vector<std::vector<std::byte>> storage;
  lora_gguf(adapter, model, options, storage).write(path);
}

size_t export_lora_gguf(const std::filesystem::path& model, const std::filesystem::path& adapter_dir,
                        const std::filesystem::path& out, const LoraGgufOptions& options) {
  const ModelConfig cfg = load_model_config(model);
  const LoraAdapter adapter = load_peft_adapter(adapter_dir, cfg);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  write_lora_gguf(out, adapter, cfg, options);
  size_t modules = 0;
  for (const auto& layer : adapter.layers)
    for (const auto& m : layer) modules += m.has_value();
  return modules;
}

}  // namespace tune
