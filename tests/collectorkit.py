"""Helpers for collector tests: settings pointing a source at the fake server, runs, fixtures."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from collectors import collector_class
from collectors.base import Collector, Window
from monitor.app.pipeline import RunReport, run_collector
from monitor.core.config import Settings, load_settings
from monitor.store import Store

FIXTURES = Path(__file__).parent / "fixtures"

BRAND = """
[[brands]]
name = "Acme"
queries = ['acme OR "acme cloud"']
exclude = ["hiring"]
ignore_authors = ["acme_support"]
apps = {{ appstore = ["284882215"], googleplay = ["com.acme.app"] }}
[brands.accounts]
youtube = ["UCacmeCloud0fficial000001"]
trustpilot = ["4f2a9c1e0000640005123abc"]
facebook = ["104857600000001"]
instagram = ["17841400123456789"]
"""


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def source_settings(tmp_path: Path, source: str, base_url: str, options: str = "",
                    brand: str = BRAND, extra: str = "") -> Settings:
    """Settings with one enabled source at ``base_url``; no waiting between requests or retries."""
    body = brand.format() + f"""
[sources.{source}]
enabled = true
base_url = "{base_url}"
timeout = 5
max_retries = 2
options = {{ {", ".join(o for o in ("min_interval = 0", "backoff = 0.01", options) if o)} }}
""" + extra
    path = tmp_path / f"settings-{source}.toml"
    path.write_text(body, encoding="utf-8")
    return load_settings(path, environ={})


def make(settings: Settings, source: str, sleeps: list[float] | None = None) -> Collector:
    collector = collector_class(source)(settings)
    if sleeps is not None:
        collector.policy.sleep = sleeps.append  # type: ignore[attr-defined]
    return collector


def collect(store: Store, settings: Settings, source: str, *, since: datetime | None = None,
            until: datetime | None = None, scope: str = "", sleeps: list[float] | None = None,
            collector: Collector | None = None) -> RunReport:
    """One collect (no window) or backfill (with ``since``) run of the real pipeline."""
    from dataclasses import replace

    collector = collector or make(settings, source, sleeps)
    queries: list[Any] | None = None
    if scope:
        queries = [replace(q, scope=scope) for q in collector.queries()]
    return run_collector(store, settings, collector, kind="backfill" if since else "collect",
                         window=Window(since, until), queries=queries)


def stored(store: Store, source: str) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in store._query(
        "SELECT * FROM mentions WHERE source = ? ORDER BY created_at", [source])}

