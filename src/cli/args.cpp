#include "cli/args.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "core/nearest_name.h"

namespace tune::cli {

namespace {

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  return nearest_name(word, candidates);
}

ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& argv, bool* help) {
  ParsedArgs out;
  out.spec = &spec;
  *help = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      *help = true;
      return out;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) value = name.substr(eq + 1), name = name.substr(0, eq);
    const OptionSpec* opt = find_option(spec, name);
    if (!opt) {
      std::vector<std::string> names;
      for (const auto& o : spec.options) names.push_back(o.name);
      const std::string near = nearest(name, names);
      throw UsageError("unknown option --" + name + " for 'tune " + spec.name + "'" +
                       (near.empty() ? "" : "; did you mean --" + near + "?"));
    }
    if (opt->value_name.empty()) {
      if (inline_value) throw UsageError("option --" + name + " is a flag and takes no value");
      out.flags[name] = true;
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value (" + opt->value_name + ")");
      value = argv[++i];
    }
    out.values[name] = value;
  }
  const int n = static_cast<int>(out.positional.size());
  if (n < spec.min_positional || n > spec.max_positional)
    throw UsageError("wrong number of arguments for 'tune " + spec.name + "'; usage: " + spec.usage);
  for (const auto& o : spec.options)
    if (!o.value_name.empty() && !o.default_value.empty() && !out.values.count(o.name))
      out.values[o.name] = o.default_value;
  return out;
}

bool ParsedArgs::has(const std::string& name) const { return values.count(name) > 0; }
bool ParsedArgs::flag(const std::string& name) const { return flags.count(name) > 0; }

std::string ParsedArgs::str(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::string() : it->second;
}

int ParsedArgs::integer(const std::string& name) const {
  const std::string s = str(name);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw UsageError("option --" + name + " expects an integer, got '" + s + "'");
  return v;
}

double ParsedArgs::number(const std::string& name) const {
  const std::string s = str(name);
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw UsageError("option --" + name + " expects a number, got '" + s + "'");
}

std::string command_help(const CommandSpec& spec) {
  std::ostringstream s;
  s << "usage: " << spec.usage << "\n\n" << spec.summary << "\n";
  if (!spec.details.empty()) s << "\n" << spec.details << "\n";
  if (!spec.options.empty()) {
    s << "\noptions:\n";
    for (const auto& o : spec.options) {
      std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
      if (left.size() < 26) left.resize(26, ' ');
      s << left << " " << o.help;
      if (!o.default_value.empty()) s << " (default " << o.default_value << ")";
      s << "\n";
    }
  }
  s << "  --help                   show this help\n";
  return s.str();
}

}  // namespace tune::cli
