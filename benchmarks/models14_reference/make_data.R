# Writes the two data sets used by make_reference.R, plus a starting partition
# (G = 3) for each, into the folder holding this script:
#
#   iris.csv, labels_iris.csv       iris[, 1:4]; hclass(hc(., "VVV"), 3)
#   shapes.csv, labels_shapes.csv   synthetic 3-D data (set.seed(1)); true labels
#
# Run from this folder:  Rscript make_data.R

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "."

# every number as text with 17 significant digits, so it reads back bit for bit
write_full <- function(df, file) {
  out <- as.data.frame(lapply(df, function(col) {
    if (is.integer(col)) as.character(col) else sprintf("%.17g", col)
  }), stringsAsFactors = FALSE)
  names(out) <- names(df)
  write.csv(out, file.path(here, file), row.names = FALSE, quote = FALSE)
}

## iris ------------------------------------------------------------------------
iris4 <- iris[, 1:4]
write_full(iris4, "iris.csv")
# hc() uses mclust.options("hcUse"), "SVD" by default in mclust 6
iris_labels <- as.integer(hclass(hc(iris4, modelName = "VVV"), 3))
write_full(data.frame(label = iris_labels), "labels_iris.csv")

## shapes: three 3-D clusters, 40 rows each ----------------------------------
# Sigma_k = lambda_k * D_k diag(a_k) D_k', with det(diag(a_k)) = 1, and
# clearly different volumes lambda_k, shapes a_k and orientations D_k.
set.seed(1)
rotation <- function(alpha, beta, gamma) {
  rz <- function(t) matrix(c(cos(t), sin(t), 0, -sin(t), cos(t), 0, 0, 0, 1), 3, 3)
  ry <- function(t) matrix(c(cos(t), 0, -sin(t), 0, 1, 0, sin(t), 0, cos(t)), 3, 3)
  rz(alpha) %*% ry(beta) %*% rz(gamma)
}
unit_det <- function(a) a / prod(a)^(1 / length(a))
clusters <- list(
  list(mean = c(0, 0, 0),   lambda = 1.0, a = unit_det(c(4, 1, 0.25)),
       D = rotation(pi / 6, 0, 0)),
  list(mean = c(4.5, 1, 1.5),   lambda = 0.2, a = unit_det(c(1.5, 1, 1 / 1.5)),
       D = rotation(pi / 3, pi / 4, pi / 5)),
  list(mean = c(2, 6, -1.5), lambda = 2.5, a = unit_det(c(9, 0.6, 0.3)),
       D = rotation(-pi / 4, pi / 3, -pi / 8))
)
n_per <- 40
rows <- list()
truth <- integer(0)
for (k in seq_along(clusters)) {
  cl <- clusters[[k]]
  sigma <- cl$lambda * cl$D %*% diag(cl$a) %*% t(cl$D)
  sigma <- (sigma + t(sigma)) / 2
  R <- chol(sigma)                       # t(R) %*% R = sigma
  Z <- matrix(rnorm(n_per * 3), n_per, 3)
  rows[[k]] <- sweep(Z %*% R, 2, cl$mean, "+")
  truth <- c(truth, rep(k, n_per))
}
shapes <- as.data.frame(do.call(rbind, rows))
names(shapes) <- c("x1", "x2", "x3")
write_full(shapes, "shapes.csv")
write_full(data.frame(label = as.integer(truth)), "labels_shapes.csv")

cat("wrote iris.csv (", nrow(iris4), "x", ncol(iris4), "), labels_iris.csv (sizes",
    tabulate(iris_labels), ")\n")
cat("wrote shapes.csv (", nrow(shapes), "x", ncol(shapes), "), labels_shapes.csv\n")
