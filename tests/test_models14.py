"""mclust's 14 covariance models: parity with R's mclust, parameter counts, and properties.

Reference numbers: benchmarks/models14_reference (made by its R scripts, committed with
them; R is not a test dependency).
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixture import GaussianFamily, GaussianMixture, MixtureEM, model_file
from mixture.cli.arguments import parse_structures
from mixture.gaussian import (
    MCLUST_NAMES,
    STRUCTURE_NAMES,
    CovarianceStructure,
    DefaultPrior,
    FullCovariance,
    register_structure,
    structure_named,
)
from mixture.gaussian.forms import DiagonalForm, FullForm, SharedForm, SphericalForm
from mixture.initializers import GivenResponsibilities
from mixture.model_file import ModelFileError
from mixture.selection import select_model

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "models14_reference"
HAS_REFERENCE = (REFERENCE / "reference.json").exists()
needs_reference = pytest.mark.skipif(not HAS_REFERENCE, reason="mclust reference absent")

#: Models whose M-step is mclust's exactly; VVE is not (see mixture.gaussian.parsimonious).
SAME_AS_MCLUST = [name for name in MCLUST_NAMES if name != "VVE"]


def _reference() -> dict:
    with (REFERENCE / "reference.json").open() as handle:
        return json.load(handle)


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.loadtxt(REFERENCE / f"{name}.csv", delimiter=",", skiprows=1)
    labels = np.loadtxt(REFERENCE / f"labels_{name}.csv", delimiter=",", skiprows=1)
    return X, np.eye(3)[labels.astype(int) - 1]


def in_form(structure: CovarianceStructure, matrices: np.ndarray) -> np.ndarray:
    """Dense (K, D, D) covariances in the array shape of the structure's form."""
    form = structure.form
    if isinstance(form, FullForm):
        return matrices
    if isinstance(form, SharedForm):
        return matrices[0]
    if isinstance(form, DiagonalForm):
        return np.diagonal(matrices, axis1=1, axis2=2).copy()
    assert isinstance(form, SphericalForm)
    return matrices[:, 0, 0].copy()


def scaled_error(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(actual) - expected)) / np.max(np.abs(expected)))


def m_step(name: str, X: np.ndarray, R: np.ndarray, tol: float | None = None) -> GaussianFamily:
    structure = structure_named(name)
    if tol is not None and hasattr(structure, "tol"):
        structure = type(structure)(tol=tol)
    template = GaussianFamily(R.shape[1], structure, reg_covar=0.0)
    return template.m_step(template.statistics(X, R))


def negative_q(covariances: np.ndarray, X: np.ndarray, R: np.ndarray) -> float:
    """``sum_k n_k log det S_k + tr(S_k^-1 W_k)``: minus twice the covariance part of EM's
    Q function at the weighted means, for dense covariances ``S_k`` (K, D, D)."""
    template = GaussianFamily(R.shape[1], FullCovariance(), reg_covar=0.0)
    statistics = template.statistics(X, R)
    total = 0.0
    for S, W, n in zip(covariances, statistics.scatter, statistics.weight, strict=True):
        total += n * np.linalg.slogdet(S)[1] + np.trace(np.linalg.solve(S, W))
    return float(total)


# -- against mclust ---------------------------------------------------------------------------
CASES = [(data, name) for data in ("iris", "shapes") for name in MCLUST_NAMES]


@needs_reference
@pytest.mark.parametrize(("data", "name"), CASES)
def test_log_density_at_mclust_parameters(data, name) -> None:
    X, _ = _data(data)
    expected = _reference()["datasets"][data]["models"][name]["mstep"]
    structure = structure_named(name)
    family = GaussianFamily(
        3,
        structure,
        means=np.array(expected["mean"]),
        covariances=in_form(structure, np.array(expected["sigma"])),
    )
    assert scaled_error(family.log_density(X), np.array(expected["logdens"])) <= 1e-10


@needs_reference
@pytest.mark.parametrize("data", ["iris", "shapes"])
@pytest.mark.parametrize("name", SAME_AS_MCLUST)
def test_m_step_matches_mclust(data, name) -> None:
    X, R = _data(data)
    expected = _reference()["datasets"][data]["models"][name]["mstep"]
    # At the reference's inner tolerance (mclust ran with 1e-14): a rule on the objective
    # leaves the parameters about sqrt(tol) from the optimum, so both must stop alike.
    fitted = m_step(name, X, R, tol=1e-14)
    assert scaled_error(fitted.means, np.array(expected["mean"])) <= 1e-12
    assert scaled_error(fitted.covariance_matrices, np.array(expected["sigma"])) <= 1e-8


def _em_from_partition(name: str, X: np.ndarray, R: np.ndarray) -> float:
    engine = MixtureEM(
        GaussianFamily(3, structure_named(name), reg_covar=0.0),
        initializer=GivenResponsibilities(R),
        tol=1e-13,
        max_iter=100_000,
    )
    result = engine.fit(X)
    assert result.converged
    return float(result.score(X) * X.shape[0])


@needs_reference
@pytest.mark.parametrize("data", ["iris", "shapes"])
@pytest.mark.parametrize("name", SAME_AS_MCLUST)
def test_em_from_a_partition_reaches_mclust(data, name) -> None:
    X, R = _data(data)
    expected = _reference()["datasets"][data]["models"][name]["em"]["loglik"]
    ours = _em_from_partition(name, X, R)
    assert abs(ours - expected) <= 1e-6 * abs(expected)


@needs_reference
@pytest.mark.parametrize("data", ["iris", "shapes"])
def test_vve_m_step_beats_mclusts(data) -> None:
    # mclust 6.0's VVE orientation update leaves out the volumes, so its M-step is not the
    # maximiser: ours reaches a lower -2Q from the same responsibilities, and EM a higher
    # log-likelihood from the same partition.
    X, R = _data(data)
    reference = _reference()["datasets"][data]["models"]["VVE"]
    theirs = negative_q(np.array(reference["mstep"]["sigma"]), X, R)
    ours = negative_q(m_step("VVE", X, R).covariance_matrices, X, R)
    assert ours < theirs - 0.1
    assert _em_from_partition("VVE", X, R) > reference["em"]["loglik"]


@needs_reference
def test_parameter_counts_match_mclust() -> None:
    with (REFERENCE / "nparams.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["model"] for row in rows} == set(MCLUST_NAMES)
    for row in rows:
        K, D = int(row["G"]), int(row["d"])
        family = GaussianFamily(K, structure_named(row["model"]))
        covariance = family.structure.n_parameters(K, D)
        assert (K - 1) + K * D + covariance == int(row["npar"]), row


# -- properties -------------------------------------------------------------------------------
#: (smaller, larger): every covariance of the smaller model is one of the larger. Listed
#: where the larger model's M-step is guaranteed to find at least the smaller one's
#: optimum (closed forms, convex alternations, or an EVE/VVE start at that optimum).
NESTED = [
    ("EII", "VII"),
    ("EII", "EEI"),
    ("VII", "VEI"),
    ("EEI", "VEI"),
    ("EEI", "EVI"),
    ("VEI", "VVI"),
    ("EVI", "VVI"),
    ("EEI", "EEE"),
    ("VEI", "VEE"),
    ("EVI", "EVE"),
    ("VVI", "VVE"),
    ("EEE", "VEE"),
    ("EEE", "EVE"),
    ("EEE", "VVE"),
    ("EEE", "EEV"),
    ("VEE", "VEV"),
    ("EEV", "VEV"),
    ("EEV", "EVV"),
    ("EVE", "EVV"),
    ("VEV", "VVV"),
    ("EVV", "VVV"),
    ("VVE", "VVV"),
]


def _problem(seed: int, n_rows: int, n_features: int, n_components: int):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_features, n_features)) + 2.0 * np.eye(n_features)
    X = rng.normal(size=(n_rows, n_features)) @ mixing * rng.uniform(0.5, 3.0, n_features)
    R = rng.dirichlet(np.full(n_components, 0.4), size=n_rows)
    return X, R


@given(
    seed=st.integers(0, 2**32 - 1),
    n_features=st.integers(1, 4),
    n_components=st.integers(1, 4),
    pair=st.sampled_from(NESTED),
)
def test_a_larger_model_fits_at_least_as_well(seed, n_features, n_components, pair) -> None:
    X, R = _problem(seed, 12 * n_features + 20, n_features, n_components)
    smaller, larger = (negative_q(m_step(name, X, R).covariance_matrices, X, R) for name in pair)
    assert larger <= smaller + 1e-9 * abs(smaller)


def _volumes(matrices: np.ndarray) -> np.ndarray:
    return np.exp(np.linalg.slogdet(matrices)[1] / matrices.shape[-1])


@given(
    seed=st.integers(0, 2**32 - 1),
    n_features=st.integers(2, 4),
    n_components=st.integers(2, 4),
    name=st.sampled_from(MCLUST_NAMES),
)
def test_m_step_keeps_the_model_constraints(seed, n_features, n_components, name) -> None:
    X, R = _problem(seed, 15 * n_features, n_features, n_components)
    S = m_step(name, X, R).covariance_matrices
    volume_code, shape_code, orientation_code = name
    volumes = _volumes(S)
    if volume_code == "E":
        np.testing.assert_allclose(volumes, volumes[0], rtol=1e-9)
    eigenvalues = np.linalg.eigvalsh(S)
    shapes = eigenvalues / volumes[:, None]
    if shape_code == "E":
        np.testing.assert_allclose(shapes, shapes[:1].repeat(n_components, 0), rtol=1e-8)
    if shape_code == "I":
        np.testing.assert_allclose(shapes, 1.0, rtol=1e-9)
    if orientation_code == "I":
        off_diagonal = S - np.einsum("kii->ki", S)[:, :, None] * np.eye(n_features)
        assert np.max(np.abs(off_diagonal)) <= 1e-12 * np.max(np.abs(S))
    if orientation_code == "E" and shape_code != "I":
        # One orthogonal D diagonalises every covariance.
        _, axes = np.linalg.eigh(S[0])
        rotated = np.einsum("ji,kjl,lm->kim", axes, S, axes)
        off_diagonal = rotated - np.einsum("kii->ki", rotated)[:, :, None] * np.eye(n_features)
        assert np.max(np.abs(off_diagonal)) <= 1e-7 * np.max(np.abs(S))


# -- every model through every entry point ----------------------------------------------------
@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    rng = np.random.default_rng(3)
    parts = [
        rng.normal(size=(60, 3)) @ np.diag([1.0, 0.5, 0.2]) + [0.0, 0.0, 0.0],
        rng.normal(size=(70, 3)) @ np.array([[1.0, 0.6, 0.0], [0.0, 0.8, 0.3], [0, 0, 0.5]])
        + [4.0, 1.0, -2.0],
        rng.normal(size=(50, 3)) * 0.7 + [-3.0, 4.0, 1.0],
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("name", STRUCTURE_NAMES)
def test_estimator_fits_every_model(name, blobs, tmp_path) -> None:
    model = GaussianMixture(3, covariance_type=name, random_state=0, tol=1e-8).fit(blobs)
    structure = structure_named(name)
    assert model.covariances_.shape == structure.form.shape(3, 3)
    assert model.converged_
    labels = model.predict(blobs)
    assert np.bincount(labels, minlength=3).min() >= 40  # three well-separated groups
    assert model.sample(25)[0].shape == (25, 3)
    # A model file keeps the structure and the densities.
    path = tmp_path / f"{name}.json"
    model_file.save(model, path)
    loaded = model_file.load(path)
    np.testing.assert_allclose(loaded.score_samples(blobs), model.score_samples(blobs), rtol=1e-12)


@pytest.mark.parametrize("name", STRUCTURE_NAMES)
def test_float32_rows_fit_as_float64(name, blobs) -> None:
    results = {}
    for dtype in (np.float64, np.float32):
        engine = MixtureEM(
            GaussianFamily(3, structure_named(name)),
            initializer=GivenResponsibilities(np.eye(3)[np.repeat([0, 1, 2], [60, 70, 50])]),
            tol=1e-10,
            max_iter=2000,
        )
        results[dtype] = engine.fit(blobs.astype(dtype)).score(blobs)
    # float32 rows carry 2**-24 relative rounding; the mean log-likelihood agrees to ~1e-6.
    assert abs(results[np.float32] - results[np.float64]) <= 1e-5


def test_select_model_covers_the_fourteen(blobs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_model(
            blobs,
            n_components=[1, 2, 3],
            structures=[structure_named(name) for name in MCLUST_NAMES],
            random_state=0,
        )
    assert {row["model"] for row in selection.rows()} == set(STRUCTURE_NAMES)
    assert selection.best.n_components == 3


class FixedVariance(CovarianceStructure):
    """A structure written outside the package: spherical, variance fixed at ``s``."""

    name = "fixed-variance"
    mclust_name = ""
    form = SphericalForm()

    def __init__(self, variance: float) -> None:
        self.variance = variance

    def _settings(self) -> tuple[float]:
        return (self.variance,)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return 0

    def from_scatter(self, scatter, weight, reg_covar, n_features):
        return np.full(weight.shape[0], self.variance)


def test_a_structure_defined_outside_the_package_fits(blobs) -> None:
    structure = FixedVariance(0.5)
    result = MixtureEM(GaussianFamily(3, structure), random_state=0, tol=1e-8).fit(blobs)
    np.testing.assert_array_equal(result.family.covariances, np.full(3, 0.5))
    assert result.family.n_parameters == 9
    assert FixedVariance(0.5) == structure and FixedVariance(0.6) != structure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_model(blobs, n_components=[2, 3], structures=[structure])
    assert selection.best.model == "fixed-variance"


def test_a_prior_is_refused_where_a_structure_has_no_map_m_step() -> None:
    with pytest.raises(ValueError, match=r"VEVCovariance.*no conjugate prior"):
        GaussianFamily(2, structure_named("VEV"), prior=DefaultPrior())
    with_prior = {name for name in MCLUST_NAMES if structure_named(name).supports_prior}
    assert with_prior == {"EII", "VII", "EEI", "VVI", "EEE", "VVV"}


def test_cli_names_select_the_same_structure() -> None:
    assert parse_structures("VVV,full,EEE") == ["full", "tied"]
    assert parse_structures("all") == list(STRUCTURE_NAMES) and len(STRUCTURE_NAMES) == 14


@given(
    seed=st.integers(0, 2**32 - 1),
    n_components=st.integers(2, 4),
    name=st.sampled_from(MCLUST_NAMES),
)
def test_em_never_decreases_the_log_likelihood(seed, n_components, name) -> None:
    # The iterative M-steps start from the current covariances within EM, and each must be
    # at least as good as them (a generalised EM step), so EM still only goes up.
    X, R = _problem(seed, 60, 3, n_components)
    engine = MixtureEM(
        GaussianFamily(n_components, structure_named(name)),
        initializer=GivenResponsibilities(R),
        tol=None,
        max_iter=25,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = np.array(engine.fit(X).log_likelihood_history)
    assert (np.diff(history) >= -1e-10 * np.abs(history[1:])).all()


class UnitSpherical(CovarianceStructure):
    """A structure written outside the package, registered by name: every variance 1."""

    name = "unit-spherical"
    form = SphericalForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return 0

    def from_scatter(self, scatter, weight, reg_covar, n_features):
        return np.ones(weight.shape[0])


def test_a_registered_structure_loads_from_a_model_file(blobs, tmp_path, monkeypatch) -> None:
    from mixture.gaussian import structures

    monkeypatch.setattr(structures, "_REGISTRY", dict(structures._REGISTRY))
    result = MixtureEM(GaussianFamily(3, UnitSpherical()), random_state=0).fit(blobs)
    model_file.save(result, tmp_path / "unit.json")
    with pytest.raises(ModelFileError, match="unit-spherical"):
        model_file.load(tmp_path / "unit.json")  # unknown until registered
    assert register_structure(UnitSpherical) is UnitSpherical
    loaded = model_file.load(tmp_path / "unit.json")
    assert loaded.mixture.family.structure == UnitSpherical()
    np.testing.assert_allclose(loaded.score_samples(blobs), result.score_samples(blobs), rtol=1e-13)
    with pytest.raises(ValueError, match="taken"):
        register_structure(type("Other", (UnitSpherical,), {}))
