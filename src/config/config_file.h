// Reading config text (YAML or JSON) and key=value overrides into raw values, before any key is interpreted.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config/config_value.h"
#include "config/plan.h"

namespace tune {

// The top-level mapping of a config, in file order. The top level must be a mapping whose values are scalars or lists
// of scalars. Malformed text (with line and column), a nested mapping and a key given twice -> tune::Error.
std::vector<ConfigValue> read_config_entries(std::string_view text, ConfigFormat format, const std::string& source);

// One command-line override "key=value"; the value is read as a YAML scalar (or a flow list "[a, b]").
// No '=' or an empty key -> tune::Error.
ConfigValue read_override(const std::string& arg);

}  // namespace tune
