"""The project's arrivals store: daily arrivals plus a log of every revised value.

Layout under ``config.store_dir()``:

- ``arrivals.csv``: ``date, people, boats, boats_uncontrolled, notes`` (same format
  as ``data/snapshot/arrivals.csv``), one row per UK calendar day, no gaps.
- ``arrivals_revisions.csv``: append-only log ``date, column, old, new, source,
  retrieved_utc`` of every value that changed between releases.
- ``arrivals_meta.json``: where the data came from and when it was retrieved.

The store never silently loses or rewrites history: :func:`merge_arrivals` keeps every
stored day, and any value that a newer release changes is logged. Writes go to
temporary files in the same folder, are read back and validated, and only then
renamed over the old files, so a failed update leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd

from forecast import config
from forecast.errors import ConfigError, DataFormatError
from forecast.sources import arrivals
from forecast.sources.arrivals import COLUMNS, check_daily_index, read_arrivals_csv
from forecast.sources.http import safe_filename

DATA_NAME = "arrivals.csv"
REVISIONS_NAME = "arrivals_revisions.csv"
META_NAME = "arrivals_meta.json"
REVISION_COLUMNS = ("date", "column", "old", "new", "source", "retrieved_utc")


def _cell(value: object) -> str:
    """Text form of a stored value for the revision log ("" for NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def merge_arrivals(
    old: pd.DataFrame | None, new: pd.DataFrame, source: str, retrieved_utc: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge ``new`` daily rows into ``old``, logging every changed value.

    Parameters
    ----------
    old : DataFrame or None
        Current store (index ``date``, columns :data:`COLUMNS`), or None when empty.
    new : DataFrame
        Rows from one release (spreadsheet or daily page), same layout.
    source : str
        Where ``new`` came from (URL or file), written to the revision log.
    retrieved_utc : str
        ISO time (UTC) at which ``new`` was retrieved.

    Returns
    -------
    merged : DataFrame
        Every day of ``old`` and ``new``; where both have a day, ``new`` wins.
    revisions : DataFrame
        Columns ``date, column, old, new, source, retrieved_utc``: one row per value
        that differs between ``old`` and ``new`` on a shared day.

    Raises
    ------
    DataFormatError
        If the merged table would have a gap (``new`` does not join ``old``).
    """
    new = new.loc[:, list(COLUMNS)]
    if old is None or old.empty:
        merged = new.copy()
        revisions = pd.DataFrame(columns=list(REVISION_COLUMNS))
    else:
        old = old.loc[:, list(COLUMNS)]
        common = old.index.intersection(new.index)
        rows = []
        for col in COLUMNS:
            a = old.loc[common, col]
            b = new.loc[common, col]
            for day, va, vb in zip(common, a, b, strict=True):
                if _cell(va) != _cell(vb):
                    rows.append(
                        (day.date().isoformat(), col, _cell(va), _cell(vb), source, retrieved_utc)
                    )
        revisions = pd.DataFrame(rows, columns=list(REVISION_COLUMNS)).sort_values(
            ["date", "column"], kind="stable", ignore_index=True
        )
        merged = pd.concat([old.loc[old.index.difference(new.index)], new]).sort_index()
        merged["boats_uncontrolled"] = merged["boats_uncontrolled"].astype("Int64")
    merged.index.name = "date"
    check_daily_index(merged.index, where=f"arrivals merged from {source}")
    return merged, revisions


@dataclass
class MergeResult:
    """What one :meth:`ArrivalsStore.update` did."""

    added: int
    revised: int
    revisions: pd.DataFrame
    end_date: str


class ArrivalsStore:
    """Daily arrivals kept under ``root`` (default ``config.store_dir()``)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else config.store_dir()

    @property
    def path(self) -> Path:
        return self.root / DATA_NAME

    @property
    def revisions_path(self) -> Path:
        return self.root / REVISIONS_NAME

    @property
    def meta_path(self) -> Path:
        return self.root / META_NAME

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> pd.DataFrame:
        """The stored daily table (see :func:`forecast.sources.arrivals.read_arrivals_csv`)."""
        return read_arrivals_csv(self.path)

    def read_meta(self) -> dict:
        if not self.meta_path.exists():
            return {}
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                f"arrivals store metadata {self.meta_path} is not valid JSON ({exc}); "
                "delete it and run 'forecast arrivals update' again."
            ) from exc

    def read_revisions(self) -> pd.DataFrame:
        """The revision log (empty table when nothing was ever revised)."""
        if not self.revisions_path.exists():
            return pd.DataFrame(columns=list(REVISION_COLUMNS))
        try:
            log = pd.read_csv(self.revisions_path, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataFormatError(
                f"cannot read the revision log {self.revisions_path}: {exc}; restore it "
                "from a backup (it is append-only and cannot be rebuilt)."
            ) from exc
        if list(log.columns) != list(REVISION_COLUMNS):
            raise DataFormatError(
                f"revision log {self.revisions_path} has columns {list(log.columns)}, "
                f"expected {list(REVISION_COLUMNS)}; restore it from a backup."
            )
        return log

    def update(
        self, releases: Iterable[tuple[pd.DataFrame, str]], retrieved_utc: str, meta: dict
    ) -> MergeResult:
        """Merge releases (oldest first) into the store, atomically.

        Parameters
        ----------
        releases : iterable of (DataFrame, source)
            Daily tables to merge in order; a later one wins on shared days.
        retrieved_utc : str
            ISO UTC time of retrieval, logged with each revision.
        meta : dict
            Provenance written to ``arrivals_meta.json`` (``retrieved_utc`` and
            ``end_date`` are added).

        Returns
        -------
        MergeResult
        """
        current = self.read() if self.exists() else None
        before = set() if current is None else set(current.index)
        merged = current
        all_revisions = []
        for frame, source in releases:
            merged, revisions = merge_arrivals(merged, frame, source, retrieved_utc)
            all_revisions.append(revisions)
        if merged is None:
            raise DataFormatError("nothing to merge into the arrivals store")
        revisions = pd.concat(all_revisions, ignore_index=True) if all_revisions else None
        end = merged.index[-1].date().isoformat()
        meta = {**meta, "retrieved_utc": retrieved_utc, "end_date": end}
        self._write(merged, revisions, meta)
        return MergeResult(
            added=len(set(merged.index) - before),
            revised=0 if revisions is None else len(revisions),
            revisions=revisions,
            end_date=end,
        )

    def _write(self, data: pd.DataFrame, revisions: pd.DataFrame | None, meta: dict) -> None:
        """Write all files to temporaries, validate, then rename over the old ones."""
        self.root.mkdir(parents=True, exist_ok=True)
        temps: list[tuple[Path, Path]] = []  # (temporary, final), every temporary created

        def temp_for(final: Path) -> Path:
            fd, name = tempfile.mkstemp(prefix=".arrivals-", suffix=".tmp", dir=self.root)
            os.close(fd)
            temps.append((Path(name), final))
            return Path(name)

        try:
            tmp = temp_for(self.path)
            write_arrivals_csv(data, tmp)
            check = read_arrivals_csv(tmp)  # validate what was written
            if len(check) != len(data) or int(check["people"].sum()) != int(data["people"].sum()):
                raise DataFormatError(f"arrivals store temp file {tmp} did not read back intact")
            if revisions is not None and len(revisions):
                log = pd.concat([self.read_revisions(), revisions.astype(str)], ignore_index=True)
                log.to_csv(temp_for(self.revisions_path), index=False)
            temp_for(self.meta_path).write_text(
                json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        except BaseException:
            for t, _ in temps:
                t.unlink(missing_ok=True)
            raise
        # Revision log first: a value is never replaced before its old value is logged.
        for t, final in sorted(temps, key=lambda p: p[1] != self.revisions_path):
            os.replace(t, final)


def write_arrivals_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a daily arrivals table in the snapshot/store CSV format."""
    out = df.loc[:, list(COLUMNS)].copy()
    out.index = out.index.strftime("%Y-%m-%d")
    out.index.name = "date"
    out.to_csv(path, lineterminator="\n")


@dataclass
class UpdateReport:
    """What ``forecast arrivals update`` did, for printing."""

    ods_source: str
    release_date: str | None
    ods_end: str
    daily_source: str | None
    daily_days: int
    result: MergeResult
    notes: list[str]


def _now_iso(now_utc: dt.datetime | None) -> str:
    now = now_utc or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _download_ods(url: str, raw: Path, **http) -> tuple[Path, pd.DataFrame]:
    """Download the ODS to ``raw`` (write to a temporary folder, validate, rename).

    The local name comes from the link's last path part through
    :func:`forecast.sources.http.safe_filename` (letters, digits, ``._-`` only; never a
    path from the URL as is) and always ends in ``.ods``.

    Returns the kept file and its parsed SB_01 table.
    """
    name = safe_filename(unquote(urlsplit(url).path.rsplit("/", 1)[-1]), "time_series.ods")
    if not name.lower().endswith(".ods"):
        name += ".ods"
    body = arrivals.get_bytes(url, **http)
    if not body.startswith(b"PK"):
        raise DataFormatError(
            f"{url} did not return an ODS spreadsheet (first bytes {body[:20]!r}); "
            "the link may point to a web page. Try again later or use --ods FILE."
        )
    raw.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".download-", dir=raw))
    try:
        tmp = tmpdir / name
        tmp.write_bytes(body)
        table = arrivals.read_sb01(tmp)  # validate before keeping it
        digest = hashlib.sha256(body).hexdigest()
        final = raw / name
        if final.exists() and hashlib.sha256(final.read_bytes()).hexdigest() != digest:
            final = raw / f"{Path(name).stem}.{digest[:12]}{Path(name).suffix}"
        os.replace(tmp, final)
        return final, table
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def update_arrivals(
    *,
    base: str | None = None,
    ods_path: str | Path | None = None,
    daily_html_path: str | Path | None = None,
    daily: bool = True,
    store: ArrivalsStore | None = None,
    now_utc: dt.datetime | None = None,
    **http,
) -> UpdateReport:
    """Fetch the current release and the last-7-days page and merge them into the store.

    Parameters
    ----------
    base : str, optional
        Site root (default ``$FORECAST_ARRIVALS_BASE_URL`` or https://www.gov.uk).
    ods_path : path, optional
        Use this spreadsheet instead of downloading it.
    daily_html_path : path, optional
        Use this saved "last 7 days" page instead of downloading it.
    daily : bool
        Read the daily page for days newer than the spreadsheet (default True).
    store : ArrivalsStore, optional
        Default: the store under ``config.store_dir()``.
    now_utc : datetime, optional
        Retrieval time to record (default now).
    **http
        Passed to :func:`forecast.sources.arrivals.get_bytes` (``timeout``, ``retries``,
        ``backoff_s``, ``max_wait_s``, ``sleep``).

    Returns
    -------
    UpdateReport

    Raises
    ------
    SourceError, DataFormatError, ConfigError
        Nothing is written to the store when any step fails.
    """
    store = store or ArrivalsStore()
    retrieved = _now_iso(now_utc)
    notes: list[str] = []
    if ods_path is not None:
        ods_file = Path(ods_path)
        ods_source = str(ods_file)
        sb01 = arrivals.read_sb01(ods_file)
    else:
        page_url = arrivals.publication_url(base)
        ods_url = arrivals.find_ods_link(arrivals.get_text(page_url, **http), page_url)
        ods_file, sb01 = _download_ods(ods_url, config.raw_dir() / "arrivals", **http)
        ods_source = ods_url
    release = sb01.attrs.get("release_date")
    stored_release = store.read_meta().get("release_date")
    if release and stored_release and release < stored_release:
        raise ConfigError(
            f"spreadsheet {ods_file.name} is release {release}, older than the stored release "
            f"{stored_release}; refusing to merge an older release over a newer one."
        )
    releases = [(sb01, ods_source)]
    daily_source = None
    daily_days = 0
    if daily:
        if daily_html_path is not None:
            daily_source = str(daily_html_path)
            try:
                html = Path(daily_html_path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DataFormatError(
                    f"cannot read the saved last-7-days page {daily_html_path}: {exc}. "
                    "Give the HTML file saved from the page, or drop --daily-html."
                ) from exc
        else:
            daily_source = arrivals.daily_url(base)
            html = arrivals.get_text(daily_source, **http)
        page = arrivals.read_daily_page(html, daily_source)
        newer = page.loc[page.index > sb01.index[-1]]
        if len(newer) and newer.index[0] > sb01.index[-1] + pd.Timedelta(days=1):
            notes.append(
                f"daily page starts {newer.index[0].date()}, more than a day after the "
                f"spreadsheet ends ({sb01.index[-1].date()}): its days were not merged"
            )
        elif len(newer):
            releases.append((newer, daily_source))
            daily_days = len(newer)
    meta = {
        "source": f"Home Office time-series {Path(ods_file).name}"
        + (f" + last-7-days page ({daily_days} day(s))" if daily_days else ""),
        "ods_source": ods_source,
        "ods_sha256": hashlib.sha256(Path(ods_file).read_bytes()).hexdigest(),
        "release_date": release or stored_release,
        "ods_end_date": sb01.index[-1].date().isoformat(),
        "daily_source": daily_source if daily_days else None,
        "attribution": arrivals.ATTRIBUTION,
    }
    result = store.update(releases, retrieved, meta)
    return UpdateReport(
        ods_source=ods_source,
        release_date=release,
        ods_end=sb01.index[-1].date().isoformat(),
        daily_source=daily_source,
        daily_days=daily_days,
        result=result,
        notes=notes,
    )


# ---------------------------------------------------------------------------
# Summaries (pure)
# ---------------------------------------------------------------------------

BREAKDOWNS = ("year", "month", "week")


def totals(df: pd.DataFrame, by: str = "year") -> pd.DataFrame:
    """Totals of a daily arrivals table by calendar year, month or ISO week.

    Parameters
    ----------
    df : DataFrame
        Daily arrivals (see :func:`forecast.stores.arrivals.load_arrivals`).
    by : {"year", "month", "week"}
        ``week`` is the ISO week (Monday to Sunday), labelled like ``2024-W33``.

    Returns
    -------
    DataFrame
        One row per period, columns ``period``, ``start``, ``end`` (ISO dates of the
        first and last day present), ``days`` [d], ``people`` [people], ``boats``
        [boats], ``boats_uncontrolled`` [boats] (NA when the period has none
        recorded), ``crossing_days`` [d] (days with ``people > 0``). A first or last
        period not fully covered has fewer ``days``.
    """
    if by not in BREAKDOWNS:
        raise ConfigError(f"--by {by!r} is not one of {', '.join(BREAKDOWNS)}")
    idx = df.index
    if by == "year":
        key = pd.Index(idx.strftime("%Y"))
    elif by == "month":
        key = pd.Index(idx.strftime("%Y-%m"))
    else:
        iso = idx.isocalendar()
        key = pd.Index([f"{y:04d}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)])
    work = df.assign(
        _key=key.to_numpy(),
        _date=idx,
        _crossing=(df["people"] > 0).astype("int64"),
        _unc_known=df["boats_uncontrolled"].notna().astype("int64"),
    )
    g = work.groupby("_key", sort=True)
    out = pd.DataFrame(
        {
            "period": g.size().index.astype(str),
            "start": g["_date"].min().dt.strftime("%Y-%m-%d").to_numpy(),
            "end": g["_date"].max().dt.strftime("%Y-%m-%d").to_numpy(),
            "days": g.size().to_numpy().astype("int64"),
            "people": g["people"].sum().to_numpy().astype("int64"),
            "boats": g["boats"].sum().to_numpy().astype("int64"),
            "boats_uncontrolled": pd.array(
                [
                    int(s) if k > 0 else pd.NA
                    for s, k in zip(
                        g["boats_uncontrolled"].sum(), g["_unc_known"].sum(), strict=True
                    )
                ],
                dtype="Int64",
            ),
            "crossing_days": g["_crossing"].sum().to_numpy().astype("int64"),
        }
    )
    return out


def coverage(df: pd.DataFrame, now_utc: dt.datetime | None = None) -> dict:
    """What the data covers and how old it is.

    Returns
    -------
    dict
        ``start_date``, ``end_date`` (latest day covered), ``last_crossing_date``
        (latest day with ``people > 0``, or None), ``days_since_last_crossing`` [d]
        (from that day to ``end_date``), ``age_days`` [d] (from ``end_date`` to
        today's UK date), ``total_people``, ``origin``, ``source``, ``retrieved_utc``,
        ``attribution``.
    """
    end = df.index[-1].date()
    crossing = df.index[df["people"].to_numpy() > 0]
    last = crossing[-1].date() if len(crossing) else None
    return {
        "start_date": df.index[0].date().isoformat(),
        "end_date": end.isoformat(),
        "last_crossing_date": last.isoformat() if last else None,
        "days_since_last_crossing": (end - last).days if last else None,
        "age_days": (arrivals.uk_today(now_utc) - end).days,
        "total_people": int(df["people"].sum()),
        "origin": df.attrs.get("origin"),
        "source": df.attrs.get("source"),
        "retrieved_utc": df.attrs.get("retrieved_utc"),
        "attribution": arrivals.ATTRIBUTION,
    }


# ---------------------------------------------------------------------------
# Reading: the store if there is one, else the committed snapshot
# ---------------------------------------------------------------------------


def _snapshot_release(readme: Path) -> str | None:
    """Release date (ISO) stated in the snapshot README's "| release date | ... |" row."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"^\|\s*release date\s*\|\s*(\d{4}-\d{2}-\d{2})\s*\|", text, re.MULTILINE)
    return m.group(1) if m else None


def load_arrivals(now_utc: dt.datetime | None = None) -> pd.DataFrame:
    """Daily arrivals from the project's store, else from the committed snapshot.

    Parameters
    ----------
    now_utc : datetime, optional
        Time (UTC, tz-aware) used to compute the data's age; default now.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (daily UK calendar days, no gaps), columns ``people`` [people],
        ``boats`` [boats], ``boats_uncontrolled`` [boats] (Int64, NA before 2023),
        ``notes`` [str]. ``attrs``: ``source`` (text), ``end_date`` (ISO date),
        ``retrieved_utc`` (ISO time or None for the snapshot), ``release_date`` (ISO date
        of the spreadsheet release, or None), ``age_days`` (days
        from ``end_date`` to today's UK date), ``origin`` (``"store"`` or
        ``"snapshot"``), ``attribution``.
    """
    store = ArrivalsStore()
    if store.exists():
        df = store.read()
        meta = store.read_meta()
        df.attrs["source"] = meta.get("source", f"arrivals store {store.path}")
        df.attrs["release_date"] = meta.get("release_date")
        df.attrs["retrieved_utc"] = meta.get("retrieved_utc")
        df.attrs["origin"] = "store"
    else:
        path = config.snapshot_dir() / arrivals.SNAPSHOT_NAME
        if not path.exists():
            raise DataFormatError(
                f"no arrivals data: neither the store {store.path} nor the snapshot {path} "
                "exists. Run 'forecast arrivals update' (needs internet) or restore "
                "data/snapshot/arrivals.csv from git."
            )
        df = read_arrivals_csv(path)
        release = _snapshot_release(path.parent / "README.md")
        df.attrs["source"] = (
            f"data/snapshot/{path.name}, Home Office time-series release {release or '(date unknown)'}"
        )
        df.attrs["release_date"] = release
        df.attrs["retrieved_utc"] = None
        df.attrs["origin"] = "snapshot"
    end = df.index[-1].date()
    df.attrs["end_date"] = end.isoformat()
    df.attrs["age_days"] = (arrivals.uk_today(now_utc) - end).days
    df.attrs["attribution"] = arrivals.ATTRIBUTION
    return df
