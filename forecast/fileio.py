"""The one way this package writes a file: atomically, and under a lock where writers meet.

- :func:`atomic_write` / :func:`write_text` / :func:`write_bytes`: write to a unique
  temporary file in the target's own folder (``O_EXCL``, so a planted symlink or a second
  writer is never followed or shared), ``fsync`` it, then ``os.replace`` it over the
  target. A reader sees the old file or the new one, never half of one; a failure leaves
  the old file and no temporary file behind.
- :func:`file_lock`: an exclusive advisory lock (``fcntl.flock``) on ``<name>.lock`` beside
  a store, cache or file, so two processes updating the same thing take turns.

The target must be a regular file or not exist: a directory, device, FIFO or socket at
the target path is refused with :class:`~forecast.errors.ConfigError` rather than
replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from forecast.errors import ConfigError

#: Prefix of this module's temporary files (``.<target name>.<random>.tmp``).
TMP_SUFFIX = ".tmp"


def check_target(path: str | Path, what: str = "output file") -> Path:
    """Return ``path`` as a Path if it can be (re)written as a regular file.

    Raises
    ------
    ConfigError
        If the path is a directory or a special file, or its folder is a file.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise ConfigError(
            f"{what} {path}: a parent of this path is a file, not a folder; choose another path"
        ) from None
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a special file (device, FIFO or socket)"
        raise ConfigError(f"{what} {path} is {kind}; give the path of a regular file to write")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise ConfigError(f"{what} {path}: its folder {parent} is a file; choose another path")
    return path


@contextlib.contextmanager
def atomic_write(
    path: str | Path, mode: str = "wb", what: str = "output file", encoding: str | None = None
) -> Iterator[IO]:
    """Context manager yielding a file object whose content replaces ``path`` on success.

    Parameters
    ----------
    path : str or Path
        Target file. Its folder is created if missing.
    mode : {"wb", "w"}
        Binary or text.
    what : str
        What the file is, for error messages.
    encoding : str, optional
        Text encoding (default UTF-8 in text mode).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode {mode!r}: use 'wb' or 'w'")
    with _replacing(path, what) as tmp:
        if mode == "w":
            with open(tmp, "w", encoding=encoding or "utf-8", newline="") as fh:
                yield fh
        else:
            with open(tmp, "wb") as fh:
                yield fh


@contextlib.contextmanager
def _replacing(path: str | Path, what: str) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on success fsync it and rename it over."""
    path = check_target(path, what)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"{what} {path}: cannot create its folder {path.parent} (a file is in the way)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot create its folder ({exc.strerror})") from None
    fd, tmp = _mkstemp(path, what)
    os.close(fd)
    ok = False
    try:
        yield Path(tmp)
        with open(tmp, "rb") as done:  # fsync what is in the file, however it was written
            os.fsync(done.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        ok = True
    except OSError as exc:  # disk full, read-only file system, ...: the old file is intact
        raise ConfigError(
            f"{what} {path}: cannot write ({exc.strerror or exc}); the previous file, if any, "
            "is unchanged. Free space or choose another path."
        ) from exc
    finally:
        if not ok:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


#: Mode of written files before the umask (mkstemp alone would give 0600).
FILE_MODE = 0o666


def _mkstemp(path: Path, what: str) -> tuple[int, str]:
    """A unique temporary file beside ``path``, readable as a normal file would be."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    except PermissionError as exc:
        raise ConfigError(
            f"{what} {path}: the folder is not writable ({exc.strerror}); choose another path"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{what} {path}: cannot write in its folder ({exc.strerror}); choose another path"
        ) from None
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, FILE_MODE & ~umask)
    return fd, tmp


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: str | Path, data: bytes, what: str = "output file") -> Path:
    """Atomically write ``data`` to ``path``; returns the path."""
    with atomic_write(path, "wb", what) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, what: str = "output file") -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``; returns the path."""
    return write_bytes(path, text.encode("utf-8"), what)


def write_with(path: str | Path, writer: Callable[[Path], None], what: str = "output file") -> Path:
    """Atomically produce ``path`` with ``writer(tmp_path)`` (for libraries that want a path).

    ``writer`` writes a complete file at the temporary path it is given (e.g.
    ``Dataset.to_netcdf`` or ``skops.io.dump``); it is fsynced and renamed over ``path``.
    """
    with _replacing(path, what) as tmp:
        writer(tmp)
    return Path(path)


@contextlib.contextmanager
def file_lock(path: str | Path, what: str = "store") -> Iterator[Path]:
    """Hold an exclusive lock on ``<path>.lock`` (blocking) for the duration of the block.

    ``path`` is the file or folder being protected; the lock file ``<name>.lock`` sits
    beside it (whether or not ``path`` exists yet, so every writer agrees on it). Locks
    are advisory: every writer in this package takes them.
    """
    path = Path(path)
    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot create the lock file {lock} ({exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield lock
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_stale_temps(folder: str | Path) -> int:
    """Delete this module's leftover temporary files in ``folder`` (after a kill -9)."""
    n = 0
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    for p in folder.glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
