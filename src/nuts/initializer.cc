// Initial point search: user values (the parameters they leave out drawn at random, as CmdStan
// does), else uniform draws on the unconstrained scale. Failures are
// explained per variable (LogDensity::unconstrained_names), not only per coordinate index.
#include "exmc/nuts/initializer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace exmc::nuts {

namespace {

std::string value_word(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+inf" : "-inf";
}

// "variable 'sigma' (coordinate 3)", or "coordinate 3" when the density names no coordinates.
std::string coordinate_label(const std::vector<std::string>& names, size_t i) {
  const std::string idx = "coordinate " + std::to_string(i);
  if (i < names.size() && !names[i].empty()) return "variable '" + names[i] + "' (" + idx + ")";
  return idx;
}

// Tallies why candidate points were unusable, so the final message says which variables were
// at fault and how often rather than only what the last attempt saw.
class FailureLog {
 public:
  explicit FailureLog(const LogDensity& ld) : ld_(ld) {}

  // Evaluates z; returns true when the point is usable, else records why.
  bool check(Leapfrog& integ, PhasePoint& z) {
    const uint64_t faults_before = integ.faults();
    integ.evaluate(z);
    if (integ.faults() == faults_before) return true;
    ++attempts_;
    switch (integ.last_fault_kind()) {
      case FaultKind::Threw:
        ++threw_;
        last_throw_ = integ.last_fault();
        break;
      case FaultKind::NonFiniteLogDensity: {
        // The gradient the density filled in often points at the culprit (the log of a
        // negative scale is NaN in both), so it is tallied as a hint.
        const double lp = integ.last_bad_logp();
        ++logp_[value_word(lp)];
        tally(z, hint_);
        break;
      }
      case FaultKind::NonFiniteGradient:
      case FaultKind::None:
        tally(z, grad_);
        break;
    }
    return false;
  }

  std::string describe() const {
    names_ = ld_.unconstrained_names();
    std::vector<std::string> parts;
    if (!logp_.empty()) {
      std::string s = "log density is";
      bool first = true;
      for (const auto& [word, n] : logp_) {
        s += (first ? " " : ", ") + word + times(n);
        first = false;
      }
      if (!hint_.empty()) s += " (with a non-finite gradient in " + list(hint_, false) + ")";
      parts.push_back(s);
    }
    if (!grad_.empty()) parts.push_back(list(grad_, true));
    if (threw_ > 0) parts.push_back("the density threw" + times(threw_) + ": " + last_throw_);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  }

 private:
  struct Bad {
    size_t count = 0;
    std::string word;  // NaN / +inf / -inf at the last sighting
  };

  static void tally(const PhasePoint& z, std::map<size_t, Bad>& into) {
    for (size_t i = 0; i < z.g.size(); ++i)
      if (!std::isfinite(z.g[i])) {
        Bad& b = into[i];
        ++b.count;
        b.word = value_word(z.g[i]);
      }
  }

  // " in 3 of 100 attempts", or nothing when only one point was tried.
  std::string times(size_t n) const {
    if (attempts_ <= 1) return "";
    return " in " + std::to_string(n) + " of " + std::to_string(attempts_) + " attempts";
  }

  // The most frequently failing coordinates first, at most five of them.
  std::string list(const std::map<size_t, Bad>& bad, bool with_values) const {
    std::vector<std::pair<size_t, Bad>> v(bad.begin(), bad.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
    std::string s;
    const size_t shown = std::min<size_t>(v.size(), 5);
    for (size_t k = 0; k < shown; ++k) {
      if (k) s += with_values ? "; " : ", ";
      s += coordinate_label(names_, v[k].first);
      if (with_values) s += " gradient is " + v[k].second.word + times(v[k].second.count);
    }
    if (v.size() > shown) s += " and " + std::to_string(v.size() - shown) + " more coordinates";
    return s;
  }

  const LogDensity& ld_;
  mutable std::vector<std::string> names_;
  size_t attempts_ = 0, threw_ = 0;
  std::map<std::string, size_t> logp_;
  std::map<size_t, Bad> grad_, hint_;
  std::string last_throw_;
};

// The variables of `values` leaves out (none of a zero size), with their offsets in the flat
// constrained vector.
struct Missing {
  std::string name;
  size_t offset, size;
};
std::vector<Missing> missing_vars(const std::vector<VarInfo>& vars,
                                  const std::vector<std::pair<std::string, std::vector<double>>>& values) {
  std::vector<Missing> out;
  size_t offset = 0;
  for (const auto& v : vars) {
    const size_t n = v.size();
    bool given = false;
    for (const auto& [name, _] : values) given |= name == v.name;
    if (!given && n > 0) out.push_back({v.name, offset, n});
    offset += n;
  }
  return out;
}

// CmdStan's rule for init files that name some parameters only: the others start where a random
// initialisation would put them, uniform(-R, R) on the unconstrained scale. A random point's
// constrained values stand in for the missing variables (transformed parameters among them are
// accepted and ignored by unconstrain), so a constraint that depends on a given value is
// unconstrained against it; a draw that falls outside it is tried again.
bool complete_initial_values(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z, FailureLog& log,
                             std::string* error) {
  const LogDensity& ld = integ.density();
  const auto vars = ld.output_vars();
  for (const auto& [name, _] : cfg.init_values) {
    bool known = false;
    for (const auto& v : vars) known |= v.name == name;
    if (!known) return false;  // a name the density does not know: unconstrain's error says so
  }
  const auto missing = missing_vars(vars, cfg.init_values);
  if (missing.empty()) return false;  // the values were complete: their own error stands
  std::vector<double> random(ld.dim()), constrained(total_size(vars));
  // A given value refused in every attempt is at fault; one refused in some only has a bound
  // that depends on a left-out variable (real<lower=a> b with b given, a drawn), which another
  // draw mends. The first such refusal threw: b = -1 failed whenever the draw put a above -1.
  std::string given_error;
  bool only_given_at_fault = true;
  for (int attempt = 0; attempt < cfg.init_attempts; ++attempt) {
    for (double& v : random) v = rng.uniform(-cfg.init_radius, cfg.init_radius);
    try {
      ld.constrain(random.data(), constrained.data());
    } catch (const std::exception& e) {
      *error = e.what();
      only_given_at_fault = false;
      continue;
    }
    auto values = cfg.init_values;
    for (const auto& m : missing)
      values.emplace_back(m.name, std::vector<double>(constrained.begin() + std::ptrdiff_t(m.offset),
                                                      constrained.begin() + std::ptrdiff_t(m.offset + m.size)));
    if (!ld.unconstrain(values, z.q.data(), error)) {
      // Every message names its variable: is it one the user gave?
      bool given = false;
      for (const auto& [name, _] : cfg.init_values) given |= error->find("'" + name + "'") != std::string::npos;
      if (given && given_error.empty()) given_error = *error;
      only_given_at_fault &= given;
      continue;
    }
    only_given_at_fault = false;
    if (log.check(integ, z)) return true;
  }
  if (only_given_at_fault && !given_error.empty()) throw InitError("bad initial values: " + given_error);
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "'" : ", '") + m.name + "'";
  const std::string why = log.describe().empty() ? *error : log.describe();
  throw InitError("the initial values leave out " + names + " (drawn at random, as CmdStan does) and no draw in " +
                  std::to_string(cfg.init_attempts) + " attempts gave a usable point: " + why);
}

}  // namespace

void initialize_point(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z) {
  const LogDensity& ld = integ.density();
  const size_t d = ld.dim();
  FailureLog log(ld);
  if (!cfg.init_x.empty() || !cfg.init_values.empty()) {
    if (!cfg.init_x.empty()) {
      if (cfg.init_x.size() != d)
        throw InitError("initial point has " + std::to_string(cfg.init_x.size()) +
                        " values but the model has " + std::to_string(d) +
                        " unconstrained parameters");
      z.q = cfg.init_x;
    } else {
      std::string err;
      if (!ld.unconstrain(cfg.init_values, z.q.data(), &err)) {
        std::string partial_err;
        if (complete_initial_values(integ, cfg, rng, z, log, &partial_err)) return;
        throw InitError("bad initial values: " + err);
      }
    }
    if (!log.check(integ, z))
      throw InitError("the log density is not usable at the given initial values: " +
                      log.describe());
    return;
  }
  for (int attempt = 0; attempt < cfg.init_attempts; ++attempt) {
    for (size_t i = 0; i < d; ++i) z.q[i] = rng.uniform(-cfg.init_radius, cfg.init_radius);
    if (log.check(integ, z)) return;
  }
  char radius[32];
  std::snprintf(radius, sizeof radius, "%g", cfg.init_radius);
  throw InitError("could not find a starting point after " + std::to_string(cfg.init_attempts) +
                  " attempts: " + log.describe() + " (points drawn uniform(-" + radius + ", " +
                  radius + ") on the unconstrained scale; give initial values or a smaller "
                  "init_radius)");
}

}  // namespace exmc::nuts
