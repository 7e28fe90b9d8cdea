"""The `database` setting: a file path or a postgresql:// URL, never a URL taken for a file name,
any other scheme a one-line settings error, a password never shown."""

from __future__ import annotations

import json
import re
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



# A password with characters a URL gives other meanings to: never shown, whatever it holds.
_PASSWORDS = ["se#cretXYZ", "se/cretXYZ", "se?cretXYZ", "se@cretXYZ", "se%cretXYZ", "se:cretXYZ",
              "se cretXYZ", "sé✓cretXYZ", "se%23cretXYZ"]


@pytest.mark.parametrize("password", _PASSWORDS)
def test_a_password_of_any_characters_is_masked(password: str) -> None:
    url = f"postgresql://postgres:{password}@127.0.0.1:54330/postgres"
    assert mask_url(url) == "postgresql://postgres:***@127.0.0.1:54330/postgres"


@pytest.mark.parametrize(("password", "said"), [
    ("se#cretXYZ", "(%23 for #)"), ("se/cretXYZ", "(%2F for /)"), ("se?cretXYZ", "(%3F for ?)"),
    ("se@cretXYZ", "(%40 for @)"), ("se%cretXYZ", "(%25 for %)"), ("se cretXYZ", "(%20 for a space)"),
])
def test_a_password_needing_percent_encoding_is_a_one_line_error(password: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_database(f"postgresql://postgres:{password}@127.0.0.1:54330/postgres")
    message = str(raised.value)
    assert "the password in the URL must be percent-encoded" in message and said in message
    assert "or set PGPASSWORD" in message and "cretXYZ" not in message and "\n" not in message


@pytest.mark.parametrize("password", _PASSWORDS)
@pytest.mark.parametrize("how", ["status", "config show", "-vv status", "-vv config show", "--db stats",
                                 "-vv --db stats", "db copy --to"])
def test_no_command_prints_the_password_whatever_it_holds(
        runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str, how: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    url = f"postgresql://postgres:{password}@127.0.0.1:1/postgres"
    words = how.split()
    env: dict[str, str] = {}
    if words[-1] == "--to":
        (tmp_path / "source.db").touch()
        args = ["db", "copy", "--from", str(tmp_path / "source.db"), "--to", url]
    elif "--db" in words:
        args = [w for w in words if w != "--db"]
        args.insert(args.index("stats"), "--db")
        args.insert(args.index("--db") + 1, url)
    else:
        args, env = words, {"LISTENPOST_DATABASE": url}
    result = runner.invoke(cli, args, env=env)
    assert "cretXYZ" not in result.output, result.output
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1


@pytest.mark.parametrize(("url", "shown", "server"), [
    ("postgresql://u:pw@hostA:5432,hostB:5433/db?target_session_attrs=read-write",
     "postgresql://u:***@hostA:5432,hostB:5433/db?target_session_attrs=read-write", "hostA:5432,hostB:5433/db"),
    ("postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db", "[::1]:5432/db"),
    ("postgresql:///db?host=/tmp/sock&port=54330", "postgresql:///db?host=/tmp/sock&port=54330", "/tmp/sock:54330/db"),
    ("postgresql://db/lp?application_name=a@b", "postgresql://db/lp?application_name=a@b", "db:5432/lp"),
])
def test_libpq_url_forms_are_accepted_and_shown(url: str, shown: str, server: str) -> None:
    location = parse_database(url)
    assert location.kind == "postgresql" and location.url == url
    assert location.display() == shown
    assert location.server == server


def test_an_empty_url_says_the_server_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "db.internal")
    monkeypatch.setenv("PGDATABASE", "lp")
    location = parse_database("postgresql://")
    assert location.display() == "postgresql://(from PGHOST/PGDATABASE)"
    assert location.server == "db.internal:5432/lp"


@pytest.mark.parametrize(("url", "said"), [
    ("postgresql://db:99999/lp", "the port 99999 is out of range (1-65535)"),
    ("postgresql://a:5432,b:0/lp", "the port 0 is out of range (1-65535)"),
    ("postgresql://[::1/db", "an IPv6 address must end with ]"),
    ("postgresql://a:5432,b:x/lp", "the port is not a number"),
])
def test_a_bad_host_or_port_is_named(url: str, said: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(said)):
        parse_database(url)


@pytest.mark.parametrize(("url", "has"), [
    ("postgresql://", False), ("postgresql://ann@db/lp", False), ("postgresql://ann:@db/lp", False),
    ("postgresql://ann:s3cret@db/lp", True), ("postgresql://db/lp?password=s3cret", True),
])
def test_only_a_url_carrying_a_password_counts_as_one(url: str, has: bool) -> None:
    from monitor.core.database import has_password

    assert has_password(url) is has


def test_an_empty_listenpost_config_means_the_default_settings_file(runner: CliRunner, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n', encoding="utf-8")
    result = runner.invoke(cli, ["config", "check"], env={"LISTENPOST_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert "settings are valid" in result.output
