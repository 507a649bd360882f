"""The bundled real data (data/snapshot) is exactly what its provenance notes describe.

``data/snapshot/SHA256SUMS`` (``sha256sum`` format, ``sha256sum -c SHA256SUMS`` in that
folder checks it too) lists every data file of the snapshot; the READMEs quote the same
hashes. A file edited, truncated or replaced by hand fails here, not in a backtest.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from forecast import config

SNAPSHOT = config.snapshot_dir()
SUMS = SNAPSHOT / "SHA256SUMS"


def _sums() -> dict[str, str]:
    out = {}
    for n, line in enumerate(SUMS.read_text().splitlines(), start=1):
        m = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert m, f"{SUMS}:{n}: not a sha256sum line: {line!r}"
        out[m.group(2)] = m.group(1)
    return out


def _data_files() -> list[str]:
    return sorted(
        str(p.relative_to(SNAPSHOT))
        for p in SNAPSHOT.rglob("*")
        if p.is_file() and p.suffix != ".md" and p.name != "SHA256SUMS"
    )


def test_every_snapshot_data_file_is_listed():
    assert sorted(_sums()) == _data_files()


@pytest.mark.parametrize("name", sorted(_sums()))
def test_snapshot_file_matches_its_sha256(name):
    digest = hashlib.sha256((SNAPSHOT / name).read_bytes()).hexdigest()
    assert digest == _sums()[name], (
        f"data/snapshot/{name} differs from SHA256SUMS: restore it with git, or after a "
        "deliberate refresh regenerate the list as data/snapshot/CHECKSUMS.md says"
    )


def test_readmes_quote_the_same_hashes():
    sums = _sums()
    quoted = 0
    for readme in SNAPSHOT.rglob("*.md"):
        text = readme.read_text()
        for name, digest in sums.items():
            if Path(name).name not in text:
                continue
            # every hash (or hash prefix) quoted on the file's line must be its own
            for line in text.splitlines():
                if f"`{Path(name).name}`" in line or f"{Path(name).name} " in line:
                    for h in re.findall(r"`([0-9a-f]{8,64})(?:…)?`", line):
                        assert digest.startswith(h), f"{readme}: {name} quoted as {h}"
                        quoted += 1
    assert quoted >= 4  # the arrivals, both KNMI files and the tide tables are quoted
