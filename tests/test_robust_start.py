"""The default start of model selection: several starts, best proper fit, monotone in K."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs, random_mixture

from mixture import select_model
from mixture.gaussian import DefaultPrior
from mixture.robust_start import split_broadest


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_a_split_with_no_offset_keeps_the_density(structure) -> None:
    mixture = random_mixture(structure, 3, 2, seed=4)
    X = mixture.sample(300, random_state=1)[0]
    split = split_broadest(mixture, offset=0.0)
    assert split.n_components == 4
    # Two halves of one component: the same density, computed through one more term.
    np.testing.assert_allclose(split.score_samples(X), mixture.score_samples(X), rtol=1e-12)
    moved = split_broadest(mixture, offset=0.5)
    assert not np.allclose(moved.family.means[-1], moved.family.means[-2])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_selected_log_likelihood_never_decreases_in_k(seed) -> None:
    X = blobs(seed, 240, 2, 3)
    selection = select_model(X, n_components=range(1, 7), random_state=seed)
    for name in ("full", "tied", "diag", "spherical"):
        chain = [c.log_likelihood for c in selection.candidates if c.model == name]
        steps = np.diff(chain)
        # Round-off only: the duplicate fallback reproduces the K - 1 density exactly.
        assert (steps >= -1e-9 * np.abs(chain[1:])).all(), (name, chain)


def test_every_candidate_says_which_start_won() -> None:
    X = blobs(3, 200, 2, 2)
    selection = select_model(X, n_components=range(1, 4), random_state=0)
    starts = {c.start for c in selection.candidates}
    assert starts <= {"hierarchical", "k-means", "split", "duplicate"}
    assert all(c.start is not None for c in selection.candidates)


def test_a_prior_reaches_every_candidate() -> None:
    X = blobs(5, 200, 2, 2)
    selection = select_model(X, n_components=[1, 2], random_state=0, prior=DefaultPrior())
    for candidate in selection.candidates:
        assert candidate.result.family.prior is not None
        assert candidate.result.family.log_prior() != 0.0


def test_duplicated_rows_need_the_prior_to_avoid_a_collapse() -> None:
    rng = np.random.default_rng(6)
    X = np.concatenate([rng.normal(0.0, 1.0, (120, 2)), np.tile([[3.0, 3.0]], (12, 1))])
    plain = select_model(X, n_components=range(1, 5), random_state=0)
    with_prior = select_model(
        X, n_components=range(1, 5), random_state=0, prior=DefaultPrior(), reg_covar=0.0
    )
    assert plain.best.degenerate is None and with_prior.best.degenerate is None
    assert len(with_prior.degenerate) <= len(plain.degenerate)
