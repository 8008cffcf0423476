"""scikit-learn's own estimator checks pass, none skipped or expected to fail."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from mixture import GaussianMixture


@parametrize_with_checks(
    [
        GaussianMixture(),
        GaussianMixture(n_components=2, covariance_type="tied", random_state=0),
        GaussianMixture(n_components=2, covariance_type="diag", init_params="k-means++"),
        GaussianMixture(n_components=2, covariance_type="spherical", init_params="random"),
    ]
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
