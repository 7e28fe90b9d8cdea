"""Against a real PostgreSQL server started by the tests: the test server itself, and a connection's
failures as one line naming the server (refused, wrong password, no such database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.core.database import DatabaseError, check_database, connect_postgres
from tests.pgserver import PASSWORD, PostgresServer, free_port


def test_each_test_gets_a_fresh_empty_database_on_postgresql_15_or_later(pg_url: str) -> None:
    with connect_postgres(pg_url) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int AS version, "
                           "current_database() AS name, current_setting('application_name') AS app").fetchone()
        tables = conn.execute("SELECT count(*) AS n FROM information_schema.tables "
                              "WHERE table_schema = 'public'").fetchone()
    assert row is not None and tables is not None
    assert row["version"] >= 150000
    assert pg_url.endswith("/" + row["name"])
    assert row["app"] == "listenpost"
    assert tables["n"] == 0


def test_a_connection_starts_transactions_and_returns_rows_as_dicts(pg_url: str) -> None:
    conn = connect_postgres(pg_url)
    try:
        assert conn.autocommit is False
        conn.execute("CREATE TABLE t (x int)")
        conn.rollback()  # nothing was committed on its own
        assert conn.execute("SELECT to_regclass('t') AS t").fetchone() == {"t": None}
    finally:
        conn.close()


def test_full_text_search_speaks_english(pg_url: str) -> None:
    with connect_postgres(pg_url) as conn:
        row = conn.execute("SELECT to_tsvector('english', 'Refunds were refused') "
                           "@@ websearch_to_tsquery('english', 'refund') AS hit").fetchone()
    assert row == {"hit": True}


def test_a_database_is_dropped_after_its_test(pg_server: PostgresServer) -> None:
    name = pg_server.create_database()
    assert name in pg_server.databases()
    held = connect_postgres(pg_server.url(name, with_password=True))  # a connection left open
    pg_server.drop_database(name)
    held.close()
    assert name not in pg_server.databases()


def test_the_server_listens_on_the_loopback_only(pg_server: PostgresServer) -> None:
    with pg_server.admin() as conn:
        row = conn.execute("SELECT current_setting('listen_addresses')").fetchone()
    assert row == ("127.0.0.1",)


def _one_line_error(url: str) -> str:
    with pytest.raises(DatabaseError) as caught:
        connect_postgres(url)
    text = str(caught.value)
    assert "\n" not in text
    assert PASSWORD not in text and "wrong-password" not in text
    return text


def test_a_port_nobody_listens_on_is_refused(pg_server: PostgresServer, pg_url: str) -> None:
    port = free_port()
    assert _one_line_error(f"postgresql://127.0.0.1:{port}/listenpost") == (
        f"PostgreSQL at 127.0.0.1:{port}/listenpost: connection refused "
        "(is the server running and accepting TCP/IP connections?)")


def test_a_wrong_password_says_authentication_failed(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong-password")
    text = _one_line_error(pg_url)
    assert text.endswith("authentication failed for user 'postgres' (set PGUSER and PGPASSWORD)")
    assert text.startswith("PostgreSQL at 127.0.0.1:")
    in_url = pg_url.replace("postgresql://", "postgresql://postgres:wrong-password@")
    assert "authentication failed" in _one_line_error(in_url)


def test_a_missing_database_is_named(pg_server: PostgresServer, pg_url: str) -> None:
    text = _one_line_error(pg_server.url("no_such_db"))
    assert text == (f"PostgreSQL at 127.0.0.1:{pg_server.port}/no_such_db: database 'no_such_db' does not "
                    "exist on the server (create it with createdb)")


def test_a_reachable_server_is_a_database_not_a_file(pg_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    location = check_database(pg_url)
    assert location.kind == "postgresql" and location.url == pg_url
    assert list(tmp_path.iterdir()) == []


def test_commands_reach_the_server_through_the_environment(pg_url: str, runner: CliRunner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    result = runner.invoke(cli, ["stats"], env={"LISTENPOST_DATABASE": pg_url})
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
