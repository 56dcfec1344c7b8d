# Min bulk ESS (posterior::ess_bulk) over the columns of a draws table; the one definition
# used for both exmc's and Stan's draws. As a script: prints "file<TAB>min_ess" per CSV given.
suppressPackageStartupMessages(library(posterior))
bench_tsv_header <- paste0("model\timpl\tmetric\tseed\tsampling_s\twarmup_s\tgrad_evals\t",
                           "divergences\tstepsize\tmin_bulk_ess\n")
min_bulk_ess <- function(draws) {
  ess <- vapply(seq_len(ncol(draws)), function(j) ess_bulk(as.numeric(draws[[j]])), numeric(1))
  min(ess)
}
if (sys.nframe() == 0L) {
  for (f in commandArgs(trailingOnly = TRUE)) {
    cat(sprintf("%s\t%.2f\n", f, min_bulk_ess(read.csv(f, check.names = FALSE))))
  }
}
