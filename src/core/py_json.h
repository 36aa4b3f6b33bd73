// Python-compatible text for numbers and JSON: float repr, round(), json.dumps/json.load and str(dict), so the files
// and console lines tune.cpp writes are byte-identical to what HF Trainer / LLaMA-Factory write.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tune {

// Python repr(float): shortest round-trip digits; fixed notation for 1e-4 <= |x| < 1e16 (always with a fraction,
// "1.0"), otherwise "1e-06" / "1.5e+16"; "nan", "inf", "-inf".
std::string py_float_repr(double x);
// The same for a float32 value: its own shortest round-trip digits (0.05f -> "0.05"), as PEFT writes a config float.
std::string py_float_repr(float x);

// Python round(x, ndigits): the double nearest to x correctly rounded (ties to even) at ndigits decimals.
double py_round(double x, int ndigits);

// Python f"{x:.{decimals}f}" (exact decimal expansion, correctly rounded).
std::string py_format_fixed(double x, int decimals);

struct PyJsonStyle {
  int indent = -1;         // -1: one line with ", " and ": " separators; >= 0: that many spaces per level
  bool sort_keys = false;  // json.dumps(sort_keys=True): every object's keys in code-point order
};

// json.dumps(value, indent=..., sort_keys=...) with the default ensure_ascii=True and allow_nan=True: floats as
// py_float_repr (NaN, Infinity, -Infinity), integers as integers, non-ASCII as \uXXXX escapes.
std::string py_json_dumps(const nlohmann::ordered_json& value, const PyJsonStyle& style = {});

// json.loads of a text Python wrote: standard JSON plus the NaN / Infinity / -Infinity literals. source names the
// text in the error thrown for malformed input.
nlohmann::ordered_json py_json_loads(std::string_view text, const std::string& source);

// Python str() of the value as a dict/list/str/float/int/bool/None literal: {'loss': 1.0698, 'epoch': 0.04}.
std::string py_repr(const nlohmann::ordered_json& value);

}  // namespace tune
