# rstan beside `exmc sample` on a few programs of ../shared/posteriordb-more (bench/posteriordb/MORE.md).
# Usage: Rscript bench/stan/more_rstan.R [--exmc PATH] [--compile-only] PROGRAM...
# Per program: rstan 2.21 compiles the program (its array syntax rewritten to the old form that
# 2.21 parses; cached by md5 under bench/stan/.cache/), then both samplers run 4 chains x (1000
# warmup + 1000 draws), seed 1, defaults (adapt_delta 0.8, max_treedepth 10), one chain at a
# time (rstan cores = 1; exmc --threads 1), so the machine's two shared cores load both alike.
# Prints a TSV row per program and sampler: warmup and sampling seconds summed over the chains
# (rstan's get_elapsed_time; exmc's CSV footers), min bulk ESS over every non-`__` column of
# the draws (posterior::ess_bulk, the same function on both), ESS per sampling second, and the
# post-warmup divergences.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(posterior))

args <- commandArgs(trailingOnly = TRUE)
dirs <- bench_dirs()
exmc <- file.path(dirs$root, "build", "exmc")
compile_only <- FALSE
programs <- character()
i <- 1
while (i <= length(args)) {
  if (args[i] == "--exmc") { exmc <- args[i + 1]; i <- i + 1 }
  else if (args[i] == "--compile-only") compile_only <- TRUE
  else programs <- c(programs, args[i])
  i <- i + 1
}
more <- file.path(dirname(dirs$models), "..", "posteriordb-more")

# Stan >= 2.26 `array[N, M] T<...>[K] name` -> 2.21 `T<...>[K] name[N, M]`; `array[] T` -> `T[]`.
old_syntax <- function(code) {
  code <- gsub("array\\[\\s*(,?\\s*)\\]\\s+(int|real|vector|row_vector|matrix)\\b", "\\2[\\1]", code, perl = TRUE)
  gsub(paste0("array\\[([^\\]]+)\\]\\s+((?:int|real|vector|row_vector|matrix|simplex|ordered|",
              "positive_ordered|unit_vector|cholesky_factor_corr|cholesky_factor_cov|corr_matrix|",
              "cov_matrix)(?:<[^>]*>)?(?:\\[[^\\]]*\\])?)\\s+(\\w+)"),
       "\\2 \\3[\\1]", code, perl = TRUE)
}

compiled <- function(p) {
  code <- old_syntax(paste(readLines(file.path(more, p, "model.stan")), collapse = "\n"))
  dir.create(dirs$cache, showWarnings = FALSE, recursive = TRUE)
  rds <- file.path(dirs$cache, paste0("more-", p, "-", digest_md5(code), ".rds"))
  if (file.exists(rds)) return(readRDS(rds))
  t0 <- Sys.time()
  sm <- stan_model(model_code = code, model_name = gsub("[^A-Za-z0-9_]", "_", p))
  message(sprintf("compiled %s in %.1f s", p, as.numeric(Sys.time() - t0, units = "secs")))
  saveRDS(sm, rds)
  sm
}
digest_md5 <- function(s) { f <- tempfile(); writeLines(s, f); unname(tools::md5sum(f)) }

min_ess <- function(df) {
  keep <- !grepl("__$", names(df))
  e <- vapply(which(keep), function(j) ess_bulk(matrix(df[[j]], ncol = 4)), numeric(1))
  min(e, na.rm = TRUE)
}

cat("program\tsampler\twarmup_s\tsampling_s\tmin_bulk_ess\tess_per_s\tdivergences\n")
for (p in programs) {
  sm <- compiled(p)
  if (compile_only) next
  data <- fromJSON(file.path(more, p, "data.json"), simplifyVector = TRUE)
  fit <- sampling(sm, data = data, chains = 4, iter = 2000, warmup = 1000, seed = 1, cores = 1,
                  refresh = 0)
  el <- get_elapsed_time(fit)
  arr <- as.array(fit)  # iterations x chains x variables
  df <- as.data.frame(lapply(seq_len(dim(arr)[3]), function(k) as.vector(arr[, , k])))
  names(df) <- dimnames(arr)[[3]]
  div <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(x) sum(x[, "divergent__"])))
  e <- min_ess(df)
  cat(sprintf("%s\trstan\t%.3f\t%.3f\t%.0f\t%.0f\t%d\n", p, sum(el[, 1]), sum(el[, 2]), e, e / sum(el[, 2]), div))
  out <- tempfile("exmc")
  dir.create(out)
  system2(exmc, c("sample", file.path(more, p, "model.stan"), "--data", file.path(more, p, "data.json"),
                  "--chains", "4", "--threads", "1", "--warmup", "1000", "--draws", "1000", "--seed", "1",
                  "--output", file.path(out, "o.csv"), "--no-progress"), stdout = FALSE, stderr = FALSE)
  warm <- 0; samp <- 0; cols <- NULL; div <- 0
  for (c in 1:4) {
    f <- file.path(out, sprintf("o_%d.csv", c))
    lines <- readLines(f)
    warm <- warm + as.numeric(sub(".*[ :]([0-9.e+-]+) seconds \\(Warm-up\\).*", "\\1", grep("seconds \\(Warm-up\\)", lines, value = TRUE)))
    samp <- samp + as.numeric(sub(".*[ :]([0-9.e+-]+) seconds \\(Sampling\\).*", "\\1", grep("seconds \\(Sampling\\)", lines, value = TRUE)))
    d <- read.csv(f, comment.char = "#", check.names = FALSE)
    div <- div + sum(d$divergent__)
    cols <- if (is.null(cols)) d else rbind(cols, d)
  }
  unlink(out, recursive = TRUE)
  e <- min_ess(cols)
  cat(sprintf("%s\texmc\t%.3f\t%.3f\t%.0f\t%.0f\t%d\n", p, warm, samp, e, e / samp, div))
}
