// Compiles a Graph into a LogDensity (f64 or f32), evaluated by machine code generated with
// LLVM where the build has it (Backend) and by the interpreter otherwise.
//
// Compile-time passes: constant folding of data-only subgraphs, common-subexpression
// elimination, dead-node removal, and a memory plan placing every buffer in one arena with
// reuse. After compile, logp / logp_grad are const, thread-safe and allocate nothing: each
// calling thread claims one of a fixed pool of lazily-created workspaces on its first call
// and keeps it until it exits. When more than kMaxWorkspaces live threads have called, the
// others allocate a temporary workspace per call (correct, but not allocation-free).
// A NaN or Inf anywhere propagates to a non-finite logp; logp_grad never throws.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/graph/graph.hpp"

namespace exmc::graph {

inline constexpr size_t kMaxWorkspaces = 64;

// How logp_grad runs: the interpreter, or machine code generated for the model with LLVM
// (the same kernels and buffers; small models become straight-line code). kAuto takes the JIT
// where this build has it and the program is short enough (kAutoJitMaxInstructions), unless the
// environment sets EXMC_BACKEND=interpreter.
enum class Backend { kAuto, kInterpreter, kJit };

// Whether this process can generate code: LLVM was found when the build was configured and its
// code-generator module (libexmc_jit.so) loaded; the first call loads it.
bool jit_available();

// kAuto generates code only for programs of at most this many instructions per gradient;
// longer ones (loops a front end unrolled) compile slowly and run no faster.
inline constexpr size_t kAutoJitMaxInstructions = 1000;

using UnconstrainFn = std::function<bool(
    const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
    std::string* error)>;

struct CompileOptions {
  // Names and shapes written by constrain(), in order; their total size must equal the summed
  // sizes of the outputs. Empty: one VarInfo per output, with the output's name and shape.
  std::vector<VarInfo> output_vars;
  // Dimension of x; 0 means graph.num_params().
  size_t dim = 0;
  // Inverse of constrain() for user initial values; empty keeps LogDensity's default.
  UnconstrainFn unconstrain;
  // A name per unconstrained coordinate (what LogDensity::unconstrained_names returns, for
  // messages such as the sampler's initialisation errors); empty keeps LogDensity's default.
  std::vector<std::string> unconstrained_names;
  bool fold_constants = true;
  bool cse = true;
  // kJit throws std::runtime_error when the JIT is unavailable or fails.
  Backend backend = Backend::kAuto;
};

// What compile() returns: a LogDensity plus introspection for tests and tools.
class CompiledDensity : public LogDensity {
 public:
  // Instructions executed by one logp_grad forward sweep. Constants (computed at compile
  // time) and parameters (read from one block converted from x) are not instructions.
  virtual size_t nodes_per_gradient() const = 0;
  // Bytes of one workspace arena (values + adjoints + scratch) after buffer reuse, and what
  // it would be without reuse.
  virtual size_t arena_bytes() const = 0;
  virtual size_t arena_bytes_unplanned() const = 0;
  virtual bool single_precision() const = 0;
  // Backend::kJit or Backend::kInterpreter: what logp_grad runs (logp and constrain always
  // run the interpreter).
  virtual Backend backend() const = 0;
  // Forward-only evaluation of the named outputs (what constrain() writes), in double.
  void eval_outputs(const double* x, double* out) const { constrain(x, out); }
  // A readable listing of the compiled program (one instruction a line).
  virtual std::string dump() const = 0;
};

// T = double or float. float computes every node in float, accumulates the total log density
// in double and returns a double gradient. Throws std::invalid_argument if target is not a
// scalar, an Expr is from another graph, or output_vars do not match the outputs.
template <class T>
std::unique_ptr<CompiledDensity> compile(const Graph& g, Expr target,
                                         std::vector<std::pair<std::string, Expr>> outputs = {},
                                         CompileOptions opts = {});

extern template std::unique_ptr<CompiledDensity> compile<double>(
    const Graph&, Expr, std::vector<std::pair<std::string, Expr>>, CompileOptions);
extern template std::unique_ptr<CompiledDensity> compile<float>(
    const Graph&, Expr, std::vector<std::pair<std::string, Expr>>, CompileOptions);

}  // namespace exmc::graph
