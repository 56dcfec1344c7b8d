// The ten hand-written models; each logp_grad is allocation-free, const and re-entrant.
#include "handwritten.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "exmc/core/math.hpp"

namespace exmc::bench {
namespace {

// Each model's body is compiled for AVX2 and for baseline x86-64 and picked at load time, as
// the graph's kernels are, so the comparison is not of instruction sets (off under sanitizers).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(EXMC_NO_CLONES)
#define EXMC_BENCH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EXMC_BENCH_CLONES
#endif
// eval() is inlined into both clones; logp_grad() dispatches to them.
#define EXMC_BENCH_DISPATCH(Model)                                                     \
  EXMC_BENCH_CLONES double eval_##Model(const Model& m, const double* x, double* g) { \
    return m.eval(x, g);                                                               \
  }                                                                                    \
  double Model::logp_grad(const double* x, double* g) const { return eval_##Model(*this, x, g); }

// A parameter block: `size` unconstrained coordinates, exp-transformed when lower-bounded at 0.
struct Block {
  std::string name;
  size_t size;      // 0 means a scalar
  bool positive;
};

class HandModel : public LogDensity {
 public:
  explicit HandModel(std::vector<Block> blocks) : blocks_(std::move(blocks)) {
    for (const auto& b : blocks_) dim_ += std::max<size_t>(b.size, 1);
  }
  size_t dim() const override { return dim_; }
  std::vector<VarInfo> output_vars() const override {
    std::vector<VarInfo> v;
    for (const auto& b : blocks_)
      v.push_back({b.name, b.size == 0 ? std::vector<size_t>{} : std::vector<size_t>{b.size}});
    return v;
  }
  void constrain(const double* x, double* out) const override {
    size_t i = 0;
    for (const auto& b : blocks_)
      for (size_t k = 0; k < std::max<size_t>(b.size, 1); ++k, ++i)
        out[i] = b.positive ? std::exp(x[i]) : x[i];
  }

 private:
  std::vector<Block> blocks_;
  size_t dim_ = 0;
};

size_t count(const BenchData& d, const char* name) {
  long n = d.integer(name);
  if (n < 0) throw std::runtime_error(d.path() + ": variable '" + name + "' must be >= 0");
  return static_cast<size_t>(n);
}

// simple: mu ~ normal(0,10); sigma ~ exponential(1); y ~ normal(mu, sigma).
class Simple final : public HandModel {
 public:
  explicit Simple(const BenchData& d)
      : HandModel({{"mu", 0, false}, {"sigma", 0, true}}), y_(d.vector("y", count(d, "N"))) {}
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], u = x[1], sigma = std::exp(u), inv_s2 = 1.0 / (sigma * sigma);
    const size_t n = y_.size();
    double ss = 0, sr = 0;
    for (size_t i = 0; i < n; ++i) {
      const double r = y_[i] - mu;
      sr += r;
      ss += r * r;
    }
    g[0] = -mu * 0.01 + sr * inv_s2;
    g[1] = -sigma + 1.0 - double(n) + ss * inv_s2;
    return -0.005 * mu * mu - sigma + u - double(n) * u - 0.5 * ss * inv_s2;
  }

 private:
  std::vector<double> y_;
};
EXMC_BENCH_DISPATCH(Simple)

// medium: two groups (alpha, beta) under normal(mu_global, sigma_global).
class Medium final : public HandModel {
 public:
  explicit Medium(const BenchData& d)
      : HandModel({{"mu_global", 0, false},
                   {"sigma_global", 0, true},
                   {"alpha", 0, false},
                   {"beta", 0, false},
                   {"sigma_obs", 0, true}}),
        ya_(d.vector("y_a", count(d, "N_a"))),
        yb_(d.vector("y_b", count(d, "N_b"))) {}
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], ug = x[1], a = x[2], b = x[3], uo = x[4];
    const double sg = std::exp(ug), so = std::exp(uo);
    const double ig2 = 1.0 / (sg * sg), io2 = 1.0 / (so * so);
    double sra = 0, ssa = 0, srb = 0, ssb = 0;
    for (double v : ya_) {
      const double r = v - a;
      sra += r;
      ssa += r * r;
    }
    for (double v : yb_) {
      const double r = v - b;
      srb += r;
      ssb += r * r;
    }
    const double da = a - mu, db = b - mu, qg = da * da + db * db;
    const double nobs = double(ya_.size() + yb_.size());
    g[0] = -mu * 0.01 + (da + db) * ig2;
    g[1] = -sg + 1.0 - 2.0 + qg * ig2;
    g[2] = -da * ig2 + sra * io2;
    g[3] = -db * ig2 + srb * io2;
    g[4] = -2.0 * so + 1.0 - nobs + (ssa + ssb) * io2;
    return -0.005 * mu * mu - sg + ug - 2.0 * ug - 0.5 * qg * ig2 - 2.0 * so + uo - nobs * uo -
           0.5 * (ssa + ssb) * io2;
  }

 private:
  std::vector<double> ya_, yb_;
};
EXMC_BENCH_DISPATCH(Medium)

// stress: J groups, each with its own noise scale.
class Stress final : public HandModel {
 public:
  explicit Stress(const BenchData& d)
      : HandModel({{"mu_pop", 0, false},
                   {"sigma_pop", 0, true},
                   {"group", count(d, "J"), false},
                   {"noise", count(d, "J"), true}}),
        n_(count(d, "N")),
        j_(count(d, "J")),
        y_(d.matrix_row_major("y", j_, n_)) {}
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], up = x[1], sp = std::exp(up), ip2 = 1.0 / (sp * sp);
    const double* grp = x + 2;
    const double* un = x + 2 + j_;
    double lp = -0.005 * mu * mu - 0.5 * sp + up - double(j_) * up;
    double gmu = -mu * 0.01, qp = 0;
    for (size_t j = 0; j < j_; ++j) {
      const double dg = grp[j] - mu;
      qp += dg * dg;
      gmu += dg * ip2;
      const double noise = std::exp(un[j]), in2 = 1.0 / (noise * noise);
      const double* yj = y_.data() + j * n_;
      double sr = 0, ss = 0;
      for (size_t i = 0; i < n_; ++i) {
        const double r = yj[i] - grp[j];
        sr += r;
        ss += r * r;
      }
      g[2 + j] = -dg * ip2 + sr * in2;
      g[2 + j_ + j] = -noise + 1.0 - double(n_) + ss * in2;
      lp += -noise + un[j] - double(n_) * un[j] - 0.5 * ss * in2;
    }
    g[0] = gmu;
    g[1] = -0.5 * sp + 1.0 - double(j_) + qp * ip2;
    return lp - 0.5 * qp * ip2;
  }

 private:
  size_t n_, j_;
  std::vector<double> y_;
};
EXMC_BENCH_DISPATCH(Stress)

// eight schools, centred: theta ~ normal(mu, tau); y ~ normal(theta, sigma) with sigma data.
class EightCentered final : public HandModel {
 public:
  explicit EightCentered(const BenchData& d)
      : HandModel({{"mu", 0, false}, {"tau", 0, true}, {"theta", count(d, "J"), false}}),
        y_(d.vector("y", count(d, "J"))),
        inv_var_(d.vector("sigma", count(d, "J"))) {
    for (auto& s : inv_var_) s = 1.0 / (s * s);
  }
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], ut = x[1], tau = std::exp(ut), it2 = 1.0 / (tau * tau);
    const double* th = x + 2;
    const size_t J = y_.size();
    double q = 0, qy = 0, gmu = -mu * 0.04;
    for (size_t j = 0; j < J; ++j) {
      const double dt = th[j] - mu, r = y_[j] - th[j];
      q += dt * dt;
      qy += r * r * inv_var_[j];
      gmu += dt * it2;
      g[2 + j] = -dt * it2 + r * inv_var_[j];
    }
    g[0] = gmu;
    g[1] = -tau * tau * 0.04 + 1.0 - double(J) + q * it2;
    return -0.02 * mu * mu - 0.02 * tau * tau + ut - double(J) * ut - 0.5 * q * it2 - 0.5 * qy;
  }

 private:
  std::vector<double> y_, inv_var_;
};
EXMC_BENCH_DISPATCH(EightCentered)

// eight schools, non-centred: theta = mu + tau * theta_tilde.
class EightNoncentered final : public HandModel {
 public:
  explicit EightNoncentered(const BenchData& d)
      : HandModel({{"mu", 0, false}, {"tau", 0, true}, {"theta_tilde", count(d, "J"), false}}),
        y_(d.vector("y", count(d, "J"))),
        inv_var_(d.vector("sigma", count(d, "J"))) {
    for (auto& s : inv_var_) s = 1.0 / (s * s);
  }
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], ut = x[1], tau = std::exp(ut);
    const double* tt = x + 2;
    const size_t J = y_.size();
    double qt = 0, qy = 0, sr = 0, srt = 0;
    for (size_t j = 0; j < J; ++j) {
      const double e = y_[j] - (mu + tau * tt[j]), r = e * inv_var_[j];
      qt += tt[j] * tt[j];
      qy += e * r;
      sr += r;
      srt += r * tt[j];
      g[2 + j] = -tt[j] + tau * r;
    }
    g[0] = -mu * 0.04 + sr;
    g[1] = -tau * tau * 0.04 + 1.0 + tau * srt;
    return -0.02 * mu * mu - 0.02 * tau * tau + ut - 0.5 * qt - 0.5 * qy;
  }

 private:
  std::vector<double> y_, inv_var_;
};
EXMC_BENCH_DISPATCH(EightNoncentered)

// Neal's funnel: y ~ normal(0, 3); x ~ normal(0, exp(y/2)).
class Funnel final : public HandModel {
 public:
  Funnel() : HandModel({{"y", 0, false}, {"x", 9, false}}) {}
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double y = x[0], ie = std::exp(-y);
    double sxx = 0;
    for (size_t i = 1; i < 10; ++i) {
      sxx += x[i] * x[i];
      g[i] = -x[i] * ie;
    }
    g[0] = -y / 9.0 - 4.5 + 0.5 * sxx * ie;
    return -y * y / 18.0 - 4.5 * y - 0.5 * sxx * ie;
  }
};
EXMC_BENCH_DISPATCH(Funnel)

// Logistic regression: eta = alpha + X beta and X^T r through Eigen's matrix-vector kernels on a
// column-major X (faster than a fused row loop without -ffast-math: Eigen vectorises both).
class Logistic final : public HandModel {
 public:
  explicit Logistic(const BenchData& d)
      : HandModel({{"alpha", 0, false}, {"beta", count(d, "K"), false}}),
        n_(count(d, "N")),
        k_(count(d, "K")),
        x_(Eigen::Index(n_), Eigen::Index(k_)),
        y_(Eigen::Index(n_)) {
    const auto xr = d.matrix_row_major("X", n_, k_);
    for (size_t i = 0; i < n_; ++i)
      for (size_t k = 0; k < k_; ++k) x_(Eigen::Index(i), Eigen::Index(k)) = xr[i * k_ + k];
    auto yi = d.int_vector("y", n_);
    for (size_t i = 0; i < n_; ++i) {
      if (yi[i] != 0 && yi[i] != 1)
        throw std::runtime_error(d.path() + ": variable 'y': expected 0 or 1, found " +
                                 std::to_string(yi[i]) + " at index " + std::to_string(i + 1));
      y_[Eigen::Index(i)] = double(yi[i]);
    }
  }
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    // Per-thread scratch: allocated on a thread's first call only (re-entrant, then alloc-free).
    thread_local Eigen::VectorXd eta;
    if (eta.size() < Eigen::Index(n_)) eta.resize(Eigen::Index(n_));
    auto e = eta.head(Eigen::Index(n_));
    const double alpha = x[0];
    Eigen::Map<const Eigen::VectorXd> beta(x + 1, Eigen::Index(k_));
    Eigen::Map<Eigen::VectorXd> gb(g + 1, Eigen::Index(k_));
    e.noalias() = x_ * beta;
    double lp = 0, gal = 0;
    for (Eigen::Index i = 0; i < Eigen::Index(n_); ++i) {
      const double v = alpha + e[i];
      // One exp serves both log1p_exp(eta) and inv_logit(eta).
      const double ex = std::exp(-std::fabs(v));
      const double p = v >= 0 ? 1.0 / (1.0 + ex) : ex / (1.0 + ex);
      lp += y_[i] * v - (std::max(v, 0.0) + std::log1p(ex));
      const double r = y_[i] - p;
      gal += r;
      e[i] = r;
    }
    gb.noalias() = x_.transpose() * e;
    gb -= 0.01 * beta;
    g[0] = -alpha * 0.01 + gal;
    return lp - 0.005 * alpha * alpha - 0.005 * beta.squaredNorm();
  }

 private:
  size_t n_, k_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;
};
EXMC_BENCH_DISPATCH(Logistic)

// Stochastic volatility: Gaussian random walk of log-volatilities, Student-t returns.
class Sv final : public HandModel {
 public:
  explicit Sv(const BenchData& d)
      : HandModel({{"sigma", 0, true}, {"nu", 0, true}, {"s", count(d, "T"), false}}),
        r2_(d.vector("r", count(d, "T"))) {
    if (r2_.empty()) throw std::runtime_error(d.path() + ": variable 'T' must be >= 1");
    for (auto& v : r2_) v *= v;
  }
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double us = x[0], un = x[1], sigma = std::exp(us), nu = std::exp(un);
    const double is2 = 1.0 / (sigma * sigma), inu = 1.0 / nu;
    const double* s = x + 2;
    double* gs = g + 2;
    const size_t T = r2_.size();
    const double Td = double(T);
    // Random walk: q = s1^2 + sum (s_t - s_{t-1})^2.
    double q = s[0] * s[0];
    gs[0] = -s[0] * is2;
    for (size_t t = 1; t < T; ++t) {
      const double dlt = s[t] - s[t - 1];
      q += dlt * dlt;
      gs[t] = -dlt * is2;
      gs[t - 1] += dlt * is2;
    }
    // Student-t(nu, 0, exp(s_t)) terms that depend on parameters.
    const double hn1 = 0.5 * (nu + 1.0);
    double sum_s = 0, sum_l = 0, sum_w = 0;
    for (size_t t = 0; t < T; ++t) {
      const double z = r2_[t] * std::exp(-2.0 * s[t]) * inu;
      const double w = z / (1.0 + z);
      sum_s += s[t];
      sum_l += std::log1p(z);
      sum_w += w;
      gs[t] += -1.0 + (nu + 1.0) * w;
    }
    const double lg = math::lgamma(hn1) - math::lgamma(0.5 * nu);
    const double dg = 0.5 * (math::digamma(hn1) - math::digamma(0.5 * nu));
    const double dlp_dnu = Td * (dg - 0.5 * inu) - 0.5 * sum_l + hn1 * inu * sum_w;
    g[0] = -50.0 * sigma + 1.0 - Td + q * is2;
    g[1] = -0.1 * nu + 1.0 + nu * dlp_dnu;
    return -50.0 * sigma + us - 0.1 * nu + un - Td * us - 0.5 * q * is2 +
           Td * (lg - 0.5 * un) - sum_s - hn1 * sum_l;
  }

 private:
  std::vector<double> r2_;
};
EXMC_BENCH_DISPATCH(Sv)

// hier_big: non-centred 50-group normal, y ~ normal(theta[g], sigma_y) with sigma_y data.
class HierBig final : public HandModel {
 public:
  explicit HierBig(const BenchData& d)
      : HandModel({{"mu", 0, false}, {"tau", 0, true}, {"z", count(d, "J"), false}}),
        j_(count(d, "J")),
        y_(d.vector("y", count(d, "N"))),
        g_(y_.size()) {
    const double sy = d.real("sigma_y");
    if (!(sy > 0)) throw std::runtime_error(d.path() + ": variable 'sigma_y' must be positive");
    inv_var_ = 1.0 / (sy * sy);
    auto gi = d.int_vector("g", y_.size());
    for (size_t i = 0; i < gi.size(); ++i) {
      if (gi[i] < 1 || gi[i] > long(j_))
        throw std::runtime_error(d.path() + ": variable 'g': expected 1.." + std::to_string(j_) +
                                 ", found " + std::to_string(gi[i]) + " at index " +
                                 std::to_string(i + 1));
      g_[i] = unsigned(gi[i] - 1);
    }
  }
  double logp_grad(const double* x, double* g) const override;
  [[gnu::always_inline]] inline double eval(const double* x, double* g) const {
    const double mu = x[0], ut = x[1], tau = std::exp(ut);
    const double* z = x + 2;
    double* gz = g + 2;
    // theta lives in the gradient slots first (they are overwritten below), so no scratch.
    double qz = 0;
    for (size_t j = 0; j < j_; ++j) {
      qz += z[j] * z[j];
      gz[j] = 0;
    }
    // Per-group residual sums, accumulated in registers along runs of equal g (any order is
    // correct; grouped data, as here, makes it one store per group instead of per observation).
    double qy0 = 0, qy1 = 0;
    const size_t n = y_.size();
    size_t i = 0;
    while (i < n) {
      const unsigned j = g_[i];
      const double th = mu + tau * z[j];
      double e0 = 0, e1 = 0;
      size_t k = i;
      for (; k + 1 < n && g_[k] == j && g_[k + 1] == j; k += 2) {
        const double a = y_[k] - th, b = y_[k + 1] - th;
        e0 += a;
        e1 += b;
        qy0 += a * a;
        qy1 += b * b;
      }
      if (k < n && g_[k] == j) {
        const double a = y_[k] - th;
        e0 += a;
        qy0 += a * a;
        ++k;
      }
      gz[j] += e0 + e1;
      i = k;
    }
    const double qy = qy0 + qy1;
    double sr = 0, srz = 0;
    for (size_t j = 0; j < j_; ++j) {
      const double r = gz[j] * inv_var_;
      sr += r;
      srz += r * z[j];
      gz[j] = -z[j] + tau * r;
    }
    g[0] = -mu * 0.01 + sr;
    g[1] = -tau * tau * 0.04 + 1.0 + tau * srz;
    return -0.005 * mu * mu - 0.02 * tau * tau + ut - 0.5 * qz - 0.5 * qy * inv_var_;
  }

 private:
  size_t j_;
  std::vector<double> y_;
  std::vector<unsigned> g_;
  double inv_var_ = 1;
};
EXMC_BENCH_DISPATCH(HierBig)

}  // namespace

std::unique_ptr<LogDensity> make_handwritten(const std::string& model, const BenchData& d) {
  if (model == "simple") return std::make_unique<Simple>(d);
  if (model == "medium") return std::make_unique<Medium>(d);
  if (model == "stress") return std::make_unique<Stress>(d);
  if (model == "eight_schools_centered") return std::make_unique<EightCentered>(d);
  if (model == "eight_schools_noncentered") return std::make_unique<EightNoncentered>(d);
  if (model == "funnel") return std::make_unique<Funnel>();
  if (model == "logistic" || model == "logistic_big") return std::make_unique<Logistic>(d);
  if (model == "sv") return std::make_unique<Sv>(d);
  if (model == "hier_big") return std::make_unique<HierBig>(d);
  throw std::runtime_error("unknown benchmark model '" + model + "'");
}

}  // namespace exmc::bench
