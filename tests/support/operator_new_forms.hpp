// The forms of the global operator new and delete that a replacement derives from its two own
// (operator new(size_t) and operator new(size_t, align_val_t), defined before this is
// included) and from `exmc::test_support::release(void*)`, which frees a block. Every form must
// be replaced together (alloc_counter.hpp says why). Included once per binary, by the header
// that replaces the two.
#pragma once

#include <cstddef>
#include <new>

void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return operator new(n, a);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p) noexcept { exmc::test_support::release(p); }
void operator delete(void* p, std::size_t) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p, std::size_t) noexcept { exmc::test_support::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { exmc::test_support::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { exmc::test_support::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { exmc::test_support::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { exmc::test_support::release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { exmc::test_support::release(p); }
