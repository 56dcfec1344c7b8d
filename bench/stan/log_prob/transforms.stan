data { int N; vector[N] y; }
parameters {
  real mu;
  real<lower=0> sigma;
  real<lower=-1, upper=2> r;
  simplex[3] w;
  ordered[2] o;
  cholesky_factor_corr[3] L;
}
model {
  mu ~ normal(0, 10);
  sigma ~ exponential(1);
  r ~ normal(0.5, 1);
  w ~ dirichlet([2, 3, 4]');
  o ~ normal(0, 3);
  L ~ lkj_corr_cholesky(2);
  y ~ normal(mu + r * w[1], sigma);
}
