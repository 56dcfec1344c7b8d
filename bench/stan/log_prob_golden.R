# Golden values for exmc log_prob (tools/log_prob_test.cc): Stan's log density and gradient
# (rstan's log_prob with adjust_transform TRUE and FALSE) and its unconstrained point, for a
# program with every kind of transform, at the constrained point in log_prob/transforms.point.json.
# Usage: Rscript bench/stan/log_prob_golden.R     (prints the values the test holds)
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", a[grep("^--file=", a)]); dirname(f)
}), "common.R"))
here <- bench_dirs()$here
sm <- stan_model(file.path(here, "log_prob", "transforms.stan"))
d <- fromJSON(file.path(here, "log_prob", "transforms.data.json"))
p <- fromJSON(file.path(here, "log_prob", "transforms.point.json"), simplifyMatrix = TRUE)
fit <- sampling(sm, data = d, iter = 1, chains = 1, algorithm = "Fixed_param", init = list(p), refresh = 0)
u <- unconstrain_pars(fit, p)
for (adj in c(TRUE, FALSE)) {
  lp <- log_prob(fit, u, adjust_transform = adj, gradient = TRUE)
  cat(sprintf("jacobian %d: lp %.17g\n  gradient %s\n", adj, lp[1],
              paste(sprintf("%.17g", attr(lp, "gradient")), collapse = ", ")))
}
cat(sprintf("unconstrained point: %s\n", paste(sprintf("%.17g", u), collapse = ", ")))
