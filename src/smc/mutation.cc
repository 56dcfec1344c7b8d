#include "mutation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "exmc/core/rng.hpp"

namespace exmc::smc::detail {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kTargetAcceptance = 0.65;
// A round's change in the particles' mean log pi_beta beyond this many times its equilibrium
// noise means the population is still moving (still_drifting).
constexpr double kDriftNoiseMultiple = 3;

// log pi_beta up to a constant. Written as a convex combination so beta = 1 gives log p exactly.
double log_tempered(double beta, double log_p, double log_q) {
  return (1 - beta) * log_q + beta * log_p;
}

// Mean over coordinates of |corr(a_j, b_j)|. A coordinate on which the particles do not vary
// counts as fully correlated when it has not moved and as uncorrelated otherwise.
double mean_abs_correlation(const std::vector<double>& a, const std::vector<double>& b, size_t n,
                            size_t d) {
  double total = 0;
  for (size_t j = 0; j < d; ++j) {
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) {
      ma += a[i * d + j];
      mb += b[i * d + j];
    }
    ma /= double(n);
    mb /= double(n);
    double saa = 0, sbb = 0, sab = 0;
    for (size_t i = 0; i < n; ++i) {
      const double da = a[i * d + j] - ma, db = b[i * d + j] - mb;
      saa += da * da;
      sbb += db * db;
      sab += da * db;
    }
    if (saa > 0 && sbb > 0)
      total += std::abs(sab) / std::sqrt(saa * sbb);
    else
      total += (sbb == 0 && saa == 0) ? 1.0 : 0.0;
  }
  return d > 0 ? total / double(d) : 0.0;
}

// The normal with the mean and covariance of m points given as their sum s and scatter M (lower
// triangle, column-major) about `centre`. The ridge keeps it positive definite when the points
// are few or duplicated; a diagonal one is the last resort.
Gaussian gaussian_from_scatter(const std::vector<double>& centre, const std::vector<double>& s,
                               const std::vector<double>& scatter, size_t m) {
  const size_t d = centre.size();
  std::vector<double> mean(d), cov(d * d);
  for (size_t j = 0; j < d; ++j) mean[j] = centre[j] + s[j] / double(m);
  double trace = 0;
  for (size_t c = 0; c < d; ++c) {
    for (size_t r = c; r < d; ++r) {
      cov[c * d + r] = (scatter[c * d + r] - s[r] * s[c] / double(m)) / double(m - 1);
      cov[r * d + c] = cov[c * d + r];
    }
    trace += cov[c * d + c];
  }
  const double ridge = 1e-8 * (trace / double(d)) + 1e-12;
  std::vector<double> sd(d);
  for (size_t c = 0; c < d; ++c) {
    cov[c * d + c] += ridge;
    sd[c] = std::sqrt(std::max(cov[c * d + c], ridge));
  }
  try {
    return Gaussian::from_covariance(mean, cov);
  } catch (const std::invalid_argument&) {
    return Gaussian::diagonal(std::move(mean), std::move(sd));
  }
}

// Adds the lower triangle of (x - centre)(x - centre)' into scatter and x - centre into sum.
void add_scatter(const double* x, const std::vector<double>& centre, std::vector<double>& dx,
                 std::vector<double>& sum, std::vector<double>& scatter) {
  const size_t d = centre.size();
  for (size_t j = 0; j < d; ++j) {
    dx[j] = x[j] - centre[j];
    sum[j] += dx[j];
  }
  for (size_t c = 0; c < d; ++c)
    for (size_t r = c; r < d; ++r) scatter[c * d + r] += dx[r] * dx[c];
}

struct Scratch {
  explicit Scratch(size_t d) : y(d), mom(d), g(d), gp(d), gq(d) {}
  std::vector<double> y, mom, g, gp, gq;
};

// One independent-MH step of particle i; returns its acceptance probability.
double imh_step(const LogDensity& ld, const Gaussian& ref, const Gaussian& proposal, double beta,
                Particles& p, std::vector<double>& log_g, size_t i, Rng& rng, Scratch& s,
                Counts& counts) {
  proposal.sample(rng, s.y.data());
  const double log_u = std::log(rng.uniform());
  const double lp = safe_logp(ld, s.y.data(), nullptr, counts);
  if (lp == kNegInf) return 0.0;
  const double lq = ref.log_density(s.y.data());
  const double lg = proposal.log_density(s.y.data());
  const double log_a = (log_tempered(beta, lp, lq) - lg) -
                       (log_tempered(beta, p.log_p[i], p.log_q[i]) - log_g[i]);
  if (!std::isfinite(log_a) && log_a != std::numeric_limits<double>::infinity()) return 0.0;
  if (log_u < log_a) {
    std::copy(s.y.begin(), s.y.end(), p.row(i));
    p.log_p[i] = lp;
    p.log_q[i] = lq;
    log_g[i] = lg;
  }
  return log_a >= 0 ? 1.0 : std::exp(log_a);
}

// One HMC trajectory of particle i with diagonal inverse metric `var`; returns its acceptance
// probability. Any non-finite value on the way rejects the whole trajectory.
double hmc_step(const LogDensity& ld, const Gaussian& ref, const std::vector<double>& var,
                double step_size, int leapfrog_steps, double beta, Particles& p, size_t i,
                Rng& rng, Scratch& s, Counts& counts) {
  const size_t d = p.d;
  const double eps = step_size * rng.uniform(0.9, 1.1);
  const double log_u = std::log(rng.uniform());
  double kinetic0 = 0;
  for (size_t j = 0; j < d; ++j) {
    s.mom[j] = rng.normal() / std::sqrt(var[j]);
    kinetic0 += 0.5 * var[j] * s.mom[j] * s.mom[j];
  }
  std::copy(p.row(i), p.row(i) + d, s.y.begin());
  reference_grad(ref, s.y.data(), s.gq.data());
  const double* gp0 = p.grad_p.data() + i * d;
  for (size_t j = 0; j < d; ++j) s.g[j] = (1 - beta) * s.gq[j] + beta * gp0[j];
  double lp = kNegInf;
  for (int l = 0; l < leapfrog_steps; ++l) {
    for (size_t j = 0; j < d; ++j) {
      s.mom[j] += 0.5 * eps * s.g[j];
      s.y[j] += eps * var[j] * s.mom[j];
    }
    lp = safe_logp(ld, s.y.data(), s.gp.data(), counts);
    if (lp == kNegInf) return 0.0;
    reference_grad(ref, s.y.data(), s.gq.data());
    for (size_t j = 0; j < d; ++j) {
      s.g[j] = (1 - beta) * s.gq[j] + beta * s.gp[j];
      s.mom[j] += 0.5 * eps * s.g[j];
    }
  }
  double kinetic1 = 0;
  for (size_t j = 0; j < d; ++j) kinetic1 += 0.5 * var[j] * s.mom[j] * s.mom[j];
  const double lq = ref.log_density(s.y.data());
  const double log_a = (log_tempered(beta, lp, lq) - kinetic1) -
                       (log_tempered(beta, p.log_p[i], p.log_q[i]) - kinetic0);
  if (std::isnan(log_a) || log_a == kNegInf) return 0.0;
  if (log_u < log_a) {
    std::copy(s.y.begin(), s.y.end(), p.row(i));
    std::copy(s.gp.begin(), s.gp.end(), p.grad_p.begin() + std::ptrdiff_t(i * d));
    p.log_p[i] = lp;
    p.log_q[i] = lq;
  }
  return log_a >= 0 ? 1.0 : std::exp(log_a);
}

// The particles' mean log pi_beta and its variance over the particles.
struct TemperedMean {
  double mean = 0, var = 0;
};
TemperedMean tempered_mean(const Particles& p, double beta) {
  TemperedMean t;
  for (size_t i = 0; i < p.n; ++i) t.mean += log_tempered(beta, p.log_p[i], p.log_q[i]);
  t.mean /= double(p.n);
  for (size_t i = 0; i < p.n; ++i) {
    const double dv = log_tempered(beta, p.log_p[i], p.log_q[i]) - t.mean;
    t.var += dv * dv;
  }
  t.var /= double(p.n - 1);
  return t;
}

// Whether a mutation round moved the particles' mean log pi_beta by more than a population in
// equilibrium does: there a round replaces some particles by others from the same distribution,
// and the mean changes by about sqrt(2 var / n) at most (every particle moved). The correlation
// rule alone cannot see a population still travelling: an independent-MH move decorrelates a
// particle from its start in one accepted step, wherever the proposal lies, and on sblri-blr
// (posteriordb) the particles stopped at sigma = 8.1 (the posterior's 0.96, sd 0.07) with every
// stage decorrelated, and the log evidence 185 nats low.
bool still_drifting(const TemperedMean& before, const TemperedMean& after, size_t n) {
  const double noise = std::sqrt(2 * std::max(before.var, after.var) / double(n));
  return std::abs(after.mean - before.mean) > kDriftNoiseMultiple * noise;
}

std::vector<double> particle_variances(const Particles& p) {
  std::vector<double> mean(p.d, 0.0), var(p.d, 0.0);
  for (size_t i = 0; i < p.n; ++i)
    for (size_t j = 0; j < p.d; ++j) mean[j] += p.row(i)[j];
  for (double& m : mean) m /= double(p.n);
  for (size_t i = 0; i < p.n; ++i)
    for (size_t j = 0; j < p.d; ++j) {
      const double dx = p.row(i)[j] - mean[j];
      var[j] += dx * dx;
    }
  double avg = 0;
  for (double& v : var) avg += (v /= double(p.n - 1));
  avg /= double(p.d);
  // A collapsed coordinate would freeze HMC: give it the average variance (or 1).
  for (double& v : var)
    if (!(v > 1e-300) || !std::isfinite(v)) v = (avg > 1e-300 && std::isfinite(avg)) ? avg : 1.0;
  return var;
}

}  // namespace

double safe_logp(const LogDensity& ld, const double* x, double* g, Counts& counts) {
  double v;
  try {
    if (g) {
      ++counts.grad;
      v = ld.logp_grad(x, g);
    } else {
      ++counts.logp;
      v = ld.logp(x);
    }
  } catch (...) {
    return kNegInf;
  }
  if (!std::isfinite(v)) return kNegInf;
  if (g)
    for (size_t j = 0, d = ld.dim(); j < d; ++j)
      if (!std::isfinite(g[j])) return kNegInf;
  return v;
}

void reference_grad(const Gaussian& q, const double* x, double* out) {
  const size_t d = q.dim();
  const auto& m = q.mean();
  const auto& s = q.scale();
  if (q.is_diagonal()) {
    for (size_t j = 0; j < d; ++j) out[j] = -(x[j] - m[j]) / (s[j] * s[j]);
    return;
  }
  // -Sigma^{-1}(x - m) with Sigma = L L': forward solve L v = x - m, then back solve L' w = v.
  for (size_t r = 0; r < d; ++r) {
    double v = x[r] - m[r];
    for (size_t k = 0; k < r; ++k) v -= s[k * d + r] * out[k];
    out[r] = v / s[r * d + r];
  }
  for (size_t r = d; r-- > 0;) {
    double v = out[r];
    for (size_t k = r + 1; k < d; ++k) v -= s[r * d + k] * out[k];
    out[r] = v / s[r * d + r];
  }
  for (size_t r = 0; r < d; ++r) out[r] = -out[r];
}

FoldProposals fit_fold_proposals(const Particles& p, const std::vector<size_t>& ancestors) {
  const size_t n = p.n, d = p.d;
  FoldProposals out;
  out.fold.resize(n);
  std::vector<size_t> members(kProposalFolds, 0);
  for (size_t i = 0; i < n; ++i) ++members[out.fold[i] = uint32_t(ancestors[i] % kProposalFolds)];
  // Scatters are taken about the mean of all particles, so each fold's complement is the total
  // less the fold's own (one pass over the particles for the total, one over each fold).
  std::vector<double> centre(d, 0.0), dx(d), total_sum(d, 0.0), total(d * d, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) centre[j] += p.row(i)[j];
  for (double& c : centre) c /= double(n);
  for (size_t i = 0; i < n; ++i) add_scatter(p.row(i), centre, dx, total_sum, total);
  out.proposal.resize(kProposalFolds);
  std::vector<double> fold_sum(d), fold_scatter(d * d);
  for (uint32_t f = 0; f < kProposalFolds; ++f) {
    if (members[f] == 0) continue;
    const size_t rest = n - members[f];
    if (rest < 2) {
      // Every particle descends from this fold's ancestors: nothing else to fit on.
      out.proposal[f] = gaussian_from_scatter(centre, total_sum, total, n);
      continue;
    }
    std::fill(fold_sum.begin(), fold_sum.end(), 0.0);
    std::fill(fold_scatter.begin(), fold_scatter.end(), 0.0);
    for (size_t i = 0; i < n; ++i)
      if (out.fold[i] == f) add_scatter(p.row(i), centre, dx, fold_sum, fold_scatter);
    for (size_t j = 0; j < d; ++j) fold_sum[j] = total_sum[j] - fold_sum[j];
    for (size_t c = 0; c < d; ++c)
      for (size_t r = c; r < d; ++r) fold_scatter[c * d + r] = total[c * d + r] - fold_scatter[c * d + r];
    out.proposal[f] = gaussian_from_scatter(centre, fold_sum, fold_scatter, rest);
  }
  return out;
}

MutationResult mutate(const LogDensity& ld, const SmcOptions& options, const Gaussian& reference,
                      double beta, uint64_t stage, uint64_t seed, unsigned threads,
                      const std::vector<size_t>& ancestors, Particles& p, double& step_size,
                      Counts& counts) {
  const size_t n = p.n, d = p.d;
  const bool hmc = options.kernel == SmcOptions::Kernel::kHmc;
  FoldProposals imh;
  std::vector<double> log_g, var;
  if (hmc) {
    var = particle_variances(p);
  } else {
    imh = fit_fold_proposals(p, ancestors);
    log_g.resize(n);
    for (size_t i = 0; i < n; ++i) log_g[i] = imh.proposal[imh.fold[i]].log_density(p.row(i));
  }
  std::vector<Rng> rngs;
  rngs.reserve(n);
  for (size_t i = 0; i < n; ++i) rngs.emplace_back(seed, stream_id(kMutate, stage, i));

  const std::vector<double> start = p.x;
  std::vector<double> accept(n);
  double corr_prev = 1, accept_total = 0;
  TemperedMean level = tempered_mean(p, beta);
  MutationResult out;
  for (int step = 1; step <= options.max_mutation_steps; ++step) {
    const double eps = step_size;
    parallel_blocks(n, threads, counts, [&](size_t b, size_t e, Counts& c) {
      Scratch s(d);
      for (size_t i = b; i < e; ++i)
        accept[i] = hmc ? hmc_step(ld, reference, var, eps, options.hmc_leapfrog_steps, beta, p,
                                   i, rngs[i], s, c)
                        : imh_step(ld, reference, imh.proposal[imh.fold[i]], beta, p, log_g, i,
                                   rngs[i], s, c);
    });
    double mean_accept = 0;
    for (double a : accept) mean_accept += a;  // in particle order: thread-count independent
    mean_accept /= double(n);
    accept_total += mean_accept;
    out.steps = step;
    if (hmc) {
      // Multiplicative nudge toward the target acceptance; bounded so one bad round cannot
      // wreck the step size.
      step_size *= std::exp(std::clamp(2.0 * (mean_accept - kTargetAcceptance), -1.0, 1.0));
      // A step size that underflowed to 0 could never grow back (0 * factor = 0).
      step_size = std::clamp(step_size, 1e-12, 1e6);
    }
    if (!hmc) {
      // The cloud moved: the next round proposes from normals fitted to where it is now.
      imh = fit_fold_proposals(p, ancestors);
      for (size_t i = 0; i < n; ++i) log_g[i] = imh.proposal[imh.fold[i]].log_density(p.row(i));
    }
    const TemperedMean next = tempered_mean(p, beta);
    out.drifting = still_drifting(level, next, n);
    level = next;
    if (options.correlation_threshold > 0) {
      const double corr = mean_abs_correlation(start, p.x, n, d);
      const bool decorrelated = corr_prev - corr < options.correlation_threshold;
      corr_prev = corr;
      if (decorrelated && !out.drifting) break;
    }
  }
  out.acceptance = accept_total / double(out.steps);
  return out;
}

}  // namespace exmc::smc::detail
