// Stan-style windowed metric adaptation with shrinkage (n/(n+5) var + 1e-3 * 5/(n+5)).
#include "exmc/nuts/windowed_metric_adapter.hpp"

#include <cmath>

#include "exmc/core/state_io.hpp"
#include <stdexcept>

namespace exmc::nuts {

WindowedMetricAdapter::WindowedMetricAdapter(size_t dim, MetricKind kind, unsigned num_warmup,
                                             WindowConfig cfg)
    : kind_(kind), schedule_(num_warmup, cfg), est_(dim, kind == MetricKind::Dense) {}

AdaptEvent WindowedMetricAdapter::observe(const PhasePoint& draw, Metric& metric) {
  if (schedule_.in_window()) est_.add(draw.q.data());
  if (!schedule_.window_ends()) {
    schedule_.advance();
    return AdaptEvent::None;
  }
  est_.variance(var_);
  const double n = static_cast<double>(est_.count());
  const double a = n / (n + 5.0), b = 1e-3 * (5.0 / (n + 5.0));
  const size_t d = metric.dim();
  if (kind_ == MetricKind::Diag) {
    for (double& v : var_) v = a * v + b;
  } else {
    for (double& v : var_) v *= a;
    for (size_t i = 0; i < d; ++i) var_[i * d + i] += b;
  }
  for (double v : var_)
    if (!std::isfinite(v))
      throw std::runtime_error(
          "numerical overflow in metric adaptation: the warmup draws have non-finite variance; "
          "the posterior may be improper");
  metric = kind_ == MetricKind::Diag ? Metric::diag(var_) : Metric::dense(var_, d);
  est_.restart();
  schedule_.advance();
  return AdaptEvent::Restart;
}

void WindowedMetricAdapter::save_state(StateWriter& w) const {
  w.tag("WMAD");
  schedule_.save_state(w);
  est_.save_state(w);
}

void WindowedMetricAdapter::load_state(StateReader& r) {
  r.tag("WMAD");
  schedule_.load_state(r);
  est_.load_state(r);
}

}  // namespace exmc::nuts
