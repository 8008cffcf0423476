"""The declared authoring layer: what a declaration gives, its guards, old files, aliases."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from mixture import (
    Bernoulli,
    Categorical,
    DegenerateComponentError,
    Mixture,
    MixtureEM,
    Parameter,
    Poisson,
    Setting,
    StudentT,
    Uniform,
    WeightedSumsComponent,
    model_file,
)
from mixture.constraints import (
    Box,
    Number,
    non_negative_number,
    non_negative_reals,
    positive,
    probability,
    real,
)
from mixture.declared import WeightedSums
from mixture.file_types import registered_class
from mixture.testing import check_component

DATA = Path(__file__).parent / "data"


class Shifted(WeightedSumsComponent):
    """Exponential rows shifted by a fixed offset: a parameter and a setting."""

    rate = Parameter(positive, "Rates.")
    offset = Setting(non_negative_number, 0.0, "Fixed shift.")
    support = non_negative_reals

    def log_density_inside(self, X):
        return np.log(self.rate).sum() - (X - self.offset) @ self.rate

    def row_features(self, X):
        return (X - self.offset,)

    def from_means(self, means, weight):
        return self.replace(rate=1.0 / means[0])

    def sample(self, n_samples, rng):
        draws = rng.exponential(1.0 / self.rate, (n_samples, self.n_features))
        return draws + self.offset


def test_construction_checks_each_value_and_names_it() -> None:
    with pytest.raises(ValueError, match=r"rate must lie in \(0, inf\); rate\[1\] is -2.0"):
        Shifted([1.0, -2.0])
    with pytest.raises(ValueError, match="rate contains NaN"):
        Shifted([np.nan])
    with pytest.raises(ValueError, match="offset must be a finite number"):
        Shifted([1.0], offset=-1.0)
    with pytest.raises(ValueError, match="offset must be a real number"):
        Shifted([1.0], offset=True)
    with pytest.raises(TypeError, match="needs a value for 'rate'"):
        Shifted()
    with pytest.raises(TypeError, match="no parameter or setting 'scale'"):
        Shifted([1.0], scale=2.0)
    with pytest.raises(TypeError, match="two values for 'rate'"):
        Shifted([1.0], rate=[2.0])
    with pytest.raises(TypeError, match="at most 1 positional"):
        Shifted([1.0], 0.5)


def test_per_feature_parameters_must_agree_in_length() -> None:
    with pytest.raises(ValueError, match="one entry per feature each; low has 2, high has 3"):
        Uniform([0.0, 0.0], [1.0, 1.0, 1.0])


def test_a_bad_default_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(ValueError, match="the default of weight must be a finite number in"):

        class _Bad(WeightedSumsComponent):
            rate = Parameter(positive)
            weight = Setting(Number(0.0, 1.0), 2.0)


def test_values_are_read_only_and_the_component_immutable() -> None:
    component = Shifted([1.5, 0.5], offset=0.25)
    with pytest.raises(ValueError, match="read-only"):
        component.rate[0] = 3.0
    given = np.array([1.0, 2.0])
    other = Shifted(given)
    given[0] = 99.0  # the component holds its own copy
    assert other.rate.tolist() == [1.0, 2.0]


def test_repr_equality_hash_pickle_and_replace() -> None:
    component = Shifted([1.5, 0.5], offset=0.25)
    assert repr(component) == "Shifted(rate=[1.5, 0.5], offset=0.25)"
    assert repr(Shifted([1.0])) == "Shifted(rate=[1.0])"  # settings at their default are left out
    assert component == Shifted(rate=[1.5, 0.5], offset=0.25)
    assert component != Shifted([1.5, 0.5])
    assert component != Poisson([1.5, 0.5])
    assert len({component, Shifted([1.5, 0.5], offset=0.25)}) == 1
    restored = pickle.loads(pickle.dumps(component))
    assert restored == component and type(restored) is Shifted
    moved = component.replace(rate=[2.0, 2.0])
    assert moved.offset == 0.25 and moved.rate.tolist() == [2.0, 2.0]
    assert component.parameters.keys() == {"rate"} and component.settings == {"offset": 0.25}
    assert component.n_features == 2 and component.n_parameters == 2


def test_a_warm_start_takes_parameters_and_keeps_settings() -> None:
    warm = Shifted([1.0], offset=0.5).with_parameters_from(Shifted([3.0]))
    assert warm == Shifted([3.0], offset=0.5)
    with pytest.raises(ValueError, match="cannot start"):
        Shifted([1.0]).with_parameters_from(Shifted([1.0, 2.0]))
    with pytest.raises(ValueError, match="cannot start"):
        Shifted([1.0]).with_parameters_from(Poisson([1.0]))


def test_rows_outside_the_support_get_minus_inf_and_are_left_out() -> None:
    component = Shifted([2.0])
    X = np.array([[0.5], [-1.0], [2.0]])
    density = component.log_density(X)
    assert density[1] == -np.inf and np.isfinite(density[[0, 2]]).all()
    stats = component.statistics(X, np.ones(3))
    assert stats.total_weight == 2.0
    np.testing.assert_allclose(stats.sums[0], [2.5], rtol=1e-15)


def test_the_guards_are_written_once() -> None:
    component = Shifted([2.0])
    with pytest.raises(TypeError, match="Shifted's statistics"):
        component.from_statistics(Poisson([1.0]).statistics(np.ones((2, 1)), np.ones(2)))
    with pytest.raises(TypeError, match="Shifted's statistics"):
        component.from_statistics(WeightedSums(Poisson, 1.0, (np.ones(1),)))
    with pytest.raises(DegenerateComponentError, match="zero total weight"):
        component.from_statistics(component.statistics(np.ones((2, 1)), np.zeros(2)))
    # An estimate outside its constraint (every row at the offset: an infinite rate).
    with pytest.raises(DegenerateComponentError, match="outside their constraints"):
        with np.errstate(divide="ignore"):
            component.fit(np.zeros((3, 1)))


def test_a_users_class_registers_under_its_module_path_and_round_trips(tmp_path) -> None:
    assert Shifted.file_type == f"{__name__}.Shifted"
    assert registered_class(Shifted.file_type) is Shifted
    assert Poisson.file_type == "Poisson"  # the package's own keep their plain names
    model = Mixture([0.5, 0.5], [Shifted([1.0]), Shifted([4.0], offset=1.0)])
    loaded = model_file.load(model_file.save(model, tmp_path / "shifted.json"))
    assert loaded.mixture.components == model.components


def test_a_name_taken_by_another_class_is_refused() -> None:
    with pytest.raises(ValueError, match="'Poisson' is taken"):

        class _Counts(WeightedSumsComponent):
            file_type = "Poisson"
            rate = Parameter(positive)


def test_a_declared_component_passes_the_kit_with_nothing_left_out() -> None:
    report = check_component(
        Shifted([1.5, 0.3], offset=0.1),
        invalid=[{"rate": [-1.0]}, {"rate": [1.0], "offset": -1.0}],
        n_parameters=2,
        n_samples=5000,
    )
    assert "support: rows outside get -inf, are left out, and a mixed fit works" in report.passed
    assert "model file round trip" in report.passed
    # Only what the class gives no means for (no scipy twin, no mean and variance).
    assert set(report.not_run) == {"density vs scipy", "sample distribution", "sample moments"}


def test_supports_list_values_outside_themselves() -> None:
    box = Box(np.array([0.0, 1.0]), np.array([2.0, 4.0]), integers=True)
    outside = box.outside_values(2)
    for values in outside:
        for feature in range(2):
            row = np.array([[1.0, 2.0]])
            row[0, feature] = values[feature]
            assert not box.contains(row)[0]
    assert real.check([1.0], "x").tolist() == [1.0]
    assert probability.check([0.0, 1.0], "p").tolist() == [0.0, 1.0]


def test_model_files_written_before_the_declared_layer_still_load() -> None:
    saved = json.loads((DATA / "model_files_before_declared.json").read_text(encoding="utf-8"))
    kinds = set()
    for name, case in saved.items():
        if name == "written_by":
            continue
        model = model_file.model_from_dict(case["file"])
        kinds |= {type(c).__name__ for c in model.mixture.components}
        np.testing.assert_allclose(
            model.mixture.score_samples(np.array(case["rows"])),
            case["score_samples"],
            rtol=64 * np.finfo(np.float64).eps,
        )
    assert {"Poisson", "Independent", "Bernoulli", "Categorical", "StudentT", "Uniform"} <= kinds
    bernoulli = model_file.model_from_dict(saved["bernoulli"]["file"]).mixture.components[0]
    assert bernoulli == Bernoulli([0.25, 1.0], pseudocount=0.5)
    categorical = model_file.model_from_dict(saved["categorical"]["file"]).mixture.components[1]
    assert categorical == Categorical([[0.9, 0.1], [0.3, 0.3, 0.4]], pseudocount=1.0)
    student = model_file.model_from_dict(saved["student_t_uniform"]["file"]).mixture.components[0]
    assert student.df_bounds == (1.0, 200.0) and student.reg_covar == 1e-4
    assert isinstance(student, StudentT)


@pytest.mark.parametrize("old", ["mixture.io", "mixture.component"])
def test_renamed_modules_keep_a_deprecated_alias(old: str, monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
        module = importlib.import_module(old)
    assert module.__all__


def test_mixture_statistics_family_is_a_deprecated_alias() -> None:
    X = np.random.default_rng(0).poisson(3.0, (50, 1)).astype(float)
    engine = MixtureEM([Poisson([1.0]), Poisson([5.0])], random_state=0)
    result = engine.fit(X)
    statistics = engine.e_step(X, result)
    with pytest.warns(DeprecationWarning, match="family_statistics"):
        alias = statistics.family
    assert alias is statistics.family_statistics
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = statistics.family_statistics


def test_statistics_of_a_fixed_component_count_only_rows_inside() -> None:
    box = Uniform([0.0], [1.0])
    stats = box.statistics(np.array([[0.5], [2.0]]), np.ones(2))
    assert stats.total_weight == 1.0
    assert box.from_statistics(stats) is box
