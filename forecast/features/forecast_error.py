"""Simulated forecast error: turn observed daily station weather into a forecast of it.

Every skill figure computed on observed weather is *perfect prognosis*: the model is fed
the weather that actually happened. A planner reading day 5 of the outlook is fed a
five-day-old guess. This module replaces the observed weather of each target day by a
**simulated forecast issued k days earlier** (lead ``k`` = 1..16 [d]), with error sizes
per variable and lead taken from published verification of operational models (see
``docs/forecast-error.md`` for the figures, their sources and every assumption). All
output is labelled "simulated forecast error".

Error model (one variable, one lead)
------------------------------------
Each variable is mapped to a transformed scale ``g`` where its day-to-day anomalies are
roughly Gaussian (``log(x + 1 kn)`` for wind speeds, ``log`` for visibility,
``sqrt`` for precipitation, identity for pressure, temperature and cloud cover), and
standardised by a harmonic (day-of-year) climatology fitted to the record:
``x = (g(obs) - mu(doy)) / sigma(doy)``. The simulated forecast is

    x_f = a_k * x + sqrt(1 - a_k**2) * z,        forecast = g^-1(mu + sigma * x_f)

with ``z`` standard normal noise and ``a_k`` the correlation of forecast and observed
anomalies at lead ``k``. The forecast therefore has the climatological spread at every
lead (like a real model run), its error grows as ``a_k`` falls, and at ``a_k = 0`` it is
an independent draw from the day-of-year climatology: exactly the error of a random
day-of-year draw, the saturation level. ``a_k`` is solved numerically (Gauss-Hermite
quadrature over ``z``, bisection over ``a``) so that the expected mean absolute error
equals ``nmae(k) * MAE(a=0)``, where ``nmae`` is the normalised error of
:class:`ErrorTable` (MAE as a fraction of the climatological random-draw MAE).

Structure across variables and days
-----------------------------------
- ``z`` is AR(1) from one day to the next with correlation
  :attr:`ErrorTable.day_to_day_correlation` (a forecast wrong about a calm spell stays
  wrong for several days).
- The wind family shares one error: the noise of mean, max, min and gust is
  ``sqrt(c) F + sqrt(1 - c) e_v`` with a common factor ``F`` and
  ``c =`` :attr:`ErrorTable.wind_family_correlation`; each is calibrated to the wind's
  normalised error. Afterwards ``max >= mean``, ``gust >= max`` and ``min <= mean`` are
  enforced by clipping, so ``0 <= min <= mean <= max <= gust`` always holds.
- Pressure noise is anti-correlated with the wind noise
  (:attr:`ErrorTable.pressure_wind_correlation`); precipitation noise is partly tied to
  the wind noise and its duration to the precipitation noise.
- Direction gets a wrapped-normal circular error whose mean absolute size is
  :attr:`ErrorTable.direction_mae_deg`; hours of peak are shifted by a rounded normal
  number of hours (SD :attr:`ErrorTable.hour_sd_h`), wrapped to 0..23.

Ensembles (:func:`simulate_ensemble`) draw a latent centre ``c`` given the observation,
``c = a x + sqrt(a (1 - a)) eta``, and members ``c + sqrt(1 - a) eps_i``: observation and
members are then exchangeable (the truth behaves like one more member), and each member
alone has the same error law as :func:`simulate_forecast`.

Randomness comes only from ``random_state`` (an int seed or a ``numpy.random.Generator``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.special import ndtri

from forecast.errors import ConfigError, DataFormatError

__all__ = [
    "DEFAULT_TABLE",
    "LABEL",
    "MAX_LEAD",
    "REQUIRED_COLUMNS",
    "ErrorTable",
    "climatological_mae",
    "dress_forecast",
    "error_size",
    "simulate_ensemble",
    "simulate_forecast",
    "simulated_forecast_frames",
]

#: Words every output carries (``df.attrs["label"]``).
LABEL = "simulated forecast error"

#: Longest lead [d] (the ECMWF ensemble runs to 15 days; day 16 is saturated).
MAX_LEAD = 16

#: Columns the generator needs (the wind family).
REQUIRED_COLUMNS = (
    "wind_speed_10m_mean",
    "wind_speed_10m_max",
    "wind_speed_10m_min",
    "wind_gusts_10m_max",
)

#: Minimum days of record to fit a day-of-year climatology.
MIN_CLIMATE_DAYS = 365

_HOUR_COLUMNS = ("wind_speed_10m_max_hour_utc", "wind_gusts_10m_max_hour_utc")


@dataclass(frozen=True)
class ErrorTable:
    """Error size per lead time, per variable (cited in ``docs/forecast-error.md``).

    Normalised errors ``*_nmae`` are mean absolute errors as a fraction of the
    climatological error (the MAE of a random day-of-year draw) of the same quantity at
    the same station: 0 is a perfect forecast, 1 a forecast with no skill. Expressed
    this way the published figures transfer between stations and averaging periods.
    Leads between table points are interpolated linearly; leads after the last point
    are saturated (``nmae = 1``, direction MAE 90 deg, hours uniform).

    Attributes
    ----------
    leads : tuple of int
        Table leads [d], increasing, starting at 1.
    wind_nmae : tuple of float
        Daily mean 10 m wind speed [1]. Day 1 from the published 2.6 kn hourly MAE of
        ECMWF at coastal stations; the lead where the MSE skill against climatology
        crosses zero (``nmae = 1/sqrt(2)``) at day 9. See the docs.
    pressure_nmae, temperature_nmae, precipitation_nmae, cloud_nmae : tuple of float
        Same for mean sea-level pressure, 2 m temperature, daily precipitation, and for
        cloud cover, visibility and precipitation duration (``cloud_nmae``) [1].
    direction_mae_deg : tuple of float
        Mean absolute circular error of the daily mean wind direction [deg].
    hour_sd_h : tuple of float
        Standard deviation of the shift of the hour of the daily peak wind/gust [h].
    wind_bias_kn : tuple of float
        Additive bias of the wind speeds [kn] (forecast minus observation).
    day_to_day_correlation : float
        Lag-1 correlation [1] of the error noise between consecutive valid days.
    wind_family_correlation : float
        Correlation [1] of the noise of mean, max, min wind and gust (common factor).
    pressure_wind_correlation : float
        Correlation [1] of the pressure noise with the wind noise.
    precipitation_wind_correlation : float
        Correlation [1] of the precipitation noise with the wind noise.
    name : str
        Short name written into the output label.
    """

    leads: tuple[int, ...] = (1, 2, 3, 5, 7, 9, 12, 15)
    wind_nmae: tuple[float, ...] = (0.424, 0.447, 0.480, 0.548, 0.624, 0.707, 0.866, 1.0)
    pressure_nmae: tuple[float, ...] = (0.173, 0.200, 0.265, 0.387, 0.529, 0.648, 0.806, 0.949)
    temperature_nmae: tuple[float, ...] = (0.173, 0.200, 0.245, 0.346, 0.469, 0.592, 0.775, 0.922)
    precipitation_nmae: tuple[float, ...] = (0.500, 0.548, 0.592, 0.707, 0.806, 0.866, 0.949, 1.0)
    cloud_nmae: tuple[float, ...] = (0.500, 0.548, 0.592, 0.707, 0.806, 0.866, 0.949, 1.0)
    direction_mae_deg: tuple[float, ...] = (40.0, 42.2, 45.3, 51.7, 58.9, 66.7, 81.7, 90.0)
    hour_sd_h: tuple[float, ...] = (2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
    wind_bias_kn: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    day_to_day_correlation: float = 0.7
    wind_family_correlation: float = 0.8
    pressure_wind_correlation: float = -0.5
    precipitation_wind_correlation: float = 0.3
    name: str = "published-2025"
    sources: dict[str, str] = field(
        default_factory=lambda: {
            "wind day 1": "PredictWind, Model Validation Technical Report (2020): ECMWF "
            "day-1 wind speed MAE 2.6 kn at 441 mostly coastal land stations",
            "skill horizon": "ECMWF Forecast User Guide (regimes predictable to ~day 8); "
            "Lynch et al. 2014, MWR 142 (daily wind loses skill in the later medium range)",
            "direction": "meteo.matrunich.com forecast accuracy benchmark (2026): "
            "IFS-HRES 10 m wind direction MAE 39-44 deg",
        },
        compare=False,
    )

    def __post_init__(self) -> None:
        n = len(self.leads)
        if (
            n == 0
            or self.leads[0] != 1
            or any(b <= a for a, b in zip(self.leads, self.leads[1:], strict=False))
        ):
            raise ConfigError(f"ErrorTable.leads must start at 1 and increase; got {self.leads}")
        for name in (
            "wind_nmae",
            "pressure_nmae",
            "temperature_nmae",
            "precipitation_nmae",
            "cloud_nmae",
            "direction_mae_deg",
            "hour_sd_h",
            "wind_bias_kn",
        ):
            vals = getattr(self, name)
            if len(vals) != n:
                raise ConfigError(
                    f"ErrorTable.{name} has {len(vals)} values for {n} leads {self.leads}; "
                    "give one value per lead"
                )
            if name.endswith("nmae") and not all(0.0 <= v <= 1.0 for v in vals):
                raise ConfigError(f"ErrorTable.{name} must lie in [0, 1]; got {vals}")
        for name in (
            "day_to_day_correlation",
            "wind_family_correlation",
            "pressure_wind_correlation",
            "precipitation_wind_correlation",
        ):
            v = getattr(self, name)
            if not -1.0 < v < 1.0:
                raise ConfigError(f"ErrorTable.{name} must lie in (-1, 1); got {v}")

    def at(self, name: str, lead: int) -> float:
        """Value of column ``name`` at ``lead`` [d], interpolated; saturated after the table."""
        lead = _check_lead(lead)
        vals = np.asarray(getattr(self, name), dtype=float)
        if lead > self.leads[-1]:
            return {"direction_mae_deg": 90.0, "hour_sd_h": np.inf, "wind_bias_kn": 0.0}.get(
                name, 1.0
            )
        return float(np.interp(lead, self.leads, vals))


#: The table the project uses (see ``docs/forecast-error.md``).
DEFAULT_TABLE = ErrorTable()


# ----------------------------------------------------------------------------- helpers
def _check_lead(lead: object) -> int:
    if isinstance(lead, bool) or not isinstance(lead, int | np.integer):
        raise ConfigError(f"lead must be an integer number of days 1..{MAX_LEAD}; got {lead!r}")
    if not 1 <= int(lead) <= MAX_LEAD:
        raise ConfigError(
            f"lead must be 1..{MAX_LEAD} days (a forecast issued lead days before the "
            f"target day); got {lead}"
        )
    return int(lead)


def _rng(random_state: int | np.random.Generator | None) -> tuple[np.random.Generator, str]:
    if isinstance(random_state, np.random.Generator):
        return random_state, "numpy Generator"
    if random_state is None or isinstance(random_state, bool):
        raise ConfigError(
            "random_state must be an int seed or a numpy.random.Generator (the generator "
            f"is reproducible only with an explicit seed); got {random_state!r}"
        )
    if isinstance(random_state, int | np.integer):
        return np.random.default_rng(int(random_state)), str(int(random_state))
    raise ConfigError(
        f"random_state must be an int seed or a numpy.random.Generator; got {random_state!r}"
    )


def _check_weather(weather: pd.DataFrame, name: str = "weather") -> None:
    if not isinstance(weather, pd.DataFrame):
        raise DataFormatError(
            f"{name} must be a pandas DataFrame (as from load_knmi); got {type(weather).__name__}"
        )
    if not isinstance(weather.index, pd.DatetimeIndex):
        raise DataFormatError(
            f"{name} must be indexed by a DatetimeIndex of days (index 'date' as from load_knmi); "
            f"got {type(weather.index).__name__}"
        )
    if not weather.index.is_monotonic_increasing or weather.index.has_duplicates:
        raise DataFormatError(f"{name}: the date index must increase without duplicates")
    missing = [c for c in REQUIRED_COLUMNS if c not in weather.columns]
    if missing:
        raise DataFormatError(
            f"{name} lacks column(s) {missing}; the forecast-error generator needs "
            f"{list(REQUIRED_COLUMNS)} [kn] (load_knmi provides them)"
        )


def _ar1(n: int, rho: float, rng: np.random.Generator, size: int = 1) -> np.ndarray:
    """``size`` independent stationary AR(1) series of length ``n`` (unit variance), shape (size, n)."""
    e = rng.standard_normal((size, n))
    e[:, 1:] *= np.sqrt(1.0 - rho * rho)
    return lfilter([1.0], [1.0, -rho], e, axis=1)


def _harmonics(doy: np.ndarray) -> np.ndarray:
    w = 2.0 * np.pi * doy / 365.25
    return np.column_stack([np.ones_like(w), np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])


_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)
_GH_W = _GH_W / _GH_W.sum()
# Equal-probability grid of the standard normal (for the non-smooth wrapped error).
_NORMAL_GRID = ndtri((np.arange(4000) + 0.5) / 4000)


# ----------------------------------------------------------------------------- variables
@dataclass(frozen=True)
class _Var:
    column: str
    fwd: Callable[[np.ndarray], np.ndarray]
    inv: Callable[[np.ndarray], np.ndarray]
    lo: float
    hi: float
    table: str  # ErrorTable column giving the size; "" = follow the wind's a


def _log1(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, 0.0) + 1.0)


def _exp1(y: np.ndarray) -> np.ndarray:
    return np.exp(y) - 1.0


def _ident(x: np.ndarray) -> np.ndarray:
    return x


def _sqrt(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(x, 0.0))


def _square_pos(y: np.ndarray) -> np.ndarray:
    return np.maximum(y, 0.0) ** 2


def _log_vis(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, 10.0))


_VARS: dict[str, _Var] = {
    v.column: v
    for v in (
        _Var("wind_speed_10m_mean", _log1, _exp1, 0.0, np.inf, "wind_nmae"),
        _Var("wind_speed_10m_max", _log1, _exp1, 0.0, np.inf, "wind_nmae"),
        _Var("wind_speed_10m_min", _log1, _exp1, 0.0, np.inf, "wind_nmae"),
        _Var("wind_gusts_10m_max", _log1, _exp1, 0.0, np.inf, "wind_nmae"),
        _Var("pressure_msl_mean", _ident, _ident, 900.0, 1100.0, "pressure_nmae"),
        _Var("temperature_2m_mean", _ident, _ident, -60.0, 60.0, "temperature_nmae"),
        _Var("precipitation_sum", _sqrt, _square_pos, 0.0, np.inf, "precipitation_nmae"),
        _Var("precipitation_duration", _sqrt, _square_pos, 0.0, 24.0, "precipitation_nmae"),
        _Var("cloud_cover_mean", _ident, _ident, 0.0, 8.0, "cloud_nmae"),
        _Var("visibility_min", _log_vis, np.exp, 50.0, 75000.0, "cloud_nmae"),
    )
}


@dataclass
class _Clim:
    """Standardised anomalies of one transformed series against a harmonic climatology."""

    mu: np.ndarray
    sigma: np.ndarray
    x: np.ndarray  # standardised anomaly of the observation (NaN where missing)


def _fit_clim(
    g_obs: np.ndarray, doy: np.ndarray, g_clim: np.ndarray, doy_clim: np.ndarray, column: str
) -> _Clim:
    ok = np.isfinite(g_clim)
    if ok.sum() < MIN_CLIMATE_DAYS:
        raise ConfigError(
            f"column {column!r} has {int(ok.sum())} valid days; the forecast-error model needs "
            f">= {MIN_CLIMATE_DAYS} days to fit a day-of-year climatology. Pass a longer "
            "record as climate= (e.g. climate=load_knmi())"
        )
    h = _harmonics(doy_clim[ok])
    beta, *_ = np.linalg.lstsq(h, g_clim[ok], rcond=None)
    resid2 = (g_clim[ok] - h @ beta) ** 2
    gamma, *_ = np.linalg.lstsq(h, resid2, rcond=None)
    floor = 0.05 * float(np.var(g_clim[ok])) + 1e-12
    ho = _harmonics(doy)
    mu = ho @ beta
    sigma = np.sqrt(np.maximum(ho @ gamma, floor))
    return _Clim(mu=mu, sigma=sigma, x=(g_obs - mu) / sigma)


class _Model:
    """Climatologies of one weather frame and the per-lead correlations ``a_k`` (cached)."""

    def __init__(self, weather: pd.DataFrame, climate: pd.DataFrame | None, table: ErrorTable):
        _check_weather(weather)
        if climate is None:
            climate = weather
        else:
            _check_weather(climate, "climate")
        self.table = table
        self.weather = weather
        doy = weather.index.day_of_year.to_numpy(dtype=float)
        doy_c = climate.index.day_of_year.to_numpy(dtype=float)
        self.obs = {
            c: weather[c].to_numpy(dtype=float)
            for c in weather.columns
            if c in _VARS or c in REQUIRED_COLUMNS
        }
        self.clim: dict[str, _Clim] = {}
        for col, var in _VARS.items():
            if col in weather.columns:
                if col not in climate.columns:
                    raise DataFormatError(f"climate lacks column {col!r} that weather has")
                self.clim[col] = _fit_clim(
                    var.fwd(weather[col].to_numpy(dtype=float)),
                    doy,
                    var.fwd(climate[col].to_numpy(dtype=float)),
                    doy_c,
                    col,
                )
        self._a: dict[tuple[str, int], float] = {}

    # -- calibration
    def _expected_mae(self, col: str, a: float, bias: float = 0.0) -> float:
        var, cl = _VARS[col], self.clim[col]
        obs = self.obs[col]
        ok = np.isfinite(cl.x) & np.isfinite(obs)
        x, mu, sg, t = cl.x[ok], cl.mu[ok], cl.sigma[ok], obs[ok]
        xf = a * x[:, None] + np.sqrt(max(1.0 - a * a, 0.0)) * _GH_X[None, :]
        f = np.clip(var.inv(mu[:, None] + sg[:, None] * xf) + bias, var.lo, var.hi)
        return float(np.mean(np.abs(f - t[:, None]) @ _GH_W))

    def a(self, col: str, lead: int) -> float:
        """Correlation ``a_k`` giving the table's normalised MAE for ``col`` at ``lead``."""
        key = (col, lead)
        if key not in self._a:
            nmae = self.table.at(_VARS[col].table, lead)
            bias = self.table.at("wind_bias_kn", lead) if col in REQUIRED_COLUMNS else 0.0
            if nmae >= 1.0:
                self._a[key] = 0.0
                return 0.0
            target = nmae * self._expected_mae(col, 0.0)
            lo, hi = 0.0, 1.0
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if self._expected_mae(col, mid, bias) > target:
                    lo = mid
                else:
                    hi = mid
            self._a[key] = 0.5 * (lo + hi)
        return self._a[key]

    # -- noise fields
    def noise(self, rng: np.random.Generator, n_fields: int = 1) -> dict[str, np.ndarray]:
        """Cross-correlated AR(1) noise per variable, shape (n_fields, n_days)."""
        idx = self.weather.index
        full = pd.date_range(idx[0], idx[-1], freq="D")
        pos = full.get_indexer(idx)
        n = len(full)
        rho = self.table.day_to_day_correlation
        names = [
            "wind",
            "mean",
            "pressure",
            "wet",
            "duration",
            "temperature",
            "cloud",
            "visibility",
            "max",
            "min",
            "gust",
            "direction",
            "hour",
        ]
        draws = _ar1(n, rho, rng, n_fields * len(names))[:, pos].reshape(len(names), n_fields, -1)
        base = dict(zip(names, draws, strict=True))
        r_p, r_w = self.table.pressure_wind_correlation, self.table.precipitation_wind_correlation
        c = self.table.wind_family_correlation
        precip = r_w * base["wind"] + np.sqrt(1 - r_w * r_w) * base["wet"]

        def family(own: str) -> np.ndarray:
            return np.sqrt(c) * base["wind"] + np.sqrt(1 - c) * base[own]

        return {
            "wind_speed_10m_mean": family("mean"),
            "wind_speed_10m_max": family("max"),
            "wind_speed_10m_min": family("min"),
            "wind_gusts_10m_max": family("gust"),
            "pressure_msl_mean": r_p * base["wind"] + np.sqrt(1 - r_p * r_p) * base["pressure"],
            "precipitation_sum": precip,
            "precipitation_duration": 0.9 * precip + np.sqrt(1 - 0.81) * base["duration"],
            "temperature_2m_mean": base["temperature"],
            "cloud_cover_mean": base["cloud"],
            "visibility_min": base["visibility"],
            "direction": base["direction"],
            "hour": base["hour"],
        }

    # -- assembly
    def build(
        self,
        lead: int | np.ndarray,
        xf: dict[str, np.ndarray],
        dir_err: np.ndarray,
        hour_shift: np.ndarray,
    ) -> pd.DataFrame:
        """Forecast frame from forecast anomalies ``xf`` (1-D per variable) and circular
        shifts; ``lead``: one lead [d], or one per day."""
        w = self.weather
        out = w.copy()
        vals: dict[str, np.ndarray] = {}
        for col, var in _VARS.items():
            if col not in self.clim:
                continue
            cl = self.clim[col]
            f = var.inv(cl.mu + cl.sigma * xf[col])
            if col in REQUIRED_COLUMNS:
                f = f + _at_leads(self.table, "wind_bias_kn", lead)
            f = np.clip(f, var.lo, var.hi)
            f[~np.isfinite(self.obs.get(col, w[col].to_numpy(dtype=float)))] = np.nan
            vals[col] = f
        mean = vals["wind_speed_10m_mean"]
        vals["wind_speed_10m_max"] = np.fmax(vals["wind_speed_10m_max"], mean)
        vals["wind_speed_10m_min"] = np.fmin(vals["wind_speed_10m_min"], mean)
        vals["wind_gusts_10m_max"] = np.fmax(vals["wind_gusts_10m_max"], vals["wind_speed_10m_max"])
        for col in REQUIRED_COLUMNS:
            vals[col][~np.isfinite(w[col].to_numpy(dtype=float))] = np.nan
        if "precipitation_duration" in vals and "precipitation_sum" in vals:
            dry = vals["precipitation_sum"] == 0.0
            vals["precipitation_duration"] = np.where(dry, 0.0, vals["precipitation_duration"])
        if "wind_direction_10m_mean" in w.columns:
            d = w["wind_direction_10m_mean"].to_numpy(dtype=float)
            vals["wind_direction_10m_mean"] = np.mod(d + dir_err, 360.0)
        for col in _HOUR_COLUMNS:
            if col in w.columns:
                h = w[col].to_numpy(dtype=float)
                vals[col] = np.mod(h + hour_shift, 24.0)
        for col, v in vals.items():
            out[col] = v
        return out


@lru_cache(maxsize=256)
def _direction_sd(mae_deg: float) -> float:
    """SD [deg] of a normal whose wrapped absolute value has mean ``mae_deg`` (< 90).

    Cached: a bisection over a 4,000-point grid, asked once per member and lead.
    """
    if mae_deg >= 90.0:
        return np.inf
    lo, hi = 0.0, 2000.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        e = np.mean(np.abs((mid * _NORMAL_GRID + 180.0) % 360.0 - 180.0))
        if e > mae_deg:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _circular(
    std_noise: np.ndarray, sd: float, period: float, rng: np.random.Generator
) -> np.ndarray:
    """Scale unit noise to SD ``sd``; an infinite SD means uniform on the circle."""
    if np.isinf(sd):
        return rng.uniform(0.0, period, size=std_noise.shape)
    return std_noise * sd


def _label(
    weather: pd.DataFrame, lead: int | list[int], seed: str, table: ErrorTable, kind: str
) -> dict:
    """Attrs of a simulated frame; ``lead``: one lead [d], or ``[first, last]`` of a span."""
    attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in weather.attrs.items()}
    when = (
        f"at leads {lead[0]}..{lead[1]} d"
        if isinstance(lead, list)
        else f"issued {lead} d ahead (lead {lead} d)"
    )
    text = f"{LABEL}: {kind} {when}, seed {seed}, table {table.name}"
    attrs["label"] = text
    attrs["source"] = f"{attrs.get('source', 'observed weather')}; {text}"
    attrs["weather_error"] = {"lead": lead, "seed": seed, "table": table.name, "kind": kind}
    return attrs


# ----------------------------------------------------------------------------- stations
_STATION_RE = re.compile(r"^(stn\d+_)(.+)$")


def split_stations(weather: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frame of each station in a joined KNMI frame, keyed by column prefix.

    The primary station (unprefixed columns) has key ``""``; another station's columns
    ``stn340_...`` become a frame with the prefix removed, key ``"stn340_"``.
    """
    groups: dict[str, list[str]] = {}
    for col in weather.columns:
        m = _STATION_RE.match(str(col))
        groups.setdefault(m.group(1) if m else "", []).append(col)
    out = {}
    for prefix, cols in groups.items():
        frame = weather[cols].copy()
        frame.columns = [c[len(prefix) :] for c in cols]
        frame.attrs = dict(weather.attrs)
        out[prefix] = frame
    return out


def _per_station(core, weather: pd.DataFrame, random_state, climate, **kw) -> pd.DataFrame:
    """Apply ``core`` to each station of ``weather`` with the same seed, then rejoin.

    The same seed gives every station the same standardised error sequence, so the
    stations' forecast errors move together (one weather system, one forecast): a
    forecast that misses a calm spell misses it at the coast and inland alike.
    """
    if not isinstance(weather, pd.DataFrame):
        _check_weather(weather)  # the clear error for a Series or another object
    parts = split_stations(weather)
    if list(parts) == [""]:
        return core(weather, random_state=random_state, climate=climate, **kw)
    if isinstance(random_state, np.random.Generator):  # one seed for every station
        random_state = int(random_state.integers(0, 2**31 - 1))
    climates = split_stations(climate) if climate is not None else {}
    out = []
    for prefix, frame in parts.items():
        if prefix and any(c not in frame.columns for c in REQUIRED_COLUMNS):
            out.append(frame.add_prefix(prefix))  # a station without wind: kept as observed
            continue
        sim = core(frame, random_state=random_state, climate=climates.get(prefix), **kw)
        attrs = sim.attrs
        out.append(sim.add_prefix(prefix) if prefix else sim)
        if not prefix:
            primary_attrs = attrs
    joined = pd.concat(out, axis=1)[list(weather.columns)]
    joined.attrs = primary_attrs
    return joined


# ----------------------------------------------------------------------------- public API
def simulate_forecast(
    weather: pd.DataFrame,
    lead: int,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replace observed daily weather by a simulated forecast issued ``lead`` days earlier.

    Every station of a joined KNMI frame (``stn<N>_`` columns) gets its own simulated
    forecast with the same error sequence (see :func:`_per_station`); the details are
    in :func:`_simulate_forecast_one`.
    """
    return _per_station(
        _simulate_forecast_one, weather, random_state, climate, lead=lead, table=table
    )


def simulate_ensemble(
    weather: pd.DataFrame,
    lead: int,
    n_members: int = 51,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulated ensemble forecast issued ``lead`` days before each day, every station.

    Index levels ``member`` and ``date``; see :func:`_simulate_ensemble_one`.
    """
    return _per_station(
        _simulate_ensemble_one,
        weather,
        random_state,
        climate,
        lead=lead,
        n_members=n_members,
        table=table,
    )


def dress_forecast(
    forecast: pd.DataFrame,
    lead: int,
    n_members: int = 51,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Dress a deterministic daily forecast issued ``lead`` days ahead with its error:
    members that are draws of the weather that may follow it, every station.

    Index levels ``member`` and ``date``; see :func:`_dress_forecast_one`.
    """
    return _per_station(
        _dress_forecast_one,
        forecast,
        random_state,
        climate,
        lead=lead,
        n_members=n_members,
        table=table,
    )


def simulated_forecast_frames(
    weather: pd.DataFrame,
    leads: Iterable[int] = range(1, 8),
    n_draws: int = 3,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Several simulated forecasts per day and lead (every station), for training.

    Index levels ``lead``, ``draw`` and ``date``; see :func:`_simulated_forecast_frames_one`.
    """
    return _per_station(
        _simulated_forecast_frames_one,
        weather,
        random_state,
        climate,
        leads=leads,
        n_draws=n_draws,
        table=table,
    )


def _simulate_forecast_one(
    weather: pd.DataFrame,
    lead: int,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replace observed daily weather by a simulated forecast issued ``lead`` days earlier.

    Parameters
    ----------
    weather : pandas.DataFrame
        Daily station weather as from :func:`forecast.sources.knmi.load_knmi` (index
        ``date``; at least :data:`REQUIRED_COLUMNS` [kn]). Known columns are perturbed
        (wind speeds [kn], direction [deg], pressure [hPa], precipitation [mm] and its
        duration [h], temperature [degC], visibility [m], cloud [octa], hours of peak
        [h]); other columns are copied unchanged.
    lead : int
        Lead time [d], 1..16.
    random_state : int or numpy.random.Generator
        Seed (recorded in the label) or generator.
    table : ErrorTable
        Error sizes per lead (default :data:`DEFAULT_TABLE`).
    climate : pandas.DataFrame, optional
        Record used to fit the day-of-year climatology (default ``weather``; must hold
        at least 365 days; pass the full record when ``weather`` is a short window).

    Returns
    -------
    pandas.DataFrame
        Same index and columns; ``attrs["label"]`` says "simulated forecast error" with
        the lead and seed, ``attrs["weather_error"]`` holds them as a dict.

    Raises
    ------
    ConfigError
        ``lead`` outside 1..16, a bad ``random_state``, or too short a record.
    DataFormatError
        ``weather`` is not a date-indexed frame with the wind columns.
    """
    lead = _check_lead(lead)
    rng, seed = _rng(random_state)
    model = _Model(weather, climate, table)
    return _forecast(model, lead, rng, seed)


def _forecast(model: _Model, lead: int, rng: np.random.Generator, seed: str) -> pd.DataFrame:
    z = model.noise(rng)
    xf = {}
    for key, cl in model.clim.items():
        a = model.a(key, lead)
        xf[key] = a * cl.x + np.sqrt(1.0 - a * a) * z[key][0]
    table = model.table
    dir_err = _circular(
        z["direction"][0], _direction_sd(table.at("direction_mae_deg", lead)), 360.0, rng
    )
    hour = np.round(_circular(z["hour"][0], table.at("hour_sd_h", lead), 24.0, rng))
    out = model.build(lead, xf, dir_err, hour)
    out.attrs = _label(model.weather, lead, seed, table, "forecast")
    return out


def _forecast_rows(model: _Model, leads: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """:func:`_forecast` with a lead [d] per day, in one pass: day ``i`` gets exactly the
    value that :func:`_forecast` at lead ``leads[i]`` with the same generator state gives
    it (the same noise; the uniform draws of saturated leads taken in the same order)."""
    z = model.noise(rng)
    uniq = np.unique(leads)
    xf = {}
    for key, cl in model.clim.items():
        a = _per_lead(leads, uniq, [model.a(key, int(k)) for k in uniq])
        xf[key] = a * cl.x + np.sqrt(1.0 - a * a) * z[key][0]
    table = model.table
    dir_sd = _per_lead(
        leads, uniq, [_direction_sd(table.at("direction_mae_deg", int(k))) for k in uniq]
    )
    hour_sd = _per_lead(leads, uniq, [table.at("hour_sd_h", int(k)) for k in uniq])
    dir_err = _circular_rows(z["direction"][0], dir_sd, 360.0, rng)
    hour = np.round(_circular_rows(z["hour"][0], hour_sd, 24.0, rng))
    return model.build(leads, xf, dir_err, hour)


def _per_lead(leads: np.ndarray, uniq: np.ndarray, values: list[float]) -> np.ndarray:
    """``values[j]`` (the value at lead ``uniq[j]``) on every day at that lead."""
    return np.asarray(values, dtype=float)[np.searchsorted(uniq, leads)]


def _circular_rows(
    std_noise: np.ndarray, sd: np.ndarray, period: float, rng: np.random.Generator
) -> np.ndarray:
    """:func:`_circular` with an SD per day: days of infinite SD take the uniform draw
    that :func:`_circular` makes for a whole saturated lead."""
    inf = np.isinf(sd)
    if not inf.any():
        return std_noise * sd
    uniform = rng.uniform(0.0, period, size=std_noise.shape)
    return np.where(inf, uniform, std_noise * np.where(inf, 0.0, sd))


def _at_leads(table: ErrorTable, name: str, lead: int | np.ndarray) -> float | np.ndarray:
    """:meth:`ErrorTable.at` for one lead, or per day for an array of leads."""
    if np.ndim(lead) == 0:
        return table.at(name, int(lead))
    leads = np.asarray(lead)
    uniq = np.unique(leads)
    return _per_lead(leads, uniq, [table.at(name, int(k)) for k in uniq])


def _simulate_ensemble_one(
    weather: pd.DataFrame,
    lead: int,
    n_members: int = 51,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulated ensemble forecast issued ``lead`` days before each day.

    Members share a latent centre drawn given the observation and spread around it so
    that the observation is statistically one more member (spread-error consistency):
    in the standardised anomaly space the centre is ``a x + sqrt(a (1 - a)) eta`` and
    member ``i`` adds ``sqrt(1 - a) eps_i``; direction and peak hours use a shared
    offset plus a member offset, each with half the single-forecast variance. Every
    member's noise is AR(1) over days, so a member that misses a calm spell misses it
    for several days (draw week totals jointly along a member).

    Parameters
    ----------
    weather, lead, random_state, table, climate
        As in :func:`simulate_forecast`.
    n_members : int
        Number of members (>= 2); member 0 is the control.

    Returns
    -------
    pandas.DataFrame
        Index levels ``member`` (0..n_members-1) and ``date``; the weather columns.
        ``attrs["label"]`` says "simulated forecast error" (kind "ensemble").
    """
    lead = _check_lead(lead)
    if isinstance(n_members, bool) or not isinstance(n_members, int | np.integer) or n_members < 2:
        raise ConfigError(f"n_members must be an integer >= 2; got {n_members!r}")
    rng, seed = _rng(random_state)
    model = _Model(weather, climate, table)
    centre_noise = model.noise(rng)
    centre, a_of = {}, {}
    for key, cl in model.clim.items():
        a = model.a(key, lead)
        a_of[key] = a
        centre[key] = a * cl.x + np.sqrt(a * (1.0 - a)) * centre_noise[key][0]
    dsd = _direction_sd(table.at("direction_mae_deg", lead)) / np.sqrt(2.0)
    hsd = table.at("hour_sd_h", lead) / np.sqrt(2.0)
    d0 = _circular(centre_noise["direction"][0], dsd, 360.0, rng)
    h0 = _circular(centre_noise["hour"][0], hsd, 24.0, rng)
    frames = []
    for _m in range(int(n_members)):
        zm = model.noise(rng)
        xf = {k: centre[k] + np.sqrt(1.0 - a_of[k]) * zm[k][0] for k in centre}
        dir_err = d0 + _circular(zm["direction"][0], dsd, 360.0, rng)
        hour = np.round(h0 + _circular(zm["hour"][0], hsd, 24.0, rng))
        frames.append(model.build(lead, xf, dir_err, hour))
    out = pd.concat(frames, keys=range(int(n_members)), names=["member", "date"])
    out.attrs = _label(model.weather, lead, seed, table, f"ensemble of {int(n_members)} members")
    return out


def _dress_forecast_one(
    forecast: pd.DataFrame,
    lead: int,
    n_members: int = 51,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Members drawn from the weather given a deterministic forecast at ``lead`` days.

    In the standardised anomaly space of the error model the observation ``x`` and the
    forecast ``x_f = a x + sqrt(1 - a**2) z`` are a standard bivariate normal pair with
    correlation ``a`` (the forecast has the climatological spread), so ``x`` given
    ``x_f`` has the same law as ``x_f`` given ``x``: ``x = a x_f + sqrt(1 - a**2) w``.
    Each member is therefore the generator of :func:`simulate_forecast` applied to the
    *forecast*, with its own noise: a draw of the truth given the forecast (shrunk
    towards the day-of-year climatology as ``a`` falls with lead, and as wide as the
    climatology at saturation). This is error dressing: it turns one deterministic run
    into an ensemble whose spread is the published error of that lead.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Daily forecast weather with the columns of :func:`forecast.sources.knmi.load_knmi`
        (at least :data:`REQUIRED_COLUMNS` [kn]).
    lead : int or sequence of int
        Lead time [d] of the forecast's days, 1..16: one for all, or one per row of
        ``forecast`` (e.g. an outlook's days after its origin). Per row, day ``i`` gets
        exactly the value it gets from a call at lead ``lead[i]`` with the same seed, in
        one pass.
    n_members : int
        Members (>= 1).
    random_state : int or numpy.random.Generator
        Seed. Member ``i`` uses the seed sequence ``[seed, i]`` when an int is given, so
        the same seed at every lead gives each member one consistent AR(1) error path
        through the days of an outlook.
    table, climate
        As in :func:`simulate_forecast` (``climate``: a record of at least 365 days of
        the same quantities, e.g. the observed record the model trains on).

    Returns
    -------
    pandas.DataFrame
        Index levels ``member`` (0..n_members-1) and ``date``; the columns of
        ``forecast``; ``attrs["label"]`` says "simulated forecast error" (kind
        "dressed forecast").
    """
    per_row = np.ndim(lead) > 0
    if per_row:
        leads = np.array([_check_lead(k) for k in np.asarray(lead).tolist()], dtype=int)
        if len(leads) != len(forecast):
            raise ConfigError(
                f"lead has {len(leads)} values for {len(forecast)} forecast days; give one "
                "lead per day, or one for all"
            )
    else:
        lead = _check_lead(lead)
    if isinstance(n_members, bool) or not isinstance(n_members, int | np.integer) or n_members < 1:
        raise ConfigError(f"n_members must be an integer >= 1; got {n_members!r}")
    rng, seed = _rng(random_state)
    if isinstance(random_state, np.random.Generator):
        rngs = [np.random.default_rng(int(rng.integers(0, 2**63 - 1))) for _ in range(n_members)]
    else:
        rngs = [np.random.default_rng([int(random_state), i]) for i in range(int(n_members))]
    model = _Model(forecast, climate, table)
    if per_row:
        frames = [_forecast_rows(model, leads, r) for r in rngs]
    else:
        frames = [_forecast(model, lead, r, seed) for r in rngs]
    out = pd.concat(frames, keys=range(int(n_members)), names=["member", "date"])
    kind = f"dressed forecast of {int(n_members)} members"
    span = [int(leads.min()), int(leads.max())] if per_row and len(leads) else lead
    out.attrs = _label(model.weather, span, seed, table, kind)
    return out


def _simulated_forecast_frames_one(
    weather: pd.DataFrame,
    leads: Iterable[int] = range(1, 8),
    n_draws: int = 3,
    random_state: int | np.random.Generator = 0,
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Several independent simulated forecasts per day and lead, for training.

    Returns
    -------
    pandas.DataFrame
        Index levels ``lead`` [d], ``draw`` (0..n_draws-1) and ``date``; the weather
        columns; ``attrs["label"]`` says "simulated forecast error" with leads and seed.
    """
    leads = [_check_lead(k) for k in leads]
    if not leads:
        raise ConfigError("leads is empty; give at least one lead in 1..16")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1:
        raise ConfigError(f"n_draws must be an integer >= 1; got {n_draws!r}")
    rng, seed = _rng(random_state)
    model = _Model(weather, climate, table)
    parts, keys = [], []
    for k in leads:
        for d in range(int(n_draws)):
            parts.append(_forecast(model, k, rng, seed))
            keys.append((k, d))
    out = pd.concat(parts, keys=keys, names=["lead", "draw", "date"])
    attrs = _label(weather, leads[0], seed, table, f"{int(n_draws)} draws per lead")
    text = (
        f"{LABEL}: {int(n_draws)} draws per day at leads {leads} d, seed {seed}, table {table.name}"
    )
    attrs["label"] = text
    attrs["source"] = f"{weather.attrs.get('source', 'observed weather')}; {text}"
    attrs["weather_error"] = {
        "leads": leads,
        "seed": seed,
        "table": table.name,
        "n_draws": int(n_draws),
    }
    out.attrs = attrs
    return out


def error_size(
    weather: pd.DataFrame,
    lead: int,
    column: str = "wind_speed_10m_mean",
    *,
    table: ErrorTable = DEFAULT_TABLE,
    climate: pd.DataFrame | None = None,
) -> float:
    """Expected mean absolute error of ``column`` at ``lead`` for this record [its unit].

    ``table.<col>_nmae`` times the model's climatological (random-draw) MAE; for the
    wind family the bias is included.
    """
    lead = _check_lead(lead)
    model = _Model(weather, climate, table)
    if column not in model.clim:
        raise ConfigError(f"column must be one of {sorted(model.clim)}; got {column!r}")
    bias = table.at("wind_bias_kn", lead) if column in REQUIRED_COLUMNS else 0.0
    return model._expected_mae(column, model.a(column, lead), bias)


def climatological_mae(
    weather: pd.DataFrame,
    column: str = "wind_speed_10m_mean",
    window_days: int = 15,
    random_state: int | np.random.Generator = 0,
) -> float:
    """Empirical MAE of a random day-of-year draw (the saturation error) [unit of column].

    For each day, the value of a random day within ``window_days`` of the same day of
    year in another year stands in as the "forecast".
    """
    _check_weather(weather)
    if column not in weather.columns:
        raise DataFormatError(f"weather lacks column {column!r}")
    rng, _ = _rng(random_state)
    x = weather[column].to_numpy(dtype=float)
    doy = weather.index.day_of_year.to_numpy()
    yr = weather.index.year.to_numpy()
    errs = []
    for i in np.flatnonzero(np.isfinite(x)):
        dd = np.abs((doy - doy[i] + 182) % 365 - 182)
        cand = np.flatnonzero((dd <= window_days) & (yr != yr[i]) & np.isfinite(x))
        if cand.size:
            errs.append(abs(x[rng.choice(cand)] - x[i]))
    if not errs:
        raise ConfigError("climatological_mae needs at least two years of data")
    return float(np.mean(errs))
