"""`listenpost collect`, `backfill` and `sources` with real collectors against loopback servers."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from collectors.base import coverage
from monitor.cli import cli
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import FIXTURES, collect, fixture, make, source_settings
from tests.httpfake import FakeServer, Request, Response
from tests.test_collectors_appstore import page_path, reviews
from tests.test_collectors_hackernews import hit, recent_hits
from tests.test_collectors_x import recent

HN = "/api/v1/search_by_date"
SETTINGS = """
database = "lp.db"
[[brands]]
name = "Acme"
queries = ["acme OR tweepy"]
apps = {{ appstore = ["284882215"] }}
[classifier]
model = "lexicon"
[alerts.channels.file]
type = "jsonl"
options = {{ path = "alerts.jsonl" }}
[[alerts.routes]]
channels = ["file"]
[sources.hackernews]
enabled = true
base_url = "{url}/api/v1"
options = {{ min_interval = 0, backoff = 0.01 }}
[sources.x]
enabled = true
base_url = "{url}"
options = {{ min_interval = 0, backoff = 0.01 }}
[sources.appstore]
enabled = true
base_url = "{url}"
options = {{ min_interval = 0, backoff = 0.01 }}
[sources.reddit]
enabled = true
base_url = "{url}"
"""


@pytest.fixture
def project(tmp_path: Path, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("X_BEARER_TOKEN", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"):
        monkeypatch.delenv(f"LISTENPOST_{name}", raising=False)
    (tmp_path / "settings.toml").write_text(SETTINGS.format(url=fake.url), encoding="utf-8")
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_collect_runs_every_enabled_source_and_skips_the_unconfigured(
        project: Path, fake: FakeServer) -> None:
    fake.route("GET", HN, Response(200, recent_hits()))
    body = recent()
    del body["meta"]["next_token"]
    fake.route("GET", "/2/tweets/search/recent", Response(200, body))
    fake.route("GET", page_path("us", 1), Response(200, reviews()))
    result = run("collect", env={"LISTENPOST_X_BEARER_TOKEN": "t0ken"})
    # no exclusions or ignored authors for this brand: the deleted comment is all that goes
    assert "hackernews: fetched 4, new 4" in result.output
    assert "x: fetched 10, new 10" in result.output
    assert "appstore: fetched 3, new 3" in result.output
    assert "reddit: skipped: reddit source: environment variable LISTENPOST_REDDIT_CLIENT_ID is not set" \
        in result.output
    assert "t0ken" not in result.output
    assert result.exit_code == 0


def test_sources_lists_credentials_last_run_and_last_error(project: Path, fake: FakeServer) -> None:
    fake.route("GET", HN, Response(500, "down"))
    run("collect", "hackernews")
    result = run("sources", env={"LISTENPOST_X_BEARER_TOKEN": "t0ken"})
    lines = result.output.splitlines()
    assert any(line.startswith("reddit") and "missing LISTENPOST_REDDIT_CLIENT_ID" in line for line in lines)
    assert any(line.startswith("x ") and "credentials present" in line for line in lines)
    assert any(line.startswith("hackernews  enabled") for line in lines)
    assert "last error" in result.output and "HTTP 500" in result.output
    assert "t0ken" not in result.output


def test_backfill_reports_coverage_and_the_x_ceiling(project: Path, fake: FakeServer) -> None:
    fake.route("GET", HN, Response(200, recent_hits()))
    since = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%d")
    result = run("backfill", "hackernews", "--since", since, "--no-classify")
    assert result.exit_code == 0, result.output
    assert "hackernews: fetched 4, new 4" in result.output
    assert "Coverage:\n  Acme:acme OR tweepy: 4 mentions, " in result.output
    assert "not covered" not in result.output

    body = recent()
    del body["meta"]["next_token"]
    fake.route("GET", "/2/tweets/search/recent", Response(200, body))
    result = run("backfill", "x", "--since", since, "--no-classify",
                 env={"LISTENPOST_X_BEARER_TOKEN": "t0ken"})
    assert "Acme:acme OR tweepy: 10 mentions" in result.output
    assert f"    X search covers only the last 7 days: {since} 00:00 UTC.." in result.output
    assert " UTC .. " in result.output  # every time in the report says its zone

    again = run("backfill", "x", "--since", since, "--no-classify",
                env={"LISTENPOST_X_BEARER_TOKEN": "t0ken"})
    assert "x: fetched 0, new 0" in again.output  # the window is done; nothing is asked again
    assert run("backfill", "x", "--since", "2099-01-01").exit_code == 2
    assert "use `listenpost import FILE`" in run("backfill", "file", "--since", since).output
    assert "unknown source 'myspace'" in run("backfill", "myspace", "--since", since).output
    assert "--since 'last tuesday': expected a date" in run("backfill", "x", "--since", "last tuesday").output


def test_backfill_resumes_after_ctrl_c(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    now = int(time.time())
    hits = [hit(3000 + i, now - 60 * i) for i in range(300)]

    def answer(request: Request) -> Response:
        bounds = request.query["numericFilters"][0].split(",")
        upper = next((int(b.split("<=")[1]) for b in bounds if "<=" in b), None)
        return Response(200, {"hits": [h for h in hits if upper is None or h["created_at_i"] <= upper][:100]})

    fake.route("GET", HN, answer)
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    since = utcnow() - timedelta(days=1)
    collector = make(settings, "hackernews")
    from dataclasses import replace

    from collectors.base import Window
    from monitor.app.pipeline import run_collector

    queries: list[Any] = [replace(q, scope="bf") for q in collector.queries()]

    def ctrl_c(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_collector(store, settings, collector, kind="backfill", window=Window(since),
                      queries=queries, progress=ctrl_c)
    key = 'Acme:acme OR "acme cloud"|bf'
    assert coverage(store.cursor("hackernews", key))["count"] == 100
    assert "interrupted: KeyboardInterrupt" in store.last_runs()[0].last_error
    report = collect(store, settings, "hackernews", since=since, scope="bf")
    assert report.new == 200  # the first page is not fetched again
    state = coverage(store.cursor("hackernews", key))
    assert state["done"] and state["count"] == 300
    assert f"created_at_i<={hits[99]['created_at_i']}" in fake.requests[1].query["numericFilters"][0]


def _routes(fake: FakeServer, source: str) -> tuple[dict[str, str], str]:
    """Answers for one source and what its settings need; returns (environment, options)."""
    from tests.test_collectors_bluesky import posts
    from tests.test_collectors_googleplay import answer
    from tests.test_collectors_reddit import TOKEN, listing

    if source == "reddit":
        fake.route("POST", "/api/v1/access_token", TOKEN)
        body = listing("reddit-search-listing.json")
        for child in body["data"]["children"]:
            child["data"]["title"] += " acme"
        fake.route("GET", "/r/all/search/", Response(200, body))
        return {"LISTENPOST_REDDIT_CLIENT_ID": "i", "LISTENPOST_REDDIT_CLIENT_SECRET": "s",
                "LISTENPOST_REDDIT_USER_AGENT": "u"}, ""
    if source == "bluesky":
        fake.route("POST", "/xrpc/com.atproto.server.createSession",
                   Response(200, fixture("bluesky-create-session.json")))
        fake.route("GET", "/xrpc/app.bsky.feed.searchPosts", Response(200, posts()))
        return {"LISTENPOST_BLUESKY_HANDLE": "h", "LISTENPOST_BLUESKY_APP_PASSWORD": "p"}, ""
    if source == "googleplay":
        fake.route("POST", "/_/PlayStoreUi/data/batchexecute", Response(200, answer(token=False)))
        return {}, ""
    fake.route("GET", "/feed.atom", Response(200, (FIXTURES / "rss-news-atom.xml").read_bytes()))
    return {}, f', feeds = ["{fake.url}/feed.atom"], lookback = "3650d"'


@pytest.mark.parametrize(("source", "count"), [("reddit", 2), ("bluesky", 4), ("googleplay", 3),
                                               ("rss", 1)])
def test_every_source_through_collect_and_backfill(project: Path, fake: FakeServer, source: str,
                                                   count: int) -> None:
    env, options = _routes(fake, source)
    path = project / "settings.toml"
    text = path.read_text(encoding="utf-8").split("[sources.reddit]")[0]  # SETTINGS ends with it
    text = text.replace('appstore = ["284882215"]', 'googleplay = ["com.acme.app"]')
    path.write_text(text + f'[sources.{source}]\nenabled = true\nbase_url = "{fake.url}"\n'
                    f"options = {{ min_interval = 0, backoff = 0.01{options} }}\n", encoding="utf-8")
    result = run("collect", source, env=env)
    assert f"{source}: fetched {count}, new {count}" in result.output, result.output
    result = run("backfill", source, "--since", "2026-01-01", "--no-classify", env=env)
    assert result.exit_code == 0, result.output
    assert f"{source}: fetched {count}, new 0" in result.output
    assert f": {count} mentions, " in result.output.split("Coverage:")[1]


def test_backfill_takes_a_span_for_since_like_every_other_command(project: Path, fake: FakeServer) -> None:
    fake.route("GET", HN, Response(200, recent_hits()))
    result = run("backfill", "hackernews", "--since", "30d", "--no-classify")
    assert result.exit_code == 0, result.output
    assert "hackernews: fetched 4, new 4" in result.output
    assert "--since '-3d'" in run("backfill", "hackernews", "--since", "-3d").output


def test_a_failing_source_is_named_once_in_its_error(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = project / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    start = text.index("[sources.hackernews]")
    end = text.index("[sources.x]")
    settings.write_text(text[:start] + f'[sources.hackernews]\nenabled = true\nbase_url = "http://127.0.0.1:{port}"\n'
                        'options = { min_interval = 0, backoff = 0.01 }\n' + text[end:], encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="monitor.app.pipeline"):
        result = run("collect", "hackernews")
    assert "no answer from" in result.output and "hackernews: hackernews:" not in result.output
    logged = [r.getMessage() for r in caplog.records if r.name == "monitor.app.pipeline"]
    assert logged and all(line.startswith("hackernews: no answer from") for line in logged), logged
