// Leapfrog integrator with fault capture around the density call.
#include "exmc/nuts/leapfrog.hpp"

#include "vec2.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>

namespace exmc::nuts {

namespace {
constexpr uint64_t kExponentMask = 0x7ff0000000000000ull;
}  // namespace

Leapfrog::Leapfrog(const LogDensity& density, const Metric& metric)
    : density_(&density), metric_(&metric), v_(density.dim()) {}

bool Leapfrog::evaluate(PhasePoint& z) {
  const size_t d = z.q.size();
  ++grad_evals_;
  double lp;
  try {
    lp = density_->logp_grad(z.q.data(), z.g.data());
  } catch (const std::exception& e) {
    ++faults_;
    last_fault_ = e.what();
    last_fault_kind_ = FaultKind::Threw;
    z.logp = -std::numeric_limits<double>::infinity();
    return false;
  } catch (...) {
    ++faults_;
    last_fault_ = "unknown exception";
    last_fault_kind_ = FaultKind::Threw;
    z.logp = -std::numeric_limits<double>::infinity();
    return false;
  }
  // Any NaN/Inf element: an all-ones exponent field. Integer ORs vectorise (an FP sum would be
  // a chain of dependent adds, ~130 ns at d = 100).
  const double* g = z.g.data();
  uint64_t non_finite = 0;
  for (size_t i = 0; i < d; ++i) {
    uint64_t bits;
    std::memcpy(&bits, g + i, sizeof bits);
    non_finite |= static_cast<uint64_t>((bits & kExponentMask) == kExponentMask);
  }
  if (!std::isfinite(lp) || non_finite != 0) {
    ++faults_;
    last_fault_ = std::isfinite(lp) ? "non-finite gradient" : "non-finite log density";
    last_fault_kind_ =
        std::isfinite(lp) ? FaultKind::NonFiniteGradient : FaultKind::NonFiniteLogDensity;
    last_bad_logp_ = lp;
    z.logp = -std::numeric_limits<double>::infinity();
    return false;
  }
  z.logp = lp;
  return true;
}

double Leapfrog::prepare(PhasePoint& z, double* v) {
  const size_t d = z.q.size();
  metric_->velocity(z.p.data(), v);
  if (metric_->is_dense()) {
    for (size_t i = 0; i < d; ++i) z.v[i] = v[i];
    metric_->velocity(z.g.data(), z.mg.data());
  }
  return Metric::kinetic(z.p.data(), v, d);
}

double Leapfrog::step(PhasePoint& z, double eps, double* v) {
  const size_t d = z.q.size();
  if (metric_->is_dense()) return dense_step(z, eps, v);
  // A low-rank metric with no directions kept is just its diagonal (inv() holds it).
  if (metric_->kind() == MetricKind::LowRank && metric_->rank() > 0)
    return generic_step(z, eps, v);
  double* q = z.q.data();
  double* p = z.p.data();
  const double* g = z.g.data();
  const double* m = metric_->inv().data();
  const double half = 0.5 * eps;
  // Fused kick and drift: the diagonal velocity needs no buffer.
  for (size_t i = 0; i < d; ++i) {
    p[i] += half * g[i];
    q[i] += eps * (m[i] * p[i]);
  }
  if (!evaluate(z)) return std::numeric_limits<double>::infinity();
  // Partial sums two lanes at a time (vec2.hpp).
  using detail::load2;
  const detail::Vec2 half2 = {half, half};
  detail::Vec2 k2{};
  size_t i = 0;
  for (; i + 2 <= d; i += 2) {
    const detail::Vec2 pi = load2(p + i) + half2 * load2(g + i), vi = load2(m + i) * pi;
    detail::store2(p + i, pi);
    detail::store2(v + i, vi);
    k2 += pi * vi;
  }
  double two_k = detail::hsum(k2);
  if (i < d) {
    p[i] += half * g[i];
    v[i] = m[i] * p[i];
    two_k += p[i] * v[i];
  }
  return 0.5 * two_k;
}

double Leapfrog::generic_step(PhasePoint& z, double eps, double* v) {
  const size_t d = z.q.size();
  double* q = z.q.data();
  double* p = z.p.data();
  const double half = 0.5 * eps;
  for (size_t i = 0; i < d; ++i) p[i] += half * z.g[i];
  metric_->velocity(p, v_.data());
  for (size_t i = 0; i < d; ++i) q[i] += eps * v_[i];
  if (!evaluate(z)) return std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < d; ++i) p[i] += half * z.g[i];
  metric_->velocity(p, v);
  return Metric::kinetic(p, v, d);
}

double Leapfrog::dense_step(PhasePoint& z, double eps, double* v) {
  // Linearity of M^{-1}: the velocity after each half kick is v + (eps/2) M^{-1} g, so only the
  // new gradient needs a product.
  const size_t d = z.q.size();
  double* q = z.q.data();
  double* p = z.p.data();
  double* zv = z.v.data();
  const double half = 0.5 * eps;
  for (size_t i = 0; i < d; ++i) {
    p[i] += half * z.g[i];
    zv[i] += half * z.mg[i];
    q[i] += eps * zv[i];
  }
  if (!evaluate(z)) return std::numeric_limits<double>::infinity();
  metric_->velocity(z.g.data(), z.mg.data());
  for (size_t i = 0; i < d; ++i) {
    p[i] += half * z.g[i];
    zv[i] += half * z.mg[i];
    v[i] = zv[i];
  }
  return Metric::kinetic(p, v, d);
}

}  // namespace exmc::nuts
