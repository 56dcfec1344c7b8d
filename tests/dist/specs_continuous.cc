// Test tables of the continuous univariate distributions: parameter sets, Boost or
// closed-form references, invalid inputs.
#include "spec.hpp"

namespace exmc::dist::testing {

namespace bm = boost::math;

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
               [](const std::vector<double>& p) { return folded(boost_ref(bm::normal(0, p[0]), -kInf, kInf)); },
               {},
               {{{-1, 1}, "y"}, {{1, -1}, "sigma"}}});
  s.push_back({"half_cauchy",
               {{1}, {2.5}},
               [](const std::vector<double>& p) {
                 Ref r = folded(boost_ref(bm::cauchy(0, p[0]), -kInf, kInf));
                 r.finite_moments = 0;
                 return r;
               },
               {},
               {{{-1, 1}, "y"}, {{1, 0}, "sigma"}}});
  s.push_back({"half_student_t",
               {{3, 1}, {7, 2.5}, {1.2, 0.5}},
               [](const std::vector<double>& p) {
                 Ref r = folded(loc_scale(boost_ref(bm::students_t(p[0]), -kInf, kInf), 0, p[1]));
                 r.finite_moments = int(std::ceil(p[0])) - 1;
                 return r;
               },
               {},
               {{{-1, 3, 1}, "y"}, {{1, 0, 1}, "nu"}, {{1, 3, -1}, "sigma"}}});
  return s;
}

}  // namespace exmc::dist::testing
