// Eight schools (Rubin 1981), non-centred: the example `bash scripts/example` runs.
data {
  int<lower=0> J;              // number of schools
  vector[J] y;                 // estimated treatment effects
  vector<lower=0>[J] sigma;    // their standard errors
}
parameters {
  real mu;                     // population mean effect
  real<lower=0> tau;           // population sd of effects
  vector[J] theta_tilde;       // standardised school effects
}
transformed parameters {
  vector[J] theta = mu + tau * theta_tilde;
}
model {
  mu ~ normal(0, 5);
  tau ~ cauchy(0, 5);
  theta_tilde ~ std_normal();
  y ~ normal(theta, sigma);
}
generated quantities {
  vector[J] log_lik;           // pointwise log-likelihood: `exmc loo` reads it
  array[J] real y_rep;         // posterior predictive replications
  for (j in 1:J) {
    log_lik[j] = normal_lpdf(y[j] | theta[j], sigma[j]);
    y_rep[j] = normal_rng(theta[j], sigma[j]);
  }
}
