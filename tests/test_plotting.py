"""Plots show what they say (Agg backend): checked on the artists, never on pixels.

What each picture must show: the circled candidate is the plotted criterion's minimum; the
uncertainty colour scale runs from 0 to 1 - 1/K with certain rows dark; every outer axis of
a grid is labelled; K components get K distinct colours (or colour and marker pairs); the
figures the functions make are bounded in pixels; iteration ticks are whole numbers; every
function takes a GaussianMixture, a MixtureResult or a Mixture.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from _helpers import blobs
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from matplotlib.patches import Ellipse

from mixture import (
    GaussianFamily,
    GaussianMixture,
    History,
    KMeansPlusPlus,
    Mixture,
    MixtureEM,
    NotFittedError,
    select_model,
)
from mixture import plotting as mp
from mixture.datasets import load_faithful
from mixture.plotting._style import MAX_PIXELS


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def faithful():
    X, names = load_faithful()
    history = History(keep_mixtures=True)
    result = MixtureEM(GaussianFamily(2), random_state=0, callbacks=[history], tol=1e-6).fit(X)
    return X, names, result, history


@pytest.fixture(scope="module")
def selection(faithful):
    X = faithful[0]
    return select_model(X, n_components=range(1, 5), random_state=0)


def _models(result):
    """The same fitted mixture as each accepted type."""
    gm = GaussianMixture(result.n_components, random_state=0).fit(load_faithful()[0])
    return {
        "GaussianMixture": gm,
        "MixtureResult": gm.result_,
        "Mixture": Mixture(gm.result_.weights, gm.result_.family),
    }


def _luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# -- every function takes every kind of model ---------------------------------------------
@pytest.mark.parametrize("kind", ["GaussianMixture", "MixtureResult", "Mixture"])
def test_every_function_accepts_each_kind_of_model(faithful, kind) -> None:
    X, names, result, _ = faithful
    model = _models(result)[kind]
    reference = _models(result)["MixtureResult"]
    ax = mp.scatter(X, model, names=names)
    centres = sorted(tuple(np.round(p.center, 9)) for p in ax.patches)
    expected = sorted(tuple(np.round(m, 9)) for m in reference.family.means for _ in range(3))
    assert centres == expected
    assert mp.uncertainty(X, model).collections
    assert mp.density_contours(X, model).collections
    assert mp.histogram(X, model, column="waiting", names=names).get_lines()
    assert mp.pairwise(X, model, names=names).shape == (2, 2)
    assert mp.em_snapshots(X, [model], [1]).shape == (1,)
    assert len(mp.plot_fit(X, model, names=names).axes) == 4  # three panels and a colour bar
    assert mp.as_mixture(model).n_components == result.n_components
    if kind != "Mixture":  # a bare Mixture has no history
        assert mp.log_likelihood_trace(model).get_lines()


def test_other_objects_are_refused_with_a_clear_error(faithful, selection) -> None:
    X = faithful[0]
    with pytest.raises(TypeError, match="fitted GaussianMixture, a MixtureResult or a Mixture"):
        mp.scatter(X, {"weights": [1.0]})
    with pytest.raises(TypeError, match=r"selection\.best_model"):
        mp.uncertainty(X, selection)
    with pytest.raises(NotFittedError, match="not fitted"):
        mp.scatter(X, GaussianMixture(2))
    mixture = Mixture(faithful[2].weights, faithful[2].family)
    with pytest.raises(TypeError, match="history"):
        mp.log_likelihood_trace(mixture)
    with pytest.raises(ValueError, match="3 column"):
        mp.scatter(np.ones((5, 3)), mixture)
    with pytest.raises(ValueError, match="no column named 'depth'"):
        mp.scatter(X, mixture, columns=("eruptions", "depth"), names=faithful[1])
    with pytest.raises(ValueError, match="out of range"):
        mp.pairwise(X, mixture, columns=[0, 2])
    with pytest.raises(ValueError, match="two columns"):
        mp.scatter(X, mixture, columns=[0])


# -- classification ------------------------------------------------------------------------
def test_scatter_draws_three_ellipses_per_component_at_the_means(faithful) -> None:
    X, names, result, _ = faithful
    ax = mp.scatter(X, result, names=names)
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3 * result.n_components
    assert {tuple(np.round(e.center, 9)) for e in ellipses} == {
        tuple(np.round(m, 9)) for m in result.family.means
    }
    assert ax.get_xlabel() == "eruptions" and ax.get_ylabel() == "waiting"
    # Each row is drawn once, in the collection of its most probable component.
    counts = [len(c.get_offsets()) for c in ax.collections]
    assert counts == np.bincount(result.predict(X), minlength=result.n_components).tolist()


@pytest.mark.filterwarnings("ignore::mixture.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_components", [3, 12, 24])
def test_components_get_distinct_colours_or_markers(n_components) -> None:
    X = blobs(3, 40 * n_components, 2, n_components)
    result = MixtureEM(GaussianFamily(n_components), random_state=0, max_iter=5).fit(X)
    ax = mp.scatter(X, result)
    collections = ax.collections[:n_components]
    colours = [tuple(to_rgba(c.get_facecolor()[0])[:3]) for c in collections]
    markers = [c.get_paths()[0].vertices.tobytes() for c in collections]
    if n_components <= 20:  # a qualitative map of twenty colours
        assert len(set(colours)) == n_components
    assert len(set(zip(colours, markers, strict=True))) == n_components


# -- uncertainty ---------------------------------------------------------------------------
@pytest.mark.parametrize("n_components", [2, 3, 5])
def test_uncertainty_scale_runs_to_one_minus_one_over_k_and_certain_rows_are_dark(
    n_components,
) -> None:
    X = blobs(5, 600, 2, n_components)
    result = MixtureEM(GaussianFamily(n_components), random_state=0).fit(X)
    ax = mp.uncertainty(X, result)
    points = ax.collections[0]
    assert points.norm.vmin == 0.0
    assert points.norm.vmax == pytest.approx(1 - 1 / n_components, rel=1e-12)
    doubt = 1 - result.predict_proba(X).max(axis=1)
    np.testing.assert_allclose(np.sort(points.get_array()), np.sort(doubt))
    colours = points.to_rgba(points.get_array())  # drawn in increasing uncertainty
    assert _luminance(colours[0]) < 0.15  # the most certain row: near black
    # Every row, the most uncertain too, stays visible on white (no pale yellow end).
    assert max(_luminance(c) for c in points.cmap(np.linspace(0, 1, 64))) < 0.75
    colorbar = ax.figure.axes[-1]
    assert "1 - 1/K" in colorbar.get_ylabel()


def test_uncertainty_of_one_column_is_its_y_axis() -> None:
    x = np.concatenate([np.linspace(-3, -1, 50), np.linspace(1, 3, 50)])[:, None]
    result = MixtureEM(GaussianFamily(2), random_state=0).fit(x)
    ax = mp.uncertainty(x, result, names=["x"])
    doubt = 1 - result.predict_proba(x).max(axis=1)
    np.testing.assert_allclose(np.sort(ax.collections[0].get_offsets()[:, 1]), np.sort(doubt))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "uncertainty")
    assert ax.get_ylim()[1] >= 0.5  # the whole scale, up to 1 - 1/K


# -- one column ----------------------------------------------------------------------------
def test_one_column_histogram_carries_the_density_and_each_component() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(m, 0.5, 150) for m in (0, 3, 6, 9, 12)])[:, None]
    result = MixtureEM(GaussianFamily(5), random_state=0).fit(x)
    axes = mp.pairwise(x, result, names=["length"])  # what the command line draws
    ax = axes[0, 0]
    assert ax.get_xlabel() == "length" and ax.get_ylabel() == "density"
    width, height = ax.figure.get_size_inches() * ax.figure.dpi
    assert width >= 600 and height >= 400
    total, *parts = ax.get_lines()
    assert len(parts) == 5
    assert len({tuple(to_rgba(p.get_color())) for p in parts}) == 5
    grid, density = total.get_xydata().T
    # The curve is the density on the histogram's scale: it integrates to about 1 (the
    # grid covers the data and a margin, and a trapezoid sum of 400 points).
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(sum(p.get_ydata() for p in parts), density, rtol=1e-12)
    bars = [p for p in ax.patches if p.get_height() > 0]
    area = sum(p.get_width() * p.get_height() for p in bars)
    assert area == pytest.approx(1.0, rel=1e-9)
    assert "5 components" in ax.figure.get_suptitle()


# -- criterion curves ----------------------------------------------------------------------
@pytest.mark.parametrize("criterion", ["bic", "aic", "icl"])
def test_the_circle_marks_the_minimum_of_the_criterion_plotted(selection, criterion) -> None:
    ax = mp.criterion_curves(selection, criterion=criterion)
    proper = [c for c in selection.candidates if c.degenerate is None]
    best = min(proper, key=lambda c: c.score(criterion))
    circle = ax.collections[-1]
    np.testing.assert_array_equal(
        circle.get_offsets()[0], [best.n_components, best.score(criterion)]
    )
    assert circle.get_label() == f"best by {criterion.upper()}: {best.model}, {best.n_components}"
    low, high = ax.get_ylim()
    assert low < best.score(criterion) < high
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_criterion_curves_leave_out_degenerate_fits_and_circle_the_plotted_criterion() -> None:
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(0.0, 1.0, (120, 2)), np.tile([[3.0, 3.0]], (12, 1))])
    selection = select_model(X, n_components=range(1, 5), initializer=KMeansPlusPlus(), n_init=1)
    degenerate = {(c.model, c.n_components) for c in selection.degenerate}
    assert degenerate, "the repeated rows make some fit degenerate"
    for criterion in ("bic", "aic"):
        ax = mp.criterion_curves(selection, criterion=criterion)
        plotted = {
            (line.get_label().split(" ")[0], int(k))
            for line in ax.get_lines()
            for k in line.get_xdata()
        }
        assert not plotted & degenerate  # no degenerate fit on a line
        proper = [c for c in selection.candidates if c.degenerate is None]
        best = min(proper, key=lambda c: c.score(criterion))
        np.testing.assert_array_equal(
            ax.collections[-1].get_offsets()[0], [best.n_components, best.score(criterion)]
        )


def test_a_curve_far_above_leaves_the_axis_instead_of_flattening_the_others(selection) -> None:
    ax = mp.criterion_curves(selection)
    low, high = ax.get_ylim()
    proper = [c for c in selection.candidates if c.degenerate is None]
    competitive = [c for c in proper if c.model != "spherical" and c.n_components > 1]
    assert all(low < c.bic < high for c in competitive)
    spherical = [c.bic for c in proper if c.model == "spherical"]
    assert min(spherical) > high  # on Old Faithful, hundreds above the others
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "spherical (above the axis)" in labels
    hidden = sum(c.bic > high for c in proper)
    assert f"{hidden} of {len(proper)} candidates above the axis" in labels
    every = mp.criterion_curves(selection, clip=False)
    assert every.get_ylim()[1] > max(c.bic for c in proper)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=1, max_size=60)
)
def test_visible_range_keeps_the_best_and_at_least_half_of_the_scores(scores) -> None:
    low, high = mp.visible_range(scores)
    scores = np.array(scores)
    assert low == scores.min()
    assert low <= high <= scores.max()
    assert np.count_nonzero(scores <= high) >= scores.size / 2


def test_plot_selection_draws_one_panel_per_criterion(selection) -> None:
    figure = mp.plot_selection(selection, criteria=("bic", "aic"))
    assert [ax.get_ylabel() for ax in figure.axes] == [
        "BIC (lower is better)",
        "AIC (lower is better)",
    ]
    assert max(figure.get_size_inches() * figure.dpi) <= MAX_PIXELS
    with pytest.raises(TypeError, match="ModelSelection"):
        mp.plot_selection([1, 2])


# -- grids ---------------------------------------------------------------------------------
def test_pairwise_labels_every_outer_axis_and_names_the_model() -> None:
    X = blobs(2, 300, 4, 3)
    names = ["a", "b", "c", "d"]
    result = MixtureEM(GaussianFamily(3), random_state=0).fit(X)
    axes = mp.pairwise(X, result, names=names, columns=["a", "c", "d"])
    figure = axes[0, 0].figure
    figure.canvas.draw()
    shown = ["a", "c", "d"]
    assert [ax.get_xlabel() for ax in axes[-1]] == shown  # first and last included
    assert [ax.get_ylabel() for ax in axes[:, 0]] == shown
    for ax in axes[-1]:
        assert any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())
    for ax in axes[:, 0]:
        assert any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
    assert figure.get_suptitle() == "full covariance, 3 components"
    # The diagonal's histograms sit on overlays with no y-ticks of their own, outside the
    # scatters' shared y-axes.
    overlays = [a for a in figure.axes if a not in axes.flat]
    assert len(overlays) == 3
    for overlay in overlays:
        assert list(overlay.get_yticks()) == []
        assert overlay.patches  # the histogram's bars
        assert not any(overlay.get_shared_y_axes().joined(overlay, ax) for ax in axes.flat)


@pytest.mark.filterwarnings("ignore::mixture.exceptions.ConvergenceWarning")
def test_pairwise_of_many_columns_stays_within_the_pixel_bound() -> None:
    # Eight columns of 2.4-inch cells would be 19.2 inches: more than 1800 px at 100 dpi.
    X = blobs(4, 120, 8, 2)
    result = MixtureEM(GaussianFamily(2), random_state=0, max_iter=3).fit(X)
    axes = mp.pairwise(X, result)
    figure = axes[0, 0].figure
    assert axes.shape == (8, 8)
    assert max(figure.get_size_inches() * figure.dpi) <= MAX_PIXELS
    axes = mp.pairwise(X, result, columns=[0, 1, 2], max_pixels=500)
    assert max(axes[0, 0].figure.get_size_inches() * axes[0, 0].figure.dpi) <= 500


def test_plot_fit_of_a_selection_adds_its_curves(faithful, selection) -> None:
    X, names, _, _ = faithful
    figure = mp.plot_fit(X, selection, names=names)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:4] == ["classification", "uncertainty", "density", "BIC of the candidates"]
    best = selection.best
    assert figure.get_suptitle() == f"{best.model} covariance, {best.n_components} components"
    assert max(figure.get_size_inches() * figure.dpi) <= MAX_PIXELS
    one = mp.plot_fit(X, selection, names=names, columns=["waiting"])
    assert [ax.get_title() for ax in one.axes][:3] == [
        "density",
        "uncertainty",
        "BIC of the candidates",
    ]
    X3 = np.column_stack([X, X[:, 0] * X[:, 1]])
    result = MixtureEM(GaussianFamily(2), random_state=0).fit(X3)
    grid = mp.plot_fit(X3, result)
    assert len([ax for ax in grid.axes if ax.get_xlabel()]) == 3  # the grid's bottom row


# -- the course of EM ----------------------------------------------------------------------
def test_log_likelihood_trace_has_whole_iteration_ticks(faithful) -> None:
    _, _, result, _ = faithful
    ax = mp.log_likelihood_trace(result)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), result.log_likelihood_history)
    ticks = ax.get_xticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)


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


def test_saved_figures_have_the_bounded_size(tmp_path, faithful) -> None:
    X, names, result, _ = faithful
    figure = mp.plot_fit(X, result, names=names)
    path = tmp_path / "fit.png"
    figure.savefig(path)
    from matplotlib.image import imread

    height, width = imread(path).shape[:2]
    assert max(height, width) <= MAX_PIXELS


def test_responsibility_shading_mixes_the_component_colours() -> None:
    # A row shared equally by two components is drawn halfway between their colours.
    from mixture import GaussianFamily, Mixture
    from mixture.plotting import em_snapshots, scatter
    from mixture.plotting._style import component_colour

    family = GaussianFamily(2, means=[[-1.0, 0.0], [1.0, 0.0]], covariances=[np.eye(2)] * 2)
    mixture = Mixture([0.5, 0.5], family)
    X = np.array([[0.0, 0.0], [-8.0, 0.0], [8.0, 0.0]])
    ax = scatter(X, mixture, shading="responsibilities")
    colours = ax.collections[0].get_facecolors()[:, :3]
    first, second = (np.array(component_colour(k)[:3]) for k in (0, 1))
    np.testing.assert_allclose(colours[0], (first + second) / 2, atol=1e-6)
    np.testing.assert_allclose(colours[1], first, atol=1e-6)
    np.testing.assert_allclose(colours[2], second, atol=1e-6)
    with pytest.raises(ValueError, match="shading must be"):
        scatter(X, mixture, shading="soft")
    axes = em_snapshots(X, [mixture], [0, 1], start=mixture, shading="responsibilities")
    assert [ax.get_title() for ax in axes] == ["start", "iteration 1"]
    with pytest.raises(ValueError, match="needs start="):
        em_snapshots(X, [mixture], [0])
