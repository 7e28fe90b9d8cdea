"""`listenpost import` as a social-media manager uses it: mistakes explained, time zones, reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.store import Store, ts

SETTINGS = """
database = "lp.db"
timezone = "America/New_York"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "lexicon"
[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }
[[alerts.routes]]
channels = ["file"]
"""
HEADER = "PostId,FullText,Posted,Followers,Sentiment\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    rows = [f"p{n},Acme lost my parcel again and nobody answers. Furious!,2026-11-2{n % 9} 09:30,\"12,400\",Negative"
            for n in range(50)]
    (tmp_path / "export.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


MAP = ("--map", "id=PostId", "--map", "created_at=Posted")


def test_a_mistyped_column_fails_once_with_the_files_columns(runner, project) -> None:
    code, out = invoke(runner, "import", "export.csv", *MAP, "--map", "text=FullTxt")
    assert code == 2
    assert "nothing was imported" in out
    assert "The file's columns: PostId, FullText, Posted, Followers, Sentiment" in out
    error_lines = [line for line in out.splitlines() if "no column 'FullTxt'" in line and line.startswith("  lines")]
    assert len(error_lines) == 1 and "(50 lines)" in error_lines[0]


def test_dates_in_another_format_suggest_date_format(runner, project) -> None:
    Path("dates.csv").write_text("text,date\nacme is broken,03/11/2026 14:05\nacme again,04/11/2026 09:00\n",
                                 encoding="utf-8")
    code, out = invoke(runner, "import", "dates.csv")
    assert code == 2 and "--date-format" in out and "lines 2, 3: cannot read the date" in out
    code, out = invoke(runner, "import", "dates.csv", "--date-format", "%d/%m/%Y %H:%M")
    assert code == 0 and "2 new mentions" in out


def test_naive_dates_are_read_in_the_configured_zone_or_the_given_one(runner, project) -> None:
    code, out = invoke(runner, "import", "export.csv", *MAP, "--map", "text=FullText")
    assert code == 0, out
    with Store("lp.db") as store:
        assert ts(store.mention("file", "p1").created_at).startswith("2026-11-21T14:30")  # 09:30 EST
    Path("one.csv").write_text("id,text,date\nq1,acme ok,2026-07-01 09:30\n", encoding="utf-8")
    code, out = invoke(runner, "import", "one.csv", "--timezone", "Europe/London")
    assert code == 0
    with Store("lp.db") as store:
        assert ts(store.mention("file", "q1").created_at).startswith("2026-07-01T08:30")  # 09:30 BST
    code, out = invoke(runner, "import", "one.csv", "--timezone", "Mars/Olympus")
    assert code == 2 and "not a time zone" in out
    code, out = invoke(runner, "import", "one.csv", "--timezone", "a" * 5000)  # too long for a file name
    assert code == 2 and "not a time zone" in out and "zoneinfo/" not in out


def test_import_says_queued_alerts_are_not_sent_and_keeps_reach_and_vendor_sentiment(runner, project) -> None:
    code, out = invoke(runner, "import", "export.csv", *MAP, "--map", "text=FullText",
                       "--map", "reach=Followers", "--map", "vendor_sentiment=Sentiment")
    assert code == 0, out
    # 50 complaints, and a status notice for each day's incident: the same words five or six
    # times at 09:30 on each of nine days (waves of one day each, posted days apart)
    assert "59 alerts queued" in out and "not sent yet" in out and "listenpost alerts dispatch" in out
    with Store("lp.db") as store:
        row = store.mention("file", "p3")
    assert (row.reach, row.vendor_sentiment) == (12400, "Negative")
    assert invoke(runner, "alerts", "dispatch")[0] == 0
    alert = json.loads(Path("alerts.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert alert["reach"] == 12400
    code, shown = invoke(runner, "alerts", "show", "1")
    assert "reach 12,400 followers" in shown


@pytest.mark.parametrize(("value", "reach"), [("12400", 12400), ("12,400", 12400), ("12.4K", 12400), ("1.2M", 1200000)])
def test_reach_as_exports_write_it(value, reach) -> None:
    from collectors.file import parse_reach

    assert parse_reach(value) == reach


def test_a_map_to_a_missing_optional_column_is_said_not_silently_empty(runner, project) -> None:
    Path("r.csv").write_text("id,text,date,followers\nr1,acme ok,2026-07-01 09:30,12400\n", encoding="utf-8")
    code, out = invoke(runner, "import", "r.csv", "--map", "reach=follower")
    assert code == 0
    assert "no column 'follower' (from --map reach=follower), so no reach is read" in out and "'followers'" in out


def test_errors_of_one_kind_keep_each_lines_value_and_half_stars_are_said(runner, project) -> None:
    """Rating 0 on one line and 6 on the next are one kind of mistake, not two lines of '0'."""
    Path("stars.csv").write_text(
        "id,text,date,rating\n"
        "s1,acme is fine,2026-11-20T10:00:00Z,5\n"
        "s2,acme is fine again,2026-11-20T10:00:00Z,4\n"
        "s3,acme is broken,2026-11-20T10:00:00Z,0\n"
        "s4,acme is broken again,2026-11-20T10:00:00Z,6\n"
        "s5,acme is nearly great,2026-11-20T10:00:00Z,4.5\n", encoding="utf-8")
    code, out = invoke(runner, "import", "stars.csv")
    assert code == 0, out
    assert "  lines 4, 5: rating must be 1 to 5, not … (line 4: '0'; line 5: '6')" in out
    assert "line 6: imported, rating '4.5' read as 5 stars: a fraction of a star rounds to the nearest" in out
    with Store("lp.db") as store:
        assert store.mention("file", "s5").rating == 5 and store.mention("file", "s3") is None


def test_a_brand_column_naming_no_configured_brand_falls_back_to_the_text(runner, project) -> None:
    Path("reviews.csv").write_text(
        "id,created_at,brand,rating,text\n"
        "r1,2026-11-20 10:00,Acme Inc,1,acme cloud deleted my files. Terrible\n"
        "r2,2026-11-20 10:01,Acme Inc,1,my landlord deleted my files. Terrible\n"
        "r3,2026-11-20 10:02,Zenith,1,acme lost my data. Awful\n"
        "r4,2026-11-20 10:03, acme ,1,the parcel never came. Terrible\n",
        encoding="utf-8")
    code, out = invoke(runner, "import", "reviews.csv")
    assert code == 0, out
    warnings = [line for line in out.splitlines() if "named no configured brand" in line]
    assert warnings == ["  brand column: 3 rows named no configured brand ('Acme Inc' (2), 'Zenith' (1)), so they "
                        "were matched by their text like rows without a brand; the configured brands: Acme"]
    assert "1 matched no brand" in out and "3 alerts queued" in out
    with Store("lp.db") as store:
        assert [store.mention("file", i).brand for i in ("r1", "r2", "r3", "r4")] == ["Acme", "", "Acme", "Acme"]
        assert {a.external_id for a in store.list_alerts(limit=10)} == {"r1", "r3", "r4"}
    code, out = invoke(runner, "import", "reviews.csv", "--brand", "Acme Inc")
    assert code == 2 and "Acme Inc" in out  # given as a flag, a wrong brand is still refused
