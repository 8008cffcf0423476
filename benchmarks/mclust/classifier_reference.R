# mclust's MclustDA ("MclustDA" and "EDDA") on the folds written by
# benchmarks/classifier_cv.py; writes benchmarks/mclust/classifier_reference.csv.
#
# Run from the repository root, after `.venv/bin/python benchmarks/classifier_cv.py --folds-only`:
#   Rscript benchmarks/mclust/classifier_reference.R
#
# Data: benchmarks/mclust/data/{iris,wine}.csv (identical to scikit-learn's, checked by the
# Python script); classes and folds: benchmarks/mclust/classifier_folds.csv (rows 1-based).
# mclust's defaults throughout: MclustDA tries G = 1:5 and the 14 models per class; EDDA one
# Gaussian per class and the 14 models shared. Output columns: dataset, model_type, fold,
# n_test, n_errors, models (EDDA: the shared model; MclustDA: model and G per class).

suppressPackageStartupMessages(library(mclust))

file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
here <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg))) else "."

folds <- read.csv(file.path(here, "classifier_folds.csv"), stringsAsFactors = FALSE)
out <- NULL
for (dataset in c("iris", "wine")) {
  X <- as.matrix(read.csv(file.path(here, "data", paste0(dataset, ".csv")), check.names = FALSE))
  f <- folds[folds$dataset == dataset, ]
  f <- f[order(f$row), ]
  stopifnot(nrow(f) == nrow(X), all(f$row == seq_len(nrow(X))))
  labels <- factor(f$class)
  for (model_type in c("MclustDA", "EDDA")) {
    for (k in sort(unique(f$fold))) {
      test <- f$fold == k
      fit <- MclustDA(X[!test, , drop = FALSE], labels[!test], modelType = model_type,
                      verbose = FALSE)
      predicted <- predict(fit, X[test, , drop = FALSE])$classification
      n_errors <- sum(as.character(predicted) != as.character(labels[test]))
      if (model_type == "EDDA") {
        models <- fit$models[[1]]$modelName
      } else {
        models <- paste(vapply(fit$models, function(m) paste0(m$modelName, m$G), ""),
                        collapse = ";")
      }
      out <- rbind(out, data.frame(dataset = dataset, model_type = model_type, fold = k,
                                   n_test = sum(test), n_errors = n_errors, models = models))
      cat(sprintf("%s %s fold %d: %d errors (%s)\n", dataset, model_type, k, n_errors, models))
    }
  }
}
write.csv(out, file.path(here, "classifier_reference.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("mclust %s, %s\n", packageVersion("mclust"), R.version.string))
