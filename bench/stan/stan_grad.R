# Stan's gradient cost per model, timed natively in C++ (stan_grad_main.cc) with rstan's own
# headers and flags, so exmc-bench grad can be compared with it in one run on one machine.
# Usage: Rscript bench/stan/stan_grad.R [model ...]   (binaries cached under bench/stan/.cache)
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", a[grep("^--file=", a)]); dirname(f)
}), "common.R"))
dirs <- bench_dirs()
args <- commandArgs(trailingOnly = TRUE)
models <- if (length(args)) args else bench_model_names
dir.create(dirs$cache, showWarnings = FALSE, recursive = TRUE)
plugin <- rstan:::rstanplugin()
flags <- paste(plugin$env$PKG_CPPFLAGS, "-std=c++14 -O2 -DNDEBUG -Wno-ignored-attributes",
               "-Wno-deprecated-declarations")
libs <- plugin$env$PKG_LIBS
cat("model\tdim\tstan_grad_ns\n")
for (m in models) {
  prog <- stan_file_for(m)
  src <- file.path(dirs$models, paste0(prog, ".stan"))
  key <- unname(tools::md5sum(c(src, file.path(dirs$here, "stan_grad_main.cc"))))
  exe <- file.path(dirs$cache, sprintf("stan_grad_%s_%s", prog, substr(paste(key, collapse = ""), 1, 12)))
  if (!file.exists(exe)) {
    hpp <- file.path(dirs$cache, paste0(prog, ".hpp"))
    writeLines(stanc(file = src, model_name = prog)$cppcode, hpp)
    cmd <- sprintf("g++ %s -DSTAN_MODEL_HPP='\"%s\"' %s -o %s %s", flags, hpp,
                   file.path(dirs$here, "stan_grad_main.cc"), exe, libs)
    if (system(cmd) != 0) stop("compiling ", exe, " failed")
  }
  rdump <- file.path(dirs$cache, paste0(m, ".data.R"))
  d <- model_data(m, dirs)
  e <- list2env(d)
  if (length(d)) stan_rdump(names(d), rdump, envir = e) else writeLines("", rdump)
  res <- strsplit(system2(exe, rdump, stdout = TRUE), "\t")[[1]]
  cat(sprintf("%s\t%s\t%s\n", m, res[1], res[2]))
  flush(stdout())
}
