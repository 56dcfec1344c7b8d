# Joins the sampler-benchmark rows of Stan and exmc, computes exmc's min bulk ESS from its draw
# CSVs (the same posterior::ess_bulk as for Stan), and prints per-run rows, medians over seeds
# and exmc/Stan ratios. Usage: Rscript bench/stan/summarize.R RAW.tsv OUT_DIR [EXMC_ESS.tsv]
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", a[grep("^--file=", a)]); dirname(f)
}), "ess.R"))
args <- commandArgs(trailingOnly = TRUE)
options(width = 200)
raw <- read.delim(args[1], stringsAsFactors = FALSE)
out <- args[2]
csv_of <- function(i) file.path(out, if (raw$impl[i] == "stan")
  sprintf("stan_%s_%s_seed%d.csv", raw$model[i], raw$metric[i], raw$seed[i]) else
  sprintf("exmc_%s_%s_%s_seed%d.csv", raw$impl[i], raw$model[i], raw$metric[i], raw$seed[i]))
# `exmc sample`'s CSV (impl "cli") has comment lines, sampler columns and the transformed
# parameters and generated quantities: ESS over the columns of the parameters block only, the
# names Stan's draws have for the same model (theta[1] there, theta.1 here).
parameter_columns <- function(draws, model) {
  stan_csv <- list.files(out, sprintf("^stan_%s_diag_e_seed[0-9]+\\.csv$", model), full.names = TRUE)
  if (!length(stan_csv)) stop("cli rows of ", model, " need Stan's draws for the parameter names")
  base <- function(n) sub("[.[].*$", "", n)
  keep <- base(names(draws)) %in% unique(base(names(read.csv(stan_csv[1], check.names = FALSE, nrows = 1))))
  draws[, keep & !grepl("__$", names(draws)), drop = FALSE]
}
for (i in which(is.na(raw$min_bulk_ess))) {
  draws <- read.csv(csv_of(i), check.names = FALSE, comment.char = "#")
  if (raw$impl[i] == "cli") draws <- parameter_columns(draws, raw$model[i])
  raw$min_bulk_ess[i] <- min_bulk_ess(draws)
}
# exmc's own diagnostics on both samplers' draws (exmc-bench ess), when given: must agree with
# posterior's to rounding, and reported beside it.
if (length(args) >= 3 && file.exists(args[3])) {
  ex <- read.delim(args[3], header = FALSE, col.names = c("file", "ess"))
  raw$exmc_ess <- ex$ess[match(vapply(seq_len(nrow(raw)), csv_of, ""), ex$file)]
  cat(sprintf("# exmc::analysis::ess_bulk vs posterior::ess_bulk: max relative difference %.2g over %d runs\n",
              max(abs(raw$exmc_ess - raw$min_bulk_ess) / raw$min_bulk_ess, na.rm = TRUE),
              sum(!is.na(raw$exmc_ess))))
}
raw$ess_per_s <- raw$min_bulk_ess / raw$sampling_s
raw$ess_per_grad <- raw$min_bulk_ess / raw$grad_evals
# Whole-run cost of one leapfrog step (gradient + sampler overhead), warmup included.
raw$us_per_leapfrog <- 1e6 * (raw$sampling_s + raw$warmup_s) / raw$grad_evals
write.table(raw, file.path(out, "runs.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

cols <- c("sampling_s", "grad_evals", "min_bulk_ess", "ess_per_s", "ess_per_grad",
          "divergences", "stepsize", "us_per_leapfrog")
key <- paste(raw$model, raw$impl, raw$metric, sep = "\t")
med <- do.call(rbind, lapply(split(raw, factor(key, levels = unique(key))), function(d) {
  data.frame(model = d$model[1], impl = d$impl[1], metric = d$metric[1], n = nrow(d),
             t(sapply(cols, function(c) median(d[[c]]))), check.names = FALSE)
}))
rownames(med) <- NULL
cat("# medians over seeds\n")
print(format(med, digits = 4), row.names = FALSE)
write.table(med, file.path(out, "medians.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

stan <- med[med$impl == "stan", ]
ex <- med[med$impl != "stan", ]
if (nrow(stan) && nrow(ex)) {
  m <- merge(ex, stan, by = "model", suffixes = c("", ".stan"))
  m <- m[order(match(m$model, unique(med$model)), m$impl, m$metric), ]
  ratio <- data.frame(model = m$model, impl = m$impl, metric = m$metric,
                      time_ratio = m$sampling_s / m$sampling_s.stan,
                      grad_ratio = m$grad_evals / m$grad_evals.stan,
                      ess_ratio = m$min_bulk_ess / m$min_bulk_ess.stan,
                      ess_per_s_ratio = m$ess_per_s / m$ess_per_s.stan,
                      ess_per_grad_ratio = m$ess_per_grad / m$ess_per_grad.stan,
                      leapfrog_cost_ratio = m$us_per_leapfrog / m$us_per_leapfrog.stan)
  cat("\n# exmc / Stan (medians; ESS/s and ESS/grad: > 1 means exmc is better)\n")
  print(format(ratio, digits = 3), row.names = FALSE)
  write.table(ratio, file.path(out, "ratios.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
}
