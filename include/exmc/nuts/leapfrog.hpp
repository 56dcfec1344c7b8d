// Leapfrog (velocity Verlet) integrator that turns density faults into an unusable point.
#pragma once

#include <cstdint>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/phase_point.hpp"

namespace exmc::nuts {

// What went wrong at the last faulting density evaluation.
enum class FaultKind { None, NonFiniteLogDensity, NonFiniteGradient, Threw };

class Leapfrog {
 public:
  Leapfrog(const LogDensity& density, const Metric& metric);

  // Evaluates the density at z.q into z.logp / z.g. A NaN/Inf value or gradient, or an
  // exception, leaves z.logp = -inf (so the energy error is infinite) and counts a fault.
  // Returns false on a fault.
  bool evaluate(PhasePoint& z);

  // Call after setting z.p (and z.q/z.g/z.logp): sets up the cached products a dense metric
  // needs. Writes M^{-1} p into v and returns the kinetic energy.
  double prepare(PhasePoint& z, double* v);

  // One step of size eps (negative integrates backward). Writes M^{-1} p at the new point into
  // v and returns the kinetic energy there; if the density faults, returns +inf.
  double step(PhasePoint& z, double eps, double* v);

  const Metric& metric() const { return *metric_; }
  void set_metric(const Metric& m) { metric_ = &m; }
  const LogDensity& density() const { return *density_; }

  uint64_t grad_evals() const { return grad_evals_; }
  uint64_t faults() const { return faults_; }
  // For a chain resumed from a checkpoint: its counts so far.
  void restore_counters(uint64_t grad_evals, uint64_t faults) {
    grad_evals_ = grad_evals;
    faults_ = faults;
  }
  const std::string& last_fault() const { return last_fault_; }
  FaultKind last_fault_kind() const { return last_fault_kind_; }
  // The value the density returned at the last NonFiniteLogDensity fault (NaN, +inf or -inf).
  double last_bad_logp() const { return last_bad_logp_; }

 private:
  double dense_step(PhasePoint& z, double eps, double* v);
  double generic_step(PhasePoint& z, double eps, double* v);
  const LogDensity* density_;
  const Metric* metric_;
  std::vector<double> v_;
  uint64_t grad_evals_ = 0;
  uint64_t faults_ = 0;
  std::string last_fault_;
  FaultKind last_fault_kind_ = FaultKind::None;
  double last_bad_logp_ = 0;
};

}  // namespace exmc::nuts
