// categorical(y | theta): each y[i] in 1..K drawn with probabilities theta (a K-simplex).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Categorical {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "theta"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size, k = a[1].size;
    if (!is_simplex(a[1].val, k)) return -kInf;
    for (size_t i = 0; i < n; ++i) {
      const double y = double(a[0].val[i]);
      if (!(y >= 1 && y <= double(k) && y == std::floor(y)) || !(a[1].val[size_t(y) - 1] > 0)) return -kInf;
    }
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    double lp = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = size_t(a[0].val[i]) - 1;
      const double th = double(a[1].val[j]);
      lp += std::log(th);
      if (a[1].grad) a[1].grad[j] += T(1.0 / th);
    }
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[1].size;
    for (size_t i = 0; i < a[0].size; ++i) {
      double u = r.uniform();
      size_t j = 0;
      while (j + 1 < k && u > a[1].val[j]) u -= a[1].val[j++];
      out[i] = double(j + 1);
    }
  }
  static std::string validate(const Arg<double>* a) {
    if (!a[1].is_param && !is_simplex(a[1].val, a[1].size)) return simplex_message("theta", a[1].val, a[1].size);
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

EXMC_REGISTER_VECTOR_DIST(categorical, Categorical, Support::kInteger, true, false)
}  // namespace exmc::dist::detail
