// The dashboard's bounded memory of a run: thinned draws, progress, R-hat and bulk ESS.
#include "exmc/dashboard/history.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <sstream>

#include "exmc/analysis/convergence.hpp"

namespace exmc::dashboard {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {
constexpr size_t kStatLp = 0, kStatStepsize = 2, kStatTreedepth = 3, kStatLeapfrog = 4, kStatDivergent = 5;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

// Keeps the points whose number is a multiple of stride, in place.
void thin(std::vector<uint64_t>& k, std::vector<uint32_t>& iter, std::vector<uint8_t>& flags,
          std::vector<double>& values, uint64_t stride, size_t ncol) {
  size_t w = 0;
  for (size_t r = 0; r < k.size(); ++r) {
    if (k[r] % stride != 0) continue;
    k[w] = k[r];
    iter[w] = iter[r];
    flags[w] = flags[r];
    std::copy(values.begin() + std::ptrdiff_t(r * ncol), values.begin() + std::ptrdiff_t((r + 1) * ncol),
              values.begin() + std::ptrdiff_t(w * ncol));
    ++w;
  }
  k.resize(w);
  iter.resize(w);
  flags.resize(w);
  values.resize(w * ncol);
}
}  // namespace

struct History::Chain {
  mutable std::mutex mu;
  // Draws: k counts the draws the chain gave (0, 1, ...); the history keeps k % stride == 0.
  uint64_t seen = 0, stride = 1;
  std::vector<uint64_t> k;
  std::vector<uint32_t> iter;
  std::vector<uint8_t> flags;
  std::vector<double> values;
  uint64_t published = 0;  // take_new() has returned the kept draws with k < published
  // Divergent draws, apart: j counts them; kept when j % div_stride == 0.
  uint64_t div_seen = 0, div_stride = 1, div_published = 0;
  std::vector<uint64_t> dj;
  std::vector<uint32_t> dit;
  std::vector<uint8_t> dflags;
  std::vector<double> dvalues;
  // Sampler statistics of the latest draw, and totals.
  double stepsize = NAN, treedepth = NAN, lp = NAN;
  double treedepth_sum = 0;
  uint64_t sampling_draws = 0, leapfrogs = 0, div_warmup = 0, div_sampling = 0;
  // Progress: iterations done (warmup included) and the rate over the last second or so.
  unsigned done = 0;
  bool started = false;
  Clock::time_point first_t, mark_t, last_t;
  unsigned first_done = 0, mark_done = 0;
  double rate = NAN;
};

History::History(RunInfo info, HistoryOptions opts) : info_(std::move(info)), opts_(opts), start_(Clock::now()) {
  if (info_.chains == 0) info_.chains = 1;
  columns_.push_back("lp__");
  columns_.insert(columns_.end(), info_.names.begin(), info_.names.end());
  const size_t per = opts_.budget / (size_t(info_.chains) * columns_.size());
  cap_ = std::max<size_t>(8, std::min(opts_.cap, per));
  for (unsigned c = 0; c < info_.chains; ++c) chains_.push_back(std::make_unique<Chain>());
}

History::~History() = default;

std::vector<size_t> History::select(const std::string& vars) const {
  std::vector<size_t> out;
  std::stringstream ss(vars);
  std::string name;
  while (std::getline(ss, name, ',')) {
    const auto it = std::find(columns_.begin(), columns_.end(), name);
    if (it != columns_.end() && std::find(out.begin(), out.end(), size_t(it - columns_.begin())) == out.end())
      out.push_back(size_t(it - columns_.begin()));
    if (out.size() == 8) break;
  }
  if (out.empty()) {
    // The first two parameters; lp__ makes up the pair when the model has fewer.
    if (info_.num_params >= 2 && columns_.size() >= 3) out = {1, 2};
    else if (columns_.size() >= 2) out = {1, 0};
    else out = {0};
  }
  return out;
}

void History::add_draw(unsigned chain, bool warmup, unsigned iteration, const double* stats, const double* row) {
  if (chain >= chains_.size()) return;
  Chain& c = *chains_[chain];
  std::lock_guard<std::mutex> lock(c.mu);
  const bool divergent = stats[kStatDivergent] != 0;
  c.lp = stats[kStatLp];
  c.stepsize = stats[kStatStepsize];
  c.treedepth = stats[kStatTreedepth];
  c.leapfrogs += uint64_t(std::max(0.0, stats[kStatLeapfrog]));
  if (warmup) {
    c.div_warmup += divergent;
  } else {
    c.div_sampling += divergent;
    c.treedepth_sum += stats[kStatTreedepth];
    ++c.sampling_draws;
  }
  const size_t ncol = columns_.size();
  if (divergent) {
    const uint64_t j = c.div_seen++;
    if (j % c.div_stride == 0) {
      c.dj.push_back(j);
      c.dit.push_back(iteration);
      c.dflags.push_back(uint8_t((warmup ? 1 : 0) | 2));
      c.dvalues.push_back(stats[kStatLp]);
      c.dvalues.insert(c.dvalues.end(), row, row + (ncol - 1));
      if (c.dj.size() > opts_.divergent_cap) {
        c.div_stride *= 2;
        thin(c.dj, c.dit, c.dflags, c.dvalues, c.div_stride, ncol);
      }
    }
  }
  const uint64_t k = c.seen++;
  if (k % c.stride != 0) return;
  c.k.push_back(k);
  c.iter.push_back(iteration);
  c.flags.push_back(uint8_t((warmup ? 1 : 0) | (divergent ? 2 : 0)));
  c.values.push_back(stats[kStatLp]);
  c.values.insert(c.values.end(), row, row + (ncol - 1));
  if (c.k.size() <= cap_) return;
  // Over the cap: keep every other point (k % 2 stride == 0).
  c.stride *= 2;
  thin(c.k, c.iter, c.flags, c.values, c.stride, ncol);
}

void History::add_iteration(unsigned chain, unsigned done) {
  if (chain >= chains_.size()) return;
  Chain& c = *chains_[chain];
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(c.mu);
  if (!c.started) {
    c.started = true;
    c.first_t = c.mark_t = now;
    c.first_done = c.mark_done = done > 0 ? done - 1 : 0;
  }
  c.done = done;
  c.last_t = now;
  if (seconds(now - c.mark_t) >= 1.0) {
    c.rate = (done - c.mark_done) / seconds(now - c.mark_t);
    c.mark_t = now;
    c.mark_done = done;
  }
}

void History::finish(const std::string& state) {
  // With thin > 1 the last iterations are not reported; a chain that completed did them all.
  if (state == "done")
    for (auto& c : chains_) {
      std::lock_guard<std::mutex> lock(c->mu);
      c->last_t = Clock::now();
      c->done = info_.warmup + info_.draws;
    }
  std::lock_guard<std::mutex> lock(state_mu_);
  state_ = state;
}

std::shared_ptr<const History::Batch> History::take_new() {
  auto b = std::make_shared<Batch>();
  const size_t ncol = columns_.size();
  b->chains.resize(chains_.size());
  for (size_t ci = 0; ci < chains_.size(); ++ci) {
    Chain& c = *chains_[ci];
    auto& out = b->chains[ci];
    std::lock_guard<std::mutex> lock(c.mu);
    out.stride = c.stride;
    const auto first = std::lower_bound(c.k.begin(), c.k.end(), c.published) - c.k.begin();
    out.k.assign(c.k.begin() + first, c.k.end());
    out.iter.assign(c.iter.begin() + first, c.iter.end());
    out.flags.assign(c.flags.begin() + first, c.flags.end());
    out.values.assign(c.values.begin() + std::ptrdiff_t(size_t(first) * ncol), c.values.end());
    c.published = c.seen;
    out.div_stride = c.div_stride;
    const auto dfirst = std::lower_bound(c.dj.begin(), c.dj.end(), c.div_published) - c.dj.begin();
    out.dj.assign(c.dj.begin() + dfirst, c.dj.end());
    out.dit.assign(c.dit.begin() + dfirst, c.dit.end());
    out.dflags.assign(c.dflags.begin() + dfirst, c.dflags.end());
    out.dvalues.assign(c.dvalues.begin() + std::ptrdiff_t(size_t(dfirst) * ncol), c.dvalues.end());
    c.div_published = c.div_seen;
  }
  return b;
}

json History::batch_json(const Batch& b, const std::vector<size_t>& cols) const {
  const size_t ncol = columns_.size();
  json chains = json::array();
  for (const auto& c : b.chains) {
    json v = json::array(), dv = json::array();
    for (size_t col : cols) {
      json xs = json::array(), ds = json::array();
      for (size_t r = 0; r < c.k.size(); ++r) xs.push_back(number(c.values[r * ncol + col]));
      for (size_t r = 0; r < c.dj.size(); ++r) ds.push_back(number(c.dvalues[r * ncol + col]));
      v.push_back(std::move(xs));
      dv.push_back(std::move(ds));
    }
    chains.push_back({{"stride", c.stride}, {"k", c.k}, {"it", c.iter}, {"f", c.flags}, {"v", std::move(v)},
                      {"dstride", c.div_stride}, {"dj", c.dj}, {"dit", c.dit}, {"df", c.dflags},
                      {"dv", std::move(dv)}});
  }
  json names = json::array();
  for (size_t col : cols) names.push_back(columns_[col]);
  return {{"vars", std::move(names)}, {"chains", std::move(chains)}};
}

json History::snapshot_json(const std::vector<size_t>& cols) const {
  const size_t ncol = columns_.size();
  Batch b;
  b.chains.resize(chains_.size());
  for (size_t ci = 0; ci < chains_.size(); ++ci) {
    const Chain& c = *chains_[ci];
    auto& out = b.chains[ci];
    std::lock_guard<std::mutex> lock(c.mu);
    out.stride = c.stride;
    const auto end = std::lower_bound(c.k.begin(), c.k.end(), c.published) - c.k.begin();
    out.k.assign(c.k.begin(), c.k.begin() + end);
    out.iter.assign(c.iter.begin(), c.iter.begin() + end);
    out.flags.assign(c.flags.begin(), c.flags.begin() + end);
    out.values.assign(c.values.begin(), c.values.begin() + std::ptrdiff_t(size_t(end) * ncol));
    out.div_stride = c.div_stride;
    const auto dend = std::lower_bound(c.dj.begin(), c.dj.end(), c.div_published) - c.dj.begin();
    out.dj.assign(c.dj.begin(), c.dj.begin() + dend);
    out.dit.assign(c.dit.begin(), c.dit.begin() + dend);
    out.dflags.assign(c.dflags.begin(), c.dflags.begin() + dend);
    out.dvalues.assign(c.dvalues.begin(), c.dvalues.begin() + std::ptrdiff_t(size_t(dend) * ncol));
  }
  json s = batch_json(b, cols);
  s["columns"] = columns_;
  s["info"] = {{"model", info_.model}, {"chains", info_.chains}, {"warmup", info_.warmup},
               {"draws", info_.draws}, {"thin", info_.thin}, {"cap", cap_},
               {"diag_columns", std::min(columns_.size(), opts_.max_diag_columns + 1)}};
  s["progress"] = progress_json();
  s["diag"] = last_diagnostics();
  return s;
}

json History::progress_json() const {
  const auto now = Clock::now();
  json chains = json::array();
  const unsigned total = info_.warmup + info_.draws;
  for (const auto& cp : chains_) {
    const Chain& c = *cp;
    std::lock_guard<std::mutex> lock(c.mu);
    double rate = c.rate;
    if (c.started && (std::isnan(rate) || c.done >= total)) {
      const double dt = seconds((c.done >= total ? c.last_t : now) - c.first_t);
      if (dt > 0) rate = (c.done - c.first_done) / dt;
    }
    const double mean_depth = c.sampling_draws ? c.treedepth_sum / double(c.sampling_draws) : NAN;
    chains.push_back({{"done", c.done},
                      {"total", total},
                      {"phase", c.done >= total ? "done" : c.done >= info_.warmup ? "sampling" : "warmup"},
                      {"rate", number(rate)},
                      {"stepsize", number(c.stepsize)},
                      {"treedepth", number(c.treedepth)},
                      {"mean_treedepth", number(mean_depth)},
                      {"lp", number(c.lp)},
                      {"leapfrogs", c.leapfrogs},
                      {"div_warmup", c.div_warmup},
                      {"div_sampling", c.div_sampling},
                      {"kept", c.k.size()},
                      {"stride", c.stride}});
  }
  std::string state;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state = state_;
  }
  return {{"state", state}, {"elapsed", seconds(now - start_)}, {"chains", std::move(chains)}};
}

json History::compute_diagnostics() {
  // Chains thin at their own pace: cut every chain to the coarsest stride, then to the shortest.
  const size_t ncol = columns_.size();
  const size_t ndiag = std::min(ncol, opts_.max_diag_columns + 1);
  uint64_t stride = 1;
  for (const auto& c : chains_) {
    std::lock_guard<std::mutex> lock(c->mu);
    stride = std::max(stride, c->stride);
  }
  std::vector<std::vector<double>> per_chain(chains_.size());  // n x ndiag
  size_t n = SIZE_MAX;
  for (size_t ci = 0; ci < chains_.size(); ++ci) {
    const Chain& c = *chains_[ci];
    std::lock_guard<std::mutex> lock(c.mu);
    auto& out = per_chain[ci];
    for (size_t r = 0; r < c.k.size(); ++r) {
      if ((c.flags[r] & 1) || c.k[r] % stride != 0) continue;
      out.insert(out.end(), c.values.begin() + std::ptrdiff_t(r * ncol),
                 c.values.begin() + std::ptrdiff_t(r * ncol + ndiag));
    }
    n = std::min(n, out.size() / ndiag);
  }
  json rhat = json::array(), ess = json::array();
  if (n >= 4) {
    std::vector<double> x(n * chains_.size());
    for (size_t col = 0; col < ndiag; ++col) {
      for (size_t ci = 0; ci < chains_.size(); ++ci)
        for (size_t r = 0; r < n; ++r) x[ci * n + r] = per_chain[ci][r * ndiag + col];
      const analysis::ChainView view{x.data(), n, chains_.size()};
      rhat.push_back(number(analysis::rhat(view)));
      ess.push_back(number(analysis::ess_bulk(view)));
    }
  }
  json d = {{"n", n == SIZE_MAX ? 0 : n}, {"stride", stride}, {"rhat", std::move(rhat)}, {"ess_bulk", std::move(ess)}};
  std::lock_guard<std::mutex> lock(state_mu_);
  diag_ = d;
  return d;
}

json History::last_diagnostics() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return diag_.is_null() ? json{{"n", 0}, {"stride", 1}, {"rhat", json::array()}, {"ess_bulk", json::array()}}
                         : diag_;
}

size_t History::max_points() const {
  size_t m = 0;
  for (const auto& c : chains_) {
    std::lock_guard<std::mutex> lock(c->mu);
    m = std::max(m, c->k.size());
  }
  return m;
}

size_t History::memory_bytes() const {
  size_t b = 0;
  for (const auto& c : chains_) {
    std::lock_guard<std::mutex> lock(c->mu);
    b += c->k.capacity() * sizeof(uint64_t) + c->iter.capacity() * sizeof(uint32_t) + c->flags.capacity() +
         c->values.capacity() * sizeof(double) + c->dj.capacity() * sizeof(uint64_t) +
         c->dit.capacity() * sizeof(uint32_t) + c->dflags.capacity() + c->dvalues.capacity() * sizeof(double);
  }
  return b;
}

uint64_t History::draws_seen() const {
  uint64_t s = 0;
  for (const auto& c : chains_) {
    std::lock_guard<std::mutex> lock(c->mu);
    s += c->seen;
  }
  return s;
}

}  // namespace exmc::dashboard
