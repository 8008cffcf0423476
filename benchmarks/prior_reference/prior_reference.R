# mclust's MAP EM with its default conjugate prior (priorControl()), as a reference for
# mixture.gaussian.ConjugatePrior (tests/test_prior.py reads the output).
#
#   Rscript benchmarks/prior_reference/prior_reference.R
#
# reads data.csv next to this script and writes reference.csv there: for the models
# VVV, EEE, VVI, VII (full, tied, diag, spherical) and G = 1, 2, 3, one long table with
# columns model, G, quantity, k, i, j, value (1-based indices; 0 where not applicable):
#
#   prior_shrinkage, prior_dof     defaultPrior(data, G, model) hyper-parameters
#   prior_mean (i), prior_scale (i, j; i = j = 1 for a scalar scale)
#   pro (k), mean (k, i), sigma (k, i, j)   Mclust(..., prior = priorControl()) estimates
#   loglik, bic, df                         as Mclust reports them
#   z (k, i = row)                          its final responsibilities
#   mstep_pro, mstep_mean, mstep_sigma      one mstep(..., prior = priorControl()) from z
#   direct_loglik                           log-likelihood of the fitted parameters

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "."
X <- as.matrix(read.csv(file.path(here, "data.csv")))
n <- nrow(X)
d <- ncol(X)

rows <- list()
add <- function(model, G, quantity, k, i, j, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    model = model, G = G, quantity = quantity, k = k, i = i, j = j,
    value = sprintf("%.17g", value)
  )
}
add_parameters <- function(model, G, prefix, parameters) {
  for (k in 1:G) {
    add(model, G, paste0(prefix, "pro"), k, 0, 0, parameters$pro[k])
    for (i in 1:d) {
      add(model, G, paste0(prefix, "mean"), k, i, 0, parameters$mean[i, k])
      for (j in 1:d) {
        add(model, G, paste0(prefix, "sigma"), k, i, j, parameters$variance$sigma[i, j, k])
      }
    }
  }
}
log_likelihood <- function(parameters, G) {
  density <- sapply(1:G, function(k) {
    parameters$pro[k] * dmvnorm(X, parameters$mean[, k], parameters$variance$sigma[, , k])
  })
  sum(log(rowSums(matrix(density, nrow = n))))
}

for (model in c("VVV", "EEE", "VVI", "VII")) {
  for (G in 1:3) {
    prior <- defaultPrior(X, G, model)
    add(model, G, "prior_shrinkage", 0, 0, 0, prior$shrinkage)
    add(model, G, "prior_dof", 0, 0, 0, prior$dof)
    for (i in 1:d) add(model, G, "prior_mean", 0, i, 0, prior$mean[i])
    scale <- as.matrix(prior$scale)
    for (i in seq_len(nrow(scale))) {
      for (j in seq_len(ncol(scale))) add(model, G, "prior_scale", 0, i, j, scale[i, j])
    }

    fit <- Mclust(X, G = G, modelNames = model, prior = priorControl(), verbose = FALSE)
    add_parameters(model, G, "", fit$parameters)
    add(model, G, "loglik", 0, 0, 0, fit$loglik)
    add(model, G, "bic", 0, 0, 0, fit$bic)
    add(model, G, "df", 0, 0, 0, fit$df)
    for (k in 1:G) {
      for (i in 1:n) add(model, G, "z", k, i, 0, fit$z[i, k])
    }

    step <- mstep(data = X, modelName = model, z = fit$z, prior = priorControl())
    add_parameters(model, G, "mstep_", step$parameters)
    add(model, G, "direct_loglik", 0, 0, 0, log_likelihood(fit$parameters, G))
  }
}

table <- do.call(rbind, rows)
write.csv(table, file.path(here, "reference.csv"), row.names = FALSE, quote = FALSE)
cat("mclust", as.character(packageVersion("mclust")), ":", nrow(table), "values written\n")
