"""Model files: exact round trips, atomic writes, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs

from mixture import Component, Gaussian, GivenParameters, Mixture, MixtureEM
from mixture.components.uniform import Uniform
from mixture.family import ComponentList
from mixture.io import SCHEMA_VERSION, ModelFileError, load, mixture_to_dict, save
from mixture.model import Mixture as MixtureModel


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
            "lacks the field 'covariance'",
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
        mixture_to_dict(Mixture([1.0], [Opaque()]))


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
