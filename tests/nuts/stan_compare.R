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
