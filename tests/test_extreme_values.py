"""Values at the edge of float64 give a finite answer or a clear error, never NaN or a crash."""

from __future__ import annotations

import numpy as np
import pytest

from mixture import MixtureEM, StudentT, Uniform


def test_student_t_ignores_a_far_row_of_weight_zero() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 1))
    X[5, 0] = 1e155  # its squared distance overflows to infinity
    weights = np.ones(300)
    weights[5] = 0.0
    component = StudentT([0.0], [[1.0]], 5.0)
    fitted = component.from_statistics(component.statistics(X, weights))
    kept = np.delete(X, 5, axis=0)
    expected = component.from_statistics(component.statistics(kept, np.ones(299)))
    assert np.isfinite(fitted.df) and np.isfinite(fitted.loc).all()
    np.testing.assert_allclose(fitted.loc, expected.loc, rtol=1e-12)
    np.testing.assert_allclose(fitted.df, expected.df, rtol=1e-9)


def test_student_t_mixture_with_a_huge_value_gives_a_clear_error_or_a_finite_fit() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 1))
    X[3, 0] = 1e154
    template = [StudentT([0.0], [[1.0]], 5.0), StudentT([1.0], [[1.0]], 5.0)]
    try:
        result = MixtureEM(template, random_state=0).fit(X)
    except ValueError as exc:  # DegenerateComponentError or a row error: both name the cause
        assert "NaN" not in str(exc) and "\n" not in str(exc)
    else:
        assert np.isfinite(result.weights).all()
        assert all(np.isfinite(c.loc).all() and np.isfinite(c.df) for c in result.components)


def test_a_uniform_box_whose_width_overflows_is_refused() -> None:
    with pytest.raises(ValueError, match="width overflows"):
        Uniform([-1e308], [1e308])
    wide = Uniform([-1e307], [1e307])
    assert np.isfinite(wide.log_density(np.array([[0.0]]))).all()
