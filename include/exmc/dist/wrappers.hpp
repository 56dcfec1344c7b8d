// Distributions built from other distributions: truncation, censoring and finite mixtures.
// Each returns an ordinary DistInfo (same calling convention as kernel.hpp, a stable address,
// cached per arguments), so the graph, the model layer and the Stan lowering use it like any
// registered family.
#pragma once

#include <vector>

#include "exmc/dist/kernel.hpp"

namespace exmc::dist {

// truncated(base): the base density renormalised to [lower, upper] (Stan's `T[L, U]`).
// Arguments: y, the base's arguments, then `lower` (if has_lower) and `upper` (if has_upper).
//   log p(y) - log(F(U) - F(L)),  - log(1 - F(L)) with a lower bound only,  - log F(U) with
//   an upper bound only. For counts the lower bound is inclusive: F(L - 1) replaces F(L).
// Each bound is a scalar or one value per element and may depend on parameters (partials are
// exact). y outside [L, U], L >= U, or an interval holding no mass gives -inf, as in Stan.
// Throws std::invalid_argument (naming the family) when the base has no lcdf / lccdf, is
// multivariate, or when neither bound is given.
const DistInfo& truncated(const DistInfo& base, bool has_lower, bool has_upper);

// censored(base): observations at or below `lower` contribute log F(lower), at or above
// `upper` log(1 - F(upper)) (for counts log P(Y >= upper)), the others the base density
// (PyMC's Censored). Arguments as for truncated(). The censored elements have no partial in y.
const DistInfo& censored(const DistInfo& base, bool has_lower, bool has_upper);

// mixture(c_1 .. c_K): p(y) = sum_k w_k p_k(y) per element, computed as
// log_sum_exp_k(log w_k + lpdf_k(y)) with full (not propto) component densities.
// Arguments: y, w (a K-simplex), then each component's arguments in order, named
// "<arg>_<k>" (mu_1, sigma_1, alpha_2, ...). Components are univariate and all continuous or
// all discrete; component arguments broadcast against y. lcdf / lccdf are provided when every
// component has them. Flagged multivariate (w is a K-vector, not broadcast), so observations
// of a mixture take no weights or masks and it cannot be truncated or censored (yet).
const DistInfo& mixture(const std::vector<const DistInfo*>& components);

}  // namespace exmc::dist
