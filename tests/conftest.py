"""Shared fixtures: a fresh database per test, settings built in code, a CLI runner, fake servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.core.config import Settings, load_settings
from monitor.store import Store
from tests.httpfake import FakeServer
from tests.pgserver import PostgresServer, PostgresUnavailable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "listenpost.db"


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the test's `store` and `database` on SQLite and on "
                                       "PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: in a both-backends module, a test of what is SQLite's own")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked both_backends that open a database run once per backend."""
    if ("backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends")
            and not metafunc.definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """What the test's store opens: the SQLite file, or a fresh migrated PostgreSQL database's URL."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_store_url"))
    return str(db_path)


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    with Store(database) as s:
        yield s


@pytest.fixture
def write_settings(tmp_path: Path) -> Callable[[str], Path]:
    """Write a settings.toml with the given body into the test's directory."""

    def write(body: str, name: str = "settings.toml") -> Path:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_settings(write_settings: Callable[[str], Path]) -> Callable[[str], Settings]:
    """Settings loaded through the real loader from a TOML body (plus an empty environment)."""

    def make(body: str = "", **env: str) -> Settings:
        return load_settings(write_settings(body), environ={f"LISTENPOST_{k}": v for k, v in env.items()})

    return make


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def lexicon() -> Any:
    """The VADER baseline: fast, deterministic, no model load."""
    from classifiers import load_classifier

    return load_classifier("lexicon")


def collected_for_days(store: Store, brand: str, days: float) -> None:
    """History for spike baselines: a collection run and a mention of ``brand`` from ``days`` ago."""
    from datetime import timedelta

    from monitor.core.records import Mention, utcnow
    from monitor.store import ts

    then = utcnow() - timedelta(days=days)
    run = store.start_run("history", "collect")
    store.finish_run(run, fetched=1, new=1)
    store._execute("UPDATE runs SET started_at = ? WHERE id = ?", [ts(then), run])
    store.save_mentions([Mention(source="history", external_id=f"{brand}-first", text=f"{brand} first post",
                                 brand=brand, created_at=then)])


# -- PostgreSQL: one real server per test session, a fresh database per test ------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session. Missing server binaries fail the tests that need it,
    with the reason; only LISTENPOST_SKIP_POSTGRES=1, set on purpose, skips them instead."""
    if os.environ.get("LISTENPOST_SKIP_POSTGRES") == "1":
        pytest.skip("LISTENPOST_SKIP_POSTGRES=1: the PostgreSQL tests were switched off")
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"no PostgreSQL server for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh empty database's URL (no password in it: PGUSER / PGPASSWORD are set, as in use)."""
    for name, value in pg_server.environ().items():
        monkeypatch.setenv(name, value)
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A database with every migration applied, copied for each test that opens a store."""
    name = pg_server.create_database()
    with Store(pg_server.url(name, with_password=True)):
        pass
    return name


@pytest.fixture
def pg_store_url(pg_server: PostgresServer, pg_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database at the current schema (a copy of the migrated template)."""
    for name, value in pg_server.environ().items():
        monkeypatch.setenv(name, value)
    name = pg_server.create_database(template=pg_template)
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)
