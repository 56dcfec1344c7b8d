// Simulator for SBC of eight_schools_noncentered.stan (exmc batch --sbc convention): no
// parameters; its generated quantities draw the parameters from the model's prior under the
// model's own names (mu, tau, theta_tilde; theta too, a transformed parameter, so it is ranked
// as well), then the data from the likelihood (y). Quantities named like a parameter or
// transformed parameter of the model are the true values; every other one replaces the data
// variable of that name.
data {
  int<lower=0> J;
  vector<lower=0>[J] sigma;
}
generated quantities {
  real mu = normal_rng(0, 5);
  real<lower=0> tau = abs(normal_rng(0, 5));
  vector[J] theta_tilde;
  vector[J] theta;
  vector[J] y;
  for (j in 1:J) {
    theta_tilde[j] = normal_rng(0, 1);
    theta[j] = mu + tau * theta_tilde[j];
    y[j] = normal_rng(theta[j], sigma[j]);
  }
}
