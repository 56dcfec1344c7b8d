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
//                      potentials; f_lcdf / f_lccdf / f_cdf -> the library's cdf kernels
// User-defined functions are inlined at each call: the arguments become locals of a scope that
// hides the caller's, `return` hands back the value, void and _lp functions contribute their
// '~' / 'target +=' statements. `y ~ foo(a)` with a user foo_lpdf adds foo_lupdf(y | a): the
// `_lupdf` calls inside drop constants, which they do not when foo_lpdf is called by name
// (Stan's rule). Recursion is an error at the recursive call.
// Loops are vectorised where the body allows it (LowerOptions) and unrolled otherwise (the loop
// variable is a known int); `while` loops are unrolled while their condition, known from the
// data, holds; break / continue / return leave loops as in Stan. Indexes must be known ints or
// int arrays (data), and become gathers/slices of the indexed value.
// Conditions known from the data pick a branch at lowering time. A condition that depends on
// parameters (comparisons joined by && || !) becomes an elementwise graph select: `c ? a : b`
// with branches of one shape, and `if (c) ... else ...` whose branches only assign (in blocks,
// loops, nested ifs): each variable either branch changes becomes select(c, then, else), so
// only the branch taken contributes value and gradient. Inside a function, `return` may sit
// under such a condition (outside loops, on every path of its branch): the branch that does
// not return continues with the statements after the `if`, and the value returned is
// select(c, then, else). '~', 'target +=', break, continue, other returns and call statements
// under such a condition are errors at the statement.
// Built-ins beyond the elementwise core: gp_exp_quad_cov (cov_exp_quad), gp_exponential_cov,
// gp_matern32_cov, gp_matern52_cov (one magnitude, one length scale), cholesky_decompose,
// diag_matrix, add_diag, diagonal, diag_pre/post_multiply, quad_form_diag, tcrossprod,
// crossprod, multiply_lower_tri_self_transpose, log_determinant, mdivide_left_tri_low,
// rep_array / rep_matrix (any value, 1-3 sizes), dims, prod, head / tail / segment,
// append_row / append_col (vectors), softmax, log_softmax, cumulative_sum, distance,
// squared_distance, norm1 / norm2, fma, log_diff_exp, log1m_exp, lbeta, inv_cloglog,
// Phi_approx, the constants pi() e() sqrt2() ..., and scalar functions of known values folded
// at lowering time (min, max, floor, to_int, ...).
//
// Truncation `y ~ D(...) T[L, U]` (either bound optional) becomes Model::add_truncated_lpdf:
// log p(y) - log(F(U) - F(L)), for families with cdfs.
//
// Not yet lowered (each a clear Error at the statement's file:line:column): truncation of
// user-defined distributions, arrays of constrained vectors/matrices, parameter-dependent conditions around statements
// other than assignments and parameter-dependent `while` conditions, ODE solvers and other
// higher-order built-ins, calling a user foo_lpdf as foo_lupdf by name (the checker rejects
// it), built-ins outside the supported list. Generated quantities do not enter the log
// density: stan::GeneratedQuantities evaluates them per draw.
struct LowerOptions {
  // Lower a `for` loop whose body is only '~' / 'target += *_lpdf(...)' statements and
  // element assignments `x[n] = ...` (where no pass reads another pass's element of an
  // assigned x: recurrences stay unrolled), where the loop variable is used only as a single
  // index and every subexpression using it is a scalar, as ONE vector statement: the loop
  // variable becomes the index array lo..hi, so `mu[g[n]]` becomes a gather and
  // `a + b * x[n]` an elementwise vector expression. false unrolls.
  bool vectorize_loops = true;
};

std::unique_ptr<model::Model> lower_to_model(const Program& program, const DataEnv& data,
                                             LowerOptions options = {});

}  // namespace exmc::stan
