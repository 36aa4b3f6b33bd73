// The model-folder check of model_name_or_path.
#include "io/model_path.h"

#include "core/error.h"

namespace tune {

namespace fs = std::filesystem;

void check_model_path(const fs::path& path, const std::string& where) {
  if (!fs::is_regular_file(path)) return;
  const std::string kFolder =
      "tune.cpp reads Hugging Face model folders: config.json, the weights as *.safetensors (fp32, bf16 or fp16; "
      "one file or sharded with model.safetensors.index.json) and the tokenizer (tokenizer.json, or the SentencePiece "
      "tokenizer.model) with tokenizer_config.json";
  if (path.extension() == ".gguf")
    fail(where, ": model_name_or_path ", path.string(), " is a GGUF file (llama.cpp's format); ", kFolder,
         ". GGUF files and quantized weights (Q4_K, Q8_0, ...) are not supported. Make an HF folder from it with "
         "transformers, which dequantizes: AutoModelForCausalLM.from_pretrained(\"",
         path.parent_path().string().empty() ? "." : path.parent_path().string(), "\", gguf_file=\"",
         path.filename().string(), "\").save_pretrained(OUT) and the same with AutoTokenizer, then set "
         "model_name_or_path: OUT");
  fail(where, ": model_name_or_path ", path.string(), " is a file, not a model folder; ", kFolder,
       ". Set model_name_or_path to the folder that holds these files");
}

}  // namespace tune
