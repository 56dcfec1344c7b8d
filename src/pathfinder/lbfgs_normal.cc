// Pathfinder's curvature history and the normal approximation it defines at an iterate.
#include "exmc/pathfinder/lbfgs_normal.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>

namespace exmc::pathfinder {

namespace {

using Eigen::Map;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using CMap = Eigen::Map<const Eigen::VectorXd>;

constexpr double kLog2Pi = 1.8378770664093454836;

bool all_finite(const double* v, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

}  // namespace

CurvatureHistory::CurvatureHistory(size_t dim, int max_pairs, double curvature_eps)
    : dim_(dim), max_pairs_(max_pairs > 0 ? size_t(max_pairs) : 0), eps_(curvature_eps),
      alpha_(dim, 1.0) {
  if (dim == 0) throw std::invalid_argument("CurvatureHistory: dim must be at least 1");
  if (max_pairs < 1)
    throw std::invalid_argument("CurvatureHistory: history size must be at least 1");
}

bool CurvatureHistory::update(const double* x_prev, const double* g_prev, const double* x,
                              const double* g) {
  const size_t d = dim_;
  VectorXd s = CMap(x, d) - CMap(x_prev, d);
  // Gradients are of log p; the curvature pairs are those of -log p, hence the sign.
  VectorXd y = CMap(g_prev, d) - CMap(g, d);
  if (!s.allFinite() || !y.allFinite()) return false;
  const double sy = s.dot(y), yy = y.squaredNorm();
  if (!(sy > eps_ * yy)) return false;

  // Gilbert and Lemarechal's diagonal update (the paper's eq. for alpha): the diagonal BFGS
  // update of the Hessian, inverted. Its denominator is positive whenever s'y > 0; a coordinate
  // where it degenerates (y_i = 0 and s concentrated on i) keeps its old value.
  Map<VectorXd> alpha(alpha_.data(), d);
  const double a = (y.array().square() * alpha.array()).sum();
  const double c = (s.array().square() / alpha.array()).sum();
  for (size_t i = 0; i < d; ++i) {
    const double r = s[i] / alpha[i];
    const double denom = a / alpha[i] + y[i] * y[i] - (a / c) * r * r;
    const double next = sy / denom;
    if (std::isfinite(next) && next > 0) alpha[i] = next;
  }

  if (size() == max_pairs_) {
    s_.erase(s_.begin(), s_.begin() + d);
    y_.erase(y_.begin(), y_.begin() + d);
  }
  s_.insert(s_.end(), s.data(), s.data() + d);
  y_.insert(y_.end(), y.data(), y.data() + d);
  return true;
}

bool LbfgsNormal::build(const CurvatureHistory& h, const double* x, const double* g,
                        LbfgsNormal* out) {
  const size_t d = h.dim(), m = h.size(), k = 2 * m;
  LbfgsNormal& n = *out;
  n = LbfgsNormal();
  CMap alpha(h.alpha().data(), d);
  n.alpha_ = h.alpha();

  // Compact form (Byrd, Nocedal and Schnabel 1994): H = diag(alpha) + B G B' with
  // B = [diag(alpha) Y, S], G = [[0, -R^-1], [-R^-T, R^-T (D + Y' diag(alpha) Y) R^-1]],
  // R the upper triangle of S'Y and D its diagonal.
  MatrixXd S(d, m), Y(d, m);
  for (size_t j = 0; j < m; ++j) {
    S.col(j) = CMap(h.s(j), d);
    Y.col(j) = CMap(h.y(j), d);
  }
  MatrixXd beta(d, k), gamma = MatrixXd::Zero(k, k);
  if (m > 0) {
    const MatrixXd sty = S.transpose() * Y;
    const MatrixXd r = sty.triangularView<Eigen::Upper>();
    const MatrixXd r_inv =
        r.triangularView<Eigen::Upper>().solve(MatrixXd::Identity(Eigen::Index(m), Eigen::Index(m)));
    MatrixXd inner = Y.transpose() * alpha.asDiagonal() * Y;
    inner.diagonal() += sty.diagonal();
    beta.leftCols(m) = alpha.asDiagonal() * Y;
    beta.rightCols(m) = S;
    gamma.topRightCorner(m, m) = -r_inv;
    gamma.bottomLeftCorner(m, m) = -r_inv.transpose();
    gamma.bottomRightCorner(m, m) = r_inv.transpose() * inner * r_inv;
  }
  if (!beta.allFinite() || !gamma.allFinite()) return false;

  CMap gx(g, d);
  VectorXd mean = CMap(x, d) + alpha.cwiseProduct(gx);
  if (m > 0) mean += beta * (gamma * (beta.transpose() * gx));
  VectorXd cov_diag = alpha;
  if (m > 0) cov_diag += ((beta * gamma).cwiseProduct(beta)).rowwise().sum();
  if (!mean.allFinite() || !cov_diag.allFinite() || !(cov_diag.array() > 0).all()) return false;
  n.mean_.assign(mean.data(), mean.data() + d);
  n.cov_diag_.assign(cov_diag.data(), cov_diag.data() + d);
  n.k_ = k;
  n.sqrt_alpha_.resize(d);
  for (size_t i = 0; i < d; ++i) n.sqrt_alpha_[i] = std::sqrt(n.alpha_[i]);

  if (k >= d) {
    // Few coordinates: the d x d factor is no larger than the low-rank one.
    n.low_rank_ = false;
    MatrixXd cov = beta * gamma * beta.transpose();
    cov.diagonal() += alpha;
    Eigen::LLT<MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success) return false;
    const MatrixXd l = llt.matrixL();
    double log_det = 0;
    for (size_t i = 0; i < d; ++i) {
      if (!(l(i, i) > 0) || !std::isfinite(l(i, i))) return false;
      log_det += 2 * std::log(l(i, i));
    }
    n.log_det_ = log_det;
    n.dense_chol_.assign(l.data(), l.data() + d * d);
  } else {
    // H = diag(a)^1/2 (I + Q Rq G Rq' Q') diag(a)^1/2 with Q Rq the thin QR of diag(a)^-1/2 B;
    // with L L' = I + Rq G Rq' a factor of H is diag(a)^1/2 (I + Q (L - I) Q').
    double log_det = alpha.array().log().sum();
    n.low_rank_ = true;
    if (k > 0) {
      const MatrixXd scaled = alpha.cwiseSqrt().cwiseInverse().asDiagonal() * beta;
      Eigen::HouseholderQR<MatrixXd> qr(scaled);
      const MatrixXd q = qr.householderQ() * MatrixXd::Identity(Eigen::Index(d), Eigen::Index(k));
      const MatrixXd rq = qr.matrixQR().topRows(Eigen::Index(k)).triangularView<Eigen::Upper>();
      MatrixXd inner = rq * gamma * rq.transpose();
      inner.diagonal().array() += 1.0;
      Eigen::LLT<MatrixXd> llt(inner);
      if (llt.info() != Eigen::Success) return false;
      const MatrixXd l = llt.matrixL();
      for (size_t i = 0; i < k; ++i) {
        if (!(l(i, i) > 0) || !std::isfinite(l(i, i))) return false;
        log_det += 2 * std::log(l(i, i));
      }
      n.q_.assign(q.data(), q.data() + d * k);
      n.l_.assign(l.data(), l.data() + k * k);
    }
    if (!std::isfinite(log_det)) return false;
    n.log_det_ = log_det;
  }
  n.beta_.assign(beta.data(), beta.data() + d * k);
  n.gamma_.assign(gamma.data(), gamma.data() + k * k);
  return all_finite(n.mean_.data(), d);
}

void LbfgsNormal::transform(const double* u, double* out) const {
  const size_t d = dim();
  CMap uv(u, d);
  Map<VectorXd> o(out, d);
  if (!low_rank_) {
    Map<const MatrixXd> l(dense_chol_.data(), Eigen::Index(d), Eigen::Index(d));
    o = CMap(mean_.data(), d) + l.triangularView<Eigen::Lower>() * uv;
    return;
  }
  VectorXd z = uv;
  if (k_ > 0) {
    Map<const MatrixXd> q(q_.data(), Eigen::Index(d), Eigen::Index(k_));
    Map<const MatrixXd> l(l_.data(), Eigen::Index(k_), Eigen::Index(k_));
    const VectorXd v = q.transpose() * uv;
    const VectorXd w = l.triangularView<Eigen::Lower>() * v - v;
    z += q * w;
  }
  o = CMap(mean_.data(), d) + CMap(sqrt_alpha_.data(), d).cwiseProduct(z);
}

double LbfgsNormal::log_density_standard(const double* u) const {
  const size_t d = dim();
  return -0.5 * (CMap(u, d).squaredNorm() + log_det_ + double(d) * kLog2Pi);
}

double LbfgsNormal::log_density(const double* x) const {
  const size_t d = dim();
  VectorXd r = CMap(x, d) - CMap(mean_.data(), d);
  VectorXd u;
  if (!low_rank_) {
    Map<const MatrixXd> l(dense_chol_.data(), Eigen::Index(d), Eigen::Index(d));
    u = l.triangularView<Eigen::Lower>().solve(r);
  } else {
    // The factor's inverse is (I + Q (L^-1 - I) Q') diag(a)^-1/2.
    u = r.cwiseQuotient(CMap(sqrt_alpha_.data(), d));
    if (k_ > 0) {
      Map<const MatrixXd> q(q_.data(), Eigen::Index(d), Eigen::Index(k_));
      Map<const MatrixXd> l(l_.data(), Eigen::Index(k_), Eigen::Index(k_));
      const VectorXd v = q.transpose() * u;
      const VectorXd w = l.triangularView<Eigen::Lower>().solve(v) - v;
      u += q * w;
    }
  }
  return log_density_standard(u.data());
}

void LbfgsNormal::covariance_times(const double* v, double* out) const {
  const size_t d = dim();
  CMap vv(v, d);
  Map<VectorXd> o(out, d);
  o = CMap(alpha_.data(), d).cwiseProduct(vv);
  if (k_ > 0) {
    Map<const MatrixXd> beta(beta_.data(), Eigen::Index(d), Eigen::Index(k_));
    Map<const MatrixXd> gamma(gamma_.data(), Eigen::Index(k_), Eigen::Index(k_));
    o += beta * (gamma * (beta.transpose() * vv));
  }
}

}  // namespace exmc::pathfinder
