// One YAML string scalar written the way PyYAML's yaml.dump writes it in block context (model card front matter).
#pragma once
#include <string>
#include <string_view>

namespace tune {

// Plain when PyYAML would leave it plain ("other", "/home/u/gemma-2b"); single-quoted when plain text would be read
// back as another type or starts with an indicator ('1.0', 'true', '2024-02-21', '', '- x', '#tag'); double-quoted
// with \x / \u escapes when it holds control or non-ASCII characters (yaml.dump's default allow_unicode=False).
// Not modelled: PyYAML's folding of scalars longer than 80 columns at spaces.
std::string pyyaml_scalar(std::string_view s);

}  // namespace tune
