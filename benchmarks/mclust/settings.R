# Shared settings of reference.R and timing.R (sourced by both).
suppressPackageStartupMessages(library(mclust))

HERE <- file.path("benchmarks", "mclust")
DATASETS <- c("faithful", "iris", "diabetes", "banknote", "wine", "synthetic")
G <- 1:9
SHARED <- c("VVV", "EEE", "VVI", "VII")     # full, tied, diag, spherical
ALL14 <- mclust.options("emModelNames")      # EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV
# Tight EM control: tol[1] = relative log-likelihood tolerance of EM (default 1e-5),
# tol[2] = tolerance of the iterative M-steps (VEI, VEE, VEV, EVE, VVE; default sqrt(eps)).
CTRL <- emControl(tol = c(1e-8, sqrt(.Machine$double.eps)))
CTRL_DEFAULT <- emControl()
SEED <- 1L   # only matters for n > mclust.options("subset") = 2000 (synthetic): random hc subset
PRIORS <- list(none = NULL, default = priorControl())   # priorControl() = defaultPrior

warn_log <- character()
note <- function(...) { msg <- paste0(...); warn_log <<- c(warn_log, msg) }
capture <- function(expr, where) {
  withCallingHandlers(expr, warning = function(w) {
    note(where, ": ", conditionMessage(w)); invokeRestart("muffleWarning")
  })
}

read_data <- function(name) as.matrix(read.csv(file.path(HERE, "data", paste0(name, ".csv")),
                                               check.names = FALSE))

fit_bic <- function(X, models, prior, control = CTRL) {
  set.seed(SEED)
  mclustBIC(X, G = G, modelNames = models, prior = prior, control = control, verbose = FALSE)
}

