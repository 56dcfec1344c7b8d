// The generic driver: expands every distribution's table (specs_*.cc) into value, support,
// normalisation, propto, gradient, broadcasting, float, random-draw and validation tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/quadrature/exp_sinh.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"
#include "spec.hpp"

namespace exmc::dist::testing {
namespace {

using Vals = std::vector<std::vector<double>>;  // one vector per argument

// Evaluates the density; grads (if given) are resized and zeroed, filled for every arg in
// `param` (bit k: argument k is a parameter and wants its gradient).
// Matrix arguments: rows per argument (0: a vector); set by the vector-family tests.
thread_local const std::vector<size_t>* g_rows = nullptr;

template <class T>
void set_shape(Arg<T>& a, size_t k, size_t size) {
  const size_t r = g_rows && k < g_rows->size() && (*g_rows)[k] ? (*g_rows)[k] : size;
  a.size = size;
  a.rows = r;
  a.cols = r ? size / r : 1;
}

// Which function eval() calls: the density, or the log cdf / log ccdf.
thread_local int g_which = 0;

double eval(const DistInfo& d, const Vals& v, bool propto, unsigned param, Vals* grads = nullptr) {
  std::vector<Arg<double>> a(v.size());
  if (grads) {
    grads->assign(v.size(), {});
    for (size_t k = 0; k < v.size(); ++k) (*grads)[k].assign(v[k].size(), 0.0);
  }
  for (size_t k = 0; k < v.size(); ++k) {
    a[k].val = v[k].data();
    set_shape(a[k], k, v[k].size());
    a[k].is_param = (param >> k) & 1u;
    if (grads && a[k].is_param) a[k].grad = (*grads)[k].data();
  }
  if (g_which == 1) return d.lcdf_f64(a.data(), propto);
  if (g_which == 2) return d.lccdf_f64(a.data(), propto);
  return d.lpdf_f64(a.data(), propto);
}

double eval_f32(const DistInfo& d, const Vals& v, bool propto, unsigned param, Vals* grads) {
  std::vector<std::vector<float>> vf(v.size()), gf(v.size());
  std::vector<Arg<float>> a(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    vf[k].assign(v[k].begin(), v[k].end());
    gf[k].assign(v[k].size(), 0.0f);
    a[k].val = vf[k].data();
    set_shape(a[k], k, vf[k].size());
    a[k].is_param = (param >> k) & 1u;
    if (a[k].is_param) a[k].grad = gf[k].data();
  }
  const double lp = d.lpdf_f32(a.data(), propto);
  grads->assign(v.size(), {});
  for (size_t k = 0; k < v.size(); ++k) (*grads)[k].assign(gf[k].begin(), gf[k].end());
  return lp;
}

Vals scalar_args(double y, const std::vector<double>& p) {
  Vals v{{y}};
  for (double x : p) v.push_back({x});
  return v;
}

bool is_fixed(const Spec& s, int k) { return std::find(s.fixed.begin(), s.fixed.end(), k) != s.fixed.end(); }
bool discrete(const Spec& s) { return is_fixed(s, 0); }

double rel_err(double a, double b) {
  if (a == b) return 0;
  return std::fabs(a - b) / std::max(1.0, std::fabs(b));
}

// Integer points carrying all but ~1e-17 of the mass.
std::vector<double> discrete_points(const Ref& r) {
  std::vector<double> ks;
  double best = -kInf;
  for (double k = std::max(r.lo, 0.0); k <= r.hi && k < 20000; k += 1) {
    const double l = r.logpdf(k);
    best = std::max(best, l);
    ks.push_back(k);
    if (l < best && l < -45) break;
  }
  return ks;
}

// Variates spread over the support, deep tails included.
std::vector<double> grid(const Spec& s, const Ref& r) {
  std::vector<double> ys;
  if (discrete(s)) {
    std::vector<double> all = discrete_points(r);
    const size_t step = std::max<size_t>(1, all.size() / 60);
    for (size_t i = 0; i < all.size(); i += step) ys.push_back(all[i]);
    return ys;
  }
  for (double p : {1e-10, 1e-4, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6}) {
    const double y = r.quantile(p);
    if (y > r.lo && y < r.hi && std::isfinite(y)) ys.push_back(y);
  }
  return ys;
}

double median(const Spec& s, const Ref& r) {
  if (discrete(s)) {
    double acc = 0;
    for (double k : discrete_points(r)) {
      acc += std::exp(r.logpdf(k));
      if (acc >= 0.5) return k;
    }
  }
  return r.quantile(0.5);
}

// ∫ f over the support, split at `mid` so each piece has at most one infinite end.
template <class F>
double integrate(F f, double lo, double hi, double mid) {
  using namespace boost::math::quadrature;
  tanh_sinh<double> ts;
  exp_sinh<double> es;
  auto piece = [&](double a, double b) {
    if (std::isfinite(a) && std::isfinite(b)) return ts.integrate(f, a, b);
    return es.integrate(f, a, b);
  };
  return piece(lo, mid) + piece(mid, hi);
}

// Mean, variance and fourth central moment of the reference distribution.
struct Moments {
  double mean, var, mu4;
};
Moments moments(const Spec& s, const Ref& r) {
  auto E = [&](auto g) {
    if (discrete(s)) {
      double acc = 0;
      for (double k : discrete_points(r)) acc += g(k) * std::exp(r.logpdf(k));
      return acc;
    }
    return integrate(
        [&](double y) {
          const double l = r.logpdf(y);  // the reference may give NaN at a boundary it never reaches
          return !std::isfinite(l) || std::exp(l) == 0 ? 0.0 : g(y) * std::exp(l);
        },
                     r.lo, r.hi, r.quantile(0.5));
  };
  Moments m{};
  m.mean = E([](double y) { return y; });
  m.var = E([&](double y) { return (y - m.mean) * (y - m.mean); });
  m.mu4 = E([&](double y) { const double d = (y - m.mean) * (y - m.mean); return d * d; });
  return m;
}

class DistTest : public ::testing::TestWithParam<Spec> {
 protected:
  void SetUp() override {
    d_ = find_dist(GetParam().name);
    ASSERT_NE(d_, nullptr) << GetParam().name << " is not registered";
    ASSERT_EQ(d_->arg_names.size(), GetParam().params[0].size() + 1);
  }
  unsigned all_params() const {
    unsigned m = 0;
    for (size_t k = 0; k < d_->arg_names.size(); ++k)
      if (!is_fixed(GetParam(), int(k))) m |= 1u << k;
    return m;
  }
  const DistInfo* d_ = nullptr;
};

TEST_P(DistTest, MatchesReference) {
  const Spec& s = GetParam();
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    const std::vector<double> ys = grid(s, r);
    ASSERT_GE(ys.size(), 2u);
    for (double y : ys) {
      const double want = r.logpdf(y);
      if (!std::isfinite(want)) continue;  // the reference underflowed
      const double got = eval(*d_, scalar_args(y, p), false, 0);
      EXPECT_LE(rel_err(got, want), s.value_tol) << s.name << " at y=" << y << " p0=" << (p.empty() ? 0 : p[0])
                                                 << ": " << got << " vs " << want;
    }
  }
}

TEST_P(DistTest, OutsideSupportIsMinusInfinity) {
  const Spec& s = GetParam();
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    std::vector<double> out;
    if (std::isfinite(r.lo)) out.push_back(r.lo - 0.5);
    if (std::isfinite(r.hi)) out.push_back(r.hi + 0.5);
    if (discrete(s)) out.push_back(median(s, r) + 0.5);
    for (double y : out) {
      Vals g;
      const double lp = eval(*d_, scalar_args(y, p), false, all_params(), &g);
      EXPECT_EQ(lp, -kInf) << s.name << " at y=" << y;
      for (const auto& gk : g)
        for (double x : gk) EXPECT_EQ(x, 0.0) << "gradient touched outside the support";
    }
  }
}

TEST_P(DistTest, Normalised) {
  const Spec& s = GetParam();
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    double total;
    if (discrete(s)) {
      total = 0;
      for (double k : discrete_points(r)) total += std::exp(eval(*d_, scalar_args(k, p), false, 0));
      EXPECT_NEAR(total, 1.0, 1e-10) << s.name;
    } else {
      auto f = [&](double y) {
        const double l = eval(*d_, scalar_args(y, p), false, 0);
        return l == -kInf ? 0.0 : std::exp(l);
      };
      total = integrate(f, r.lo, r.hi, r.quantile(0.5));
      EXPECT_NEAR(total, 1.0, 1e-7) << s.name << " p0=" << (p.empty() ? 0 : p[0]);
    }
  }
}

// full - propto must not change when only the arguments that are parameters change.
TEST_P(DistTest, ProptoDiffersByAConstant) {
  const Spec& s = GetParam();
  const unsigned all = all_params();
  const Ref r = s.ref(s.params[0]);
  const Vals base = scalar_args(median(s, r), s.params[0]);
  EXPECT_EQ(eval(*d_, base, true, 0), 0.0) << "propto with no parameters keeps nothing";
  for (unsigned mask = 1; mask <= all; ++mask) {
    if ((mask & all) != mask) continue;
    const double c0 = eval(*d_, base, false, mask) - eval(*d_, base, true, mask);
    for (double f : {1.01, 0.97}) {
      Vals v = base;
      for (size_t k = 0; k < v.size(); ++k)
        if ((mask >> k) & 1u) v[k][0] = v[k][0] == 0 ? 0.01 * (f - 1) : v[k][0] * f;
      const double full = eval(*d_, v, false, mask);
      if (!std::isfinite(full)) continue;
      const double c1 = full - eval(*d_, v, true, mask);
      EXPECT_NEAR(c1, c0, 1e-9 * std::max(1.0, std::fabs(c0))) << s.name << " mask " << mask;
    }
  }
}

// Fourth-order central differences of the full density in argument k, element i.
double fd(const DistInfo& d, Vals v, size_t k, size_t i) {
  const double x0 = v[k][i], h = 1e-5 * std::max(std::fabs(x0), 1e-2);
  auto f = [&](double dx) { v[k][i] = x0 + dx; return eval(d, v, false, 0); };
  return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
}

void check_grads(const Spec& s, const DistInfo& d, const Vals& v, unsigned mask) {
  Vals g;
  const double lp = eval(d, v, false, mask, &g);
  ASSERT_TRUE(std::isfinite(lp)) << s.name;
  for (size_t k = 0; k < v.size(); ++k) {
    if (!((mask >> k) & 1u)) continue;
    for (size_t i = 0; i < v[k].size(); ++i) {
      const double want = fd(d, v, k, i);
      EXPECT_LE(rel_err(g[k][i], want), 1e-6)
          << s.name << " d/d" << d.arg_names[k] << "[" << i << "]: " << g[k][i] << " vs " << want;
    }
  }
}

TEST_P(DistTest, GradientMatchesFiniteDifferences) {
  const Spec& s = GetParam();
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    for (double q : {0.2, 0.5, 0.8}) {
      const double y = discrete(s) ? median(s, r) + (q < 0.5 ? -1 : q > 0.5 ? 1 : 0) : r.quantile(q);
      if (y < r.lo || y > r.hi) continue;
      check_grads(s, *d_, scalar_args(y, p), all_params());
    }
  }
}

// log cdf and log ccdf against Boost (complement for the upper tail), with FD gradients in
// every argument and the float kernels, where the family provides them.
class CdfTest : public DistTest {};
TEST_P(CdfTest, MatchesReferenceAndGradients) {
  const Spec& s = GetParam();
  ASSERT_TRUE(d_->lcdf_f64 && d_->lccdf_f64 && d_->lcdf_f32 && d_->lccdf_f32);
  for (int which : {1, 2}) {
    g_which = which;
    for (const auto& p : s.params) {
      const Ref r = s.ref(p);
      for (double y : grid(s, r)) {
        const double want = std::log(which == 1 ? r.cdf(y) : r.ccdf(y));
        if (!std::isfinite(want)) continue;
        const double got = eval(*d_, scalar_args(y, p), false, 0);
        EXPECT_LE(rel_err(got, want), 1e-9) << s.name << (which == 1 ? " lcdf" : " lccdf") << " at " << y;
      }
      // 0.97, not 0.99: the fourth-order FD step must stay well inside (0, 1) for beta(1/2, 1/2).
      // A count at the edge of its support has log ccdf -inf there (nothing to differentiate).
      for (double q : {0.01, 0.3, 0.7, 0.97}) {
        const Vals v = scalar_args(r.quantile(q), p);
        if (std::isfinite(eval(*d_, v, false, 0))) check_grads(s, *d_, v, all_params());
      }
      Vals v = scalar_args(0, p);
      v[0] = {r.quantile(0.2), r.quantile(0.6), r.quantile(0.9)};
      if (!std::isfinite(eval(*d_, v, false, 0))) continue;  // a count at its support's edge
      check_grads(s, *d_, v, all_params());
      Vals gd, gf;
      std::vector<Arg<float>> af(v.size());
      std::vector<std::vector<float>> vf(v.size()), gfl(v.size());
      for (size_t k = 0; k < v.size(); ++k) {
        vf[k].assign(v[k].begin(), v[k].end());
        gfl[k].assign(v[k].size(), 0.0f);
        af[k].val = vf[k].data();
        af[k].size = vf[k].size();
        af[k].is_param = true;
        af[k].grad = gfl[k].data();
      }
      for (auto& a : v)
        for (double& x : a) x = double(float(x));
      const double ld = eval(*d_, v, false, all_params(), &gd);
      const double lf = which == 1 ? d_->lcdf_f32(af.data(), false) : d_->lccdf_f32(af.data(), false);
      EXPECT_LE(rel_err(lf, ld), 1e-12) << s.name;
      for (size_t k = 0; k < v.size(); ++k)
        for (size_t i = 0; i < v[k].size(); ++i) EXPECT_LE(rel_err(gfl[k][i], gd[k][i]), 1e-5) << s.name;
    }
  }
  g_which = 0;
}

// A vector variate with scalar parameters, and every argument a vector: the value is the
// sum of the scalar values, a broadcast scalar's gradient the sum of the elements'.
TEST_P(DistTest, Broadcasting) {
  const Spec& s = GetParam();
  const auto& p = s.params[0];
  const Ref r = s.ref(p);
  std::vector<double> ys;
  if (!discrete(s))
    for (double q : {0.25, 0.5, 0.75}) ys.push_back(r.quantile(q));
  else ys = {median(s, r), std::min(r.hi, median(s, r) + 1), std::max(r.lo, median(s, r) - 1)};
  double sum = 0;
  for (double y : ys) sum += eval(*d_, scalar_args(y, p), false, 0);
  Vals v = scalar_args(0, p);
  v[0] = ys;
  EXPECT_NEAR(eval(*d_, v, false, 0), sum, 1e-12 * std::max(1.0, std::fabs(sum)));
  check_grads(s, *d_, v, all_params());
  Vals w = v;
  for (size_t k = 1; k < w.size(); ++k) w[k].assign(ys.size(), p[k - 1]);
  EXPECT_NEAR(eval(*d_, w, false, 0), sum, 1e-12 * std::max(1.0, std::fabs(sum)));
  check_grads(s, *d_, w, all_params());
  // One argument a vector, the others broadcast scalars (each mixed shape of a fast path).
  for (size_t k = 1; k < v.size(); ++k) {
    Vals m = v;
    m[k].assign(ys.size(), p[k - 1]);
    EXPECT_NEAR(eval(*d_, m, false, 0), sum, 1e-12 * std::max(1.0, std::fabs(sum))) << "vector arg " << k;
    check_grads(s, *d_, m, all_params());
  }
  Vals gv, gw;
  eval(*d_, v, false, all_params(), &gv);
  eval(*d_, w, false, all_params(), &gw);
  for (size_t k = 1; k < v.size(); ++k) {
    if (is_fixed(s, int(k))) continue;
    double acc = 0;
    for (double x : gw[k]) acc += x;
    EXPECT_NEAR(gv[k][0], acc, 1e-12 * std::max(1.0, std::fabs(acc)));
  }
  // The float kernel on the vector shapes (normal's fast path among them).
  {
    Vals vf = v;
    for (auto& a : vf)
      for (double& x : a) x = double(float(x));
    Vals gd, gf;
    const double ld = eval(*d_, vf, false, all_params(), &gd);
    const double lf = eval_f32(*d_, vf, false, all_params(), &gf);
    EXPECT_LE(rel_err(lf, ld), 1e-12) << s.name;
    for (size_t k = 0; k < vf.size(); ++k)
      for (size_t i = 0; i < gd[k].size(); ++i) EXPECT_LE(rel_err(gf[k][i], gd[k][i]), 1e-5) << s.name << " arg " << k;
  }
  // Mismatched lengths are rejected, not read out of bounds.
  if (v.size() > 1) {
    Vals bad = w;
    bad[1].push_back(p[0]);
    EXPECT_EQ(eval(*d_, bad, false, 0), -kInf);
  }
}

// normal's vectorised paths find a non-finite y or mu from the sum of squares (no separate
// validity pass): every shape rejects them, in full and propto modes, with and without
// parameters.
TEST(NormalVectorPath, NonFiniteElementsAreRejected) {
  const DistInfo& d = *find_dist("normal");
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (bool propto : {false, true})
    for (unsigned param : {0u, 2u, 6u})
      for (double badv : {nan, inf, -inf}) {
        SCOPED_TRACE(::testing::Message() << "propto " << propto << " param " << param << " bad " << badv);
        EXPECT_EQ(eval(d, {{0.1, badv, 0.3}, {0.0}, {1.0}}, propto, param), -kInf);
        EXPECT_EQ(eval(d, {{0.1, 0.2, 0.3}, {0.0, badv, 0.0}, {1.0}}, propto, param), -kInf);
        EXPECT_EQ(eval(d, {{0.1, 0.2, 0.3}, {0.0, badv, 0.0}, {1.0, 2.0, 0.5}}, propto, param), -kInf);
        EXPECT_EQ(eval(d, {{badv, 0.2, 0.3}, {0.0}, {1.0, 2.0, 0.5}}, propto, param), -kInf);
      }
  EXPECT_EQ(eval(d, {{0.1, 0.2, 0.3}, {0.0}, {1.0, -2.0, 0.5}}, false, 6), -kInf);
  EXPECT_TRUE(std::isfinite(eval(d, {{0.1, 0.2, 0.3}, {0.0, 1.0, 0.0}, {1.0, 2.0, 0.5}}, true, 6)));
}

// The float kernel reads float inputs and returns float partials; it computes each element
// in double, so on float-representable inputs it agrees to float rounding of the partials.
TEST_P(DistTest, FloatKernelAgrees) {
  const Spec& s = GetParam();
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    for (double y : grid(s, r)) {
      Vals v = scalar_args(y, p);
      for (auto& a : v)
        for (double& x : a) x = double(float(x));
      if (v[0][0] <= r.lo || v[0][0] >= r.hi) continue;
      Vals gd, gf;
      const double ld = eval(*d_, v, false, all_params(), &gd);
      const double lf = eval_f32(*d_, v, false, all_params(), &gf);
      if (!std::isfinite(ld)) continue;
      EXPECT_LE(rel_err(lf, ld), 1e-12) << s.name;
      for (size_t k = 0; k < v.size(); ++k)
        if (!gd[k].empty()) EXPECT_LE(std::fabs(gf[k][0] - gd[k][0]), 2e-7 * std::fabs(gd[k][0]) + 1e-30) << s.name;
    }
  }
}

TEST_P(DistTest, RandomDrawsHaveTheExactMoments) {
  const Spec& s = GetParam();
  constexpr size_t n = 20000;
  uint64_t seed = 1;
  for (const auto& p : s.params) {
    const Ref r = s.ref(p);
    std::vector<Arg<double>> a(p.size() + 1);
    a[0].size = n;
    for (size_t k = 0; k < p.size(); ++k) a[k + 1].val = &p[k];
    std::vector<double> x(n);
    Rng rng(seed++, 7);
    d_->rng(a.data(), rng, x.data());
    for (double xi : x) {
      ASSERT_TRUE(xi >= r.lo && xi <= r.hi) << s.name << " drew " << xi;
      if (discrete(s)) ASSERT_EQ(xi, std::floor(xi));
    }
    double m = 0;
    for (double xi : x) m += xi;
    m /= n;
    double v = 0;
    for (double xi : x) v += (xi - m) * (xi - m);
    v /= (n - 1);
    if (r.finite_moments >= 2) {
      const Moments e = moments(s, r);
      EXPECT_LE(std::fabs(m - e.mean), 5 * std::sqrt(e.var / n)) << s.name << " mean " << m << " vs " << e.mean;
      if (r.finite_moments >= 4) {
        // The exact sampling variance of the unbiased sample variance.
        const double se = std::sqrt((e.mu4 - e.var * e.var * (n - 3.0) / (n - 1.0)) / n);
        EXPECT_LE(std::fabs(v - e.var), 5 * se) << s.name << " variance " << v << " vs " << e.var;
      }
    }
    if (!discrete(s)) {  // heavy tails too: the fraction below each quartile
      for (double q : {0.25, 0.5, 0.75}) {
        const double c = r.quantile(q);
        const double frac = double(std::count_if(x.begin(), x.end(), [&](double xi) { return xi <= c; })) / n;
        EXPECT_LE(std::fabs(frac - q), 5 * std::sqrt(q * (1 - q) / n)) << s.name << " quantile " << q;
      }
    }
    // Vector-shaped parameters draw the same stream as broadcast scalars.
    std::vector<std::vector<double>> pv(p.size());
    std::vector<Arg<double>> b(p.size() + 1);
    b[0].size = 50;
    for (size_t k = 0; k < p.size(); ++k) {
      pv[k].assign(50, p[k]);
      b[k + 1].val = pv[k].data();
      b[k + 1].size = 50;
    }
    std::vector<double> x1(50), x2(50);
    Rng r1(99, 1), r2(99, 1);
    a[0].size = 50;
    d_->rng(a.data(), r1, x1.data());
    d_->rng(b.data(), r2, x2.data());
    EXPECT_EQ(x1, x2);
  }
}

TEST_P(DistTest, ValidationNamesTheArgument) {
  const Spec& s = GetParam();
  const Ref r = s.ref(s.params[0]);
  const Vals good = scalar_args(median(s, r), s.params[0]);
  std::vector<Arg<double>> a(good.size());
  for (size_t k = 0; k < good.size(); ++k) a[k].val = good[k].data();
  EXPECT_EQ(d_->validate(a.data()), "") << s.name;
  for (const Invalid& inv : s.invalid) {
    Vals v;
    for (double x : inv.args) v.push_back({x});
    ASSERT_EQ(v.size(), good.size());
    std::vector<Arg<double>> b(v.size());
    for (size_t k = 0; k < v.size(); ++k) b[k].val = v[k].data();
    const std::string msg = d_->validate(b.data());
    EXPECT_EQ(msg.rfind(inv.culprit + " must", 0), 0u) << s.name << ": '" << msg << "' should name " << inv.culprit;
    EXPECT_NE(msg.find("at index 1"), std::string::npos) << msg;  // 1-based, as Stan
    EXPECT_EQ(eval(*d_, v, false, 0), -kInf) << s.name << ": " << msg;
  }
  // The index of the offending element, and a length mismatch, are reported.
  Vals v = good;
  if (!s.invalid.empty()) {
    const Invalid& inv = s.invalid[0];
    size_t k = 0;
    while (d_->arg_names[k] != inv.culprit) ++k;
    v[k] = {good[k][0], good[k][0], inv.args[k]};
    std::vector<Arg<double>> b(v.size());
    for (size_t j = 0; j < v.size(); ++j) {
      b[j].val = v[j].data();
      b[j].size = v[j].size();
    }
    const std::string msg = d_->validate(b.data());
    EXPECT_NE(msg.find("at index 3"), std::string::npos) << msg;  // the third element
  }
  if (good.size() > 1) {
    Vals w = good;
    w[0] = {good[0][0], good[0][0]};
    w[1] = {good[1][0], good[1][0], good[1][0]};
    std::vector<Arg<double>> b(w.size());
    for (size_t j = 0; j < w.size(); ++j) {
      b[j].val = w[j].data();
      b[j].size = w[j].size();
    }
    const std::string msg = d_->validate(b.data());
    EXPECT_NE(msg.find(std::string(d_->arg_names[1])), std::string::npos) << msg;
    EXPECT_NE(msg.find("length"), std::string::npos) << msg;
  }
}

std::vector<Spec> all_specs() {
  std::vector<Spec> v = continuous_specs();
  for (Spec& s : discrete_specs()) v.push_back(std::move(s));
  return v;
}

INSTANTIATE_TEST_SUITE_P(Dists, DistTest, ::testing::ValuesIn(all_specs()),
                         [](const ::testing::TestParamInfo<Spec>& i) { return i.param.name; });

// The families that provide log cdfs.
std::vector<Spec> cdf_specs() {
  std::vector<Spec> v;
  for (Spec& s : all_specs())
    if (const DistInfo* d = find_dist(s.name); d && d->lcdf_f64) v.push_back(std::move(s));
  return v;
}
INSTANTIATE_TEST_SUITE_P(Dists, CdfTest, ::testing::ValuesIn(cdf_specs()),
                         [](const ::testing::TestParamInfo<Spec>& i) { return i.param.name; });

// ---- Families that do not broadcast elementwise: categorical, ordinal, multivariate. ----

struct VInvalid {
  Vals args;
  std::string culprit;
  bool minus_inf = true;  // false where the density is defined anyway (it symmetrises Sigma)
};
struct VSpec {
  std::string name;
  std::vector<Vals> cases;                   // valid argument sets; cases[0] and [1] share shapes
  std::vector<size_t> rows;                  // rows per argument (0: a vector)
  std::function<double(const Vals&)> ref;    // independent full log density
  std::vector<int> fixed;                    // arguments without a gradient (integer variates)
  std::vector<int> simplex;                  // arguments that live on a simplex
  std::vector<VInvalid> invalid;
  // Total probability (sum or integral of exp(lpdf)) at a case, given the density.
  std::function<double(const Vals&, const std::function<double(const Vals&)>&)> total;
  // Exact mean and variance of each component of the variate at a case.
  std::function<std::vector<std::pair<double, double>>(const Vals&)> moments;
  std::vector<int> no_fd;  // arguments on a manifold that raw finite differences leave
  std::function<std::vector<size_t>(const Vals&)> dims;  // rows per argument, when not the MVN layout
  bool fixed_diagonal = false;  // a correlation matrix: FD skips the (constrained) unit diagonal
};

double inv_logit(double x) { return 1 / (1 + std::exp(-x)); }

std::vector<VSpec> vector_specs() {
  namespace bm = boost::math;
  std::vector<VSpec> s;
  auto cat_total = [](size_t K) {
    return [K](const Vals& c, const std::function<double(const Vals&)>& f) {
      double t = 0;
      Vals v = c;
      for (size_t k = 1; k <= K; ++k) {
        v[0] = {double(k)};
        t += std::exp(f(v));
      }
      return t;
    };
  };
  // Moments of a single categorical-like draw from its probabilities.
  auto cat_moments = [](std::vector<double> p) {
    double m = 0, m2 = 0;
    for (size_t k = 0; k < p.size(); ++k) {
      m += (k + 1) * p[k];
      m2 += (k + 1.0) * (k + 1.0) * p[k];
    }
    return std::vector<std::pair<double, double>>{{m, m2 - m * m}};
  };
  s.push_back({"categorical",
               {{{2, 1, 3, 3}, {0.2, 0.5, 0.3}}, {{2, 1, 3, 3}, {0.6, 0.1, 0.3}}, {{1}, {0.25, 0.25, 0.25, 0.25}}},
               {},
               [](const Vals& v) { double l = 0; for (double y : v[0]) l += std::log(v[1][size_t(y) - 1]); return l; },
               {0},
               {1},
               {{{{4}, {0.2, 0.5, 0.3}}, "y"}, {{{1}, {0.2, 0.5, 0.4}}, "theta"}, {{{1}, {-0.2, 0.9, 0.3}}, "theta"}},
               cat_total(3),
               [=](const Vals& v) { return cat_moments(v[1]); }});
  s.back().cases.pop_back();
  auto softmax = [](const std::vector<double>& b) {
    std::vector<double> p(b.size());
    double z = 0;
    for (size_t k = 0; k < b.size(); ++k) z += (p[k] = std::exp(b[k]));
    for (double& x : p) x /= z;
    return p;
  };
  s.push_back({"categorical_logit",
               {{{2, 1, 3, 3}, {0.2, -1.5, 0.3}}, {{2, 1, 3, 3}, {2, 0.1, -0.3}}},
               {},
               [=](const Vals& v) { double l = 0; auto p = softmax(v[1]); for (double y : v[0]) l += std::log(p[size_t(y) - 1]); return l; },
               {0},
               {},
               {{{{0}, {0.2, 0.5, 0.3}}, "y"}, {{{1}, {0.2, kInf, 0.4}}, "beta"}},
               cat_total(3),
               [=](const Vals& v) { return cat_moments(softmax(v[1])); }});
  auto ord_probs = [](double eta, const std::vector<double>& c, auto F) {
    std::vector<double> p(c.size() + 1);
    for (size_t k = 0; k <= c.size(); ++k) {
      const double hi = k == 0 ? 1.0 : F(eta - c[k - 1]);
      const double lo = k == c.size() ? 0.0 : F(eta - c[k]);
      p[k] = hi - lo;
    }
    return p;
  };
  auto logistic_F = [](double x) { return inv_logit(x); };
  auto probit_F = [](double x) { return bm::cdf(bm::normal(), x); };
  for (int link = 0; link < 2; ++link) {
    auto probs = [=](double eta, const std::vector<double>& c) {
      return link == 0 ? ord_probs(eta, c, logistic_F) : ord_probs(eta, c, probit_F);
    };
    s.push_back({link == 0 ? "ordered_logistic" : "ordered_probit",
                 {{{1, 3, 2, 4, 4}, {0.4}, {-1, 0.5, 2}},
                  {{1, 3, 2, 4, 4}, {-0.7}, {-1.5, 0.2, 1}},
                  {{1, 2, 3}, {0.3, -1, 2.5}, {-0.5, 0.7}},
                  {{3}, {4}, {-1, 0.5}}},
                 {},
                 [=](const Vals& v) {
                   double l = 0;
                   for (size_t i = 0; i < v[0].size(); ++i)
                     l += std::log(probs(v[1][v[1].size() == 1 ? 0 : i], v[2])[size_t(v[0][i]) - 1]);
                   return l;
                 },
                 {0},
                 {},
                 {{{{5}, {0.4}, {-1, 0.5, 2}}, "y"}, {{{1}, {0.4}, {-1, 2, 0.5}}, "c"}, {{{1}, {kNaN}, {-1, 0.5, 2}}, "eta"}},
                 [](const Vals& c, const std::function<double(const Vals&)>& f) {
                   double t = 0;
                   Vals v = c;
                   v[1] = {c[1][0]};
                   for (size_t k = 1; k <= c[2].size() + 1; ++k) {
                     v[0] = {double(k)};
                     t += std::exp(f(v));
                   }
                   return t;
                 },
                 [=](const Vals& v) { return cat_moments(probs(v[1][0], v[2])); }});
  }
  s.push_back({"multinomial",
               {{{3, 0, 5}, {0.2, 0.5, 0.3}}, {{3, 0, 5}, {0.5, 0.1, 0.4}}, {{10, 4}, {0.7, 0.3}}},
               {},
               [](const Vals& v) {
                 double N = 0, l = 0;
                 for (size_t k = 0; k < v[0].size(); ++k) {
                   N += v[0][k];
                   l += v[0][k] * std::log(v[1][k]) - bm::lgamma(v[0][k] + 1);
                 }
                 return l + bm::lgamma(N + 1);
               },
               {0},
               {1},
               {{{{1.5, 0, 1}, {0.2, 0.5, 0.3}}, "y"}, {{{1, 0, 1}, {0.2, 0.5, 0.4}}, "theta"}},
               [](const Vals& c, const std::function<double(const Vals&)>& f) {
                 double N = 0;
                 for (double y : c[0]) N += y;
                 double t = 0;
                 Vals v = c;
                 if (c[0].size() == 2) {
                   for (double a = 0; a <= N; ++a) { v[0] = {a, N - a}; t += std::exp(f(v)); }
                 } else {
                   for (double a = 0; a <= N; ++a)
                     for (double b = 0; a + b <= N; ++b) { v[0] = {a, b, N - a - b}; t += std::exp(f(v)); }
                 }
                 return t;
               },
               [](const Vals& v) {
                 double N = 0;
                 for (double y : v[0]) N += y;
                 std::vector<std::pair<double, double>> m;
                 for (double p : v[1]) m.push_back({N * p, N * p * (1 - p)});
                 return m;
               }});
  s.push_back({"dirichlet",
               {{{0.2, 0.5, 0.3}, {2, 3, 4}}, {{0.6, 0.1, 0.3}, {0.5, 1, 7}}, {{0.35, 0.65}, {2.5, 1.5}}},
               {},
               [](const Vals& v) {
                 double a0 = 0, l = 0;
                 for (size_t k = 0; k < v[0].size(); ++k) {
                   a0 += v[1][k];
                   l += (v[1][k] - 1) * std::log(v[0][k]) - std::log(bm::tgamma(v[1][k]));
                 }
                 return l + std::log(bm::tgamma(a0));
               },
               {},
               {0},
               {{{{0.2, 0.5, 0.3}, {2, 0, 4}}, "alpha"}, {{{0.2, 0.5, 0.4}, {2, 3, 4}}, "theta"}},
               [](const Vals& c, const std::function<double(const Vals&)>& f) {
                 Vals v = c;
                 auto g = [&](double t1, double t2) {
                   v[0] = c[0].size() == 2 ? std::vector<double>{t1, 1 - t1} : std::vector<double>{t1, t2, 1 - t1 - t2};
                   const double l = f(v);
                   return std::isfinite(l) ? std::exp(l) : 0.0;
                 };
                 boost::math::quadrature::tanh_sinh<double> ts;
                 if (c[0].size() == 2) return ts.integrate([&](double t) { return g(t, 0); }, 0.0, 1.0);
                 return ts.integrate([&](double t1) {
                   boost::math::quadrature::tanh_sinh<double> inner;
                   return inner.integrate([&](double t2) { return g(t1, t2); }, 0.0, 1.0 - t1);
                 }, 0.0, 1.0);
               },
               [](const Vals& v) {
                 double a0 = 0;
                 for (double a : v[1]) a0 += a;
                 std::vector<std::pair<double, double>> m;
                 for (double a : v[1]) m.push_back({a / a0, a * (a0 - a) / (a0 * a0 * (a0 + 1))});
                 return m;
               }});
  // Multivariate normals: y is K x N, one observation per column.
  auto mvn_ref = [](const Vals& v, const Eigen::MatrixXd& S) {
    const size_t K = size_t(S.rows()), N = v[0].size() / K;
    const Eigen::MatrixXd Si = S.inverse();
    double l = -0.5 * double(N) * std::log((2 * M_PI * S).determinant());
    for (size_t j = 0; j < N; ++j) {
      Eigen::VectorXd r(K);
      for (size_t i = 0; i < K; ++i) r[i] = v[0][j * K + i] - v[1][v[1].size() == K ? i : j * K + i];
      l -= 0.5 * r.dot(Si * r);
    }
    return l;
  };
  auto mvn_total = [](const Vals& c, const std::function<double(const Vals&)>& f) {
    // K = 2 only: the integral over the plane of one observation, as nested exp_sinh pieces.
    if (c[0].size() != 2) return kNaN;
    Vals v = c;
    v[0] = {0, 0};
    auto g = [&](double a, double b) {
      v[0] = {a, b};
      return std::exp(f(v));
    };
    auto line = [&](double a) {
      boost::math::quadrature::exp_sinh<double> es;
      return es.integrate([&](double b) { return g(a, b); }, -kInf, c[1][1]) +
             es.integrate([&](double b) { return g(a, b); }, c[1][1], kInf);
    };
    boost::math::quadrature::exp_sinh<double> es;
    return es.integrate(line, -kInf, c[1][0]) + es.integrate(line, c[1][0], kInf);
  };
  auto mvn_moments = [](const Vals& v, const Eigen::MatrixXd& S) {
    std::vector<std::pair<double, double>> m;
    for (Eigen::Index i = 0; i < S.rows(); ++i) m.push_back({v[1][size_t(i)], S(i, i)});
    return m;
  };
  auto chol_cov = [](const Vals& v) {
    const Eigen::Index K = Eigen::Index(std::lround(std::sqrt(double(v[2].size()))));
    Eigen::MatrixXd L = Eigen::Map<const Eigen::MatrixXd>(v[2].data(), K, K).triangularView<Eigen::Lower>();
    return Eigen::MatrixXd(L * L.transpose());
  };
  auto full_cov = [](const Vals& v) {
    const Eigen::Index K = Eigen::Index(std::lround(std::sqrt(double(v[2].size()))));
    return Eigen::MatrixXd(Eigen::Map<const Eigen::MatrixXd>(v[2].data(), K, K));
  };
  s.push_back({"multi_normal_cholesky",
               {{{0.3, -1.2}, {0.1, -0.4}, {1.2, 0.5, 0, 0.8}},
                {{0.3, -1.2}, {-0.5, 0.7}, {0.6, -0.3, 0, 1.5}},
                {{0.3, -1.2, 1, 2, 0.5, 0.5, -1, 0, 0}, {0.1, 0.2, -0.3}, {1.1, 0.3, -0.2, 0, 0.9, 0.4, 0, 0, 0.7}}},
               {0, 0, 0},
               [=](const Vals& v) { return mvn_ref(v, chol_cov(v)); },
               {},
               {},
               {{{{0, 0}, {0, 0}, {-1, 0.5, 0, 1}}, "L"}, {{{0, kNaN}, {0, 0}, {1, 0.5, 0, 1}}, "y"}},
               mvn_total,
               [=](const Vals& v) { return mvn_moments(v, chol_cov(v)); }});
  s.push_back({"multi_normal",
               {{{0.3, -1.2}, {0.1, -0.4}, {1.44, 0.6, 0.6, 0.89}},
                {{0.3, -1.2}, {-0.5, 0.7}, {0.36, -0.18, -0.18, 2.34}},
                {{0.3, -1.2, 1, 2, 0.5, 0.5, -1, 0, 0}, {0.1, 0.2, -0.3}, {2, 0.3, -0.2, 0.3, 1, 0.4, -0.2, 0.4, 1.5}}},
               {0, 0, 0},
               [=](const Vals& v) { return mvn_ref(v, full_cov(v)); },
               {},
               {},
               {{{{0, 0}, {0, 0}, {1, 2, 2, 1}}, "Sigma"}, {{{0, 0}, {0, 0}, {1, 0.5, 0.2, 1}}, "Sigma", false}},
               mvn_total,
               [=](const Vals& v) { return mvn_moments(v, full_cov(v)); }});
  // Time series: the reference is the sum of the transitions' Boost normal log densities.
  auto nlp = [](double y, double m, double sd) { return std::log(bm::pdf(bm::normal(m, sd), y)); };
  // Series of length 2: the integral over the plane, split at the means.
  auto plane_total = [](std::function<std::pair<double, double>(const Vals&)> centre) {
    return [centre](const Vals& c, const std::function<double(const Vals&)>& f) {
      if (c[0].size() != 2) return kNaN;
      const auto [m0, m1] = centre(c);
      Vals v = c;
      auto line = [&](double a) {
        auto g = [&](double b) { v[0] = {a, b}; return std::exp(f(v)); };
        boost::math::quadrature::exp_sinh<double> es;
        return es.integrate(g, -kInf, m1) + es.integrate(g, m1, kInf);
      };
      boost::math::quadrature::exp_sinh<double> es;
      return es.integrate(line, -kInf, m0) + es.integrate(line, m0, kInf);
    };
  };
  auto at = [](const std::vector<double>& x, size_t i) { return x[x.size() == 1 ? 0 : i]; };
  s.push_back({"gaussian_random_walk",
               {{{0.3, 1.1, 0.4, 2.0}, {0.5}, {0.7}, {0.1}, {2.0}},
                {{0.3, 1.1, 0.4, 2.0}, {-0.2}, {1.5}, {-1.0}, {0.5}},
                {{0.3, 1.1, 0.4, 2.0}, {0.5, -1, 0.2}, {0.7, 2, 0.3}, {0.1}, {2.0}},
                {{0.5, -0.4}, {0.3}, {0.8}, {0.2}, {1.5}}},
               {},
               [=](const Vals& v) {
                 double l = nlp(v[0][0], v[3][0], v[4][0]);
                 for (size_t t = 1; t < v[0].size(); ++t) l += nlp(v[0][t], v[0][t - 1] + at(v[1], t - 1), at(v[2], t - 1));
                 return l;
               },
               {},
               {},
               {{{{0, 1, 2}, {0.5}, {-0.7}, {0}, {1}}, "sigma"}, {{{0, 1, 2}, {0.5}, {0.7}, {0}, {0}}, "init_sigma"},
                {{{0, kNaN, 2}, {0.5}, {0.7}, {0}, {1}}, "y"}},
               plane_total([=](const Vals& c) { return std::make_pair(c[3][0], c[3][0] + c[1][0]); }),
               [=](const Vals& v) {
                 std::vector<std::pair<double, double>> m;
                 double mean = v[3][0], var = v[4][0] * v[4][0];
                 m.push_back({mean, var});
                 for (size_t t = 1; t < v[0].size(); ++t) {
                   mean += at(v[1], t - 1);
                   var += at(v[2], t - 1) * at(v[2], t - 1);
                   m.push_back({mean, var});
                 }
                 return m;
               }});
  s.push_back({"ar1",
               {{{0.3, 1.1, 0.4, 2.0}, {0.5}, {0.8}, {0.7}, {0.1}, {2.0}},
                {{0.3, 1.1, 0.4, 2.0}, {-0.2}, {-0.5}, {1.5}, {-1.0}, {0.5}},
                {{0.5, -0.4}, {0.3}, {1.2}, {0.8}, {0.2}, {1.5}}},
               {},
               [=](const Vals& v) {
                 double l = nlp(v[0][0], v[4][0], v[5][0]);
                 for (size_t t = 1; t < v[0].size(); ++t) l += nlp(v[0][t], v[1][0] + v[2][0] * v[0][t - 1], v[3][0]);
                 return l;
               },
               {},
               {},
               {{{{0, 1, 2}, {0.5}, {0.5}, {-0.7}, {0}, {1}}, "sigma"}, {{{0, 1, 2}, {0.5}, {kInf}, {0.7}, {0}, {1}}, "rho"}},
               plane_total([=](const Vals& c) { return std::make_pair(c[4][0], c[1][0] + c[2][0] * c[4][0]); }),
               [=](const Vals& v) {
                 std::vector<std::pair<double, double>> m;
                 double mean = v[4][0], var = v[5][0] * v[5][0];
                 m.push_back({mean, var});
                 for (size_t t = 1; t < v[0].size(); ++t) {
                   mean = v[1][0] + v[2][0] * mean;
                   var = v[3][0] * v[3][0] + v[2][0] * v[2][0] * var;
                   m.push_back({mean, var});
                 }
                 return m;
               }});
  auto mst_dims = [](const Vals& v) {
    const size_t K = size_t(std::lround(std::sqrt(double(v[3].size()))));
    return std::vector<size_t>{K, 0, 0, K};
  };
  s.push_back({"multi_student_t",
               {{{0.3, -1.2}, {5}, {0.1, -0.4}, {1.44, 0.6, 0.6, 0.89}},
                {{0.3, -1.2}, {9.5}, {-0.5, 0.7}, {0.36, -0.18, -0.18, 2.34}},
                {{0.3, -1.2, 1, 2, 0.5, 0.5, -1, 0, 0}, {7}, {0.1, 0.2, -0.3}, {2, 0.3, -0.2, 0.3, 1, 0.4, -0.2, 0.4, 1.5}}},
               {},
               [](const Vals& v) {
                 const Eigen::Index K = Eigen::Index(std::lround(std::sqrt(double(v[3].size()))));
                 const Eigen::MatrixXd S = Eigen::Map<const Eigen::MatrixXd>(v[3].data(), K, K);
                 const Eigen::MatrixXd Si = S.inverse();
                 const double nu = v[1][0], k = double(K);
                 const size_t N = v[0].size() / size_t(K);
                 double l = 0;
                 for (size_t j = 0; j < N; ++j) {
                   Eigen::VectorXd r(K);
                   for (Eigen::Index i = 0; i < K; ++i) r[i] = v[0][j * size_t(K) + size_t(i)] - v[2][size_t(i)];
                   l += bm::lgamma((nu + k) / 2) - bm::lgamma(nu / 2) - 0.5 * k * std::log(nu * M_PI) -
                        0.5 * std::log(S.determinant()) - 0.5 * (nu + k) * std::log(1 + r.dot(Si * r) / nu);
                 }
                 return l;
               },
               {},
               {},
               {{{{0, 0}, {-1}, {0, 0}, {1, 0, 0, 1}}, "nu"}, {{{0, 0}, {3}, {0, 0}, {1, 2, 2, 1}}, "Sigma"}},
               [](const Vals& c, const std::function<double(const Vals&)>& f) {
                 if (c[0].size() != 2) return kNaN;
                 Vals v = c;
                 auto line = [&](double a) {
                   auto g = [&](double b) { v[0] = {a, b}; return std::exp(f(v)); };
                   boost::math::quadrature::exp_sinh<double> es;
                   return es.integrate(g, -kInf, c[2][1]) + es.integrate(g, c[2][1], kInf);
                 };
                 boost::math::quadrature::exp_sinh<double> es;
                 return es.integrate(line, -kInf, c[2][0]) + es.integrate(line, c[2][0], kInf);
               },
               [](const Vals& v) {
                 const size_t K = size_t(std::lround(std::sqrt(double(v[3].size()))));
                 std::vector<std::pair<double, double>> m;
                 for (size_t i = 0; i < K; ++i) m.push_back({v[2][i], v[1][0] / (v[1][0] - 2) * v[3][i * K + i]});
                 return m;
               },
               {},
               mst_dims});
  auto sq = [](const std::vector<double>& x) { return size_t(std::lround(std::sqrt(double(x.size())))); };
  auto emat = [](const std::vector<double>& x, Eigen::Index K) { return Eigen::MatrixXd(Eigen::Map<const Eigen::MatrixXd>(x.data(), K, K)); };
  auto lmgam = [](double K, double x) {
    double l = 0.25 * K * (K - 1) * std::log(M_PI);
    for (int j = 1; j <= int(K); ++j) l += bm::lgamma(x + 0.5 * (1 - j));
    return l;
  };
  auto pos_line = [](const Vals& c, const std::function<double(const Vals&)>& f) {
    if (c[0].size() != 1) return kNaN;  // K = 1: a density on (0, inf)
    Vals v = c;
    boost::math::quadrature::exp_sinh<double> es;
    return es.integrate([&](double x) { v[0] = {x}; const double l = f(v); return std::isfinite(l) ? std::exp(l) : 0.0; }, 0.0, kInf);
  };
  s.push_back({"wishart",
               {{{2.0, 0.3, 0.3, 1.5}, {4.5}, {1.2, -0.2, -0.2, 0.8}},
                {{2.0, 0.3, 0.3, 1.5}, {3.0}, {0.5, 0.1, 0.1, 2.0}},
                {{1.7}, {2.5}, {0.6}},
                {{0.4}, {0.7}, {2.0}}},
               {},
               [=](const Vals& v) {
                 const Eigen::Index K = Eigen::Index(sq(v[0]));
                 const Eigen::MatrixXd W = emat(v[0], K), S = emat(v[2], K);
                 const double nu = v[1][0], k = double(K);
                 return 0.5 * (nu - k - 1) * std::log(W.determinant()) - 0.5 * (S.inverse() * W).trace() -
                        0.5 * nu * k * std::log(2.0) - 0.5 * nu * std::log(S.determinant()) - lmgam(k, 0.5 * nu);
               },
               {},
               {},
               {{{{2.0, 0.3, 0.3, 1.5}, {0.5}, {1.2, -0.2, -0.2, 0.8}}, "nu"}, {{{2.0, 0.3, 0.3, 1.5}, {4.5}, {1, 2, 2, 1}}, "S"}},
               pos_line,
               [=](const Vals& v) {
                 const size_t K = sq(v[0]);
                 const double nu = v[1][0];
                 std::vector<std::pair<double, double>> m;
                 for (size_t c = 0; c < K; ++c)
                   for (size_t r = 0; r < K; ++r) {
                     const double sij = v[2][c * K + r];
                     m.push_back({nu * sij, nu * (sij * sij + v[2][r * K + r] * v[2][c * K + c])});
                   }
                 return m;
               },
               {},
               [=](const Vals& v) { return std::vector<size_t>{sq(v[0]), 0, sq(v[0])}; }});
  s.push_back({"inv_wishart",
               {{{2.0, 0.3, 0.3, 1.5}, {8.5}, {1.2, -0.2, -0.2, 0.8}},
                {{2.0, 0.3, 0.3, 1.5}, {9.0}, {0.5, 0.1, 0.1, 2.0}},
                {{1.7}, {6.5}, {0.6}},
                {{0.4}, {0.7}, {2.0}}},
               {},
               [=](const Vals& v) {
                 const Eigen::Index K = Eigen::Index(sq(v[0]));
                 const Eigen::MatrixXd W = emat(v[0], K), S = emat(v[2], K);
                 const double nu = v[1][0], k = double(K);
                 return 0.5 * nu * std::log(S.determinant()) - 0.5 * nu * k * std::log(2.0) - lmgam(k, 0.5 * nu) -
                        0.5 * (nu + k + 1) * std::log(W.determinant()) - 0.5 * (S * W.inverse()).trace();
               },
               {},
               {},
               {{{{2.0, 0.3, 0.3, 1.5}, {0.5}, {1.2, -0.2, -0.2, 0.8}}, "nu"}, {{{2.0, 0.3, 0.4, 1.5}, {4.5}, {1, 0, 0, 1}}, "W", false}},
               pos_line,
               [=](const Vals& v) {
                 const size_t K = sq(v[0]);
                 const double nu = v[1][0], p = double(K);
                 std::vector<std::pair<double, double>> m;
                 for (size_t c = 0; c < K; ++c)
                   for (size_t r = 0; r < K; ++r) {
                     const double sij = v[2][c * K + r], sii = v[2][r * K + r], sjj = v[2][c * K + c];
                     const double var = nu > p + 3 ? ((nu - p + 1) * sij * sij + (nu - p - 1) * sii * sjj) /
                                                         ((nu - p) * (nu - p - 1) * (nu - p - 1) * (nu - p - 3))
                                                   : kNaN;
                     m.push_back({sij / (nu - p - 1), var});
                   }
                 return m;
               },
               {},
               [=](const Vals& v) { return std::vector<size_t>{sq(v[0]), 0, sq(v[0])}; }});
  auto corr2 = [](double r) { return std::vector<double>{1, r, r, 1}; };
  const std::vector<double> C3 = {1, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1};
  s.push_back({"lkj_corr",
               {{C3, {2.0}}, {C3, {0.6}}, {corr2(0.5), {1.0}}, {corr2(-0.7), {3.5}}},
               {},
               [=](const Vals& v) {
                 const Eigen::Index K = Eigen::Index(sq(v[0]));
                 const double eta = v[1][0];
                 double logc = 0;
                 for (Eigen::Index k = 1; k < K; ++k) {
                   const double m = double(K - k), b = eta + 0.5 * (m - 1);
                   logc += (2 * eta - 2 + m) * m * std::log(2.0) + m * std::log(bm::beta(b, b));
                 }
                 return (eta - 1) * std::log(emat(v[0], K).determinant()) - logc;
               },
               {},
               {},
               {{{{1, 0.3, 0.3, 1.1}, {2.0}}, "Omega"}, {{corr2(0.5), {0.0}}, "eta"}, {{corr2(1.5), {1.0}}, "Omega"}},
               [=](const Vals& c, const std::function<double(const Vals&)>& f) {
                 if (c[0].size() != 4) return kNaN;
                 Vals v = c;
                 boost::math::quadrature::tanh_sinh<double> ts;
                 return ts.integrate([&](double r) { v[0] = corr2(r); const double l = f(v); return std::isfinite(l) ? std::exp(l) : 0.0; }, -1.0, 1.0);
               },
               [=](const Vals& v) {
                 const size_t K = sq(v[0]);
                 std::vector<std::pair<double, double>> m;
                 for (size_t c = 0; c < K; ++c)
                   for (size_t r = 0; r < K; ++r) m.push_back(r == c ? std::make_pair(1.0, 0.0) : std::make_pair(0.0, 1.0 / (2 * v[1][0] + double(K) - 1)));
                 return m;
               },
               {},
               [=](const Vals& v) { return std::vector<size_t>{sq(v[0]), 0}; },
               true});
  s.push_back({"normal_mixture",
               {{{0.3, -1.2, 2.5, 0.1}, {0.3, 0.7}, {-1, 2}, {0.5, 1.5}},
                {{0.3, -1.2, 2.5, 0.1}, {0.6, 0.4}, {0.5, -0.3}, {2, 0.7}},
                {{1.1}, {0.2, 0.5, 0.3}, {-3, 0, 4}, {1, 0.3, 2}},
                {{-8}, {0.5, 0.5}, {0, 1}, {1, 1}}},
               {},
               [](const Vals& v) {
                 double l = 0;
                 for (double y : v[0]) {
                   double p = 0;
                   for (size_t j = 0; j < v[1].size(); ++j) p += v[1][j] * bm::pdf(bm::normal(v[2][j], v[3][j]), y);
                   l += std::log(p);
                 }
                 return l;
               },
               {},
               {1},
               {{{{0}, {0.3, 0.6}, {0, 1}, {1, 1}}, "w"}, {{{0}, {0.5, 0.5}, {0, 1}, {1, -1}}, "sigma"}},
               [](const Vals& c, const std::function<double(const Vals&)>& f) {
                 if (c[0].size() != 1) return kNaN;
                 Vals v = c;
                 auto g = [&](double y) { v[0] = {y}; return std::exp(f(v)); };
                 boost::math::quadrature::exp_sinh<double> es;
                 return es.integrate(g, -kInf, 0.0) + es.integrate(g, 0.0, kInf);
               },
               [](const Vals& v) {
                 double m = 0, m2 = 0;
                 for (size_t j = 0; j < v[1].size(); ++j) {
                   m += v[1][j] * v[2][j];
                   m2 += v[1][j] * (v[3][j] * v[3][j] + v[2][j] * v[2][j]);
                 }
                 return std::vector<std::pair<double, double>>{{m, m2 - m * m}};
               }});
  // LKJ: L is K x K column-major; the variate is the factor of a correlation matrix.
  auto lkj_L2 = [](double r) { return std::vector<double>{1, r, 0, std::sqrt(1 - r * r)}; };
  auto lkj_L3 = [](double x, double a, double b) {
    return std::vector<double>{1, x, a, 0, std::sqrt(1 - x * x), b, 0, 0, std::sqrt(1 - a * a - b * b)};
  };
  const std::vector<double> L3a = {1, 0.3, -0.5, 0, std::sqrt(1 - 0.09), 0.2, 0, 0, std::sqrt(1 - 0.25 - 0.04)};
  s.push_back({"lkj_corr_cholesky",
               {{L3a, {2.0}}, {L3a, {0.7}}, {lkj_L2(0.4), {1.0}}, {lkj_L2(-0.8), {3.5}}, {L3a, {1.0}}},
               {},
               [](const Vals& v) {
                 const Eigen::Index K = Eigen::Index(std::lround(std::sqrt(double(v[0].size()))));
                 const Eigen::MatrixXd L = Eigen::Map<const Eigen::MatrixXd>(v[0].data(), K, K);
                 const Eigen::MatrixXd O = L * L.transpose();
                 const double eta = v[1][0];
                 // log c from Beta functions (LKJ eq. 16), the Jacobian of Omega = L L^T.
                 double logc = 0, jac = 0;
                 for (Eigen::Index k = 1; k < K; ++k) {
                   const double m = double(K - k), b = eta + 0.5 * (m - 1);
                   logc += (2 * eta - 2 + m) * m * std::log(2.0) + m * std::log(bm::beta(b, b));
                 }
                 for (Eigen::Index i = 0; i < K; ++i) jac += double(K - 1 - i) * std::log(L(i, i));
                 return (eta - 1) * std::log(O.determinant()) + jac - logc;
               },
               {},
               {},
               {{{{1, 0.3, 0, 0.9}, {2.0}}, "L"}, {{lkj_L2(0.4), {-1.0}}, "eta"}},
               [=](const Vals& c, const std::function<double(const Vals&)>& f) {
                 boost::math::quadrature::tanh_sinh<double> ts;
                 Vals v = c;
                 if (c[0].size() == 4)
                   return ts.integrate([&](double r) { v[0] = lkj_L2(r); const double l = f(v); return std::isfinite(l) ? std::exp(l) : 0.0; }, -1.0, 1.0);
                 // K = 3: the density depends on row 3 only through its radius, so the angle
                 // integrates to 2 pi (polar coordinates in the (L31, L32) disk).
                 return ts.integrate([&](double x) {
                   boost::math::quadrature::tanh_sinh<double> inner;
                   return inner.integrate([&](double rho) {
                     v[0] = lkj_L3(x, rho, 0.0);
                     const double l = f(v);
                     return std::isfinite(l) ? 2 * M_PI * rho * std::exp(l) : 0.0;
                   }, 0.0, 1.0);
                 }, -1.0, 1.0);
               },
               [](const Vals& v) {
                 // Off-diagonal correlations are marginally 2 Beta(b, b) - 1, b = eta - 1 + K / 2;
                 // L's first column holds them, other entries have no closed form here.
                 const size_t K = size_t(std::lround(std::sqrt(double(v[0].size()))));
                 std::vector<std::pair<double, double>> m(K * K, {0.0, kNaN});
                 m[0] = {1.0, 0.0};
                 for (size_t j = 1; j < K; ++j) m[j] = {0.0, 1.0 / (2 * v[1][0] + double(K) - 1)};
                 return m;
               },
               {0},
               [](const Vals& v) { return std::vector<size_t>{size_t(std::lround(std::sqrt(double(v[0].size())))), 0}; }});
  return s;
}

// L's partials along curves that keep each row a unit vector: rotate row i in the plane of
// its entries (i, c) and (i, i).
TEST(LkjCorrCholesky, GradientAlongTheManifold) {
  const DistInfo* d = find_dist("lkj_corr_cholesky");
  ASSERT_NE(d, nullptr);
  const std::vector<size_t> rows = {3, 0};
  g_rows = &rows;
  const std::vector<double> L = {1, 0.3, -0.5, 0, std::sqrt(1 - 0.09), 0.2, 0, 0, std::sqrt(1 - 0.25 - 0.04)};
  for (double eta : {0.7, 2.0}) {
    Vals v = {L, {eta}}, g;
    ASSERT_TRUE(std::isfinite(eval(*d, v, false, 3u, &g)));
    for (auto [i, c] : std::vector<std::pair<size_t, size_t>>{{1, 0}, {2, 0}, {2, 1}}) {
      const double a = L[c * 3 + i], b = L[i * 3 + i], rad = std::hypot(a, b), th = std::atan2(b, a);
      auto f = [&](double t) {
        Vals w = v;
        w[0][c * 3 + i] = rad * std::cos(th + t);
        w[0][i * 3 + i] = rad * std::sin(th + t);
        return eval(*d, w, false, 0);
      };
      const double h = 1e-5;
      const double want = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
      const double got = g[0][c * 3 + i] * (-rad * std::sin(th)) + g[0][i * 3 + i] * rad * std::cos(th);
      EXPECT_LE(rel_err(got, want), 1e-6) << "row " << i << " col " << c << " eta " << eta;
    }
  }
  g_rows = nullptr;
}

class VectorDistTest : public ::testing::TestWithParam<VSpec> {
 protected:
  void SetUp() override {
    d_ = find_dist(GetParam().name);
    ASSERT_NE(d_, nullptr) << GetParam().name << " is not registered";
    ASSERT_EQ(d_->arg_names.size(), GetParam().cases[0].size());
    rows_ = GetParam().rows;
    g_rows = &rows_;
    // Matrix arguments are square K x K: their rows follow from the size.
    for (size_t k = 0; k < rows_.size(); ++k) rows_[k] = 0;
  }
  void shape_for(const Vals& v) {
    const VSpec& s = GetParam();
    if (s.dims) {
      rows_ = s.dims(v);
      return;
    }
    if (s.rows.empty()) return;
    const size_t K = size_t(std::lround(std::sqrt(double(v.back().size()))));
    rows_ = {K, 0, K};  // y is K x N, mu a vector, the matrix K x K
  }
  void TearDown() override { g_rows = nullptr; }
  unsigned params() const {
    unsigned m = 0;
    for (size_t k = 0; k < d_->arg_names.size(); ++k)
      if (std::find(GetParam().fixed.begin(), GetParam().fixed.end(), int(k)) == GetParam().fixed.end()) m |= 1u << k;
    return m;
  }
  bool on_simplex(int k) const {
    return std::find(GetParam().simplex.begin(), GetParam().simplex.end(), k) != GetParam().simplex.end();
  }
  const DistInfo* d_ = nullptr;
  std::vector<size_t> rows_;
};

TEST_P(VectorDistTest, MatchesReferenceAndNormalises) {
  const VSpec& s = GetParam();
  for (const Vals& c : s.cases) {
    shape_for(c);
    const double got = eval(*d_, c, false, 0), want = s.ref(c);
    EXPECT_LE(rel_err(got, want), 1e-10) << s.name << ": " << got << " vs " << want;
    const double t = s.total(c, [&](const Vals& v) { return eval(*d_, v, false, 0); });
    if (!std::isnan(t)) EXPECT_NEAR(t, 1.0, 1e-7) << s.name;  // NaN: no quadrature for this shape
  }
}

TEST_P(VectorDistTest, ProptoDiffersByAConstant) {
  const VSpec& s = GetParam();
  const Vals& A = s.cases[0];
  const Vals& B = s.cases[1];
  shape_for(A);
  EXPECT_EQ(eval(*d_, A, true, 0), 0.0);
  const unsigned all = params();
  for (unsigned mask = 1; mask <= all; ++mask) {
    if ((mask & all) != mask) continue;
    Vals C = A;
    for (size_t k = 0; k < A.size(); ++k)
      if ((mask >> k) & 1u) C[k] = B[k];
    const double c0 = eval(*d_, A, false, mask) - eval(*d_, A, true, mask);
    const double c1 = eval(*d_, C, false, mask) - eval(*d_, C, true, mask);
    EXPECT_NEAR(c1, c0, 1e-9 * std::max(1.0, std::fabs(c0))) << s.name << " mask " << mask;
  }
}

TEST_P(VectorDistTest, GradientMatchesFiniteDifferences) {
  const VSpec& s = GetParam();
  for (const Vals& c : s.cases) {
    shape_for(c);
    Vals g;
    ASSERT_TRUE(std::isfinite(eval(*d_, c, false, params(), &g)));
    for (size_t k = 0; k < c.size(); ++k) {
      if (!((params() >> k) & 1u)) continue;
      if (std::find(s.no_fd.begin(), s.no_fd.end(), int(k)) != s.no_fd.end()) continue;
      if (on_simplex(int(k))) {
        // Directional derivatives along e_i - e_j keep the argument on the simplex.
        for (size_t i = 0; i < c[k].size(); ++i)
          for (size_t j = 0; j < c[k].size(); ++j) {
            if (i == j) continue;
            Vals v = c;
            const double h = 1e-6;
            auto f = [&](double t) { v[k][i] = c[k][i] + t; v[k][j] = c[k][j] - t; return eval(*d_, v, false, 0); };
            const double want = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
            EXPECT_LE(rel_err(g[k][i] - g[k][j], want), 1e-6) << s.name << " " << d_->arg_names[k] << " " << i << "," << j;
          }
        continue;
      }
      for (size_t i = 0; i < c[k].size(); ++i) {
        if (s.fixed_diagonal && k == 0) {
          const size_t K = size_t(std::lround(std::sqrt(double(c[0].size()))));
          if (i % (K + 1) == 0) continue;
        }
        const double want = fd(*d_, c, k, i);
        EXPECT_LE(rel_err(g[k][i], want), 1e-6) << s.name << " d/d" << d_->arg_names[k] << "[" << i << "]: " << g[k][i]
                                                << " vs " << want;
      }
    }
    // The float kernel agrees up to float rounding of its inputs and partials.
    Vals cf = c, gd, gf;
    for (auto& a : cf)
      for (double& x : a) x = double(float(x));
    const double ld = eval(*d_, cf, false, params(), &gd);
    const double lf = eval_f32(*d_, cf, false, params(), &gf);
    if (std::isfinite(ld)) {
      EXPECT_LE(rel_err(lf, ld), 1e-5) << s.name;
      for (size_t k = 0; k < c.size(); ++k)
        for (size_t i = 0; i < gd[k].size(); ++i) EXPECT_LE(rel_err(gf[k][i], gd[k][i]), 1e-5) << s.name;
    }
  }
}

TEST_P(VectorDistTest, RandomDrawsHaveTheExactMeans) {
  const VSpec& s = GetParam();
  constexpr size_t n = 20000;
  for (const Vals& c : s.cases) {
    shape_for(c);
    const auto m = s.moments(c);
    std::vector<Arg<double>> a(c.size());
    for (size_t k = 0; k < c.size(); ++k) {
      a[k].val = c[k].data();
      set_shape(a[k], k, c[k].size());
    }
    const size_t dim = m.size();
    // One draw of the variate's own shape at a time; categorical-like ones take a single y.
    Vals one = c;
    if (dim == 1)
      for (size_t k = 1; k < c.size(); ++k)
        if (c[0].size() > 1 && c[k].size() == c[0].size()) one[k] = {c[k][0]};
    if (dim == 1) one[0] = {c[0][0]};
    for (size_t k = 1; k < c.size(); ++k) a[k].val = one[k].data(), set_shape(a[k], k, one[k].size());
    a[0].val = one[0].data();
    set_shape(a[0], 0, one[0].size());
    std::vector<double> sum(dim, 0.0), out(one[0].size());
    Rng rng(42, 3);
    for (size_t t = 0; t < n; ++t) {
      d_->rng(a.data(), rng, out.data());
      for (size_t i = 0; i < dim; ++i) sum[i] += out[i];
      Vals chk = one;
      chk[0] = out;
      if (t < 50) EXPECT_TRUE(std::isfinite(eval(*d_, chk, false, 0))) << s.name << " drew outside the support";
    }
    for (size_t i = 0; i < dim; ++i)
      if (!std::isnan(m[i].second))  // NaN: no closed-form moments for this component
      EXPECT_LE(std::fabs(sum[i] / n - m[i].first), 5 * std::sqrt(m[i].second / n)) << s.name << " component " << i;
  }
}

TEST_P(VectorDistTest, ValidationNamesTheArgument) {
  const VSpec& s = GetParam();
  shape_for(s.cases[0]);
  auto validate = [&](const Vals& v) {
    std::vector<Arg<double>> a(v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      a[k].val = v[k].data();
      set_shape(a[k], k, v[k].size());
    }
    return d_->validate(a.data());
  };
  EXPECT_EQ(validate(s.cases[0]), "") << s.name;
  for (const VInvalid& inv : s.invalid) {
    shape_for(inv.args);
    const std::string msg = validate(inv.args);
    EXPECT_EQ(msg.rfind(inv.culprit + " must", 0), 0u) << s.name << ": '" << msg << "' should name " << inv.culprit;
    if (inv.minus_inf) EXPECT_EQ(eval(*d_, inv.args, false, 0), -kInf) << s.name << ": " << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(Dists, VectorDistTest, ::testing::ValuesIn(vector_specs()),
                         [](const ::testing::TestParamInfo<VSpec>& i) { return i.param.name; });

TEST(Registry, EveryDistributionIsComplete) {
  EXPECT_EQ(find_dist("no_such_thing"), nullptr);
  std::vector<std::string> tested;
  for (const Spec& s : all_specs()) tested.push_back(s.name);
  for (const VSpec& s : vector_specs()) tested.push_back(s.name);
  for (const DistInfo* d : all_dists()) {
    EXPECT_EQ(find_dist(d->name), d);
    EXPECT_TRUE(d->lpdf_f64 && d->lpdf_f32 && d->rng && d->validate) << d->name;
    EXPECT_FALSE(d->arg_names.empty()) << d->name;
    EXPECT_NE(std::find(tested.begin(), tested.end(), std::string(d->name)), tested.end())
          << d->name << " has no test table";
  }
}

}  // namespace
}  // namespace exmc::dist::testing
