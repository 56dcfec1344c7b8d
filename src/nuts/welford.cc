// Welford streaming moments.
#include "exmc/nuts/welford.hpp"

#include <algorithm>

#include "exmc/core/state_io.hpp"

namespace exmc::nuts {

Welford::Welford(size_t dim, bool full_covariance)
    : d_(dim), full_(full_covariance), mean_(dim), m2_(full_covariance ? dim * dim : dim),
      delta_(dim) {}

void Welford::restart() {
  n_ = 0;
  std::fill(mean_.begin(), mean_.end(), 0.0);
  std::fill(m2_.begin(), m2_.end(), 0.0);
}

void Welford::add(const double* x) {
  ++n_;
  const double inv_n = 1.0 / static_cast<double>(n_);
  for (size_t i = 0; i < d_; ++i) {
    delta_[i] = x[i] - mean_[i];
    mean_[i] += delta_[i] * inv_n;
  }
  if (!full_) {
    for (size_t i = 0; i < d_; ++i) m2_[i] += (x[i] - mean_[i]) * delta_[i];
  } else {
    for (size_t j = 0; j < d_; ++j) {
      const double r = x[j] - mean_[j];
      for (size_t i = 0; i < d_; ++i) m2_[j * d_ + i] += delta_[i] * r;
    }
  }
}

void Welford::variance(std::vector<double>& out) const {
  out.resize(m2_.size());
  if (n_ < 2) {
    std::fill(out.begin(), out.end(), 0.0);
    return;
  }
  const double s = 1.0 / static_cast<double>(n_ - 1);
  for (size_t i = 0; i < m2_.size(); ++i) out[i] = m2_[i] * s;
  if (full_) {  // symmetrise: the rank-one updates are not exactly symmetric in floating point
    for (size_t j = 0; j < d_; ++j)
      for (size_t i = j + 1; i < d_; ++i) {
        const double a = 0.5 * (out[j * d_ + i] + out[i * d_ + j]);
        out[j * d_ + i] = out[i * d_ + j] = a;
      }
  }
}

void Welford::save_state(StateWriter& w) const {
  w.tag("WELF");
  w.u64(n_);
  w.f64s(mean_);
  w.f64s(m2_);
}

void Welford::load_state(StateReader& r) {
  r.tag("WELF");
  n_ = r.u64();
  r.f64s_into(mean_, mean_.size(), "running mean");
  r.f64s_into(m2_, m2_.size(), "running (co)variance");
}

}  // namespace exmc::nuts
