// The spellings of non-finite values in Stan JSON, shared by its general and fast readers.
#pragma once

#include <string>
#include <string_view>

namespace exmc::io::detail {

// "NaN", "Inf", "-Infinity", ... (any case, as CmdStan takes them inside strings): *out and true.
bool special_number(const std::string& s, double* out);

// The bare token (no quotes: NaN, Infinity, -Infinity, Inf, -Inf, as rapidjson with
// kParseNanAndInfFlag and Python's json.dump write them) starting at text[at] and ending a
// token there, or "".
std::string_view bare_non_finite_at(std::string_view text, size_t at);

}  // namespace exmc::io::detail
