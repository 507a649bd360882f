"""Proper scores for daily count forecasts and for "any crossing" / busy-day events.

All functions take plain arrays: observed counts ``y`` [people] and the forecast's
mean, quantiles or probabilities. References: Gneiting & Raftery (2007), "Strictly
proper scoring rules, prediction, and estimation", JASA 102(477); Bracher et al.
(2021), "Evaluating epidemic forecasts in an interval format", PLoS Comput Biol 17(2)
(weighted interval score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


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
        q90, q975``, ``p_gt_<N>``, and optionally ``crps`` (precomputed per day).

    Returns
    -------
    dict
        ``n``, ``mae``, ``mae_median``, ``rmse``, ``poisson_deviance``, ``crps``,
        ``wis``, ``pinball_q10/q50/q90``, ``coverage_50/80/95``, ``brier_any``,
        ``auc_any``, ``brier_gt_<N>``, ``auc_gt_<N>``.
    """
    y = _arr(y)
    out: dict = {"n": len(y)}
    out["mae"] = mae(y, fc["expected_people"])
    out["mae_median"] = mae(y, fc["q50"])
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
    out["brier_any"] = brier(y > 0, fc["p_any"])
    out["auc_any"] = roc_auc(y > 0, fc["p_any"])
    for n in thresholds:
        out[f"brier_gt_{n}"] = brier(y > n, fc[f"p_gt_{n}"])
        out[f"auc_gt_{n}"] = roc_auc(y > n, fc[f"p_gt_{n}"])
    return out
