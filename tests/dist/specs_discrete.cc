// Test tables of the discrete univariate distributions: parameter sets, Boost or
// closed-form references, invalid inputs.
#include "spec.hpp"

#include <boost/math/special_functions/binomial.hpp>

namespace exmc::dist::testing {

namespace bm = boost::math;

namespace {
double inv_logit(double a) { return 1 / (1 + std::exp(-a)); }
Ref nb_ref(double r, double p) { return boost_ref(bm::negative_binomial(r, p), 0, kInf); }
}  // namespace

std::vector<Spec> discrete_specs() {
  std::vector<Spec> s;
  s.push_back({"bernoulli",
               {{0.3}, {0.95}, {0.5}},
               [](const std::vector<double>& p) { return boost_ref(bm::bernoulli(p[0]), 0, 1); },
               {0},
               {{{2, 0.5}, "n"}, {{1, 1.5}, "theta"}, {{0.5, 0.5}, "n"}}});
  s.push_back({"bernoulli_logit",
               {{0.3}, {-4}, {12}},
               [](const std::vector<double>& p) { return boost_ref(bm::bernoulli(inv_logit(p[0])), 0, 1); },
               {0},
               {{{-1, 0}, "n"}, {{1, kNaN}, "alpha"}}});
  s.push_back({"binomial",
               {{10, 0.3}, {200, 0.05}, {1000, 0.6}, {1, 0.5}},
               [](const std::vector<double>& p) { return boost_ref(bm::binomial(p[0], p[1]), 0, p[0]); },
               {0, 1},
               {{{11, 10, 0.5}, "n"}, {{1, 2.5, 0.5}, "N"}, {{1, 10, 1.5}, "theta"}, {{-1, 10, 0.5}, "n"}}});
  s.push_back({"binomial_logit",
               {{10, 0.3}, {300, -2}, {5, 3}},
               [](const std::vector<double>& p) { return boost_ref(bm::binomial(p[0], inv_logit(p[1])), 0, p[0]); },
               {0, 1},
               {{{11, 10, 0}, "n"}, {{1, -2, 0}, "N"}}});
  s.push_back({"poisson",
               {{3.5}, {0.2}, {150}, {12}},
               [](const std::vector<double>& p) { return boost_ref(bm::poisson(p[0]), 0, kInf); },
               {0},
               {{{1.5, 2}, "n"}, {{1, -2}, "lambda"}}});
  s.push_back({"poisson_log",
               {{1.2}, {-1.5}, {5}},
               [](const std::vector<double>& p) { return boost_ref(bm::poisson(std::exp(p[0])), 0, kInf); },
               {0},
               {{{-1, 2}, "n"}, {{1, kInf}, "alpha"}}});
  s.push_back({"neg_binomial",
               {{3, 0.5}, {0.7, 0.1}, {20, 2}},
               [](const std::vector<double>& p) { return nb_ref(p[0], p[1] / (1 + p[1])); },
               {0},
               {{{1, 0, 1}, "alpha"}, {{1, 1, -1}, "beta"}}});
  s.push_back({"neg_binomial_2",
               {{5, 2}, {0.5, 0.3}, {50, 100}, {3, 1e4}},
               [](const std::vector<double>& p) { return nb_ref(p[1], p[1] / (p[0] + p[1])); },
               {0},
               {{{1, -1, 1}, "mu"}, {{1, 1, 0}, "phi"}, {{2.5, 1, 1}, "n"}}});
  s.push_back({"neg_binomial_2_log",
               {{1.5, 2}, {-1, 0.3}, {4, 50}},
               [](const std::vector<double>& p) {
                 const double mu = std::exp(p[0]);
                 return nb_ref(p[1], p[1] / (mu + p[1]));
               },
               {0},
               {{{1, 0, -1}, "phi"}}});
  s.push_back({"beta_binomial",
               {{10, 2, 3}, {50, 0.5, 0.7}, {200, 30, 10}},
               [](const std::vector<double>& p) {
                 const double N = p[0], a = p[1], b = p[2];
                 Ref r;
                 r.logpdf = [=](double k) {
                   return std::log(bm::binomial_coefficient<double>(unsigned(N), unsigned(k))) +
                          std::log(bm::beta(k + a, N - k + b)) - std::log(bm::beta(a, b));
                 };
                 r.lo = 0;
                 r.hi = N;
                 return r;
               },
               {0, 1},
               {{{11, 10, 1, 1}, "n"}, {{1, 10, 0, 1}, "alpha"}, {{1, 10, 1, -1}, "beta"}}});
  return s;
}

}  // namespace exmc::dist::testing
