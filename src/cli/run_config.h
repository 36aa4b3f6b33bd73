// Shared by the config-driven commands (`tune data`, later `tune train`): positional CONFIG [key=value ...] -> Plan.
#pragma once
#include "cli/args.h"
#include "config/plan.h"

namespace tune::cli {

inline constexpr int kMaxOverrides = 1000;

// The first positional argument is the config file; every later one must be a key=value override.
Plan plan_from_args(const ParsedArgs& a);

}  // namespace tune::cli
