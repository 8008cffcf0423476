"""JoinedFamily: a Gaussian family of any structure side by side with other components
(mclust's noise model)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _helpers import assert_close_in_ulps

from mixture import GaussianFamily, JoinedFamily, MixtureEM, Uniform, model_file
from mixture.gaussian import MCLUST_NAMES, structure_named
from mixture.initializers import GivenResponsibilities

NOISE_SHARE = 60 / 960


@pytest.fixture(scope="module")
def noisy() -> np.ndarray:
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    shape = [[1.0, 0.6], [0.6, 1.0]]
    clusters = np.concatenate([rng.multivariate_normal(m, shape, 300) for m in means])
    low, high = clusters.min(axis=0), clusters.max(axis=0)
    return np.concatenate([clusters, rng.uniform(low - 5.0, high + 5.0, (60, 2))])


def _start(X: np.ndarray) -> GivenResponsibilities:
    # The three clusters, and the scattered rows on the background.
    labels = np.repeat([0, 1, 2, 3], [300, 300, 300, 60])
    return GivenResponsibilities(np.eye(4)[labels])


@pytest.mark.parametrize("name", MCLUST_NAMES)
def test_noise_combines_with_every_structure(name, noisy) -> None:
    family = JoinedFamily([GaussianFamily(3, structure_named(name)), Uniform.covering(noisy)])
    result = MixtureEM(family, initializer=_start(noisy), tol=1e-8, max_iter=1000).fit(noisy)
    assert result.converged
    # The background takes about the scattered rows' share (a few of them fall inside the
    # clusters, and a few cluster rows far out go to the background).
    assert abs(result.weights[3] - NOISE_SHARE) < 0.03
    assert result.family.n_parameters == (
        3 * 2 + structure_named(name).n_parameters(3, 2)
    )  # the box is a setting: no free parameter
    history = np.array(result.log_likelihood_history)
    assert (np.diff(history) >= -1e-9 * np.abs(history[1:])).all()


@pytest.mark.filterwarnings("ignore::mixture.ConvergenceWarning")
def test_chunks_give_the_same_fit(noisy) -> None:
    family = JoinedFamily([GaussianFamily(3, structure_named("VEV")), Uniform.covering(noisy)])
    scores = [
        MixtureEM(family, initializer=_start(noisy), tol=None, max_iter=5, chunk_size=size)
        .fit(noisy)
        .score(noisy)
        for size in (None, 97)
    ]
    # Five iterations of sums over 10 chunks instead of one: well within 1000 ulps.
    assert_close_in_ulps(scores[0], scores[1], 1000)


def test_model_file_round_trip(noisy, tmp_path) -> None:
    family = JoinedFamily([GaussianFamily(3, structure_named("EEE")), Uniform.covering(noisy)])
    result = MixtureEM(family, initializer=_start(noisy), tol=1e-8).fit(noisy)
    model_file.save(result, tmp_path / "noise.json")
    loaded = model_file.load(tmp_path / "noise.json")
    assert isinstance(loaded.mixture.family, JoinedFamily)
    np.testing.assert_allclose(loaded.score_samples(noisy), result.score_samples(noisy), rtol=1e-13)


def test_degenerate_components_are_named_by_their_place_in_the_whole(noisy) -> None:
    # A Gaussian component on two rows (fewer than the three a 2-D covariance needs), after
    # the background in the joined order.
    family = JoinedFamily([Uniform.covering(noisy), GaussianFamily(2, structure_named("VVV"))])
    weights = np.array([0.5, 0.498, 2.0 / noisy.shape[0]])
    fitted = family.parts[1].m_step(
        family.parts[1].statistics(noisy, np.eye(2)[(np.arange(noisy.shape[0]) < 2).astype(int)])
    )
    joined = JoinedFamily([family.parts[0], fitted])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = joined.degeneracies(weights, float(noisy.shape[0]))
    assert [d.component for d in found] == [2]


def test_parts_must_agree_on_features(noisy) -> None:
    with pytest.raises(ValueError, match="same number of features"):
        JoinedFamily([Uniform.covering(noisy), Uniform([0.0], [1.0])])
    with pytest.raises(ValueError, match="at least one part"):
        JoinedFamily([])
