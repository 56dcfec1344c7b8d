// poisson(n | lambda): counts with rate lambda.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Poisson {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "lambda"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNeg};
  static constexpr const char* extra_text = "lambda > 0 where n > 0";
  static bool extra_valid(const double* x) { return x[0] == 0 || x[1] > 0; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], lam = x[1];
    double lp = -lam;
    if (k > 0) lp += k * m.m[0](lam, [](double v) { return std::log(v); });
    if (c.keep(1)) lp -= lgam(k + 1);
    g[1] = (k > 0 ? k / lam : 0.0) - 1.0;
    return lp;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(poisson, Poisson, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
