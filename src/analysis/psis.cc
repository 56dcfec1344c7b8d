// PSIS (Zhang-Stephens GPD fit, loo 2.5.1's tail length and prior), PSIS-LOO, WAIC, loo_compare.
#include "exmc/analysis/psis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <boost/math/distributions/normal.hpp>
#include <fmt/format.h>

#include "exmc/analysis/convergence.hpp"
#include "exmc/core/math.hpp"

namespace exmc::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using math::log_sum_exp;

double var(const double* x, size_t n) {
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double m = mean(x, n);
  long double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += (static_cast<long double>(x[i]) - m) * (x[i] - m);
  return static_cast<double>(ss / static_cast<long double>(n - 1));
}

Estimate total(const std::vector<double>& v) {
  Estimate e;
  long double s = 0;
  for (double x : v) s += x;
  e.estimate = static_cast<double>(s);
  e.se = std::sqrt(static_cast<double>(v.size()) * var(v.data(), v.size()));
  return e;
}

double qnorm(double p) {
  return boost::math::quantile(boost::math::normal_distribution<double, math::policy>(), p);
}

void check_loglik(const LogLik& ll) {
  // Without draws relative_eff's split chains are empty (a crash) and every estimate is 0/0.
  if (ll.num_draws == 0) throw std::invalid_argument("log-likelihood: no draws");
  if (ll.values.size() != ll.num_draws * ll.num_obs)
    throw std::invalid_argument(fmt::format("log-likelihood: {} values, expected {} draws x {} "
                                            "observations", ll.values.size(), ll.num_draws,
                                            ll.num_obs));
  for (size_t j = 0; j < ll.num_obs; ++j)
    for (size_t s = 0; s < ll.num_draws; ++s)
      if (!std::isfinite(ll.at(s, j)))
        throw std::invalid_argument(fmt::format(
            "log-likelihood of observation {} at draw {} is {}: all values must be finite",
            j + 1, s + 1, ll.at(s, j)));
}

// loo's mcse_elpd: the spread of log(E + sd z) over 1000 normal scores.
double mcse_elpd(const double* ll, const double* lw, size_t S, double elpd, double r_eff) {
  const double e_epd = std::exp(elpd);
  double var_epd = 0;
  for (size_t s = 0; s < S; ++s) {
    const double w = std::exp(lw[s]);
    const double d = std::exp(ll[s]) - e_epd;
    var_epd += w * w * d * d;
  }
  const double sd_epd = std::sqrt(var_epd);
  const int n = 1000;
  const double c = 3.0 / 8.0;
  std::vector<double> lz;
  lz.reserve(n);
  for (int r = 1; r <= n; ++r) {
    const double z = e_epd + sd_epd * qnorm((r - c) / (n - 2 * c + 1));
    if (z > 0) lz.push_back(std::log(z));
  }
  return std::sqrt(var(lz.data(), lz.size()) / r_eff);
}

}  // namespace

GpdFit gpd_fit(const std::vector<double>& x) {
  const size_t N = x.size();
  const double prior = 3;
  const size_t M = 30 + static_cast<size_t>(std::floor(std::sqrt(static_cast<double>(N))));
  const double xstar = x[static_cast<size_t>(std::floor(static_cast<double>(N) / 4 + 0.5)) - 1];
  std::vector<double> theta(M), l_theta(M), buf(N);
  for (size_t j = 0; j < M; ++j) {
    theta[j] = 1 / x[N - 1] +
               (1 - std::sqrt(static_cast<double>(M) / (static_cast<double>(j + 1) - 0.5))) /
                   prior / xstar;
    // Profile log-likelihood of theta (Zhang & Stephens 2009), times N.
    const double a = -theta[j];
    for (size_t i = 0; i < N; ++i) buf[i] = std::log1p(a * x[i]);
    const double k = mean(buf.data(), N);  // R's mean (long double), as loo's lx
    l_theta[j] = static_cast<double>(N) * (std::log(a / k) - k - 1);
  }
  const double lse = log_sum_exp(l_theta.data(), M);
  double theta_hat = 0;
  for (size_t j = 0; j < M; ++j) theta_hat += theta[j] * std::exp(l_theta[j] - lse);
  for (size_t i = 0; i < N; ++i) buf[i] = std::log1p(-theta_hat * x[i]);
  double k = mean(buf.data(), N);
  const double sigma = -k / theta_hat;
  // Weakly informative prior: shrink k towards 0.5 as if 10 extra observations had k = 0.5.
  const double a = 10, n = static_cast<double>(N);
  k = k * n / (n + a) + a * 0.5 / (n + a);
  if (std::isnan(k)) k = kInf;
  return {k, sigma};
}

PsisResult psis(const std::vector<double>& log_ratios, double r_eff) {
  const size_t S = log_ratios.size();
  if (S == 0) throw std::invalid_argument("psis: no log ratios");
  for (size_t s = 0; s < S; ++s)
    if (!std::isfinite(log_ratios[s]))
      throw std::invalid_argument(fmt::format("psis: log ratio {} is {}, must be finite", s + 1,
                                              log_ratios[s]));
  PsisResult out;
  const double dS = static_cast<double>(S);
  out.tail_length = static_cast<size_t>(std::ceil(std::min(0.2 * dS, 3 * std::sqrt(dS / r_eff))));
  const double mx = *std::max_element(log_ratios.begin(), log_ratios.end());
  std::vector<double> lw(S);
  for (size_t s = 0; s < S; ++s) lw[s] = log_ratios[s] - mx;
  out.pareto_k = kInf;
  const size_t M = out.tail_length;
  if (M >= PsisResult::kMinTail && M < S) {
    std::vector<size_t> ord(S);
    std::iota(ord.begin(), ord.end(), size_t{0});
    std::stable_sort(ord.begin(), ord.end(), [&](size_t a, size_t b) { return lw[a] < lw[b]; });
    const double lo = lw[ord[S - M]], hi = lw[ord[S - 1]];
    if (std::abs(hi - lo) >= std::numeric_limits<double>::epsilon() / 100) {
      const double cutoff = lw[ord[S - M - 1]];
      const double exp_cutoff = std::exp(cutoff);
      std::vector<double> ex(M);
      for (size_t i = 0; i < M; ++i) ex[i] = std::exp(lw[ord[S - M + i]]) - exp_cutoff;
      const GpdFit fit = gpd_fit(ex);
      out.pareto_k = fit.k;
      if (std::isfinite(fit.k) && !(std::isnan(fit.sigma) || fit.sigma <= 0)) {
        for (size_t i = 0; i < M; ++i) {
          const double p = (static_cast<double>(i + 1) - 0.5) / static_cast<double>(M);
          const double q = fit.sigma * std::expm1(-fit.k * std::log1p(-p)) / fit.k;
          lw[ord[S - M + i]] = std::log(q + exp_cutoff);
        }
      } else if (std::isfinite(fit.k)) {
        // loo's qgpd returns NaN here, which propagates into the weights.
        for (size_t i = 0; i < M; ++i) lw[ord[S - M + i]] = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  for (double& v : lw) {
    if (v > 0) v = 0;
    v += mx;
  }
  const double norm = log_sum_exp(lw.data(), S);
  double ss = 0;
  for (double v : lw) {
    const double w = std::exp(v - norm);
    ss += w * w;
  }
  out.n_eff = 1 / ss * r_eff;
  out.log_weights = std::move(lw);
  return out;
}

LogLik loglik_from_draws(const Draws& d, const std::string& name) {
  // lp__ (the log density up to a constant) and the sampler's other columns are one number
  // per draw about the whole posterior: LOO of them is a number without a meaning.
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "__") == 0)
    throw std::invalid_argument("'" + name + "' is a column of the sampler, not a pointwise log-likelihood: " +
                                "name the generated quantity holding log p(y[n] | parameters) for each "
                                "observation n (log_lik[1], ..., log_lik[N])");
  std::vector<size_t> vars;
  for (size_t v = 0; v < d.num_variables(); ++v) {
    const std::string& n = d.names[v];
    if (n == name || (n.size() > name.size() && n.compare(0, name.size(), name) == 0 &&
                      (n[name.size()] == '.' || n[name.size()] == '[')))
      vars.push_back(v);
  }
  if (vars.empty())
    throw std::invalid_argument("no variable named '" + name + "' (or " + name + ".1, " + name +
                                "[1], ...) in the draws: save the pointwise log-likelihood "
                                "in generated quantities");
  LogLik ll;
  // Named here, where the columns and chains are known ("observation 1 at draw 205" named neither
  // the column nor the chain: draws were counted across chains).
  for (size_t v : vars)
    for (size_t c = 0; c < d.num_chains; ++c)
      for (size_t r = 0; r < d.num_draws; ++r)
        if (!std::isfinite(d.at(v, c, r)))
          throw std::invalid_argument(fmt::format(
              "'{}' is {} in chain {}, draw {}: PSIS-LOO needs a finite log-likelihood for every observation and "
              "draw (-inf: the observation is impossible at that draw; nan: its computation failed)",
              d.names[v], d.at(v, c, r), c + 1, r + 1));
  ll.num_draws = d.num_chains * d.num_draws;
  ll.num_obs = vars.size();
  ll.values.reserve(ll.num_draws * ll.num_obs);
  for (size_t v : vars) ll.values.insert(ll.values.end(), d.variable(v), d.variable(v) + ll.num_draws);
  return ll;
}

std::vector<double> relative_eff(const LogLik& ll, size_t num_chains) {
  check_loglik(ll);
  if (num_chains == 0 || ll.num_draws % num_chains != 0)
    throw std::invalid_argument(fmt::format("relative_eff: {} draws do not split into {} equal "
                                            "chains", ll.num_draws, num_chains));
  std::vector<double> out(ll.num_obs);
  std::vector<double> lik(ll.num_draws);
  for (size_t j = 0; j < ll.num_obs; ++j) {
    for (size_t s = 0; s < ll.num_draws; ++s) lik[s] = std::exp(ll.at(s, j));
    const ChainView v{lik.data(), ll.num_draws / num_chains, num_chains};
    out[j] = detail::ess_raw(v, true) / static_cast<double>(ll.num_draws);
  }
  return out;
}

ParetoLevel pareto_level(double k) {
  if (k <= 0.5) return ParetoLevel::Good;
  if (k <= 0.7) return ParetoLevel::Ok;
  if (k <= 1) return ParetoLevel::Bad;
  return ParetoLevel::VeryBad;
}

size_t LooResult::count(ParetoLevel level) const {
  return static_cast<size_t>(std::count_if(pareto_k.begin(), pareto_k.end(),
                                           [&](double k) { return pareto_level(k) == level; }));
}

LooResult loo(const LogLik& ll, const std::vector<double>& r_eff_in) {
  check_loglik(ll);
  const size_t S = ll.num_draws, N = ll.num_obs;
  std::vector<double> r_eff = r_eff_in.empty() ? std::vector<double>(N, 1.0) : r_eff_in;
  if (r_eff.size() != N)
    throw std::invalid_argument(fmt::format("loo: r_eff has {} values, expected one per "
                                            "observation ({})", r_eff.size(), N));
  LooResult r;
  r.r_eff = r_eff;
  std::vector<double> neg(S), tmp(S);
  for (size_t j = 0; j < N; ++j) {
    const double* llj = ll.values.data() + j * S;
    for (size_t s = 0; s < S; ++s) neg[s] = -llj[s];
    PsisResult p = psis(neg, r_eff[j]);
    const double norm = log_sum_exp(p.log_weights.data(), S);
    for (double& v : p.log_weights) v -= norm;
    for (size_t s = 0; s < S; ++s) tmp[s] = llj[s] + p.log_weights[s];
    const double elpd = log_sum_exp(tmp.data(), S);
    const double lpd = log_sum_exp(llj, S) - std::log(static_cast<double>(S));
    r.elpd_loo.push_back(elpd);
    r.mcse_elpd_loo.push_back(mcse_elpd(llj, p.log_weights.data(), S, elpd, r_eff[j]));
    r.p_loo.push_back(lpd - elpd);
    r.looic.push_back(-2 * elpd);
    r.pareto_k.push_back(p.pareto_k);
    r.n_eff.push_back(p.n_eff);
  }
  r.elpd = total(r.elpd_loo);
  r.p = total(r.p_loo);
  r.ic = total(r.looic);
  return r;
}

size_t WaicResult::count_p_waic_over_04() const {
  return static_cast<size_t>(
      std::count_if(p_waic.begin(), p_waic.end(), [](double pw) { return pw > 0.4; }));
}

WaicResult waic(const LogLik& ll) {
  check_loglik(ll);
  const size_t S = ll.num_draws;
  WaicResult w;
  for (size_t j = 0; j < ll.num_obs; ++j) {
    const double* llj = ll.values.data() + j * S;
    const double lpd = log_sum_exp(llj, S) - std::log(static_cast<double>(S));
    const double p = var(llj, S);
    w.elpd_waic.push_back(lpd - p);
    w.p_waic.push_back(p);
    w.waic.push_back(-2 * (lpd - p));
  }
  w.elpd = total(w.elpd_waic);
  w.p = total(w.p_waic);
  w.ic = total(w.waic);
  return w;
}

std::vector<CompareRow> loo_compare(const std::vector<std::string>& names,
                                    const std::vector<LooResult>& models) {
  if (models.size() < 2) throw std::invalid_argument("loo_compare needs at least two models");
  if (names.size() != models.size())
    throw std::invalid_argument("loo_compare: one name per model expected");
  for (size_t m = 1; m < models.size(); ++m)
    if (models[m].elpd_loo.size() != models[0].elpd_loo.size())
      throw std::invalid_argument(fmt::format(
          "loo_compare: model '{}' has {} observations, '{}' has {}: not the same data",
          names[m], models[m].elpd_loo.size(), names[0], models[0].elpd_loo.size()));
  std::vector<size_t> ord(models.size());
  std::iota(ord.begin(), ord.end(), size_t{0});
  std::stable_sort(ord.begin(), ord.end(), [&](size_t a, size_t b) {
    return models[a].elpd.estimate > models[b].elpd.estimate;
  });
  const LooResult& best = models[ord[0]];
  const size_t N = best.elpd_loo.size();
  std::vector<CompareRow> rows;
  for (size_t m : ord) {
    std::vector<double> diff(N);
    for (size_t i = 0; i < N; ++i) diff[i] = models[m].elpd_loo[i] - best.elpd_loo[i];
    CompareRow row;
    row.model = names[m];
    long double s = 0;
    for (double d : diff) s += d;
    row.elpd_diff = static_cast<double>(s);
    row.se_diff = std::sqrt(static_cast<double>(N)) * std::sqrt(var(diff.data(), N));
    row.elpd_loo = models[m].elpd.estimate;
    row.se_elpd_loo = models[m].elpd.se;
    row.p_loo = models[m].p.estimate;
    row.looic = models[m].ic.estimate;
    rows.push_back(row);
  }
  return rows;
}

namespace {
std::string num17(double v) {
  if (std::isnan(v)) return "NA";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  return fmt::format("{:.17g}", v);
}
std::string json17(double v) { return std::isfinite(v) ? fmt::format("{:.17g}", v) : "null"; }
std::string json_array(const std::vector<double>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + json17(v[i]);
  return o + "]";
}
std::string json_estimate(const char* name, const Estimate& e) {
  return fmt::format("\"{}\": {{\"estimate\": {}, \"se\": {}}}", name, json17(e.estimate),
                     json17(e.se));
}
std::string estimates_table(const char* a, const Estimate& ea, const char* b, const Estimate& eb,
                            const char* c, const Estimate& ec) {
  std::string out = fmt::format("{:<10}{:>10}{:>8}\n", "", "Estimate", "SE");
  out += fmt::format("{:<10}{:>10.1f}{:>8.1f}\n", a, ea.estimate, ea.se);
  out += fmt::format("{:<10}{:>10.1f}{:>8.1f}\n", b, eb.estimate, eb.se);
  out += fmt::format("{:<10}{:>10.1f}{:>8.1f}\n", c, ec.estimate, ec.se);
  return out;
}
}  // namespace

std::string format_loo(const LooResult& r, Format f) {
  const size_t n = r.pareto_k.size();
  if (f == Format::Csv) {
    std::string out = "observation,elpd_loo,mcse_elpd_loo,p_loo,looic,pareto_k,n_eff,r_eff\n";
    for (size_t i = 0; i < n; ++i)
      out += fmt::format("{},{},{},{},{},{},{},{}\n", i + 1, num17(r.elpd_loo[i]),
                         num17(r.mcse_elpd_loo[i]), num17(r.p_loo[i]), num17(r.looic[i]),
                         num17(r.pareto_k[i]), num17(r.n_eff[i]), num17(r.r_eff[i]));
    return out;
  }
  if (f == Format::Json) {
    return "{" + json_estimate("elpd_loo", r.elpd) + ", " + json_estimate("p_loo", r.p) + ", " +
           json_estimate("looic", r.ic) + ",\n \"pointwise\": {\"elpd_loo\": " +
           json_array(r.elpd_loo) + ",\n  \"mcse_elpd_loo\": " + json_array(r.mcse_elpd_loo) +
           ",\n  \"p_loo\": " + json_array(r.p_loo) + ",\n  \"looic\": " + json_array(r.looic) +
           ",\n  \"pareto_k\": " + json_array(r.pareto_k) + ",\n  \"n_eff\": " +
           json_array(r.n_eff) + ",\n  \"r_eff\": " + json_array(r.r_eff) + "}}\n";
  }
  std::string out = fmt::format("Computed from {} observations.\n\n", n);
  out += estimates_table("elpd_loo", r.elpd, "p_loo", r.p, "looic", r.ic);
  const size_t bad = r.count(ParetoLevel::Bad) + r.count(ParetoLevel::VeryBad);
  out += "\nPareto k diagnostic values:\n";
  const char* labels[] = {"(-Inf, 0.5]  (good)", "(0.5, 0.7]   (ok)", "(0.7, 1]     (bad)",
                          "(1, Inf)     (very bad)"};
  const ParetoLevel levels[] = {ParetoLevel::Good, ParetoLevel::Ok, ParetoLevel::Bad,
                                ParetoLevel::VeryBad};
  for (int i = 0; i < 4; ++i) {
    const size_t c = r.count(levels[i]);
    out += fmt::format("  {:<24}{:>6} {:>6.1f}%\n", labels[i], c,
                       n ? 100.0 * static_cast<double>(c) / static_cast<double>(n) : 0.0);
  }
  if (bad > 0)
    out += fmt::format("Warning: {} observation(s) with k > 0.7: PSIS-LOO is unreliable for them; "
                       "refit without each (exact LOO), use moment matching or K-fold CV.\n", bad);
  else if (r.count(ParetoLevel::Ok) > 0)
    out += "Some Pareto k values are slightly high (0.5 < k <= 0.7); the estimate is usable.\n";
  return out;
}

std::string format_waic(const WaicResult& w, Format f) {
  const size_t n = w.waic.size();
  if (f == Format::Csv) {
    std::string out = "observation,elpd_waic,p_waic,waic\n";
    for (size_t i = 0; i < n; ++i)
      out += fmt::format("{},{},{},{}\n", i + 1, num17(w.elpd_waic[i]), num17(w.p_waic[i]),
                         num17(w.waic[i]));
    return out;
  }
  if (f == Format::Json) {
    return "{" + json_estimate("elpd_waic", w.elpd) + ", " + json_estimate("p_waic", w.p) + ", " +
           json_estimate("waic", w.ic) + ",\n \"pointwise\": {\"elpd_waic\": " +
           json_array(w.elpd_waic) + ",\n  \"p_waic\": " + json_array(w.p_waic) +
           ",\n  \"waic\": " + json_array(w.waic) + "}}\n";
  }
  std::string out = fmt::format("Computed from {} observations.\n\n", n);
  out += estimates_table("elpd_waic", w.elpd, "p_waic", w.p, "waic", w.ic);
  const size_t high = w.count_p_waic_over_04();
  if (high > 0)
    out += fmt::format("\nWarning: {} ({:.1f}%) p_waic estimates greater than 0.4. We recommend "
                       "trying loo instead.\n", high,
                       100.0 * static_cast<double>(high) / static_cast<double>(n));
  return out;
}

std::string format_compare(const std::vector<CompareRow>& rows, Format f) {
  if (f == Format::Csv) {
    std::string out = "model,elpd_diff,se_diff,elpd_loo,se_elpd_loo,p_loo,looic\n";
    for (const auto& r : rows)
      out += fmt::format("{},{},{},{},{},{},{}\n", r.model, num17(r.elpd_diff), num17(r.se_diff),
                         num17(r.elpd_loo), num17(r.se_elpd_loo), num17(r.p_loo), num17(r.looic));
    return out;
  }
  if (f == Format::Json) {
    std::string out = "[\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      out += fmt::format("  {{\"model\": \"{}\", \"elpd_diff\": {}, \"se_diff\": {}, "
                         "\"elpd_loo\": {}, \"se_elpd_loo\": {}, \"p_loo\": {}, \"looic\": {}}}{}\n",
                         r.model, json17(r.elpd_diff), json17(r.se_diff), json17(r.elpd_loo),
                         json17(r.se_elpd_loo), json17(r.p_loo), json17(r.looic),
                         i + 1 < rows.size() ? "," : "");
    }
    return out + "]\n";
  }
  size_t w = 5;
  for (const auto& r : rows) w = std::max(w, r.model.size());
  std::string out = fmt::format("{:<{}}  {:>10}  {:>8}\n", "model", w, "elpd_diff", "se_diff");
  for (const auto& r : rows)
    out += fmt::format("{:<{}}  {:>10.1f}  {:>8.1f}\n", r.model, w, r.elpd_diff, r.se_diff);
  return out;
}

}  // namespace exmc::analysis
