"""`listenpost db copy`: an install's history carried into another database, counts checked,
re-runnable, onto SQLite (a backup) and onto PostgreSQL (moving an install)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.copy import copy_database
from monitor.app.demo import run_demo
from monitor.cli import cli
from monitor.core.records import utcnow
from monitor.store import COPIED_TABLES, Store, ts

SLACK_TS = "1700000000.000100"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An install's database as the pipeline leaves it: the demo's mentions collected, classified
    and alerted, one alert posted to Slack and claimed there (a case), a thank-you, a labeled
    example and a cursor."""
    path = tmp_path_factory.mktemp("installed") / "listenpost.db"
    run_demo(db_path=str(path), model="lexicon", show=0)
    with Store(path) as store:
        alert = next(a for a in store.list_alerts(limit=1000) if a.kind == "mention")
        store.mark_sent(alert.id, SLACK_TS)
        store.update_case(alert.id, only_unset="claimed_at", claimed_at=ts(utcnow()), claimed_by="U0CLAIMER")
        store.record_thanks(alert.source, alert.external_id, "U0THANKER", utcnow())
        store.add_labeled_example(source=alert.source, external_id=alert.external_id, text="labeled",
                                  label="negative", origin="slack", created_by="U0LABELER")
        store.save_cursor("reddit", "acme", "t3_cursor")
    return path


@pytest.fixture
def source(installed: Path, tmp_path: Path) -> Path:
    """A fresh copy of the installed database for each test (tests change it)."""
    path = tmp_path / "source.db"
    with Store(installed) as store:
        store.vacuum()  # everything in the main file, for a plain file copy
    path.write_bytes(installed.read_bytes())
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database copied into: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "target.db")
    url: str = request.getfixturevalue("pg_url")
    return url


def copy(runner: CliRunner, source: Path, target: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--db", str(source), "db", "copy", "--to", target, *extra])
    return result.exit_code, result.output


def table_lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line.strip() for line in output.splitlines() if line.startswith("  ")}


def test_copies_the_history_and_checks_the_counts(runner: CliRunner, source: Path, target: str) -> None:
    code, output = copy(runner, source, target)
    assert code == 0, output
    lines = table_lines(output)
    with Store(source) as before:
        counts = {t.name: before.count_rows(t.name) for t in COPIED_TABLES}
        alert = next(a for a in before.list_alerts(limit=1000) if a.channel_message_id == SLACK_TS)
        found = [m.external_id for m in before.list_mentions(search="refund", limit=1000)]
        case = before.case_alert_ids(alert.id)
    assert counts["mentions"] > 100 and counts["alerts"] > 10
    for table, count in counts.items():
        assert " ".join(lines[table].split()) == f"{table} {count:,} = {count:,} ✓"
    with Store(target) as after:
        copied = after.alert(alert.id)
        assert copied is not None
        assert copied.channel_message_id == SLACK_TS and copied.status == "sent"
        assert copied.claimed_by == "U0CLAIMER"
        assert after.case_alert_ids(alert.id) == case
        assert found and [m.external_id for m in after.list_mentions(search="refund", limit=1000)] == found
        assert after.cursor("reddit", "acme") == "t3_cursor"
        assert [(e.text, e.label, e.origin) for e in after.labeled_examples()] == [("labeled", "negative", "slack")]
        assert not after.record_thanks(alert.source, alert.external_id, "U0AGAIN", utcnow())
        # The next alert follows the copied ones rather than taking one of their ids.
        new = after.enqueue_alert(source="reddit", external_id="after-the-move", brand="Parcelly", channel="team")
        assert new is not None and new > max(a.id for a in after.list_alerts(limit=1000) if a.id != new)


def test_a_second_copy_adds_nothing(runner: CliRunner, source: Path, target: str) -> None:
    assert copy(runner, source, target)[0] == 0
    code, output = copy(runner, source, target)
    assert code == 0, output
    assert "0 rows added" in output
    assert all(line.endswith("✓") for line in table_lines(output).values())


def test_rows_that_differ_in_the_target_are_reported(runner: CliRunner, source: Path, target: str) -> None:
    assert copy(runner, source, target)[0] == 0
    with Store(target) as after:
        alert = after.list_alerts(limit=1)[0]
        after.set_alert_fields(alert.id, status="failed", last_error="changed on the target")
        verdict = after.list_mentions(label="negative", limit=1)[0]
        after._execute("UPDATE classifications SET label = 'positive' WHERE source = ? AND external_id = ?",
                       [verdict.source, verdict.external_id])
    code, output = copy(runner, source, target)
    assert code == 1
    with Store(source) as origin:
        count = origin.count_rows("alerts")
    assert " ".join(table_lines(output)["alerts"].split()) == (
        f"alerts {count:,} = {count:,} ✗ (1 row with other contents in the target, kept: {alert.id})")
    assert table_lines(output)["classifications"].endswith(
        f"(1 row with other contents in the target, kept: {verdict.source}/{verdict.external_id}/{verdict.model})")
    assert output.strip().splitlines()[-1].startswith(
        "Error: the copy does not match the source in classifications, alerts")
    with Store(target) as after:
        kept = after.alert(alert.id)
        assert kept is not None and kept.last_error == "changed on the target"


def test_extra_rows_in_the_target_fail_the_count(runner: CliRunner, source: Path, target: str) -> None:
    from monitor.core.records import Mention

    with Store(target) as before:
        before.save_mentions([Mention(source="rss", external_id="only-here", text="Parcelly elsewhere",
                                      created_at=utcnow())])
    code, output = copy(runner, source, target)
    assert code == 1
    with Store(source) as origin:
        count = origin.count_mentions()
    assert f"{count:,} ≠ {count + 1:,} ✗" in table_lines(output)["mentions"]
    assert "Error: the copy does not match the source in mentions" in output


def test_copies_from_the_named_database(runner: CliRunner, source: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    result = runner.invoke(cli, ["--db", str(tmp_path / "unused.db"), "db", "copy", "--from", str(source),
                                 "--to", str(target)])
    assert result.exit_code == 0, result.output
    report = copy_database(str(source), str(target))
    assert report.ok and report.added == 0
    assert {t.table for t in report.tables} == {t.name for t in COPIED_TABLES}


@pytest.mark.parametrize("same", [
    lambda p: str(p), lambda p: str(p.parent / "." / p.name), lambda p: "./" + p.name,
])
def test_refuses_to_copy_a_database_onto_itself(runner: CliRunner, source: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                same: Callable[[Path], str]) -> None:
    monkeypatch.chdir(source.parent)
    code, output = copy(runner, source, same(source))
    assert code == 2
    assert output.strip().splitlines() == [
        f"Error: db copy: {same(source)} is the database being copied; name another database with --to"]


def test_refuses_to_copy_a_postgresql_database_onto_itself(runner: CliRunner, pg_url: str) -> None:
    spelled_otherwise = pg_url.replace("postgresql://", "postgres://")
    result = runner.invoke(cli, ["--db", pg_url, "db", "copy", "--to", spelled_otherwise])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: db copy: {spelled_otherwise} is the database being copied; name another database with --to"]


def test_an_unreachable_server_is_one_line(runner: CliRunner, source: Path) -> None:
    from tests.pgserver import free_port

    code, output = copy(runner, source, f"postgresql://127.0.0.1:{free_port()}/listenpost")
    assert code == 1
    assert output.strip().splitlines()[-1].startswith("Error: PostgreSQL at 127.0.0.1:")
    assert "connection refused" in output and "Traceback" not in output
    assert not Path("postgresql:").exists()


def test_one_line_errors(runner: CliRunner, source: Path, tmp_path: Path) -> None:
    code, output = copy(runner, tmp_path / "missing.db", str(tmp_path / "x.db"))
    assert code == 2 and output.strip().splitlines()[-1].endswith("no such database file to copy from")
    code, output = copy(runner, source, "mysql://db/listenpost")
    assert code == 2 and len(output.strip().splitlines()) == 1 and "mysql:// is not a database" in output
    (tmp_path / "folder.db").mkdir()
    code, output = copy(runner, source, str(tmp_path / "folder.db"))
    assert code == 1 and output.strip().splitlines()[-1].endswith("is a directory, not a database file")


def test_back_from_postgresql_to_a_file(runner: CliRunner, source: Path, pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL's own columns (the search vector, the mentions' row numbers) stay behind; the
    file it is copied back to is searchable again."""
    assert copy(runner, source, pg_url)[0] == 0
    back = tmp_path / "back.db"
    result = runner.invoke(cli, ["db", "copy", "--from", pg_url, "--to", str(back)])
    assert result.exit_code == 0, result.output
    assert "PGPASSWORD" not in result.output and "listenpost-test-password" not in result.output
    with Store(source) as origin, Store(back) as copied:
        for table in COPIED_TABLES:
            assert copied.count_rows(table.name) == origin.count_rows(table.name)
        assert [m.external_id for m in copied.list_mentions(search="refund", limit=1000)] == [
            m.external_id for m in origin.list_mentions(search="refund", limit=1000)]


def test_a_password_in_the_url_is_never_shown(runner: CliRunner, source: Path, pg_url: str) -> None:
    from tests.pgserver import PASSWORD, USER

    with_password = pg_url.replace("postgresql://", f"postgresql://{USER}:{PASSWORD}@")
    code, output = copy(runner, source, with_password)
    assert code == 0, output
    assert PASSWORD not in output
    assert f"→ postgresql://{USER}:***@" in output


def test_a_target_numbering_other_rows_with_the_same_ids_is_refused_before_anything_is_written(
        runner: CliRunner, source: Path, target: str) -> None:
    """Workers ran on the target first: its alerts took ids 1, 2, 3 for other mentions. Copying would
    skip the source's alerts under those ids and leave a mix of both; nothing is written."""
    with Store(target) as before:
        for n in range(5):
            before.enqueue_alert(source="rss", external_id=f"live-{n}", brand="Parcelly", channel="team")
        counts = {t.name: before.count_rows(t.name) for t in COPIED_TABLES}
    with Store(source) as origin:
        first = sorted(a.id for a in origin.list_alerts(limit=1000))[:3]
    code, output = copy(runner, source, target)
    assert code != 0
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: db copy: the target already holds other alerts "
                                                   "under 5 ids of the source's"), output
    assert f"({', '.join(str(i) for i in first)}…)" in lines[0] and "nothing was copied" in lines[0]
    with Store(target) as after:
        assert {t.name: after.count_rows(t.name) for t in COPIED_TABLES} == counts


def test_a_copy_interrupted_or_finished_runs_again(runner: CliRunner, source: Path, target: str) -> None:
    """The same rows from an earlier copy of this source are no clash, even an alert handled since."""
    assert copy(runner, source, target)[0] == 0
    with Store(target) as partial:
        alert = partial.list_alerts(limit=1)[0]
        partial._execute("DELETE FROM alerts WHERE id > ?", [alert.id + 2])
        partial._execute("DELETE FROM runs")
        partial.mark_sent(alert.id, "1700000001.000100")
    _, output = copy(runner, source, target)
    assert "already holds other" not in output
    assert table_lines(output)["runs"].endswith("✓") and table_lines(output)["mentions"].endswith("✓")
    code, output = copy(runner, source, target)
    assert "already holds other" not in output and "0 rows added" in output
    # The alert sent since is reported as held with other contents, as after any copy.
    assert code == 1 and "1 row with other contents in the target, kept" in table_lines(output)["alerts"]


def _fingerprint(path: Path) -> tuple[bytes, bytes]:
    """The database file and what its write-ahead log holds (SQLite may leave an empty one beside
    a file it only read)."""
    wal = path.parent / (path.name + "-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def test_the_source_is_never_changed(runner: CliRunner, source: Path, target: str) -> None:
    before = _fingerprint(source)
    assert copy(runner, source, target)[0] == 0
    assert _fingerprint(source) == before


def test_a_source_from_an_older_version_is_copied_as_it_is(runner: CliRunner, tmp_path: Path, target: str) -> None:
    """`db copy --from old.db` used to migrate the old file in place; its tables are read as they are."""
    old = tmp_path / "old.db"
    with Store(old, migrate=False) as store:
        store.migrate(upto="0005_alert_handling")
        store._execute("INSERT INTO mentions (source, external_id, text, created_at, collected_at)"
                       " VALUES ('rss', 'old-1', 'Parcelly lost my refund', '2024-01-01T00:00:00Z',"
                       " '2024-01-01T00:00:00Z')")
        store._execute("INSERT INTO alerts (source, external_id, brand, channel, kind, created_at)"
                       " VALUES ('rss', 'old-1', 'Parcelly', 'team', 'mention', '2024-01-01T00:00:00Z')")
        applied = store.applied_migrations()
    assert "thanks" not in Store(old, read_only=True).sql.table_names()
    before = _fingerprint(old)
    result = runner.invoke(cli, ["db", "copy", "--from", str(old), "--to", target])
    assert result.exit_code == 0, result.output
    assert _fingerprint(old) == before
    with Store(old, read_only=True) as again:
        assert again.applied_migrations() == applied
    with Store(target) as after:
        assert after.count_rows("mentions") == 1 and after.count_rows("alerts") == 1
        assert [m.external_id for m in after.list_mentions(search="refund", limit=10)] == ["old-1"]
    assert " ".join(table_lines(result.output)["thanks"].split()) == "thanks 0 = 0 ✓"
