// Stan's sampler-statistic column names.
#include "exmc/nuts/sample_stats.hpp"

namespace exmc::nuts {

const std::array<std::string, SampleStats::kCount>& SampleStats::names() {
  static const std::array<std::string, kCount> n = {"lp__",         "accept_stat__", "stepsize__",
                                                    "treedepth__",  "n_leapfrog__",
                                                    "divergent__",  "energy__"};
  return n;
}

}  // namespace exmc::nuts
