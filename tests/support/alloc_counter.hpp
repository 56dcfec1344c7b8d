// Counts heap allocations by replacing the global operator new (every form) for the no-
// allocation tests. Replacements may not be inline: include this header from exactly one
// source file of a test binary. Every form, the nothrow ones included, must be replaced: a
// form left to the runtime (std::stable_sort's buffer is nothrow new) would be freed by the
// replaced delete below, which AddressSanitizer reports as an alloc-dealloc mismatch.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace exmc::test_support {
inline std::atomic<long> g_allocs{0};
// Allocations so far in this process.
inline long allocations() { return g_allocs.load(); }
inline void release(void* p) { std::free(p); }
}  // namespace exmc::test_support

void* operator new(std::size_t n) {
  exmc::test_support::g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  exmc::test_support::g_allocs.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
#include "operator_new_forms.hpp"
