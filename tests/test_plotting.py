"""Plots draw what they say (Agg backend): artists exist and reflect the model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Ellipse

from mixture import GaussianFamily, History, KMeansPlusPlus, MixtureEM, select_model
from mixture import plotting as mp
from mixture.datasets import load_faithful


@pytest.fixture(scope="module")
def faithful():
    X, names = load_faithful()
    history = History(keep_mixtures=True)
    result = MixtureEM(GaussianFamily(2), random_state=0, callbacks=[history], tol=1e-6).fit(X)
    return X, names, result, history


def test_scatter_draws_three_ellipses_per_component(faithful) -> None:
    X, names, result, _ = faithful
    ax = mp.scatter(X, result, names=names)
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3 * result.n_components
    centres = {tuple(np.round(e.center, 6)) for e in ellipses}
    expected = {tuple(np.round(m, 6)) for m in result.family.means}
    assert centres == expected
    assert ax.get_xlabel() == "eruptions" and ax.get_ylabel() == "waiting"
    plt.close("all")


def test_density_contours_and_uncertainty(faithful) -> None:
    X, names, result, _ = faithful
    ax = mp.density_contours(X, result, names=names)
    assert ax.collections, "contours and points were drawn"
    ax = mp.uncertainty(X, result)
    sizes = ax.collections[0].get_sizes()
    doubt = 1 - result.predict_proba(X).max(axis=1)
    np.testing.assert_allclose(sizes, 4 + 120 * doubt)
    plt.close("all")


def test_marginal_contours_need_gaussian_components_beyond_two_features() -> None:
    X = np.random.default_rng(0).normal(size=(300, 3))
    result = MixtureEM(GaussianFamily(2), random_state=0).fit(X)
    ax = mp.density_contours(X, result, columns=(0, 2))
    assert ax.collections
    axes = mp.pairwise(X, result)
    assert axes.shape == (3, 3)
    plt.close("all")


def test_criterion_curves_and_trace(faithful) -> None:
    X, _, result, _ = faithful
    selection = select_model(X, n_components=[1, 2, 3], random_state=0)
    ax = mp.criterion_curves(selection)
    lines = ax.get_lines()
    assert len(lines) == 4  # one per covariance structure
    best = selection.best
    assert ax.get_legend() is not None
    assert any(best.model in t.get_text() for t in ax.get_legend().get_texts())
    ax = mp.log_likelihood_trace(result)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), result.log_likelihood_history)
    plt.close("all")


def test_criterion_curves_leave_out_degenerate_fits_and_circle_the_plotted_criterion() -> None:
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(0.0, 1.0, (120, 2)), np.tile([[3.0, 3.0]], (12, 1))])
    selection = select_model(X, n_components=range(1, 5), initializer=KMeansPlusPlus(), n_init=1)
    degenerate = {(c.model, c.n_components) for c in selection.degenerate}
    for criterion in ("bic", "aic"):
        ax = mp.criterion_curves(selection, criterion=criterion)
        plotted = {(line.get_label(), int(k)) for line in ax.get_lines() for k in line.get_xdata()}
        assert not plotted & degenerate  # no degenerate fit on a line
        proper = [c for c in selection.candidates if c.degenerate is None]
        best = min(proper, key=lambda c: c.score(criterion))
        circle = ax.collections[-1]
        np.testing.assert_allclose(
            circle.get_offsets()[0], [best.n_components, best.score(criterion)]
        )
        assert f"best by {criterion.upper()}" in circle.get_label()
        plt.close("all")


def test_em_snapshots_show_the_recorded_iterations(faithful) -> None:
    X, _, _, history = faithful
    mixtures = [r["mixture"] for r in history.records]
    axes = mp.em_snapshots(X, mixtures, [1, 2, len(mixtures)])
    assert [a.get_title() for a in axes] == [
        "iteration 1",
        "iteration 2",
        f"iteration {len(mixtures)}",
    ]
    with pytest.raises(ValueError, match="not among"):
        mp.em_snapshots(X, mixtures, [len(mixtures) + 1])
    plt.close("all")
