"""``MixtureClassifier``: discriminant analysis with a Gaussian mixture per class.

Two ways to model each class's density ``f_c(x)``, after mclust's ``MclustDA``:

* ``mode="mclustda"``: every class gets its own mixture, chosen by BIC among numbers of
  components and covariance structures (:func:`mixture.select_model` on the class's rows);
* ``mode="edda"`` (eigenvalue decomposition discriminant analysis): every class is one
  Gaussian, and one covariance structure is shared by all classes (``"EEE"``: a common
  covariance, linear discriminant analysis; ``"VVV"``: one covariance per class, quadratic
  discriminant analysis; ``"VEV"``: common shape, own volume and orientation; ...). The
  structure is chosen by BIC of the classes' summed log-likelihoods. With the classes known
  the fit is one M-step of a ``GaussianFamily`` with one component per class: closed form,
  no EM.

A row's class probabilities are ``pi_c f_c(x) / sum_k pi_k f_k(x)``, computed in log space
with a log-sum-exp, so rows far from every class still get probabilities that sum to 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from mixture._validation import check_container
from mixture.degeneracy import column_resolution
from mixture.exceptions import ConvergenceWarning, NotFittedError
from mixture.gaussian import (
    MCLUST_NAMES,
    SKLEARN_NAMES,
    CovarianceStructure,
    GaussianFamily,
    structure_named,
)
from mixture.model import Mixture
from mixture.result import MixtureResult
from mixture.selection import Candidate, ModelSelection, select_model

__all__ = ["MixtureClassifier"]

MODES = ("mclustda", "edda")

#: Default structures per mode: EDDA's fits are closed form, so all of mclust's 14 cost
#: little; MclustDA runs EM for every structure and number of components of every class, and
#: the four scikit-learn structures keep it about ten times faster (iris: 1.5 s instead of
#: 14 s per fit).
DEFAULT_COMPONENTS = (1, 2, 3, 4, 5)
"""Numbers of components tried per class by default (mclust's ``G = 1:5``)."""

DEFAULT_STRUCTURES = {"mclustda": SKLEARN_NAMES, "edda": MCLUST_NAMES}


class MixtureClassifier(ClassifierMixin, BaseEstimator):
    """Classify rows by Gaussian mixture densities fitted per class (mclust's MclustDA/EDDA).

    Parameters
    ----------
    mode : {'mclustda', 'edda'}, default 'mclustda'
        ``'mclustda'``: a mixture per class, its number of components and covariance
        structure chosen by BIC on that class's rows alone. ``'edda'``: one Gaussian per
        class, one covariance structure shared by all classes, chosen by the BIC of the
        classes' summed log-likelihoods.
    n_components : int or iterable of int, optional
        Numbers of components tried per class (``'mclustda'``; default 1 to 5, as
        mclust's); numbers larger than a class's rows are skipped for that class.
        ``'edda'`` fits one component per class and accepts only None or 1.
    structures : str, CovarianceStructure or iterable of them, optional
        Covariance structures tried, by name (``"full"``, ``"VEV"``, ...: the names of
        :func:`mixture.gaussian.structure_named`) or as objects. Default: scikit-learn's four
        (full, tied, diag, spherical) for ``'mclustda'``, mclust's 14 for ``'edda'``.
    priors : array-like of shape (n_classes,), optional
        Prior class probabilities in the order of ``classes_``; by default the classes'
        frequencies in the training data.
    reg_covar : float, default 1e-6
        Added to the diagonal of every covariance.
    n_init : int, default 1
        k-means starts per candidate mixture (``'mclustda'``; see :func:`select_model`).
    tol : float, default 1e-6
        EM convergence tolerance per candidate (``'mclustda'``).
    max_iter : int, default 1000
        EM iterations per candidate (``'mclustda'``).
    random_state : None, int or RandomState
        Seeds the candidates' starts. Every class uses the same seed, so a class's model
        depends on its rows only (not on its label or on the other classes).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    class_count_ : ndarray of shape (n_classes,)
        Training rows per class.
    class_prior_ : ndarray of shape (n_classes,)
        The prior class probabilities used (``priors``, or the class frequencies).
    models_ : tuple of Mixture
        The fitted density of each class, in the order of ``classes_`` (for ``'edda'``, a
        one-component mixture cut from the shared fit).
    selections_ : tuple of ModelSelection
        ``'mclustda'``: each class's table of candidates (number of components, structure,
        BIC), in the order of ``classes_``.
    selection_ : ModelSelection
        ``'edda'``: the table of shared structures; each candidate's ``result`` is the
        joint fit with one component per class (weights: the class frequencies).
    structure_ : CovarianceStructure
        ``'edda'``: the chosen shared structure.
    n_iter_ : ndarray of shape (n_classes,)
        EM iterations of each class's chosen mixture (``'mclustda'``); 1 for ``'edda'``,
        whose fit is one M-step.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Only when ``X`` has string column names.

    Raises
    ------
    ValueError
        From ``fit``: fewer than two classes; a class whose every candidate model is
        degenerate (too few rows for the structure, or no spread in some direction): the
        message names the class; bad parameter values.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "mode": [StrOptions(set(MODES))],
        "n_components": "no_validation",  # an int or an iterable: checked in fit
        "structures": "no_validation",  # names or objects: checked in fit
        "priors": ["array-like", None],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        mode: str = "mclustda",
        *,
        n_components: int | Iterable[int] | None = None,
        structures: Any = None,
        priors: Any = None,
        reg_covar: float = 1e-6,
        n_init: int = 1,
        tol: float = 1e-6,
        max_iter: int = 1000,
        random_state: Any = None,
    ) -> None:
        self.mode = mode
        self.n_components = n_components
        self.structures = structures
        self.priors = priors
        self.reg_covar = reg_covar
        self.n_init = n_init
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    # -- fitting ----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MixtureClassifier:
        """Fit each class's density and store the class priors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (any sortable labels: integers, strings, ...).

        Returns
        -------
        self
        """
        check_container(X)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"MixtureClassifier needs at least two classes; y has one class "
                f"({_shown(classes[0])}) only"
            )
        counts = np.bincount(codes, minlength=classes.size)
        priors = self._checked_priors(counts)
        structures = self._checked_structures()
        fitted: dict[str, Any] = {}
        if self.mode == "edda":
            self._check_edda_components()
            selection, models = _fit_edda(X, codes, classes, structures, self.reg_covar)
            fitted["selection_"] = selection
            fitted["structure_"] = selection.best_model.family.structure
            fitted["n_iter_"] = np.ones(classes.size, dtype=np.int64)  # one closed-form M-step
        else:
            grid = self._checked_grid()
            seed = self._seed()
            selections = tuple(
                self._select_class(X[codes == c], label, grid, structures, seed)
                for c, label in enumerate(classes)
            )
            models = tuple(selection.best_model for selection in selections)
            fitted["selections_"] = selections
            fitted["n_iter_"] = np.array([model.n_iter for model in models], dtype=np.int64)
        for attribute in ("selections_", "selection_", "structure_"):
            if hasattr(self, attribute):  # a refit in the other mode leaves no stale table
                delattr(self, attribute)
        for attribute, value in fitted.items():
            setattr(self, attribute, value)
        self.classes_ = classes
        self.class_count_ = counts
        self.class_prior_ = priors
        self.models_ = models
        return self

    def _select_class(
        self,
        rows: np.ndarray,
        label: Any,
        grid: tuple[int, ...],
        structures: tuple[CovarianceStructure, ...],
        seed: int,
    ) -> ModelSelection:
        """One class's grid of mixtures ranked by BIC (a clear error naming the class)."""
        counts = [k for k in grid if k <= rows.shape[0]]
        if not counts:
            raise ValueError(
                f"class {_shown(label)} has {rows.shape[0]} row(s), fewer than the smallest number "
                f"of components tried ({min(grid)})"
            )
        selection = select_model(
            rows,
            n_components=counts,
            structures=structures,
            criterion="bic",
            n_init=self.n_init,
            tol=self.tol,
            max_iter=self.max_iter,
            reg_covar=self.reg_covar,
            random_state=seed,
        )
        if not any(c.degenerate is None for c in selection.candidates):
            first = selection.candidates[0]
            raise ValueError(
                f"class {_shown(label)} ({rows.shape[0]} rows): every candidate mixture is "
                f"degenerate (for instance {first.model} with {first.n_components} "
                f"component(s): {first.degenerate}); give that class more rows, or try fewer "
                "components, simpler structures (e.g. 'spherical') or a larger reg_covar"
            )
        return selection

    def _checked_priors(self, counts: np.ndarray) -> np.ndarray:
        if self.priors is None:
            return counts / counts.sum()
        priors = np.asarray(self.priors, dtype=np.float64)
        if priors.shape != counts.shape:
            raise ValueError(
                f"priors must have one entry per class ({counts.size} classes); got shape "
                f"{priors.shape}"
            )
        if not np.isfinite(priors).all() or (priors < 0).any():
            raise ValueError(f"priors must be finite and non-negative; got {priors.tolist()}")
        if abs(priors.sum() - 1.0) > 1e-8:
            raise ValueError(f"priors must sum to 1; they sum to {float(priors.sum())!r}")
        return priors

    def _checked_structures(self) -> tuple[CovarianceStructure, ...]:
        given = self.structures
        if given is None:
            given = DEFAULT_STRUCTURES[self.mode]
        elif isinstance(given, (str, CovarianceStructure)):
            given = (given,)
        try:
            items = tuple(given)
        except TypeError:
            raise ValueError(
                "structures must be a structure name, a CovarianceStructure or an iterable of "
                f"them; got {self.structures!r}"
            ) from None
        if not items:
            raise ValueError("structures is empty; give at least one covariance structure")
        structures = []
        for item in items:
            if isinstance(item, CovarianceStructure):
                structure = item
            elif isinstance(item, str):
                structure = structure_named(item)  # the one registry of names
            else:
                raise ValueError(
                    "structures must hold structure names (such as 'full' or 'VEV') or "
                    f"CovarianceStructure objects; got {item!r}"
                )
            if structure not in structures:
                structures.append(structure)
        return tuple(structures)

    def _checked_grid(self) -> tuple[int, ...]:
        given = DEFAULT_COMPONENTS if self.n_components is None else self.n_components
        values = (given,) if isinstance(given, Integral) else given
        try:
            grid = tuple(values)
        except TypeError:
            raise ValueError(
                f"n_components must be an int or an iterable of ints; got {given!r}"
            ) from None
        if not grid:
            raise ValueError("n_components is empty; give at least one number of components")
        for k in grid:
            if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
                raise ValueError(f"n_components must hold integers >= 1; got {k!r}")
        return tuple(sorted({int(k) for k in grid}))

    def _check_edda_components(self) -> None:
        given = self.n_components
        if given is not None and self._checked_grid() != (1,):
            raise ValueError(
                f"mode='edda' fits one Gaussian per class; n_components must be 1 (or None); "
                f"got {given!r}. Use mode='mclustda' for mixtures per class"
            )

    def _seed(self) -> int:
        """One seed for every class: an int as given, else drawn once per fit."""
        state = self.random_state
        if isinstance(state, Integral) and not isinstance(state, bool):
            return int(state)
        if isinstance(state, np.random.RandomState):
            return int(state.randint(np.iinfo(np.int32).max))
        return int(np.random.SeedSequence().entropy % 2**63)

    # -- predicting -------------------------------------------------------------------------
    def _log_joint(self, X: Any) -> np.ndarray:
        """``log pi_c + log f_c(x)`` for every row and class, shape ``(n, n_classes)``."""
        try:
            check_is_fitted(self, "models_")
        except SklearnNotFittedError:
            raise NotFittedError(
                "This MixtureClassifier instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            ) from None
        check_container(X)
        data = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        joint = np.empty((data.shape[0], self.classes_.size), dtype=np.float64)
        for c, model in enumerate(self.models_):
            joint[:, c] = model.score_samples(data)
        with np.errstate(divide="ignore"):  # a zero prior gives -inf: never that class
            joint += np.log(self.class_prior_)
        return joint

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log posterior class probabilities, shape ``(n_samples, n_classes)``.

        ``log pi_c + log f_c(x) - logsumexp_k(log pi_k + log f_k(x))``: no underflow for
        rows far from every class.
        """
        joint = self._log_joint(X)
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior class probabilities, shape ``(n_samples, n_classes)``; rows sum to 1."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape ``(n_samples,)``."""
        joint = self._log_joint(X)
        return self.classes_[np.argmax(joint, axis=1)]


def _shown(label: Any) -> str:
    """A class label as users wrote it: ``'tiny'`` or ``3``, not ``np.str_('tiny')``."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def _fit_edda(
    X: np.ndarray,
    codes: np.ndarray,
    classes: np.ndarray,
    structures: tuple[CovarianceStructure, ...],
    reg_covar: float,
) -> tuple[ModelSelection, tuple[Mixture, ...]]:
    """One Gaussian per class under each shared structure; the lowest BIC kept.

    With the classes known, the maximum-likelihood fit is one M-step of a family with one
    component per class, from one-hot responsibilities. Its log-likelihood is that of the
    rows under their own class's Gaussian, ``sum_i log f_{c(i)}(x_i)`` (the summed per-class
    log-likelihoods), and BIC ``= -2 log L + p log n`` with ``p`` the means' and the
    structure's covariance parameters (the class proportions are the same for every
    structure and not counted).
    """
    n_rows, n_classes = codes.size, classes.size
    one_hot = np.zeros((n_rows, n_classes), dtype=X.dtype)
    one_hot[np.arange(n_rows), codes] = 1.0
    frequencies = np.bincount(codes, minlength=n_classes) / n_rows
    resolution = column_resolution(X)
    candidates = []
    for structure in structures:
        template = GaussianFamily(n_classes, structure, reg_covar=reg_covar)
        with warnings.catch_warnings(record=True) as caught:
            # An iterative M-step (EVE, VVE, ...) that stops at its max_iter is recorded in
            # the candidate (converged=False, the reason in its result's stop_reason), as
            # select_model's table records EM runs; on wine VVE's alternation is then
            # within 1e-11 of its limit in log-likelihood, far below any BIC difference.
            warnings.simplefilter("always", ConvergenceWarning)
            family = template.m_step(template.statistics(X, one_hot))
        unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        for other in caught:
            if other not in unconverged:
                warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
        log_likelihood = float(family.log_density(X)[np.arange(n_rows), codes].sum())
        p = family.n_parameters
        bic = -2.0 * log_likelihood + p * math.log(n_rows)
        found = family.degeneracies(frequencies, float(n_rows), resolution)
        degenerate = None
        if found:
            label = classes[found[0].component]
            degenerate = f"class {_shown(label)}: {found[0].reason}"
        result = MixtureResult(
            Mixture(frequencies, family),
            log_likelihood_history=[],
            converged=not unconverged,
            stop_reason=str(unconverged[0].message)
            if unconverged
            else "closed form: one M-step from the known classes",
        )
        candidates.append(
            Candidate(
                model=structure.name,
                n_components=n_classes,
                log_likelihood=log_likelihood,
                n_parameters=p,
                bic=bic,
                aic=-2.0 * log_likelihood + 2.0 * p,
                icl=bic,  # the classes are known: no classification entropy
                converged=not unconverged,
                n_iter=1,  # one M-step
                degenerate=degenerate,
                result=result,
            )
        )
    selection = ModelSelection(tuple(candidates), "bic")
    if all(c.degenerate is not None for c in candidates):
        reasons = "; ".join(f"{c.model}: {c.degenerate}" for c in candidates[:3])
        raise ValueError(
            f"mode='edda': every shared structure gives a degenerate class Gaussian ({reasons}"
            f"{'; ...' if len(candidates) > 3 else ''}); give those classes more rows, try "
            "'tied' (a covariance shared by all classes) or a larger reg_covar"
        )
    best = selection.best
    return selection, _class_models(best.result.family)


def _class_models(family: GaussianFamily) -> tuple[Mixture, ...]:
    """Each component of a joint EDDA fit as a one-component mixture of its own."""
    single = family.structure.component_structure  # e.g. tied -> full, EEI -> diag
    covariances = family.covariances
    return tuple(
        Mixture(
            np.ones(1),
            GaussianFamily(
                1,
                single,
                reg_covar=family.reg_covar,
                means=family.means[c : c + 1],
                covariances=np.asarray(family.structure.form.component_covariance(covariances, c))[
                    None
                ],
            ),
        )
        for c in range(family.n_components)
    )
