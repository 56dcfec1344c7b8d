# Stan's side of the sampler benchmark: 1 chain, 1000 warmup + 1000 draws, adapt_delta 0.8,
# max depth 10, per seed. Prints one TSV row per run (no header unless --header) and writes the
# sampling draws of the `parameters` block as CSV so ESS is computed the same way for exmc.
# Usage: Rscript bench/stan/run_stan.R --out DIR [--seeds 1,2,3,4,5] [--header] model ...
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", a[grep("^--file=", a)]); dirname(f)
}), "common.R"))
source(file.path(bench_dirs()$here, "ess.R"))
dirs <- bench_dirs()
args <- commandArgs(trailingOnly = TRUE)
seeds <- 1:5; out <- NULL; header <- FALSE; models <- character()
i <- 1
while (i <= length(args)) {
  a <- args[i]
  if (a == "--seeds") { seeds <- as.integer(strsplit(args[i + 1], ",")[[1]]); i <- i + 1 }
  else if (a == "--out") { out <- args[i + 1]; i <- i + 1 }
  else if (a == "--header") header <- TRUE
  else models <- c(models, a)
  i <- i + 1
}
if (!length(models)) models <- bench_model_names
if (is.null(out)) stop("--out DIR is required")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
if (header) cat(bench_tsv_header, sep = "")

for (m in models) {
  sm <- compiled_model(m, dirs)
  data <- model_data(m, dirs)
  for (seed in seeds) {
    fit <- sampling(sm, data = data, chains = 1, iter = 2000, warmup = 1000, seed = seed,
                    control = list(adapt_delta = 0.8, max_treedepth = 10), refresh = 0)
    sp <- get_sampler_params(fit, inc_warmup = TRUE)[[1]]
    el <- get_elapsed_time(fit)
    pars <- names(get_inits(fit)[[1]])  # the parameters block only
    draws <- as.data.frame(fit, pars = pars)
    csv <- file.path(out, sprintf("stan_%s_diag_e_seed%d.csv", m, seed))
    write.csv(draws, csv, row.names = FALSE)
    post <- sp[1001:2000, , drop = FALSE]
    cat(sprintf("%s\tstan\tdiag_e\t%d\t%.6f\t%.6f\t%d\t%d\t%.6g\t%.2f\n", m, seed,
                el[1, "sample"], el[1, "warmup"], as.integer(sum(sp[, "n_leapfrog__"])),
                as.integer(sum(post[, "divergent__"])), post[nrow(post), "stepsize__"],
                min_bulk_ess(draws)))
    flush(stdout())
  }
}
