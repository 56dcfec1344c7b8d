// The declarative test table every distribution fills in, and helpers to build reference
// densities from Boost.Math; dist_test.cc expands each table into the generic checks.
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <boost/math/distributions.hpp>

namespace exmc::dist::testing {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The exact distribution at one parameter set.
struct Ref {
  std::function<double(double)> logpdf;    // log density / mass at y (closed form or Boost)
  std::function<double(double)> quantile;  // continuous only (discrete: optional)
  std::function<double(double)> cdf;       // continuous only
  std::function<double(double)> ccdf;      // 1 - cdf without cancellation (Boost's complement)
  double lo = -kInf, hi = kInf;            // support
  int finite_moments = 99;                 // highest finite moment order (mean: 1, variance: 2, ...)
};

struct Invalid {
  std::vector<double> args;  // all arguments, variate first
  std::string culprit;       // the argument the message must name
};

struct Spec {
  std::string name;
  std::vector<std::vector<double>> params;           // valid parameter sets (arguments 1..)
  std::function<Ref(const std::vector<double>&)> ref;
  std::vector<int> fixed;                            // integer arguments: no gradient, never parameters
  std::vector<Invalid> invalid;                      // data that validate() must reject, lpdf gives -inf
  double value_tol = 1e-9;                           // relative (floored at 1) vs the reference
};

// log(pdf) of a Boost distribution, with the quantile and cdf.
template <class D>
Ref boost_ref(const D& d, double lo, double hi) {
  Ref r;
  r.logpdf = [d](double y) { return std::log(boost::math::pdf(d, y)); };
  r.quantile = [d](double p) { return boost::math::quantile(d, p); };
  r.cdf = [d](double y) { return boost::math::cdf(d, y); };
  r.ccdf = [d](double y) { return boost::math::cdf(boost::math::complement(d, y)); };
  r.lo = lo;
  r.hi = hi;
  return r;
}

// y = mu + sigma * x with x ~ base.
inline Ref loc_scale(Ref b, double mu, double sigma) {
  Ref r = b;
  r.logpdf = [b, mu, sigma](double y) { return b.logpdf((y - mu) / sigma) - std::log(sigma); };
  r.quantile = [b, mu, sigma](double p) { return mu + sigma * b.quantile(p); };
  r.cdf = [b, mu, sigma](double y) { return b.cdf((y - mu) / sigma); };
  r.ccdf = [b, mu, sigma](double y) { return b.ccdf((y - mu) / sigma); };
  r.lo = mu + sigma * b.lo;
  r.hi = mu + sigma * b.hi;
  return r;
}

// |x| with x symmetric about 0.
inline Ref folded(Ref b) {
  Ref r = b;
  r.logpdf = [b](double y) { return y < 0 ? -kInf : std::log(2.0) + b.logpdf(y); };
  r.quantile = [b](double p) { return b.quantile(0.5 + 0.5 * p); };
  r.cdf = [b](double y) { return 2.0 * b.cdf(y) - 1.0; };
  r.ccdf = [b](double y) { return 2.0 * b.ccdf(y); };
  r.lo = 0;
  return r;
}

std::vector<Spec> continuous_specs();
std::vector<Spec> discrete_specs();

}  // namespace exmc::dist::testing
