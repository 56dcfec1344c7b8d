// A constraint transform bound to a variable's shape: the object the model layer attaches to a
// free variable. Dispatches to the kernels in kernels.hpp, for float and double.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exmc/transform/kernels.hpp"

namespace exmc::transform {

enum class Kind {
  kIdentity,
  kLower,             // bound: lower
  kUpper,             // bound: upper
  kLowerUpper,        // bounds: lower, upper
  kOffsetMultiplier,  // bounds: offset and/or multiplier
  kSoftplus,          // optional bound: lower (default 0)
  kOrdered,
  kPositiveOrdered,
  kSimplex,
  kUnitVector,
  kCholeskyCorr,
  kCholeskyCov,
  kCorrMatrix,
  kCovMatrix,
};

// Stan-style names: "identity", "lower", "upper", "lower_upper", "offset_multiplier",
// "softplus", "ordered", "positive_ordered", "simplex", "unit_vector", "cholesky_factor_corr",
// "cholesky_factor_cov", "corr_matrix", "cov_matrix".
std::string_view kind_name(Kind k);
std::optional<Kind> parse_kind(std::string_view name);

// The bound arguments a transform reads (values may depend on parameters; gradients are added
// to `grad` when non-null). Unused ones stay empty.
template <class T>
struct Bounds {
  BoundArg<T> lower, upper, offset, multiplier;
};

// While one is alive on a thread, unconstrain (every kind's, on that thread) refuses a value on
// an edge of its support (a bound, a tie of an ordered vector, a zero in a simplex) that it
// otherwise accepts as the closure's: what initial values need (Stan rejects sigma = 0 for
// real<lower=0> sigma), where a fitted draw printed with few digits must read back. Values
// inside, however close (4.9e-324 above a bound of 0), are accepted as before.
class InteriorOnly {
 public:
  InteriorOnly();
  ~InteriorOnly();
  InteriorOnly(const InteriorOnly&) = delete;
  InteriorOnly& operator=(const InteriorOnly&) = delete;
  static bool active();

 private:
  bool previous_;
};

class Transform {
 public:
  Transform() = default;  // identity on a scalar

  // Binds `kind` to the constrained shape ({} scalar, {n} vector, {r, c} matrix). Throws
  // std::invalid_argument naming `var` when the kind does not apply to that shape, e.g.
  // "variable 'L': cholesky_factor_corr needs a square matrix, got shape [3, 2]".
  static Transform make(Kind kind, std::vector<size_t> shape, std::string_view var = "");

  Kind kind() const { return kind_; }
  const std::vector<size_t>& shape() const { return shape_; }
  size_t constrained_size() const;
  size_t unconstrained_size() const;
  // Elements of type T of scratch that constrain and vjp need in `work` (0 for most).
  size_t workspace_size() const;
  // True when the transform is elementwise (its bounds may broadcast over the elements).
  bool elementwise() const;

  // y (constrained_size) from x (unconstrained_size); returns log|J|.
  template <class T> double constrain(const T* x, const Bounds<T>& b, T* y, T* work = nullptr) const;
  // Adds d(<gy, y> + glj * log|J|)/dx to gx and the bound gradients to b.*.grad.
  template <class T>
  void vjp(const T* x, const T* y, const T* gy, double glj, const Bounds<T>& b, T* gx, T* work = nullptr) const;
  // x from y. On failure returns false with "variable 'var': <what is wrong>" in *error.
  template <class T>
  bool unconstrain(const T* y, const Bounds<T>& b, T* x, std::string_view var, std::string* error) const;

  // Checks that the bound sizes fit (1 or constrained_size) and that the kind has what it needs.
  // Throws std::invalid_argument naming `var`.
  void check_bounds(size_t lower, size_t upper, size_t offset, size_t multiplier, std::string_view var) const;

 private:
  Kind kind_ = Kind::kIdentity;
  std::vector<size_t> shape_;
  size_t n_ = 1;  // constrained size
};

}  // namespace exmc::transform
