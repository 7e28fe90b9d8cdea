"""Bad files given to `import` and `classify`: one line per bad row naming it, the rest imported, no traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.store import MAX_TEXT, Store

SETTINGS = """
[classifier]
model = "lexicon"
[[brands]]
name = "Acme"
queries = ["Acme"]
"""
GOOD = {"text": "Acme lost my parcel, awful service", "created_at": "2026-11-01T10:00:00Z"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", "lp.db", *args])


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def stored_ids(db: Path) -> set[str]:
    with Store(db) as store:
        return {r["external_id"] for r in store.db.query("SELECT external_id FROM mentions")}


# One bad line each, between good ones: (what the line holds, its JSON text, words the error must say).
BAD_LINES = [
    ("date 1e300", json.dumps({**GOOD, "id": "x", "created_at": "1e300"}), "date"),
    ("date of 20 digits", json.dumps({**GOOD, "id": "x", "created_at": "99999999999999999999"}), "out of range"),
    ("date as a huge number", json.dumps({**GOOD, "id": "x", "created_at": 99999999999999999999}), "out of range"),
    ("rating 1e400", json.dumps({**GOOD, "id": "x", "rating": "1e400"}), "rating"),
    ("rating as JSON 1e400", '{"id": "x", "text": "t", "created_at": "2026-11-01", "rating": 1e400}', "rating"),
    ("a 5,000-digit number", '{"id": "x", "text": "t", "created_at": "2026-11-01", "n": ' + "9" * 5000 + "}",
     "4,300 digits"),
    ("JSON nested 100,000 deep", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested"),
    ("lone surrogate in id", '{"id": "\\ud800", "text": "t", "created_at": "2026-11-01"}', "id:"),
    ("lone surrogate in source", '{"id": "x", "source": "\\udc00", "text": "t", "created_at": "2026-11-01"}',
     "source:"),
    ("lone surrogate in brand", '{"id": "x", "brand": "a\\ud800", "text": "t", "created_at": "2026-11-01"}',
     "brand:"),
]


@pytest.mark.parametrize(("line", "words"), [(c[1], c[2]) for c in BAD_LINES], ids=[c[0] for c in BAD_LINES])
def test_a_bad_value_is_one_bad_line_and_the_rest_is_imported(project: Path, line: str, words: str) -> None:
    rows = [json.dumps({**GOOD, "id": "before"}), line, json.dumps({**GOOD, "id": "after"})]
    (project / "in.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("import", "in.jsonl")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "line 2: " in result.output and words in result.output.split("line 2: ", 1)[1].splitlines()[0]
    assert "1 line with errors" in result.output
    assert stored_ids(project / "lp.db") == {"before", "after"}
    # Re-running does not stop at the same place: nothing new, the same one line reported.
    again = run("import", "in.jsonl")
    assert again.exit_code == 0 and "0 new mentions, 2 already stored" in again.output


@pytest.mark.parametrize(("line", "words"), [(c[1], c[2]) for c in BAD_LINES], ids=[c[0] for c in BAD_LINES])
def test_classify_survives_the_same_rows(project: Path, line: str, words: str) -> None:
    rows = [json.dumps({**GOOD, "id": "before"}), line, json.dumps({**GOOD, "id": "after"})]
    (project / "in.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("classify", "in.jsonl", "--model", "lexicon", "--output", "out.jsonl")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in (project / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(out) == 3 and out[0]["id"] == "before" and out[2]["id"] == "after"
    assert out[0]["label"] == "negative" and out[2]["label"] == "negative"


def test_unclosed_quote_names_its_line_and_the_rows_after_it_are_imported(project: Path) -> None:
    lines = ["id,created_at,author,text"]
    lines += [f'c{i},2026-11-01T10:00:00Z,ann,{chr(34) + "broken" if i == 3 else f"Acme row {i}"}'
              for i in range(2, 1001)]
    (project / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", "big.csv")
    no_traceback(result)
    assert "line 3: a quote opened on this line is not closed" in result.output
    assert "1 line with errors" in result.output and "998 new mentions" in result.output
    ids = stored_ids(project / "lp.db")
    assert len(ids) == 998 and "c3" not in ids and {"c2", "c4", "c1000"} <= ids


def test_unclosed_quote_closed_by_a_later_stray_quote(project: Path) -> None:
    lines = ["id,created_at,text", '1,2026-11-01,"opens here', "2,2026-11-01,fine", '3,2026-11-01,a 5" screen',
             "4,2026-11-01,fine too"]
    (project / "q.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", "q.csv")
    assert "line 2: a quote opened on this line is not closed" in result.output
    assert stored_ids(project / "lp.db") == {"2", "3", "4"}


def test_many_stray_quotes_cost_each_line_once_and_spare_the_good_lines(project: Path) -> None:
    """A tab-separated export whose text often starts with a quote mark, closed or not."""
    lines = ["id\tcreated_at\ttext"]
    lines += [f'{i}\t2026-11-01\t"Acme" said {i}' if i % 2 else f'{i}\t2026-11-01\t"never closed {i}'
              for i in range(1, 20_001)]
    (project / "q.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", "q.tsv", "--no-classify")
    assert result.exit_code == 0, result.output
    assert "10000 new mentions" in result.output and "10000 lines with errors" in result.output
    # one line for the one mistake, with the lines it hit
    assert "lines 3, 5, 7, 9, 11, 13, … (9999 lines): a quote opened on this line is not closed" in result.output
    with Store(project / "lp.db") as store:
        assert store.mention("file", "19999").text == "Acme said 19999"


def test_quoted_fields_over_several_lines_stay_one_row(project: Path) -> None:
    body = 'id,created_at,text\n1,2026-11-01,"first line\nsecond ""quoted"" line"\n2,2026-11-01,next\n'
    (project / "m.csv").write_text(body, encoding="utf-8")
    result = run("import", "m.csv", "--no-classify")
    assert result.exit_code == 0 and "0 lines with errors" in result.output
    with Store(project / "lp.db") as store:
        assert store.mention("file", "1").text == 'first line\nsecond "quoted" line'


def test_text_over_the_limit_is_cut_where_the_payload_stays_valid_json(project: Path) -> None:
    row = {"id": "long", "text": "Acme " + "é" * (MAX_TEXT + 50_000), "created_at": "2026-11-01"}
    (project / "long.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run("import", "long.jsonl")
    assert result.exit_code == 0
    assert f"line 1: imported, text of {MAX_TEXT + 50_005:,} characters cut to its first {MAX_TEXT:,}" in result.output
    conn = sqlite3.connect(project / "lp.db")
    text, raw = conn.execute("SELECT text, raw FROM mentions").fetchone()
    assert len(text) == MAX_TEXT and len(raw) <= MAX_TEXT
    payload = json.loads(raw)
    assert payload["id"] == "long" and payload["text"].startswith("Acme éé") and payload["listenpost_note"]
    assert run("mentions", "list").exit_code == 0
    demo = run("demo", "--model", "lexicon", "--limit", "1")  # reads every payload with json_extract
    assert demo.exit_code == 0, demo.output


@pytest.mark.parametrize(("name", "data", "words"), [
    ("utf16-no-bom.csv", "id,created_at,text\n1,2026-11-01,Acme\n".encode("utf-16-le"), "UTF-16"),
    ("latin1.csv", "id,created_at,text\n1,2026-11-01,ok\n2,2026-11-01,caf\xe9\n".encode("latin-1"),
     "line 3, column 17: not valid UTF-8 (byte 0xe9)"),
    ("cut.jsonl", json.dumps({**GOOD, "id": "é"}, ensure_ascii=False).encode()[:-5] + b"\xc3", "ends inside"),
])
def test_a_file_not_in_utf8_is_refused_before_anything_is_stored(project: Path, name: str, data: bytes,
                                                                 words: str) -> None:
    (project / name).write_bytes(data)
    for command in (["import", name], ["classify", name, "--model", "lexicon"]):
        result = run(*command)
        no_traceback(result)
        assert result.exit_code == 2, result.output
        assert words in result.output and name in result.output
        assert "U+FFFD" not in result.output
    assert not (project / "lp.db").exists() or not stored_ids(project / "lp.db")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_read_in_its_encoding(project: Path, encoding: str) -> None:
    (project / "bom.csv").write_bytes("id,created_at,text\n1,2026-11-01,Acme café ☕\n".encode(encoding))
    result = run("import", "bom.csv", "--no-classify")
    assert result.exit_code == 0 and "1 new mention," in result.output
    with Store(project / "lp.db") as store:
        assert store.mention("file", "1").text == "Acme café ☕"
