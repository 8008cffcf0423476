# Reference numbers from R's mclust for the 14 Gaussian covariance models, G = 3,
# on the data sets written by make_data.R. Writes reference.json and nparams.csv
# into the folder holding this script (see README.md for the layout).
#
# Run from this folder:  Rscript make_data.R && Rscript make_reference.R

suppressPackageStartupMessages({
  library(mclust)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "."

models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
            "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
G <- 3
datasets <- c("iris", "shapes")

# mstep: tol[2] / itmax[2] are the inner (M-step) tolerance / iteration limit.
ctl_mstep <- emControl(tol = c(1e-10, 1e-14))
# me: tol[1] / itmax[1] for EM, tol[2] / itmax[2] for the inner M-step iteration.
ctl_em <- emControl(tol = c(1e-12, 1e-14), itmax = c(100000, 100000))

## JSON writer -------------------------------------------------------------------
# jsonlite 1.8.4 prints at most 15 significant digits whatever `digits` is set
# to (digits = NA and digits = I(17) both give 15), which does not round-trip
# doubles. So numbers are formatted here with "%.17g"; jsonlite is used for
# escaping strings and to parse the file back as a check.
# Conventions: NULL -> null; NA/NaN/Inf -> null; a numeric of length 1 is a
# scalar unless wrapped in I(), anything longer (or I()) is an array; a named
# list is an object, an unnamed list an array.
json_scalar_num <- function(v) {
  v <- as.numeric(v)
  ifelse(is.finite(v), sprintf("%.17g", v), "null")
}
to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      keys <- vapply(names(x), function(k) as.character(toJSON(k, auto_unbox = TRUE)), "")
      vals <- vapply(x, to_json, "", indent = indent + 1)
      return(paste0("{\n", paste0(pad1, keys, ": ", vals, collapse = ",\n"), "\n", pad, "}"))
    }
    vals <- vapply(x, to_json, "", indent = indent + 1)
    # arrays of plain numbers/arrays stay on one line
    if (all(!grepl("\n", vals))) return(paste0("[", paste(vals, collapse = ","), "]"))
    return(paste0("[\n", paste0(pad1, vals, collapse = ",\n"), "\n", pad, "]"))
  }
  as_array <- inherits(x, "AsIs") || length(x) != 1
  if (is.logical(x)) {
    s <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    s <- json_scalar_num(unclass(x))
  } else {
    s <- vapply(as.character(unclass(x)), function(v)
      if (is.na(v)) "null" else as.character(toJSON(v, auto_unbox = TRUE)), "")
  }
  if (as_array) paste0("[", paste(s, collapse = ","), "]") else s
}

## layout helpers ----------------------------------------------------------------
vec <- function(v) I(as.numeric(v))                       # always an array
rows_of <- function(M) {                                  # matrix -> row-major nested
  M <- as.matrix(M)
  lapply(seq_len(nrow(M)), function(i) vec(M[i, ]))
}
cube <- function(A) {                                     # D x D x G -> [k][i][j]
  lapply(seq_len(dim(A)[3]), function(k) rows_of(A[, , k]))
}
scale_out <- function(s) {
  if (is.null(s)) return(NULL)
  if (length(s) == 1) as.numeric(s) else vec(s)
}
shape_out <- function(s) {                                # D x G -> G x D; vector as is
  if (is.null(s)) return(NULL)
  if (is.matrix(s)) rows_of(t(s)) else vec(s)
}
orientation_out <- function(O) {                          # D x D x G -> G x D x D
  if (is.null(O)) return(NULL)
  if (length(dim(O)) == 3) cube(O) else rows_of(O)
}
params_out <- function(par) {
  v <- par$variance
  list(pro = vec(par$pro),
       mean = rows_of(t(par$mean)),                        # mclust mean is D x G
       sigma = cube(v$sigma),                              # mclust sigma is D x D x G
       scale = scale_out(v$scale),
       shape = shape_out(v$shape),
       orientation = orientation_out(v$orientation))
}
params_ok <- function(par) {
  !is.null(par) && !is.null(par$variance$sigma) &&
    all(is.finite(par$pro)) && all(is.finite(par$mean)) &&
    all(is.finite(par$variance$sigma)) && all(par$pro > 0)
}
logsumexp_rows <- function(M) {
  m <- apply(M, 1, max)
  m + log(rowSums(exp(M - m)))
}
mixture_loglik <- function(logdens, pro) {
  sum(logsumexp_rows(sweep(logdens, 2, log(pro), "+")))
}

# Runs expr, collecting warnings (muffled) and an error message if any.
capture <- function(expr) {
  warns <- character(0)
  err <- NULL
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) {
      err <<- conditionMessage(e)
      NULL
    }),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(value = value, warnings = unique(warns), error = err)
}
info_out <- function(info) {
  if (is.null(info)) return(NULL)
  flat <- unlist(info)
  out <- list(iterations = as.numeric(flat[1]), error = as.numeric(flat[2]))
  inner <- attr(info, "inner")
  if (!is.null(inner)) out$inner <- list(iterations = as.numeric(inner[1]),
                                         error = as.numeric(inner[2]))
  out
}
status_out <- function(run) {
  v <- run$value
  list(returnCode = if (is.null(attr(v, "returnCode"))) NULL else as.numeric(attr(v, "returnCode")),
       WARNING = if (is.null(attr(v, "WARNING"))) NULL else as.character(attr(v, "WARNING")),
       warnings = if (length(run$warnings)) I(run$warnings) else NULL,
       error = run$error)
}
not_available_with_prior <- function(run) {
  any(grepl("not available with prior", c(run$warnings, attr(run$value, "WARNING"))))
}

## one M-step from z0 ------------------------------------------------------------
do_mstep <- function(X, m, z0, prior = NULL, with_logdens = TRUE) {
  run <- capture(mstep(X, modelName = m, z = z0, prior = prior, warn = TRUE,
                       control = ctl_mstep))
  out <- list(status = status_out(run))
  ms <- run$value
  if (!is.null(prior) && not_available_with_prior(run)) {
    return(list(result = NULL, status = out$status, refused = TRUE))
  }
  if (is.null(ms) || !params_ok(ms$parameters)) {
    return(list(result = NULL, status = out$status, refused = FALSE))
  }
  par <- ms$parameters
  res <- params_out(par)
  res$info <- info_out(attr(ms, "info"))
  ld <- cdens(X, modelName = m, parameters = par, logarithm = TRUE)
  res$loglik <- mixture_loglik(ld, par$pro)
  es <- capture(estep(X, modelName = m, parameters = par, warn = TRUE))
  res$loglik_estep <- if (is.null(es$value)) NULL else es$value$loglik
  if (with_logdens) res$logdens <- rows_of(ld)
  res$status <- out$status
  list(result = res, refused = FALSE)
}

## EM from z0 --------------------------------------------------------------------
do_em <- function(X, m, z0, prior = NULL) {
  n <- nrow(X)
  d <- ncol(X)
  run <- capture(me(X, modelName = m, z = z0, prior = prior, warn = TRUE,
                    control = ctl_em))
  fit <- run$value
  status <- status_out(run)
  if (!is.null(prior) && not_available_with_prior(run)) {
    return(list(result = NULL, status = status, refused = TRUE))
  }
  if (is.null(fit) || is.null(fit$loglik) || !is.finite(fit$loglik) ||
      !params_ok(fit$parameters)) {
    return(list(result = NULL, status = status, refused = FALSE))
  }
  par <- fit$parameters
  res <- list(loglik = fit$loglik)
  info <- info_out(attr(fit, "info"))
  res$iterations <- info$iterations
  res$error <- info$error
  res$inner <- info$inner
  res <- c(res, params_out(par))
  res$bic <- bic(m, fit$loglik, n, d, G)
  res$npar <- nMclustParams(m, d, G)
  ld <- cdens(X, modelName = m, parameters = par, logarithm = TRUE)
  res$loglik_cdens <- mixture_loglik(ld, par$pro)
  res$status <- status
  list(result = res, refused = FALSE)
}

## does control really reach the Fortran inner loop? ----------------------------
control_check <- function(X, m, z0) {
  loose <- capture(mstep(X, modelName = m, z = z0, warn = TRUE,
                         control = emControl(tol = c(1e-10, 1e-3))))
  capped <- capture(mstep(X, modelName = m, z = z0, warn = TRUE,
                          control = emControl(tol = c(1e-10, 1e-14), itmax = c(100, 2))))
  list(inner_tol_1e_3 = info_out(attr(loose$value, "info")),
       inner_itmax_2 = c(info_out(attr(capped$value, "info")),
                         list(warnings = if (length(capped$warnings)) I(capped$warnings) else NULL)))
}

prior_hyper_out <- function(X, m) {
  run <- capture(defaultPrior(X, G = G, modelName = m))
  h <- run$value
  if (is.null(h)) return(list(error = run$error))
  list(shrinkage = h$shrinkage, mean = vec(h$mean), dof = h$dof,
       scale = if (length(h$scale) == 1) as.numeric(h$scale) else rows_of(h$scale))
}

iterative <- c("VEI", "VEE", "EVE", "VVE", "VEV")

out <- list(
  mclust_version = as.character(packageVersion("mclust")),
  R_version = R.version.string,
  jsonlite_version = as.character(packageVersion("jsonlite")),
  settings = list(
    G = G,
    z0 = "unmap(labels_<dataset>.csv$label)",
    mstep = "mstep(X, modelName, z = z0, warn = TRUE, control = emControl(tol = c(1e-10, 1e-14)))",
    me = "me(X, modelName, z = z0, warn = TRUE, control = emControl(tol = c(1e-12, 1e-14), itmax = c(100000, 100000)))",
    prior = "priorControl() i.e. defaultPrior(X, G, modelName) with shrinkage 0.01",
    loglik = "sum_i logsumexp_k(log pro_k + cdens(..., logarithm = TRUE)[i, k])",
    bic = "bic(modelName, loglik, n, d, G) = 2 * loglik - npar * log(n)",
    hcUse = mclust.options("hcUse"),
    layout = "mean G x D, sigma G x D x D, logdens n x G, all row-major; see README.md"
  ),
  datasets = list()
)

for (name in datasets) {
  X <- as.matrix(read.csv(file.path(here, paste0(name, ".csv"))))
  labels <- read.csv(file.path(here, paste0("labels_", name, ".csv")))$label
  z0 <- unmap(labels)
  stopifnot(ncol(z0) == G)
  n <- nrow(X)
  d <- ncol(X)
  cat(sprintf("== %s: n = %d, d = %d, G = %d\n", name, n, d, G))
  entry <- list(n = n, d = d, G = G, columns = I(colnames(X)),
                label_counts = vec(tabulate(labels, G)), models = list())
  for (m in models) {
    notes <- character(0)
    ms <- do_mstep(X, m, z0)
    em <- do_em(X, m, z0)
    msp <- do_mstep(X, m, z0, prior = priorControl(), with_logdens = FALSE)
    emp <- do_em(X, m, z0, prior = priorControl())
    if (is.null(ms$result)) notes <- c(notes, paste("mstep failed:", paste(unlist(ms$status), collapse = "; ")))
    if (is.null(em$result)) notes <- c(notes, paste("me failed:", paste(unlist(em$status), collapse = "; ")))
    if (isTRUE(msp$refused)) notes <- c(notes, paste0("mstep with prior refused by mclust: ",
                                                       paste(unique(c(msp$status$warnings, msp$status$WARNING)), collapse = "; ")))
    else if (is.null(msp$result)) notes <- c(notes, paste("mstep with prior failed:", paste(unlist(msp$status), collapse = "; ")))
    if (isTRUE(emp$refused)) notes <- c(notes, paste0("me with prior refused by mclust: ",
                                                       paste(unique(c(emp$status$warnings, emp$status$WARNING)), collapse = "; ")))
    else if (is.null(emp$result)) notes <- c(notes, paste("me with prior failed:", paste(unlist(emp$status), collapse = "; ")))
    if (!is.null(ms$result$status$warnings)) notes <- c(notes, paste("mstep warnings:", paste(ms$result$status$warnings, collapse = "; ")))
    if (!is.null(em$result$status$warnings)) notes <- c(notes, paste("me warnings:", paste(em$result$status$warnings, collapse = "; ")))
    if (!is.null(emp$result$status$warnings)) notes <- c(notes, paste("me (prior) warnings:", paste(emp$result$status$warnings, collapse = "; ")))
    if (m == "EEV" && !is.null(msp$result)) notes <- c(notes, paste(
      "EEV with prior: mclust 6.0.0's Fortran mseevp (used by mstep) sets the shrinkage to 0",
      "('if (pshrnk .gt. zero) pshrnk = zero'), so mstep_prior means are not shrunk and the",
      "denominator is nu+n+p+1; meeevp (used by me) does shrink (nu+n+p+2). See README."))
    if (m %in% c("EII", "EEI", "EVI") && !is.null(msp$result)) notes <- c(notes, paste(
      "The prior M-step inside me() (Fortran me*p) differs from mstep()'s (ms*p) for this model;",
      "see README, section 'Priors'."))
    if (m == "VVE") notes <- c(notes, paste(
      "mclust's VVE M-step uses the same orientation/shape iteration as EVE (no 1/lambda_k",
      "weights), so it does not maximise Q exactly and EM is not guaranteed monotone; see README."))
    entry$models[[m]] <- list(
      mstep = ms$result,
      em = em$result,
      mstep_prior = msp$result,
      em_prior = emp$result,
      prior_hyperparameters = if (isTRUE(msp$refused)) NULL else prior_hyper_out(X, m),
      control_check = if (m %in% iterative) control_check(X, m, z0) else NULL,
      notes = if (length(notes)) paste(notes, collapse = " | ") else ""
    )
    cat(sprintf("  %s  mstep ll %s  em ll %s (it %s)  prior: mstep %s em ll %s\n", m,
                format(ms$result$loglik, digits = 10), format(em$result$loglik, digits = 10),
                format(em$result$iterations),
                if (is.null(msp$result)) "-" else "ok",
                if (is.null(emp$result)) "-" else format(emp$result$loglik, digits = 10)))
  }
  out$datasets[[name]] <- entry
}

json_file <- file.path(here, "reference.json")
writeLines(to_json(out), json_file)

## nparams.csv -------------------------------------------------------------------
np <- expand.grid(G = 1:5, d = 1:6, model = models, stringsAsFactors = FALSE)
np <- np[, c("model", "d", "G")]
np$npar <- mapply(function(m, d, g) nMclustParams(m, d, g), np$model, np$d, np$G)
write.csv(np, file.path(here, "nparams.csv"), row.names = FALSE, quote = FALSE)

## read the JSON back and check precision and orientation ------------------------
back <- fromJSON(json_file, simplifyVector = FALSE)
X <- as.matrix(read.csv(file.path(here, "iris.csv")))
z0 <- unmap(read.csv(file.path(here, "labels_iris.csv"))$label)
chk <- mstep(X, modelName = "VVV", z = z0)$parameters
j <- back$datasets$iris$models$VVV$mstep
stopifnot(identical(unlist(j$mean[[2]]), unname(chk$mean[, 2])),           # mean[k][i] = mu[i, k]
          identical(unlist(j$sigma[[2]][[1]]), unname(chk$variance$sigma[1, , 2])),  # sigma[k][i][j]
          identical(unlist(j$pro), chk$pro))
cat("VVV iris mstep, component 2: mclust mean[, 2] =", format(chk$mean[, 2], digits = 17), "\n")
cat("                             json  mean[[2]]  =", format(unlist(j$mean[[2]]), digits = 17), "\n")
cat("mclust sigma[2, , 2] =", format(chk$variance$sigma[2, , 2], digits = 17), "\n")
cat("json   sigma[[2]][[2]] =", format(unlist(j$sigma[[2]][[2]]), digits = 17), "\n")
cat("wrote", json_file, "(", file.size(json_file), "bytes ) and nparams.csv\n")
