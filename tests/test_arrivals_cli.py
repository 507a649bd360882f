"""``forecast arrivals show|summary|update|revisions|snapshot`` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from forecast.cli import main

HERE = Path(__file__).parent / "fixtures" / "arrivals"
ODS = HERE / "21_August_2026_Small_boats_-_time_series.ods"
DAILY_0822 = HERE / "daily_page" / "2026-08-22.html"
SNAPSHOT = Path(__file__).parent.parent / "data" / "snapshot"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["arrivals", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_table_from_snapshot(data_home, capsys):
    code, out, _ = run(capsys, "show")
    assert code == 0
    assert "Covers 2018-01-01 to 2026-08-20 (UK calendar days)." in out
    assert "Last crossing: 2026-08-17 (3 day(s) before the latest day covered)." in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:4].isdigit()}
    assert rows["2022"][4] == "45,755"
    assert rows["2023"][4] == "29,437"
    assert rows["2024"][4] == "36,816"
    assert rows["2022"][6] == "-"  # no uncontrolled-landing data before 2023
    assert "OGL v3.0" in out


def test_show_csv_by_year(data_home, capsys):
    code, out, _ = run(capsys, "show", "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out), dtype={"period": str})
    assert list(df.columns) == [
        "period",
        "start",
        "end",
        "days",
        "people",
        "boats",
        "boats_uncontrolled",
        "crossing_days",
    ]
    assert df.set_index("period").loc[["2022", "2023", "2024"], "people"].tolist() == [
        45755,
        29437,
        36816,
    ]


def test_summary_alias_json_by_week(data_home, capsys):
    code, out, _ = run(capsys, "summary", "--by", "week", "--last", "2", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["by"] == "week"
    assert [r["period"] for r in doc["totals"]] == ["2026-W33", "2026-W34"]
    assert doc["totals"][1] == {
        "period": "2026-W34",
        "start": "2026-08-17",
        "end": "2026-08-20",
        "days": 4,
        "people": 250,
        "boats": 3,
        "boats_uncontrolled": 0,
        "crossing_days": 1,
    }
    assert doc["coverage"]["end_date"] == "2026-08-20"
    assert doc["coverage"]["origin"] == "snapshot"


def test_show_by_month_table(data_home, capsys):
    code, out, _ = run(capsys, "show", "--by", "month", "--last", "1")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("2026-08"))
    assert line.split() == ["2026-08", "2026-08-01", "2026-08-20", "20", "1,697", "20", "0", "8"]


def test_show_bad_last(data_home, capsys):
    code, _, err = run(capsys, "show", "--last", "0")
    assert code == 2
    assert "forecast arrivals: error: --last 0: expected a whole number >= 1" in err


def test_update_from_files_then_revisions(data_home, capsys):
    code, out, _ = run(capsys, "update", "--ods", str(ODS), "--daily-html", str(DAILY_0822))
    assert code == 0
    assert "end_date           2026-08-21" in out
    assert "days_added         3,155" in out
    code, out, _ = run(capsys, "revisions")
    assert (code, out.strip()) == (0, "No revised values recorded.")
    page = DAILY_0822.read_text(encoding="utf-8")
    revised = data_home / "revised.html"
    # 15 August is covered by the release: the page's value for it is not used.
    revised.write_text(page.replace("<td>82</td>", "<td>90</td>"))
    code, out, _ = run(
        capsys, "update", "--ods", str(ODS), "--daily-html", str(revised), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["values_revised"] == 0
    # 21 August comes from the page: a changed value there is a logged revision.
    last_row = page.rindex("21 August 2026")
    revised.write_text(page[:last_row] + page[last_row:].replace("<td>0</td>", "<td>40</td>", 1))
    code, out, _ = run(
        capsys, "update", "--ods", str(ODS), "--daily-html", str(revised), "--format", "json"
    )
    doc = json.loads(out)
    assert doc["values_revised"] == 1
    assert doc["revisions"][0]["date"] == "2026-08-21"
    assert (doc["revisions"][0]["old"], doc["revisions"][0]["new"]) == ("0", "40")
    code, out, _ = run(capsys, "revisions", "--format", "csv")
    log = pd.read_csv(io.StringIO(out), dtype=str)
    assert log[["date", "column", "old", "new"]].values.tolist() == [
        ["2026-08-21", "people", "0", "40"]
    ]
    assert log["source"].tolist() == [str(revised)]
    code, out, _ = run(capsys, "show", "--by", "week", "--last", "1", "--format", "json")
    assert json.loads(out)["totals"][0]["people"] == 290  # 250 on 17 Aug + 40 on 21 Aug
    assert json.loads(out)["coverage"]["origin"] == "store"


def test_update_error_exit_code(data_home, capsys, tmp_path):
    bad = tmp_path / "x.ods"
    bad.write_bytes(b"not a zip")
    code, _, err = run(capsys, "update", "--ods", str(bad), "--no-daily")
    assert code == 2
    assert "x.ods is not a readable ODS spreadsheet" in err


def test_snapshot_is_reproducible(tmp_path, capsys):
    code, out, _ = run(
        capsys, "snapshot", "--ods", str(ODS), "--out", str(tmp_path), "--format", "json"
    )
    assert code == 0
    info = json.loads(out)
    assert info["rows"] == 3154
    assert info["release_date"] == "2026-08-21"
    assert (tmp_path / "arrivals.csv").read_bytes() == (SNAPSHOT / "arrivals.csv").read_bytes()
    assert (tmp_path / "README.md").read_text() == (SNAPSHOT / "README.md").read_text()


def test_arrivals_without_action_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0
    assert "usage: forecast arrivals" in out
    for action in ("update", "show", "revisions", "snapshot"):
        assert action in out


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        ("update", "update"),
        ("show", "show"),
        ("summary", "show"),
        ("revisions", "revisions"),
        ("snapshot", "snapshot"),
    ],
)
def test_every_action_has_help(action, shown, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["arrivals", action, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: forecast arrivals {shown}")
