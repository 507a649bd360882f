"""The saved outlook JSON: read it safely and check it against its layout before use.

An outlook file given to ``forecast report --outlook FILE`` (or ``out/outlook.json``
with ``--latest``) may have been edited or crafted. :func:`read_outlook_file` reads it
as strict UTF-8 JSON and :func:`validate_outlook` checks every field the page renders:
required keys and their types, ``rag`` in red/amber/green, numbers finite and >= 0,
probabilities in [0, 1], dates and times ISO 8601, attribution links http(s) only,
``schema`` a known version. Keys it does not know are allowed (newer writers may add
some) but are never rendered. Errors name the file and the field, e.g.
``outlook o.json: days[2].q10 must be a number >= 0, got '<script>'``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from urllib.parse import urlsplit

from forecast.errors import DataFormatError
from forecast.products.outlook import SCHEMA_VERSION

#: Schema versions this module can check and the page can draw.
KNOWN_SCHEMAS = (SCHEMA_VERSION,)

#: Largest outlook file read [bytes]; real ones are tens of kilobytes.
MAX_BYTES = 16 * 1024 * 1024

RAG_VALUES = ("red", "amber", "green")
MODES = ("live", "as_of")
CONFIDENCE_VALUES = ("normal", "lower")
#: ``ensemble.kind``: a cached Open-Meteo ensemble, one simulated for a replay, or the
#: deterministic forecast dressed with its simulated error.
ENSEMBLE_KINDS = ("cached", "simulated", "dressed")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
URL_SCHEMES = ("http", "https")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MISSING = object()


class _Checker:
    """Field checks that raise :class:`DataFormatError` naming ``where`` and the field."""

    def __init__(self, where: str, option: str = "--outlook"):
        self.where = where
        self.hint = f"Give an outlook written by 'forecast outlook', or drop {option}."

    def fail(self, field: str, what: str, value) -> None:
        shown = str(value) if isinstance(value, _Kind) else repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise DataFormatError(f"{self.where}: {field} {what}, got {shown}. {self.hint}")

    def get(self, obj: dict, key: str, field: str, optional: bool = False):
        if key not in obj:
            if optional:
                return _MISSING
            raise DataFormatError(f"{self.where}: {field} is missing. {self.hint}")
        return obj[key]

    def obj(self, value, field: str) -> dict:
        if not isinstance(value, dict):
            self.fail(field, "must be an object", _kind(value))
        return value

    def text(self, value, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, "must be text", value)
        return value

    def choice(self, value, field: str, allowed: tuple) -> str:
        if value not in allowed:
            self.fail(field, f"must be one of {', '.join(map(str, allowed))}", value)
        return value

    def number(self, value, field: str, lo: float = 0.0, hi: float | None = None) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and value >= lo and (hi is None or value <= hi)
        if not ok:
            rng = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
            self.fail(field, f"must be a number {rng}", value)
        return value

    def integer(self, value, field: str, lo: int = 0) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            self.fail(field, f"must be a whole number >= {lo}", value)
        return value

    def date(self, value, field: str) -> str:
        ok = isinstance(value, str) and _ISO_DATE.fullmatch(value)
        if ok:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                ok = False
        if not ok:
            self.fail(field, "must be an ISO date YYYY-MM-DD", value)
        return value

    def time_utc(self, value, field: str) -> str:
        ok = isinstance(value, str) and _ISO_DATE.match(value)
        if ok:
            try:
                ts = dt.datetime.fromisoformat(value)
            except ValueError:
                ok = False
            else:
                ok = ts.tzinfo is not None
        if not ok:
            self.fail(field, "must be an ISO 8601 time with its UTC offset", value)
        return value

    def url(self, value, field: str) -> str:
        ok = isinstance(value, str) and not any(c.isspace() or ord(c) < 32 for c in value)
        if ok:
            parts = urlsplit(value)
            ok = parts.scheme in URL_SCHEMES and bool(parts.netloc)
        if not ok:
            self.fail(field, "must be an http(s) link", value)
        return value

    def items(self, value, field: str, min_len: int = 0) -> list:
        if not isinstance(value, list) or len(value) < min_len:
            need = f"a list of at least {min_len} item(s)" if min_len else "a list"
            self.fail(
                field, f"must be {need}", _kind(value) if not isinstance(value, list) else value
            )
        return value


class _Kind(str):
    """A type's name shown as is (not quoted) in messages."""


def _kind(value) -> _Kind:
    """Short name of a JSON value's type, for messages."""
    return _Kind(
        {
            dict: "an object",
            list: "a list",
            str: "text",
            bool: "true/false",
            int: "a number",
            float: "a number",
            type(None): "null",
        }.get(type(value), type(value).__name__)
    )


def validate_outlook(data, where: str = "outlook", option: str = "--outlook") -> dict:
    """Check ``data`` (a decoded outlook JSON) field by field; return it unchanged.

    Parameters
    ----------
    data : object
        The decoded JSON.
    where : str
        What to call the source in messages, e.g. ``"outlook out/o.json"``.
    option : str
        The option that chose the file, for the hint in messages.

    Raises
    ------
    DataFormatError
        Naming the first field that breaks the layout, what it must be and what it is.
    """
    c = _Checker(where, option)
    if not isinstance(data, dict):
        raise DataFormatError(
            f"{where}: the JSON is {_kind(data)}, not an outlook object. {c.hint}"
        )
    schema = c.get(data, "schema", "schema")
    if schema not in KNOWN_SCHEMAS or isinstance(schema, bool):
        c.fail(
            "schema",
            f"must be a known layout version ({', '.join(map(str, KNOWN_SCHEMAS))})",
            schema,
        )
    c.choice(c.get(data, "mode", "mode"), "mode", MODES)
    c.time_utc(c.get(data, "issued_utc", "issued_utc"), "issued_utc")
    c.date(c.get(data, "first_day", "first_day"), "first_day")
    c.date(c.get(data, "last_day", "last_day"), "last_day")
    thresholds = c.items(c.get(data, "thresholds", "thresholds"), "thresholds", 1)
    for i, n in enumerate(thresholds):
        c.integer(n, f"thresholds[{i}]")
    lead = c.get(data, "lead_days", "lead_days", optional=True)
    if lead not in (_MISSING, None):
        for i, n in enumerate(c.items(lead, "lead_days", 2)):
            c.integer(n, f"lead_days[{i}]")

    a = c.obj(c.get(data, "arrivals", "arrivals"), "arrivals")
    c.date(c.get(a, "end_date", "arrivals.end_date"), "arrivals.end_date")
    _optional_text(c, a, "source", "arrivals")

    w = c.obj(c.get(data, "weather", "weather"), "weather")
    for key in ("source", "label", "run", "missing"):
        _optional_text(c, w, key, "weather", allow_null=True)

    days = c.items(c.get(data, "days", "days"), "days", 1)
    for i, d in enumerate(days):
        _check_day(c, c.obj(d, f"days[{i}]"), f"days[{i}]", thresholds)

    week = c.obj(c.get(data, "week", "week"), "week")
    for key in ("mean", "q10", "q90"):
        c.number(c.get(week, key, f"week.{key}"), f"week.{key}")
    for key in ("from", "to"):
        c.date(c.get(week, key, f"week.{key}"), f"week.{key}")
    _optional_text(c, week, "method", "week")
    if (v := week.get("actual", _MISSING)) is not _MISSING:
        c.number(v, "week.actual")

    y = c.obj(c.get(data, "ytd", "ytd"), "ytd")
    c.integer(c.get(y, "year", "ytd.year"), "ytd.year", 1)
    c.date(c.get(y, "to", "ytd.to"), "ytd.to")
    for key in ("people", "boats"):
        c.number(c.get(y, key, f"ytd.{key}"), f"ytd.{key}")
    same = c.obj(c.get(y, "same_span", "ytd.same_span"), "ytd.same_span")
    for k, v in same.items():
        c.number(v, f"ytd.same_span.{k}")

    ye = c.get(data, "year_end", "year_end", optional=True)
    if ye not in (_MISSING, None):
        _check_year_end(c, c.obj(ye, "year_end"))

    prov = c.get(data, "provenance", "provenance", optional=True)
    if prov not in (_MISSING, None):
        _check_provenance(c, c.obj(prov, "provenance"))

    for i, n in enumerate(c.items(c.get(data, "notices", "notices"), "notices")):
        c.text(n, f"notices[{i}]")
    for i, x in enumerate(c.items(c.get(data, "attribution", "attribution"), "attribution")):
        x = c.obj(x, f"attribution[{i}]")
        c.text(c.get(x, "text", f"attribution[{i}].text"), f"attribution[{i}].text")
        c.url(c.get(x, "url", f"attribution[{i}].url"), f"attribution[{i}].url")
    _check_ensemble_and_skill(c, data)
    ch = c.get(data, "changes", "changes", optional=True)
    if ch not in (_MISSING, None):
        ch = c.obj(ch, "changes")
        c.text(c.get(ch, "summary", "changes.summary"), "changes.summary")
    return data


def _optional_text(c: _Checker, obj: dict, key: str, prefix: str, allow_null: bool = False) -> None:
    v = obj.get(key, _MISSING)
    if v is _MISSING or (allow_null and v is None):
        return
    c.text(v, f"{prefix}.{key}")


def _check_day(c: _Checker, d: dict, f: str, thresholds: list) -> None:
    c.date(c.get(d, "date", f"{f}.date"), f"{f}.date")
    c.choice(c.get(d, "weekday", f"{f}.weekday"), f"{f}.weekday", WEEKDAYS)
    c.choice(c.get(d, "confidence", f"{f}.confidence"), f"{f}.confidence", CONFIDENCE_VALUES)
    c.choice(c.get(d, "rag", f"{f}.rag"), f"{f}.rag", RAG_VALUES)
    c.number(c.get(d, "p_any", f"{f}.p_any"), f"{f}.p_any", 0.0, 1.0)
    for key in ("expected_people", "q10", "q90", "expected_boats"):
        c.number(c.get(d, key, f"{f}.{key}"), f"{f}.{key}")
    if (v := d.get("q50", _MISSING)) is not _MISSING:
        c.number(v, f"{f}.q50")
    for n in thresholds:
        key = f"p_gt_{n}"
        c.number(c.get(d, key, f"{f}.{key}"), f"{f}.{key}", 0.0, 1.0)
    c.text(c.get(d, "drivers", f"{f}.drivers"), f"{f}.drivers")
    for key in ("actual_people", "actual_boats"):
        if (v := d.get(key, _MISSING)) is not _MISSING:
            c.number(v, f"{f}.{key}")
    for key in ("members", "calm_members", "lead_days"):
        if (v := d.get(key, _MISSING)) is not _MISSING:
            c.integer(v, f"{f}.{key}")
    if (v := d.get("skill", _MISSING)) not in (_MISSING, None):
        _check_scores(c, c.obj(v, f"{f}.skill"), f"{f}.skill")


def _check_scores(c: _Checker, scores: dict, f: str) -> None:
    """Backtest scores: finite numbers (Brier skill may be negative)."""
    for k, v in scores.items():
        c.number(v, f"{f}.{k}", lo=-math.inf)


def _check_ensemble_and_skill(c: _Checker, data: dict) -> None:
    """The optional ensemble, per-lead skill and joint busy-night fields."""
    ens = data.get("ensemble", _MISSING)
    if ens not in (_MISSING, None):
        ens = c.obj(ens, "ensemble")
        for key in ("label", "method"):
            _optional_text(c, ens, key, "ensemble")
        if (v := ens.get("kind", _MISSING)) is not _MISSING:
            c.choice(v, "ensemble.kind", ENSEMBLE_KINDS)
        if (v := ens.get("n_members", _MISSING)) is not _MISSING:
            c.integer(v, "ensemble.n_members", 1)
    sk = data.get("skill_by_lead", _MISSING)
    if sk not in (_MISSING, None):
        sk = c.obj(sk, "skill_by_lead")
        c.text(c.get(sk, "basis", "skill_by_lead.basis"), "skill_by_lead.basis")
        if not isinstance(sk.get("fallback", False), bool):
            c.fail("skill_by_lead.fallback", "must be true or false", sk.get("fallback"))
        leads = c.obj(c.get(sk, "leads", "skill_by_lead.leads"), "skill_by_lead.leads")
        for k, v in leads.items():
            if not (isinstance(k, str) and k.isdigit() and 0 < int(k) <= 400):
                c.fail("skill_by_lead.leads", "must be keyed by lead time in days", k)
            _check_scores(c, c.obj(v, f"skill_by_lead.leads.{k}"), f"skill_by_lead.leads.{k}")
    week = data.get("week")
    busy = week.get("p_busy_night", _MISSING) if isinstance(week, dict) else _MISSING
    if busy not in (_MISSING, None):
        for k, v in c.obj(busy, "week.p_busy_night").items():
            c.number(v, f"week.p_busy_night.{k}", 0.0, 1.0)
    joint = data.get("busy_joint", _MISSING)
    if joint not in (_MISSING, None):
        for k, v in c.obj(joint, "busy_joint").items():
            for i, p in enumerate(c.items(v, f"busy_joint.{k}")):
                c.number(p, f"busy_joint.{k}[{i}]", 0.0, 1.0)


def _check_year_end(c: _Checker, ye: dict) -> None:
    c.integer(c.get(ye, "year", "year_end.year"), "year_end.year", 1)
    c.date(c.get(ye, "known_to", "year_end.known_to"), "year_end.known_to")
    c.number(c.get(ye, "known", "year_end.known"), "year_end.known")
    rem = ye.get("remaining_days", _MISSING)
    if rem is not _MISSING:
        c.integer(rem, "year_end.remaining_days")
    if not ye.get("remaining_days"):
        return
    bands = c.obj(c.get(ye, "bands", "year_end.bands"), "year_end.bands")
    for key in ("low", "median", "high"):
        c.number(c.get(bands, key, f"year_end.bands.{key}"), f"year_end.bands.{key}")
    c.integer(c.get(ye, "n_years", "year_end.n_years"), "year_end.n_years")
    by = c.obj(c.get(ye, "by_weather_year", "year_end.by_weather_year"), "year_end.by_weather_year")
    for k, v in by.items():
        c.number(v, f"year_end.by_weather_year.{k}")
    _optional_text(c, ye, "method", "year_end")
    if (v := ye.get("actual", _MISSING)) is not _MISSING:
        c.number(v, "year_end.actual")


def _check_provenance(c: _Checker, p: dict) -> None:
    """The provenance fields the page puts into words (model and skill lines)."""
    for key in ("model", "model_trained"):
        if (v := p.get(key, _MISSING)) not in (_MISSING, None):
            c.text(v, f"provenance.{key}")
    for key in ("train_horizons",):
        if (v := p.get(key, _MISSING)) not in (_MISSING, None):
            for i, n in enumerate(c.items(v, f"provenance.{key}")):
                c.integer(n, f"provenance.{key}[{i}]")
    if (v := p.get("lead_bands", _MISSING)) not in (_MISSING, None):
        for i, band in enumerate(c.items(v, "provenance.lead_bands")):
            for j, n in enumerate(c.items(band, f"provenance.lead_bands[{i}]")):
                c.integer(n, f"provenance.lead_bands[{i}][{j}]")
    skill = p.get("backtest_skill", _MISSING)
    if skill in (_MISSING, None) or isinstance(skill, str):
        return
    skill = c.obj(skill, "provenance.backtest_skill")
    for k, v in skill.items():
        f = f"provenance.backtest_skill.{k}"
        if isinstance(v, int | float) and not isinstance(v, bool) and not math.isfinite(v):
            c.fail(f, "must be a finite number", v)
    for key in ("n", "horizon"):
        if (v := skill.get(key, _MISSING)) is not _MISSING:
            c.integer(v, f"provenance.backtest_skill.{key}")


def read_outlook_file(path: str | Path, option: str = "--outlook") -> dict:
    """Read and validate an outlook JSON file.

    Parameters
    ----------
    path : str or Path
        The file (``--outlook FILE`` or ``out/outlook.json``).
    option : str
        The option that chose the file (``--outlook`` or ``--latest``), for messages.

    Returns
    -------
    dict
        The outlook, checked by :func:`validate_outlook`.

    Raises
    ------
    DataFormatError
        If the file cannot be read, is not UTF-8 text, not JSON, not an object, or breaks
        the outlook layout; the message names the file (and the field).
    """
    path = Path(path)
    where = f"outlook {path}"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DataFormatError(
            f"cannot read outlook {path}: {exc.strerror or exc}. Re-run 'forecast outlook'."
        ) from None
    if len(raw) > MAX_BYTES:
        raise DataFormatError(
            f"{where}: larger than {MAX_BYTES // 2**20} MiB, so not an outlook; "
            "give an outlook written by 'forecast outlook'"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "is it a binary file? Give an outlook JSON written by 'forecast outlook'."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "give an outlook JSON written by 'forecast outlook'."
        ) from None
    except RecursionError:
        raise DataFormatError(f"{where}: JSON nested too deeply to be an outlook") from None
    return validate_outlook(data, where, option)
