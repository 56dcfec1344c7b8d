// Stan's windowed warmup schedule: init buffer, doubling metric windows, terminal buffer.
#pragma once

namespace exmc {
class StateWriter;
class StateReader;
}  // namespace exmc

namespace exmc::nuts {

struct WindowConfig {
  unsigned init_buffer = 75;
  unsigned term_buffer = 50;
  unsigned base_window = 25;
};

// Counts warmup iterations and says when one falls inside a metric window and when a window
// ends. Windows double; a window whose successor would overrun the terminal buffer absorbs
// the remainder. Warmups too short for the configured buffers are split 15%/75%/10%.
class WindowSchedule {
 public:
  WindowSchedule() = default;
  WindowSchedule(unsigned num_warmup, WindowConfig cfg);

  bool in_window() const;     // this iteration's draw feeds the estimator
  bool window_ends() const;   // this iteration closes a window (metric update)
  void advance();             // move to the next iteration (computes the next window on an end)
  unsigned counter() const { return counter_; }
  unsigned init_buffer() const { return init_buffer_; }
  unsigned term_buffer() const { return term_buffer_; }
  unsigned base_window() const { return base_window_; }
  bool enabled() const { return enabled_; }
  void save_state(StateWriter& w) const;
  void load_state(StateReader& r);

 private:
  void compute_next_window();
  bool enabled_ = false;
  unsigned num_warmup_ = 0, init_buffer_ = 0, term_buffer_ = 0, base_window_ = 0;
  unsigned counter_ = 0, window_size_ = 0, next_window_ = 0;
};

}  // namespace exmc::nuts
