// libFuzzer target: an initial-values file (`exmc sample|optimize|... --init FILE.json`,
// `exmc log_prob --constrained-params FILE.json`, `exmc diagnose MODEL --init FILE.json`) -> what
// services::read_init_file does with it (io::StanJsonData, io::init_values against the model's
// variables), then what a chain does with the values: nuts::given_init_values_fault (exmc
// sample's check before any chain runs) and nuts::initialize_point, on a density with a scalar
// 'mu', a positive 'sigma' (its log density is -inf at sigma <= 0), a vector[3] 'theta', a
// matrix[2, 2] 'L' and an empty vector 'e'. Names the model lacks are passed as a file's are.
// A clean std::exception is a pass; so is a refusal with a message; a crash, sanitizer report,
// leak, hang, or an error that names neither the file nor a variable is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/io/init_values.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/phase_point.hpp"
#include "exmc/nuts/sampler_config.hpp"

namespace {

const std::vector<exmc::VarInfo> kVars = {{"mu", {}}, {"sigma", {}}, {"theta", {3}}, {"L", {2, 2}}, {"e", {0}}};

double logp_grad(const double* x, double* g) {
  double lp = 0;
  for (size_t i = 0; i < 9; ++i) lp -= 0.5 * x[i] * x[i], g[i] = -x[i];
  return x[1] > 0 ? lp : -INFINITY;  // sigma's support
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const auto density = exmc::make_log_density(9, logp_grad, kVars);
  exmc::nuts::InitValues values;
  try {
    const auto json = exmc::io::StanJsonData::from_string(text, "init.json");
    values = exmc::io::init_values(json, kVars, "init.json");
  } catch (const std::exception&) {
    return 0;
  }
  for (const auto& [name, v] : values) {
    for (const auto& var : kVars)
      if (var.name == name && v.size() != var.size()) __builtin_trap();  // shapes were checked
  }
  try {
    exmc::Rng check(20240611, 0);
    (void)exmc::nuts::given_init_values_fault(*density, values, 2.0, 20, check);
  } catch (const std::exception&) {
  }
  exmc::nuts::SamplerConfig cfg;
  cfg.init_values = values;
  cfg.init_attempts = 20;
  const exmc::nuts::Metric unit = exmc::nuts::Metric::diag(std::vector<double>(9, 1.0));
  exmc::nuts::Leapfrog integ(*density, unit);
  exmc::nuts::PhasePoint z(9);
  exmc::Rng rng(1, 0);
  try {
    exmc::nuts::initialize_point(integ, cfg, rng, z);
    if (!std::isfinite(z.logp) || z.q.size() != 9) __builtin_trap();
    for (double g : z.g)
      if (!std::isfinite(g)) __builtin_trap();
  } catch (const exmc::nuts::InitError&) {
  } catch (const std::exception&) {
  }
  return 0;
}
