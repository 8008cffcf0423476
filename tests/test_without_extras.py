"""What works with only ``pip install .``: optional packages missing are reported, not fatal."""

from __future__ import annotations

import sys

import numpy as np

from mixture import Poisson
from mixture.testing import check_component


def test_the_kit_runs_without_hypothesis_and_says_what_it_skipped(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import hypothesis now fails
    report = check_component(Poisson([2.0, 5.0]), n_samples=2000, seed=0)
    assert "weight laws" in report.not_run
    assert "pip install hypothesis" in report.not_run["weight laws"]
    assert len(report.passed) >= 5  # everything else still ran
    assert np.isfinite(Poisson([2.0, 5.0]).log_density(np.array([[1.0, 4.0]]))).all()


def test_without_numba_the_numpy_kernels_run(monkeypatch) -> None:
    """numba missing (or failing to import): the compiled kernels are reported unavailable
    and every path that has one runs its numpy twin instead."""
    from mixture import GaussianMixture, _compiled

    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    monkeypatch.setattr(_compiled, "_imported", False)
    monkeypatch.setattr(_compiled, "_import_error", None)
    assert not _compiled.compiled_available()
    assert "numba" in _compiled._import_error
    assert not _compiled.use_compiled(10**9)
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 1, (40_000, 2)), rng.normal(3, 1, (40_000, 2))])
    X[rng.random(X.shape) < 0.1] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.0
    model = GaussianMixture(2, missing="marginalize", random_state=0).fit(X)
    assert np.allclose(np.sort(model.means_[:, 0]), [-3, 3], atol=0.05)
    # Model selection's whole runs are left to the engine's numpy loop.
    from mixture import GaussianFamily, select_model

    answers = []
    original = GaussianFamily.whole_run

    def recording(self, *args, **kwargs):
        answers.append(original(self, *args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(GaussianFamily, "whole_run", recording)
    small = np.concatenate([rng.normal(-3, 1, (100, 2)), rng.normal(3, 1, (100, 2))])
    selection = select_model(small, n_components=range(1, 4), random_state=0)
    assert answers and all(answer is None for answer in answers)
    assert all(candidate.converged for candidate in selection.candidates)
