// gamma(0.01, 1) on a positive parameter: 13.6% of its mass lies below exp(-200) and the mean of
// log(x) is digamma(0.01) = -100.56 (constraint_edges_test.cc).
parameters {
  real<lower=0> x;
}
model {
  x ~ gamma(0.01, 1);
}
