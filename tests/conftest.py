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

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "listenpost.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
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
    store.db["runs"].update(run, {"started_at": ts(then)})
    store.save_mentions([Mention(source="history", external_id=f"{brand}-first", text=f"{brand} first post",
                                 brand=brand, created_at=then)])
