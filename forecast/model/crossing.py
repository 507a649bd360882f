"""Probabilistic daily count model of small-boat arrivals (a two-part hurdle model).

:class:`CrossingModel` follows the scikit-learn estimator contract. For each day it
gives the probability of at least one crossing, the expected number of people, any
quantile (median, 10/50/80/90 %...) and ``P(people > N)`` for any ``N``.

Structure
---------
1. **Hurdle**: a ``HistGradientBoostingClassifier`` gives ``P(any crossing)``,
   recalibrated by Platt scaling fitted on out-of-fold (time-blocked) predictions.
2. **Size**: a ``HistGradientBoostingRegressor`` with Poisson loss (log link) gives the
   conditional mean ``mu`` of people on days with crossings.
3. **Spread**: the empirical distribution of out-of-fold log residuals
   ``log(y / mu)`` on positive days (split in bins of ``mu``, since small days scatter
   more in relative terms) forms the conditional distribution
   ``y = mu * exp(c0 + c1 * logit(p) + r)``. Two corrections, both out of fold
   (``spread_folds="adjusted"``, ``spread_shift_by_p``):

   * the residuals of the time-blocked folds see the neighbouring weeks in training,
     forecasts do not: they are shifted (median) and stretched (interquartile range) to
     match the residuals of the same days predicted forward in time (size models fitted
     only on the days before each of the last 6 blocks of 56 days). Without this the
     rolling backtest had 15-16 % of crossing days above the conditional 90 % quantile;
   * a line in the calibrated ``logit(p)`` shifts the residuals: a crossing on a day
     the hurdle part finds unlikely tends to be smaller than ``mu`` says.

The predictive distribution is the mixture ``P(Y = 0) = 1 - p`` and
``Y | Y > 0 ~ mu * exp(c0 + c1 * logit(p) + r)``, with the residuals' distribution
linearly interpolated between its values (CDF positions :func:`plotting_positions`);
its quantiles (level ``l``: 0 when ``l <= 1 - p``, else the size quantile at
``(l - (1 - p)) / p``), exceedance probabilities and mean follow in closed form from
the same interpolated distribution, so ``P(Y > q_l) = 1 - l``. Counts are never
negative. Coverage of the intervals is checked in the backtest, not assumed.

Features that carry nothing in the training data (observed on fewer than max(10, 2 %)
of the days, e.g. ``visibility_min`` from the Open-Meteo archive, or constant) are left
out at fit and listed in ``dropped_features_``; they need not be present at predict.
Features are binned once per fit with the same rule as scikit-learn's weighted binning
(vectorised: scikit-learn's per-threshold weighted percentiles made each fit about 8
times slower); a column with no observed value in a cross-validation fold is filled with
a constant there (scikit-learn's binning fails on an all-NaN column). Fits and
predictions run single-threaded (:func:`single_threaded`).

Saved models use skops with an explicit list of trusted types (no pickle) and carry
their training range, feature names, weather source and code version.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

try:  # private scikit-learn API, used only by _fit (guarded: public path if missing)
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    from sklearn.ensemble._hist_gradient_boosting.binning import (
        _find_binning_thresholds as _sk_find_binning_thresholds,
    )
except ImportError:  # pragma: no cover - depends on the scikit-learn version
    _BinMapper = None
    _sk_find_binning_thresholds = None

from forecast import __version__, fileio
from forecast.errors import ConfigError, DataFormatError

#: Quantile levels forming the forecast grid used for CRPS (midpoints of 100 bins) and
#: the named quantiles reported to users.
GRID_LEVELS = (np.arange(100) + 0.5) / 100.0
NAMED_LEVELS = {
    "q025": 0.025,
    "q05": 0.05,
    "q10": 0.10,
    "q20": 0.20,
    "q25": 0.25,
    "q50": 0.50,
    "q75": 0.75,
    "q80": 0.80,
    "q90": 0.90,
    "q95": 0.95,
    "q975": 0.975,
}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(z)


def _platt(score: np.ndarray, y: np.ndarray, n_iter: int = 50) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * logit(score) + b)`` by Newton's method (Platt scaling)."""
    z = _logit(score)
    a, b = 1.0, 0.0
    for _ in range(n_iter):
        p = _sigmoid(a * z + b)
        w = np.maximum(p * (1 - p), 1e-9)
        g = np.array([np.sum((p - y) * z), np.sum(p - y)])
        h = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        h += 1e-6 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    if not (np.isfinite(a) and np.isfinite(b)) or not 0.2 <= a <= 5.0:
        return 1.0, 0.0
    return float(a), float(b)


_SINGLE_THREADED = False


def _small_codes(X: np.ndarray) -> np.ndarray | None:
    """``X`` as integer codes (NaN as 0) when every observed value is a whole number
    in 0..255, as the bin codes ``CrossingModel`` fits on are; else None."""
    Xz = np.where(np.isnan(X), 0.0, X)
    if Xz.size == 0 or Xz.min() < 0 or Xz.max() > 255:
        return None
    codes = Xz.astype(np.intp)
    return codes if np.array_equal(codes, Xz) else None


def _fast_bin_fit(mapper, X, sample_weight, codes: np.ndarray | None = None) -> bool:
    """Fit scikit-learn's ``_BinMapper`` on ``X`` the way its own ``fit`` does, without
    its per-feature joblib dispatch and extra sort (most of the fixed cost of a fit on
    bin codes). Sets the same attributes to the same values; returns False (nothing
    done) when the mapper or data is outside the simple case handled here. ``codes``:
    ``X`` as small whole numbers (:func:`_small_codes`), whose distinct values per
    column are then counted instead of sorted (same values).

    PRIVATE scikit-learn API (``_BinMapper`` attributes, checked against 1.9): guarded
    by the checks below and in ``_fit``, which falls back to the public ``fit``.
    """
    if _BinMapper is None or type(mapper) is not _BinMapper:
        return False
    needed = ("n_bins", "is_categorical", "known_categories", "subsample")
    if not all(hasattr(mapper, a) for a in needed):
        return False
    if mapper.is_categorical is not None and np.any(mapper.is_categorical):
        return False
    if mapper.known_categories is not None and any(c is not None for c in mapper.known_categories):
        return False
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype != np.float64:
        return False
    if not (3 <= mapper.n_bins <= 256):
        return False
    if mapper.subsample is not None and X.shape[0] > mapper.subsample:
        return False
    max_bins = mapper.n_bins - 1
    valid = ~np.isnan(X)
    if sample_weight is not None:
        valid &= (np.asarray(sample_weight) != 0)[:, None]
    present = None
    if codes is not None:  # which of the codes 0..255 each column holds
        p = X.shape[1]
        flat = (codes + 256 * np.arange(p))[valid]
        present = np.bincount(flat, minlength=256 * p).reshape(p, 256) > 0
    thresholds = []
    for j in range(X.shape[1]):
        if present is not None:
            distinct = np.flatnonzero(present[j]).astype(np.float64)
        else:
            distinct = np.unique(X[valid[:, j], j]).astype(np.float64)
        if len(distinct) == 1:
            t = np.asarray([])
        elif 1 < len(distinct) <= max_bins:
            t = 0.5 * (distinct[:-1] + distinct[1:])
        else:  # many distinct values (quantiles) or none: scikit-learn's own code
            t = _sk_find_binning_thresholds(X[:, j], max_bins, sample_weight=sample_weight)
        thresholds.append(t)
    mapper.is_categorical_ = np.zeros(X.shape[1], dtype=np.uint8)
    mapper.missing_values_bin_idx_ = mapper.n_bins - 1
    mapper.bin_thresholds_ = thresholds
    mapper.n_bins_non_missing_ = np.array([len(t) + 1 for t in thresholds], dtype=np.uint32)
    return True


def _transform_codes(mapper, X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``mapper.transform(X)`` for ``X`` of small whole numbers (``codes``, see
    :func:`_small_codes`): a lookup table per column instead of a binary search per
    value, same bins (the number of thresholds below the value; NaN in the missing-values
    bin), Fortran order like scikit-learn's."""
    grid = np.arange(256, dtype=np.float64)
    lut = np.empty((X.shape[1], 256), dtype=np.uint8)
    for j, t in enumerate(mapper.bin_thresholds_):
        lut[j] = np.searchsorted(t, grid, side="left")
    binned = np.asfortranarray(lut[np.arange(X.shape[1]), codes])
    binned[np.isnan(X)] = mapper.missing_values_bin_idx_
    return binned


def _fit(est, X, y, sample_weight=None):
    """``est.fit(X, y, sample_weight)`` with the bin mapper fitted by ``_fast_bin_fit``
    (identical bins, less overhead). Uses the PRIVATE ``_bin_data`` hook of scikit-learn's
    gradient boosting; if it is missing or the case is not handled, the public path."""
    original = getattr(est, "_bin_data", None)
    if _BinMapper is None or original is None or "_bin_data" in vars(est):
        return est.fit(X, y, sample_weight=sample_weight)

    def _bin_data(Xb, sw, is_training_data):
        mapper = getattr(est, "_bin_mapper", None)
        codes = _small_codes(Xb) if is_training_data and isinstance(Xb, np.ndarray) else None
        if is_training_data and _fast_bin_fit(mapper, Xb, sw, codes):
            return mapper.transform(Xb) if codes is None else _transform_codes(mapper, Xb, codes)
        return original(Xb, sw, is_training_data)

    est._bin_data = _bin_data
    try:
        return est.fit(X, y, sample_weight=sample_weight)
    finally:
        del est._bin_data


@contextmanager
def single_threaded():
    """Run the gradient-boosting fits with one OpenMP thread (re-entrant, cheap when nested).

    The fits here are small (a few thousand days): on 2 cores OpenMP threads cost more
    than they give (a backtest ran about 5 times slower with them). Entering
    ``threadpoolctl.threadpool_limits`` costs a few milliseconds, so nested calls (the
    backtest wraps all its refits) do not enter it again.
    """
    global _SINGLE_THREADED
    if _SINGLE_THREADED:
        yield
        return
    with threadpool_limits(limits=1, user_api="openmp"):
        _SINGLE_THREADED = True
        try:
            yield
        finally:
            _SINGLE_THREADED = False


def bin_thresholds(x: np.ndarray, w: np.ndarray | None, max_bins: int) -> np.ndarray:
    """Bin thresholds of one feature: midpoints of its distinct values, or (weighted)
    quantiles when it has more than ``max_bins`` of them; NaN ignored.

    Same rule as scikit-learn's ``_BinMapper`` (value in bin ``i`` iff
    ``t[i-1] < x <= t[i]``), computed in one vectorised pass instead of one weighted
    percentile call per threshold (which made the weighted fits about 8 times slower).
    """
    ok = np.isfinite(x)
    if w is not None:
        ok &= w > 0
    v = x[ok]
    if len(v) == 0:
        return np.array([])
    order = np.argsort(v, kind="stable")
    v = v[order]
    # v is sorted: its distinct values without np.unique's second sort (same values)
    distinct = v[np.concatenate(([True], v[1:] != v[:-1]))]
    if len(distinct) <= 1:
        return np.array([])
    if len(distinct) <= max_bins:
        return 0.5 * (distinct[:-1] + distinct[1:])
    cw = np.cumsum(np.ones(len(v)) if w is None else w[ok][order])
    levels = np.arange(1, max_bins) / max_bins * cw[-1]
    # averaged inverted CDF: the value where the cumulative weight first reaches the level,
    # averaged with the next value when the level falls exactly on a boundary
    lo = np.minimum(np.searchsorted(cw, levels, side="left"), len(v) - 1)
    hi = np.minimum(np.searchsorted(cw, levels, side="right"), len(v) - 1)
    return np.unique(0.5 * (v[lo] + v[hi]))


def bin_thresholds_matrix(Xa: np.ndarray, w: np.ndarray | None, max_bins: int) -> list:
    """:func:`bin_thresholds` of every column of ``Xa``, the same values, faster: the
    columns are sorted in one (unstable, vectorised) call, and only a column with more
    than ``max_bins`` distinct values gets the stable order its weights need (the
    unstable order with ties put back in row order)."""
    Xa = np.asarray(Xa, dtype=float)
    if Xa.ndim != 2 or (w is not None and not np.all(w > 0)) or np.isinf(Xa).any():
        return [bin_thresholds(col, w, max_bins) for col in np.asarray(Xa).T]
    n_ok = (~np.isnan(Xa)).sum(axis=0)
    S = np.sort(Xa, axis=0)  # NaN last
    out = []
    for j in range(Xa.shape[1]):
        k = int(n_ok[j])
        v = S[:k, j]
        new = v[1:] != v[:-1]
        n_distinct = int(new.sum()) + 1 if k else 0
        if n_distinct <= 1:
            out.append(np.array([]))
        elif n_distinct <= max_bins:
            # the first value of each run of equal ones (midpoints do not depend on which
            # of -0.0 and 0.0 comes first)
            distinct = v[np.concatenate(([True], new))]
            out.append(0.5 * (distinct[:-1] + distinct[1:]))
        else:
            rows = np.flatnonzero(~np.isnan(Xa[:, j]))
            vals = Xa[rows, j]
            order = np.argsort(vals)
            # ties in row order: sort by (run of equal values, position)
            run = np.concatenate(([0], np.cumsum(new)))
            order = np.sort(run * k + order) % k
            v = vals[order]
            cw = np.cumsum(np.ones(k) if w is None else w[rows[order]])
            levels = np.arange(1, max_bins) / max_bins * cw[-1]
            lo = np.minimum(np.searchsorted(cw, levels, side="left"), k - 1)
            hi = np.minimum(np.searchsorted(cw, levels, side="right"), k - 1)
            out.append(np.unique(0.5 * (v[lo] + v[hi])))
    return out


def apply_bins(Xa: np.ndarray, thresholds: list[np.ndarray]) -> np.ndarray:
    """Bin codes (as float, NaN kept) of each column of ``Xa`` given its thresholds
    (a Fortran-ordered array: each column is written in one piece)."""
    Xa = np.asarray(Xa, dtype=float)
    out = np.empty((Xa.shape[1], Xa.shape[0]))
    for j, t in enumerate(thresholds):
        out[j] = np.searchsorted(t, Xa[:, j], side="left")
    out[np.isnan(Xa.T)] = np.nan
    return out.T


def _fill_unseen(Xa: np.ndarray) -> np.ndarray:
    """Columns with no observed value in this (sub)sample become 0: scikit-learn's binning
    fails on an all-NaN column ("window shape cannot be larger than input array shape");
    a constant column can take no split, so the sub-model simply ignores it."""
    empty = np.isnan(Xa).all(axis=0)
    if not empty.any():
        return Xa
    Xa = Xa.copy()
    Xa[:, empty] = 0.0
    return Xa


#: Fewest days with crossings in the forward blocks for a forward spread.
MIN_FORWARD_RESIDUALS = 60


def plotting_positions(w: np.ndarray) -> np.ndarray:
    """CDF positions ``(cumsum(w) - w / 2) / sum(w)`` of sorted values with weights
    ``w`` (Hazen's ``(i - 0.5) / n`` for equal weights): the empirical distribution,
    linearly interpolated between its values, that the spread part uses both ways
    (quantiles and exceedance probabilities agree)."""
    w = np.asarray(w, dtype=float)
    c = np.cumsum(w)
    return (c - w / 2) / c[-1]


class _SkopsFile:
    """``save`` / ``load`` with skops: no pickle, only :data:`TRUSTED_TYPES` trusted."""

    #: Attribute that exists once the model is fitted.
    _fitted_attr = ""

    def save(self, path: str | Path) -> Path:
        """Write the fitted model with skops (no pickle), atomically."""
        check_is_fitted(self, self._fitted_attr)
        return fileio.write_with(Path(path), lambda tmp: sio.dump(self, tmp), "model file")

    @classmethod
    def load(cls, path: str | Path):
        """Load a model written by :meth:`save`, trusting only known types.

        Raises
        ------
        DataFormatError
            If the file is missing, unreadable, holds types outside the trusted list or
            holds another kind of model.
        """
        path = Path(path)
        if not path.exists():
            raise DataFormatError(
                f"model file {path} not found; train one with 'forecast model fit'."
            )
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
            raise DataFormatError(f"model file {path} is not a skops file: {exc}") from exc
        unknown = [t for t in untrusted if t not in TRUSTED_TYPES]
        if unknown:
            raise DataFormatError(
                f"model file {path} contains types outside the trusted list: {unknown}. "
                "Only load models written by 'forecast model fit'."
            )
        model = sio.load(path, trusted=list(untrusted))
        if not isinstance(model, cls):
            raise DataFormatError(
                f"model file {path} holds a {type(model).__name__}, not a {cls.__name__}; "
                "train it again with 'forecast model fit'."
            )
        return model


def stations_of(X: pd.DataFrame) -> list[int]:
    """KNMI stations (primary first) the features were built from, [] when not station data."""
    return [int(s) for s in X.attrs.get("weather_stations") or []]


class CrossingModel(_SkopsFile, BaseEstimator):
    """Hurdle model of daily people arriving by small boat.

    Parameters
    ----------
    weather_source : {"knmi", "openmeteo", "none"}
        The weather input the model is trained on; predicting from another is refused.
    max_iter : int
        Boosting iterations of each gradient-boosting part.
    learning_rate : float
        Boosting learning rate.
    max_leaf_nodes : int
        Leaves per tree.
    min_samples_leaf : int
        Minimum days per leaf.
    l2_regularization : float
        L2 penalty on leaf values.
    n_folds : int
        Time-blocked folds for the out-of-fold predictions that calibrate ``P(any)``
        and form the residual distribution (>= 2).
    n_mu_bins : int
        Bins of the conditional mean for the residual distribution.
    spread_folds : {"forward", "weeks"}
        Where the residuals of the spread part come from. ``"forward"``: the days with
        crossings in the last ``n_forward_folds`` blocks of ``forward_days`` days, each
        predicted by a size model fitted only on the days before its block (forward in
        time, as forecasts are made; falls back to ``"weeks"`` when those blocks hold
        fewer than :data:`MIN_FORWARD_RESIDUALS` such days or the earliest block has
        fewer than 50 days with crossings before it). ``"weeks"``: the out-of-fold
        predictions of the ``folds`` scheme, whose neighbouring weeks are in training
        (the spread of version 0.x: upper tails too light, see docs/model.md).
    forward_days : int
        Length of each forward block [days].
    n_forward_folds : int
        Number of forward blocks.
    spread_shift_by_p : bool
        Shift the log residuals by a line in the calibrated ``logit(P(any))`` (least
        squares, out of fold): on days the hurdle part finds unlikely, crossings that
        happen anyway are smaller than on likely days with the same ``mu``.
    folds : {"weeks", "blocks"}
        Out-of-fold scheme: ``"weeks"`` assigns whole calendar weeks to folds in turn
        (every fold spans every regime, neighbouring days stay together); ``"blocks"``
        uses contiguous time blocks.
    monotonic : bool
        Constrain ``P(any)`` and the size to fall with wind, gusts and waves and to rise
        with calm hours (:data:`MONOTONIC`).
    max_bins : int
        Histogram bins per feature of the gradient-boosting parts (fewer is faster).
    half_life_days : float or None
        If set, training days are weighted ``0.5 ** (age / half_life_days)`` so that
        the model follows regime changes.
    random_state : int or None
        Seed of the gradient-boosting parts.

    Attributes
    ----------
    classifier_, size_model_ : fitted estimators
    platt_ : ndarray of shape (2,)
        Platt scaling ``(a, b)`` of the classifier's probability.
    residuals_ : list of ndarray
        Sorted out-of-fold log residuals per ``mu`` bin (after the shift).
    residual_cdf_ : list of ndarray
        CDF position of each residual (:func:`plotting_positions` of its weight).
    residual_mean_factor_ : ndarray
        Weighted mean of ``exp(r)`` per spread bin (expected people = ``p * mu *``
        factor).
    spread_shift_ : ndarray of shape (2,)
        ``(c0, c1)``: the size quantiles are ``mu * exp(c0 + c1 * logit(p) + r)``.
    spread_source_ : str
        Where the residuals came from: ``"forward"``, ``"weeks"`` or ``"in-sample"``
        (too few days with crossings for either).
    mu_edges_ : ndarray
        Inner edges of the ``mu`` bins [people].
    feature_names_in_ : ndarray of str
        Columns seen at fit.
    features_used_ : ndarray of str
        Columns the model uses: those seen at fit minus ``dropped_features_``. Only these
        are needed at predict.
    dropped_features_ : list of str
        Columns left out at fit: observed on fewer than max(10, 2 %) of the training
        days (e.g. ``visibility_min`` from the Open-Meteo archive, which has none), or
        constant without gaps.
    bin_thresholds_, size_bin_thresholds_ : list of ndarray
        Histogram bin thresholds per used feature of the hurdle part (all days) and the
        size part (days with crossings). The gradient-boosting parts see bin codes: same
        rule as scikit-learn's weighted binning, computed once per fit in one vectorised
        pass (scikit-learn's weighted percentiles made each fit about 8 times slower).
    weather_source_ : str
    people_per_boat_ : float
        People per boat over the last 365 training days (for ``expected_boats``).
    train_start_, train_end_ : str
        ISO dates of the first and last training day.
    n_train_, n_positive_ : int
    code_version_ : str
    fitted_utc_ : str
    """

    _fitted_attr = "classifier_"

    def __init__(
        self,
        weather_source: str = "none",
        max_iter: int = 35,
        learning_rate: float = 0.2,
        max_leaf_nodes: int = 8,
        min_samples_leaf: int = 25,
        l2_regularization: float = 1.0,
        n_folds: int = 3,
        n_mu_bins: int = 3,
        spread_folds: str = "adjusted",
        forward_days: int = 56,
        n_forward_folds: int = 6,
        spread_shift_by_p: bool = True,
        folds: str = "weeks",
        monotonic: bool = False,
        max_bins: int = 63,
        half_life_days: float | None = 1095.0,
        random_state: int | None = 0,
    ):
        self.weather_source = weather_source
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.n_folds = n_folds
        self.n_mu_bins = n_mu_bins
        self.spread_folds = spread_folds
        self.forward_days = forward_days
        self.n_forward_folds = n_forward_folds
        self.spread_shift_by_p = spread_shift_by_p
        self.folds = folds
        self.monotonic = monotonic
        self.max_bins = max_bins
        self.half_life_days = half_life_days
        self.random_state = random_state

    # -- helpers ---------------------------------------------------------------------

    def _cst(self):
        if not self.monotonic or not hasattr(self, "features_used_"):
            return None
        return [MONOTONIC.get(str(c), 0) for c in self.features_used_]

    def _classifier(self):
        return HistGradientBoostingClassifier(
            monotonic_cst=self._cst(),
            max_bins=self.max_bins,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _regressor(self):
        return HistGradientBoostingRegressor(
            monotonic_cst=self._cst(),
            max_bins=self.max_bins,
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _check_stations(self, X: pd.DataFrame, fitting: bool) -> None:
        """Refuse station weather that lacks a station the model was trained on.

        The stations come from ``X.attrs["weather_stations"]`` (primary first), set by the
        feature builder from :func:`forecast.sources.knmi.load_knmi`.
        """
        if fitting:
            return
        have = stations_of(X)
        need = [int(s) for s in getattr(self, "weather_stations_", []) or []]
        if not need or not have:
            return
        lacking = [s for s in need if s not in have]
        if lacking or have[0] != need[0]:
            raise ConfigError(
                f"this model was trained on KNMI stations {need} (primary {need[0]}) but the "
                f"weather given has stations {have} (primary {have[0]}); give the same station "
                "files in the same order (--knmi-file once per station, the primary first) or "
                "train a model on these stations ('forecast model fit --knmi-file ...')."
            )

    def _check_X(self, X, fitting: bool) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise ConfigError(
                "CrossingModel needs a pandas DataFrame from forecast.features.build.build_features "
                f"(got {type(X).__name__}); feature names and the weather source are checked."
            )
        self._check_stations(X, fitting)
        src = X.attrs.get("weather_source")
        if src is not None and src != self.weather_source:
            raise ConfigError(
                f"features were built from weather source {src!r} but this model "
                f"{'is configured for' if fitting else 'was trained on'} "
                f"{self.weather_source!r}; build features from the same source or "
                "train a model for that source ('forecast model fit --weather-source ...')."
            )
        if fitting:
            return X.to_numpy(dtype=float)
        # only the features the model uses are needed (left-out ones may be absent)
        names = list(getattr(self, "features_used_", self.feature_names_in_))
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ConfigError(
                f"features {missing} used in training (weather source "
                f"{self.weather_source_!r}) are missing from the input; rebuild them with "
                "forecast.features.build.build_features for the same source (tide/sky modules "
                "must be present if they were at training)."
            )
        return X[names].to_numpy(dtype=float)

    def _binned(self, Xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bin codes of the used features for the hurdle and the size part."""
        thresholds = getattr(self, "bin_thresholds_", None)  # None: saved before binning
        if thresholds is None:
            return Xa, Xa
        return apply_bins(Xa, thresholds), apply_bins(Xa, self.size_bin_thresholds_)

    def _weights(self, index) -> np.ndarray | None:
        if self.half_life_days is None:
            return None
        idx = pd.DatetimeIndex(index)
        age = np.asarray((idx.max() - idx) / pd.Timedelta(days=1), dtype=float)
        return 0.5 ** (age / float(self.half_life_days))

    # -- fit ---------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y, boats=None, calibration_from: CrossingModel | None = None):
        """Fit the hurdle, size and spread parts.

        Parameters
        ----------
        X : pandas.DataFrame
            Features (index ``date``, ``attrs["weather_source"]`` must match).
        y : array-like of int
            People arrived per day [people] (>= 0).
        boats : array-like of int, optional
            Boats per day [boats]; sets ``people_per_boat_``.
        calibration_from : CrossingModel, optional
            A fitted model (same features) whose Platt scaling and residual distribution
            are reused instead of recomputing them out of fold (saves the fold fits in
            frequent backtest refits; that model must itself be fitted on data up to
            this training end or earlier).

        Returns
        -------
        self
        """
        if self.weather_source not in ("knmi", "openmeteo", "none"):
            raise ConfigError(
                f"weather_source={self.weather_source!r}; use 'knmi', 'openmeteo' or 'none'."
            )
        if self.n_folds < 2:
            raise ConfigError(f"n_folds={self.n_folds}; need at least 2 folds.")
        if self.spread_folds not in ("adjusted", "forward", "weeks"):
            raise ConfigError(
                f"spread_folds={self.spread_folds!r}; use 'adjusted', 'forward' or 'weeks'."
            )
        if self.forward_days < 1 or self.n_forward_folds < 1:
            raise ConfigError(
                f"forward_days={self.forward_days}, n_forward_folds={self.n_forward_folds}; "
                "both must be >= 1."
            )
        Xa = self._check_X(X, fitting=True)
        self.weather_stations_ = stations_of(X)
        y = np.asarray(y, dtype=float)
        if len(y) != len(Xa):
            raise ConfigError(f"X has {len(Xa)} rows but y has {len(y)}.")
        if np.isnan(y).any() or (y < 0).any():
            raise DataFormatError("training counts y must be whole numbers >= 0 without NaN.")
        pos = y > 0
        if pos.sum() < 2 * self.n_folds or (~pos).sum() < self.n_folds:
            raise DataFormatError(
                f"training data has {int(pos.sum())} day(s) with crossings and "
                f"{int((~pos).sum())} without; need at least {2 * self.n_folds} and "
                f"{self.n_folds}. Train on a longer period."
            )
        w = self._weights(X.index)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = Xa.shape[1]
        self.weather_source_ = self.weather_source
        # Features that carry nothing are left out (learned state, applied at predict):
        # (almost) never observed, e.g. visibility_min from the Open-Meteo archive which
        # has none, or constant. The rest is binned once here (sub-fits reuse the bins).
        n_obs = np.isfinite(Xa).sum(axis=0)
        keep = n_obs >= max(10, 0.02 * len(Xa))
        for j in np.flatnonzero(keep & (n_obs == len(Xa))):
            if Xa[:, j].min() == Xa[:, j].max():  # constant without gaps: no split possible
                keep[j] = False
        self.dropped_features_ = [str(c) for c, k in zip(X.columns, keep, strict=True) if not k]
        self.features_used_ = np.asarray(X.columns[keep], dtype=object)
        Xa = Xa[:, keep]
        # bins as scikit-learn would make them: the hurdle on all days, the size part on
        # days with crossings, each with its sample weights
        self.bin_thresholds_ = bin_thresholds_matrix(Xa, w, self.max_bins)
        self.size_bin_thresholds_ = bin_thresholds_matrix(
            Xa[pos], None if w is None else w[pos], self.max_bins
        )
        Xc, Xs = self._binned(Xa)
        with single_threaded():
            self._fit_parts(Xc, Xs, y, pos, w, X.index, calibration_from)
        self._finish(X, y, pos, boats)
        return self

    def _fit_parts(self, Xa, Xs, y, pos, w, index, calibration_from) -> None:
        """Fit the hurdle part on bin codes ``Xa``, the size part on ``Xs``, and the
        calibration (out of fold)."""
        # out-of-fold predictions over contiguous time blocks
        n = len(y)
        if self.folds == "blocks":
            folds = np.array_split(np.arange(n), self.n_folds)
        elif self.folds == "weeks":
            week = np.asarray((pd.DatetimeIndex(index) - pd.Timestamp("2000-01-03")).days // 7)
            folds = [np.flatnonzero(week % self.n_folds == k) for k in range(self.n_folds)]
        else:
            raise ConfigError(f"folds={self.folds!r}; use 'weeks' or 'blocks'.")
        oof_p = np.full(n, np.nan)
        oof_mu = np.full(n, np.nan)
        forward = self._forward_blocks(index, pos) if self.spread_folds != "weeks" else []
        if calibration_from is not None:
            check_is_fitted(calibration_from, "residuals_")
            if list(calibration_from.feature_names_in_) != list(self.feature_names_in_):
                raise ConfigError(
                    "calibration_from was fitted on other features "
                    f"({list(calibration_from.feature_names_in_)}); fit both on the same columns."
                )
            folds = []
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            ytr = pos[train]
            if ytr.all() or not ytr.any() or pos[train].sum() < 2:
                continue
            wt = None if w is None else w[train]
            clf = _fit(self._classifier(), _fill_unseen(Xa[train]), ytr, sample_weight=wt)
            oof_p[test] = clf.predict_proba(Xa[test])[:, 1]
            if forward and self.spread_folds == "forward":  # spread from forward blocks
                continue
            ptr = train[pos[train]]
            reg = _fit(
                self._regressor(),
                _fill_unseen(Xs[ptr]),
                y[ptr],
                sample_weight=None if w is None else w[ptr],
            )
            oof_mu[test] = reg.predict(Xs[test])

        self.classifier_ = _fit(self._classifier(), Xa, pos, sample_weight=w)
        self.size_model_ = _fit(
            self._regressor(),
            _fill_unseen(Xs[pos]),
            y[pos],
            sample_weight=None if w is None else w[pos],
        )

        if calibration_from is not None:
            self.platt_ = np.array(calibration_from.platt_, dtype=float)
            self.mu_edges_ = np.array(calibration_from.mu_edges_, dtype=float)
            res, cdf, fac, shift = calibration_from._spread()
            self.residuals_ = [np.array(r) for r in res]
            self.residual_cdf_ = [np.array(c) for c in cdf]
            self.residual_mean_factor_ = np.array(fac, dtype=float)
            self.spread_shift_ = np.array(shift, dtype=float)
            self.spread_source_ = getattr(calibration_from, "spread_source_", "weeks")
            self.spread_adjustment_ = np.array(
                getattr(calibration_from, "spread_adjustment_", [0.0, 1.0]), dtype=float
            )
            return
        ok = np.isfinite(oof_p)
        self.platt_ = np.asarray(
            _platt(oof_p[ok], pos[ok].astype(float)) if ok.sum() > 20 else (1.0, 0.0)
        )
        scale, loc = 1.0, 0.0
        if forward and self.spread_folds == "forward":
            oof_mu = self._forward_mu(Xs, y, w, forward)
        elif forward:
            fwd = self._forward_mu(Xs, y, w, forward)
            both = pos & np.isfinite(fwd) & np.isfinite(oof_mu)
            if both.sum() >= MIN_FORWARD_RESIDUALS:
                rf = np.log(y[both]) - np.log(np.maximum(fwd[both], 1e-3))
                rw = np.log(y[both]) - np.log(np.maximum(oof_mu[both], 1e-3))
                iqr_f, iqr_w = (np.subtract(*np.quantile(r, [0.75, 0.25])) for r in (rf, rw))
                scale = float(np.clip(iqr_f / iqr_w, 0.8, 2.0)) if iqr_w > 0 else 1.0
                loc = float(np.median(rf) - np.median(rw))
        self.spread_source_ = self.spread_folds if forward else "weeks"
        self.spread_adjustment_ = np.array([loc, scale])
        okr = pos & np.isfinite(oof_mu)
        if okr.sum() < 10:
            self.spread_source_ = "in-sample"
            okr = pos
            oof_mu = np.where(np.isfinite(oof_mu), oof_mu, self.size_model_.predict(Xs))
        mu = np.maximum(oof_mu[okr], 1e-3)
        res = np.log(y[okr]) - np.log(mu)
        if scale != 1.0 or loc != 0.0:
            med = np.median(res)
            res = med + loc + scale * (res - med)
        self.spread_shift_ = np.zeros(2)
        if self.spread_shift_by_p:
            a, b = self.platt_
            z = np.column_stack([np.ones(len(res)), a * _logit(oof_p[okr]) + b])
            fin = np.isfinite(z[:, 1])
            if fin.sum() >= 30 and np.ptp(z[fin, 1]) > 0:
                self.spread_shift_ = np.linalg.lstsq(z[fin], res[fin], rcond=None)[0]
                res = res - np.where(fin, z @ self.spread_shift_, 0.0)
        nb = max(1, min(self.n_mu_bins, int(okr.sum() // 30)))
        edges = np.quantile(np.log(mu), np.linspace(0, 1, nb + 1)[1:-1]) if nb > 1 else np.array([])
        self.mu_edges_ = np.exp(edges)
        mbin = np.searchsorted(edges, np.log(mu))
        self.residuals_ = [np.sort(res[mbin == b]) for b in range(nb)]
        self.residual_cdf_ = [plotting_positions(np.ones(len(r))) for r in self.residuals_]
        self.residual_mean_factor_ = np.array(
            [np.mean(np.exp(r)) if len(r) else 1.0 for r in self.residuals_]
        )

    def _forward_blocks(self, index, pos) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(train, test)`` rows (days with crossings) of each forward block: the last
        ``n_forward_folds`` blocks of ``forward_days`` days, each with the days before
        it; empty when there are too few (see ``spread_folds``)."""
        idx = pd.DatetimeIndex(index)
        end = idx.max() + pd.Timedelta(days=1)
        blocks = []
        for k in range(1, self.n_forward_folds + 1):
            lo = end - pd.Timedelta(days=k * self.forward_days)
            before = np.asarray(idx < lo)
            inside = ~before & np.asarray(idx < lo + pd.Timedelta(days=self.forward_days))
            blocks.append((np.flatnonzero(before & pos), np.flatnonzero(inside & pos)))
        if sum(len(t) for _, t in blocks) < MIN_FORWARD_RESIDUALS or len(blocks[-1][0]) < 50:
            return []
        return blocks

    def _forward_mu(self, Xs, y, w, blocks) -> np.ndarray:
        """``mu`` of the days in each forward block's test rows, from a size model fitted
        on its training rows only (forward in time, as forecasts are); NaN elsewhere."""
        out = np.full(len(y), np.nan)
        for train, test in blocks:
            if len(test) == 0:
                continue
            reg = _fit(
                self._regressor(),
                _fill_unseen(Xs[train]),
                y[train],
                sample_weight=None if w is None else w[train],
            )
            out[test] = reg.predict(Xs[test])
        return out

    def _finish(self, X, y, pos, boats) -> None:
        n = len(y)
        if boats is not None:
            boats = np.asarray(boats, dtype=float)
            idx = pd.DatetimeIndex(X.index)
            recent = np.asarray(idx >= idx.max() - pd.Timedelta(days=364)) & (boats > 0)
            if recent.sum() == 0:
                recent = boats > 0
            self.people_per_boat_ = (
                float(y[recent].sum() / boats[recent].sum()) if recent.any() else np.nan
            )
        else:
            self.people_per_boat_ = np.nan
        idx = pd.DatetimeIndex(X.index)
        self.train_start_ = idx.min().date().isoformat() if len(idx) else ""
        self.train_end_ = idx.max().date().isoformat() if len(idx) else ""
        self.n_train_ = int(n)
        self.n_positive_ = int(pos.sum())
        self.code_version_ = __version__
        self.fitted_utc_ = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- predict -----------------------------------------------------------------------

    def _parts(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``P(any)``, the conditional mean ``mu`` [people] and the spread bin per row."""
        check_is_fitted(self, "classifier_")
        Xa, Xs = self._binned(self._check_X(X, fitting=False))
        with single_threaded():
            raw = self.classifier_.predict_proba(Xa)[:, 1]
            mu = np.maximum(self.size_model_.predict(Xs), 1e-3)
        a, b = self.platt_
        z = a * _logit(raw) + b
        p = _sigmoid(z)
        bins = self._bin(mu)
        shift = self._spread()[3]
        if np.any(shift != 0):
            mu = mu * np.exp(shift[0] + shift[1] * z)
        return p, mu, bins

    def _spread(self) -> tuple[list, list, np.ndarray, np.ndarray]:
        """Residuals, their CDF positions, mean factors of the spread bins and the shift
        (models saved before these attributes existed: Hazen positions, no shift)."""
        res = self.residuals_
        cdf = getattr(self, "residual_cdf_", None)
        if cdf is None:
            cdf = [plotting_positions(np.ones(len(r))) if len(r) else r for r in res]
        fac = getattr(self, "residual_mean_factor_", None)
        if fac is None:
            fac = np.array([np.mean(np.exp(r)) if len(r) else 1.0 for r in res])
        return res, cdf, fac, np.asarray(getattr(self, "spread_shift_", np.zeros(2)))

    def _bin(self, mu: np.ndarray) -> np.ndarray:
        """Spread bin (``mu`` bin) of each row."""
        return np.searchsorted(np.log(self.mu_edges_), np.log(mu))

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``[P(no crossing), P(any crossing)]`` per day."""
        p, _, _ = self._parts(X)
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """Expected people per day [people]."""
        p, mu, bins = self._parts(X)
        return p * mu * self._spread()[2][bins]

    def _quantiles_from(self, p: np.ndarray, mu: np.ndarray, bins, levels) -> np.ndarray:
        """Quantiles of the mixture ``P(0) = 1 - p``, ``Y | Y > 0 = mu * exp(r)``: level
        ``l`` is 0 when ``l <= 1 - p``, else the size quantile at ``(l - (1 - p)) / p``."""
        levels = np.atleast_1d(np.asarray(levels, dtype=float))
        out = np.zeros((len(p), len(levels)))
        residuals, cdfs, _, _ = self._spread()
        for b, (res, cdf) in enumerate(zip(residuals, cdfs, strict=True)):
            rows = bins == b
            if not rows.any() or len(res) == 0:
                continue
            pb, mub = p[rows][:, None], mu[rows][:, None]
            cond = (levels[None, :] - (1 - pb)) / np.maximum(pb, 1e-12)
            r = np.interp(np.clip(cond, 0, 1), cdf, res)
            out[rows] = np.where(cond > 0, mub * np.exp(r), 0.0)
        return out

    def predict_quantiles(self, X, levels) -> np.ndarray:
        """Quantiles of people [people] at ``levels`` (0-1), shape ``(n_days, n_levels)``."""
        p, mu, bins = self._parts(X)
        return self._quantiles_from(p, mu, bins, levels)

    def _exceed_from(self, p: np.ndarray, mu: np.ndarray, bins, n: float) -> np.ndarray:
        """``P(Y > n) = p * P(mu * exp(r) > n)`` from the same interpolated residual
        distribution as the quantiles."""
        out = np.zeros(len(p))
        if n < 0:
            return np.ones(len(p))
        residuals, cdfs, _, _ = self._spread()
        for b, (res, cdf) in enumerate(zip(residuals, cdfs, strict=True)):
            rows = bins == b
            if not rows.any() or len(res) == 0:
                continue
            thr = np.log(float(n) + 1e-9) - np.log(mu[rows])
            below = np.where(thr >= res[-1], 1.0, np.interp(thr, res, cdf, left=0.0))
            out[rows] = p[rows] * (1.0 - below)
        return out

    def predict_exceedance(self, X, n: float) -> np.ndarray:
        """``P(people > n)`` per day."""
        p, mu, bins = self._parts(X)
        return self._exceed_from(p, mu, bins, n)

    def predict_distribution(self, X, thresholds=(300, 500), grid: bool = False) -> pd.DataFrame:
        """Full forecast per day.

        Returns
        -------
        pandas.DataFrame
            Index as ``X``; ``p_any``, ``expected_people`` [people], named quantiles
            ``q025, q10, q25, q50, q75, q80, q90, q975`` [people], ``p_gt_<N>`` per
            threshold, ``expected_boats`` [boats]; with ``grid=True`` also ``grid_000`` ..
            ``grid_099`` (quantiles at :data:`GRID_LEVELS`, for CRPS).
        """
        names, values = self._distribution(X, thresholds, grid)
        return pd.DataFrame(values, index=X.index, columns=names)

    def _distribution(self, X, thresholds, grid: bool) -> tuple[list[str], np.ndarray]:
        """Column names and values (rows x columns) of :meth:`predict_distribution`, in
        one array (one table built once, not column by column)."""
        p, mu, bins = self._parts(X)
        expected = p * mu * self._spread()[2][bins]
        named = list(NAMED_LEVELS.values())
        # every quantile in one pass (each level is computed on its own: same values)
        q = self._quantiles_from(p, mu, bins, named + (list(GRID_LEVELS) if grid else []))
        ppb = self.people_per_boat_
        boats = expected / ppb if np.isfinite(ppb) and ppb > 0 else np.full(len(p), np.nan)
        names = ["p_any", "expected_people", *NAMED_LEVELS]
        names += [f"p_gt_{int(n)}" for n in thresholds] + ["expected_boats"]
        cols = [p, expected, *q[:, : len(named)].T]
        cols += [self._exceed_from(p, mu, bins, n) for n in thresholds] + [boats]
        if grid:
            names += grid_columns()
            cols += list(q[:, len(named) :].T)
        values = np.empty((len(cols), len(p)))
        for j, c in enumerate(cols):
            values[j] = c
        return names, values.T

    # -- persistence -------------------------------------------------------------------

    def info(self) -> dict:
        """What the model was trained on (for provenance and ``forecast model show``)."""
        check_is_fitted(self, "classifier_")
        return {
            "weather_source": self.weather_source_,
            "weather_stations": list(getattr(self, "weather_stations_", []) or []),
            "train_start": self.train_start_,
            "train_end": self.train_end_,
            "n_train": self.n_train_,
            "n_positive": self.n_positive_,
            "features": [str(c) for c in getattr(self, "features_used_", self.feature_names_in_)],
            "dropped_features": list(getattr(self, "dropped_features_", [])),
            "code_version": self.code_version_,
            "fitted_utc": self.fitted_utc_,
            "people_per_boat": self.people_per_boat_,
            "params": self.get_params(),
        }


def check_lead_bands(bands, name: str = "lead_bands") -> list[tuple[int, ...]]:
    """``bands`` as a list of tuples of lead times [days], checked.

    Raises
    ------
    ConfigError
        Naming ``name``, if there are no bands, a band is empty, a lead time is below 1
        day or a lead time is in two bands.
    """
    try:
        out = [tuple(int(h) for h in b) for b in bands]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name}={bands!r}: give bands of whole lead times in days, e.g. ((1,), (2, 3, 4))."
        ) from exc
    flat = [h for b in out for h in b]
    if not out or not all(out) or min(flat) < 1:
        raise ConfigError(
            f"{name}={bands!r}: give one or more non-empty bands of lead times >= 1 day, "
            "e.g. ((1,), (2, 3, 4, 5, 6, 7))."
        )
    if len(flat) != len(set(flat)):
        raise ConfigError(f"{name}={bands!r}: a lead time is in two bands; each belongs to one.")
    return out


class LeadBandModel(_SkopsFile, BaseEstimator):
    """One :class:`CrossingModel` per band of lead times (the sklearn contract).

    A forecast one day ahead knows yesterday's arrivals; one a week ahead does not. A
    model trained on rows seen from every lead time at once spends its trees on the
    average staleness; here each band of lead times gets its own model, trained on
    rows seen from exactly those lead times (experiment 003: training the D+1 model on
    D+1 rows lifted ROC AUC any at D+1 from 0.892 to 0.896-0.897 on the rolling
    2020-2025 KNMI run). Rows are routed by their ``horizon`` column [days].

    Parameters
    ----------
    weather_source : {"knmi", "openmeteo", "none"}
        As :class:`CrossingModel`.
    lead_bands : sequence of sequence of int
        Training horizons [days] of each band, e.g. ``((1,), (2, 3, 4, 5, 6, 7))``; a
        row is predicted by the first band that contains its ``horizon``.
    model_params : dict, optional
        :class:`CrossingModel` parameters shared by the bands.

    Attributes
    ----------
    models_ : list of CrossingModel
        Fitted model of each band.
    lead_bands_ : list of tuple of int
    weather_source_, train_start_, train_end_, code_version_, fitted_utc_ : str
    n_train_, n_positive_ : int
        Training days (each day is seen once per band).
    people_per_boat_ : float
    """

    _fitted_attr = "models_"

    def __init__(self, weather_source: str = "none", lead_bands=((1,),), model_params=None):
        self.weather_source = weather_source
        self.lead_bands = lead_bands
        self.model_params = model_params

    def _route(self, X, bands) -> list[np.ndarray]:
        """Row positions of ``X`` for each band (by its ``horizon`` column [days])."""
        if not isinstance(X, pd.DataFrame) or "horizon" not in X.columns:
            raise ConfigError(
                "LeadBandModel needs the feature table of forecast.features.build.build_features "
                "with its 'horizon' column [days] (the lead time of each row)."
            )
        h = X["horizon"].to_numpy(dtype=float)
        outside = ~np.isin(h, [x for b in bands for x in b])
        if outside.any():
            raise ConfigError(
                f"lead time {h[outside][0]:g} day(s) is outside the bands this model serves "
                f"({[list(b) for b in bands]}); fit a model for those lead times "
                "(forecast.model.pipeline.fit_default_model(horizons=...))."
            )
        return [np.flatnonzero(np.isin(h, b)) for b in bands]

    def fit(self, X: pd.DataFrame, y, boats=None, calibration_from: LeadBandModel | None = None):
        """Fit each band's model on the rows whose ``horizon`` lies in the band.

        ``calibration_from``: a fitted LeadBandModel with the same bands whose models'
        calibration is reused (see :meth:`CrossingModel.fit`).

        Returns
        -------
        self
        """
        bands = check_lead_bands(self.lead_bands)
        y = np.asarray(y, dtype=float)
        boats = None if boats is None else np.asarray(boats, dtype=float)
        if calibration_from is not None and list(calibration_from.lead_bands_) != bands:
            raise ConfigError(
                f"calibration_from has lead bands {calibration_from.lead_bands_}, not {bands}."
            )
        models = []
        for k, rows in enumerate(self._route(X, bands)):
            if len(rows) == 0:
                raise DataFormatError(
                    f"no training rows with a horizon in lead band {list(bands[k])}; build "
                    "the rows with forecast.model.pipeline.banded_training_rows for these bands."
                )
            Xb = X.iloc[rows]
            Xb.attrs.update(X.attrs)
            m = CrossingModel(weather_source=self.weather_source, **(self.model_params or {}))
            models.append(
                m.fit(
                    Xb,
                    y[rows],
                    boats=None if boats is None else boats[rows],
                    calibration_from=None
                    if calibration_from is None
                    else calibration_from.models_[k],
                )
            )
        self.models_ = models
        self.lead_bands_ = bands
        last = models[-1]
        for name in ("weather_source_", "code_version_", "fitted_utc_", "people_per_boat_"):
            setattr(self, name, getattr(last, name))
        self.weather_stations_ = list(getattr(last, "weather_stations_", []) or [])
        self.train_start_ = min(m.train_start_ for m in models)
        self.train_end_ = max(m.train_end_ for m in models)
        self.n_train_ = max(m.n_train_ for m in models)
        self.n_positive_ = max(m.n_positive_ for m in models)
        return self

    def _each(self, X, method: str, *args, **kwargs):
        """Call ``method`` of each band's model on its rows; results in the rows' order."""
        check_is_fitted(self, "models_")
        parts = []
        for rows, model in zip(self._route(X, self.lead_bands_), self.models_, strict=True):
            if len(rows):
                Xb = X.iloc[rows]
                Xb.attrs.update(X.attrs)
                parts.append((rows, getattr(model, method)(Xb, *args, **kwargs)))
        return parts

    def _stack(self, X, parts):
        first = parts[0][1]
        out = np.empty((len(X),) + np.shape(first)[1:], dtype=float)
        for rows, p in parts:
            out[rows] = p
        return out

    def predict_proba(self, X) -> np.ndarray:
        """``[P(no crossing), P(any crossing)]`` per row, from its band's model."""
        return self._stack(X, self._each(X, "predict_proba"))

    def predict(self, X) -> np.ndarray:
        """Expected people per row [people]."""
        return self._stack(X, self._each(X, "predict"))

    def predict_quantiles(self, X, levels) -> np.ndarray:
        """Quantiles of people [people] at ``levels`` (0-1) per row."""
        return self._stack(X, self._each(X, "predict_quantiles", levels))

    def predict_exceedance(self, X, n: float) -> np.ndarray:
        """``P(people > n)`` per row."""
        return self._stack(X, self._each(X, "predict_exceedance", n))

    def predict_distribution(self, X, thresholds=(300, 500), grid: bool = False) -> pd.DataFrame:
        """Full forecast per row (columns as :meth:`CrossingModel.predict_distribution`)."""
        parts = self._each(X, "_distribution", thresholds, grid)
        names = parts[0][1][0]
        values = np.empty((len(X), len(names)))
        for rows, (_, v) in parts:
            values[rows] = v
        return pd.DataFrame(values, index=X.index, columns=names)

    def info(self) -> dict:
        """What the model was trained on: the last band's :meth:`CrossingModel.info`
        plus ``lead_bands`` and each band's training range."""
        check_is_fitted(self, "models_")
        out = self.models_[-1].info()  # its "params" are the settings every band shares
        out.update(
            train_start=self.train_start_,
            train_end=self.train_end_,
            n_train=self.n_train_,
            n_positive=self.n_positive_,
            lead_bands=[list(b) for b in self.lead_bands_],
        )
        return out


#: Monotonic constraints (-1 falling, +1 rising) used with ``monotonic=True``.
MONOTONIC = {
    "wind_speed_10m_mean": -1,
    "wind_speed_10m_max": -1,
    "wind_speed_10m_min": -1,
    "wind_gusts_10m_max": -1,
    "wind_speed_10m_mean_prev": -1,
    "wind_gusts_10m_max_prev": -1,
    "wave_height_max": -1,
    "wave_height_mean": -1,
    "calm_hours": 1,
}


def grid_columns() -> list[str]:
    return [f"grid_{i:03d}" for i in range(len(GRID_LEVELS))]


#: Types a saved CrossingModel may contain beyond skops' defaults.
TRUSTED_TYPES = (
    "forecast.model.crossing.CrossingModel",
    "forecast.model.crossing.LeadBandModel",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfPoissonLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.LogLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfPoissonLoss",
    "numpy.dtype",
    "builtins.float",
    "builtins.int",
)
