// HF model directory weights: the spec's keys/shapes (model/weights.h), single-file and sharded loading, and saving.
#include "io/hf_weights.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace tune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kLmHead = "lm_head.weight";

struct Expected {
  std::string key;
  Shape shape;
};

// Every tensor the spec's checkpoint holds, with its shape, and where it goes in `w` (model/weights.h's role list).
// W is ModelWeights or const ModelWeights.
template <class W>
std::vector<Expected> expected_tensors(const ModelConfig& c, W& w, std::vector<decltype(&w.embed)>* slots) {
  std::vector<Expected> out;
  visit_weights(c, w, [&](const std::string& key, auto& t, Shape shape, WeightRole) {
    out.push_back({key, std::move(shape)});
    if (slots) slots->push_back(&t);
  });
  return out;
}

// Rejects keys the model does not use; a tied lm_head.weight alias with the embedding's shape is allowed, and so are
// the tensors of parts the spec ignores (a vision tower).
void check_unexpected(const std::map<std::string, Shape>& present, const std::vector<Expected>& expected,
                      const ModelConfig& cfg, const std::string& where) {
  std::set<std::string> known;
  for (const Expected& e : expected) known.insert(e.key);
  std::vector<std::string> extra;
  for (const auto& [key, shape] : present) {
    if (known.count(key)) continue;
    if (key == kLmHead && shape == expected.front().shape) continue;
    bool ignored = false;
    for (const std::string& prefix : cfg.names.ignored_prefixes) ignored |= key.rfind(prefix, 0) == 0;
    if (ignored) continue;
    extra.push_back(key);
  }
  if (extra.empty()) return;
  std::string list;
  for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
  if (extra.size() > 5) list += cat(", ... (", extra.size(), " in all)");
  fail(where, ": unexpected tensors for a ", cfg.model_type, " model: ", list,
       "; the checkpoint does not match config.json (different architecture?)");
}

// Reads one expected tensor from `f` into `dest` after checking it exists with the right shape.
void load_one(const SafetensorsFile& f, const Expected& e, Tensor* dest) {
  const TensorInfo* t = f.find(e.key);
  TUNE_CHECK(t, f.source(), ": missing tensor '", e.key, "'; the checkpoint does not match config.json");
  TUNE_CHECK(t->shape == e.shape, f.source(), ": tensor '", e.key, "' has shape ", shape_str(t->shape),
             " but config.json implies ", shape_str(e.shape));
  TUNE_CHECK(dtype_is_float(t->dtype), f.source(), ": tensor '", e.key, "' has dtype ", dtype_name(t->dtype),
             "; model weights must be a floating-point type");
  *dest = f.read_f32(e.key, &e.shape);
}

void load_single(const fs::path& file, const std::vector<Expected>& expected, const std::vector<Tensor*>& dest,
                 const ModelConfig& cfg) {
  const SafetensorsFile f = SafetensorsFile::open(file);
  for (size_t i = 0; i < expected.size(); ++i) load_one(f, expected[i], dest[i]);
  std::map<std::string, Shape> present;
  for (const TensorInfo& t : f.tensors()) present[t.name] = t.shape;
  check_unexpected(present, expected, cfg, file.string());
}

// weight_map of model.safetensors.index.json: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const fs::path& index_file) {
  const std::string src = index_file.string();
  json root;
  try {
    root = json::parse(read_text_file(index_file));
  } catch (const json::parse_error& e) {
    fail(src, ": not valid JSON (", e.what(), ")");
  }
  TUNE_CHECK(root.is_object(), src, ": expected a JSON object at the top level");
  auto it = root.find("weight_map");
  TUNE_CHECK(it != root.end() && it->is_object(), src, ": missing 'weight_map' object");
  std::map<std::string, std::string> map;
  for (const auto& [key, shard] : it->items()) {
    TUNE_CHECK(shard.is_string(), src, ": weight_map['", key, "'] must be a file name, got ", shard.dump());
    const std::string name = shard.get<std::string>();
    TUNE_CHECK(!name.empty() && fs::path(name).filename() == fs::path(name), src, ": weight_map['", key,
               "'] = \"", name, "\" must be a plain file name in the model directory");
    map[key] = name;
  }
  return map;
}

void load_sharded(const fs::path& dir, const std::vector<Expected>& expected, const std::vector<Tensor*>& dest,
                  const ModelConfig& cfg) {
  const fs::path index_file = dir / kIndexFile;
  const std::map<std::string, std::string> weight_map = read_weight_map(index_file);

  std::map<std::string, SafetensorsFile> shards;
  for (const auto& [key, shard] : weight_map) {
    if (shards.count(shard)) continue;
    const fs::path path = dir / shard;
    TUNE_CHECK(fs::is_regular_file(path), index_file.string(), " names shard '", shard,
               "' but it is missing from ", dir.string(), "; download every shard of the checkpoint");
    shards.emplace(shard, SafetensorsFile::open(path));
  }

  std::map<std::string, Shape> present;
  for (const auto& [key, shard] : weight_map) {
    const SafetensorsFile& f = shards.at(shard);
    TUNE_CHECK(f.find(key), index_file.string(), " says tensor '", key, "' is in ", shard,
               ", but that shard does not contain it");
    present[key] = f.get(key).shape;
  }
  for (const auto& [name, f] : shards)
    for (const TensorInfo& t : f.tensors()) present.emplace(t.name, t.shape);

  for (size_t i = 0; i < expected.size(); ++i) {
    auto it = weight_map.find(expected[i].key);
    TUNE_CHECK(it != weight_map.end(), index_file.string(), ": missing tensor '", expected[i].key,
               "' in weight_map; the checkpoint does not match config.json");
    load_one(shards.at(it->second), expected[i], dest[i]);
  }
  check_unexpected(present, expected, cfg, index_file.string());
}

// transformers 5.x saves a model loaded with from_pretrained in "dot natural" key order (core_model_loading.py
// dot_natural_key): the dot-separated parts compared in turn, numbers numerically and before words, words
// alphabetically. For Gemma: embed_tokens, layers 0..N-1 (input_layernorm, mlp.down/gate/up_proj,
// post_attention_layernorm, self_attn.k/o/q/v_proj), norm.
bool dot_natural_less(const std::string& a, const std::string& b) {
  auto parts = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t dot; (dot = s.find('.', start)) != std::string::npos; start = dot + 1)
      out.push_back(s.substr(start, dot - start));
    out.push_back(s.substr(start));
    return out;
  };
  auto is_number = [](const std::string& p) {
    return !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
  };
  const std::vector<std::string> pa = parts(a), pb = parts(b);
  for (size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    if (pa[i] == pb[i]) continue;
    const bool na = is_number(pa[i]), nb = is_number(pb[i]);
    if (na != nb) return na;
    if (na) return std::stoull(pa[i]) < std::stoull(pb[i]);
    return pa[i] < pb[i];
  }
  return pa.size() < pb.size();
}

// Whether the checkpoint in model_dir holds tensor `key` (single file header or shard index).
bool has_tensor(const fs::path& model_dir, const std::string& key) {
  if (fs::is_regular_file(model_dir / kSingleFile)) return SafetensorsFile::open(model_dir / kSingleFile).find(key);
  if (fs::is_regular_file(model_dir / kIndexFile)) return read_weight_map(model_dir / kIndexFile).count(key) > 0;
  return false;
}

// cfg with names.prefix set to the tensor prefix the checkpoint actually uses (the spec's, or one of its aliases).
ModelConfig with_stored_prefix(const fs::path& model_dir, const ModelConfig& cfg) {
  ModelConfig out = cfg;
  if (cfg.names.prefix_aliases.empty() || has_tensor(model_dir, cfg.names.prefix + "embed_tokens.weight")) return out;
  for (const std::string& alias : cfg.names.prefix_aliases)
    if (has_tensor(model_dir, alias + "embed_tokens.weight")) out.names.prefix = alias;
  return out;
}

}  // namespace

ModelWeights load_hf_weights(const fs::path& model_dir, const ModelConfig& spec) {
  const ModelConfig cfg = with_stored_prefix(model_dir, spec);
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(cfg.num_layers));
  std::vector<Tensor*> dest;
  const std::vector<Expected> expected = expected_tensors(cfg, w, &dest);
  if (fs::is_regular_file(model_dir / kSingleFile)) {
    load_single(model_dir / kSingleFile, expected, dest, cfg);
  } else if (fs::is_regular_file(model_dir / kIndexFile)) {
    load_sharded(model_dir, expected, dest, cfg);
  } else {
    fail(model_dir.string(), ": neither ", kSingleFile, " nor ", kIndexFile,
         " found; pass an HF model directory with safetensors weights (.bin checkpoints are not supported)");
  }
  return w;
}

DType stored_weights_dtype(const fs::path& model_dir, const ModelConfig& spec) {
  const std::string key = with_stored_prefix(model_dir, spec).names.prefix + "embed_tokens.weight";
  fs::path file = model_dir / kSingleFile;
  if (!fs::is_regular_file(file)) {
    const fs::path index_file = model_dir / kIndexFile;
    TUNE_CHECK(fs::is_regular_file(index_file), model_dir.string(), ": neither ", kSingleFile, " nor ", kIndexFile,
               " found; pass an HF model directory with safetensors weights");
    const std::map<std::string, std::string> weight_map = read_weight_map(index_file);
    auto it = weight_map.find(key);
    TUNE_CHECK(it != weight_map.end(), index_file.string(), ": missing tensor '", key, "' in weight_map");
    file = model_dir / it->second;
  }
  return SafetensorsFile::open(file).get(key).dtype;
}

std::vector<std::string> save_hf_weights(const fs::path& model_dir, const ModelConfig& cfg, const ModelWeights& w,
                                         DType dtype, uint64_t max_shard_bytes) {
  TUNE_CHECK(w.layers.size() == static_cast<size_t>(cfg.num_layers), "save_hf_weights: weights have ",
             w.layers.size(), " layers but the config has ", cfg.num_layers);
  std::vector<const Tensor*> src;
  const std::vector<Expected> expected = expected_tensors(cfg, w, &src);
  std::vector<size_t> order(expected.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return dot_natural_less(expected[x].key, expected[y].key); });
  // huggingface_hub split_state_dict_into_shards_factory: walk the state dict in order; a tensor bigger than the
  // limit gets a shard of its own (placed before the shard being filled); otherwise a tensor that would push the
  // current shard past the limit closes it first.
  std::vector<std::vector<NamedTensor>> shards;
  std::vector<NamedTensor> current;
  uint64_t current_bytes = 0, total_bytes = 0;
  int64_t total_params = 0;
  for (const size_t i : order) {
    TUNE_CHECK(src[i]->shape == expected[i].shape, "save_hf_weights: tensor '", expected[i].key, "' has shape ",
               shape_str(src[i]->shape), " but the config implies ", shape_str(expected[i].shape));
    const NamedTensor t{expected[i].key, src[i]};
    const uint64_t bytes = static_cast<uint64_t>(src[i]->numel()) * dtype_size(dtype);
    total_bytes += bytes;
    total_params += src[i]->numel();
    if (bytes > max_shard_bytes) {
      shards.push_back({t});
      continue;
    }
    if (current_bytes + bytes > max_shard_bytes) {
      shards.push_back(std::move(current));
      current = {};
      current_bytes = 0;
    }
    current.push_back(t);
    current_bytes += bytes;
  }
  if (!current.empty()) shards.push_back(std::move(current));

  fs::create_directories(model_dir);
  if (shards.size() == 1) {
    write_safetensors_f32(model_dir / kSingleFile, shards[0], dtype);
    return {kSingleFile};
  }
  std::vector<std::string> files;
  json weight_map = json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    write_safetensors_f32(model_dir / name, shards[s], dtype);
    for (const NamedTensor& t : shards[s]) weight_map[t.name] = name;
    files.push_back(name);
  }
  // transformers' save_pretrained: json.dumps(index, indent=2, sort_keys=True) + "\n" (nlohmann sorts keys too).
  json index;
  index["metadata"] = {{"total_parameters", total_params}, {"total_size", total_bytes}};
  index["weight_map"] = std::move(weight_map);
  write_file_atomic(model_dir / kIndexFile, index.dump(2) + "\n");
  files.push_back(kIndexFile);
  return files;
}

}  // namespace tune
