// libFuzzer target: Stan JSON data text -> io::StanJsonData and every accessor of its values.
// A clean exception (StanJsonError, or any std::exception for a documented limit) is a pass;
// a crash, sanitizer report, leak or hang is a finding. Differential too: whatever the fast
// reader takes, the general reader must read the same (names, shapes, bits, integer flags).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "exmc/io/stan_json.hpp"

namespace {

void check_fast_reader(const std::string& text) {
  std::vector<exmc::io::StanJsonValue> fast;
  if (!exmc::io::detail::read_stan_json_fast(text, fast)) return;
  std::set<std::string> names;
  for (const auto& v : fast) names.insert(v.name);
  exmc::io::StanJsonData general;
  try {
    general = exmc::io::detail::read_stan_json_general(text, "fuzz.json");
  } catch (const std::exception&) {
    if (names.size() == fast.size()) __builtin_trap();  // only duplicate keys may be refused
    return;
  }
  if (names.size() != fast.size() || general.size() != fast.size()) __builtin_trap();
  for (const auto& v : fast) {
    const auto* g = general.find(v.name);
    if (!g || g->dims != v.dims || g->is_integer != v.is_integer || g->values.size() != v.values.size())
      __builtin_trap();
    for (size_t i = 0; i < v.values.size(); ++i)
      if (std::memcmp(&v.values[i], &g->values[i], sizeof(double)) != 0 &&
          !(std::isnan(v.values[i]) && std::isnan(g->values[i])))
        __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_fast_reader(text);
  try {
    const auto json = exmc::io::StanJsonData::from_string(text, "fuzz.json");
    for (const auto& name : json.names()) {
      const auto& v = json.at(name);
      size_t product = 1;
      for (size_t d : v.dims) product *= d;
      if (v.values.size() != product) __builtin_trap();  // the documented invariant
      // Each accessor may refuse (a non-scalar, a non-integer); it must not crash.
      try { (void)v.as_double(); } catch (const std::exception&) {}
      try { (void)v.as_int(); } catch (const std::exception&) {}
      try { (void)v.as_ints(); } catch (const std::exception&) {}
      const auto col = v.column_major();
      if (exmc::io::to_row_major(col, v.dims).size() != v.values.size()) __builtin_trap();
      if (!v.dims.empty()) {
        std::vector<size_t> last(v.dims.size());
        for (size_t i = 0; i < v.dims.size(); ++i) last[i] = v.dims[i] ? v.dims[i] - 1 : 0;
        try { (void)v.at(last); } catch (const std::exception&) {}
      }
    }
  } catch (const std::exception&) {
  }
  return 0;
}
