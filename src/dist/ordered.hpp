// The ordinal-regression kernel shared by ordered_logistic and ordered_probit, written once
// over a symmetric link F (F(-x) = 1 - F(x)): P(y = k) = F(eta - c[k-1]) - F(eta - c[k]).
#pragma once

#include "univariate.hpp"

namespace exmc::dist::detail {

template <class Link>
struct Ordered {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "eta", "c"};

  // log P(y = k) and its partials in the two cut distances a = eta - c[k-1] (or +inf) and
  // b = eta - c[k] (or -inf).
  static double logp(double a, double b, double* da, double* db) {
    *da = *db = 0;
    if (std::isinf(a) && std::isinf(b)) return 0;
    if (std::isinf(a)) {  // k = 1: 1 - F(b) = F(-b)
      const double l = Link::logF(-b);
      *db = -std::exp(Link::logf(b) - l);
      return l;
    }
    if (std::isinf(b)) {  // k = K: F(a)
      const double l = Link::logF(a);
      *da = std::exp(Link::logf(a) - l);
      return l;
    }
    // F(a) - F(b) = F(-b) - F(-a); take whichever pair sits in the lower tails.
    const double l = a + b > 0 ? log_diff_exp(Link::logF(-b), Link::logF(-a)) : log_diff_exp(Link::logF(a), Link::logF(b));
    *da = std::exp(Link::logf(a) - l);
    *db = -std::exp(Link::logf(b) - l);
    return l;
  }

  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size, nc = a[2].size, kmax = nc + 1;
    if (a[1].size != 1 && a[1].size != n) return -kInf;
    for (size_t j = 0; j < nc; ++j) {
      if (!std::isfinite(double(a[2].val[j]))) return -kInf;
      if (j > 0 && !(a[2].val[j] > a[2].val[j - 1])) return -kInf;
    }
    for (size_t i = 0; i < n; ++i) {
      const double y = double(a[0].val[i]);
      if (!(y >= 1 && y <= double(kmax) && y == std::floor(y))) return -kInf;
      if (!std::isfinite(double(a[1].val[a[1].size == 1 ? 0 : i]))) return -kInf;
    }
    if (propto && !a[0].is_param && !a[1].is_param && !a[2].is_param) return 0.0;
    double lp = 0, geta = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t k = size_t(a[0].val[i]);
      const double eta = double(a[1].val[a[1].size == 1 ? 0 : i]);
      const double lo = k >= 2 ? eta - double(a[2].val[k - 2]) : kInf;
      const double hi = k <= nc ? eta - double(a[2].val[k - 1]) : -kInf;
      double da, db;
      lp += logp(lo, hi, &da, &db);
      if (a[1].grad) {
        if (a[1].size == 1) geta += da + db;
        else a[1].grad[i] += T(da + db);
      }
      if (a[2].grad) {
        if (k >= 2) a[2].grad[k - 2] -= T(da);
        if (k <= nc) a[2].grad[k - 1] -= T(db);
      }
    }
    if (a[1].grad && a[1].size == 1) a[1].grad[0] += T(geta);
    return lp;
  }

  // Threshold a latent eta + noise at the cutpoints.
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    for (size_t i = 0; i < a[0].size; ++i) {
      const double z = a[1].val[a[1].size == 1 ? 0 : i] + Link::draw(r);
      size_t k = 1;
      while (k <= a[2].size && z > a[2].val[k - 1]) ++k;
      out[i] = double(k);
    }
  }

  static std::string validate(const Arg<double>* a) {
    if (a[1].size != 1 && a[1].size != a[0].size)
      return "eta has length " + std::to_string(a[1].size) + " but y has length " + std::to_string(a[0].size);
    if (!a[2].is_param)
      for (size_t j = 0; j < a[2].size; ++j) {
        if (!std::isfinite(a[2].val[j])) return bad_value("c", "finite", a[2].val[j], j);
        if (j > 0 && !(a[2].val[j] > a[2].val[j - 1]))
          return bad_value("c", "strictly increasing", a[2].val[j], j);
      }
    if (!a[1].is_param)
      for (size_t i = 0; i < a[1].size; ++i)
        if (!std::isfinite(a[1].val[i])) return bad_value("eta", "finite", a[1].val[i], i);
    if (!a[0].is_param)
      for (size_t i = 0; i < a[0].size; ++i) {
        const double y = a[0].val[i];
        if (!(y >= 1 && y <= double(a[2].size + 1) && y == std::floor(y)))
          return bad_value("y", "an integer in 1.." + std::to_string(a[2].size + 1), y, i);
      }
    return "";
  }
};

}  // namespace exmc::dist::detail
