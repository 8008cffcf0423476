"""Model files: exact round trips, atomic writes, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs
from hypothesis import given, settings
from hypothesis import strategies as st

from mixture import Component, Gaussian, GivenParameters, Mixture, MixtureEM
from mixture.components.uniform import Uniform
from mixture.family import ComponentList
from mixture.model import Mixture as MixtureModel
from mixture.model_file import SCHEMA_VERSION, ModelFileError, load, model_to_dict, save


def _same(a: MixtureModel, b: MixtureModel, X: np.ndarray) -> None:
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    assert type(a.family) is type(b.family)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_gaussian_family_round_trip_is_exact(structure, tmp_path) -> None:
    X = blobs(1, 300, 3, 3)
    from mixture import GaussianFamily

    fitted = MixtureEM(GaussianFamily(3, structure, reg_covar=1e-4), random_state=0).fit(X)
    path = save(fitted, tmp_path / "model.json")
    loaded = load(path)
    _same(fitted, loaded, X)
    np.testing.assert_array_equal(loaded.family.means, fitted.family.means)
    np.testing.assert_array_equal(loaded.family.covariances, fitted.family.covariances)
    assert loaded.family.structure == structure and loaded.family.reg_covar == 1e-4


def test_component_list_with_noise_round_trip(tmp_path) -> None:
    X = blobs(2, 400, 2, 2)
    template = [Gaussian([0.0, 0.0], np.eye(2)), Gaussian([1.0, 1.0], np.eye(2))]
    start = Mixture([0.45, 0.45, 0.1], [*template, Uniform.covering(X, margin=0.1)])
    fitted = MixtureEM(start.components, initializer=GivenParameters(start)).fit(X)
    loaded = load(save(fitted, tmp_path / "noise.json"))
    _same(fitted, loaded, X)
    assert isinstance(loaded.family, ComponentList)
    assert isinstance(loaded.components[2], Uniform)


def test_file_is_human_readable_json_with_a_version(tmp_path) -> None:
    X = blobs(3, 100, 2, 1)
    fitted = MixtureEM([Gaussian([0.0, 0.0], np.eye(2))], random_state=0).fit(X)
    document = json.loads(save(fitted, tmp_path / "m.json").read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["format"] == "mixture-em model"
    assert document["family"]["type"] == "ComponentList"
    assert document["family"]["components"][0]["type"] == "Gaussian"


def test_saving_replaces_atomically_and_keeps_the_old_file_on_failure(tmp_path) -> None:
    path = tmp_path / "model.json"
    path.write_text("previous contents")
    with pytest.raises(ValueError, match="expected a fitted Mixture"):
        save("not a mixture", path)
    assert path.read_text() == "previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a mixture model"),
        ('{"format": "mixture-em model"}', "schema_version"),
        ('{"format": "mixture-em model", "schema_version": 99}', "newer"),
        ('{"format": "mixture-em model", "schema_version": 1}', "lacks 'weights'"),
        (
            '{"format": "mixture-em model", "schema_version": 1, "weights": [1.0],'
            ' "family": {"type": "Teapot"}}',
            "unknown type 'Teapot'",
        ),
        (
            '{"format": "mixture-em model", "schema_version": 1, "weights": [1.0],'
            ' "family": {"type": "Gaussian", "mean": [0.0]}}',
            "lacks the field 'structure'",
        ),
        (
            '{"format": "mixture-em model", "schema_version": 1, "weights": [1.0],'
            ' "family": {"type": "Gaussian", "mean": [0.0], "covariance": [[-1.0]],'
            ' "structure": "full", "reg_covar": 0.0}}',
            "invalid Gaussian",
        ),
        (
            '{"format": "mixture-em model", "schema_version": 1, "weights": [0.5],'
            ' "family": {"type": "Gaussian", "mean": [0.0], "covariance": [[1.0]],'
            ' "structure": "full", "reg_covar": 0.0}}',
            "invalid weights",
        ),
    ],
)
def test_malformed_files_give_a_clear_error(contents: str, message: str, tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(contents)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        load(tmp_path / "absent.json")


class Opaque(Component):
    """A component type with no model-file encoder."""

    n_features = property(lambda self: 1)
    n_parameters = property(lambda self: 0)

    def log_density(self, X):
        return np.zeros(len(X))

    def statistics(self, X, weights):
        raise NotImplementedError

    def from_statistics(self, statistics):
        return self

    def sample(self, n, rng):
        return np.zeros((n, 1))


def test_unregistered_types_are_refused() -> None:
    with pytest.raises(ModelFileError, match="no model-file encoder for Opaque"):
        model_to_dict(Mixture([1.0], [Opaque()]))


def _every_component_type():
    from mixture import (
        Bernoulli,
        Categorical,
        DiagonalCovariance,
        Exponential,
        Independent,
        Poisson,
        StudentT,
    )

    return {
        "poisson": [Poisson([1.5, 0.0]), Poisson([4.0, 2.25])],
        "exponential": [Exponential([0.5]), Exponential([3.0])],
        "student-t": [
            StudentT([0.0, 1.0], [[1.0, 0.2], [0.2, 0.5]], 5.0),
            StudentT(
                [3.0, -1.0], [0.5, 2.0], 12.0, structure=DiagonalCovariance(), estimate_df=False
            ),
        ],
        "bernoulli": [Bernoulli([0.1, 0.9, 0.5]), Bernoulli([0.7, 0.0, 1.0], pseudocount=0.5)],
        "categorical": [
            Categorical([[0.2, 0.8], [0.1, 0.3, 0.6]]),
            Categorical([[1.0, 0.0], [1 / 3, 1 / 3, 1 / 3]]),
        ],
        "independent": [
            Independent(
                [Gaussian([0.0, 1.0], [1.0, 2.0], structure=DiagonalCovariance()), Poisson([3.0])],
                [[0, 2], [1]],
            ),
            Independent(
                [Gaussian([5.0, -1.0], [0.5, 0.5], structure=DiagonalCovariance()), Poisson([0.5])],
                [[0, 2], [1]],
            ),
        ],
    }


@pytest.mark.parametrize("kind", list(_every_component_type()))
def test_every_component_type_round_trips_exactly(kind: str, tmp_path) -> None:
    components = _every_component_type()[kind]
    mixture = Mixture([0.25, 0.75], components)
    X = mixture.sample(200, random_state=0)[0]
    loaded = load(save(mixture, tmp_path / f"{kind}.json"))
    _same(mixture, loaded, X)
    for original, restored in zip(mixture.components, loaded.components, strict=True):
        assert type(restored) is type(original)
        assert repr(restored) == repr(original)


# -- schema version 2: column names, preprocessing, selection ---------------------------------
def _header(version: int = SCHEMA_VERSION) -> str:
    return f'"format": "mixture-em model", "schema_version": {version}'


GAUSSIAN = (
    '"family": {"type": "Gaussian", "mean": [0.0], "covariance": [[1.0]], "structure": "full",'
    ' "reg_covar": 0.0}'
)


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("{" + _header(0) + ', "weights": [1.0], ' + GAUSSIAN + "}", "positive integer"),
        ("{" + _header(-7) + ', "weights": [1.0], ' + GAUSSIAN + "}", "positive integer"),
        (
            '{"format": "mixture-em model", "schema_version": true, "weights": [1.0], '
            + GAUSSIAN
            + "}",
            "positive integer",
        ),
        (
            '{"format": "mixture-em model", "schema_version": 1.0, "weights": [1.0], '
            + GAUSSIAN
            + "}",
            "positive integer",
        ),
        ("{" + _header() + ', "weights": [true], ' + GAUSSIAN + "}", "weights must hold only"),
        ("{" + _header() + ', "weights": ["1"], ' + GAUSSIAN + "}", "weights must hold only"),
        ("{" + _header() + ', "weights": [NaN], ' + GAUSSIAN + "}", "NaN is not a JSON number"),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": ["Gaussian"]}}',
            "'type' must be a string",
        ),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": {"a": 1}}}',
            "'type' must be a string",
        ),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": "Independent", "parts": '
            '[{"type": "Poisson", "rate": [1.0]}], "blocks": null}}',
            "blocks must be a list",
        ),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": "Poisson", "rate": [true]}}',
            "rate must hold only numbers",
        ),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": "Poisson", '
            '"rate": [1.0], "colour": 3}}',
            "unknown field",
        ),
        (
            "{" + _header() + ', "weights": [1.0], "family": {"type": "StudentT", "loc": [0.0],'
            ' "scale": [[1.0]], "df": 3.0, "estimate_df": 1, "reg_covar": 0.0, "df_bounds":'
            ' [1, 100], "structure": "full"}}',
            "estimate_df must be true or false",
        ),
        ("{" + _header() + ', "weights": [1.0], ' + GAUSSIAN + ', "teapot": 1}', "unknown field"),
        (
            "{" + _header(1) + ', "weights": [1.0], ' + GAUSSIAN + ', "feature_names": ["a"]}',
            "unknown field",
        ),
        (
            "{" + _header() + ', "weights": [1.0], ' + GAUSSIAN + ', "feature_names": [1]}',
            "feature_names",
        ),
        (
            "{" + _header() + ', "weights": [1.0], ' + GAUSSIAN + ', "feature_names": ["a", "b"]}',
            "feature_names must be 1 strings",
        ),
        (
            "{"
            + _header()
            + ', "weights": [1.0], '
            + GAUSSIAN
            + ', "preprocessing": {"type": "standardize", "center": [0.0], "scale": [0.0]}}',
            "scale must be positive",
        ),
        (
            "{"
            + _header()
            + ', "weights": [1.0], '
            + GAUSSIAN
            + ', "preprocessing": {"type": "log"}}',
            "preprocessing",
        ),
        ("{" + _header() + ', "weights": [1.0], ' + GAUSSIAN + ', "selection": [1]}', "selection"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply|not a mixture model"),
    ],
)
def test_files_that_should_be_refused_are(contents: str, message: str, tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(contents)
    with pytest.raises(ModelFileError, match=message) as caught:
        load(path)
    assert "\n" not in str(caught.value)


def test_a_binary_file_is_refused_by_name(tmp_path) -> None:
    path = tmp_path / "model.json.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    with pytest.raises(ModelFileError, match=r"model\.json\.gz is not UTF-8 text"):
        load(path)


def test_a_version_1_file_still_loads(tmp_path) -> None:
    path = tmp_path / "old.json"
    path.write_text("{" + _header(1) + ', "weights": [1.0], ' + GAUSSIAN + "}")
    loaded = load(path)
    assert loaded.feature_names is None and loaded.standardization is None
    assert loaded.selection is None
    np.testing.assert_allclose(loaded.score_samples([[0.0]]), [-0.5 * np.log(2 * np.pi)])


def _standardized_fit(seed: int = 4):
    from mixture.preprocessing import Standardization

    X = blobs(seed, 400, 3, 2) * np.array([1.0, 100.0, 0.01]) + np.array([5.0, -300.0, 2.0])
    standardization = Standardization.fit(X)
    from mixture import GaussianFamily

    fitted = MixtureEM(GaussianFamily(2), random_state=0).fit(standardization.transform(X))
    return X, standardization, fitted


def test_metadata_round_trips_exactly(tmp_path) -> None:
    _X, standardization, fitted = _standardized_fit()
    selection = {"criterion": "bic", "value": 12.5, "table": [{"model": "full", "K": 2}]}
    path = save(
        fitted,
        tmp_path / "m.json",
        feature_names=["a", "b", "c"],
        standardization=standardization,
        selection=selection,
    )
    loaded = load(path)
    assert loaded.feature_names == ("a", "b", "c")
    np.testing.assert_array_equal(loaded.standardization.center, standardization.center)
    np.testing.assert_array_equal(loaded.standardization.scale, standardization.scale)
    assert loaded.selection == selection
    np.testing.assert_array_equal(
        load(save(loaded, tmp_path / "again.json")).weights, fitted.weights
    )


def test_a_standardized_model_predicts_in_the_data_units(tmp_path) -> None:
    from scipy.stats import multivariate_normal

    X, standardization, fitted = _standardized_fit()
    loaded = load(save(fitted, tmp_path / "m.json", standardization=standardization))
    Z = standardization.transform(X)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(Z))
    # The density of x is that of a Gaussian mixture with means and covariances mapped back
    # to the data's units: the Jacobian of the standardisation is included.
    scale, center = standardization.scale, standardization.center
    density = sum(
        w * multivariate_normal(m * scale + center, c * np.outer(scale, scale)).pdf(X)
        for w, m, c in zip(
            fitted.weights, fitted.family.means, fitted.family.covariances, strict=True
        )
    )
    np.testing.assert_allclose(loaded.score_samples(X), np.log(density), rtol=1e-10)
    rows, _labels = loaded.sample(20_000, random_state=0)
    # Samples come back in the data's units: their mean is the data's within sampling error.
    spread = X.std(axis=0) / np.sqrt(20_000)
    assert (np.abs(rows.mean(axis=0) - X.mean(axis=0)) < 6 * spread).all()


def test_a_fitted_gaussian_mixture_is_saved_with_its_column_names(tmp_path) -> None:
    pandas = pytest.importorskip("pandas")
    from mixture import GaussianMixture

    X = blobs(5, 300, 2, 2)
    frame = pandas.DataFrame(X, columns=["width", "height"])
    estimator = GaussianMixture(2, random_state=0).fit(frame)
    loaded = load(save(estimator, tmp_path / "gm.json"))
    assert loaded.feature_names == ("width", "height")
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(frame))
    np.testing.assert_array_equal(loaded.weights, estimator.weights_)


def test_an_unfitted_estimator_is_refused(tmp_path) -> None:
    from mixture import GaussianMixture

    with pytest.raises(ValueError, match="expected a fitted"):
        save(GaussianMixture(2), tmp_path / "gm.json")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=50)
@given(
    st.lists(st.integers(2, 8), min_size=1, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_categorical_probabilities_round_trip_exactly(sizes, seed) -> None:
    from mixture import Categorical
    from mixture.model_file import model_from_dict

    rng = np.random.default_rng(seed)
    original = Categorical([rng.dirichlet(np.ones(n)) for n in sizes])
    document = json.loads(json.dumps(model_to_dict(Mixture([1.0], [original]))))
    restored = model_from_dict(document).components[0]
    for before, after in zip(original.probs, restored.probs, strict=True):
        np.testing.assert_array_equal(after, before)  # a round trip is exact, not close
