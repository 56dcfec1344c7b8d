// Test tables of the continuous univariate distributions: parameter sets, Boost or
// closed-form references, invalid inputs.
#include "spec.hpp"

#include <boost/math/quadrature/exp_sinh.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/bessel.hpp>
#include <boost/math/special_functions/binomial.hpp>

namespace exmc::dist::testing {

namespace bm = boost::math;
constexpr double kPi = 3.14159265358979323846;

namespace {

// The cdf by quadrature of an independent log density and the quantile by bisection, for
// families Boost lacks.
Ref numeric_ref(std::function<double(double)> logpdf, double lo, double hi, double mid) {
  Ref r;
  r.logpdf = logpdf;
  r.lo = lo;
  r.hi = hi;
  r.cdf = [=](double y) {
    if (y <= lo) return 0.0;
    if (y >= hi) return 1.0;
    auto f = [&](double t) { const double l = logpdf(t); return l == -kInf ? 0.0 : std::exp(l); };
    if (std::isfinite(lo)) return boost::math::quadrature::tanh_sinh<double>().integrate(f, lo, y);
    return boost::math::quadrature::exp_sinh<double>().integrate(f, -kInf, y);
  };
  auto cdf = r.cdf;
  r.quantile = [=](double p) {
    double a = mid, b = mid, w = 1;
    while (a > lo && cdf(a) > p) { a = std::max(lo, a - w); w *= 2; }
    w = 1;
    while (b < hi && cdf(b) < p) { b = std::min(hi, b + w); w *= 2; }
    for (int i = 0; i < 200 && b - a > 1e-14 * std::max(1.0, std::fabs(a)); ++i) {
      const double m = 0.5 * (a + b);
      (cdf(m) < p ? a : b) = m;
    }
    return 0.5 * (a + b);
  };
  return r;
}

// Exponentially modified normal as the convolution integral itself.
double emg_logpdf(double y, double mu, double sigma, double lambda) {
  bm::normal n(mu, sigma);
  auto f = [&](double t) { return bm::pdf(n, y - t) * lambda * std::exp(-lambda * t); };
  return std::log(boost::math::quadrature::exp_sinh<double>().integrate(f, 0.0, kInf));
}

}  // namespace

std::vector<Spec> continuous_specs() {
  std::vector<Spec> s;
  s.push_back({"normal",
               {{0, 1}, {-3.5, 0.2}, {10, 25}},
               [](const std::vector<double>& p) { return boost_ref(bm::normal(p[0], p[1]), -kInf, kInf); },
               {},
               {{{0, 0, -1}, "sigma"}, {{0, 0, 0}, "sigma"}, {{kNaN, 0, 1}, "y"}, {{0, kInf, 1}, "mu"}}});
  s.push_back({"std_normal",
               {{}},
               [](const std::vector<double>&) { return boost_ref(bm::normal(0, 1), -kInf, kInf); },
               {},
               {{{kInf}, "y"}}});
  s.push_back({"cauchy",
               {{0, 1}, {2, 0.3}, {-5, 40}},
               [](const std::vector<double>& p) {
                 Ref r = boost_ref(bm::cauchy(p[0], p[1]), -kInf, kInf);
                 r.finite_moments = 0;
                 return r;
               },
               {},
               {{{0, 0, -2}, "sigma"}}});
  s.push_back({"student_t",
               {{3, 0, 1}, {0.7, 1.5, 2}, {30, -2, 0.5}, {5.5, 0, 3}},
               [](const std::vector<double>& p) {
                 Ref r = loc_scale(boost_ref(bm::students_t(p[0]), -kInf, kInf), p[1], p[2]);
                 r.finite_moments = int(std::ceil(p[0])) - 1;
                 return r;
               },
               {},
               {{{0, -1, 0, 1}, "nu"}, {{0, 3, 0, 0}, "sigma"}}});
  s.push_back({"exponential",
               {{1}, {0.05}, {7}},
               [](const std::vector<double>& p) { return boost_ref(bm::exponential(p[0]), 0, kInf); },
               {},
               {{{-1, 1}, "y"}, {{1, 0}, "beta"}}});
  s.push_back({"gamma",
               {{2, 1}, {0.5, 3}, {40, 0.2}, {1, 1}},
               [](const std::vector<double>& p) { return boost_ref(bm::gamma_distribution<>(p[0], 1 / p[1]), 0, kInf); },
               {},
               {{{0, 1, 1}, "y"}, {{1, -1, 1}, "alpha"}, {{1, 1, 0}, "beta"}}});
  s.push_back({"inv_gamma",
               {{3, 1}, {5.5, 2}, {0.8, 0.5}},
               [](const std::vector<double>& p) {
                 Ref r = boost_ref(bm::inverse_gamma_distribution<>(p[0], p[1]), 0, kInf);
                 r.finite_moments = int(std::ceil(p[0])) - 1;
                 return r;
               },
               {},
               {{{-1, 1, 1}, "y"}, {{1, 0, 1}, "alpha"}}});
  s.push_back({"lognormal",
               {{0, 1}, {1.5, 0.3}, {-2, 0.6}},
               [](const std::vector<double>& p) { return boost_ref(bm::lognormal(p[0], p[1]), 0, kInf); },
               {},
               {{{-1, 0, 1}, "y"}, {{1, 0, -1}, "sigma"}}});
  s.push_back({"beta",
               {{2, 3}, {0.5, 0.5}, {30, 4}, {1, 1}},
               [](const std::vector<double>& p) { return boost_ref(bm::beta_distribution<>(p[0], p[1]), 0, 1); },
               {},
               {{{1.5, 1, 1}, "y"}, {{0.5, 0, 1}, "alpha"}, {{0.5, 1, -1}, "beta"}}});
  s.push_back({"uniform",
               {{0, 1}, {-3, 5}},
               [](const std::vector<double>& p) { return boost_ref(bm::uniform(p[0], p[1]), p[0], p[1]); },
               {},
               {{{2, 0, 1}, "y"}, {{0.5, 1, 0}, "y"}}});
  s.push_back({"half_normal",
               {{1}, {0.1}, {12}},
               [](const std::vector<double>& p) {
                 Ref r = folded(boost_ref(bm::normal(0, p[0]), -kInf, kInf));
                 // 2 F(y) - 1 cancels for small y; erf does not.
                 r.cdf = [s = p[0]](double y) { return bm::erf(y / (s * std::sqrt(2.0))); };
                 return r;
               },
               {},
               {{{-1, 1}, "y"}, {{1, -1}, "sigma"}}});
  s.push_back({"half_cauchy",
               {{1}, {2.5}},
               [](const std::vector<double>& p) {
                 Ref r = folded(boost_ref(bm::cauchy(0, p[0]), -kInf, kInf));
                 r.cdf = [s = p[0]](double y) { return 2 / M_PI * std::atan(y / s); };
                 r.ccdf = [s = p[0]](double y) { return 2 / M_PI * std::atan(s / y); };
                 r.finite_moments = 0;
                 return r;
               },
               {},
               {{{-1, 1}, "y"}, {{1, 0}, "sigma"}}});
  s.push_back({"half_student_t",
               {{3, 1}, {7, 2.5}, {1.2, 0.5}},
               [](const std::vector<double>& p) {
                 Ref r = folded(loc_scale(boost_ref(bm::students_t(p[0]), -kInf, kInf), 0, p[1]));
                 // P(|T| < t) by quadrature of the density: no cancellation near 0.
                 r.cdf = [r](double y) {
                   boost::math::quadrature::tanh_sinh<double> ts;
                   return ts.integrate([&](double u) { return std::exp(r.logpdf(u)); }, 0.0, y);
                 };
                 r.finite_moments = int(std::ceil(p[0])) - 1;
                 return r;
               },
               {},
               {{{-1, 3, 1}, "y"}, {{1, 0, 1}, "nu"}, {{1, 3, -1}, "sigma"}}});
  s.push_back({"double_exponential",
               {{0, 1}, {2, 0.3}, {-4, 6}},
               [](const std::vector<double>& p) { return boost_ref(bm::laplace(p[0], p[1]), -kInf, kInf); },
               {},
               {{{0, 0, -1}, "sigma"}}});
  s.push_back({"logistic",
               {{0, 1}, {2, 0.3}, {-4, 6}},
               [](const std::vector<double>& p) { return boost_ref(bm::logistic(p[0], p[1]), -kInf, kInf); },
               {},
               {{{0, 0, 0}, "sigma"}}});
  s.push_back({"weibull",
               {{1.5, 2}, {0.7, 0.5}, {5, 10}},
               [](const std::vector<double>& p) { return boost_ref(bm::weibull(p[0], p[1]), 0, kInf); },
               {},
               {{{-1, 1, 1}, "y"}, {{1, 0, 1}, "alpha"}, {{1, 1, -1}, "sigma"}}});
  s.push_back({"frechet",
               {{5, 2}, {9, 0.5}, {2.5, 3}},
               [](const std::vector<double>& p) {
                 const double a = p[0], sg = p[1];
                 Ref r;
                 r.logpdf = [=](double y) {
                   return std::log(a / sg) - (1 + a) * std::log(y / sg) - std::pow(y / sg, -a);
                 };
                 r.cdf = [=](double y) { return std::exp(-std::pow(y / sg, -a)); };
                 r.ccdf = [=](double y) { return -std::expm1(-std::pow(y / sg, -a)); };
                 r.quantile = [=](double q) { return sg * std::pow(-std::log(q), -1 / a); };
                 r.lo = 0;
                 r.finite_moments = int(std::ceil(a)) - 1;
                 return r;
               },
               {},
               {{{0, 1, 1}, "y"}, {{1, -1, 1}, "alpha"}}});
  s.push_back({"rayleigh",
               {{1}, {0.2}, {30}},
               [](const std::vector<double>& p) { return boost_ref(bm::rayleigh(p[0]), 0, kInf); },
               {},
               {{{-1, 1}, "y"}, {{1, 0}, "sigma"}}});
  s.push_back({"pareto",
               {{1, 5}, {0.5, 9}, {3, 2.5}},
               [](const std::vector<double>& p) {
                 Ref r = boost_ref(bm::pareto(p[0], p[1]), p[0], kInf);
                 r.finite_moments = int(std::ceil(p[1])) - 1;
                 return r;
               },
               {},
               {{{0.5, 1, 2}, "y"}, {{2, -1, 2}, "y_min"}, {{2, 1, 0}, "alpha"}}});
  s.push_back({"chi_square",
               {{3}, {0.8}, {40}},
               [](const std::vector<double>& p) { return boost_ref(bm::chi_squared(p[0]), 0, kInf); },
               {},
               {{{-1, 3}, "y"}, {{1, 0}, "nu"}}});
  s.push_back({"inv_chi_square",
               {{10}, {3}, {25}},
               [](const std::vector<double>& p) {
                 Ref r = boost_ref(bm::inverse_gamma_distribution<>(p[0] / 2, 0.5), 0, kInf);
                 r.finite_moments = int(std::ceil(p[0] / 2)) - 1;
                 return r;
               },
               {},
               {{{-1, 3}, "y"}, {{1, -3}, "nu"}}});
  s.push_back({"scaled_inv_chi_square",
               {{10, 1}, {3, 0.5}, {25, 4}},
               [](const std::vector<double>& p) {
                 Ref r = boost_ref(bm::inverse_gamma_distribution<>(p[0] / 2, p[0] * p[1] * p[1] / 2), 0, kInf);
                 r.finite_moments = int(std::ceil(p[0] / 2)) - 1;
                 return r;
               },
               {},
               {{{0, 3, 1}, "y"}, {{1, 0, 1}, "nu"}, {{1, 3, -1}, "s"}}});
  s.push_back({"skew_normal",
               {{0, 1, 0}, {1, 2, 4}, {-2, 0.5, -3}, {0, 1, 30}},
               [](const std::vector<double>& p) { return boost_ref(bm::skew_normal(p[0], p[1], p[2]), -kInf, kInf); },
               {},
               {{{0, 0, -1, 1}, "omega"}, {{0, 0, 1, kNaN}, "alpha"}}});
  s.push_back({"exp_mod_normal",
               {{0, 1, 1}, {2, 0.5, 3}, {-1, 2, 0.2}},
               [](const std::vector<double>& p) {
                 const double mu = p[0], sg = p[1], l = p[2];
                 Ref r = numeric_ref([=](double y) { return emg_logpdf(y, mu, sg, l); }, -kInf, kInf, mu + 1 / l);
                 // The closed-form cdf keeps the bisection quantile cheap.
                 r.cdf = [=](double y) {
                   const double u = (y - mu) / sg;
                   bm::normal z;
                   return bm::cdf(z, u) - std::exp(-l * (y - mu) + 0.5 * l * l * sg * sg) * bm::cdf(z, u - l * sg);
                 };
                 auto cdf = r.cdf;
                 r.quantile = [=](double q) {
                   double a = mu - 40 * sg, b = mu + 40 * sg + 60 / l;
                   for (int i = 0; i < 200 && b - a > 1e-13 * std::max(1.0, std::fabs(a)); ++i) {
                     const double m = 0.5 * (a + b);
                     (cdf(m) < q ? a : b) = m;
                   }
                   return 0.5 * (a + b);
                 };
                 return r;
               },
               {},
               {{{0, 0, -1, 1}, "sigma"}, {{0, 0, 1, 0}, "lambda"}}});
  s.back().value_tol = 1e-8;
  s.push_back({"gumbel",
               {{0, 1}, {3, 0.4}, {-10, 5}},
               [](const std::vector<double>& p) { return boost_ref(bm::extreme_value(p[0], p[1]), -kInf, kInf); },
               {},
               {{{0, 0, -1}, "beta"}}});
  s.push_back({"von_mises",
               {{0, 1}, {1, 4}, {-2, 0.3}, {0.5, 800}},
               [](const std::vector<double>& p) {
                 const double mu = p[0], k = p[1];
                 // The normaliser by quadrature (no Bessel function, so large kappa is fine).
                 const double norm = std::log(boost::math::quadrature::tanh_sinh<double>().integrate(
                     [=](double t) { return std::exp(k * (std::cos(t) - 1)); }, -kPi, kPi));
                 return numeric_ref(
                     [=](double y) {
                       if (y < -kPi || y > kPi) return -kInf;
                       return k * (std::cos(y - mu) - 1) - norm;
                     },
                     -kPi, kPi, mu);
               },
               {},
               {{{4, 0, 1}, "y"}, {{0, 0, -1}, "kappa"}}});
  return s;
}

}  // namespace exmc::dist::testing
