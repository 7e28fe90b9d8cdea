"""Inputs found by adversarial testing that lost data or crashed a command; each test is a regression."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.core.records import Mention
from monitor.store import Store
from tests.test_bad_input import no_traceback, run

SETTINGS = """
timezone = "America/New_York"
[classifier]
model = "lexicon"
[[brands]]
name = "Acme"
queries = ["Acme"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path


def rows(sql: str) -> list[tuple]:
    with sqlite3.connect("lp.db") as conn:
        return conn.execute(sql).fetchall()


def test_a_nul_in_an_id_is_that_lines_error_not_a_silent_merge(project: Path) -> None:
    (project / "a.csv").write_text("id,text,created_at\nab,Acme is awful,2026-11-01T00:00:00Z\n", encoding="utf-8")
    (project / "b.csv").write_text("id,text,created_at\na\x00b,Acme broke my order,2026-11-02T00:00:00Z\n"
                                   "c\x00d,Acme is the worst,2026-11-02T00:00:00Z\n", encoding="utf-8")
    assert run("import", "a.csv").exit_code == 0
    result = run("import", "b.csv")
    no_traceback(result)
    assert "lines 2, 3: id: holds a NUL character" in result.output  # one kind of error, said once
    assert "0 already stored, 2 lines with errors" in result.output
    assert rows("SELECT external_id, text FROM mentions") == [("ab", "Acme is awful")]


def test_a_mention_whose_id_needs_cleaning_is_new_and_judged(tmp_path: Path) -> None:
    with Store(tmp_path / "lp.db") as store:
        made = Mention(source="x", external_id="c\x00d", text="t", created_at=datetime.now(UTC))
        new = store.save_mentions([made])
        assert [m.key for m in new] == [("x", "cd")]  # the key as stored: classified and alerted under it


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T03:00:00+05:00",
                                  "9999-12-31T23:00:00-05:00", "0999-06-01"])
def test_dates_at_the_ends_of_the_calendar_are_that_lines_error(project: Path, date: str) -> None:
    (project / "d.csv").write_text(f"id,text,created_at\ny0,Acme is awful,{date}\n"
                                   "y1,Acme is terrible,2026-11-01T00:00:00Z\n", encoding="utf-8")
    result = run("import", "d.csv")
    no_traceback(result)
    assert "line 2: the date" in result.output and "out of range" in result.output
    for command in (["mentions", "list"], ["mentions", "search", "acme"], ["alerts", "list"]):
        shown = run(*command)
        no_traceback(shown)
        assert shown.exit_code == 0, shown.output
        assert "terrible" in shown.output


def test_a_header_naming_a_column_twice_is_refused_before_anything_is_stored(project: Path) -> None:
    (project / "dup.csv").write_text("id,text,text,created_at\n"
                                     "d1,Acme lost my parcel,Acme is great,2026-11-01T00:00:00Z\n", encoding="utf-8")
    result = run("import", "dup.csv")
    no_traceback(result)
    assert result.exit_code != 0
    assert "the header names column 'text' twice (columns 2 and 3)" in result.output
    assert rows("SELECT count(*) FROM mentions") == [(0,)]


def test_a_json_key_given_twice_is_that_lines_error(project: Path) -> None:
    (project / "dup.jsonl").write_text(
        '{"id": "j1", "text": "Acme lost my parcel", "text": "Acme is great", "created_at": "2026-11-01"}\n'
        '{"id": "j2", "text": "Acme is slow", "created_at": "2026-11-01", "raw": {"a": 1, "a": 2}}\n',
        encoding="utf-8")
    result = run("import", "dup.jsonl")
    no_traceback(result)
    assert "line 1: the key 'text' appears twice in this object" in result.output
    assert rows("SELECT external_id FROM mentions") == [("j2",)]  # a nested repeat is only raw payload


def test_a_second_byte_order_mark_does_not_hide_the_first_column(project: Path) -> None:
    (project / "bom.csv").write_bytes("\ufeff\ufeffid,text,created_at\nb1,Acme is awful,2026-11-01\n".encode())
    assert run("import", "bom.csv").exit_code == 0
    assert rows("SELECT external_id FROM mentions") == [("b1",)]


@pytest.mark.parametrize("toml", ["foo = " + "[" * 50_000 + "]" * 50_000,
                                  "alerts = " + "{a=" * 3000 + "1" + "}" * 3000,
                                  "[brands." + ".".join(["a"] * 5000) + "]\nx = 1"])
def test_settings_nested_too_deeply_are_a_settings_error(project: Path, toml: str) -> None:
    (project / "deep.toml").write_text(toml + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", "deep.toml", "config", "check"])
    no_traceback(result)
    assert result.exit_code == 2
    assert "deep.toml: not readable: arrays or tables nested too deeply" in result.output


def test_a_database_path_that_is_a_pipe_is_refused_before_sqlite_opens_it(project: Path) -> None:
    import os

    os.mkfifo(project / "fifo.db")
    result = CliRunner().invoke(cli, ["--db", "fifo.db", "stats"])
    no_traceback(result)
    assert result.exit_code == 1
    assert "fifo.db: is not a regular file" in result.output
    assert sorted(p.name for p in project.iterdir()) == ["fifo.db", "settings.toml"]  # no journal left


def test_classify_refuses_to_write_over_the_file_it_reads(project: Path) -> None:
    data = "id,text,created_at\ne1,Acme is awful,2026-11-01\n"
    (project / "posts.csv").write_text(data, encoding="utf-8")
    result = run("classify", "posts.csv", "--output", "./posts.csv", "--model", "lexicon")
    no_traceback(result)
    assert result.exit_code == 2
    assert "is the file being classified" in result.output
    assert (project / "posts.csv").read_text(encoding="utf-8") == data


def test_an_output_that_is_not_a_regular_file_keeps_its_mode(project: Path) -> None:
    import os
    import threading

    os.mkfifo(project / "out.fifo", 0o644)
    os.chmod(project / "out.fifo", 0o644)  # what /dev/null stands for here: not ours to tighten
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append((project / "out.fifo").read_bytes()))
    reader.start()
    (project / "posts.csv").write_text("id,text,created_at\ne1,Acme is awful,2026-11-01\n", encoding="utf-8")
    result = run("classify", "posts.csv", "--output", "out.fifo", "--model", "lexicon")
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert b'"id": "e1"' in got[0]
    assert os.stat(project / "out.fifo").st_mode & 0o777 == 0o644


@pytest.mark.parametrize("encoding, bad, what", [
    ("utf-16", "\r\nbad,Acme ".encode("utf-16-le") + b"\x00\xdc", "not valid UTF-16 (bytes 0x00 0xdc)"),
    ("utf-32", b"\n\x00\x00\x00\x00\x00\x11\x00", "not valid UTF-32"),
    ("utf-8-sig", b"\nbad,\xed\xa0\x80", "not valid UTF-8 (byte 0xed)"),
])
def test_a_file_with_a_byte_order_mark_is_checked_whole_before_anything_is_stored(
        project: Path, encoding: str, bad: bytes, what: str) -> None:
    good = "\n".join(["id,text,created_at"] + [f"u{i},Acme is awful {i},2026-11-01" for i in range(1200)])
    data = good.encode(encoding)
    if encoding == "utf-32":
        bad = "\n".encode("utf-32-le") + b"\x00\x00\x11\x00"
    (project / "f.csv").write_bytes(data + bad)
    result = run("import", "f.csv")
    no_traceback(result)
    assert result.exit_code == 2
    assert "line 1202" in result.output and what in result.output and "nothing was imported" in result.output
    assert not (project / "lp.db").exists() or rows("SELECT count(*) FROM mentions") == [(0,)]


def test_a_stored_mention_at_the_end_of_the_calendar_is_listed(project: Path) -> None:
    # stored before dates were bounded, or by another tool: shown in UTC, not an OverflowError
    with Store("lp.db") as store:
        store.save_mentions([Mention(source="file", external_id="y0", text="Acme is awful", brand="Acme",
                                     created_at=datetime(1, 1, 1, tzinfo=UTC))])
    result = run("mentions", "list")
    no_traceback(result)
    assert result.exit_code == 0
    assert "0001-01-01 00:00 UTC" in result.output


@pytest.mark.parametrize("command", [["alerts", "claim", "99999999999999999999999"],
                                     ["alerts", "retry", "99999999999999999999"],
                                     ["alerts", "show", "9223372036854775808"]])
def test_an_alert_id_sqlite_cannot_hold_is_a_usage_error(project: Path, command: list[str]) -> None:
    result = run(*command)
    no_traceback(result)
    assert result.exit_code == 2
    assert "OverflowError" not in result.output and "not in the range" in result.output


@pytest.mark.parametrize("query, why", [("(" * 3000 + "acme" + ")" * 3000, "parentheses nested too deeply"),
                                        ("acme OR", "OR needs a term on each side")])
def test_a_brand_query_that_cannot_be_read_fails_config_check(project: Path, query: str, why: str) -> None:
    (project / "q.toml").write_text(f'[[brands]]\nname = "Acme"\nqueries = ["{query}"]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", "q.toml", "config", "check"])
    no_traceback(result)
    assert result.exit_code == 2
    assert "q.toml: brands[0].queries[0]: " in result.output and why in result.output


@pytest.mark.parametrize("name, value", [("LISTENPOST_ALERTS__CHANNELS__FILE__OPTIONS__TOKEN", "xoxb-CANARY-1"),
                                         ("LISTENPOST_DIGEST__SENDER", "https://hooks.slack.com/services/T/B/CANARY")])
def test_a_secret_given_as_a_setting_in_the_environment_is_refused_not_shown(
        project: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    (project / "settings.toml").write_text(SETTINGS + '[alerts.channels.file]\ntype = "jsonl"\n'
                                           'options = { path = "a.jsonl" }\n', encoding="utf-8")
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["config", "show"])
    no_traceback(result)
    assert result.exit_code == 2
    assert "CANARY" not in result.output
    assert f"{name}: " in result.output and "a secret does not belong" in result.output


@pytest.mark.parametrize("command", [["report", "--csv", "lp.db"], ["digest", "--preview", "lp.db"],
                                     ["classify", "posts.csv", "--output", "lp.db", "--model", "lexicon"]])
def test_a_file_written_for_the_user_never_replaces_the_database(project: Path, command: list[str]) -> None:
    (project / "posts.csv").write_text("id,text,created_at\ne1,Acme is awful,2026-11-01\n", encoding="utf-8")
    assert run("import", "posts.csv").exit_code == 0
    result = run(*command)
    no_traceback(result)
    assert result.exit_code != 0
    assert "lp.db: is an SQLite database" in result.output
    assert rows("SELECT count(*) FROM mentions") == [(1,)]
