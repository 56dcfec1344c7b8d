// Counts the live heap bytes and their peak by replacing the global operator new and delete
// (every form, as alloc_counter.hpp does and for the same reason) for the peak-memory tests.
// Replacements may not be inline: include this header from exactly one source file of a test
// binary, and not together with alloc_counter.hpp.
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace exmc::test_support {
inline std::atomic<long long> g_live_bytes{0}, g_peak_bytes{0};

// Heap bytes live now (malloc_usable_size of each block, so a little above what was asked).
inline long long live_bytes() { return g_live_bytes.load(); }
// Starts a measurement: the peak is reset to what is live now, which is returned.
inline long long start_peak() {
  const long long now = g_live_bytes.load();
  g_peak_bytes = now;
  return now;
}
// The most bytes live at once since start_peak().
inline long long peak_bytes() { return g_peak_bytes.load(); }

inline void* counted(void* p) {
  if (!p) throw std::bad_alloc();
  const long long now = g_live_bytes += static_cast<long long>(malloc_usable_size(p));
  long long peak = g_peak_bytes.load(std::memory_order_relaxed);
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return p;
}
inline void release(void* p) {
  if (!p) return;
  g_live_bytes -= static_cast<long long>(malloc_usable_size(p));
  std::free(p);
}
}  // namespace exmc::test_support

void* operator new(std::size_t n) { return exmc::test_support::counted(std::malloc(n ? n : 1)); }
void* operator new(std::size_t n, std::align_val_t a) {
  const std::size_t al = static_cast<std::size_t>(a);
  return exmc::test_support::counted(std::aligned_alloc(al, (n + al - 1) / al * al));
}
#include "operator_new_forms.hpp"
