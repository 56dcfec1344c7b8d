# Regenerates bench/stan/golden.json: Stan's log density (Jacobian included, constants dropped
# as `~` does) and gradient at fixed unconstrained points, for testing the hand-written models.
# Usage: Rscript bench/stan/golden.R [model ...]
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", a[grep("^--file=", a)]); dirname(f)
}), "common.R"))
dirs <- bench_dirs()
args <- commandArgs(trailingOnly = TRUE)
models <- if (length(args)) args else bench_model_names
out_path <- file.path(dirs$here, "golden.json")
golden <- if (file.exists(out_path)) fromJSON(out_path, simplifyVector = FALSE) else list()

for (m in models) {
  sm <- compiled_model(m, dirs)
  fit <- sampling(sm, data = model_data(m, dirs), chains = 1, iter = 2, warmup = 1,
                  refresh = 0, seed = 1, init = 0)
  d <- get_num_upars(fit)
  set.seed(20261122)
  pts <- list()
  for (k in 1:3) {
    # Exact 3-decimal coordinates so the C++ side reads the identical point.
    x <- round(runif(d, -1.5, 1.5), 3)
    lp <- log_prob(fit, x, adjust_transform = TRUE, gradient = TRUE)
    pts[[k]] <- list(x = x, lp = as.numeric(lp), grad = as.numeric(attr(lp, "gradient")))
  }
  golden[[m]] <- pts
  message(sprintf("%s: d = %d, lp = %s", m, d, paste(signif(sapply(pts, `[[`, "lp"), 10), collapse = ", ")))
}
golden <- golden[order(names(golden))]
writeLines(toJSON(golden, digits = I(17), auto_unbox = TRUE, pretty = TRUE), out_path)
