// uniform(y | alpha, beta): flat on [alpha, beta].
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Uniform {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kReal};
  static constexpr const char* extra_text = "alpha < beta and alpha <= y <= beta";
  static bool extra_valid(const double* x) { return x[1] < x[2] && x[0] >= x[1] && x[0] <= x[2]; }
  static double lp(const double* x, const Ctx& c, double* g, Memos&) {
    const double w = x[2] - x[1];
    g[1] = 1.0 / w;
    g[2] = -1.0 / w;
    return c.keep(6) ? -std::log(w) : 0.0;
  }
  static int cdf_side(const double* x) {
    if (!(x[1] < x[2])) return -2;
    return x[0] <= x[1] ? -1 : x[0] >= x[2] ? 1 : 0;
  }
  static double lcdf(const double* x, double* g) {
    const double w = x[2] - x[1], d = x[0] - x[1];
    g[0] = 1.0 / d;
    g[1] = -1.0 / d + 1.0 / w;
    g[2] = -1.0 / w;
    return std::log(d / w);
  }
  static double lccdf(const double* x, double* g) {
    const double w = x[2] - x[1], d = x[2] - x[0];
    g[0] = -1.0 / d;
    g[1] = 1.0 / w;
    g[2] = 1.0 / d - 1.0 / w;
    return std::log(d / w);
  }
  static double draw(const double* x, Rng& r) { return x[1] + (x[2] - x[1]) * r.uniform(); }
};
}  // namespace

EXMC_REGISTER_DIST(uniform, Uniform, Support::kBounded, false)
}  // namespace exmc::dist::detail
