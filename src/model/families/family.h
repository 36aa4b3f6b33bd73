// The model families tune.cpp supports: each maps a config.json (model_type) to a ModelSpec, nothing else.
#pragma once
#include <string>
#include <string_view>

#include "io/config_reader.h"
#include "model/spec.h"

namespace tune {

struct FamilyOptions {
  bool exact_gelu = false;  // erf GELU where the config names a tanh GELU (HF 4.38 behaviour for Gemma-1)
};

// Fills `spec` from the config object `r` (the whole config.json; a family with a nested text config reads it).
using FamilyParser = void (*)(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);

struct Family {
  std::string_view model_type;
  FamilyParser parse;
};

// The family of a config.json model_type, or nullptr.
const Family* find_family(std::string_view model_type);
// "gemma, gemma2, ..." for error messages and --help.
std::string supported_model_types();

// One parser per file in model/families/.
void parse_llama(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_mistral(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_qwen2(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_qwen3(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_gemma(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_gemma2(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_gemma3_text(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);
void parse_gemma3(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& spec);

}  // namespace tune
