// Internal: one guarded call of LogDensity::logp_grad for the optimisers, negated (they
// minimise f = -log p) and counted. A throw or a non-finite value is "no value here".
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>

#include "exmc/core/log_density.hpp"

namespace exmc::optimize {

class Evaluator {
 public:
  explicit Evaluator(const LogDensity& ld) : ld_(ld) {}

  // f = -log p(x), g = -grad log p(x). Returns false when either is unusable.
  bool operator()(const Eigen::VectorXd& x, double* f, Eigen::VectorXd* g) {
    ++count_;
    double lp = 0;
    try {
      lp = ld_.logp_grad(x.data(), g->data());
    } catch (...) {  // any throw from a model means "no value here"
      return false;
    }
    if (!std::isfinite(lp) || !g->allFinite()) return false;
    *f = -lp;
    *g = -*g;
    return true;
  }

  uint64_t count() const { return count_; }

 private:
  const LogDensity& ld_;
  uint64_t count_ = 0;
};

}  // namespace exmc::optimize
