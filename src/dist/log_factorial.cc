// The table behind log_factorial (univariate.hpp): built on first use, not at load time, so a
// program without count likelihoods never pays for it.
#include "univariate.hpp"

namespace exmc::dist::detail {

const double* log_factorial_table() {
  static const struct Table {
    double v[kLogFactorialSize];
    Table() {
      for (size_t k = 0; k < kLogFactorialSize; ++k) v[k] = lgam(double(k) + 1);
    }
  } table;
  return table.v;
}

}  // namespace exmc::dist::detail
