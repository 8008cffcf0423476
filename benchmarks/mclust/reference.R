#!/usr/bin/env Rscript
# Reference model-selection numbers from R's mclust for the six data sets in data/.
# Run from the repository root:
#   Rscript benchmarks/mclust/reference.R                # about 5 CPU minutes
#   Rscript benchmarks/mclust/reference.R --check-icl    # also calls mclustICL() and compares
# Writes reference_bic.csv, reference_icl.csv, reference_selected.csv, versions.txt,
# warnings.txt and data/synthetic_hc_subset.txt into benchmarks/mclust/.
# CPU times are made by timing.R; both source settings.R.  See README.md.
source(file.path("benchmarks", "mclust", "settings.R"))
CHECK_ICL <- "--check-icl" %in% commandArgs(trailingOnly = TRUE)

bic_rows <- list(); icl_rows <- list(); sel_rows <- list()
checks <- list()

for (ds in DATASETS) {
  X <- read_data(ds); n <- nrow(X); d <- ncol(X)
  cat(sprintf("== %s  n = %d, d = %d\n", ds, n, d))
  for (pn in names(PRIORS)) {
    prior <- PRIORS[[pn]]
    where <- sprintf("%s/prior=%s", ds, pn)
    B <- capture(fit_bic(X, ALL14, prior), paste(where, "mclustBIC"))
    fitted_models <- colnames(B)     # with a prior mclust drops EVE, VEE, VVE, EVV
    if (ds == "synthetic" && pn == "none")
      writeLines(as.character(attr(B, "initialization")$subset),
                 file.path(HERE, "data", "synthetic_hc_subset.txt"))
    # ICL: mclustICL() reruns mclustBIC() and then, per cell, summary() + icl(); that is exactly
    # the per-cell computation below, so by default it is not called a second time (a full run
    # with --check-icl gave a max |difference| of 0 on every cell of every data set).
    I <- if (CHECK_ICL) capture({ set.seed(SEED)
      mclustICL(X, G = G, modelNames = ALL14, prior = prior, control = CTRL, verbose = FALSE) },
      paste(where, "mclustICL")) else NULL
    ICLcell <- matrix(NA_real_, length(G), length(ALL14), dimnames = list(as.character(G), ALL14))
    RC <- attr(B, "returnCodes")
    for (m in ALL14) for (k in G) {
      fitted <- m %in% fitted_models
      bic <- if (fitted) B[as.character(k), m] else NA_real_
      rc <- if (fitted) RC[as.character(k), m] else NA_integer_
      npar <- nMclustParams(m, d, k)
      ll <- NA_real_; icl_cell <- NA_real_; bic_s <- NA_real_
      if (fitted && !is.na(bic)) {
        # refit this one cell exactly as mclustBIC did (same hcPairs / subset / control / prior)
        S <- capture(summary(B, X, G = k, modelNames = m), paste(where, m, k, "summary"))
        ll <- S$loglik; bic_s <- S$bic
        icl_cell <- mclust:::icl.Mclust(S)
      }
      status <- if (!fitted) "not_fitted" else if (is.na(bic)) "NA" else "ok"
      ICLcell[as.character(k), m] <- icl_cell
      icl <- icl_cell
      bic_rows[[length(bic_rows) + 1]] <- data.frame(
        dataset = ds, prior = pn, model = m, K = k, bic = bic, loglik = ll,
        n_parameters = npar, is_na = is.na(bic), status = status, return_code = rc,
        n = n, d = d)
      icl_rows[[length(icl_rows) + 1]] <- data.frame(
        dataset = ds, prior = pn, model = m, K = k, icl = icl, bic = bic,
        is_na = is.na(icl), status = status)
      checks[[length(checks) + 1]] <- data.frame(
        dataset = ds, prior = pn, model = m, K = k,
        d_summary = bic_s - bic, d_formula = (2 * ll - npar * log(n)) - bic,
        d_icl = if (is.null(I) || !fitted) NA_real_ else icl_cell - I[as.character(k), m])
    }
    for (scope in c("shared4", "all14")) {
      cols <- if (scope == "shared4") SHARED else intersect(ALL14, fitted_models)
      for (crit in c("BIC", "ICL")) {
        M <- if (crit == "BIC") unclass(B)[, cols, drop = FALSE] else ICLcell[, cols, drop = FALSE]
        best <- which(M == max(M, na.rm = TRUE), arr.ind = TRUE)[1, ]
        mb <- colnames(M)[best[2]]; kb <- as.integer(rownames(M)[best[1]])
        sel_rows[[length(sel_rows) + 1]] <- data.frame(
          dataset = ds, prior = pn, scope = scope, criterion = crit, model = mb, K = kb,
          value = M[best[1], best[2]], n_models = length(cols))
      }
    }
  }
}

wcsv <- function(x, f) write.csv(x, file.path(HERE, f), row.names = FALSE, quote = FALSE, na = "NA")
bic_df <- do.call(rbind, bic_rows); icl_df <- do.call(rbind, icl_rows)
sel_df <- do.call(rbind, sel_rows)
chk <- do.call(rbind, checks)
wcsv(bic_df, "reference_bic.csv")
wcsv(icl_df, "reference_icl.csv")
wcsv(sel_df, "reference_selected.csv")

cat("\nConsistency checks over all fitted non-NA cells (max abs difference):\n")
mx <- function(v) if (all(is.na(v))) NA_real_ else max(abs(v), na.rm = TRUE)
chk_txt <- sprintf(paste0("summary(B, X, G=k, modelNames=m)$bic - BIC: %.3g\n",
                          "2*loglik - npar*log(n) - BIC:              %.3g\n",
                          "icl(summary cell) - mclustICL:             %.3g (NA = not run, see --check-icl)"),
                   mx(chk$d_summary), mx(chk$d_formula), mx(chk$d_icl))
cat(chk_txt, "\n")
print(sel_df)

writeLines(c("# R warnings raised during reference.R (muffled and logged here)", if (length(warn_log)) warn_log else "(no warnings)"), file.path(HERE, "warnings.txt"))
si <- capture.output(sessionInfo())
writeLines(c(
  R.version.string,
  paste("mclust", as.character(packageVersion("mclust"))),
  sprintf("emControl: tol = c(%g, %g), eps = %g, itmax = %s", CTRL$tol[1], CTRL$tol[2], CTRL$eps,
          paste(CTRL$itmax, collapse = ", ")),
  sprintf("hc init: hcModelName = %s, hcUse = %s, subset = %d (set.seed(%d) before each mclustBIC call)",
          mclust.options("hcModelName"), mclust.options("hcUse"), mclust.options("subset"), SEED),
  "", chk_txt, "", si), file.path(HERE, "versions.txt"))
