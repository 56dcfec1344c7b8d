// Lowers a checked Stan program with its bound data to a model::Model (first version).
#pragma once

#include <memory>

#include "exmc/model/model.hpp"
#include "exmc/stan/ast.hpp"
#include "exmc/stan/data.hpp"

namespace exmc::stan {

// Builds the model whose log density is the program's:
//   data            -> named model data (m.data), values bound from `data`
//   transformed data-> graph expressions over the data (folded to constants by the compiler)
//   parameters      -> m.param with the declared constraint (lower/upper/offset/multiplier,
//                      simplex, ordered, positive_ordered, unit_vector, cholesky/corr/cov)
//   transformed par.-> m.det, in declaration order after the parameters
//   model           -> '~' -> m.add_lpdf (constants dropped, as Stan's '~');
//                      'target += f_lpdf(y | ...)' -> the full density; other 'target +=' ->
//                      potentials
// Loops are vectorised where the body allows it (LowerOptions) and unrolled otherwise (the loop
// variable is a known int); indexes must be known ints or int arrays (data), and become
// gathers/slices of the indexed value. Conditions must be
// known from the data.
//
// Not yet lowered (each a clear Error at the statement's file:line:column): user-defined
// functions, while loops, break/continue, truncation, arrays of constrained vectors/matrices,
// conditions that depend on parameters, built-ins outside the supported list. Generated
// quantities are not lowered (they do not enter the log density).
struct LowerOptions {
  // Lower a `for` loop whose body is only '~' / 'target += *_lpdf(...)' statements, where the
  // loop variable is used only as a single index and every subexpression using it is a scalar,
  // as ONE vector statement: the loop variable becomes the index array lo..hi, so `mu[g[n]]`
  // becomes a gather and `a + b * x[n]` an elementwise vector expression. false unrolls.
  bool vectorize_loops = true;
};

std::unique_ptr<model::Model> lower_to_model(const Program& program, const DataEnv& data,
                                             LowerOptions options = {});

}  // namespace exmc::stan
