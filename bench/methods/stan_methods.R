# Stan's side of the optimize/variational benchmark (bench/methods/README.md): rstan's
# optimizing (L-BFGS, tight tolerances) and vb (meanfield ADVI, defaults) on posteriordb posteriors.
# Usage:
#   Rscript bench/methods/stan_methods.R OLD_DIR SHARED_DIR CACHE_DIR OUT_DIR [--seeds 1,2,3]
#           [--compile-only] [--exmc-dir DIR] NAME...
# OLD_DIR holds NAME.stan in the pre-2.33 array syntax (build/tests/stan/pdb_old_syntax writes
# them; Debian's rstan is Stan 2.21). CACHE_DIR keeps compiled models as NAME-<md5>.rds, so reruns
# only compile changed programs. Writes OUT_DIR/NAME.stan.json per posterior. With --exmc-dir,
# exmc's modes (DIR/NAME.opt.csv, first data row) are also evaluated with Stan's log_prob, so the
# two modes' log densities can be compared on the same (Stan's) scale.
suppressPackageStartupMessages({ library(rstan); library(jsonlite) })
rstan_options(boost_lib = "/usr/include")  # Debian's BH package ships no headers
rstan_options(auto_write = FALSE)

a <- commandArgs(trailingOnly = TRUE)
old_dir <- a[1]; shared <- a[2]; cache <- a[3]; out_dir <- a[4]; rest <- a[-(1:4)]
seeds <- 1:3; compile_only <- FALSE; exmc_dir <- NULL; names <- character()
i <- 1
while (i <= length(rest)) {
  if (rest[i] == "--seeds") { seeds <- as.integer(strsplit(rest[i + 1], ",")[[1]]); i <- i + 2 }
  else if (rest[i] == "--compile-only") { compile_only <- TRUE; i <- i + 1 }
  else if (rest[i] == "--exmc-dir") { exmc_dir <- rest[i + 1]; i <- i + 2 }
  else { names <- c(names, rest[i]); i <- i + 1 }
}
dir.create(cache, showWarnings = FALSE, recursive = TRUE)
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# The optimizer's stopping rule, the same numbers passed to exmc optimize by run_methods.sh.
# Stan's defaults are tol_obj 1e-12, tol_rel_obj 1e4, tol_grad 1e-8, tol_rel_grad 1e7,
# tol_param 1e-8; tol_rel_obj and tol_rel_grad are in units of machine epsilon (2.2e-16).
opt_tol <- list(tol_obj = 1e-12, tol_rel_obj = 1, tol_grad = 1e-8, tol_rel_grad = 1e3,
                tol_param = 1e-8, iter = 10000, init_alpha = 0.001, history_size = 5)

secs <- function(t0) as.numeric(Sys.time() - t0, units = "secs")

compiled <- function(m) {
  path <- file.path(old_dir, paste0(m, ".stan"))
  key <- unname(tools::md5sum(path))
  rds <- file.path(cache, paste0(m, "-", key, ".rds"))
  if (file.exists(rds)) return(list(sm = readRDS(rds), compile_s = NA))
  t0 <- Sys.time()
  sm <- stan_model(file = path, model_name = gsub("[^A-Za-z0-9_]", "_", m))
  s <- secs(t0)
  message(sprintf("%s: compiled in %.1f s", m, s))
  saveRDS(sm, rds)
  list(sm = sm, compile_s = s)
}

# "beta[1,2]" -> "beta.1.2" (CmdStan's flat names)
flat <- function(n) gsub("\\]", "", gsub("[\\[,]", ".", n))

# optimizing's par holds parameters, TPs and GQs under rstan's names; keep them all.
named_vec <- function(v) { n <- flat(names(v)); as.list(setNames(as.numeric(v), n)) }

# Stan's log_prob (constants of `~` dropped) at constrained values `vals` (a named list of flat
# names -> numbers), without the Jacobian: the objective of optimizing.
lp_at <- function(fit, vals, par_names) {
  tmpl <- fit@inits[[1]]  # values of parameters, TPs and GQs with their shapes
  pars <- list()
  for (p in intersect(names(tmpl), par_names)) {  # the parameters block only
    d <- dim(tmpl[[p]])
    if (is.null(d) && length(tmpl[[p]]) == 1) {
      pars[[p]] <- vals[[p]]
    } else {
      dd <- if (is.null(d)) length(tmpl[[p]]) else d
      idx <- as.matrix(expand.grid(lapply(dd, seq_len)))  # first index fastest: column major
      nm <- apply(idx, 1, function(r) paste(c(p, r), collapse = "."))
      if (length(dd) == 1) nm <- paste(p, seq_len(dd), sep = ".")
      v <- unlist(vals[nm])
      if (length(v) != length(nm)) return(NA)
      pars[[p]] <- if (length(dd) == 1) v else array(v, dim = dd)
    }
  }
  u <- unconstrain_pars(fit, pars)
  as.numeric(log_prob(fit, u, adjust_transform = FALSE, gradient = FALSE))
}

read_exmc_mode <- function(path) {
  if (!file.exists(path)) return(NULL)
  x <- read.csv(path, comment.char = "#", check.names = FALSE)
  if (nrow(x) < 1) return(NULL)
  as.list(x[1, ])
}

for (m in names) {
  res <- list(posterior = m, rstan_version = as.character(packageVersion("rstan")),
              stan_version = stan_version(), optimize_tolerances = opt_tol)
  cm <- tryCatch(compiled(m), error = function(e) e)
  if (inherits(cm, "error")) {
    res$error <- paste("compile:", conditionMessage(cm))
    writeLines(toJSON(res, auto_unbox = TRUE, digits = I(17), pretty = TRUE),
               file.path(out_dir, paste0(m, ".stan.json")))
    next
  }
  res$compile_s <- cm$compile_s
  if (compile_only) next
  sm <- cm$sm
  data <- fromJSON(file.path(shared, "posteriordb", m, "data.json"), simplifyVector = TRUE)
  par_names <- fromJSON(file.path(shared, "posteriordb", m, "info.json"))$parameters$name
  # A one-iteration fixed-parameter fit, only for log_prob / unconstrain_pars.
  fit0 <- tryCatch(suppressWarnings(sampling(sm, data = data, chains = 1, iter = 1,
                                            algorithm = "Fixed_param", refresh = 0, seed = 1)),
                   error = function(e) NULL)
  res$optimize <- list()
  for (s in seeds) {
    t0 <- Sys.time()
    out <- character()
    o <- tryCatch({
      out <- capture.output(r <- do.call(optimizing, c(list(object = sm, data = data, seed = s,
                                          algorithm = "LBFGS", verbose = TRUE, as_vector = TRUE,
                                          refresh = 1), opt_tol)))
      r
    }, error = function(e) e)
    el <- secs(t0)
    if (inherits(o, "error")) {
      res$optimize[[length(res$optimize) + 1]] <- list(seed = s, error = conditionMessage(o))
      next
    }
    # verbose lines: "Chain 1:   ITER  LOGP  ||dx||  ||grad||  alpha  alpha0  #evals  Notes"
    body <- sub("^Chain [0-9]+:", "", out)
    it <- grep("^\\s*[0-9]+\\s+-?[0-9]", body, value = TRUE)
    last <- if (length(it)) strsplit(trimws(it[length(it)]), "\\s+")[[1]] else character()
    par <- named_vec(o$par)
    e <- list(seed = s, value = o$value, return_code = o$return_code, wall_s = el,
              iterations = if (length(last) >= 7) as.integer(last[1]) else NA,
              evals = if (length(last) >= 7) as.integer(last[7]) else NA,
              termination = trimws(paste(tail(body, 2), collapse = " ")), mode = par)
    # value is Stan's log_prob without the Jacobian, constants of `~` dropped: check it.
    if (!is.null(fit0)) e$log_prob_at_mode <- tryCatch(lp_at(fit0, par, par_names), error = function(e) NA)
    res$optimize[[length(res$optimize) + 1]] <- e
  }
  if (!is.null(exmc_dir) && !is.null(fit0)) {
    res$log_prob_at_exmc_mode <- list()
    for (s in seeds) {
      md <- read_exmc_mode(file.path(exmc_dir, sprintf("%s.opt.%d.csv", m, s)))
      if (is.null(md)) next
      res$log_prob_at_exmc_mode[[as.character(s)]] <- tryCatch(lp_at(fit0, md, par_names), error = function(e) NA)
    }
  }
  res$vb <- list()
  for (s in seeds) {
    t0 <- Sys.time()
    v <- tryCatch({
      capture.output(f <- suppressWarnings(vb(sm, data = data, seed = s, algorithm = "meanfield",
                                              output_samples = 1000, refresh = 0)))
      f
    }, error = function(e) e)
    el <- secs(t0)
    if (inherits(v, "error") || !inherits(v, "stanfit") || v@mode != 0) {
      res$vb[[length(res$vb) + 1]] <- list(seed = s, wall_s = el,
        error = if (inherits(v, "error")) conditionMessage(v) else "vb failed")
      next
    }
    x <- as.matrix(v)
    x <- x[, !(colnames(x) %in% c("lp__", "log_p__", "log_g__")), drop = FALSE]
    res$vb[[length(res$vb) + 1]] <- list(seed = s, wall_s = el, n_draws = nrow(x),
      mean = as.list(setNames(colMeans(x), flat(colnames(x)))),
      sd = as.list(setNames(apply(x, 2, sd), flat(colnames(x)))))
  }
  writeLines(toJSON(res, auto_unbox = TRUE, digits = I(17), pretty = TRUE, na = "null"),
             file.path(out_dir, paste0(m, ".stan.json")))
  message(sprintf("%s: done", m))
}
