// Stan's generated quantities block, evaluated per draw on the constrained values by an
// interpreter over the AST (doubles and ints), with `_rng` calls drawing from a given stream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/stan/ast.hpp"
#include "exmc/stan/data.hpp"

namespace exmc::stan {

namespace detail {
struct GqState;
}

// The generated quantities of a checked program with bound data.
//
// The constructor re-evaluates the transformed data block (the lowering folds it into the
// graph, so its values are not otherwise at hand) and resolves the sizes of the block's
// top-level declarations, which Stan requires to depend on data only.
//
// eval() runs the block once for one draw: parameters and transformed parameters read from
// `values`, `_rng` functions draw from `rng`, `_lpdf`/`_lpmf`/`_lupdf` give the full density
// (every argument is a number here, so nothing is dropped). Afterwards each declared
// constraint of the block's variables is checked. Errors are stan::Error naming the program
// file, line and column: reject()/fatal_error() ("reject() in generated quantities: ..."), a
// variable outside its declared constraint ("generated quantity 'p' must be <= 1, found 1.2
// at index 3"), out-of-range indexes, invalid distribution arguments, unsupported functions.
//
// Keying the stream (the CLI's convention): the generated quantities of chain c use
//   exmc::Rng(seed, kGqStreamBase + c)
// so they never share a stream with the sampler's chain c (stream c). The draws of a chain are
// then a pure function of (seed, chain, the draws in order).
//
// Thread safety: eval() is const; concurrent calls with distinct Rng objects are safe.
class GeneratedQuantities {
 public:
  static constexpr uint64_t kGqStreamBase = 1'000'000;

  // `program` must have passed check() and must outlive this object (the interpreter keeps
  // pointers into its AST); `data` is check_data()'s result for it. `output_vars` are the
  // compiled density's output_vars(): parameters then transformed parameters on the
  // constrained scale, as constrain() writes them. An output variable is matched to its
  // declaration by name; its shape is either the declared full shape (read column-major, as
  // flat_names names it) or one flat length (read as the lowering lays values out: array
  // dimensions row-major, each element's vector/matrix column-major).
  GeneratedQuantities(const Program& program, const DataEnv& data, std::vector<VarInfo> output_vars);
  ~GeneratedQuantities();
  GeneratedQuantities(GeneratedQuantities&&) noexcept;
  GeneratedQuantities& operator=(GeneratedQuantities&&) noexcept;

  // True when the program has no generated quantities declarations (eval writes nothing).
  bool empty() const;
  // The block's top-level declarations, in order, with their full shapes (array dimensions
  // first, then vector/matrix sizes: array[N] vector[K] -> {N, K}).
  const std::vector<VarInfo>& vars() const;
  // values: one draw, flat_names(output_vars) order. out: total_size(vars()) values in
  // flat_names(vars()) order (column-major; ints written as doubles).
  void eval(const double* values, Rng& rng, double* out) const;

  // The transformed data values as re-evaluated by the constructor (for tests and tools):
  // column-major over the full shape, as eval's output. Throws Error when `name` is unknown.
  std::vector<double> transformed_data(const std::string& name) const;

 private:
  std::unique_ptr<detail::GqState> state_;
};

// The CSV column names of the generated quantities ("y_rep.3", "z.2.1"): flat_names(gq.vars()).
std::vector<std::string> generated_quantities_names(const GeneratedQuantities& gq);

}  // namespace exmc::stan
