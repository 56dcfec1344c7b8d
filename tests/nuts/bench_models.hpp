// Three benchmark models of ../shared/bench written out by hand (Stan's transforms and
// dropped constants), for sampler tests and hand-run comparisons with Stan's warmup.
#pragma once

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"

namespace exmc::testing {


// eight_schools_noncentered.stan: mu, log tau, theta_tilde[8]; y ~ normal(mu + tau * tt, sigma).
class EightNoncentered final : public LogDensity {
 public:
  size_t dim() const override { return 10; }
  double logp_grad(const double* x, double* g) const override {
    const double mu = x[0], tau = std::exp(x[1]);
    double lp = -mu * mu / 50 - tau * tau / 50 + x[1];
    g[0] = -mu / 25;
    g[1] = -tau * tau / 25 + 1;
    for (int j = 0; j < 8; ++j) {
      const double tt = x[2 + j], s2 = sigma_[j] * sigma_[j];
      const double r = y_[j] - mu - tau * tt;
      lp += -0.5 * tt * tt - 0.5 * r * r / s2;
      g[0] += r / s2;
      g[1] += r / s2 * tau * tt;
      g[2 + j] = -tt + r / s2 * tau;
    }
    return lp;
  }

 private:
  const double y_[8] = {28, 8, -3, 7, -1, 1, 18, 12};
  const double sigma_[8] = {15, 10, 16, 11, 9, 11, 10, 18};
};

// eight_schools_centered.stan: mu, log tau, theta[8]; theta ~ normal(mu, tau), y ~ normal(theta, sigma).
class EightCentered final : public LogDensity {
 public:
  size_t dim() const override { return 10; }
  double logp_grad(const double* x, double* g) const override {
    const double mu = x[0], tau = std::exp(x[1]), it2 = 1 / (tau * tau);
    double lp = -mu * mu / 50 - tau * tau / 50 + x[1] - 8 * x[1];
    g[0] = -mu / 25;
    g[1] = -tau * tau / 25 + 1 - 8;
    for (int j = 0; j < 8; ++j) {
      const double th = x[2 + j], dt = th - mu, s2 = sigma_[j] * sigma_[j], r = y_[j] - th;
      lp += -0.5 * dt * dt * it2 - 0.5 * r * r / s2;
      g[0] += dt * it2;
      g[1] += dt * dt * it2;
      g[2 + j] = -dt * it2 + r / s2;
    }
    return lp;
  }

 private:
  const double y_[8] = {28, 8, -3, 7, -1, 1, 18, 12};
  const double sigma_[8] = {15, 10, 16, 11, 9, 11, 10, 18};
};

// funnel.stan (Neal's funnel): y ~ normal(0, 3), x[1..9] ~ normal(0, exp(y / 2)).
class Funnel final : public LogDensity {
 public:
  size_t dim() const override { return 10; }
  double logp_grad(const double* x, double* g) const override {
    const double y = x[0], iv = std::exp(-y);
    double s = 0;
    for (int i = 1; i < 10; ++i) {
      s += x[i] * x[i];
      g[i] = -x[i] * iv;
    }
    g[0] = -y / 9 + 0.5 * s * iv - 4.5;
    return -y * y / 18 - 0.5 * s * iv - 4.5 * y;
  }
};

// stress.stan: mu_pop, log sigma_pop, group[J], log noise[J]; y[j] ~ normal(group[j], noise[j]).
class Stress final : public LogDensity {
 public:
  explicit Stress(const std::string& data_path) {
    std::ifstream f(data_path);
    if (!f) throw std::runtime_error("cannot open " + data_path);
    const auto j = nlohmann::json::parse(f);
    for (const auto& row : j.at("y")) y_.push_back(row.get<std::vector<double>>());
  }
  size_t dim() const override { return 2 + 2 * y_.size(); }
  double logp_grad(const double* x, double* g) const override {
    const size_t J = y_.size();
    const double mu = x[0], sp = std::exp(x[1]);
    double lp = -mu * mu / 200 - 0.5 * sp + x[1];
    g[0] = -mu / 100;
    g[1] = -0.5 * sp + 1;
    for (size_t j = 0; j < J; ++j) {
      const double grp = x[2 + j], dg = grp - mu;
      lp += -0.5 * dg * dg / (sp * sp) - x[1];
      g[0] += dg / (sp * sp);
      g[1] += dg * dg / (sp * sp) - 1;
      g[2 + j] = -dg / (sp * sp);
      const double un = x[2 + J + j], noise = std::exp(un);
      lp += -noise + un;
      g[2 + J + j] = -noise + 1;
      double ss = 0, sr = 0;
      for (double yi : y_[j]) ss += (yi - grp) * (yi - grp), sr += yi - grp;
      const double n = double(y_[j].size());
      lp += -0.5 * ss / (noise * noise) - n * un;
      g[2 + j] += sr / (noise * noise);
      g[2 + J + j] += ss / (noise * noise) - n;
    }
    return lp;
  }

 private:
  std::vector<std::vector<double>> y_;
};

// Central differences: a wrong hand gradient would make the whole comparison meaningless.
inline void check_gradient(const LogDensity& ld) {
  const size_t d = ld.dim();
  std::vector<double> x(d), g(d), gp(d);
  for (size_t i = 0; i < d; ++i) x[i] = 0.3 * std::sin(1.0 + i);
  ld.logp_grad(x.data(), g.data());
  for (size_t i = 0; i < d; ++i) {
    const double h = 1e-6;
    std::vector<double> a = x, b = x;
    a[i] += h, b[i] -= h;
    const double fd = (ld.logp_grad(a.data(), gp.data()) - ld.logp_grad(b.data(), gp.data())) / (2 * h);
    if (std::fabs(fd - g[i]) > 1e-5 * (1 + std::fabs(g[i])))
      throw std::runtime_error("gradient " + std::to_string(i) + ": " + std::to_string(g[i]) +
                               " vs finite difference " + std::to_string(fd));
  }
}


}  // namespace exmc::testing
