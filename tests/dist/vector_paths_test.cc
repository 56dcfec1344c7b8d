// The fused vector paths of single families (poisson_log's) against the generic element loop
// they replace: the same value and partials element by element, the same refusals, and the
// generic path where the fused one's inline exp stops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"
#include "../../src/dist/exp_rows.hpp"

namespace exmc::dist {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log p of counts y at log rates alpha (one value: broadcast), alpha's partials into *g.
double poisson_log(const std::vector<double>& y, const std::vector<double>& alpha, bool propto,
                   std::vector<double>* g = nullptr, bool alpha_param = true) {
  const DistInfo& d = *find_dist("poisson_log");
  Arg<double> a[2];
  a[0].val = y.data();
  a[0].size = a[0].rows = y.size();
  a[0].cols = 1;
  a[1].val = alpha.data();
  a[1].size = a[1].rows = alpha.size();
  a[1].cols = 1;
  a[1].is_param = alpha_param;
  if (g) {
    g->assign(alpha.size(), 0.0);
    a[1].grad = g->data();
  }
  return d.lpdf_f64(a, propto);
}

// Each element on its own (one element never takes the vector path).
double elementwise(const std::vector<double>& y, const std::vector<double>& alpha, bool propto,
                   std::vector<double>* g) {
  double lp = 0;
  g->assign(alpha.size(), 0.0);
  for (size_t i = 0; i < y.size(); ++i) {
    std::vector<double> gi;
    lp += poisson_log({y[i]}, {alpha.size() == 1 ? alpha[0] : alpha[i]}, propto, &gi);
    (*g)[alpha.size() == 1 ? 0 : i] += gi[0];
  }
  return lp;
}

TEST(PoissonLogVectorPath, AgreesWithTheElementLoopOnEveryShape) {
  Rng rng(11, 0);
  for (size_t n : {2u, 3u, 5u, 1000u}) {
    std::vector<double> y(n), alpha(n);
    for (size_t i = 0; i < n; ++i) {
      alpha[i] = rng.uniform(-8, 8);
      y[i] = std::floor(rng.uniform(0, 40));
    }
    for (bool propto : {false, true})
      for (const auto& al : {alpha, std::vector<double>{alpha[0]}}) {
        SCOPED_TRACE(::testing::Message() << "n " << n << " propto " << propto << " alpha size " << al.size());
        std::vector<double> g, ge;
        const double lp = poisson_log(y, al, propto, &g), le = elementwise(y, al, propto, &ge);
        EXPECT_NEAR(lp, le, 1e-13 * std::fabs(le));
        for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], ge[i], 1e-13 * std::max(1.0, std::fabs(ge[i])));
      }
  }
}

TEST(PoissonLogVectorPath, RefusesWhatTheElementLoopRefuses) {
  const double nan = std::nan("");
  for (bool propto : {false, true})
    for (bool param : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "propto " << propto << " param " << param);
      for (double bad_alpha : {nan, kInf, -kInf}) {
        EXPECT_EQ(poisson_log({1, 2, 3}, {0.1, bad_alpha, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(poisson_log({1, 2, 3}, {bad_alpha}, propto, nullptr, param), -kInf);
      }
      for (double bad_y : {-1.0, 1.5, nan, kInf}) {
        EXPECT_EQ(poisson_log({1, bad_y, 3}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(poisson_log({1, bad_y, 3}, {0.1}, propto, nullptr, param), -kInf);
      }
    }
}

// Beyond the inline exp's range the generic path answers: a huge log rate gives a finite
// density (y * alpha - exp(alpha), -inf only when exp overflows), exactly as each element would.
TEST(PoissonLogVectorPath, LogRatesBeyondTheInlineRangeTakeTheGenericPath) {
  for (double big : {-750.0, 705.0, 720.0}) {
    SCOPED_TRACE(big);
    const std::vector<double> y = {0, 3, 1}, alpha = {0.5, big, -0.5};
    std::vector<double> g, ge;
    const double lp = poisson_log(y, alpha, false, &g), le = elementwise(y, alpha, false, &ge);
    if (std::isinf(le)) {
      EXPECT_EQ(lp, le);
    } else {
      EXPECT_NEAR(lp, le, 1e-13 * std::fabs(le));
      for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], ge[i], 1e-13 * std::max(1.0, std::fabs(ge[i])));
    }
  }
}

}  // namespace
}  // namespace exmc::dist

namespace exmc::dist::detail {
namespace {

// The AVX2 build of the block exp gives the baseline build's bits (a draw may not depend on the
// CPU), and both are within 2 ulp of libm's exp.
template <class T> void expect_exp_rows_agree() {
  Rng rng(5, 0);
  std::vector<T> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = T(i % 3 == 0 ? rng.uniform(-699, 699) : i % 3 == 1 ? rng.uniform(-5, 5) : rng.uniform(-1e-8, 1e-8));
  std::vector<double> a(x.size()), b(x.size());
  for (size_t n : {size_t(1), size_t(3), size_t(7), size_t(17), size_t(256), size_t(1000)}) {
    exp_rows(x.data(), a.data(), n, RowsIsa::kBaseline);
    for (size_t i = 0; i < n; ++i) {
      const double want = std::exp(double(x[i]));
      EXPECT_LE(std::fabs(a[i] - want), 2 * std::ldexp(1.0, std::ilogb(want) - 52)) << x[i];
    }
    if (!cpu_has_avx2()) continue;
    exp_rows(x.data(), b.data(), n, RowsIsa::kAvx2);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), n * sizeof(double)), 0) << n;
  }
  if (!cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: one build to run (libm agreement checked)";
}
TEST(ExpRows, Avx2GivesTheBaselineBitsWithin2UlpOfLibmFromDouble) { expect_exp_rows_agree<double>(); }
TEST(ExpRows, Avx2GivesTheBaselineBitsWithin2UlpOfLibmFromFloat) { expect_exp_rows_agree<float>(); }

}  // namespace
}  // namespace exmc::dist::detail
