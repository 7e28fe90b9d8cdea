"""Commands against a PostgreSQL database: import, search, status, alerts, digest, the demo, and
the password never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.core.records import Mention, utcnow
from monitor.store import Store
from tests.pgserver import PASSWORD

SETTINGS = """
timezone = "UTC"
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


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENPOST_CONFIG", raising=False)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    rows = [f'p{n},"Acme lost my parcel and the refund never came. Terrible, awful service, I am furious.",'
            f"2026-11-2{n % 9} 09:30" for n in range(5)]
    rows.append("p9,Acme support sorted my delivery in minutes - lovely,2026-11-25 10:00")
    (tmp_path / "export.csv").write_text("PostId,FullText,Posted\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_import_search_status_and_alerts_on_postgresql(runner: CliRunner, project: Path, pg_url: str) -> None:
    code, out = invoke(runner, "--db", pg_url, "import", "export.csv", "--map", "id=PostId",
                       "--map", "created_at=Posted", "--map", "text=FullText")
    assert code == 0, out
    code, out = invoke(runner, "--db", pg_url, "mentions", "search", "refun")
    assert code == 0, out
    assert out.count("refund never came") == 5 and "lovely" not in out
    code, out = invoke(runner, "--db", pg_url, "status")
    assert code == 0, out
    assert "6 mentions" in out.replace(",", "")
    code, out = invoke(runner, "--db", pg_url, "alerts", "list")
    assert code == 0 and "Acme" in out, out
    code, out = invoke(runner, "--db", pg_url, "stats")
    assert code == 0 and "negative" in out, out
    assert [p.name for p in project.iterdir() if p.name.startswith("postgres")] == []


def test_the_environment_names_the_database_and_the_password_is_never_shown(
        runner: CliRunner, project: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD")
    with_password = pg_url.replace("postgresql://", f"postgresql://postgres:{PASSWORD}@")
    for args in (["import", "export.csv", "--map", "id=PostId", "--map", "created_at=Posted",
                  "--map", "text=FullText"], ["status"], ["mentions", "list"], ["digest", "--since", "30d"],
                 ["report", "--since", "30d"], ["alerts", "dispatch"]):
        code, out = invoke(runner, *args, env={"LISTENPOST_DATABASE": with_password})
        assert PASSWORD not in out
        assert code == 0, (args, out)


def test_browse_is_for_sqlite_files(runner: CliRunner, project: Path, pg_url: str) -> None:
    code, out = invoke(runner, "--db", pg_url, "browse")
    assert code != 0
    assert [line for line in out.splitlines() if line.startswith("Error:")] == [
        f"Error: {pg_url}: browse serves an SQLite file with Datasette; for PostgreSQL use psql or any "
        "PostgreSQL client (the same tables and views are there)"]


def test_the_demo_runs_on_postgresql_but_not_into_the_environments_database_of_real_brands(
        runner: CliRunner, project: Path, pg_url: str) -> None:
    code, out = invoke(runner, "--db", pg_url, "demo", "--model", "lexicon")
    assert code == 0, out
    assert "browse --open" not in out
    with Store(pg_url) as store:
        demo_mentions = store.count_mentions()
    assert demo_mentions > 150
    code, out = invoke(runner, "demo", "--model", "lexicon", env={"LISTENPOST_DATABASE": pg_url})
    assert code == 0 and "0 new)" in out, out
    with Store(pg_url) as store:
        store.save_mentions([Mention(source="x", external_id="1", text="acme!", brand="Acme", created_at=utcnow())])
    code, out = invoke(runner, "demo", "--model", "lexicon", env={"LISTENPOST_DATABASE": pg_url})
    assert code != 0
    assert [line for line in out.splitlines() if line.startswith("Error:")] == [
        f"Error: {pg_url} (from LISTENPOST_DATABASE) holds mentions of Acme: the demo writes fictional brands, "
        "so it runs there only on an empty database or its own; pass --db listenpost-demo.db (or --db that "
        "database, to write into it anyway)"]
    with Store(pg_url) as store:
        assert store.count_mentions() == demo_mentions + 1
