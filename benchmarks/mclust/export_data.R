#!/usr/bin/env Rscript
# Writes the four data sets that come with R / mclust into benchmarks/mclust/data/
# as CSV with a header, numeric columns only (class / status columns dropped).
# wine and synthetic are written by make_data.py (Python), see README.md.
# Run from the repository root:  Rscript benchmarks/mclust/export_data.R
suppressPackageStartupMessages(library(mclust))
out <- file.path("benchmarks", "mclust", "data")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(df, name) {
  stopifnot(all(vapply(df, is.numeric, TRUE)))
  write.csv(df, file.path(out, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
  cat(sprintf("%-10s %4d x %d\n", name, nrow(df), ncol(df)))
}
w(datasets::faithful, "faithful")                             # eruptions, waiting
w(datasets::iris[, 1:4], "iris")                              # Sepal.Length ... Petal.Width
data(diabetes, package = "mclust")
w(diabetes[, c("glucose", "insulin", "sspg")], "diabetes")
data(banknote, package = "mclust")
w(banknote[, c("Length", "Left", "Right", "Bottom", "Top", "Diagonal")], "banknote")
