// The one interface every engine meets at: an unconstrained log-density R^d -> R with gradient.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace exmc {

// A named quantity on the constrained (user-facing) scale: a parameter, transformed
// parameter or deterministic. Shape {} is a scalar; {n} a vector; {r, c} a matrix.
struct VarInfo {
  std::string name;
  std::vector<size_t> shape;
  size_t size() const;
};

// Stan-style flat element names: "mu", "theta.3", "Sigma.2.1" (1-based; matrices are
// flattened column-major, as CmdStan writes them).
std::vector<std::string> flat_names(const std::vector<VarInfo>& vars);
size_t total_size(const std::vector<VarInfo>& vars);

// Models compile to this; samplers and optimisers consume only this.
//
// Contract: logp_grad is const and re-entrant. Any number of threads may call it at once on
// one object; after each thread's first call it performs no heap allocation. A non-finite
// return value (or a throw) tells the caller the point is outside the support or numerically
// unusable; samplers treat it as a divergence, never as a crash.
class LogDensity {
 public:
  virtual ~LogDensity() = default;

  virtual size_t dim() const = 0;

  // Log density at x (length dim()) and its gradient into g (length dim()).
  virtual double logp_grad(const double* x, double* g) const = 0;

  // Value only. The default calls logp_grad with a scratch gradient (allocates: not for hot paths).
  virtual double logp(const double* x) const;

  // What constrain() writes, in order. The default is one vector "x" of length dim().
  virtual std::vector<VarInfo> output_vars() const;

  // Map an unconstrained point to the constrained values of output_vars(), flattened in order
  // (length total_size(output_vars())). The default copies x.
  virtual void constrain(const double* x, double* out) const;

  // A name for each unconstrained coordinate (length dim()), for messages such as "variable
  // 'sigma' (coordinate 3) gradient is NaN". Coordinates of one vector variable share its flat
  // name ("theta.2"). The default uses flat_names(output_vars()) when that has exactly dim()
  // entries (so it names the coordinates of densities whose outputs are their parameters, in
  // order), and otherwise returns an empty vector: no names known, callers show indices only.
  // Called on error paths only; it may allocate.
  virtual std::vector<std::string> unconstrained_names() const;

  // Inverse of constrain() restricted to the free parameters, for user-given initial values,
  // fitted draws and Python's unconstrain. `values` maps each parameter name to its flattened
  // constrained value. Returns false, with a message in *error, when a value is missing, of the
  // wrong size or outside its support; the message names the variable, not what the values are
  // for (the caller says that: "bad initial values: ...").
  // The default accepts a single entry "x" of length dim().
  virtual bool unconstrain(const std::vector<std::pair<std::string, std::vector<double>>>& values,
                           double* x, std::string* error) const;
};

namespace detail {
// Throws std::invalid_argument unless vars has exactly dim elements in all (the names of a
// density whose outputs are its coordinates).
void check_coordinate_names(size_t dim, const std::vector<VarInfo>& vars);
// unconstrain() for such a density: each variable's values copied to its coordinates.
bool copy_named_values(const std::vector<VarInfo>& vars,
                       const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
                       std::string* error);
}  // namespace detail

// Wraps a hand-written log density: `f(const double* x, double* g) -> double` fills the
// gradient and returns the value. f must itself be safe to call from several threads.
// `vars` names the coordinates themselves (constrain() copies x): their sizes must add up to
// dim, else the constructor throws std::invalid_argument. Outputs that are not the coordinates
// (constrained values, derived quantities) need a LogDensity subclass overriding
// output_vars(), constrain() and unconstrain().
template <class F>
class FunctorLogDensity final : public LogDensity {
 public:
  FunctorLogDensity(size_t dim, F f, std::vector<VarInfo> vars = {})
      : dim_(dim), f_(std::move(f)), vars_(std::move(vars)) {
    if (!vars_.empty()) detail::check_coordinate_names(dim_, vars_);
  }
  size_t dim() const override { return dim_; }
  double logp_grad(const double* x, double* g) const override { return f_(x, g); }
  std::vector<VarInfo> output_vars() const override {
    return vars_.empty() ? LogDensity::output_vars() : vars_;
  }
  // Initial values by the names in vars (the default's single "x" when there are none).
  bool unconstrain(const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
                   std::string* error) const override {
    return vars_.empty() ? LogDensity::unconstrain(values, x, error)
                         : detail::copy_named_values(vars_, values, x, error);
  }

 private:
  size_t dim_;
  F f_;
  std::vector<VarInfo> vars_;
};

template <class F>
std::unique_ptr<LogDensity> make_log_density(size_t dim, F f, std::vector<VarInfo> vars = {}) {
  return std::make_unique<FunctorLogDensity<F>>(dim, std::move(f), std::move(vars));
}

}  // namespace exmc
