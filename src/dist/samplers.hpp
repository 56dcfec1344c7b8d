// Random variate generators built on Rng's uniform and normal streams, shared by the
// distributions' draw functions.
#pragma once

#include "exmc/core/rng.hpp"

namespace exmc::dist::detail {

double draw_gamma(Rng& r, double shape);               // rate 1
double draw_beta(Rng& r, double a, double b);
double draw_chi_square(Rng& r, double nu);
double draw_student_t(Rng& r, double nu);              // standard
double draw_poisson(Rng& r, double lambda);
double draw_binomial(Rng& r, double n, double p);
double draw_von_mises(Rng& r, double mu, double kappa);  // in [-pi, pi]

}  // namespace exmc::dist::detail
