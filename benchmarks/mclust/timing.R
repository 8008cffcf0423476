#!/usr/bin/env Rscript
# CPU time of mclustBIC(X, G = 1:9, ...) per data set: all 14 models and the 4 shared ones,
# tight control with and without the default prior, and mclust's default control without prior.
# Time = user + sys of system.time() (includes the hc initialisation); median over repetitions.
# Run from the repository root:
#   Rscript benchmarks/mclust/timing.R            # 5 repetitions (3 for synthetic)
#   Rscript benchmarks/mclust/timing.R 7 3        # 7 repetitions (3 for synthetic)
# Writes benchmarks/mclust/reference_cpu.csv.
source(file.path("benchmarks", "mclust", "settings.R"))
args <- commandArgs(trailingOnly = TRUE)
REPS <- if (length(args) >= 1) as.integer(args[1]) else 5L
REPS_LARGE <- if (length(args) >= 2) as.integer(args[2]) else 3L   # for n > 1000

runs <- list(
  list(scope = "all14", models = ALL14, prior = "none", control = "tight"),
  list(scope = "shared4", models = SHARED, prior = "none", control = "tight"),
  list(scope = "all14", models = ALL14, prior = "default", control = "tight"),
  list(scope = "shared4", models = SHARED, prior = "default", control = "tight"),
  list(scope = "all14", models = ALL14, prior = "none", control = "default"),
  list(scope = "shared4", models = SHARED, prior = "none", control = "default"))
rows <- list()
for (ds in DATASETS) {
  X <- read_data(ds); n <- nrow(X); d <- ncol(X)
  reps <- if (n > 1000) REPS_LARGE else REPS
  last <- list()
  for (r in runs) {
    ctl <- if (r$control == "tight") CTRL else CTRL_DEFAULT
    tt <- matrix(NA_real_, 2, reps, dimnames = list(c("cpu", "elapsed"), NULL))
    for (i in seq_len(reps)) {
      st <- system.time(B <- suppressWarnings(fit_bic(X, r$models, PRIORS[[r$prior]], ctl)))
      tt[, i] <- c(st[["user.self"]] + st[["sys.self"]], st[["elapsed"]])
    }
    last[[paste(r$scope, r$prior, r$control)]] <- B
    rows[[length(rows) + 1]] <- data.frame(
      dataset = ds, n = n, d = d, scope = r$scope, n_models = ncol(B), G = "1:9",
      prior = r$prior, control = r$control, reps = reps,
      cpu_median_s = round(median(tt["cpu", ]), 3), cpu_min_s = round(min(tt["cpu", ]), 3),
      cpu_max_s = round(max(tt["cpu", ]), 3), elapsed_median_s = round(median(tt["elapsed", ]), 3))
    print(rows[[length(rows)]])
  }
  # the 4 shared models fitted on their own give exactly the BIC cells of the 14-model run
  for (p in c("none tight", "default tight", "none default")) {
    a <- last[[paste("shared4", p)]]; b <- last[[paste("all14", p)]]
    if (!identical(unclass(a)[, SHARED], unclass(b)[, SHARED][, colnames(unclass(a))]))
      cat("NOTE:", ds, p, "shared-4 BIC differs from the 14-model run\n")
  }
}
write.csv(do.call(rbind, rows), file.path(HERE, "reference_cpu.csv"), row.names = FALSE, quote = FALSE)
