// Command-line validators whose messages name what is expected and echo what was typed.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

namespace exmc::cli {

// A finite number above (or not below) zero. CLI11's PositiveNumber and NonNegativeNumber say
// "not in range 0.000000 to " and the largest double written out in 309 digits, and let NaN by.
inline CLI::Validator bounded_below(bool zero_allowed) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0') return "";  // not a number: the conversion says so
        if (std::isfinite(v) && (v > 0 || (zero_allowed && v == 0))) return "";
        return std::string("must be a finite number ") + (zero_allowed ? ">= 0" : "> 0") + ", got " + text;
      },
      zero_allowed ? ">= 0" : "> 0");
}
inline CLI::Validator positive() { return bounded_below(false); }

// A number strictly between 0 and 1 (--adapt-delta): CLI11's Range(0.0, 1.0) let 0 and 1 through,
// for the sampler to refuse after loading the model ("sampler option delta (adapt_delta) must be
// in (0, 1), got 1.000000", exit 1).
inline CLI::Validator open_unit_interval() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0') return "";  // not a number: the conversion says so
        if (v > 0 && v < 1) return "";
        return "must be a number in (0, 1), 0 and 1 excluded, got " + text;
      },
      "in (0, 1)");
}
inline CLI::Validator non_negative() { return bounded_below(true); }

// A value that must say something (an address, a file): an empty one ("--serve $PORT" with PORT
// unset) was taken for the option left out, and the run went on without it.
inline CLI::Validator not_empty() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return text.empty() ? "empty; give a value, or leave the option out" : "";
      },
      "");
}

}  // namespace exmc::cli
