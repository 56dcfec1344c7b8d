// Stan's warmup window arithmetic.
#include "exmc/nuts/window_schedule.hpp"

#include "exmc/core/state_io.hpp"

namespace exmc::nuts {

WindowSchedule::WindowSchedule(unsigned num_warmup, WindowConfig cfg) {
  // Stan performs no metric estimation below 20 warmup iterations.
  if (num_warmup < 20) return;
  enabled_ = true;
  num_warmup_ = num_warmup;
  if (cfg.init_buffer + cfg.base_window + cfg.term_buffer > num_warmup) {
    init_buffer_ = static_cast<unsigned>(0.15 * num_warmup);
    term_buffer_ = static_cast<unsigned>(0.10 * num_warmup);
    base_window_ = num_warmup - (init_buffer_ + term_buffer_);
  } else {
    init_buffer_ = cfg.init_buffer;
    term_buffer_ = cfg.term_buffer;
    base_window_ = cfg.base_window;
  }
  // Stan releases before the fix for stan-dev/stan#3380 skipped this reset on the shortened
  // path, leaving the metric unadapted there; we reset in both cases, as the split intends.
  counter_ = 0;
  window_size_ = base_window_;
  next_window_ = init_buffer_ + window_size_ - 1;
}

bool WindowSchedule::in_window() const {
  return enabled_ && counter_ >= init_buffer_ && counter_ < num_warmup_ - term_buffer_ &&
         counter_ != num_warmup_;
}

bool WindowSchedule::window_ends() const {
  return enabled_ && counter_ == next_window_ && counter_ != num_warmup_;
}

void WindowSchedule::advance() {
  if (window_ends()) compute_next_window();
  ++counter_;
}

void WindowSchedule::compute_next_window() {
  const unsigned last = num_warmup_ - term_buffer_ - 1;
  if (next_window_ == last) return;
  window_size_ *= 2;
  next_window_ = counter_ + window_size_;
  if (next_window_ == last) return;
  // If the window after this one would overrun the adaptation phase, stretch this one to its end.
  if (next_window_ + 2 * window_size_ >= num_warmup_ - term_buffer_) next_window_ = last;
}

void WindowSchedule::save_state(StateWriter& w) const {
  w.tag("WIND");
  w.boolean(enabled_);
  for (unsigned v : {num_warmup_, init_buffer_, term_buffer_, base_window_, counter_, window_size_, next_window_})
    w.u64(v);
}

void WindowSchedule::load_state(StateReader& r) {
  r.tag("WIND");
  enabled_ = r.boolean();
  for (unsigned* v : {&num_warmup_, &init_buffer_, &term_buffer_, &base_window_, &counter_, &window_size_,
                      &next_window_})
    *v = static_cast<unsigned>(r.u64());
}

}  // namespace exmc::nuts
