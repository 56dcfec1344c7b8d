// Simulation-based calibration (Talts et al. 2018) for `exmc batch --sbc`: draw parameters and
// data from a simulator program, refit the model to the simulated data with NUTS, rank each
// true value among L posterior draws, and test the ranks of many simulations for uniformity.
//
// The simulator convention: a Stan program with the model's data it needs (read from the base
// data file), no parameters, and a generated quantities block with `_rng` draws. A generated
// quantity named like a parameter or transformed parameter of the model is that quantity's true
// value (ranked); every other one replaces the model's data variable of that name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exmc::cli {

struct SbcSettings {
  std::string model_path, simulator_path, data_path;
  uint64_t seed = 0;
  unsigned chains = 1, warmup = 1000, draws = 1000, thin = 1, rank_draws = 99;
  double adapt_delta = 0.8;
  int max_depth = 10;
  std::string metric = "diag";
};

// One simulation's outcome: a pure function of (settings, simulation index).
struct SbcSimulation {
  size_t simulation = 0;
  uint64_t fit_seed = 0;
  std::vector<std::string> names;  // the ranked scalars ("mu", "theta.3")
  std::vector<unsigned> ranks;     // each in 0..rank_draws
  uint64_t divergences = 0;
  std::string to_json() const;
  static SbcSimulation from_json(const std::string& text);
};

// What the options alone decide, checked before anything is read or written: --rank-draws
// against the posterior draws each fit keeps (chains x ceil(draws / thin)). Throws
// std::invalid_argument naming the option.
void check_sbc_options(unsigned chains, unsigned draws, unsigned thin, unsigned rank_draws);

// Loads and checks both programs and the data once (what every simulation shares).
class Sbc {
 public:
  explicit Sbc(SbcSettings settings);
  ~Sbc();
  const SbcSettings& settings() const { return s_; }
  // The ranked scalars, in order.
  const std::vector<std::string>& names() const;
  // Simulation i: Rng(seed, kSimulationStream + i) for the simulator, fit seed from (seed, i).
  // `on_progress(fraction)` is called while sampling (test hooks use it). Throws on failure.
  SbcSimulation run(size_t i, const std::function<void(double)>& on_progress = {}) const;

 private:
  struct State;
  SbcSettings s_;
  std::unique_ptr<State> st_;
};

// Chi-square test of uniformity of ranks in 0..max_rank over `bins` equal bins
// ((max_rank + 1) % bins == 0). Without ranks there is nothing to test: statistic and p-value
// are NaN (they were 0/0 and 1.0, a "perfectly calibrated" verdict from no simulation).
struct UniformityTest {
  double statistic = 0;
  unsigned df = 0;
  double p_value = 1;
  std::vector<unsigned> counts;
};
UniformityTest rank_uniformity(const std::vector<unsigned>& ranks, unsigned max_rank, unsigned bins);

// The summary of an SBC batch: OUTPUT/ranks.csv (a row per completed simulation),
// sbc_summary.json and the uniformity table per ranked quantity on `out`; warnings and the
// error when none completed on `err`. `simulations[i]` is empty where simulation i failed.
// Returns the exit status: 0 when every simulation completed.
int report_sbc(const std::filesystem::path& dir, const std::vector<std::string>& names,
               const std::vector<std::optional<SbcSimulation>>& simulations, unsigned rank_draws, unsigned bins,
               uint64_t seed, std::ostream& out, std::ostream& err);

}  // namespace exmc::cli
