# Stan side of tests/nuts/stan_compare.cc: the same Gaussians at fixed step sizes, no adaptation.
suppressMessages(library(rstan))
rstan_options(boost_lib = "/usr/include")
code <- "data { int d; vector[d] s; } parameters { vector[d] x; } model { x ~ normal(0, s); }"
m <- stan_model(model_code = code)
cases <- list(list(d=10, s=rep(1,10), eps=0.5), list(d=10, s=rep(1,10), eps=1.2),
              list(d=5, s=c(1,2,4,8,16), eps=0.8), list(d=2, s=c(1,1), eps=1.9))
for (cs in cases) {
  f <- sampling(m, data=list(d=cs$d, s=cs$s), chains=1, iter=40100, warmup=100, seed=1,
                control=list(adapt_engaged=FALSE, stepsize=cs$eps, max_treedepth=10), refresh=0)
  sp <- get_sampler_params(f, inc_warmup=FALSE)[[1]]
  x1 <- extract(f, pars="x", permuted=FALSE)[,1,1]
  cat(sprintf("d=%d eps=%.2f s1=%g n_leapfrog %.4f accept %.4f depth %.4f div %.4f energy %.4f var_x1 %.4f\n",
      cs$d, cs$eps, cs$s[1], mean(sp[,"n_leapfrog__"]), mean(sp[,"accept_stat__"]),
      mean(sp[,"treedepth__"]), mean(sp[,"divergent__"]), mean(sp[,"energy__"]), var(x1)))
  write.csv(sp, sprintf("stan_d%d_eps%.2f.csv", cs$d, cs$eps), row.names=FALSE)
}

# Warmup end to end: 30 seeds of Stan's default adaptation (1000 + 1000) on scales 1..16; compare
# the final step size, mean n_leapfrog and adapted inverse metric with exmc's over many seeds.
# Measured 2026-11-22 (Stan 30 seeds vs exmc 300 seeds, mean): step size 0.766 vs 0.777,
# n_leapfrog 5.42 vs 5.34, accept_stat 0.900 vs 0.897, inverse metric 0.98/4.00/16.1/60.6/244
# vs 0.98/3.88/15.6/62.7/249 (all |z| < 2).
for (seed in 1:30) {
  f <- sampling(m, data=list(d=5, s=c(1,2,4,8,16)), chains=1, iter=2000, warmup=1000, seed=seed,
                refresh=0)
  sp <- get_sampler_params(f, inc_warmup=FALSE)[[1]]
  cat(sprintf("%d %.6f %.4f %.4f %s\n", seed, sp[1,"stepsize__"], mean(sp[,"n_leapfrog__"]),
              mean(sp[,"accept_stat__"]), gsub("\n", " ", get_adaptation_info(f)[[1]])))
}
