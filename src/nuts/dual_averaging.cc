// Dual averaging step-size update.
#include "exmc/nuts/dual_averaging.hpp"

#include "exmc/core/state_io.hpp"

#include <cmath>

namespace exmc::nuts {

double DualAveraging::learn(double accept_stat) {
  counter_ += 1;
  const double a = accept_stat > 1 ? 1 : accept_stat;
  const double eta = 1.0 / (counter_ + cfg_.t0);
  s_bar_ = (1.0 - eta) * s_bar_ + eta * (cfg_.delta - a);
  const double x = mu_ - s_bar_ * std::sqrt(counter_) / cfg_.gamma;
  const double x_eta = std::pow(counter_, -cfg_.kappa);
  x_bar_ = (1.0 - x_eta) * x_bar_ + x_eta * x;
  return std::exp(x);
}

double DualAveraging::final_step_size() const { return std::exp(x_bar_); }

void DualAveraging::save_state(StateWriter& w) const {
  w.tag("DUAL");
  w.f64(mu_);
  w.f64(counter_);
  w.f64(s_bar_);
  w.f64(x_bar_);
}

void DualAveraging::load_state(StateReader& r) {
  r.tag("DUAL");
  mu_ = r.f64();
  counter_ = r.f64();
  s_bar_ = r.f64();
  x_bar_ = r.f64();
}

}  // namespace exmc::nuts
