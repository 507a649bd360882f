"""Home Office daily small-boat arrivals: the official spreadsheet and the daily page.

Source: Home Office, "Migrants detected crossing the English Channel in small boats"
(provisional operational data, Crown copyright, Open Government Licence v3.0).

- :func:`read_sb01` parses table SB_01 of the weekly time-series spreadsheet (ODS).
- :func:`read_daily_page` parses the "last 7 days" HTML page.
- :func:`find_ods_link` finds the current spreadsheet on the publication page.
- :func:`get_bytes` / :func:`get_text` are the thin network calls (timeout, bounded
  retries on 429 and 5xx honouring ``Retry-After``, :class:`SourceError` otherwise),
  built on :mod:`forecast.sources.http`.
- The store that keeps what was fetched (and reads the committed snapshot when there
  is none) is :mod:`forecast.stores.arrivals`; this module keeps no state.

The Home Office day is the UK calendar day (00:00-23:59 ``Europe/London``); dates are
kept as plain dates (normalised, tz-naive ``DatetimeIndex`` named ``date``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import requests
from bs4 import BeautifulSoup
from python_calamine import CalamineWorkbook

from forecast import config
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import http

#: Columns of an arrivals table, in order (glossary names).
COLUMNS = ("people", "boats", "boats_uncontrolled", "notes")

#: Attribution to show wherever these figures are shown.
ATTRIBUTION = (
    "Source: Home Office, Migrants detected crossing the English Channel in small boats "
    "(provisional), OGL v3.0"
)

#: File name of the committed snapshot under ``config.snapshot_dir()``.
SNAPSHOT_NAME = "arrivals.csv"


def uk_today(now_utc: dt.datetime | None = None) -> dt.date:
    """Today's UK calendar date (the Home Office day) at ``now_utc`` (default: now)."""
    now = now_utc or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ConfigError(f"now_utc={now!r} must be timezone-aware (UTC)")
    return now.astimezone(ZoneInfo(config.UK_TZ)).date()


def read_arrivals_csv(path: str | Path) -> pd.DataFrame:
    """Read an arrivals table written by this project (snapshot or store CSV).

    Parameters
    ----------
    path : str or Path
        CSV with columns ``date, people, boats, boats_uncontrolled, notes``.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (daily, no gaps), columns ``people`` [people] int64,
        ``boats`` [boats] int64, ``boats_uncontrolled`` [boats] Int64 (NA before 2023),
        ``notes`` str ("" when none).

    Raises
    ------
    DataFormatError
        If a column is missing, a value is not a whole number, a date repeats or
        a day is missing.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"cannot read arrivals CSV {path}: {exc}") from exc
    expected = ["date", *COLUMNS]
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise DataFormatError(
            f"arrivals CSV {path} lacks column(s) {missing} (has {list(raw.columns)}); "
            f"expected {expected}. Regenerate it with 'forecast arrivals snapshot' or "
            "'forecast arrivals update'."
        )
    try:
        dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    except ValueError as exc:
        raise DataFormatError(
            f"arrivals CSV {path}, column 'date': {exc} (expected YYYY-MM-DD)"
        ) from exc
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date").as_unit("ns"))
    for col in ("people", "boats", "boats_uncontrolled"):
        values = raw[col].str.strip()
        bad = ~values.str.fullmatch(r"\d*")
        if col != "boats_uncontrolled":
            bad |= values == ""
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataFormatError(
                f"arrivals CSV {path}, row {i + 2}, column '{col}': {values.iloc[i]!r} "
                "is not a whole number; expected a count >= 0."
            )
        if col == "boats_uncontrolled":
            out[col] = pd.array([int(v) if v else pd.NA for v in values], dtype="Int64")
        else:
            out[col] = values.astype("int64").to_numpy()
    out["notes"] = raw["notes"].astype(str).to_numpy()
    check_daily_index(out.index, where=f"arrivals CSV {path}")
    return out


def check_daily_index(index: pd.DatetimeIndex, where: str) -> None:
    """Raise :class:`DataFormatError` unless ``index`` is daily, sorted, unique, gap-free.

    ``where`` names the file/sheet for the message.
    """
    if len(index) == 0:
        raise DataFormatError(f"{where}: no daily rows found")
    dup = index[index.duplicated()]
    if len(dup):
        raise DataFormatError(
            f"{where}: date {dup[0].date()} appears more than once; each day must appear once."
        )
    if not index.is_monotonic_increasing:
        pos = int((index[1:] < index[:-1]).nonzero()[0][0]) + 1
        raise DataFormatError(
            f"{where}: dates are not in order ({index[pos - 1].date()} is followed by "
            f"{index[pos].date()}); expected one row per day in increasing order."
        )
    full = pd.date_range(index[0], index[-1], freq="D")
    if len(full) != len(index):
        gaps = full.difference(index)
        raise DataFormatError(
            f"{where}: {len(gaps)} day(s) missing, first {gaps[0].date()}; "
            "expected one row per day with no gaps (zeros included)."
        )


# ---------------------------------------------------------------------------
# Where the data lives online (overridable for tests and mirrors)
# ---------------------------------------------------------------------------

#: Default site root; override with ``--base-url`` or ``FORECAST_ARRIVALS_BASE_URL``.
DEFAULT_BASE_URL = "https://www.gov.uk"
BASE_URL_ENV = "FORECAST_ARRIVALS_BASE_URL"
PUBLICATION_PATH = (
    "/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats"
)
DAILY_PATH = (
    PUBLICATION_PATH + "/migrants-detected-crossing-the-english-channel-in-small-boats-last-7-days"
)


def base_url(override: str | None = None) -> str:
    """The site root: ``override``, else ``$FORECAST_ARRIVALS_BASE_URL``, else gov.uk."""
    url = override or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"arrivals base URL {url!r} must start with http:// or https:// "
            f"(set by --base-url or ${BASE_URL_ENV})"
        )
    return url.rstrip("/")


def publication_url(base: str | None = None) -> str:
    """URL of the publication page that links the current time-series ODS."""
    return base_url(base) + PUBLICATION_PATH


def daily_url(base: str | None = None) -> str:
    """URL of the "last 7 days" page."""
    return base_url(base) + DAILY_PATH


# ---------------------------------------------------------------------------
# SB_01: the daily table of the time-series spreadsheet
# ---------------------------------------------------------------------------

SB01_SHEET = "SB_01"

#: Accepted header text (normalised: lower case, single spaces, no "[note N]") -> column.
SB01_HEADERS = {
    "date": "date",
    "migrants arrived": "people",
    "boats arrived": "boats",
    "boats arrived - involved in uncontrolled landings": "boats_uncontrolled",
    "notes": "notes",
}
SB01_EXPECTED = (
    "Date",
    "Migrants arrived",
    "Boats arrived",
    "Boats arrived - involved in uncontrolled landings",
    "Notes",
)

#: Daily-page header text (normalised) -> column.
DAILY_HEADERS = {
    "date": "date",
    "migrants arrived": "people",
    "boats arrived": "boats",
    "boats involved in uncontrolled landings": "boats_uncontrolled",
    "notes": "notes",
}
DAILY_EXPECTED = (
    "Date",
    "Migrants arrived",
    "Boats arrived",
    "Boats involved in uncontrolled landings",
    "Notes",
)

#: Cell text meaning "not available" in the uncontrolled-landings column.
_NA_TEXT = {"-", "", "..", "n/a", "na", "[x]", "x", "[z]", "z"}


def _norm_header(text: object) -> str:
    t = re.sub(r"\[note\s*\d+\]", "", str(text or ""), flags=re.IGNORECASE)
    t = t.replace("\u2013", "-").replace("\u2014", "-").replace("\xa0", " ")
    return re.sub(r"\s+", " ", t).strip().lower()


def _col_letter(i: int) -> str:
    """0-based column index -> spreadsheet letter (0 -> A, 26 -> AA)."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _map_headers(
    cells: Sequence[object], known: dict[str, str], expected: Sequence[str], where: str
) -> dict[str, int]:
    """Map glossary column -> position from a header row, or raise naming what is wrong."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        col = known.get(_norm_header(cell))
        if col is not None and col not in found:
            found[col] = i
    missing = [e for e in expected if known[_norm_header(e)] not in found]
    if missing:
        shown = [str(c) for c in cells if str(c).strip()]
        raise DataFormatError(
            f"{where}: column(s) {missing} not found in the header {shown}; expected "
            f"{list(expected)}. The layout may have changed: check the file and update "
            "the header map in forecast/sources/arrivals.py."
        )
    return found


def _count(value: object, where: str, allow_na: bool = False) -> int | None:
    """A non-negative whole number from a cell, or raise naming ``where``."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if value != value or value != int(value):
            raise DataFormatError(
                f"{where}: {value!r} is not a whole number; expected a count >= 0."
            )
        n = int(value)
    else:
        text = str(value).strip().replace(",", "").replace("\xa0", "")
        if allow_na and text.lower() in _NA_TEXT:
            return None
        if not re.fullmatch(r"\d+", text):
            hint = " or '-' (not available)" if allow_na else ""
            raise DataFormatError(
                f"{where}: {value!r} is not a number; expected a whole count >= 0{hint}."
            )
        n = int(text)
    if n < 0:
        raise DataFormatError(f"{where}: {n} is negative; expected a count >= 0.")
    return n


def validate_rows(rows: Sequence[Sequence[object]], where: str, first_row: int = 1) -> pd.DataFrame:
    """Turn SB_01 rows (header first) into a checked daily table. Pure.

    Parameters
    ----------
    rows : sequence of sequences
        The sheet's cells, row by row, as returned by python-calamine
        (dates as ``datetime``/``date``, numbers as ``float``/``int``, text as ``str``).
        Leading rows before the header row (the one with ``Date`` in it) are skipped.
    where : str
        File and sheet, for error messages.
    first_row : int
        Spreadsheet row number of ``rows[0]`` (1-based), for error messages.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns ``people`` [people], ``boats`` [boats],
        ``boats_uncontrolled`` [boats] (Int64, NA where the sheet has ``-``), ``notes``.

    Raises
    ------
    DataFormatError
        Naming the file, sheet, row, column and what was expected, for a missing
        header, text in a numeric cell, a date that is not a date, a duplicated or
        missing day.
    """
    header_at = None
    for i, row in enumerate(rows[:30]):
        if any(_norm_header(c) == "date" for c in row):
            header_at = i
            break
    if header_at is None:
        raise DataFormatError(
            f"{where}: no header row with a 'Date' column in the first 30 rows; "
            f"expected the header {list(SB01_EXPECTED)}. Is this the time-series file?"
        )
    pos = _map_headers(
        rows[header_at], SB01_HEADERS, SB01_EXPECTED, f"{where}, row {first_row + header_at}"
    )
    header = rows[header_at]
    records = []
    for i in range(header_at + 1, len(rows)):
        row = list(rows[i])
        rownum = first_row + i
        if all(str(c).strip() == "" for c in row):
            continue  # blank line (trailing area)

        def cell(col: str, row=row) -> object:
            j = pos[col]
            return row[j] if j < len(row) else ""

        def at(col: str, rownum=rownum) -> str:
            j = pos[col]
            return f"{where}, row {rownum}, column {_col_letter(j)} ({str(header[j]).strip()!r})"

        d = cell("date")
        if isinstance(d, dt.datetime):
            if d.time() != dt.time(0):
                raise DataFormatError(
                    f"{at('date')}: {d} has a time of day; expected a plain date."
                )
            d = d.date()
        if not isinstance(d, dt.date):
            if re.match(r"\s*(source|note|total)", str(d), flags=re.IGNORECASE):
                continue  # footnote lines below the table
            raise DataFormatError(f"{at('date')}: {d!r} is not a date; expected a date cell.")
        records.append(
            (
                pd.Timestamp(d),
                _count(cell("people"), at("people")),
                _count(cell("boats"), at("boats")),
                _count(cell("boats_uncontrolled"), at("boats_uncontrolled"), allow_na=True),
                str(cell("notes") or "").strip(),
            )
        )
    if not records:
        raise DataFormatError(f"{where}: the table has a header but no daily rows.")
    return _daily_frame(records, where)


def _daily_frame(records: Sequence[tuple], where: str) -> pd.DataFrame:
    """Checked daily table from ``(date, people, boats, boats_uncontrolled, notes)`` rows."""
    dates, people, boats, unc, notes = zip(*records, strict=True)
    out = pd.DataFrame(
        {
            "people": pd.array(people, dtype="int64"),
            "boats": pd.array(boats, dtype="int64"),
            "boats_uncontrolled": pd.array(unc, dtype="Int64"),
            "notes": pd.array(notes, dtype="str"),
        },
        index=pd.DatetimeIndex(dates, name="date").as_unit("ns"),
    )
    check_daily_index(out.index, where=where)
    return out


def read_sb01(path: str | Path) -> pd.DataFrame:
    """Read table SB_01 (daily arrivals) of the Home Office time-series ODS.

    Parameters
    ----------
    path : str or Path
        The spreadsheet, e.g. ``21_August_2026_Small_boats_-_time_series.ods``.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (UK calendar day, daily, no gaps), columns ``people`` [people],
        ``boats`` [boats], ``boats_uncontrolled`` [boats] (Int64, NA before 2023),
        ``notes`` (e.g. ``Revised``). ``attrs["source"]`` is the file name and
        ``attrs["release_date"]`` the release date read from it (ISO) when present.

    Raises
    ------
    DataFormatError
        If the file is not a readable spreadsheet (e.g. a truncated download), has no
        sheet ``SB_01``, or the table breaks the layout (see :func:`validate_rows`).
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"spreadsheet {path} does not exist")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # zipfile, OS and calamine's own error types
        raise DataFormatError(
            f"{path.name} is not a readable ODS spreadsheet ({type(exc).__name__}: {exc}). "
            "Is the download truncated? Download it again."
        ) from exc
    if SB01_SHEET not in workbook.sheet_names:
        raise DataFormatError(
            f"sheet {SB01_SHEET!r} not found in {path.name} (sheets: "
            f"{', '.join(workbook.sheet_names)}). Is this the time-series file?"
        )
    try:
        rows = workbook.get_sheet_by_name(SB01_SHEET).to_python(skip_empty_area=False)
    except Exception as exc:
        raise DataFormatError(
            f"{path.name}, sheet {SB01_SHEET!r}: cannot read cells ({type(exc).__name__}: {exc})"
        ) from exc
    df = validate_rows(rows, where=f"{path.name}, sheet {SB01_SHEET!r}", first_row=1)
    df.attrs["source"] = path.name
    release = release_date_from_name(path.name)
    df.attrs["release_date"] = release.isoformat() if release else None
    return df


_RELEASE_RE = re.compile(r"(\d{1,2})_([A-Za-z]+)_(\d{4})_Small_boats", re.IGNORECASE)


def release_date_from_name(name: str) -> dt.date | None:
    """Release date from a file name like ``21_August_2026_Small_boats_-_time_series.ods``."""
    m = _RELEASE_RE.search(unquote(name))
    if not m:
        return None
    try:
        return dt.datetime.strptime(" ".join(m.groups()), "%d %B %Y").date()
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------

_ODS_NAME_RE = re.compile(r"small_boats_-_time_series(_v\d+)?\.ods$", re.IGNORECASE)


def find_ods_link(html: str, page_url: str) -> str:
    """URL of the time-series ODS linked from the publication page. Pure.

    Parameters
    ----------
    html : str
        The publication page.
    page_url : str
        Its URL (relative links are resolved against it; named in errors).

    Returns
    -------
    str
        Absolute URL. When several releases are linked, the latest release date
        wins, then the highest ``_vN``.

    Raises
    ------
    DataFormatError
        If no link to a ``..._Small_boats_-_time_series[_vN].ods`` file is found.
    """
    soup = BeautifulSoup(html, "html.parser")
    candidates = []
    for a in soup.find_all("a", href=True):
        href = urljoin(page_url, a["href"].strip())
        name = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
        m = _ODS_NAME_RE.search(name)
        if m:
            release = release_date_from_name(name) or dt.date.min
            version = int(m.group(1)[2:]) if m.group(1) else 1
            candidates.append((release, version, href))
    if not candidates:
        ods = [a["href"] for a in soup.find_all("a", href=True) if ".ods" in a["href"].lower()]
        raise DataFormatError(
            f"no link to the time-series spreadsheet (*_Small_boats_-_time_series.ods) on "
            f"{page_url}; ODS links seen: {ods or 'none'}. The page layout may have "
            "changed: download the file by hand and run 'forecast arrivals update --ods FILE'."
        )
    return max(candidates)[2]


def _parse_day(text: str, where: str) -> pd.Timestamp:
    t = re.sub(r"\s+", " ", text).strip()
    t = re.sub(r"^(mon|tues|wednes|thurs|fri|satur|sun)day,? ", "", t, flags=re.IGNORECASE)
    try:
        return pd.Timestamp(dt.datetime.strptime(t, "%d %B %Y").date())
    except ValueError:
        raise DataFormatError(
            f"{where}: {text.strip()!r} is not a date like '15 August 2026'."
        ) from None


def read_daily_page(html: str, source: str) -> pd.DataFrame:
    """Parse the "last 7 days" page. Pure.

    Parameters
    ----------
    html : str
        The page as served.
    source : str
        URL or file name, used in errors and ``attrs["source"]``.

    Returns
    -------
    pandas.DataFrame
        Same layout as :func:`read_sb01` (index ``date``, ``people``, ``boats``,
        ``boats_uncontrolled``, ``notes``), usually seven days.

    Raises
    ------
    DataFormatError
        If the page has no table, or no table with the header ``Date | Migrants
        arrived | Boats arrived | Boats involved in uncontrolled landings | Notes``
        (an older or changed layout is rejected whole, never half-parsed), or a
        cell is not a date/count.
    """
    soup = BeautifulSoup(html, "html.parser")
    tables = soup.find_all("table")
    if not tables:
        raise DataFormatError(
            f"{source}: no table found; expected the daily table "
            f"{list(DAILY_EXPECTED)}. Is this the 'last 7 days' page?"
        )
    errors = []
    for k, table in enumerate(tables, start=1):
        trs = table.find_all("tr")
        if not trs:
            continue
        head = [c.get_text(" ", strip=True) for c in trs[0].find_all(["th", "td"])]
        try:
            pos = _map_headers(head, DAILY_HEADERS, DAILY_EXPECTED, f"{source}, table {k}")
        except DataFormatError as exc:
            errors.append(str(exc))
            continue
        records = []
        for r, tr in enumerate(trs[1:], start=2):
            cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            if not any(cells):
                continue
            if len(cells) < len(head):
                raise DataFormatError(
                    f"{source}, table {k}, row {r}: {len(cells)} cells, expected {len(head)} "
                    f"({list(DAILY_EXPECTED)})."
                )

            names = {c: f"{source}, table {k}, row {r}, column {head[j]!r}" for c, j in pos.items()}
            records.append(
                (
                    _parse_day(cells[pos["date"]], names["date"]),
                    _count(cells[pos["people"]], names["people"]),
                    _count(cells[pos["boats"]], names["boats"]),
                    _count(
                        cells[pos["boats_uncontrolled"]], names["boats_uncontrolled"], allow_na=True
                    ),
                    cells[pos["notes"]].strip(),
                )
            )
        if not records:
            raise DataFormatError(f"{source}, table {k}: header found but no daily rows.")
        out = _daily_frame(records, f"{source}, table {k}")
        out.attrs["source"] = source
        return out
    raise DataFormatError(
        f"{source}: unknown layout, no table has the expected header "
        f"{list(DAILY_EXPECTED)} ({'; '.join(errors)})"
    )


# ---------------------------------------------------------------------------
# Network: thin get_* with bounded retries (plumbing in forecast.sources.http)
# ---------------------------------------------------------------------------


def get_bytes(
    url: str,
    *,
    timeout: float = config.HTTP_TIMEOUT_S,
    retries: int = 3,
    backoff_s: float = 2.0,
    max_wait_s: float = 60.0,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """GET ``url`` and return the whole body, retrying a bounded number of times.

    Retries (at most ``retries`` times) on HTTP 429 and 5xx, on connection errors,
    time-outs and truncated bodies. The wait is the server's ``Retry-After`` when
    given, else ``backoff_s * 2**(n - 1)`` before the n-th retry, never more than
    ``max_wait_s``.

    Parameters
    ----------
    url : str
    timeout : float
        Connect and read time-out [s].
    retries : int
        Extra attempts after the first.
    backoff_s, max_wait_s : float
        Exponential back-off base and cap [s].
    session : requests.Session, optional
    sleep : callable
        Used to wait between attempts (tests pass a recorder).

    Raises
    ------
    ConfigError
        If ``retries`` < 0 or ``timeout`` <= 0.
    SourceError
        Naming the URL, the HTTP status and the server's message, after the last try
        or at once for a 4xx status other than 429.
    """
    if retries < 0 or timeout <= 0:
        raise ConfigError(f"retries={retries} must be >= 0 and timeout={timeout} [s] > 0")

    def attempt() -> bytes:
        resp = http.get(url, timeout=timeout, session=session)
        if resp.status_code >= 400:
            raise SourceError(
                f"GET {url} failed with HTTP {resp.status_code}: {http.server_message(resp)}. "
                f"Check the URL (--base-url / ${BASE_URL_ENV})."
            )
        return resp.content

    def wait(error: http.TransientError, failures: int) -> float | None:
        return None if failures > retries else http.backoff(error, failures, backoff_s, max_wait_s)

    try:
        return http.retrying(attempt, wait=wait, sleep=sleep)
    except http.TransientError as exc:
        raise SourceError(
            f"GET {url} failed after {retries + 1} attempt(s); last error: {exc.fault}. Try "
            "again later, or pass a downloaded file with --ods; the data store was not changed."
        ) from exc


def get_text(url: str, **kwargs) -> str:
    """GET ``url`` as text (UTF-8), see :func:`get_bytes`."""
    return get_bytes(url, **kwargs).decode("utf-8", errors="replace")
