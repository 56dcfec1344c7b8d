// logistic.stan (../shared/bench) with posterior predictive replicates: the generated quantities
// of bench/README.md run 7 (with data/logistic.json).
data {
  int<lower=0> N;
  int<lower=0> K;
  matrix[N, K] X;
  int<lower=0, upper=1> y[N];
}
parameters {
  real alpha;
  vector[K] beta;
}
model {
  alpha ~ normal(0, 10);
  beta ~ normal(0, 10);
  y ~ bernoulli_logit(alpha + X * beta);
}
generated quantities {
  // posterior predictive replicates: 500 random draws per draw, for timing the output thread
  array[N] int y_rep = bernoulli_logit_rng(alpha + X * beta);
}
