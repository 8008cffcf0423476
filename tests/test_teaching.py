"""EM step by step, as the docs teach it: responsibilities, History's mixtures, examples."""

from __future__ import annotations

import re
import runpy
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, assert_close_in_ulps, blobs, random_mixture
from hypothesis import given
from hypothesis import strategies as st

from mixture import (
    GaussianFamily,
    GivenParameters,
    History,
    Mixture,
    MixtureEM,
    RandomResponsibilities,
)

ROOT = Path(__file__).resolve().parents[1]


def _poor_start(X: np.ndarray, n_components: int, structure) -> Mixture:
    """Every mean far outside the data on one side: a start EM must climb from."""
    far = X.min(axis=0) - 3.0 * X.std(axis=0)
    means = far + 0.1 * np.arange(n_components)[:, None] * X.std(axis=0)
    variance = float(X.var(axis=0).mean())
    covariances = {
        "full": np.tile(np.eye(X.shape[1]) * variance, (n_components, 1, 1)),
        "tied": np.eye(X.shape[1]) * variance,
        "diag": np.full((n_components, X.shape[1]), variance),
        "spherical": np.full(n_components, variance),
    }[structure.name]
    family = GaussianFamily(n_components, structure, means=means, covariances=covariances)
    return Mixture(np.full(n_components, 1.0 / n_components), family)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(seed=st.integers(0, 2**16), n_components=st.integers(1, 4))
def test_responsibilities_are_the_posteriors_whose_sums_are_the_e_step(
    structure, seed: int, n_components: int
) -> None:
    X = blobs(seed, 120, 3, 3)
    mixture = random_mixture(structure, n_components, 3, seed=seed)
    em = MixtureEM(GaussianFamily(n_components, structure), chunk_size=37)

    gamma = em.responsibilities(X, mixture)

    assert gamma.shape == (120, n_components)
    assert (gamma >= 0).all() and (gamma <= 1).all()
    # Each row is normalised by its own log-sum-exp: K terms, a few ulps.
    assert_close_in_ulps(gamma.sum(axis=1), np.ones(120), 4 * n_components)
    np.testing.assert_array_equal(gamma, mixture.predict_proba(X))  # the same computation
    # The E-step sums the same responsibilities chunk by chunk (chunks of 37 rows against
    # one sum over 120): about 120 ulps of N_k.
    statistics = em.e_step(X, mixture)
    assert_close_in_ulps(statistics.component_weight, gamma.sum(axis=0), 4 * 120, scale=120)


def test_responsibilities_refuse_rows_of_another_width() -> None:
    mixture = random_mixture(STRUCTURES[0], 2, 3)
    em = MixtureEM(GaussianFamily(2))
    with pytest.raises(ValueError, match="feature"):
        em.responsibilities(np.zeros((5, 2)), mixture)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(seed=st.integers(0, 2**16))
def test_em_by_hand_from_a_poor_start_climbs(structure, seed: int) -> None:
    # reg_covar = 0: the M-step is the exact maximiser, so the ascent is strict up to
    # round-off (a sum of 150 log-densities: a few hundred ulps of |L|).
    X = blobs(seed, 150, 2, 2)
    em = MixtureEM(GaussianFamily(2, structure, reg_covar=0.0))
    mixture = _poor_start(X, 2, structure)
    values = []
    for _ in range(12):
        statistics = em.e_step(X, mixture)
        values.append(statistics.mean_log_likelihood)
        mixture = em.m_step(mixture, statistics)
    values = np.array(values)
    slack = 512 * np.finfo(float).eps * np.abs(values[1:])
    assert (np.diff(values) >= -slack).all(), values
    # From a start outside the data the first steps gain a lot (the README's point): the
    # start's rows are all several standard deviations from every mean.
    assert values[-1] - values[0] > 1.0


@pytest.mark.parametrize("n_init", [1, 3])
def test_history_mixtures_are_the_fit_after_each_iteration(n_init: int) -> None:
    X = blobs(3, 300, 2, 3)
    history = History(keep_mixtures=True)
    em = MixtureEM(
        GaussianFamily(3),
        initializer=RandomResponsibilities(),
        tol=1e-6,
        callbacks=[history],
        n_init=n_init,
        random_state=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a run may end unconverged: not what is tested
        result = em.fit(X)

    for run in range(n_init):
        mixtures = history.mixtures(run)
        assert len(mixtures) == len(history.log_likelihoods(run)) >= 1
        assert all(isinstance(m, Mixture) for m in mixtures)
        # The mixture after iteration t is scored by iteration t + 1's E-step; the sums run
        # over the same chunks, but the E-step inside fit and here may fuse differently:
        # a sum of 300 log-densities, a few ulps each.
        for t in range(1, len(mixtures)):
            score = em.e_step(X, mixtures[t - 1]).mean_log_likelihood
            expected = history.log_likelihoods(run)[t]
            assert_close_in_ulps(score, expected, 4 * 300, scale=abs(expected) + 1.0)
    best = history.mixtures(result.run)
    assert len(best) == result.n_iter
    # The result is built from the last M-step's mixture (its arrays, copied exactly).
    np.testing.assert_array_equal(best[-1].weights, result.weights)
    np.testing.assert_array_equal(best[-1].family.means, result.family.means)
    np.testing.assert_array_equal(
        best[-1].family.covariance_matrices, result.family.covariance_matrices
    )
    assert history.mixtures(run=n_init) == []  # no such run

    count = len(history.mixtures(result.run))
    em.fit(X)  # a new fit replaces the record (same seed, same runs)
    assert len(history.mixtures(result.run)) == count


def test_history_without_mixtures_says_how_to_keep_them() -> None:
    history = History()
    MixtureEM(GaussianFamily(2), callbacks=[history], random_state=0).fit(blobs(0, 100, 2, 2))
    assert history.log_likelihoods()
    with pytest.raises(ValueError, match=r"keep_mixtures=True"):
        history.mixtures()


def test_stepping_by_hand_is_the_fit() -> None:
    # The engine's fit is a loop over the public steps: from the same start, the mixtures
    # after each step agree (both run the same chunks; compared in ulps all the same, since
    # fit may take a fused E-step).
    X = blobs(11, 400, 3, 3)
    structure = STRUCTURES[0]
    start = _poor_start(X, 3, structure)
    history = History(keep_mixtures=True)
    em = MixtureEM(
        GaussianFamily(3, structure),
        initializer=GivenParameters(start),
        tol=None,
        max_iter=8,
        callbacks=[history],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unconverged by design (tol=None)
        em.fit(X)
    mixture = em.initialize(X)
    for fitted in history.mixtures():
        mixture = em.m_step(mixture, em.e_step(X, mixture))
        # Eight iterations amplify round-off: compare against the spread of the data.
        assert_close_in_ulps(mixture.family.means, fitted.family.means, 1e6, scale=10.0)
        assert_close_in_ulps(mixture.weights, fitted.weights, 1e6, scale=1.0)


def _run_example(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [name])
    runpy.run_path(str(ROOT / "examples" / name), run_name="__main__")


def test_scratch_example_prints_each_step_without_an_infinite_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _run_example("00_scratch.py", tmp_path, monkeypatch)
    output = capsys.readouterr().out
    steps = re.findall(r"^step +(\d+) .*$", output, re.M)
    assert steps and steps[0] == "1"
    assert "inf" not in output.lower()
    assert any(path.suffix == ".png" for path in tmp_path.iterdir())


@pytest.mark.parametrize("name", ["00_scratch.py", "07_kmeans_vs_gmm.py", "08_em_steps.py"])
def test_teaching_examples_have_a_gallery_title(name: str) -> None:
    # sphinx-gallery reads the module docstring: an RST title underlined with '=' of the
    # same length, then a paragraph.
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    match = re.match(r'"""(.+)\n(=+)\n\n(\S.*)', text)
    assert match, f"{name} must start with a docstring whose first lines are an RST title"
    title, underline = match.group(1), match.group(2)
    assert len(underline) == len(title)
