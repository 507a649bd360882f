"""Proper scores for daily count forecasts and for "any crossing" / busy-day events.

All functions take plain arrays: observed counts ``y`` [people] and the forecast's
mean, quantiles or probabilities. References: Gneiting & Raftery (2007), "Strictly
proper scoring rules, prediction, and estimation", JASA 102(477); Bracher et al.
(2021), "Evaluating epidemic forecasts in an interval format", PLoS Comput Biol 17(2)
(weighted interval score); Czado, Gneiting & Held (2009), "Predictive model assessment
for count data", Biometrics 65(4) (randomised PIT for counts); Cox (1958), "Two further
applications of a model for binary regression", Biometrika 45 (reliability slope).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit

from forecast.errors import ConfigError


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def mae(y, pred) -> float:
    """Mean absolute error [people]."""
    return float(np.mean(np.abs(_arr(y) - _arr(pred))))


def rmse(y, pred) -> float:
    """Root mean squared error [people]."""
    return float(np.sqrt(np.mean((_arr(y) - _arr(pred)) ** 2)))


def poisson_deviance(y, mean, floor: float = 1e-6) -> float:
    """Mean Poisson deviance ``2 [y log(y/mu) - (y - mu)]`` (mu floored at ``floor``)."""
    y, mu = _arr(y), np.maximum(_arr(mean), floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.mean(2 * (term - (y - mu))))


def pinball(y, q, level: float) -> np.ndarray:
    """Pinball (quantile) loss per day of quantile ``q`` at ``level`` [people]."""
    d = _arr(y) - _arr(q)
    return np.maximum(level * d, (level - 1) * d)


def crps_from_quantiles(y, qgrid, levels) -> np.ndarray:
    """CRPS per day [people] from quantiles on a uniform grid of levels.

    ``CRPS = 2 * integral_0^1 pinball_tau(y, q_tau) d tau``, approximated by the mean
    over ``levels`` (midpoints of equal bins, e.g. 0.005, 0.015, ..., 0.995).

    Parameters
    ----------
    y : array of shape (n,)
    qgrid : array of shape (n, k)
    levels : array of shape (k,)
    """
    y = _arr(y)[:, None]
    q = _arr(qgrid)
    lv = _arr(levels)[None, :]
    d = y - q
    return 2 * np.mean(np.maximum(lv * d, (lv - 1) * d), axis=1)


def interval_score(y, lower, upper, alpha: float) -> np.ndarray:
    """Interval score of the central ``1 - alpha`` interval per day [people]."""
    y, lo, hi = _arr(y), _arr(lower), _arr(upper)
    return (hi - lo) + (2 / alpha) * np.maximum(lo - y, 0) + (2 / alpha) * np.maximum(y - hi, 0)


def weighted_interval_score(y, median, intervals: dict[float, tuple]) -> float:
    """Weighted interval score (Bracher et al. 2021) [people], mean over days.

    ``intervals`` maps ``alpha`` (e.g. 0.2 for the 80 % interval) to ``(lower, upper)``.
    """
    y = _arr(y)
    total = 0.5 * np.abs(y - _arr(median))
    for alpha, (lo, hi) in intervals.items():
        total = total + (alpha / 2) * interval_score(y, lo, hi, alpha)
    return float(np.mean(total / (len(intervals) + 0.5)))


def coverage(y, lower, upper) -> float:
    """Share of days with ``lower <= y <= upper``."""
    y = _arr(y)
    return float(np.mean((y >= _arr(lower)) & (y <= _arr(upper))))


def share_above(y, upper) -> float:
    """Share of days with ``y > upper`` (e.g. above the 90 % quantile: 0.10 if calibrated)."""
    return float(np.mean(_arr(y) > _arr(upper)))


def share_below(y, lower) -> float:
    """Share of days with ``y < lower`` (e.g. below the 10 % quantile: at most 0.10 if
    calibrated; less for counts, which cannot fall below a lower quantile of 0)."""
    return float(np.mean(_arr(y) < _arr(lower)))


def pit_bounds(y, qgrid) -> tuple[np.ndarray, np.ndarray]:
    """``(F(y-1), F(y))`` per day for the distribution given by a quantile grid.

    The grid ``q_1 <= ... <= q_K`` (quantiles at the midpoints ``(k - 0.5) / K`` of K
    equal bins of levels, like :data:`forecast.model.crossing.GRID_LEVELS`) is read as K
    equally likely values (the distribution whose CRPS :func:`crps_from_quantiles`
    computes exactly). For a count ``y`` the lower bound is ``P(Y < y)`` and the upper
    ``P(Y <= y)``: they differ when grid values equal ``y`` (e.g. ``y = 0`` and the zero
    mass of a hurdle forecast).

    Parameters
    ----------
    y : array of shape (n,)
        Observed counts [people].
    qgrid : array of shape (n, k)
        Quantiles [people] at equally spaced levels, sorted along each row.

    Returns
    -------
    lower, upper : ndarray of shape (n,)
        ``P(Y < y)`` and ``P(Y <= y)`` [0-1].
    """
    y = _arr(y)[:, None]
    q = _arr(qgrid)
    k = q.shape[1]
    return (q < y).sum(axis=1) / k, (q <= y).sum(axis=1) / k


def pit_histogram(lower, upper, n_bins: int = 10) -> np.ndarray:
    """Histogram of the randomised PIT of count forecasts: share of days per bin.

    For a count ``y`` with predictive CDF ``F`` the randomised PIT is
    ``U ~ Uniform(F(y - 1), F(y))`` (a point when the two are equal); it is uniform on
    [0, 1] when the forecast is calibrated. Instead of drawing ``U`` this returns its
    expected histogram (Czado, Gneiting & Held 2009, the "non-randomised" PIT
    histogram): each day spreads a weight of 1 uniformly over ``[lower, upper]``. No
    random numbers, and the same expectation as the randomised histogram. A calibrated
    forecast gives ``1 / n_bins`` in every bin; a U shape means too narrow (tails too
    light), a hump too wide; more weight on the right means it forecasts too low.

    Parameters
    ----------
    lower, upper : array of shape (n,)
        ``F(y - 1)`` and ``F(y)`` per day (:func:`pit_bounds`) [0-1].
    n_bins : int
        Equal bins on [0, 1] (10 in the backtest).

    Returns
    -------
    ndarray of shape (n_bins,)
        Share of days in each bin (sums to 1; all NaN if there are no days).
    """
    lo = np.clip(_arr(lower), 0.0, 1.0)[:, None]
    hi = np.clip(_arr(upper), 0.0, 1.0)[:, None]
    if lo.size == 0:
        return np.full(n_bins, np.nan)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    a, b = edges[None, :-1], edges[None, 1:]
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None) / width
    # a point (lower == upper) falls in the bin [a, b) holding it, the last bin holds 1
    idx = np.minimum((lo[:, 0] * n_bins).astype(int), n_bins - 1)
    point = np.zeros((len(idx), n_bins))
    point[np.arange(len(idx)), idx] = 1.0
    w = np.where(width > 0, spread, point)
    return w.mean(axis=0)


def pit_coverage(histogram, level: float = 0.8) -> float:
    """Expected share of the randomised PIT inside the central ``level`` interval.

    The randomised PIT of a calibrated forecast is uniform on [0, 1], so its share in
    ``[(1 - level) / 2, (1 + level) / 2]`` is exactly ``level``, whatever the point mass
    at zero (unlike the coverage of a prediction interval of a count, which a
    calibrated forecast with ``P(0) > 0`` exceeds: :func:`coverage_if_calibrated`).
    Below ``level``: too narrow; above: too wide.

    Parameters
    ----------
    histogram : array of shape (n_bins,)
        The PIT histogram (:func:`pit_histogram`, share of days per bin), with bin edges
        at both ends of the interval (10 bins and ``level`` 0.8: the middle 8 bins).
    level : float
        Nominal coverage [0-1].

    Returns
    -------
    float
        Sum of the bins inside the interval (NaN if the histogram is NaN).

    Raises
    ------
    ConfigError
        No bin edges at the ends of the interval (``histogram`` length and ``level``).
    """
    h = _arr(histogram)
    n = len(h)
    lo = (1 - level) / 2 * n
    if n == 0 or abs(lo - round(lo)) > 1e-9:
        raise ConfigError(
            f"pit_coverage: {n} bins have no edges at the ends of the central {level:.0%} "
            "interval; use e.g. 10 bins for 80 %"
        )
    lo = int(round(lo))
    return float(h[lo : n - lo].sum()) if np.isfinite(h).all() else float("nan")


def reliability_slope(event, prob, eps: float = 1e-3) -> float:
    """Slope of the logistic recalibration of ``event`` on ``logit(prob)`` (Cox 1958).

    Fits ``P(event) = sigmoid(a + b * logit(p))`` by maximum likelihood and returns
    ``b``: 1 for a calibrated forecast, below 1 when the forecast is over-confident (its
    probabilities are too far from the base rate: the high ones too high, the low ones
    too low), above 1 when it is under-confident. Probabilities are clipped to
    ``[eps, 1 - eps]`` first (a forecast of exactly 0 or 1 has an infinite logit).

    Parameters
    ----------
    event : array of bool or 0/1
    prob : array of float
        Forecast probabilities [0-1].
    eps : float
        Clipping of the probabilities.

    Returns
    -------
    float
        The slope ``b``; NaN if only one class occurs, the clipped probabilities are all
        equal, or the fit does not converge (e.g. perfect separation).
    """
    e = _arr(event)
    p = np.clip(_arr(prob), eps, 1 - eps)
    z = np.log(p / (1 - p))
    if len(e) == 0 or e.min() == e.max() or z.min() == z.max():
        return float("nan")
    beta = np.zeros(2)
    design = np.column_stack([np.ones_like(z), z])
    for _ in range(100):
        p = expit(design @ beta)
        w = p * (1 - p)
        grad = design.T @ (e - p)
        hess = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return float("nan")
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 1e3:
            return float("nan")
        if np.abs(step).max() < 1e-10:
            return float(beta[1])
    return float("nan")


def brier(event, prob) -> float:
    """Brier score of probability ``prob`` for the binary ``event``."""
    return float(np.mean((_arr(prob) - _arr(event)) ** 2))


def brier_skill(event, prob, prob_ref) -> float:
    """Brier skill score ``1 - BS / BS_ref`` (1 perfect, 0 no better than the reference)."""
    ref = brier(event, prob_ref)
    return float(1 - brier(event, prob) / ref) if ref > 0 else float("nan")


def roc_auc(event, score) -> float:
    """Area under the ROC curve (ties count one half); NaN if only one class occurs."""
    e = _arr(event).astype(bool)
    s = _arr(score)
    n1, n0 = e.sum(), (~e).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[e].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def reliability(event, prob, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table: mean forecast and observed frequency per probability bin."""
    e, p = _arr(event), _arr(prob)
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for k in range(n_bins):
        m = b == k
        rows.append(
            {
                "bin_low": edges[k],
                "bin_high": edges[k + 1],
                "n": int(m.sum()),
                "mean_forecast": float(p[m].mean()) if m.any() else np.nan,
                "observed_frequency": float(e[m].mean()) if m.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


#: Bins of the PIT histogram reported by :func:`score_forecasts`.
PIT_BINS = 10

#: Central intervals: alpha -> (lower, upper, upper-when-lower-is-in-the-zero-mass).
INTERVALS = {
    0.5: ("q25", "q75", "q50"),
    0.2: ("q10", "q90", "q80"),
    0.05: ("q025", "q975", "q95"),
}


def interval_bounds(fc: pd.DataFrame, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``1 - alpha`` prediction interval of each day [people].

    Normally ``[q(alpha/2), q(1 - alpha/2)]``. When the lower end falls in the point
    mass at zero (``q(alpha/2) == 0``) the interval is ``[0, q(1 - alpha)]`` instead:
    with a probability mass at 0 the equal-tailed interval would hold more than
    ``1 - alpha`` of the probability (e.g. ``[0, q90]`` holds 90 %), so this keeps the
    nominal coverage of a calibrated forecast.
    """
    lo_c, hi_c, hi0_c = INTERVALS[alpha]
    lo = fc[lo_c].to_numpy(dtype=float)
    hi = np.where(lo <= 0, fc[hi0_c].to_numpy(dtype=float), fc[hi_c].to_numpy(dtype=float))
    return np.maximum(lo, 0.0), hi


def coverage_if_calibrated(p_any, lower, upper, alpha: float = 0.2) -> tuple[float, float]:
    """Coverage of :func:`interval_bounds` intervals that a calibrated forecast with
    these ``P(any)`` would reach: on all days, and on days with crossings.

    Each interval holds ``1 - alpha`` of its forecast's probability, except one that is
    just ``[0, 0]`` (``P(0) = 1 - p`` above ``1 - alpha``: the point mass cannot be
    split), which holds ``1 - p``. Of that, ``1 - p`` is the zero mass when the interval
    starts at 0, so the expected share of crossing days covered is
    ``sum(held - zero mass inside) / sum(p)``. With many days of small ``p`` the
    overall figure is above ``1 - alpha`` and the crossing-day figure well below it:
    the yardsticks for ``coverage_80`` and ``coverage_80_crossing_days``.

    Parameters
    ----------
    p_any : array of shape (n,)
        Forecast ``P(any crossing)``.
    lower, upper : array of shape (n,)
        Interval bounds [people] (:func:`interval_bounds`).
    alpha : float
        The interval's nominal miss rate.

    Returns
    -------
    all_days, crossing_days : float
    """
    p, lo, hi = _arr(p_any), _arr(lower), _arr(upper)
    if len(p) == 0:
        return float("nan"), float("nan")
    zero_in = lo <= 0
    held = np.where(zero_in & (hi <= 0), np.maximum(1 - p, 1 - alpha), 1 - alpha)
    crossing = held - np.where(zero_in, 1 - p, 0.0)
    on_crossing_days = float(np.sum(crossing) / np.sum(p)) if np.sum(p) > 0 else float("nan")
    return float(np.mean(held)), on_crossing_days


def score_forecasts(
    y, fc: pd.DataFrame, thresholds: Sequence[int] = (300, 500), grid_levels=None
) -> dict:
    """All scores of one forecaster on a set of days.

    Parameters
    ----------
    y : array-like
        Observed people [people].
    fc : pandas.DataFrame
        Forecast columns ``expected_people``, ``p_any``, ``q025, q10, q25, q50, q75,
        q90, q975``, ``p_gt_<N>``, and optionally ``crps`` (precomputed per day) and
        ``pit_lower``, ``pit_upper`` (``F(y - 1)``, ``F(y)`` per day, :func:`pit_bounds`).

    Returns
    -------
    dict
        ``n``, ``mae``, ``mae_median``, ``mae_skill_vs_zero``,
        ``mae_median_skill_vs_zero`` (``1 - MAE / MAE of the zero forecast``), ``rmse``,
        ``poisson_deviance``, ``crps``, ``wis``, ``pinball_q10/q50/q90``,
        ``coverage_50/80/95`` and ``width_50/80/95`` (:func:`interval_bounds`),
        ``coverage_80_crossing_days`` and ``coverage_80_zero_days`` (the 80 % interval
        on days with and without crossings), ``coverage_80_if_calibrated`` and
        ``coverage_80_crossing_days_if_calibrated`` (:func:`coverage_if_calibrated`),
        ``share_above_q90``, ``share_below_q10``,
        ``brier_any``, ``auc_any``, ``reliability_slope_any``, ``brier_gt_<N>``,
        ``auc_gt_<N>``, ``reliability_slope_gt_<N>`` (:func:`reliability_slope`), and
        with the PIT columns ``pit_hist_0`` .. ``pit_hist_9``: the randomised PIT
        histogram in :data:`PIT_BINS` = 10 bins (:func:`pit_histogram`) and
        ``coverage_80_pit``, its share in [0.1, 0.9] (:func:`pit_coverage`: 0.80 for a
        calibrated forecast, the coverage to compare with the nominal 80 %).
    """
    y = _arr(y)
    out: dict = {"n": len(y)}
    out["mae"] = mae(y, fc["expected_people"])
    out["mae_median"] = mae(y, fc["q50"])
    zero = float(np.mean(np.abs(y))) if len(y) else float("nan")
    for k in ("mae", "mae_median"):
        out[f"{k}_skill_vs_zero"] = 1 - out[k] / zero if zero > 0 else float("nan")
    out["rmse"] = rmse(y, fc["expected_people"])
    out["poisson_deviance"] = poisson_deviance(y, fc["expected_people"])
    if "crps" in fc.columns:
        out["crps"] = float(np.mean(fc["crps"]))
    bounds = {a: interval_bounds(fc, a) for a in INTERVALS}
    out["wis"] = weighted_interval_score(y, fc["q50"], bounds)
    for name, level in (("q10", 0.1), ("q50", 0.5), ("q90", 0.9)):
        out[f"pinball_{name}"] = float(np.mean(pinball(y, fc[name], level)))
    for a, (lo, hi) in bounds.items():
        out[f"coverage_{round(100 * (1 - a))}"] = coverage(y, lo, hi)
        out[f"width_{round(100 * (1 - a))}"] = float(np.mean(hi - lo))
    lo, hi = bounds[0.2]
    for name, days in (("crossing_days", y > 0), ("zero_days", y == 0)):
        out[f"coverage_80_{name}"] = (
            coverage(y[days], lo[days], hi[days]) if days.any() else float("nan")
        )
    (
        out["coverage_80_if_calibrated"],
        out["coverage_80_crossing_days_if_calibrated"],
    ) = coverage_if_calibrated(fc["p_any"], lo, hi, 0.2)
    out["share_above_q90"] = share_above(y, fc["q90"])
    out["share_below_q10"] = share_below(y, fc["q10"])
    out["brier_any"] = brier(y > 0, fc["p_any"])
    out["auc_any"] = roc_auc(y > 0, fc["p_any"])
    out["reliability_slope_any"] = reliability_slope(y > 0, fc["p_any"])
    for n in thresholds:
        out[f"brier_gt_{n}"] = brier(y > n, fc[f"p_gt_{n}"])
        out[f"auc_gt_{n}"] = roc_auc(y > n, fc[f"p_gt_{n}"])
        out[f"reliability_slope_gt_{n}"] = reliability_slope(y > n, fc[f"p_gt_{n}"])
    if "pit_lower" in fc.columns and "pit_upper" in fc.columns:
        hist = pit_histogram(fc["pit_lower"], fc["pit_upper"], PIT_BINS)
        out.update({f"pit_hist_{i}": float(v) for i, v in enumerate(hist)})
        out["coverage_80_pit"] = pit_coverage(hist, 0.8)
    return out
