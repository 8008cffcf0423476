# Re-implements, in plain R, the M-steps as README.md describes them (read from
# mclust 6.0.0's R and Fortran sources) and compares them with mclust's own
# mstep() on the two data sets, with and without the default prior. Also checks
# the inner iteration counts and looks at whether mclust's VVE M-step maximises
# the expected complete-data log-likelihood.
#
# Run from this folder after make_data.R:  Rscript check_algorithms.R
# Prints a report and writes it to check_algorithms.out next to this script.

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "."

G <- 3
TOL <- 1e-14          # inner tolerance used for both mclust and the re-implementation
ITMAX <- .Machine$integer.max
report <- character(0)
say <- function(...) {
  line <- paste0(...)
  report <<- c(report, line)
  cat(line, "\n")
}

gmean <- function(v) exp(mean(log(v)))

# weighted means and scatter matrices
suff <- function(X, z) {
  p <- ncol(X)
  nk <- colSums(z)
  xbar <- sapply(seq_len(ncol(z)), function(k) colSums(z[, k] * X) / nk[k])
  W <- array(0, c(p, p, ncol(z)))
  for (k in seq_len(ncol(z))) {
    R <- sweep(X, 2, xbar[, k]) * sqrt(z[, k])
    W[, , k] <- crossprod(R)
  }
  list(n = nrow(X), p = p, G = ncol(z), nk = nk, pro = nk / nrow(X), xbar = xbar, W = W)
}
eig_desc <- function(S) {
  e <- eigen((S + t(S)) / 2, symmetric = TRUE)   # eigen() sorts decreasingly
  list(values = e$values, vectors = e$vectors)
}
build <- function(s, mean, sigma, iterations = NA, state = NULL) {
  list(pro = s$pro, mean = mean, sigma = sigma, iterations = iterations, state = state)
}

# prior pieces: shrunk means, c_k = kappa n_k / (n_k + kappa), deviations pmu - xbar_k
prior_parts <- function(s, h) {
  kap <- h$shrinkage
  ck <- kap * s$nk / (s$nk + kap)
  mshr <- sapply(1:s$G, function(k) (s$nk[k] * s$xbar[, k] + kap * h$mean) / (s$nk[k] + kap))
  dev <- h$mean - s$xbar
  Wp <- s$W
  for (k in 1:s$G) Wp[, , k] <- s$W[, , k] + ck[k] * tcrossprod(dev[, k])
  list(kap = kap, ck = ck, mshr = mshr, dev = dev, Wp = Wp, nu = h$dof, S = h$scale,
       extra = as.numeric(kap > 0))
}

## closed-form models --------------------------------------------------------------
m_EII <- function(s) { v <- sum(apply(s$W, 3, function(w) sum(diag(w)))) / (s$n * s$p)
  build(s, s$xbar, array(diag(v, s$p), c(s$p, s$p, s$G))) }
m_VII <- function(s) { sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- diag(sum(diag(s$W[, , k])) / (s$nk[k] * s$p), s$p)
  build(s, s$xbar, sig) }
m_EEI <- function(s) { B <- diag(apply(s$W, c(1, 2), sum)) / s$n
  build(s, s$xbar, array(diag(B), c(s$p, s$p, s$G))) }
m_VVI <- function(s) { sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- diag(diag(s$W[, , k]) / s$nk[k])
  build(s, s$xbar, sig) }
m_EEE <- function(s) build(s, s$xbar, array(apply(s$W, c(1, 2), sum) / s$n, c(s$p, s$p, s$G)))
m_VVV <- function(s) { sig <- s$W; for (k in 1:s$G) sig[, , k] <- s$W[, , k] / s$nk[k]
  build(s, s$xbar, sig) }
m_EVI <- function(s) {
  B <- sapply(1:s$G, function(k) diag(s$W[, , k]))           # p x G
  lam <- sum(apply(B, 2, gmean)) / s$n
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam * diag(B[, k] / gmean(B[, k]))
  build(s, s$xbar, sig)
}
m_EEV <- function(s, Wlist = NULL, denom = s$n, mean = s$xbar) {
  if (is.null(Wlist)) Wlist <- lapply(1:s$G, function(k) s$W[, , k])
  e <- lapply(Wlist, eig_desc)
  tot <- Reduce(`+`, lapply(e, `[[`, "values"))            # sum of j-th largest eigenvalues
  lam <- gmean(tot) / denom
  a <- tot / gmean(tot)
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam * e[[k]]$vectors %*% diag(a) %*% t(e[[k]]$vectors)
  build(s, mean, sig)
}
m_EVV <- function(s) {
  d <- sapply(1:s$G, function(k) det(s$W[, , k])^(1 / s$p))
  lam <- sum(d) / s$n
  sig <- s$W
  for (k in 1:s$G) sig[, , k] <- lam * s$W[, , k] / d[k]
  build(s, s$xbar, sig)
}

## iterative models ---------------------------------------------------------------
# VEI: w_jk = diag(W_k); start a = 1, lambda = 1
m_VEI <- function(s, w = sapply(1:s$G, function(k) diag(s$W[, , k])),
                  denom = s$p * s$nk, mean = s$xbar, tol = TOL, maxi = ITMAX,
                  state = NULL) {
  a <- rep(1, s$p); lam <- rep(1, s$G); inner <- 0
  if (!is.null(state)) { a <- state$a; lam <- state$lam }
  repeat {
    inner <- inner + 1
    lam_old <- lam; a_old <- a
    lam <- colSums(w / a) / denom
    a <- rowSums(sweep(w, 2, lam, "/"))
    a <- a / gmean(a)
    err <- max(abs(lam_old - lam) / (1 + lam), abs(a_old - a) / (1 + a))
    if (!(err > tol && inner <= maxi)) break
  }
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- diag(lam[k] * a)
  build(s, mean, sig, inner, list(a = a, lam = lam))
}
# VEE: start lambda = 1; C = sum_k W_k / lambda_k normalised to det 1;
# lambda_k = tr(W_k C^-1) / (p n_k); stop on relative change of p*sum n_k + p*sum n_k log lambda_k
m_VEE <- function(s, tol = TOL, maxi = ITMAX, state = NULL) {   # always restarts at lambda = 1
  lam <- rep(1, s$G); it <- 0; prev <- .Machine$double.xmax / 2
  repeat {
    it <- it + 1
    C <- Reduce(`+`, lapply(1:s$G, function(k) s$W[, , k] / lam[k]))
    C <- C / gmean(eigen(C, symmetric = TRUE, only.values = TRUE)$values)
    Ci <- solve(C)
    lam <- sapply(1:s$G, function(k) sum(diag(s$W[, , k] %*% Ci))) / (s$p * s$nk)
    trgt <- sum(s$nk) * s$p + s$p * sum(log(lam) * s$nk)
    err <- abs(trgt - prev) / (1 + abs(trgt)); prev <- trgt
    if (!(err > tol && it < maxi)) break
  }
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam[k] * C
  build(s, s$xbar, sig, it)
}
# VEV: Omega_k, V_k = eigen(W_k) sorted decreasingly (fixed); shape starts at
# sum_k Omega_k normalised; lambda_k = sum_j omega_jk / a_j / (p n_k);
# a_j = sum_k omega_jk / lambda_k normalised. Stop: err >= tol continues.
m_VEV <- function(s, Wlist = NULL, mean = s$xbar, tol = TOL, maxi = ITMAX, state = NULL) {
  if (is.null(Wlist)) Wlist <- lapply(1:s$G, function(k) s$W[, , k])
  e <- lapply(Wlist, eig_desc)
  om <- sapply(e, `[[`, "values")                             # p x G
  a <- rowSums(om); t0 <- gmean(a); a <- a / t0
  lam <- t0 / (s$nk * s$n)                                    # mclust's (odd) first value
  if (!is.null(state)) { a <- state$a; lam <- state$lam }      # EM: warm start
  inner <- 0
  repeat {
    a_old <- a; lam_old <- lam
    lam <- colSums(om / a_old) / (s$p * s$nk)
    a <- rowSums(sweep(om, 2, lam, "/"))
    inner <- inner + 1
    a <- a / gmean(a)
    err <- max(abs(a_old - a) / (1 + a), abs(lam - lam_old) / (1 + lam))
    if (!(err >= tol && inner < maxi)) break
  }
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam[k] * e[[k]]$vectors %*% diag(a) %*% t(e[[k]]$vectors)
  build(s, mean, sig, inner, list(a = a, lam = lam))
}
# EVE / VVE: Browne & McNicholas MM for the common orientation D, started at
# D = I, A_k = 1 (both models follow the same D, A_k path; weights = A_k^-1 only).
mm_orientation <- function(s, tol = TOL, maxi = ITMAX, weights = NULL, D = diag(s$p),
                           A = matrix(1, s$p, s$G), vve_scale = FALSE) {
  om <- sapply(1:s$G, function(k) max(eigen(s$W[, , k], symmetric = TRUE, only.values = TRUE)$values))
  it <- 0; prev <- .Machine$double.xmax / 2
  lam <- rep(1, s$G)
  repeat {
    it <- it + 1
    wk <- if (is.null(weights)) rep(1, s$G) else 1 / lam       # exact VVE would use 1/lambda_k
    # MM1: F = sum_k w_k A_k^-1 D' (W_k - omega_k I);  svd F = P B R'; D <- R P'
    F1 <- Reduce(`+`, lapply(1:s$G, function(k)
      wk[k] * diag(1 / A[, k]) %*% t(D) %*% (s$W[, , k] - om[k] * diag(s$p))))
    sv <- svd(F1); D <- sv$v %*% t(sv$u)
    # MM2: F = sum_k w_k W_k D (A_k^-1 - max_j(1/a_jk) I);  svd F = P B R'; D <- P R'
    F2 <- Reduce(`+`, lapply(1:s$G, function(k)
      wk[k] * s$W[, , k] %*% D %*% (diag(1 / A[, k]) - max(1 / A[, k]) * diag(s$p))))
    sv <- svd(F2); D <- sv$u %*% t(sv$v)
    B <- sapply(1:s$G, function(k) diag(t(D) %*% s$W[, , k] %*% D))   # p x G
    A <- sweep(B, 2, apply(B, 2, gmean), "/")
    trgt <- sum(B / A)                                       # sum_k tr(D'W_kD A_k^-1)
    if (!is.null(weights)) {                                 # exact VVE: track -2Q instead
      lam <- apply(B, 2, gmean) / s$nk
      trgt <- s$p * sum(s$nk * log(lam)) + s$p * s$n
    }
    err <- abs(trgt - prev) / (1 + abs(trgt)); prev <- trgt
    if (!(err > tol && it < maxi)) break
  }
  list(D = D, A = A, B = B, trgt = trgt, iterations = it)
}
m_EVE <- function(s, ..., state = NULL) {
  r <- if (is.null(state)) mm_orientation(s, ...) else mm_orientation(s, ..., D = state$D, A = state$A)
  lam <- r$trgt / (s$n * s$p)
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam * r$D %*% diag(r$A[, k]) %*% t(r$D)
  build(s, s$xbar, sig, r$iterations, list(D = r$D, A = r$A))
}
m_VVE <- function(s, ..., state = NULL) {
  r <- if (is.null(state)) mm_orientation(s, ...) else mm_orientation(s, ..., D = state$D, A = state$A)
  lam <- apply(r$B, 2, gmean) / s$nk
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam[k] * r$D %*% diag(r$A[, k]) %*% t(r$D)
  build(s, s$xbar, sig, r$iterations, list(D = r$D, A = r$A))
}

## models with the default prior ---------------------------------------------------
p_EII <- function(s, q) {
  ss <- sum(q$ck * colSums(q$dev^2))
  for (k in 1:s$G) ss <- ss + sum(diag(s$W[, , k])) + s$nk[k] * sum((s$xbar[, k] - q$mshr[, k])^2)
  v <- ss / (q$nu + s$n * s$p + 2 + q$extra * s$G * s$p)      # prior scale is not used
  build(s, q$mshr, array(diag(v, s$p), c(s$p, s$p, s$G)))
}
p_VII <- function(s, q) { sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- diag((q$S + sum(diag(q$Wp[, , k]))) /
                                        (q$nu + s$nk[k] * s$p + 2 + q$extra * s$p), s$p)
  build(s, q$mshr, sig) }
p_EEI <- function(s, q) {
  B <- q$S + diag(apply(q$Wp, c(1, 2), sum))
  lam <- gmean(B) / (q$nu + s$n + 2 + q$extra * s$G)
  build(s, s$xbar, array(lam * diag(B / gmean(B)), c(s$p, s$p, s$G)))   # means not shrunk
}
p_VVI <- function(s, q) { sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) { B <- q$S + diag(q$Wp[, , k])
    sig[, , k] <- diag(gmean(B) / (s$nk[k] + q$nu + 2 + q$extra) * B / gmean(B)) }
  build(s, q$mshr, sig) }
p_EEE <- function(s, q) build(s, q$mshr, array((q$S + apply(q$Wp, c(1, 2), sum)) /
                                                 (q$nu + s$n + s$p + 1 + q$extra * s$G), c(s$p, s$p, s$G)))
p_VVV <- function(s, q) { sig <- q$Wp
  for (k in 1:s$G) sig[, , k] <- (q$S + q$Wp[, , k]) / (q$nu + s$nk[k] + s$p + 1 + q$extra)
  build(s, q$mshr, sig) }
p_VEI <- function(s, q, tol = TOL, state = NULL) {
  w <- sapply(1:s$G, function(k) q$S + diag(q$Wp[, , k]))
  m_VEI(s, w = w, denom = q$nu + s$p * s$nk + 2 + q$extra, mean = q$mshr, tol = tol, state = state)
}
p_EVI <- function(s, q) {
  B <- sapply(1:s$G, function(k) q$S + diag(q$Wp[, , k]))
  lam <- sum(apply(B, 2, gmean)) / (q$nu + s$n + 2 + q$extra * s$G)
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam * diag(B[, k] / gmean(B[, k]))
  build(s, q$mshr, sig)
}
p_EEV <- function(s, q) {   # shrinkage forced to 0 by mseevp: plain W_k, unshrunk means
  m_EEV(s, Wlist = lapply(1:s$G, function(k) q$S + s$W[, , k]), denom = q$nu + s$n + s$p + 1)
}
# me() uses separate Fortran (me*p) whose M-step differs from ms*p for EII, EEI, EVI, EEV:
p_EII_em <- function(s, q) {  # residuals about the unshrunk means; G*p always in the denominator
  ss <- sum(q$ck * colSums(q$dev^2)) + sum(apply(s$W, 3, function(w) sum(diag(w))))
  v <- ss / (q$nu + (s$n + s$G) * s$p + 2)
  build(s, q$mshr, array(diag(v, s$p), c(s$p, s$p, s$G)))
}
p_EEI_em <- function(s, q) {  # means not shrunk; denominator nu + n + 1 + [kappa > 0]
  B <- q$S + diag(apply(q$Wp, c(1, 2), sum))
  lam <- gmean(B) / (q$nu + s$n + 1 + q$extra)
  build(s, s$xbar, array(lam * diag(B / gmean(B)), c(s$p, s$p, s$G)))
}
p_EVI_em <- function(s, q) {  # denominator nu + n + 1 + [kappa > 0]
  B <- sapply(1:s$G, function(k) q$S + diag(q$Wp[, , k]))
  lam <- sum(apply(B, 2, gmean)) / (q$nu + s$n + 1 + q$extra)
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam * diag(B[, k] / gmean(B[, k]))
  build(s, q$mshr, sig)
}
p_EEV_em <- function(s, q) { # meevp (used by me) does shrink
  m_EEV(s, Wlist = lapply(1:s$G, function(k) q$S + q$Wp[, , k]),
        denom = q$nu + s$n + s$p + 1 + q$extra, mean = q$mshr)
}
p_VEV <- function(s, q, tol = TOL, state = NULL)
  m_VEV(s, Wlist = lapply(1:s$G, function(k) q$S + q$Wp[, , k]), mean = q$mshr, tol = tol, state = state)

## compare --------------------------------------------------------------------------
rel <- function(a, b) max(abs(a - b)) / max(1, max(abs(b)))
compare <- function(mine, theirs, label) {
  par <- theirs$parameters
  it <- attr(theirs, "info")
  it <- if (is.null(it)) NA else abs(unlist(it)[1])
  d_sig <- rel(mine$sigma, par$variance$sigma)
  d_mu <- rel(mine$mean, unname(par$mean))
  d_pro <- rel(mine$pro, par$pro)
  # the inner count may differ by one when the last error lands within rounding of tol
  ok <- max(d_sig, d_mu, d_pro) < 1e-9 &&
    (is.na(it) || is.na(mine$iterations) || abs(it - mine$iterations) <= 1)
  say(sprintf("  %-14s sigma %.1e  mean %.1e  pro %.1e  inner it mclust %s / here %s  %s",
              label, d_sig, d_mu, d_pro, format(it), format(mine$iterations),
              if (ok) "OK" else "MISMATCH"))
}
Qfun <- function(s, sigma) {   # -2 * (expected complete-data loglik, covariance part)
  sum(sapply(1:s$G, function(k) s$nk[k] * determinant(sigma[, , k])$modulus +
               sum(diag(s$W[, , k] %*% solve(sigma[, , k])))))
}

plain <- list(EII = m_EII, VII = m_VII, EEI = m_EEI, VEI = m_VEI, EVI = m_EVI, VVI = m_VVI,
              EEE = m_EEE, VEE = m_VEE, EVE = m_EVE, VVE = m_VVE, EEV = m_EEV, VEV = m_VEV,
              EVV = m_EVV, VVV = m_VVV)
withprior <- list(EII = p_EII, VII = p_VII, EEI = p_EEI, VEI = p_VEI, EVI = p_EVI, VVI = p_VVI,
                  EEE = p_EEE, EEV = p_EEV, VEV = p_VEV, VVV = p_VVV)

for (name in c("iris", "shapes")) {
  X <- as.matrix(read.csv(file.path(here, paste0(name, ".csv"))))
  z0 <- unmap(read.csv(file.path(here, paste0("labels_", name, ".csv")))$label)
  s <- suff(X, z0)
  say(sprintf("== %s (n = %d, d = %d, G = %d): mstep from z0, inner tol %g", name, s$n, s$p, G, TOL))
  ctl <- emControl(tol = c(1e-10, TOL))
  for (m in names(plain)) {
    compare(plain[[m]](s), mstep(X, modelName = m, z = z0, control = ctl), m)
  }
  say("  -- with priorControl()")
  for (m in names(withprior)) {
    q <- prior_parts(s, defaultPrior(X, G = G, modelName = m))
    compare(withprior[[m]](s, q), mstep(X, modelName = m, z = z0, prior = priorControl(),
                                        control = ctl), paste0(m, "+prior"))
  }
  # VVE: is mclust's M-step the maximiser of Q? Continue from mclust's answer with
  # the MM weighted by 1/lambda_k (the exact VVE majoriser) and compare Q.
  ms <- mstep(X, modelName = "VVE", z = z0, control = ctl)
  eve <- mstep(X, modelName = "EVE", z = z0, control = ctl)
  same_D <- max(abs(abs(ms$parameters$variance$orientation) - abs(eve$parameters$variance$orientation)))
  r <- mm_orientation(s, weights = TRUE, D = ms$parameters$variance$orientation,
                      A = ms$parameters$variance$shape, tol = 1e-15, maxi = 100000)
  lam <- apply(r$B, 2, gmean) / s$nk
  sig <- array(0, c(s$p, s$p, s$G))
  for (k in 1:s$G) sig[, , k] <- lam[k] * r$D %*% diag(r$A[, k]) %*% t(r$D)
  q_mclust <- Qfun(s, ms$parameters$variance$sigma)
  q_exact <- Qfun(s, sig)
  say(sprintf("  VVE: |orientation(VVE) - orientation(EVE)| = %.1e (same D as EVE)", same_D))
  say(sprintf("  VVE: -2Q at mclust's M-step %.10f; after lambda-weighted MM %.10f (%d it); decrease %.3e",
              q_mclust, q_exact, r$iterations, q_mclust - q_exact))
}

## EM: outer loop and warm starts of the inner iterations ----------------------------
log_dens <- function(X, mu, sigma) {
  R <- chol(sigma)
  q <- backsolve(R, t(sweep(X, 2, mu)), transpose = TRUE)
  -0.5 * ncol(X) * log(2 * pi) - sum(log(diag(R))) - 0.5 * colSums(q^2)
}
em_mine <- function(X, z, step, tol, itmax, warm) {
  state <- NULL; prev <- .Machine$double.xmax / 2; it <- 0
  repeat {
    it <- it + 1
    s <- suff(X, z)
    fit <- step(s, tol = tol[2], state = state)
    if (warm) state <- fit$state
    L <- sapply(1:ncol(z), function(k) log(fit$pro[k]) + log_dens(X, fit$mean[, k], fit$sigma[, , k]))
    mx <- apply(L, 1, max)
    lse <- mx + log(rowSums(exp(L - mx)))
    ll <- sum(lse)
    z <- exp(L - lse)
    err <- abs(ll - prev) / (1 + abs(ll)); prev <- ll
    if (!(err > tol[1] && it < itmax)) break
  }
  list(loglik = ll, iterations = it)
}
say("== EM (me) from z0: loglik and outer iterations, mclust vs this re-implementation")
say("   with warm starts of the inner iteration across EM steps (as mclust) and cold starts")
for (name in c("iris", "shapes")) {
  X <- as.matrix(read.csv(file.path(here, paste0(name, ".csv"))))
  z0 <- unmap(read.csv(file.path(here, paste0("labels_", name, ".csv")))$label)
  for (tl in list(c(1e-12, 1e-14), c(1e-10, 1e-4))) {
    for (m in c("VEI", "VEE", "EVE", "VVE", "VEV")) {
      fit <- me(X, modelName = m, z = z0, control = emControl(tol = tl, itmax = c(100000, 100000)))
      warm <- em_mine(X, z0, plain[[m]], tl, 100000, TRUE)
      cold <- em_mine(X, z0, plain[[m]], tl, 100000, FALSE)
      say(sprintf("  %-6s %s tol=(%g,%g)  mclust %.10f (%d it) | warm %.10f (%d it) | cold %.10f (%d it)",
                  name, m, tl[1], tl[2], fit$loglik, as.integer(abs(unlist(attr(fit, "info"))[1])),
                  warm$loglik, warm$iterations, cold$loglik, cold$iterations))
    }
  }
}
say("== EM with priorControl(): mclust me() vs this re-implementation (warm starts)")
for (name in c("iris", "shapes")) {
  X <- as.matrix(read.csv(file.path(here, paste0(name, ".csv"))))
  z0 <- unmap(read.csv(file.path(here, paste0("labels_", name, ".csv")))$label)
  tl <- c(1e-12, 1e-14)
  for (m in names(withprior)) {
    h <- defaultPrior(X, G = G, modelName = m)
    em_variant <- list(EII = p_EII_em, EEI = p_EEI_em, EVI = p_EVI_em, EEV = p_EEV_em)
    f <- if (m %in% names(em_variant)) em_variant[[m]] else withprior[[m]]
    step <- function(s, tol, state) {
      q <- prior_parts(s, h)
      if (m %in% c("VEI", "VEV")) f(s, q, tol = tol, state = state) else f(s, q)
    }
    fit <- me(X, modelName = m, z = z0, prior = priorControl(),
              control = emControl(tol = tl, itmax = c(100000, 100000)))
    mine <- em_mine(X, z0, step, tl, 100000, TRUE)
    say(sprintf("  %-6s %s+prior  mclust %.10f (%d it) | here %.10f (%d it)  %s", name, m,
                fit$loglik, as.integer(abs(unlist(attr(fit, "info"))[1])), mine$loglik, mine$iterations,
                if (abs(fit$loglik - mine$loglik) < 1e-8) "OK" else "MISMATCH"))
  }
}
writeLines(report, file.path(here, "check_algorithms.out"))
