# Reference partitions from R's mclust `hc` for tests/test_hierarchical.py.
#
# Run from this directory:  Rscript make_reference.R
# Writes data_<name>.csv (the rows) and hc_<name>_<model>_<use>.csv (hclass(hc(...), 1:9):
# one column per K = 1..9, one row per data row). R is not a test dependency: the test reads
# these committed files and skips when they are absent.
library(mclust)
cat("mclust", as.character(packageVersion("mclust")), "\n")

make <- function(name, X) {
  file <- sprintf("data_%s.csv", name)
  write.csv(X, file, row.names = FALSE)
  # Read the rows back so hc sees exactly the doubles Python will parse.
  X <- as.matrix(read.csv(file))
  for (model in c("VVV", "EII")) {
    for (use in c("SVD", "SPH", "STD", "VARS")) {
      h <- hc(X, modelName = model, use = use)
      write.csv(hclass(h, 1:9), sprintf("hc_%s_%s_%s.csv", name, model, use), row.names = FALSE)
    }
  }
}

set.seed(1)
n <- 150
A <- matrix(c(1, .5, 0, 0, 1, .3, 0, 0, 1), 3)
make("a", rbind(matrix(rnorm(n * 3), ncol = 3), matrix(rnorm(n * 3, 3), ncol = 3) %*% A))

set.seed(2)
n <- 200
make("b", rbind(matrix(rnorm(n * 2), ncol = 2), matrix(rnorm(n * 2, 2), ncol = 2) * 0.5,
                matrix(rexp(n * 2), ncol = 2) - 2))

# Timing of hc on 2,000 x 5 rows (the size mclust's Mclust uses for its subset).
set.seed(3)
X <- matrix(rnorm(2000 * 5), ncol = 5) + 6 * (runif(2000) > 0.5)
for (model in c("VVV", "EII")) {
  t <- system.time(hc(X, modelName = model, use = "SVD"))[["elapsed"]]
  cat(sprintf("hc(%s, use = 'SVD') on 2000 x 5: %.2f s\n", model, t))
}
