"""Hacker News through the Algolia search API shape, served on 127.0.0.1 (fixture: search_by_date)."""

from __future__ import annotations

import copy
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from collectors.base import coverage
from monitor.core.config import load_settings
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

PATH = "/api/v1/search_by_date"


def recent_hits(shift_to: float | None = None) -> dict[str, Any]:
    """The recorded answer with its timestamps moved so the newest hit is a minute old."""
    body = copy.deepcopy(fixture("hackernews-search.json"))
    newest = max(h["created_at_i"] for h in body["hits"])
    delta = int((shift_to or time.time() - 60) - newest)
    for hit in body["hits"]:
        hit["created_at_i"] += delta
    return body


def hit(object_id: int, stamp: int, text: str = "acme is slow today") -> dict[str, Any]:
    return {"_tags": ["comment"], "author": f"user{object_id}", "comment_text": text,
            "created_at_i": stamp, "objectID": str(object_id), "parent_id": 1, "story_id": 1}


def test_collect_keeps_comments_with_parents_and_drops_deleted_excluded_and_own(
        tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", PATH, Response(200, recent_hits()))
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    report = collect(store, settings, "hackernews")
    rows = stored(store, "hackernews")
    # deleted comment skipped; hiring post excluded by the brand; acme_support is the brand's own
    assert set(rows) == {"42005678", "42001234"}
    assert report.errors == [] and report.new == 2
    comment = rows["42005678"]
    assert comment["kind"] == "comment" and comment["parent_id"] == "42001234"
    assert comment["text"].startswith("Acme Cloud lost our data twice this month 😡 & support")
    assert "<p>" not in comment["text"]
    assert rows["42001234"]["title"] == "Acme Cloud outage postmortem"
    assert rows["42001234"]["brand"] == "Acme"
    query = fake.requests[0].query
    assert query["tags"] == ["(story,comment)"]
    assert query["numericFilters"][0].startswith("created_at_i>=")


def test_second_run_starts_from_the_newest_mention_less_the_overlap(
        tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent_hits()
    fake.route("GET", PATH, Response(200, body))
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1", 'overlap = "10m"')
    collect(store, settings, "hackernews")
    first = collect(store, settings, "hackernews")
    assert first.new == 0  # the same answer again adds nothing
    newest = max(h["created_at_i"] for h in body["hits"])
    assert fake.requests[-1].query["numericFilters"] == [f"created_at_i>={newest - 600}"]
    state = json.loads(store.cursor("hackernews", 'Acme:acme OR "acme cloud"') or "{}")
    assert state["newest"].startswith(time.strftime("%Y-%m-%d", time.gmtime(newest)))


def test_pages_walk_the_time_bound_down(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    now = int(time.time())
    hits = [hit(1000 + i, now - 10 * i) for i in range(150)]

    def answer(request: Request) -> Response:
        bounds = request.query["numericFilters"][0].split(",")
        upper = next((int(b.split("<=")[1]) for b in bounds if "<=" in b), None)
        page = [h for h in hits if upper is None or h["created_at_i"] <= upper][:100]
        return Response(200, {"hits": page, "hitsPerPage": 100, "page": 0})

    fake.route("GET", PATH, answer)
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    report = collect(store, settings, "hackernews")
    assert report.new == 150
    assert len(fake.requests) == 2
    assert f"created_at_i<={now - 990}" in fake.requests[1].query["numericFilters"][0]


def test_429_with_retry_after_then_success(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", PATH, [Response(429, {"message": "slow down"}, {"Retry-After": "7"}),
                             Response(503, "<html><body>busy</body></html>"),
                             Response(200, recent_hits())])
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    sleeps: list[float] = []
    report = collect(store, settings, "hackernews", sleeps=sleeps)
    assert report.errors == [] and report.new == 2
    assert sleeps == [7.0, 0.02]  # the server's word, then doubling backoff from 0.01


def test_failures_are_clear_and_keep_the_cursor(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    cases = [
        (Response(500, "oops"), "HTTP 500"),
        (Response(200, b'{"hits": [{"objectID": "1", "created_at_i": 17'), "not valid JSON"),
        (Response(200, "<!DOCTYPE html><html>maintenance</html>"), "HTML page"),
        (Response(200, {"message": "no hits here"}), "no 'hits' list"),
        (Response(429, {}, {"Retry-After": "3600"}), "asks to wait 3600s"),
    ]
    for answer, message in cases:
        fake.route("GET", PATH, answer)
        report = collect(store, settings, "hackernews", sleeps=[])
        assert len(report.errors) == 1 and message in report.errors[0], report.errors
        assert store.cursor("hackernews", 'Acme:acme OR "acme cloud"') is None
    assert store.last_runs()[0].last_error


def test_empty_answer_is_not_an_error(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", PATH, Response(200, {"hits": [], "nbHits": 0}))
    report = collect(store, source_settings(tmp_path, "hackernews", fake.url + "/api/v1"), "hackernews")
    assert report.errors == [] and report.fetched == 0


def test_backfill_resumes_after_a_failure_and_reports_coverage(
        tmp_path: Path, fake: FakeServer, store: Store) -> None:
    now = int(time.time())
    hits = [hit(2000 + i, now - 3600 * i) for i in range(250)]  # one an hour, newest first
    fail = {"after": 2}

    def answer(request: Request) -> Response:
        if len(fake.requests) > fail["after"]:
            return Response(502, "bad gateway")
        bounds = request.query["numericFilters"][0].split(",")
        lower = int(bounds[0].split(">=")[1])
        upper = next((int(b.split("<=")[1]) for b in bounds if "<=" in b), None)
        page = [h for h in hits if h["created_at_i"] >= lower
                and (upper is None or h["created_at_i"] <= upper)][:100]
        return Response(200, {"hits": page})

    fake.route("GET", PATH, answer)
    settings = source_settings(tmp_path, "hackernews", fake.url + "/api/v1")
    since, until = utcnow() - timedelta(days=9), utcnow()
    first = collect(store, settings, "hackernews", since=since, until=until, scope="bf", sleeps=[])
    assert first.errors and "HTTP 502" in first.errors[0]
    key = 'Acme:acme OR "acme cloud"|bf'
    state = coverage(store.cursor("hackernews", key))
    assert not state.get("done") and state["count"] == 199  # two pages, one hit on both edges
    fail["after"] = 10_000
    before = len(fake.requests)
    second = collect(store, settings, "hackernews", since=since, until=until, scope="bf")
    assert second.errors == []
    resumed = fake.requests[before].query["numericFilters"][0]
    assert f"created_at_i<={hits[198]['created_at_i']}" in resumed  # the oldest hit stored
    state = coverage(store.cursor("hackernews", key))
    assert state["done"] and "gap" not in state
    assert 216 <= len(stored(store, "hackernews")) <= 217  # one an hour for nine days
    assert state["count"] == len(stored(store, "hackernews"))
    # A finished window asks for nothing more.
    before = len(fake.requests)
    third = collect(store, settings, "hackernews", since=since, until=until, scope="bf")
    assert third.fetched == 0 and len(fake.requests) == before


def test_hostile_and_huge_text_is_stored_cleaned(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    now = int(time.time()) - 60
    huge = "acme " + "ü" * 2_000_000
    hits = [hit(1, now, "acme\x00 null byte"), hit(2, now - 1, "acme lone \ud83d surrogate"),
            hit(3, now - 2, huge), hit(4, now - 3, "<script>alert('acme')</script> &lt;b&gt;acme")]
    body = json.dumps({"hits": hits}).encode()  # \ud83d stays escaped, as a server would send it
    fake.route("GET", PATH, Response(200, body))
    report = collect(store, source_settings(tmp_path, "hackernews", fake.url + "/api/v1"), "hackernews")
    assert report.errors == [] and report.new == 4
    rows = stored(store, "hackernews")
    assert rows["1"]["text"] == "acme null byte"
    assert rows["2"]["text"].startswith("acme lone \ufffd") and "\ud83d" not in rows["2"]["text"]
    assert len(rows["3"]["text"]) == 1_000_000  # the store keeps the first million characters
    assert rows["4"]["text"] == "<b>acme"  # a script's code is no text a reader saw


def test_a_server_too_slow_to_answer(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", PATH, Response(200, {"hits": []}, delay=1.0))
    path = tmp_path / "slow.toml"
    path.write_text(f"""
[[brands]]
name = "Acme"
queries = ["acme"]
[sources.hackernews]
base_url = "{fake.url}/api/v1"
timeout = "0.2s"
max_retries = 1
options = {{ min_interval = 0, backoff = 0.01 }}
""", encoding="utf-8")
    report = collect(store, load_settings(path, environ={}), "hackernews", sleeps=[])
    assert report.errors and "no answer from 127.0.0.1" in report.errors[0]
    assert "after 2 tries (ReadTimeout)" in report.errors[0]
