// Eight schools, non-centred (posteriordb's eight_schools_noncentered, half-normal prior on tau):
// the model `exmc batch --sbc` checks. Its simulator is eight_schools_noncentered.sim.stan.
data {
  int<lower=0> J;
  vector[J] y;
  vector<lower=0>[J] sigma;
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[J] theta_tilde;
}
transformed parameters {
  vector[J] theta = mu + tau * theta_tilde;
}
model {
  mu ~ normal(0, 5);
  tau ~ normal(0, 5);
  theta_tilde ~ normal(0, 1);
  y ~ normal(theta, sigma);
}
