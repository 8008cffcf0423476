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
