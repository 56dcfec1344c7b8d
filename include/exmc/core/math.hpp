// Special functions from Boost.Math behind a policy that never throws and never promotes
// to long double (so f32 and f64 paths cost what they should). Never use std::lgamma: it
// writes the global signgam and is not thread-safe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/bessel.hpp>

namespace exmc::math {

using policy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::denorm_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::rounding_error<boost::math::policies::ignore_error>,
    boost::math::policies::indeterminate_result_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_float<false>,
    boost::math::policies::promote_double<false>>;

template <class T> inline T lgamma(T x) { return boost::math::lgamma(x, policy()); }
template <class T> inline T tgamma(T x) { return boost::math::tgamma(x, policy()); }
template <class T> inline T digamma(T x) { return boost::math::digamma(x, policy()); }
template <class T> inline T trigamma(T x) { return boost::math::trigamma(x, policy()); }
template <class T> inline T erf(T x) { return boost::math::erf(x, policy()); }
template <class T> inline T erfc(T x) { return boost::math::erfc(x, policy()); }
template <class T> inline T erf_inv(T x) { return boost::math::erf_inv(x, policy()); }
template <class T> inline T erfc_inv(T x) { return boost::math::erfc_inv(x, policy()); }
template <class T> inline T lbeta(T a, T b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }
template <class T> inline T gamma_p(T a, T x) { return boost::math::gamma_p(a, x, policy()); }
template <class T> inline T gamma_q(T a, T x) { return boost::math::gamma_q(a, x, policy()); }
template <class T> inline T ibeta(T a, T b, T x) { return boost::math::ibeta(a, b, x, policy()); }
template <class T> inline T cyl_bessel_i(T v, T x) { return boost::math::cyl_bessel_i(v, x, policy()); }

// log(sum(exp(x))) over n values, shifted by the maximum so nothing overflows; -inf for an
// empty or all -inf input, the non-finite maximum itself when it is +inf or NaN.
inline double log_sum_exp(const double* x, std::size_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

}  // namespace exmc::math
