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

from forecast import config, fileio
from forecast.errors import ConfigError, DataFormatError
from forecast.sources import arrivals
from forecast.sources.arrivals import COLUMNS, check_daily_index, read_arrivals_csv
from forecast.sources.http import safe_filename

DATA_NAME = "arrivals.csv"
REVISIONS_NAME = "arrivals_revisions.csv"
META_NAME = "arrivals_meta.json"
POINTER_NAME = "CURRENT"
_VERSION_RE = re.compile(r"\d{6}")
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
    """Daily arrivals kept under ``root`` (default ``config.store_dir()``).

    Layout: each successful update writes a complete new version folder
    ``versions/<n>/`` (``arrivals.csv``, ``arrivals_revisions.csv``,
    ``arrivals_meta.json``), then switches the one-line pointer file ``CURRENT`` to it
    with an atomic rename. A reader therefore sees one consistent version (data, log
    and metadata together) whatever moment a writer was killed at; writers take an
    exclusive lock on the store (:func:`forecast.fileio.file_lock`), so two updates at
    once take turns instead of interleaving. The previous version is kept; older ones
    and the leftovers of killed writers are removed by the next update.
    """

    #: Versions kept after an update (the current one and the one before).
    KEEP_VERSIONS = 2

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else config.store_dir()

    # -- where the current version lives ------------------------------------------------
    @property
    def pointer_path(self) -> Path:
        return self.root / POINTER_NAME

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    def current_dir(self) -> Path:
        """Folder of the current version (the store root for a store from before versions)."""
        try:
            name = self.pointer_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return self.root
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFormatError(
                f"arrivals store pointer {self.pointer_path} is unreadable ({exc}); delete the "
                "store folder and run 'forecast arrivals update' again."
            ) from exc
        if not _VERSION_RE.fullmatch(name) or not (self.versions_dir / name).is_dir():
            raise DataFormatError(
                f"arrivals store pointer {self.pointer_path} names {name[:40]!r}, which is not a "
                f"version folder under {self.versions_dir}; delete the store folder and run "
                "'forecast arrivals update' again."
            )
        return self.versions_dir / name

    @property
    def path(self) -> Path:
        return self.current_dir() / DATA_NAME

    @property
    def revisions_path(self) -> Path:
        return self.current_dir() / REVISIONS_NAME

    @property
    def meta_path(self) -> Path:
        return self.current_dir() / META_NAME

    def exists(self) -> bool:
        return self.path.exists()

    # -- reading ------------------------------------------------------------------------
    def read(self) -> pd.DataFrame:
        """The stored daily table, checked against the sha256 recorded at write time."""
        path = self.path
        df = read_arrivals_csv(path)
        want = self.read_meta().get("sha256")
        if want and hashlib.sha256(path.read_bytes()).hexdigest() != want:
            raise DataFormatError(
                f"arrivals store {path} does not match the sha256 recorded when it was written "
                "(the file was changed or truncated); delete the store folder and run "
                "'forecast arrivals update' again, or restore it from a backup."
            )
        return df

    def read_meta(self) -> dict:
        path = self.meta_path
        if not path.exists():
            return {}
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataFormatError(
                f"arrivals store metadata {path} is not valid JSON ({exc}); "
                "delete it and run 'forecast arrivals update' again."
            ) from exc
        if not isinstance(meta, dict):
            raise DataFormatError(
                f"arrivals store metadata {path} holds a {type(meta).__name__}, not an object; "
                "delete it and run 'forecast arrivals update' again."
            )
        return meta

    def read_revisions(self) -> pd.DataFrame:
        """The revision log (empty table when nothing was ever revised)."""
        path = self.revisions_path
        if not path.exists():
            return pd.DataFrame(columns=list(REVISION_COLUMNS))
        try:
            log = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (
            OSError,
            UnicodeDecodeError,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
        ) as exc:
            raise DataFormatError(
                f"cannot read the revision log {path}: {exc}; restore it "
                "from a backup (it is append-only and cannot be rebuilt)."
            ) from exc
        if list(log.columns) != list(REVISION_COLUMNS):
            raise DataFormatError(
                f"revision log {path} has columns {list(log.columns)}, "
                f"expected {list(REVISION_COLUMNS)}; restore it from a backup."
            )
        return log

    # -- writing ------------------------------------------------------------------------
    def update(
        self, releases: Iterable[tuple[pd.DataFrame, str]], retrieved_utc: str, meta: dict
    ) -> MergeResult:
        """Merge releases (oldest first) into the store as one atomic new version.

        Parameters
        ----------
        releases : iterable of (DataFrame, source)
            Daily tables to merge in order; a later one wins on shared days.
        retrieved_utc : str
            ISO UTC time of retrieval, logged with each revision.
        meta : dict
            Provenance written to ``arrivals_meta.json`` (``retrieved_utc``, ``end_date``
            and the data file's ``sha256`` are added).

        Returns
        -------
        MergeResult
        """
        releases = list(releases)
        with fileio.file_lock(self.root, "arrivals store"):
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
        """Write a complete new version folder, validate it, then switch the pointer.

        Call with the store's lock held.
        """
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        old_log = self.read_revisions()
        names = [p.name for p in self.versions_dir.iterdir() if _VERSION_RE.fullmatch(p.name)]
        number = max([int(n) for n in names], default=0) + 1
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.versions_dir))
        try:
            write_arrivals_csv(data, tmp / DATA_NAME)
            check = read_arrivals_csv(tmp / DATA_NAME)  # validate what was written
            if len(check) != len(data) or int(check["people"].sum()) != int(data["people"].sum()):
                raise DataFormatError(f"arrivals store temp file {tmp} did not read back intact")
            log = old_log
            if revisions is not None and len(revisions):
                log = pd.concat([old_log, revisions.astype(str)], ignore_index=True)
            if len(log):
                log.to_csv(tmp / REVISIONS_NAME, index=False)
            meta = {**meta, "sha256": hashlib.sha256((tmp / DATA_NAME).read_bytes()).hexdigest()}
            (tmp / META_NAME).write_text(
                json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            final = self.versions_dir / f"{number:06d}"
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fileio.write_text(self.pointer_path, final.name + "\n", "arrivals store pointer")
        self._tidy(keep=final.name)

    def _tidy(self, keep: str) -> None:
        """Remove versions older than the last :attr:`KEEP_VERSIONS` and killed writers' leftovers."""
        names = sorted(p.name for p in self.versions_dir.iterdir() if _VERSION_RE.fullmatch(p.name))
        for name in names[: -self.KEEP_VERSIONS]:
            if name != keep:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)
        for p in self.versions_dir.glob(".new-*"):
            shutil.rmtree(p, ignore_errors=True)
        for legacy in (DATA_NAME, REVISIONS_NAME, META_NAME):
            (self.root / legacy).unlink(missing_ok=True)
        fileio.remove_stale_temps(self.root)


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


def check_snapshot_sha256(path: Path, readme: Path) -> None:
    """Raise unless ``path`` has the sha256 its README records ("| sha256 of NAME | `...` |")."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    pattern = r"^\|\s*sha256 of " + re.escape(path.name) + r"\s*\|\s*`?([0-9a-f]{64})`?\s*\|"
    m = re.search(pattern, text, re.M)
    if m and hashlib.sha256(path.read_bytes()).hexdigest() != m.group(1):
        raise DataFormatError(
            f"arrivals snapshot {path} does not match the sha256 recorded in {readme} (the file "
            "was changed or truncated); restore it with 'git checkout -- data/snapshot'."
        )


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
        check_snapshot_sha256(path, path.parent / "README.md")
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


def write_snapshot(ods: Path, out: Path, url: str | None = None) -> dict:
    """Write ``arrivals.csv`` and ``README.md`` to ``out`` from the spreadsheet ``ods``."""
    df = arrivals.read_sb01(ods)
    csv_path = out / arrivals.SNAPSHOT_NAME

    def write_checked(tmp: Path) -> None:
        write_arrivals_csv(df, tmp)
        read_arrivals_csv(tmp)  # validate before replacing

    fileio.write_with(csv_path, write_checked, "arrivals snapshot")
    years = totals(df, "year")
    info = {
        "ods": ods.name,
        "ods_sha256": hashlib.sha256(ods.read_bytes()).hexdigest(),
        "release_date": df.attrs.get("release_date"),
        "start_date": df.index[0].date().isoformat(),
        "end_date": df.index[-1].date().isoformat(),
        "rows": len(df),
        "csv": str(csv_path),
        "csv_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest(),
    }
    lines = [
        "# Committed arrivals snapshot",
        "",
        "`arrivals.csv`: daily small-boat arrivals, one row per UK calendar day, from table",
        "SB_01 of the Home Office time-series spreadsheet. Used by `load_arrivals()` when",
        "there is no local store (`forecast arrivals update` has not been run).",
        "",
        "## Source and licence",
        'Home Office, "Migrants detected crossing the English Channel in small boats",',
        "provisional operational data, Crown copyright, Open Government Licence v3.0.",
        f"{arrivals.ATTRIBUTION}.",
        "Publication page: https://www.gov.uk/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats",
        f"Download URL: {url}"
        if url
        else "Download URL: the time-series ODS linked from that page at the release date.",
        "",
        "## This snapshot",
        "| item | value |",
        "| --- | --- |",
        f"| spreadsheet | `{info['ods']}` |",
        f"| release date | {info['release_date']} |",
        f"| days covered | {info['start_date']} to {info['end_date']} |",
        f"| rows (days) | {info['rows']} |",
        f"| sha256 of the ODS | `{info['ods_sha256']}` |",
        f"| sha256 of arrivals.csv | `{info['csv_sha256']}` |",
        "",
        "Columns: `date` (YYYY-MM-DD, UK calendar day), `people` [people], `boats` [boats],",
        "`boats_uncontrolled` [boats] (empty before 2023, when the sheet has `-`), `notes`",
        "(`Revised` where the Home Office marks a revised day).",
        "",
        "Totals by year [people]:",
        "",
        "| year | people | days |",
        "| --- | ---: | ---: |",
        *[f"| {r.period} | {r.people:,} | {r.days} |" for r in years.itertuples()],
        "",
        "## Rebuild",
        "```",
        f"forecast arrivals snapshot --ods tests/fixtures/arrivals/{info['ods']}",
        "```",
        "The command is deterministic: the same spreadsheet gives the same bytes and sha256.",
        "",
    ]
    fileio.write_text(out / "README.md", "\n".join(lines), "snapshot README")
    return info
