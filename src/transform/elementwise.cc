// Elementwise transforms: lower, upper, lower-upper (logit-scaled), offset/multiplier, softplus.
#include <cmath>
#include <limits>
#include <string>

#include "exmc/transform/guards.hpp"
#include "exmc/transform/kernels.hpp"
#include "util.hpp"

namespace exmc::transform {

using detail::num;

namespace {
template <class T> void add_grad(BoundArg<T> b, size_t i, T g) {
  if (b.grad) b.grad[b.size == 1 ? 0 : i] += g;
}
// The unconstrain functions accept the closed set, as Stan's do: a value on the bound is what
// constrain gives (to rounding) far out, and what a draw printed with few digits reads back as.
// It maps to the clamp's edge (log_to_edge), finite, never to -inf. Non-finite values are
// refused: +inf is above every lower bound, and its x = +inf would stay there for ever.
std::string not_finite(double v, size_t i) {
  return "value " + num(v) + " at index " + std::to_string(i + 1) + " is not finite";
}
// "" unless InteriorOnly is active and v is on the bound.
std::string on_bound(double v, size_t i, double bound, const char* which) {
  if (v != bound) return "";
  return detail::on_edge("value " + num(v) + " at index " + std::to_string(i + 1) + " is on the " + which + " bound " +
                         num(bound));
}
}  // namespace

// ---- lower: y = lb + exp(clamp(x)), log|J| = clamp(x); an element with lb = -inf has no
//      bound (Stan's negative_infinity()): y = x there.
template <class T> double lower_constrain(const T* x, size_t n, BoundArg<T> lb, T* y) {
  double lj = 0;
  for (size_t i = 0; i < n; ++i) {
    if (lb.at(i) == -std::numeric_limits<T>::infinity()) {
      y[i] = x[i];
      continue;
    }
    y[i] = lb.at(i) + std::exp(clamp_log(x[i]));
    lj += clamp_log_jacobian(x[i]);
  }
  return lj;
}
template <class T> void lower_vjp(const T* x, const T*, const T* gy, double glj, size_t n, BoundArg<T> lb, T* gx) {
  for (size_t i = 0; i < n; ++i) {
    if (lb.at(i) == -std::numeric_limits<T>::infinity()) {
      gx[i] += gy[i];
      continue;
    }
    gx[i] += clamp_log_deriv(x[i]) * gy[i] * std::exp(clamp_log(x[i])) + clamp_log_jacobian_deriv(x[i]) * T(glj);
    add_grad(lb, i, gy[i]);
  }
}
template <class T> std::string lower_unconstrain(const T* y, size_t n, BoundArg<T> lb, T* x) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i])) return not_finite(y[i], i);
    if (!(y[i] >= lb.at(i)))
      return "value " + num(y[i]) + " at index " + std::to_string(i + 1) + " is not above the lower bound " +
             num(lb.at(i));
    if (std::string edge = on_bound(y[i], i, lb.at(i), "lower"); !edge.empty()) return edge;
    x[i] = lb.at(i) == -std::numeric_limits<T>::infinity() ? y[i] : detail::log_to_edge(y[i] - lb.at(i));
  }
  return "";
}

// ---- upper: y = ub - exp(clamp(x)), log|J| = clamp(x); ub = +inf: no bound, y = x.
template <class T> double upper_constrain(const T* x, size_t n, BoundArg<T> ub, T* y) {
  double lj = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ub.at(i) == std::numeric_limits<T>::infinity()) {
      y[i] = x[i];
      continue;
    }
    y[i] = ub.at(i) - std::exp(clamp_log(x[i]));
    lj += clamp_log_jacobian(x[i]);
  }
  return lj;
}
template <class T> void upper_vjp(const T* x, const T*, const T* gy, double glj, size_t n, BoundArg<T> ub, T* gx) {
  for (size_t i = 0; i < n; ++i) {
    if (ub.at(i) == std::numeric_limits<T>::infinity()) {
      gx[i] += gy[i];
      continue;
    }
    gx[i] += -clamp_log_deriv(x[i]) * gy[i] * std::exp(clamp_log(x[i])) + clamp_log_jacobian_deriv(x[i]) * T(glj);
    add_grad(ub, i, gy[i]);
  }
}
template <class T> std::string upper_unconstrain(const T* y, size_t n, BoundArg<T> ub, T* x) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i])) return not_finite(y[i], i);
    if (!(y[i] <= ub.at(i)))
      return "value " + num(y[i]) + " at index " + std::to_string(i + 1) + " is not below the upper bound " +
             num(ub.at(i));
    if (std::string edge = on_bound(y[i], i, ub.at(i), "upper"); !edge.empty()) return edge;
    x[i] = ub.at(i) == std::numeric_limits<T>::infinity() ? y[i] : detail::log_to_edge(ub.at(i) - y[i]);
  }
  return "";
}

// ---- lower-upper: y = lb + w inv_logit(x), w = floor(ub - lb),
//      log|J| = log w + log inv_logit(x) + log inv_logit(-x)
template <class T> double lower_upper_constrain(const T* x, size_t n, BoundArg<T> lb, BoundArg<T> ub, T* y) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  double lj = 0;
  for (size_t i = 0; i < n; ++i) {
    const T l = lb.at(i), u = ub.at(i);
    if (l == -inf || u == inf) {  // half- or un-bounded element
      if (l == -inf && u == inf) {
        y[i] = x[i];
      } else {
        const T c = clamp_log(x[i]);
        y[i] = (l == -inf) ? u - std::exp(c) : l + std::exp(c);
        lj += clamp_log_jacobian(x[i]);
      }
      continue;
    }
    if (std::isinf(u - l)) {
      // The width overflows (-1e308 to 1e308): in halves, y = 2 (l/2 + h s) with h = u/2 - l/2,
      // which is l + (u - l) s exactly where that does not overflow.
      const T h = u / T(2) - l / T(2);
      y[i] = T(2) * (l / T(2) + h * inv_logit(x[i]));
      lj += std::log(h) + std::log(2.0) + log_inv_logit(x[i]) + log_inv_logit(-x[i]);
      continue;
    }
    const T w = floor_scale(u - l);
    y[i] = l + w * inv_logit(x[i]);
    lj += std::log(w) + log_inv_logit(x[i]) + log_inv_logit(-x[i]);
  }
  return lj;
}
template <class T> void lower_upper_vjp(const T* x, const T*, const T* gy, double glj, size_t n, BoundArg<T> lb,
                                        BoundArg<T> ub, T* gx) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const T l = lb.at(i), u = ub.at(i);
    if (l == -inf || u == inf) {
      if (l == -inf && u == inf) {
        gx[i] += gy[i];
      } else {
        const T d = clamp_log_deriv(x[i]);
        const T e = std::exp(clamp_log(x[i]));
        gx[i] += d * (l == -inf ? -gy[i] : gy[i]) * e + clamp_log_jacobian_deriv(x[i]) * T(glj);
        if (l == -inf) add_grad(ub, i, gy[i]); else add_grad(lb, i, gy[i]);
      }
      continue;
    }
    const T raw = u - l;
    const T s = inv_logit(x[i]), sn = inv_logit(-x[i]);
    if (std::isinf(raw)) {  // in halves, as constrain: y = l sn + u s, log|J| has log(h) + log 2
      const T h = u / T(2) - l / T(2);
      gx[i] += T(2) * (gy[i] * h * s * sn) + T(glj) * (sn - s);
      add_grad(lb, i, gy[i] * sn - T(glj) / (T(2) * h));
      add_grad(ub, i, gy[i] * s + T(glj) / (T(2) * h));
      continue;
    }
    const T w = floor_scale(raw), dw = floor_scale_deriv(raw);
    gx[i] += gy[i] * w * s * sn + T(glj) * (sn - s);
    // y = l + w(u - l) s, log|J| has log w: dw/du = dw, dw/dl = -dw.
    const T gw = gy[i] * s + T(glj) / w;
    add_grad(lb, i, gy[i] - dw * gw);
    add_grad(ub, i, dw * gw);
  }
}
template <class T> std::string lower_upper_unconstrain(const T* y, size_t n, BoundArg<T> lb, BoundArg<T> ub, T* x) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const T l = lb.at(i), u = ub.at(i);
    if (!(l < u))
      return "lower bound " + num(l) + " is not below upper bound " + num(u) + " at index " + std::to_string(i + 1);
    if (!std::isfinite(y[i])) return not_finite(y[i], i);
    if (!(y[i] >= l && y[i] <= u))
      return "value " + num(y[i]) + " at index " + std::to_string(i + 1) + " is outside the interval [" + num(l) +
             ", " + num(u) + "]";
    if (std::string edge = on_bound(y[i], i, l, "lower") + on_bound(y[i], i, u, "upper"); !edge.empty()) return edge;
    if (l == -inf && u == inf) x[i] = y[i];
    else if (l == -inf) x[i] = detail::log_to_edge(u - y[i]);
    else if (u == inf) x[i] = detail::log_to_edge(y[i] - l);
    else {
      // logit((y-l)/(u-l)) written as log(y-l) - log(u-y) keeps precision near both ends; a
      // value on a bound (inv_logit rounds to 0 or 1 beyond |x| ~ 37) goes to +-B.
      // In halves where the width overflows (y - l can too): the same ratio.
      x[i] = std::isinf(u - l) ? detail::finite_edge(std::log(y[i] / T(2) - l / T(2)) - std::log(u / T(2) - y[i] / T(2)))
                               : detail::finite_edge(std::log(y[i] - l) - std::log(u - y[i]));
    }
  }
  return "";
}

// ---- offset/multiplier: y = mu + m x, m = floor(multiplier), log|J| = sum log m
template <class T> double offset_multiplier_constrain(const T* x, size_t n, BoundArg<T> off, BoundArg<T> mult, T* y) {
  double lj = 0;
  for (size_t i = 0; i < n; ++i) {
    const T m = mult.size ? floor_scale(mult.at(i)) : T(1);
    const T mu = off.size ? off.at(i) : T(0);
    y[i] = mu + m * x[i];
    lj += std::log(m);
  }
  return lj;
}
template <class T> void offset_multiplier_vjp(const T* x, const T*, const T* gy, double glj, size_t n,
                                              BoundArg<T> off, BoundArg<T> mult, T* gx) {
  for (size_t i = 0; i < n; ++i) {
    const T m = mult.size ? floor_scale(mult.at(i)) : T(1);
    gx[i] += gy[i] * m;
    if (off.size) add_grad(off, i, gy[i]);
    if (mult.size) add_grad(mult, i, floor_scale_deriv(mult.at(i)) * (gy[i] * x[i] + T(glj) / m));
  }
}
template <class T> std::string offset_multiplier_unconstrain(const T* y, size_t n, BoundArg<T> off,
                                                             BoundArg<T> mult, T* x) {
  for (size_t i = 0; i < n; ++i) {
    const T m = mult.size ? mult.at(i) : T(1);
    if (!(m > T(0)) || !std::isfinite(m))
      return "multiplier " + num(m) + " at index " + std::to_string(i + 1) + " is not positive and finite";
    if (!std::isfinite(y[i])) return "value " + num(y[i]) + " at index " + std::to_string(i + 1) + " is not finite";
    x[i] = (y[i] - (off.size ? off.at(i) : T(0))) / m;
  }
  return "";
}

// ---- softplus: y = lb + log1p(exp(x)), log|J| = log inv_logit(x)
template <class T> double softplus_constrain(const T* x, size_t n, BoundArg<T> lb, T* y) {
  double lj = 0;
  for (size_t i = 0; i < n; ++i) {
    y[i] = (lb.size ? lb.at(i) : T(0)) + log1p_exp(x[i]);
    lj += log_inv_logit(x[i]);
  }
  return lj;
}
template <class T> void softplus_vjp(const T* x, const T*, const T* gy, double glj, size_t n, BoundArg<T> lb, T* gx) {
  for (size_t i = 0; i < n; ++i) {
    gx[i] += gy[i] * inv_logit(x[i]) + T(glj) * inv_logit(-x[i]);
    if (lb.size) add_grad(lb, i, gy[i]);
  }
}
template <class T> std::string softplus_unconstrain(const T* y, size_t n, BoundArg<T> lb, T* x) {
  for (size_t i = 0; i < n; ++i) {
    const T l = lb.size ? lb.at(i) : T(0);
    const T z = y[i] - l;
    if (!std::isfinite(y[i]) || !std::isfinite(z)) return not_finite(y[i], i);
    if (!(z >= T(0)))
      return "value " + num(y[i]) + " at index " + std::to_string(i + 1) + " is not above the lower bound " + num(l);
    if (std::string edge = on_bound(y[i], i, l, "lower"); z == T(0) && !edge.empty()) return edge;
    // inverse softplus: z + log(1 - exp(-z)), exact for small and large z alike; z = 0 (y on
    // the bound: softplus rounds to 0 below x ~ -745) goes to -B.
    x[i] = detail::finite_edge(z + std::log(-std::expm1(-z)));
  }
  return "";
}

#define EXMC_INSTANTIATE(T)                                                                                      \
  template double lower_constrain<T>(const T*, size_t, BoundArg<T>, T*);                                       \
  template void lower_vjp<T>(const T*, const T*, const T*, double, size_t, BoundArg<T>, T*);                   \
  template std::string lower_unconstrain<T>(const T*, size_t, BoundArg<T>, T*);                                \
  template double upper_constrain<T>(const T*, size_t, BoundArg<T>, T*);                                       \
  template void upper_vjp<T>(const T*, const T*, const T*, double, size_t, BoundArg<T>, T*);                   \
  template std::string upper_unconstrain<T>(const T*, size_t, BoundArg<T>, T*);                                \
  template double lower_upper_constrain<T>(const T*, size_t, BoundArg<T>, BoundArg<T>, T*);                    \
  template void lower_upper_vjp<T>(const T*, const T*, const T*, double, size_t, BoundArg<T>, BoundArg<T>, T*); \
  template std::string lower_upper_unconstrain<T>(const T*, size_t, BoundArg<T>, BoundArg<T>, T*);             \
  template double offset_multiplier_constrain<T>(const T*, size_t, BoundArg<T>, BoundArg<T>, T*);              \
  template void offset_multiplier_vjp<T>(const T*, const T*, const T*, double, size_t, BoundArg<T>, BoundArg<T>, \
                                         T*);                                                                  \
  template std::string offset_multiplier_unconstrain<T>(const T*, size_t, BoundArg<T>, BoundArg<T>, T*);       \
  template double softplus_constrain<T>(const T*, size_t, BoundArg<T>, T*);                                    \
  template void softplus_vjp<T>(const T*, const T*, const T*, double, size_t, BoundArg<T>, T*);                \
  template std::string softplus_unconstrain<T>(const T*, size_t, BoundArg<T>, T*);
EXMC_INSTANTIATE(float)
EXMC_INSTANTIATE(double)
#undef EXMC_INSTANTIATE

}  // namespace exmc::transform
