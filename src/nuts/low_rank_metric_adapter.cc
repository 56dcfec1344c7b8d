// Low-rank metric estimation (Eigen: thin SVDs, QR and symmetric eigen-decompositions).
#include "exmc/nuts/low_rank_metric_adapter.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "exmc/core/state_io.hpp"

namespace exmc::nuts {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kMinStd = 1e-5, kMaxStd = 1e5;  // stds^2 stays within GradMetricAdapter's range

// A^{1/2} and A^{-1/2} of a symmetric positive-definite matrix.
void spd_sqrt(const MatrixXd& a, MatrixXd& sqrt_a, MatrixXd& inv_sqrt_a) {
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(a);
  const VectorXd s = es.eigenvalues().cwiseMax(1e-300).cwiseSqrt();
  sqrt_a = es.eigenvectors() * s.asDiagonal() * es.eigenvectors().transpose();
  inv_sqrt_a = es.eigenvectors() * s.cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
}

}  // namespace

LowRankMetricAdapter::LowRankMetricAdapter(size_t dim, unsigned num_warmup,
                                           GradMetricConfig schedule, LowRankConfig cfg)
    : d_(dim),
      sched_(schedule),
      cfg_(cfg),
      early_end_(static_cast<unsigned>(schedule.early_fraction * num_warmup)),
      freeze_at_(num_warmup -
                 static_cast<unsigned>(schedule.step_size_fraction * num_warmup)) {}

void LowRankMetricAdapter::start(const PhasePoint& init, Metric& metric) {
  std::vector<double> stds(d_);
  for (size_t i = 0; i < d_; ++i) {
    const double a = std::fabs(init.g[i]);
    stds[i] = a > 0 ? std::clamp(std::sqrt(1.0 / a), kMinStd, kMaxStd) : 1.0;
  }
  metric = Metric::low_rank(std::move(stds), {}, {});
}

Metric LowRankMetricAdapter::estimate(const std::vector<double>& draws,
                                      const std::vector<double>& grads, size_t d,
                                      const LowRankConfig& cfg) {
  const auto n = static_cast<Eigen::Index>(draws.size() / d);
  const auto di = static_cast<Eigen::Index>(d);
  MatrixXd x = Eigen::Map<const MatrixXd>(draws.data(), di, n);
  MatrixXd g = Eigen::Map<const MatrixXd>(grads.data(), di, n);
  // Centre, then rescale so the diagonal part is the identity: x / (s n), g s / n with
  // s = sqrt(sd x / sd g).
  std::vector<double> stds(d);
  for (Eigen::Index i = 0; i < di; ++i) {
    x.row(i).array() -= x.row(i).mean();
    g.row(i).array() -= g.row(i).mean();
    const double sx = x.row(i).norm(), sg = g.row(i).norm();
    double s = std::sqrt(sx / sg);
    if (!std::isfinite(s) || !(s > 0)) s = 1.0;
    s = std::clamp(s, kMinStd, kMaxStd);
    stds[static_cast<size_t>(i)] = s;
    x.row(i) /= s * double(n);
    g.row(i) *= s / double(n);
  }
  // Orthonormal basis of the span of the draws and gradients.
  const Eigen::BDCSVD<MatrixXd> svd_x(x, Eigen::ComputeThinU), svd_g(g, Eigen::ComputeThinU);
  MatrixXd span(di, svd_x.matrixU().cols() + svd_g.matrixU().cols());
  span << svd_x.matrixU(), svd_g.matrixU();
  const Eigen::ColPivHouseholderQR<MatrixXd> qr(span);
  const Eigen::Index r = qr.rank();
  const MatrixXd q = qr.householderQ() * MatrixXd::Identity(di, r);
  const MatrixXd xp = q.transpose() * x, gp = q.transpose() * g;
  MatrixXd cx = xp * xp.transpose() / cfg.gamma, cg = gp * gp.transpose() / cfg.gamma;
  cx.diagonal().array() += 1.0;
  cg.diagonal().array() += 1.0;
  // SPD mean: the S with S cg S = cx, i.e. cg^{-1/2} (cg^{1/2} cx cg^{1/2})^{1/2} cg^{-1/2}.
  MatrixXd cg_sqrt, cg_isqrt, m_sqrt, unused;
  spd_sqrt(cg, cg_sqrt, cg_isqrt);
  const MatrixXd inner = cg_sqrt * cx * cg_sqrt;
  spd_sqrt(0.5 * (inner + inner.transpose()), m_sqrt, unused);
  MatrixXd mean = cg_isqrt * m_sqrt * cg_isqrt;
  mean = 0.5 * (mean + mean.transpose());
  const Eigen::SelfAdjointEigenSolver<MatrixXd> es(mean);
  std::vector<double> vals, u;
  for (Eigen::Index j = 0; j < es.eigenvalues().size(); ++j) {
    const double v = es.eigenvalues()[j];
    if (!(v > cfg.eigval_cutoff || v < 1.0 / cfg.eigval_cutoff) || !std::isfinite(v)) continue;
    const VectorXd col = q * es.eigenvectors().col(j);
    vals.push_back(v);
    u.insert(u.end(), col.data(), col.data() + di);
  }
  return Metric::low_rank(std::move(stds), std::move(u), std::move(vals));
}

AdaptEvent LowRankMetricAdapter::observe(const PhasePoint& draw, Metric& metric) {
  const unsigned it = iter_++;
  if (it >= freeze_at_) return AdaptEvent::None;
  for (auto* buf : {&fg_x_, &bg_x_}) buf->insert(buf->end(), draw.q.begin(), draw.q.end());
  for (auto* buf : {&fg_g_, &bg_g_}) buf->insert(buf->end(), draw.g.begin(), draw.g.end());
  const unsigned every = it < early_end_ ? sched_.early_switch : sched_.switch_every;
  bool switched = false;
  if (bg_x_.size() / d_ >= every && every + it <= freeze_at_) {
    std::swap(fg_x_, bg_x_);
    std::swap(fg_g_, bg_g_);
    bg_x_.clear();
    bg_g_.clear();
    switched = true;
  }
  ++since_update_;
  if (fg_x_.size() / std::max<size_t>(d_, 1) < 3) return AdaptEvent::None;
  if (!switched && !first_update_ && since_update_ < cfg_.update_every) return AdaptEvent::None;
  metric = estimate(fg_x_, fg_g_, d_, cfg_);
  since_update_ = 0;
  if (first_update_) {
    first_update_ = false;
    return AdaptEvent::Restart;
  }
  return AdaptEvent::MetricChanged;
}

void LowRankMetricAdapter::save_state(StateWriter& w) const {
  w.tag("LRAD");
  w.u64(iter_);
  w.u64(since_update_);
  w.boolean(first_update_);
  for (const auto* v : {&fg_x_, &fg_g_, &bg_x_, &bg_g_}) w.f64s(*v);
}

void LowRankMetricAdapter::load_state(StateReader& r) {
  r.tag("LRAD");
  iter_ = static_cast<unsigned>(r.u64());
  since_update_ = static_cast<unsigned>(r.u64());
  first_update_ = r.boolean();
  for (auto* v : {&fg_x_, &fg_g_, &bg_x_, &bg_g_}) {
    *v = r.f64s();
    if (v->size() % (d_ ? d_ : 1) != 0) throw std::runtime_error("sampler state: low-rank draws of another model");
  }
}

}  // namespace exmc::nuts
