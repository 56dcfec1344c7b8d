// Numbers as printf's "%.{p}g" writes them, several times faster: the CSV writer's draws.
#pragma once

namespace exmc::io {

// Longest text format_g writes (sign, 18 digits, point, exponent, "-inf").
inline constexpr int kMaxFormattedChars = 32;

// Writes v at out exactly as std::snprintf(out, n, "%.*g", precision, v) would (precision in
// [1, 18]; nan, inf and -inf as Stan writes them) and returns the end. out must have room for
// kMaxFormattedChars. Most values take a short exact path (scaled by an exact power of ten, rounded
// once, the rounding checked far enough from a tie); the rest, std::to_chars.
char* format_g(char* out, double v, int precision);

}  // namespace exmc::io
