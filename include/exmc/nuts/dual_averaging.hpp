// Nesterov dual averaging of log step size toward a target acceptance statistic (Stan's scheme).
#pragma once

namespace exmc {
class StateWriter;
class StateReader;
}  // namespace exmc

namespace exmc::nuts {

struct DualAveragingConfig {
  double delta = 0.8;   // target accept_stat
  double gamma = 0.05;
  double kappa = 0.75;
  double t0 = 10.0;
};

class DualAveraging {
 public:
  explicit DualAveraging(DualAveragingConfig cfg = {}) : cfg_(cfg) {}
  void set_mu(double mu) { mu_ = mu; }
  double mu() const { return mu_; }
  void restart() {
    counter_ = 0;
    s_bar_ = 0;
    x_bar_ = 0;
  }
  // Updates the step size from one iteration's accept_stat; returns the new step size.
  double learn(double accept_stat);
  // The averaged step size exp(x_bar) that warmup ends with.
  double final_step_size() const;
  // False right after restart(): x_bar holds no information yet.
  bool has_learned() const { return counter_ > 0; }
  const DualAveragingConfig& config() const { return cfg_; }
  void save_state(StateWriter& w) const;
  void load_state(StateReader& r);

 private:
  DualAveragingConfig cfg_;
  double mu_ = 0.0;
  double counter_ = 0, s_bar_ = 0, x_bar_ = 0;
};

}  // namespace exmc::nuts
