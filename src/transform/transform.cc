// The Transform object: shape checks, sizes and dispatch to the kernels.
#include "exmc/transform/transform.hpp"

#include "util.hpp"

#include <cmath>
#include <stdexcept>

namespace exmc::transform {

namespace {
thread_local bool interior_only = false;
}  // namespace

std::string detail::on_edge(const std::string& what) {
  if (!interior_only) return "";
  return what + ": an initial value must lie strictly inside the support";
}

InteriorOnly::InteriorOnly() : previous_(interior_only) { interior_only = true; }
InteriorOnly::~InteriorOnly() { interior_only = previous_; }
bool InteriorOnly::active() { return interior_only; }

namespace {

struct NameEntry {
  Kind kind;
  std::string_view name;
};
constexpr NameEntry kNames[] = {
    {Kind::kIdentity, "identity"},
    {Kind::kLower, "lower"},
    {Kind::kUpper, "upper"},
    {Kind::kLowerUpper, "lower_upper"},
    {Kind::kOffsetMultiplier, "offset_multiplier"},
    {Kind::kSoftplus, "softplus"},
    {Kind::kOrdered, "ordered"},
    {Kind::kPositiveOrdered, "positive_ordered"},
    {Kind::kSimplex, "simplex"},
    {Kind::kUnitVector, "unit_vector"},
    {Kind::kCholeskyCorr, "cholesky_factor_corr"},
    {Kind::kCholeskyCov, "cholesky_factor_cov"},
    {Kind::kCorrMatrix, "corr_matrix"},
    {Kind::kCovMatrix, "cov_matrix"},
};

std::string shape_str(const std::vector<size_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

[[noreturn]] void fail(std::string_view var, const std::string& what) {
  throw std::invalid_argument("variable '" + std::string(var) + "': " + what);
}

// The elementwise kernels name an element by its 1-based position in the column-major values;
// for an array or matrix, Stan's (and exmc's data messages') form is the index per dimension,
// "at index [2,1]".
std::string multi_index(std::string e, const std::vector<size_t>& shape) {
  static const std::string key = " at index ";
  const size_t at = e.find(key);
  if (shape.size() < 2 || at == std::string::npos) return e;
  const size_t begin = at + key.size();
  size_t end = begin, flat = 0;
  while (end < e.size() && e[end] >= '0' && e[end] <= '9') flat = flat * 10 + size_t(e[end++] - '0');
  if (end == begin || flat == 0) return e;
  --flat;
  std::string idx = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    const size_t d = shape[k] ? shape[k] : 1;
    idx += (k ? "," : "") + std::to_string(flat % d + 1);
    flat /= d;
  }
  return e.substr(0, begin) + idx + "]" + e.substr(end);
}

}  // namespace

std::string_view kind_name(Kind k) {
  for (const auto& e : kNames)
    if (e.kind == k) return e.name;
  return "?";
}

std::optional<Kind> parse_kind(std::string_view name) {
  for (const auto& e : kNames)
    if (e.name == name) return e.kind;
  return std::nullopt;
}

Transform Transform::make(Kind kind, std::vector<size_t> shape, std::string_view var) {
  Transform t;
  t.kind_ = kind;
  t.shape_ = std::move(shape);
  t.n_ = 1;
  for (size_t s : t.shape_) t.n_ *= s;
  const std::string name(kind_name(kind));
  const auto& s = t.shape_;
  switch (kind) {
    case Kind::kOrdered:
    case Kind::kPositiveOrdered:
    case Kind::kSimplex:
    case Kind::kUnitVector:
      if (s.size() != 1) fail(var, name + " needs a vector, got shape " + shape_str(s));
      if (kind == Kind::kSimplex && s[0] < 1) fail(var, "simplex needs at least 1 element");
      if (kind == Kind::kUnitVector && s[0] < 2)
        fail(var, "unit_vector needs at least 2 elements, got " + std::to_string(s[0]));
      break;
    case Kind::kCholeskyCorr:
    case Kind::kCorrMatrix:
    case Kind::kCovMatrix:
      if (s.size() != 2 || s[0] != s[1]) fail(var, name + " needs a square matrix, got shape " + shape_str(s));
      break;
    case Kind::kCholeskyCov:
      if (s.size() != 2 || s[0] < s[1])
        fail(var, name + " needs an M x N matrix with M >= N, got shape " + shape_str(s));
      break;
    default:
      break;
  }
  return t;
}

bool Transform::elementwise() const {
  switch (kind_) {
    case Kind::kIdentity:
    case Kind::kLower:
    case Kind::kUpper:
    case Kind::kLowerUpper:
    case Kind::kOffsetMultiplier:
    case Kind::kSoftplus:
      return true;
    default:
      return false;
  }
}

size_t Transform::constrained_size() const { return n_; }

size_t Transform::unconstrained_size() const {
  switch (kind_) {
    case Kind::kSimplex:
      return n_ - 1;
    case Kind::kCholeskyCorr:
    case Kind::kCorrMatrix:
      return shape_[0] * (shape_[0] - 1) / 2;
    case Kind::kCholeskyCov: {
      const size_t M = shape_[0], N = shape_[1];
      return N * (N + 1) / 2 + (M - N) * N;
    }
    case Kind::kCovMatrix:
      return shape_[0] * (shape_[0] + 1) / 2;
    default:
      return n_;
  }
}

size_t Transform::workspace_size() const {
  if (kind_ == Kind::kCorrMatrix || kind_ == Kind::kCovMatrix) return 2 * n_;
  return 0;
}

void Transform::check_bounds(size_t lower, size_t upper, size_t offset, size_t multiplier,
                             std::string_view var) const {
  const std::string name(kind_name(kind_));
  auto fits = [&](size_t sz, const char* what) {
    if (sz > 1 && sz != n_)
      fail(var, std::string(what) + " bound has " + std::to_string(sz) + " elements; expected 1 or " +
                    std::to_string(n_) + " (one per element)");
  };
  auto unused = [&](size_t sz, const char* what) {
    if (sz) fail(var, name + " takes no " + what + " argument");
  };
  switch (kind_) {
    case Kind::kLower:
      if (!lower) fail(var, "lower transform needs a lower bound");
      fits(lower, "lower"), unused(upper, "upper"), unused(offset, "offset"), unused(multiplier, "multiplier");
      break;
    case Kind::kUpper:
      if (!upper) fail(var, "upper transform needs an upper bound");
      fits(upper, "upper"), unused(lower, "lower"), unused(offset, "offset"), unused(multiplier, "multiplier");
      break;
    case Kind::kLowerUpper:
      if (!lower || !upper) fail(var, "lower_upper transform needs both a lower and an upper bound");
      fits(lower, "lower"), fits(upper, "upper"), unused(offset, "offset"), unused(multiplier, "multiplier");
      break;
    case Kind::kOffsetMultiplier:
      fits(offset, "offset"), fits(multiplier, "multiplier"), unused(lower, "lower"), unused(upper, "upper");
      break;
    case Kind::kSoftplus:
      fits(lower, "lower"), unused(upper, "upper"), unused(offset, "offset"), unused(multiplier, "multiplier");
      break;
    default:
      unused(lower, "lower"), unused(upper, "upper"), unused(offset, "offset"), unused(multiplier, "multiplier");
  }
}

template <class T> double Transform::constrain(const T* x, const Bounds<T>& b, T* y, T* work) const {
  switch (kind_) {
    case Kind::kIdentity:
      for (size_t i = 0; i < n_; ++i) y[i] = x[i];
      return 0;
    case Kind::kLower: return lower_constrain(x, n_, b.lower, y);
    case Kind::kUpper: return upper_constrain(x, n_, b.upper, y);
    case Kind::kLowerUpper: return lower_upper_constrain(x, n_, b.lower, b.upper, y);
    case Kind::kOffsetMultiplier: return offset_multiplier_constrain(x, n_, b.offset, b.multiplier, y);
    case Kind::kSoftplus: return softplus_constrain(x, n_, b.lower, y);
    case Kind::kOrdered: return ordered_constrain(x, n_, y);
    case Kind::kPositiveOrdered: return positive_ordered_constrain(x, n_, y);
    case Kind::kSimplex: return simplex_constrain(x, n_, y);
    case Kind::kUnitVector: return unit_vector_constrain(x, n_, y);
    case Kind::kCholeskyCorr: return cholesky_corr_constrain(x, shape_[0], y);
    case Kind::kCholeskyCov: return cholesky_cov_constrain(x, shape_[0], shape_[1], y);
    case Kind::kCorrMatrix: return corr_matrix_constrain(x, shape_[0], y, work);
    case Kind::kCovMatrix: return cov_matrix_constrain(x, shape_[0], y, work);
  }
  return 0;
}

template <class T>
void Transform::vjp(const T* x, const T* y, const T* gy, double glj, const Bounds<T>& b, T* gx, T* work) const {
  switch (kind_) {
    case Kind::kIdentity:
      for (size_t i = 0; i < n_; ++i) gx[i] += gy[i];
      return;
    case Kind::kLower: return lower_vjp(x, y, gy, glj, n_, b.lower, gx);
    case Kind::kUpper: return upper_vjp(x, y, gy, glj, n_, b.upper, gx);
    case Kind::kLowerUpper: return lower_upper_vjp(x, y, gy, glj, n_, b.lower, b.upper, gx);
    case Kind::kOffsetMultiplier: return offset_multiplier_vjp(x, y, gy, glj, n_, b.offset, b.multiplier, gx);
    case Kind::kSoftplus: return softplus_vjp(x, y, gy, glj, n_, b.lower, gx);
    case Kind::kOrdered: return ordered_vjp(x, y, gy, glj, n_, gx);
    case Kind::kPositiveOrdered: return positive_ordered_vjp(x, y, gy, glj, n_, gx);
    case Kind::kSimplex: return simplex_vjp(x, y, gy, glj, n_, gx);
    case Kind::kUnitVector: return unit_vector_vjp(x, y, gy, glj, n_, gx);
    case Kind::kCholeskyCorr: return cholesky_corr_vjp(x, y, gy, glj, shape_[0], gx);
    case Kind::kCholeskyCov: return cholesky_cov_vjp(x, y, gy, glj, shape_[0], shape_[1], gx);
    case Kind::kCorrMatrix: return corr_matrix_vjp(x, y, gy, glj, shape_[0], gx, work);
    case Kind::kCovMatrix: return cov_matrix_vjp(x, y, gy, glj, shape_[0], gx, work);
  }
}

template <class T>
bool Transform::unconstrain(const T* y, const Bounds<T>& b, T* x, std::string_view var, std::string* error) const {
  std::string e;
  switch (kind_) {
    case Kind::kIdentity:
      for (size_t i = 0; i < n_; ++i) {
        if (!std::isfinite(y[i])) {
          e = "value at index " + std::to_string(i + 1) + " is not finite";
          break;
        }
        x[i] = y[i];
      }
      break;
    case Kind::kLower: e = lower_unconstrain(y, n_, b.lower, x); break;
    case Kind::kUpper: e = upper_unconstrain(y, n_, b.upper, x); break;
    case Kind::kLowerUpper: e = lower_upper_unconstrain(y, n_, b.lower, b.upper, x); break;
    case Kind::kOffsetMultiplier: e = offset_multiplier_unconstrain(y, n_, b.offset, b.multiplier, x); break;
    case Kind::kSoftplus: e = softplus_unconstrain(y, n_, b.lower, x); break;
    case Kind::kOrdered: e = ordered_unconstrain(y, n_, x); break;
    case Kind::kPositiveOrdered: e = positive_ordered_unconstrain(y, n_, x); break;
    case Kind::kSimplex: e = simplex_unconstrain(y, n_, x); break;
    case Kind::kUnitVector: e = unit_vector_unconstrain(y, n_, x); break;
    case Kind::kCholeskyCorr: e = cholesky_corr_unconstrain(y, shape_[0], x); break;
    case Kind::kCholeskyCov: e = cholesky_cov_unconstrain(y, shape_[0], shape_[1], x); break;
    case Kind::kCorrMatrix: e = corr_matrix_unconstrain(y, shape_[0], x); break;
    case Kind::kCovMatrix: e = cov_matrix_unconstrain(y, shape_[0], x); break;
  }
  if (e.empty()) return true;
  if (elementwise()) e = multi_index(std::move(e), shape_);
  if (error) *error = "variable '" + std::string(var) + "' (" + std::string(kind_name(kind_)) + "): " + e;
  return false;
}

#define EXMC_INSTANTIATE(T)                                                                                   \
  template double Transform::constrain<T>(const T*, const Bounds<T>&, T*, T*) const;                        \
  template void Transform::vjp<T>(const T*, const T*, const T*, double, const Bounds<T>&, T*, T*) const;    \
  template bool Transform::unconstrain<T>(const T*, const Bounds<T>&, T*, std::string_view, std::string*) const;
EXMC_INSTANTIATE(float)
EXMC_INSTANTIATE(double)
#undef EXMC_INSTANTIATE

}  // namespace exmc::transform
