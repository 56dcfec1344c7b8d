// The JIT backend's view of a planned gradient program, and its entry point. Private to
// src/graph.
//
// compile.cc plans a program (instructions, arena offsets, buffers to zero) for the
// interpreter; jit_compile turns the same plan into one machine-code function with LLVM that
// runs the forward sweep, the total and the reverse sweep over the same arena. Instructions it
// knows (elementwise arithmetic, reductions, gathers and slices, the normal and exponential
// densities) are emitted inline, so small models become straight-line code; every other
// instruction is a direct call of the interpreter's own kernel for it. The two backends
// therefore share every buffer and every kernel they do not both inline.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "exec.hpp"

namespace exmc::graph::detail {

inline constexpr size_t kNoOffset = size_t(-1);

// Where one operand lives: at an arena offset, or in constant data (then `data` is set).
template <class T>
struct JitOperand {
  size_t off = kNoOffset;
  const T* data = nullptr;
  uint32_t n = 1;
  bool param = false;  // depends on parameters (the densities' propto rule)
  int producer = -1;   // index of the instruction that computes it; -1 for params and constants
};

template <class T>
struct JitIns {
  const Ins* ins = nullptr;
  size_t out = 0, adj = kNoOffset;
  bool direct = false;  // a density adding its partials into its inputs' adjoints in the forward step
  std::vector<JitOperand<T>> in;
  std::vector<size_t> in_adj;  // each input's adjoint offset, kNoOffset where it has none
  // Adjoints of these instructions are zeroed before this one's forward / backward step.
  std::vector<int> zero_fwd, zero_bwd;
};

template <class T>
struct JitPlan {
  size_t dim = 0, pblock = 0, ablock = 0;
  size_t arena = 0;  // elements
  double const_total = 0;
  std::vector<JitIns<T>> ins;
  struct Term {
    int ins = -1;  // a density instruction whose double result is the term, or -1
    JitOperand<T> value;
    double sign = 1;
  };
  std::vector<Term> terms;
  std::vector<size_t> seed_zero;                 // adjoints set to 0 before seeding
  std::vector<std::pair<size_t, double>> seeds;  // adjoints that receive the term's sign
};

// A compiled gradient: total = fn(x, g, arena, execs), with the arena and the instructions'
// bound pointers of one workspace (the interpreter's kernels, which fn calls for the
// instructions it does not inline, read them).
template <class T>
class JitCode {
 public:
  using Fn = double (*)(const double* x, double* g, T* arena, const Exec<T>* execs);
  virtual ~JitCode() = default;
  Fn fn = nullptr;
  size_t inlined = 0, called = 0;  // instructions emitted inline / as kernel calls
  // Needs no workspace: every buffer on its own stack, no kernel called (fn ignores its
  // arena and execs arguments).
  bool self_contained = false;
};

// Whether the JIT can be used: this build has it (LLVM was found at configure time) and its
// module loaded. The code generator lives in a module of its own (libexmc_jit.so, which links
// LLVM), loaded on first use: programs that never compile a graph, and `exmc summary`, do not
// pay LLVM's ~60 ms of start-up.
bool jit_available();

// nullptr (with the reason in *why) when the JIT is unavailable or LLVM refused the code.
template <class T>
std::unique_ptr<JitCode<T>> jit_compile(const JitPlan<T>& plan, std::string* why);

// What the module's generated code and emitter take from the process that loaded it: the
// interpreter's kernels (called for the instructions not emitted inline) and the registry's
// entries of the densities it emits inline (recognised by identity).
struct JitHost {
  double (*forward64)(const Ins*, const Exec<double>*, const double* x) = nullptr;
  double (*forward32)(const Ins*, const Exec<float>*, const double* x) = nullptr;
  void (*backward64)(const Ins*, const Exec<double>*, double* g) = nullptr;
  void (*backward32)(const Ins*, const Exec<float>*, double* g) = nullptr;
  const dist::DistInfo *normal = nullptr, *std_normal = nullptr, *exponential = nullptr,
                       *student_t = nullptr;
};

// The module's entry points (extern "C", found with dlsym); the caller owns the result.
using JitCompileFn64 = JitCode<double>* (*)(const JitPlan<double>*, const JitHost*, std::string*);
using JitCompileFn32 = JitCode<float>* (*)(const JitPlan<float>*, const JitHost*, std::string*);

}  // namespace exmc::graph::detail
