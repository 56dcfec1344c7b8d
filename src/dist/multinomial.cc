// multinomial(y | theta): counts y (length K) of N = sum(y) draws with probabilities theta.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Multinomial {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "theta"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[1].size;
    if (a[0].size != k || !is_simplex(a[1].val, k)) return -kInf;
    for (size_t j = 0; j < k; ++j) {
      const double y = double(a[0].val[j]);
      if (!(y >= 0 && y == std::floor(y) && y < kInf) || (y > 0 && !(a[1].val[j] > 0))) return -kInf;
    }
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    double lp = 0, N = 0;
    for (size_t j = 0; j < k; ++j) {
      const double y = double(a[0].val[j]), th = double(a[1].val[j]);
      N += y;
      if (!propto || a[0].is_param) lp -= lgam(y + 1);
      if (y > 0) {
        lp += y * std::log(th);
        if (a[1].grad) a[1].grad[j] += T(y / th);
      }
    }
    if (!propto || a[0].is_param) lp += lgam(N + 1);
    return lp;
  }
  // Sequential conditional binomials. Stan's signature has no trial count, so N is the sum
  // of args[0].val (the observed counts: a predictive draw keeps each row's total).
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    double N = 0;
    for (size_t j = 0; j < a[0].size; ++j) N += a[0].val ? a[0].val[j] : 0;
    double left = 1;
    for (size_t j = 0; j < a[1].size; ++j) {
      const double p = left > 0 ? std::min(1.0, a[1].val[j] / left) : 0;
      out[j] = j + 1 == a[1].size ? N : draw_binomial(r, N, p);
      N -= out[j];
      left -= a[1].val[j];
    }
  }
  static std::string validate(const Arg<double>* a) {
    if (a[0].size != a[1].size)
      return "y has length " + std::to_string(a[0].size) + " but theta has length " + std::to_string(a[1].size);
    if (!a[1].is_param && !is_simplex(a[1].val, a[1].size)) return simplex_message("theta", a[1].val, a[1].size);
    if (!a[0].is_param)
      for (size_t i = 0; i < a[0].size; ++i)
        if (!check(Check::kNonNegInt, a[0].val[i])) return bad_value("y", "a non-negative integer", a[0].val[i], i);
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(multinomial, Multinomial, Support::kNonNegInteger, true, true)
}  // namespace exmc::dist::detail
