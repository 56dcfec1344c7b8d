// Initial point search: user values (the parameters they leave out drawn at random, as CmdStan
// does), else uniform draws on the unconstrained scale. Failures are
// explained per variable (LogDensity::unconstrained_names), not only per coordinate index.
#include "exmc/nuts/initializer.hpp"

#include "exmc/core/init_remedy.hpp"

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

// The completion's attempts, for one chain: a given value refused in every attempt is at fault;
// one refused in some only has a bound that depends on a left-out variable (real<lower=a> b with
// b given, a drawn), which another draw mends. Returns false when nothing was left out.
bool complete_initial_values(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z, FailureLog& log,
                             std::string* error) {
  const LogDensity& ld = integ.density();
  const auto vars = ld.output_vars();
  for (const auto& [name, _] : cfg.init_values) {
    bool known = false;
    for (const auto& v : vars) known |= v.name == name;
    if (!known) return false;  // a name the density does not know: unconstrain's error says so
  }
  InitCompletion completion(ld, cfg.init_values);
  if (!completion.leaves_out_any()) return false;  // the values were complete: their own error stands
  std::string given_error;
  bool only_given_at_fault = true;
  for (int attempt = 0; attempt < cfg.init_attempts; ++attempt) {
    switch (completion.attempt(rng, cfg.init_radius, z.q.data(), error)) {
      case InitCompletion::Outcome::kGivenAtFault:
        if (given_error.empty()) given_error = *error;
        continue;
      case InitCompletion::Outcome::kOtherFault:
        only_given_at_fault = false;
        continue;
      case InitCompletion::Outcome::kUnconstrained:
        only_given_at_fault = false;
        if (log.check(integ, z)) return true;
    }
  }
  if (only_given_at_fault && !given_error.empty()) throw BadInitialValues("bad initial values: " + given_error);
  const std::string why = log.describe().empty() ? *error : log.describe();
  throw InitError("the initial values leave out " + completion.left_out_names() +
                  " (drawn at random, as CmdStan does) and no draw in " + std::to_string(cfg.init_attempts) +
                  " attempts gave a usable point: " + why);
}

}  // namespace

InitCompletion::InitCompletion(const LogDensity& ld, const InitValues& given)
    : ld_(ld), given_(given) {
  const auto vars = ld.output_vars();
  size_t offset = 0;
  for (const auto& v : vars) {
    const size_t n = v.size();
    bool present = false;
    for (const auto& [name, _] : given) present |= name == v.name;
    if (!present && n > 0) missing_.push_back({v.name, offset, n});
    offset += n;
  }
  if (!missing_.empty()) {
    random_.resize(ld.dim());
    constrained_.resize(offset);
  }
}

std::string InitCompletion::left_out_names() const {
  std::string names;
  for (const auto& m : missing_) names += (names.empty() ? "'" : ", '") + m.name + "'";
  return names;
}

InitCompletion::Outcome InitCompletion::attempt(Rng& rng, double radius, double* q, std::string* error) {
  // A random point's constrained values stand in for the left-out variables (transformed
  // parameters among them are accepted and ignored by unconstrain), so a constraint that depends
  // on a given value is unconstrained against it; a draw that falls outside it is tried again.
  for (double& v : random_) v = rng.uniform(-radius, radius);
  auto values = given_;
  if (!missing_.empty()) {
    try {
      ld_.constrain(random_.data(), constrained_.data());
    } catch (const std::exception& e) {
      *error = e.what();
      return Outcome::kOtherFault;
    }
    for (const auto& m : missing_)
      values.emplace_back(m.name, std::vector<double>(constrained_.begin() + std::ptrdiff_t(m.offset),
                                                      constrained_.begin() + std::ptrdiff_t(m.offset + m.size)));
  }
  if (ld_.unconstrain(values, q, error)) return Outcome::kUnconstrained;
  // Every message names its variable: is it one the user gave?
  for (const auto& [name, _] : given_)
    if (error->find("'" + name + "'") != std::string::npos) return Outcome::kGivenAtFault;
  return Outcome::kOtherFault;
}

std::string given_init_values_fault(const LogDensity& ld, const InitValues& given, double radius, int attempts,
                                    Rng& rng) {
  if (given.empty()) return "";
  InitCompletion completion(ld, given);
  std::vector<double> q(ld.dim());
  std::string first, error;
  const int tries = completion.leaves_out_any() ? std::max(attempts, 1) : 1;  // nothing drawn: one try decides
  for (int t = 0; t < tries; ++t) {
    if (completion.attempt(rng, radius, q.data(), &error) != InitCompletion::Outcome::kGivenAtFault) return "";
    if (first.empty()) first = error;
  }
  return first;
}

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
        throw BadInitialValues("bad initial values: " + err);
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
                  radius + ") on the unconstrained scale; " + kInitRemedy + ")");
}

}  // namespace exmc::nuts
