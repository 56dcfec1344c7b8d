# Shared helpers for the Stan side of exmc's benchmark: locate models/data, compile once (cached).
suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
})
rstan_options(boost_lib = "/usr/include")  # Debian's BH package ships no headers
rstan_options(auto_write = FALSE)

bench_script_dir <- function() {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f) == 0) return(getwd())
  dirname(normalizePath(f))
}

bench_dirs <- function() {
  here <- bench_script_dir()
  root <- normalizePath(file.path(here, "..", ".."))
  shared <- Sys.getenv("EXMC_SHARED_DIR", normalizePath(file.path(root, "..", "shared")))
  list(here = here, root = root, models = file.path(shared, "bench", "models"),
       data = file.path(shared, "bench", "data"), cache = file.path(here, ".cache"))
}

bench_model_names <- c("simple", "medium", "stress", "eight_schools_centered",
                       "eight_schools_noncentered", "funnel", "logistic", "sv", "hier_big",
                       "logistic_big")

stan_file_for <- function(model) if (model == "logistic_big") "logistic" else model

# Compiled stanmodel, cached by program name and the program text's md5.
compiled_model <- function(model, dirs = bench_dirs()) {
  prog <- stan_file_for(model)
  path <- file.path(dirs$models, paste0(prog, ".stan"))
  dir.create(dirs$cache, showWarnings = FALSE, recursive = TRUE)
  key <- unname(tools::md5sum(path))
  rds <- file.path(dirs$cache, paste0(prog, "-", key, ".rds"))
  if (file.exists(rds)) return(readRDS(rds))
  t0 <- Sys.time()
  sm <- stan_model(file = path, model_name = prog)
  message(sprintf("compiled %s in %.1f s", prog, as.numeric(Sys.time() - t0, units = "secs")))
  saveRDS(sm, rds)
  sm
}

model_data <- function(model, dirs = bench_dirs()) {
  d <- fromJSON(file.path(dirs$data, paste0(model, ".json")), simplifyVector = TRUE)
  if (length(d) == 0) d <- list()
  d
}
