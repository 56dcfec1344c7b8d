// Loads the JIT module (libexmc_jit.so, built beside this library) on first use and hands it
// the interpreter's kernels and the density registry's entries (see jit.hpp).
#include <dlfcn.h>

#include <mutex>

#include "exmc/dist/kernel.hpp"
#include "jit.hpp"

namespace exmc::graph::detail {
namespace {

// The interpreter's kernel for one instruction; returns a density's double result (else 0).
template <class T>
double call_forward(const Ins* I, const Exec<T>* E, const double* x) {
  forward(*I, *E, x, true);
  return I->op == Op::kDistLpdf ? *E->dval : 0.0;
}
template <class T>
void call_backward(const Ins* I, const Exec<T>* E, double* g) {
  backward(*I, *E, g);
}

struct Module {
  JitCompileFn64 compile64 = nullptr;
  JitCompileFn32 compile32 = nullptr;
  JitHost host;
  std::string error;  // why it did not load
};

// Loaded once and never unloaded: compiled densities keep pointers into it.
const Module& module() {
  static const Module m = [] {
    Module r;
    void* h = dlopen(EXMC_JIT_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      r.error = std::string("cannot load the JIT module ") + EXMC_JIT_MODULE + ": " + (e ? e : "?");
      return r;
    }
    r.compile64 = reinterpret_cast<JitCompileFn64>(dlsym(h, "exmc_jit_compile_f64"));
    r.compile32 = reinterpret_cast<JitCompileFn32>(dlsym(h, "exmc_jit_compile_f32"));
    if (!r.compile64 || !r.compile32) {
      r.error = std::string("the JIT module ") + EXMC_JIT_MODULE + " lacks its entry points";
      r.compile64 = nullptr;
      r.compile32 = nullptr;
      return r;
    }
    r.host.forward64 = &call_forward<double>;
    r.host.forward32 = &call_forward<float>;
    r.host.backward64 = &call_backward<double>;
    r.host.backward32 = &call_backward<float>;
    r.host.normal = dist::find_dist("normal");
    r.host.std_normal = dist::find_dist("std_normal");
    r.host.exponential = dist::find_dist("exponential");
    r.host.student_t = dist::find_dist("student_t");
    return r;
  }();
  return m;
}

}  // namespace

bool jit_available() { return module().compile64 != nullptr; }

template <class T>
std::unique_ptr<JitCode<T>> jit_compile(const JitPlan<T>& plan, std::string* why) {
  const Module& m = module();
  if (!m.compile64) {
    if (why) *why = m.error;
    return nullptr;
  }
  if constexpr (std::is_same_v<T, double>) return std::unique_ptr<JitCode<T>>(m.compile64(&plan, &m.host, why));
  else return std::unique_ptr<JitCode<T>>(m.compile32(&plan, &m.host, why));
}

template std::unique_ptr<JitCode<double>> jit_compile(const JitPlan<double>&, std::string*);
template std::unique_ptr<JitCode<float>> jit_compile(const JitPlan<float>&, std::string*);

}  // namespace exmc::graph::detail
