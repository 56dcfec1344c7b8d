// Streaming (Welford) mean and variance or covariance of draws.
#pragma once

#include <cstddef>
#include <vector>

namespace exmc {
class StateWriter;
class StateReader;
}  // namespace exmc

namespace exmc::nuts {

class Welford {
 public:
  Welford(size_t dim, bool full_covariance);
  void restart();
  void add(const double* x);
  size_t count() const { return n_; }
  // Sample variance (diag) or column-major covariance (dense), divided by n-1.
  void variance(std::vector<double>& out) const;
  const std::vector<double>& mean() const { return mean_; }
  void save_state(StateWriter& w) const;
  void load_state(StateReader& r);

 private:
  size_t d_;
  bool full_;
  size_t n_ = 0;
  std::vector<double> mean_, m2_, delta_;
};

}  // namespace exmc::nuts
