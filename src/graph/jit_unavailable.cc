// The JIT entry points of a build without LLVM: compile() keeps the interpreter.
#include "jit.hpp"

namespace exmc::graph::detail {

bool jit_available() { return false; }

template <class T>
std::unique_ptr<JitCode<T>> jit_compile(const JitPlan<T>&, std::string* why) {
  if (why) *why = "this build has no JIT (LLVM was not found)";
  return nullptr;
}

template std::unique_ptr<JitCode<double>> jit_compile(const JitPlan<double>&, std::string*);
template std::unique_ptr<JitCode<float>> jit_compile(const JitPlan<float>&, std::string*);

}  // namespace exmc::graph::detail
