// Vector transforms: ordered, positive_ordered, simplex (stick-breaking), unit_vector.
#include <cmath>
#include <string>
#include <vector>

#include "exmc/transform/guards.hpp"
#include "exmc/transform/kernels.hpp"
#include "util.hpp"

namespace exmc::transform {

using detail::num;

namespace {
// Shared by ordered and positive_ordered: y_0 = first(x_0), y_k = y_{k-1} + exp(clamp(x_k)).
// The reverse sweep carries the suffix sum of gy, which is d<gy,y>/dy_k through the cumsum.
template <class T> void ordered_tail_vjp(const T* x, const T* gy, double glj, size_t K, T* gx, T* suffix0) {
  T suffix = 0;
  for (size_t k = K; k-- > 1;) {
    suffix += gy[k];
    gx[k] += clamp_log_deriv(x[k]) * suffix * std::exp(clamp_log(x[k])) + clamp_log_jacobian_deriv(x[k]) * T(glj);
  }
  *suffix0 = suffix + gy[0];
}
}  // namespace

template <class T> double ordered_constrain(const T* x, size_t K, T* y) {
  if (K == 0) return 0;
  double lj = 0;
  y[0] = x[0];
  for (size_t k = 1; k < K; ++k) {
    y[k] = y[k - 1] + std::exp(clamp_log(x[k]));
    lj += clamp_log_jacobian(x[k]);
  }
  return lj;
}
template <class T> void ordered_vjp(const T* x, const T*, const T* gy, double glj, size_t K, T* gx) {
  if (K == 0) return;
  T s0;
  ordered_tail_vjp(x, gy, glj, K, gx, &s0);
  gx[0] += s0;
}
template <class T> std::string ordered_unconstrain(const T* y, size_t K, T* x) {
  for (size_t k = 0; k < K; ++k) {
    if (!std::isfinite(y[k])) return "value " + num(y[k]) + " at index " + std::to_string(k + 1) + " is not finite";
    // Ties are accepted (the closure, as for bounds): y_{k-1} + exp(x_k) rounds to y_{k-1} once
    // exp(x_k) is below half an ulp of it, so the sampler writes them; they map to -B.
    if (k > 0 && !(y[k] >= y[k - 1]))
      return "not increasing: " + num(y[k - 1]) + " at index " + std::to_string(k) + " then " +
             num(y[k]) + " at index " + std::to_string(k + 1);
    if (k > 0 && y[k] == y[k - 1]) {
      std::string edge = detail::on_edge("values at index " + std::to_string(k) + " and " + std::to_string(k + 1) +
                                         " are equal (" + num(y[k]) + "), not strictly increasing");
      if (!edge.empty()) return edge;
    }
    x[k] = k == 0 ? y[0] : detail::log_to_edge(y[k] - y[k - 1]);
  }
  return "";
}

template <class T> double positive_ordered_constrain(const T* x, size_t K, T* y) {
  if (K == 0) return 0;
  y[0] = std::exp(clamp_log(x[0]));
  double lj = clamp_log_jacobian(x[0]);
  for (size_t k = 1; k < K; ++k) {
    y[k] = y[k - 1] + std::exp(clamp_log(x[k]));
    lj += clamp_log_jacobian(x[k]);
  }
  return lj;
}
template <class T> void positive_ordered_vjp(const T* x, const T*, const T* gy, double glj, size_t K, T* gx) {
  if (K == 0) return;
  T s0;
  ordered_tail_vjp(x, gy, glj, K, gx, &s0);
  gx[0] += clamp_log_deriv(x[0]) * s0 * std::exp(clamp_log(x[0])) + clamp_log_jacobian_deriv(x[0]) * T(glj);
}
template <class T> std::string positive_ordered_unconstrain(const T* y, size_t K, T* x) {
  if (K > 0 && !(y[0] >= T(0))) return "value " + num(y[0]) + " at index 1 is negative";
  if (K > 0 && y[0] == T(0)) {
    std::string edge = detail::on_edge("value 0 at index 1 is on the lower bound 0");
    if (!edge.empty()) return edge;
  }
  std::string e = ordered_unconstrain(y, K, x);
  if (!e.empty()) return e;
  if (K > 0) x[0] = detail::log_to_edge(y[0]);
  return "";
}

// Simplex. With a_k = x_k - log(K-1-k) and L_k the log of the stick left before break k (L_0 = 0):
//   y_k = exp(L_k + log inv_logit(a_k)),  L_{k+1} = L_k + log inv_logit(-a_k),  y_{K-1} = exp(L_{K-1}),
//   log|J| = sum_k L_k + log inv_logit(a_k) + log inv_logit(-a_k).
// Working in log-stick space keeps tiny remaining sticks accurate.
template <class T> double simplex_constrain(const T* x, size_t K, T* y) {
  if (K == 0) return 0;
  double lj = 0;
  T L = 0;
  for (size_t k = 0; k + 1 < K; ++k) {
    const T a = x[k] - std::log(T(K - 1 - k));
    const T lp = log_inv_logit(a), ln = log_inv_logit(-a);
    y[k] = std::exp(L + lp);
    lj += double(L) + lp + ln;
    L += ln;
  }
  y[K - 1] = std::exp(L);
  return lj;
}
template <class T> void simplex_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx) {
  if (K == 0) return;
  // gL: gradient with respect to L_{k+1} while processing break k.
  T gL = gy[K - 1] * y[K - 1];
  for (size_t k = K - 1; k-- > 0;) {
    const T a = x[k] - std::log(T(K - 1 - k));
    const T s = inv_logit(a), sn = inv_logit(-a);
    const T gyk = gy[k] * y[k];
    gx[k] += gyk * sn - gL * s + T(glj) * (sn - s);
    gL += gyk + T(glj);
  }
}
template <class T> std::string simplex_unconstrain(const T* y, size_t K, T* x) {
  if (K == 0) return "a simplex needs at least one element";
  double sum = 0;
  for (size_t k = 0; k < K; ++k) {
    // Zeros are accepted (Stan's check_simplex): exp underflows to 0 in a far-out break, and
    // a Dirichlet with small concentrations puts mass there.
    if (!(y[k] >= T(0)) || !std::isfinite(y[k]))
      return "element " + num(y[k]) + " at index " + std::to_string(k + 1) + " is not a finite value >= 0";
    if (y[k] == T(0) && K > 1) {
      std::string edge = detail::on_edge("element 0 at index " + std::to_string(k + 1) + " is on the simplex's edge");
      if (!edge.empty()) return edge;
    }
    sum += y[k];
  }
  if (!(std::fabs(sum - 1.0) <= detail::constraint_tol<T>()))
    return "elements sum to " + num(sum) + ", not 1" + detail::tol_str(detail::constraint_tol<T>());
  // The remaining stick is summed from the right so it never goes negative by rounding.
  std::vector<double> rest(K, 0.0);
  for (size_t k = K - 1; k-- > 0;) rest[k] = rest[k + 1] + y[k + 1];
  for (size_t k = 0; k + 1 < K; ++k) {
    // z = y_k / (y_k + rest): the fraction broken off; x = logit(z) + log(K-1-k). A zero on one
    // side goes to -+B (finite_edge); nothing left on either side (the stick is used up): the
    // centre, a = 0.
    const double c = std::log(double(K - 1 - k));
    if (y[k] == T(0) && rest[k] == 0) x[k] = T(c);
    else x[k] = detail::finite_edge(T(std::log(double(y[k])) - std::log(rest[k]) + c));
  }
  return "";
}

// Unit vector: y = x / r, r = max(|x|, floor), "log|J|" = -r^2/2.
template <class T> double unit_vector_constrain(const T* x, size_t K, T* y) {
  double ss = 0;
  for (size_t k = 0; k < K; ++k) ss += double(x[k]) * x[k];
  const T r = floor_scale(T(std::sqrt(ss)));
  for (size_t k = 0; k < K; ++k) y[k] = x[k] / r;
  return -0.5 * ss;
}
template <class T> void unit_vector_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx) {
  double ss = 0, yg = 0;
  for (size_t k = 0; k < K; ++k) {
    ss += double(x[k]) * x[k];
    yg += double(y[k]) * gy[k];
  }
  const T raw = T(std::sqrt(ss));
  const T r = floor_scale(raw);
  // Below the floor y = x / floor is linear in x.
  const T proj = floor_scale_deriv(raw) * T(yg);
  for (size_t k = 0; k < K; ++k) gx[k] += (gy[k] - y[k] * proj) / r - T(glj) * x[k];
}
template <class T> std::string unit_vector_unconstrain(const T* y, size_t K, T* x) {
  double ss = 0;
  for (size_t k = 0; k < K; ++k) ss += double(y[k]) * y[k];
  if (!(std::fabs(std::sqrt(ss) - 1.0) <= detail::constraint_tol<T>()))
    return "Euclidean norm is " + num(std::sqrt(ss)) + ", not 1" + detail::tol_str(detail::constraint_tol<T>());
  for (size_t k = 0; k < K; ++k) x[k] = y[k];
  return "";
}

#define EXMC_INSTANTIATE(T)                                                                   \
  template double ordered_constrain<T>(const T*, size_t, T*);                               \
  template void ordered_vjp<T>(const T*, const T*, const T*, double, size_t, T*);           \
  template std::string ordered_unconstrain<T>(const T*, size_t, T*);                        \
  template double positive_ordered_constrain<T>(const T*, size_t, T*);                      \
  template void positive_ordered_vjp<T>(const T*, const T*, const T*, double, size_t, T*);  \
  template std::string positive_ordered_unconstrain<T>(const T*, size_t, T*);               \
  template double simplex_constrain<T>(const T*, size_t, T*);                               \
  template void simplex_vjp<T>(const T*, const T*, const T*, double, size_t, T*);           \
  template std::string simplex_unconstrain<T>(const T*, size_t, T*);                        \
  template double unit_vector_constrain<T>(const T*, size_t, T*);                           \
  template void unit_vector_vjp<T>(const T*, const T*, const T*, double, size_t, T*);       \
  template std::string unit_vector_unconstrain<T>(const T*, size_t, T*);
EXMC_INSTANTIATE(float)
EXMC_INSTANTIATE(double)
#undef EXMC_INSTANTIATE

}  // namespace exmc::transform
