// The calling convention shared by every distribution kernel and the graph node that wraps
// it: one fused, vectorised log-density over whole arrays with analytic partials.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "exmc/core/rng.hpp"

namespace exmc::dist {

// One argument of a density (the variate is argument 0). Univariate families broadcast:
// an argument of size 1 is a scalar applied to every element; otherwise all arguments of
// size > 1 share one length n, and the density is the sum over the n elements.
// Multivariate families read rows/cols (column-major storage).
template <class T>
struct Arg {
  const T* val = nullptr;
  size_t size = 1;
  size_t rows = 1, cols = 1;
  bool is_param = false;  // depends on parameters: propto mode keeps the terms it enters
  T* grad = nullptr;      // if non-null, d(lp)/d(val) is ADDED here (length size)
};

// Sum of log densities (accumulated in double). propto drops every term that depends only on
// arguments with is_param == false, as Stan's `~` does. Outside the support, or for an
// invalid parameter value (sigma <= 0), returns -infinity and leaves grads untouched.
template <class T>
using LpdfFn = double (*)(const Arg<T>* args, bool propto);

// Draws n variates into out, given the non-variate arguments args[1..] (args[0] is ignored;
// its size/rows/cols say the shape wanted).
using RngFn = void (*)(const Arg<double>* args, Rng& rng, double* out);

// Checks argument values that are data (is_param == false) before sampling starts. Returns
// "" when fine, else a message naming the argument and the offending value and index, e.g.
// "sigma must be positive, found -1 at index 3".
using ValidateFn = std::string (*)(const Arg<double>* args);

// The set a variate lives in; the model layer derives the default transform from it.
enum class Support {
  kReal, kPositive, kNonNegative, kUnitInterval, kLowerBounded /*by an argument*/,
  kBounded /*by two arguments*/, kInteger, kNonNegInteger, kBinary, kSimplex, kUnitVector,
  kOrdered, kCholeskyCorr, kCorrMatrix, kCovMatrix, kRealVector, kAngle
};

struct DistInfo {
  std::string_view name;                    // Stan name: "normal", "bernoulli_logit", ...
  std::vector<std::string_view> arg_names;  // variate first: {"y", "mu", "sigma"}
  Support support = Support::kReal;
  bool discrete = false;
  bool multivariate = false;
  LpdfFn<double> lpdf_f64 = nullptr;
  LpdfFn<float> lpdf_f32 = nullptr;
  RngFn rng = nullptr;
  ValidateFn validate = nullptr;
  // Sums of log P(Y <= y) and log P(Y > y) with partials, same calling convention as the
  // density (propto ignored); the building blocks of censoring and truncation. nullptr
  // where a family has none yet.
  LpdfFn<double> lcdf_f64 = nullptr, lccdf_f64 = nullptr;
  LpdfFn<float> lcdf_f32 = nullptr, lccdf_f32 = nullptr;
};

// The registry of every distribution; nullptr when unknown.
const DistInfo* find_dist(std::string_view name);
const std::vector<const DistInfo*>& all_dists();

}  // namespace exmc::dist
