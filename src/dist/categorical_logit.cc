// categorical_logit(y | beta): categorical with theta = softmax(beta).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct CategoricalLogit {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "beta"};
  static double lse(const double* b, size_t k) {
    double m = -kInf, s = 0;
    for (size_t j = 0; j < k; ++j) m = std::max(m, b[j]);
    for (size_t j = 0; j < k; ++j) s += std::exp(b[j] - m);
    return m + std::log(s);
  }
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size, k = a[1].size;
    double m = -kInf;
    for (size_t j = 0; j < k; ++j) {
      if (!std::isfinite(double(a[1].val[j]))) return -kInf;
      m = std::max(m, double(a[1].val[j]));
    }
    for (size_t i = 0; i < n; ++i) {
      const double y = double(a[0].val[i]);
      if (!(y >= 1 && y <= double(k) && y == std::floor(y))) return -kInf;
    }
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    double s = 0;
    for (size_t j = 0; j < k; ++j) s += std::exp(double(a[1].val[j]) - m);
    const double l = m + std::log(s);
    double lp = -double(n) * l;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = size_t(a[0].val[i]) - 1;
      lp += double(a[1].val[j]);
      if (a[1].grad) a[1].grad[j] += T(1);
    }
    if (a[1].grad)
      for (size_t j = 0; j < k; ++j) a[1].grad[j] -= T(double(n) * std::exp(double(a[1].val[j]) - l));
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[1].size;
    const double l = lse(a[1].val, k);
    for (size_t i = 0; i < a[0].size; ++i) {
      double u = r.uniform();
      size_t j = 0;
      while (j + 1 < k && u > std::exp(a[1].val[j] - l)) u -= std::exp(a[1].val[j++] - l);
      out[i] = double(j + 1);
    }
  }
  static std::string validate(const Arg<double>* a) {
    if (!a[1].is_param)
      for (size_t j = 0; j < a[1].size; ++j)
        if (!std::isfinite(a[1].val[j])) return bad_value("beta", "finite", a[1].val[j], j);
    if (!a[0].is_param)
      for (size_t i = 0; i < a[0].size; ++i) {
        const double y = a[0].val[i];
        if (!(y >= 1 && y <= double(a[1].size) && y == std::floor(y)))
          return bad_value("y", "an integer in 1.." + std::to_string(a[1].size), y, i);
      }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(categorical_logit, CategoricalLogit, Support::kInteger, true, false)
}  // namespace exmc::dist::detail
