"""The `database` setting: a file path or a postgresql:// URL, never a URL taken for a file name,
any other scheme a one-line settings error, a password never shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.core.config import load_settings
from monitor.core.database import DatabaseLocation, connect_failure, mask_url, parse_database
from monitor.core.errors import ConfigError


@pytest.mark.parametrize(("value", "kind", "path", "url"), [
    ("listenpost.db", "sqlite", "listenpost.db", ""),
    ("/var/lib/listenpost/data.db", "sqlite", "/var/lib/listenpost/data.db", ""),
    (":memory:", "sqlite", ":memory:", ""),
    ("C:\\data\\listenpost.db", "sqlite", "C:\\data\\listenpost.db", ""),
    ("odd:name.db", "sqlite", "odd:name.db", ""),
    ("postgresql://db/listenpost", "postgresql", "", "postgresql://db/listenpost"),
    ("postgres://db:5433/listenpost", "postgresql", "", "postgres://db:5433/listenpost"),
    ("postgresql:///listenpost", "postgresql", "", "postgresql:///listenpost"),
    ("postgresql://db/listenpost?sslmode=require", "postgresql", "", "postgresql://db/listenpost?sslmode=require"),
])
def test_a_database_is_a_file_or_a_postgresql_url(value: str, kind: str, path: str, url: str) -> None:
    assert parse_database(value) == DatabaseLocation(kind, path=path, url=url)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [
    "mysql://db/listenpost", "sqlite+foo://x.db", "http://example.com/x.db", "sqlite:///x.db",
    "mongodb+srv://cluster/x", "postgresql+psycopg://db/x",
])
def test_another_scheme_is_a_settings_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^database: .*is not a database listenpost can use"):
        parse_database(value)


@pytest.mark.parametrize(("value", "reason"), [
    ("postgresql:db/listenpost", "starts with postgresql://"),
    ("postgresql://db:port/listenpost", "the port is not a number"),
    ("postgresql://db/listenpost?nonsense=1", "not a valid PostgreSQL URL"),
    ("POSTGRESQL://db/listenpost", "not a valid PostgreSQL URL"),  # libpq reads the scheme in lower case only
    ("   ", "the database path is empty"),
])
def test_a_malformed_url_is_a_settings_error(value: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_database(value)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ann:s3cret@db/lp", "postgresql://ann:***@db/lp"),
    ("postgresql://ann@db/lp", "postgresql://ann@db/lp"),
    ("postgresql://db/lp?sslmode=require&password=s3cret", "postgresql://db/lp?sslmode=require&password=***"),
    ("postgresql://ann:p%40ss@db:5432/lp", "postgresql://ann:***@db:5432/lp"),
])
def test_a_password_in_the_url_is_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert parse_database(url).display() == shown


def test_the_server_named_in_errors_has_no_password() -> None:
    assert parse_database("postgresql://ann:s3cret@db.example:6543/lp").server == "db.example:6543/lp"


def test_a_bad_url_error_never_quotes_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_database("postgresql://ann:s3cret@db/lp?nonsense=1")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("how", ["flag", "environment", "file"])
def test_a_url_never_becomes_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """`--db postgresql://…` used to create a folder `postgresql:` holding an SQLite file."""
    monkeypatch.chdir(tmp_path)
    url = "postgresql://127.0.0.1:1/listenpost"
    file = tmp_path / "settings.toml"
    if how == "file":
        file.write_text(f'database = "{url}"\n', encoding="utf-8")
    environ = {"LISTENPOST_DATABASE": url} if how == "environment" else {}
    settings = load_settings(file if how == "file" else None, environ=environ,
                             overrides={"database": url} if how == "flag" else None)
    assert settings.database == url
    assert settings.database_location.kind == "postgresql"
    assert [p.name for p in tmp_path.iterdir()] in ([], ["settings.toml"])


@pytest.mark.parametrize("command", [["stats"], ["mentions", "list"], ["demo"], ["status"], ["run"]])
def test_commands_on_an_unreachable_server_fail_in_one_line_and_create_nothing(
        runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    url = "postgresql://ann:s3cret@127.0.0.1:1/listenpost"
    result = runner.invoke(cli, ["--db", url, *command])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert lines == ["Error: PostgreSQL at 127.0.0.1:1/listenpost: connection refused "
                     "(is the server running and accepting TCP/IP connections?)"]
    assert "s3cret" not in result.output
    assert not any(p.name.startswith("postgres") for p in tmp_path.rglob("*"))


def test_an_unknown_scheme_is_refused_by_every_command(runner: CliRunner, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    result = runner.invoke(cli, ["stats"], env={"LISTENPOST_DATABASE": "mysql://db/listenpost"})
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
    assert "mysql:// is not a database listenpost can use" in result.output
    assert list(tmp_path.iterdir()) == []


def test_config_show_masks_a_password_in_the_url(runner: CliRunner, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    env = {"LISTENPOST_DATABASE": "postgresql://ann:s3cret@db/lp", "PGPASSWORD": "also-secret"}
    shown = runner.invoke(cli, ["config", "show"], env=env)
    as_json = runner.invoke(cli, ["config", "show", "--json"], env=env)
    assert shown.exit_code == 0 and as_json.exit_code == 0, shown.output + as_json.output
    assert 'database = "postgresql://ann:***@db/lp"' in shown.output
    assert json.loads(as_json.output)["settings"]["database"] == "postgresql://ann:***@db/lp"
    for output in (shown.output, as_json.output):
        assert "s3cret" not in output and "also-secret" not in output
    assert "# PGPASSWORD = set" in shown.output or "PGPASSWORD" in shown.output


def test_a_password_in_the_settings_file_is_refused(write_settings: Callable[..., Path]) -> None:
    path = write_settings('database = "postgresql://ann:s3cret@db/lp"\n')
    with pytest.raises(ConfigError, match="PGPASSWORD") as caught:
        load_settings(path, environ={})
    assert "s3cret" not in str(caught.value)


def test_a_url_in_the_settings_file_is_not_made_relative_to_it(write_settings: Callable[..., Path]) -> None:
    path = write_settings('database = "postgresql://db/lp"\n')
    assert load_settings(path, environ={}).database == "postgresql://db/lp"
    relative = write_settings('database = "data/lp.db"\n', name="other.toml")
    assert load_settings(relative, environ={}).database == str(relative.parent / "data/lp.db")


@pytest.mark.parametrize(("message", "state", "said"), [
    ('connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
     "\tIs the server running on that host and accepting TCP/IP connections?", None, "connection refused"),
    ('connection failed: FATAL:  password authentication failed for user "ann"', "28P01",
     "authentication failed for user 'ann' (set PGUSER and PGPASSWORD)"),
    ('connection failed: FATAL:  database "lp" does not exist', "3D000", "database 'lp' does not exist"),
    ("connection failed: timeout expired", None, "connection timed out"),
])
def test_connection_failures_read_as_one_line(message: str, state: str | None, said: str) -> None:
    class Failure(Exception):
        sqlstate = state

    text = connect_failure(Failure(message))
    assert said in text
    assert "\n" not in text

