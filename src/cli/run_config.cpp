#include "cli/run_config.h"

namespace tune::cli {

Plan plan_from_args(const ParsedArgs& a) {
  std::vector<std::string> overrides;
  for (size_t i = 1; i < a.positional.size(); ++i) {
    const std::string& o = a.positional[i];
    if (o.find('=') == std::string::npos || o.front() == '=')
      throw UsageError("'" + o + "' is not a key=value override; usage: " + a.spec->usage);
    overrides.push_back(o);
  }
  return load_plan(a.positional[0], overrides);
}

}  // namespace tune::cli
