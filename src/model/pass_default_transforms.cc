// Rewrite pass "default_transforms": a free variable without a declared constraint gets the
// transform its distribution's support calls for.
#include <stdexcept>
#include <string>

#include "exmc/dist/kernel.hpp"
#include "exmc/model/passes.hpp"

namespace exmc::model {

void attach_default_transforms(const graph::Graph&, ModelIR& ir) {
  using S = dist::Support;
  using K = transform::Kind;
  constexpr double kPi = 3.14159265358979323846;
  for (RvDecl& r : ir.rvs) {
    if (r.kind) {
      // A declared transform must keep the variable inside its distribution's support; an
      // unbounded one on a bounded support would only produce rejected proposals.
      const bool unbounded = *r.kind == K::kIdentity || *r.kind == K::kOffsetMultiplier;
      if (r.dist && unbounded && r.dist->support != S::kReal && r.dist->support != S::kRealVector)
        throw std::invalid_argument("variable '" + r.name + "': the support of " + std::string(r.dist->name) +
                                    " is bounded, but the declared transform " +
                                    std::string(transform::kind_name(*r.kind)) + " maps onto all reals");
      continue;
    }
    if (!r.dist) {  // a flat parameter
      r.kind = K::kIdentity;
      continue;
    }
    auto fail = [&](const std::string& what) {
      throw std::invalid_argument("variable '" + r.name + "': " + what);
    };
    const std::string dname(r.dist->name);
    switch (r.dist->support) {
      case S::kReal:
      case S::kRealVector:
        r.kind = K::kIdentity;
        break;
      case S::kPositive:
      case S::kNonNegative:
        r.kind = K::kLower;
        r.lower = BoundRef::constant(0.0);
        break;
      case S::kUnitInterval:
        r.kind = K::kLowerUpper;
        r.lower = BoundRef::constant(0.0);
        r.upper = BoundRef::constant(1.0);
        break;
      case S::kLowerBounded:  // bounded below by the first argument (pareto's y_min)
        if (r.args.empty()) fail(dname + " has a lower-bounded support but no argument to bound it");
        r.kind = K::kLower;
        r.lower = BoundRef::of(r.args[0]);
        break;
      case S::kBounded:  // by the first two arguments (uniform's alpha, beta)
        if (r.args.size() < 2) fail(dname + " has a bounded support but fewer than two arguments");
        r.kind = K::kLowerUpper;
        r.lower = BoundRef::of(r.args[0]);
        r.upper = BoundRef::of(r.args[1]);
        break;
      case S::kAngle:
        r.kind = K::kLowerUpper;
        r.lower = BoundRef::constant(-kPi);
        r.upper = BoundRef::constant(kPi);
        break;
      case S::kSimplex: r.kind = K::kSimplex; break;
      case S::kUnitVector: r.kind = K::kUnitVector; break;
      case S::kOrdered: r.kind = K::kOrdered; break;
      case S::kCholeskyCorr: r.kind = K::kCholeskyCorr; break;
      case S::kCorrMatrix: r.kind = K::kCorrMatrix; break;
      case S::kCovMatrix: r.kind = K::kCovMatrix; break;
      case S::kInteger:
      case S::kNonNegInteger:
      case S::kBinary:
        fail(dname + " is discrete; a free variable must be continuous");
    }
    // Shape-restricted transforms (simplex, matrices) throw here, naming the variable.
    transform::Transform::make(*r.kind, r.shape, r.name);
  }
}

}  // namespace exmc::model
