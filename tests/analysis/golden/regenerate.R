# Regenerates the draw sets and golden values for exmc's analysis tests (posterior 1.4.0, loo 2.5.1).
# Run from anywhere: Rscript tests/analysis/golden/regenerate.R  (writes next to this script).
suppressPackageStartupMessages({ library(posterior); library(loo) })
stopifnot(packageVersion("posterior") == "1.4.0", packageVersion("loo") == "2.5.1")
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
setwd(here)
options(warn = 1)
set.seed(20261122)

fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))

ar1 <- function(n, rho, sd = 1) {
  x <- numeric(n); x[1] <- rnorm(1, 0, sd / sqrt(1 - rho^2))
  for (i in 2:n) x[i] <- rho * x[i - 1] + rnorm(1, 0, sd)
  x
}
# Each case: list of variables, each an iterations x chains matrix.
mk <- function(nchains, niter, gen) {
  lapply(gen, function(g) sapply(seq_len(nchains), function(ch) g(niter, ch)))
}
cases <- list(
  well_mixed = mk(4, 500, list(
    a = function(n, ch) rnorm(n),
    b = function(n, ch) 3 * rnorm(n) + 1,
    c = function(n, ch) rexp(n),
    d = function(n, ch) as.numeric(rpois(n, 3)))),          # ties -> average ranks
  ar1 = mk(4, 1000, list(theta = function(n, ch) ar1(n, 0.9),
                         slow = function(n, ch) ar1(n, 0.99))),   # long Geyer sequence
  trend = mk(4, 400, list(
    x = function(n, ch) seq_len(n) / n * 2 + rnorm(n, 0, 0.5) + 0.3 * ch)),
  constant = mk(4, 100, list(k = function(n, ch) rep(2.5, n))),
  cauchy = mk(4, 1000, list(z = function(n, ch) rcauchy(n))),
  odd = mk(4, 251, list(
    u = function(n, ch) ar1(n, 0.3),
    w = function(n, ch) exp(rnorm(n)))),
  one_chain = mk(1, 1000, list(v = function(n, ch) ar1(n, 0.5))),
  one_chain_odd = mk(1, 999, list(v = function(n, ch) ar1(n, 0.7) + 5))
)

summ_cols <- c("mean", "median", "sd", "mad", "q5", "q95", "rhat", "ess_bulk",
               "ess_tail", "mcse_mean", "mcse_median", "mcse_sd", "mcse_q5",
               "mcse_q95", "ess_mean", "ess_median", "rhat_basic", "ess_basic")
summ_row <- function(m) {
  s <- suppressWarnings(summarise_draws(matrix(m, ncol = ncol(m)) |> (\(x) {
    a <- array(x, dim = c(nrow(x), ncol(x), 1)); as_draws_array(a) })(),
    default_summary_measures(), default_convergence_measures(),
    default_mcse_measures()))
  extra <- suppressWarnings(c(ess_mean = ess_mean(m), ess_median = ess_median(m),
                              rhat_basic = rhat_basic(m), ess_basic = ess_basic(m)))
  v <- c(unlist(s[1, -1]), extra)
  v[summ_cols]
}

golden <- c(paste(c("case", "variable", summ_cols), collapse = ","))
for (cn in names(cases)) {
  cs <- cases[[cn]]
  nch <- ncol(cs[[1]]); nit <- nrow(cs[[1]])
  cols <- list(chain = rep(seq_len(nch), each = nit), draw = rep(seq_len(nit), nch))
  for (vn in names(cs)) cols[[vn]] <- as.vector(cs[[vn]])   # chain-major
  lines <- c(paste(names(cols), collapse = ","),
             do.call(paste, c(lapply(cols, fmt), sep = ",")))
  writeLines(lines, sprintf("draws_%s.csv", cn))
  for (vn in names(cs)) {
    golden <- c(golden, paste(c(cn, vn, fmt(summ_row(cs[[vn]]))), collapse = ","))
  }
}
writeLines(golden, "summary_golden.csv")

# ---- CmdStan-style CSV output (4 chains) with sampler columns and adaptation comments.
S <- 300; nch <- 4
cm <- list(); cmd_summ <- c(paste(c("variable", summ_cols), collapse = ","))
stats_lines <- c("chain,divergent,treedepth_hits,ebfmi,mean_accept,stepsize,n_leapfrog")
for (ch in 1:nch) {
  mu <- ar1(S, 0.4) * 0.5 + 1
  th1 <- rnorm(S, 2, 1); th2 <- exp(rnorm(S, 0, 0.3))
  energy <- ar1(S, 0.5 + 0.1 * ch) * 2 + 10
  lp <- -energy + rnorm(S, 0, 0.5)
  acc <- runif(S, 0.6, 1)
  td <- sample(1:5, S, replace = TRUE, prob = c(0.1, 0.3, 0.3, 0.2, 0.1))
  nl <- 2^td - 1
  div <- as.numeric(runif(S) < 0.01 * ch)
  eps <- c(0.91, 0.77, 0.85, 0.66)[ch]
  inv_metric <- c(0.25, 1.1, 0.09) * ch
  df <- data.frame(lp__ = lp, accept_stat__ = acc, stepsize__ = eps, treedepth__ = td,
                   n_leapfrog__ = nl, divergent__ = div, energy__ = energy,
                   mu = mu, theta.1 = th1, theta.2 = th2, check.names = FALSE)
  cm[[ch]] <- df
  hdr <- c("# stan_version_major = 2", "# model = golden_model", "# method = sample (Default)",
           "#   sample", "#     num_samples = 300", "#     num_warmup = 1000",
           "#     save_warmup = 0 (Default)",
           "#   id = " |> paste0(ch), "#     algorithm = hmc (Default)", "#       hmc",
           "#         engine = nuts (Default)", "#           nuts",
           "#             max_depth = 4", "#         metric = diag_e (Default)")
  body <- do.call(paste, c(lapply(df, fmt), sep = ","))
  adapt <- c("# Adaptation terminated", sprintf("# Step size = %s", fmt(eps)),
             "# Diagonal elements of inverse mass matrix:",
             paste0("# ", paste(fmt(inv_metric), collapse = ", ")))
  tail <- c("# ", "#  Elapsed Time: 0.01 seconds (Warm-up)", "#                0.02 seconds (Sampling)",
            "#                0.03 seconds (Total)", "# ")
  writeLines(c(hdr, paste(names(df), collapse = ","), adapt, body, tail),
             sprintf("cmdstan_chain_%d.csv", ch))
  e <- energy
  stats_lines <- c(stats_lines, paste(c(ch, fmt(c(sum(div), sum(td >= 4),
      (sum(diff(e)^2) / length(e)) / var(e), mean(acc), eps, sum(nl)))), collapse = ","))
}
writeLines(stats_lines, "cmdstan_stats_golden.csv")
for (vn in c("lp__", "mu", "theta.1", "theta.2")) {
  m <- sapply(cm, function(d) d[[vn]])
  cmd_summ <- c(cmd_summ, paste(c(vn, fmt(summ_row(m))), collapse = ","))
}
writeLines(cmd_summ, "cmdstan_summary_golden.csv")

# ---- PSIS-LOO / WAIC / loo_compare on log-likelihood matrices (4 chains x 250 draws).
n <- 24; y <- c(rnorm(n - 2, 0, 1), 9, -7)   # two outliers give Pareto k > 0.7
S <- 1000; chain_id <- rep(1:4, each = S / 4)
mu <- unlist(lapply(1:4, function(ch) ar1(S / 4, 0.5) * 0.25 + mean(y)))
sigma <- exp(unlist(lapply(1:4, function(ch) ar1(S / 4, 0.3) * 0.15)) + log(sd(y)))
ll_normal <- sapply(y, function(yi) dnorm(yi, mu, sigma, log = TRUE))
ll_narrow <- sapply(y, function(yi) dnorm(yi, mu, 1, log = TRUE))   # badly fitting model
ll_t <- sapply(y, function(yi) dt((yi - mu) / sigma, df = 3, log = TRUE) - log(sigma))
models <- list(normal = ll_normal, narrow = ll_narrow, student = ll_t)
loos <- list()
for (mn in names(models)) {
  ll <- models[[mn]]
  writeLines(c(paste(c("chain", paste0("ll", 1:n)), collapse = ","),
               do.call(paste, c(list(chain_id), lapply(seq_len(n), function(j) fmt(ll[, j])), sep = ","))),
             sprintf("loglik_%s.csv", mn))
  r_eff <- relative_eff(exp(ll), chain_id = chain_id)
  lo <- suppressWarnings(loo(ll, r_eff = r_eff))
  wa <- suppressWarnings(waic(ll))
  loos[[mn]] <- lo
  pw <- lo$pointwise
  out <- c("i,r_eff,elpd_loo,mcse_elpd_loo,p_loo,looic,pareto_k,n_eff,elpd_waic,p_waic,waic")
  for (i in 1:n) out <- c(out, paste(c(i, fmt(c(r_eff[i], pw[i, "elpd_loo"], pw[i, "mcse_elpd_loo"],
      pw[i, "p_loo"], pw[i, "looic"], pw[i, "influence_pareto_k"], lo$diagnostics$n_eff[i],
      wa$pointwise[i, "elpd_waic"], wa$pointwise[i, "p_waic"], wa$pointwise[i, "waic"]))), collapse = ","))
  est <- c(lo$estimates[, 1], lo$estimates[, 2], wa$estimates[, 1], wa$estimates[, 2])
  names(est) <- c("elpd_loo", "p_loo", "looic", "se_elpd_loo", "se_p_loo", "se_looic",
                  "elpd_waic", "p_waic", "waic", "se_elpd_waic", "se_p_waic", "se_waic")
  out <- c(out, paste0("# ", names(est), "=", fmt(est)))
  writeLines(out, sprintf("loo_%s_golden.csv", mn))
}
cmp <- loo_compare(loos)
writeLines(c("model,elpd_diff,se_diff,elpd_loo",
             paste(rownames(cmp), fmt(cmp[, "elpd_diff"]), fmt(cmp[, "se_diff"]),
                   fmt(cmp[, "elpd_loo"]), sep = ",")), "loo_compare_golden.csv")

# ---- Raw PSIS on one long-tailed log-ratio vector with r_eff = 0.7 (smoothed log weights).
lr <- rt(2000, df = 2) * 1.5
ps <- suppressWarnings(psis(lr, r_eff = 0.7))
writeLines(c("log_ratio,log_weight", paste(fmt(lr), fmt(as.vector(ps$log_weights)), sep = ","),
             paste0("# pareto_k=", fmt(ps$diagnostics$pareto_k)),
             paste0("# n_eff=", fmt(ps$diagnostics$n_eff))), "psis_golden.csv")
cat("golden files written to", here, "\n")
