// The generic driver: expands every distribution's table (specs_*.cc) into value, support,
// normalisation, propto, gradient, broadcasting, float, random-draw and validation tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/quadrature/exp_sinh.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"
#include "spec.hpp"

namespace exmc::dist::testing {
namespace {

using Vals = std::vector<std::vector<double>>;  // one vector per argument

// Evaluates the density; grads (if given) are resized and zeroed, filled for every arg in
// `param` (bit k: argument k is a parameter and wants its gradient).
double eval(const DistInfo& d, const Vals& v, bool propto, unsigned param, Vals* grads = nullptr) {
  std::vector<Arg<double>> a(v.size());
  if (grads) {
    grads->assign(v.size(), {});
    for (size_t k = 0; k < v.size(); ++k) (*grads)[k].assign(v[k].size(), 0.0);
  }
  for (size_t k = 0; k < v.size(); ++k) {
    a[k].val = v[k].data();
    a[k].size = v[k].size();
    a[k].is_param = (param >> k) & 1u;
    if (grads && a[k].is_param) a[k].grad = (*grads)[k].data();
  }
  return d.lpdf_f64(a.data(), propto);
}

double eval_f32(const DistInfo& d, const Vals& v, bool propto, unsigned param, Vals* grads) {
  std::vector<std::vector<float>> vf(v.size()), gf(v.size());
  std::vector<Arg<float>> a(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    vf[k].assign(v[k].begin(), v[k].end());
    gf[k].assign(v[k].size(), 0.0f);
    a[k].val = vf[k].data();
    a[k].size = vf[k].size();
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
  Vals gv, gw;
  eval(*d_, v, false, all_params(), &gv);
  eval(*d_, w, false, all_params(), &gw);
  for (size_t k = 1; k < v.size(); ++k) {
    if (is_fixed(s, int(k))) continue;
    double acc = 0;
    for (double x : gw[k]) acc += x;
    EXPECT_NEAR(gv[k][0], acc, 1e-12 * std::max(1.0, std::fabs(acc)));
  }
  // Mismatched lengths are rejected, not read out of bounds.
  if (v.size() > 1) {
    Vals bad = w;
    bad[1].push_back(p[0]);
    EXPECT_EQ(eval(*d_, bad, false, 0), -kInf);
  }
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
    EXPECT_NE(msg.find("index 0"), std::string::npos) << msg;
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
    EXPECT_NE(msg.find("index 2"), std::string::npos) << msg;
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

TEST(Registry, EveryDistributionIsComplete) {
  EXPECT_EQ(find_dist("no_such_thing"), nullptr);
  std::vector<std::string> tested;
  for (const Spec& s : all_specs()) tested.push_back(s.name);
  for (const DistInfo* d : all_dists()) {
    EXPECT_EQ(find_dist(d->name), d);
    EXPECT_TRUE(d->lpdf_f64 && d->lpdf_f32 && d->rng && d->validate) << d->name;
    EXPECT_FALSE(d->arg_names.empty()) << d->name;
    if (!d->multivariate)
      EXPECT_NE(std::find(tested.begin(), tested.end(), std::string(d->name)), tested.end())
          << d->name << " has no test table";
  }
}

}  // namespace
}  // namespace exmc::dist::testing
