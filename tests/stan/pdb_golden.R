# Regenerates tests/stan/pdb_golden.json: Stan's log density (Jacobian included, constants of
# `~` dropped) and gradient at fixed unconstrained points for a few posteriordb programs, for
# checking the Stan front end's lowering (tests/stan/lower_test.cc).
# Usage: Rscript tests/stan/pdb_golden.R OLD_SYNTAX_DIR SHARED_DIR OUT.json NAME...
# OLD_SYNTAX_DIR holds NAME.stan: each program printed with exmc's printer in the pre-2.33
# array syntax (use_old_array_syntax), since Debian's rstan is Stan 2.21; the build's
# pdb_old_syntax tool writes them: pdb_old_syntax SHARED_DIR OLD_SYNTAX_DIR NAME...
# The file written holds only the programs named: to add programs, run with the new names and
# merge the result into pdb_golden.json (the points of each program depend only on its
# dimension, so old entries stay valid).
suppressMessages({ library(rstan); library(jsonlite) })
rstan_options(boost_lib = "/usr/include")
rstan_options(auto_write = TRUE)  # reruns reuse OLD_SYNTAX_DIR/NAME.rds instead of recompiling
a <- commandArgs(trailingOnly = TRUE)
old_dir <- a[1]; shared <- a[2]; out <- a[3]; names <- a[-(1:3)]
golden <- list()
for (m in names) {
  data <- fromJSON(file.path(shared, "posteriordb", m, "data.json"), simplifyVector = TRUE)
  sm <- stan_model(file.path(old_dir, paste0(m, ".stan")))
  fit <- sampling(sm, data = data, chains = 1, iter = 1, algorithm = "Fixed_param",
                  refresh = 0, seed = 1, init = 0)
  d <- get_num_upars(fit)
  set.seed(20261123)
  pts <- list()
  for (k in 1:3) {
    # Redrawn while Stan's gradient is not finite (mcycle_gp's spectral density underflows
    # for length scales above ~0.9, where the chain rule gives inf * 0); the programs whose
    # first draws are finite keep their points.
    repeat {
      x <- round(runif(d, -1, 1), 3)  # exact 3-decimal points, read identically in C++
      lp <- log_prob(fit, x, adjust_transform = TRUE, gradient = TRUE)
      if (is.finite(lp) && all(is.finite(attr(lp, "gradient")))) break
    }
    pts[[k]] <- list(x = x, lp = as.numeric(lp), grad = as.numeric(attr(lp, "gradient")))
  }
  golden[[m]] <- pts
  message(sprintf("%s: d = %d, lp = %s", m, d, paste(signif(sapply(pts, `[[`, "lp"), 10), collapse = ", ")))
}
writeLines(toJSON(golden, digits = I(17), auto_unbox = TRUE, pretty = TRUE), out)
