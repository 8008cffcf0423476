"""What a fit returns: the fitted mixture and the record of the EM run that produced it.

Its own module, below both the engine that makes it and the callbacks that receive the
state of a run, so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mixture.model import Mixture

__all__ = ["MixtureResult"]


class MixtureResult(Mixture):
    """A fitted mixture plus the record of the EM run that produced it.

    Offers everything :class:`~mixture.Mixture` does (``predict``, ``predict_proba``,
    ``score_samples``, ``sample``, ...) and can warm-start another fit.

    Attributes
    ----------
    log_likelihood_history : ndarray of shape (n_iter,)
        Mean log-likelihood per row at each iteration, of the parameters before that
        iteration's M-step. With ``reg_covar = 0`` it never decreases (EM's monotonicity) up
        to round-off; ``reg_covar > 0`` makes the M-step slightly off the exact maximiser, and
        the log-likelihood may then dip by an amount of second order in ``reg_covar``.
    lower_bound : float
        The last entry of the history (scikit-learn's ``lower_bound_``).
    converged : bool
        Whether a convergence callback ended the run.
    n_iter : int
        Number of EM iterations (M-steps) performed.
    stop_reason : str
    run : int
        Index of the restart that produced this result.
    """

    def __init__(
        self,
        mixture: Mixture,
        *,
        log_likelihood_history: Sequence[float],
        converged: bool,
        stop_reason: str,
        run: int = 0,
    ) -> None:
        super().__init__(
            mixture.weights,
            mixture.family,
            fixed_weights=mixture.fixed_weights,
            missing=mixture.missing,
        )
        self.log_likelihood_history = np.asarray(log_likelihood_history, dtype=np.float64)
        self.converged = bool(converged)
        self.stop_reason = stop_reason
        self.run = run

    def __repr__(self) -> str:
        return (
            f"MixtureResult(weights={self.weights.round(4).tolist()}, {self.family!r}, "
            f"converged={self.converged}, n_iter={self.n_iter}, "
            f"lower_bound={self.lower_bound:.6g})"
        )

    @property
    def n_iter(self) -> int:
        return int(self.log_likelihood_history.shape[0])

    @property
    def lower_bound(self) -> float:
        """Last log-likelihood of the history (``-inf`` if no iteration ran)."""
        if not self.log_likelihood_history.size:
            return -np.inf
        return float(self.log_likelihood_history[-1])
