"""X recent search through tweepy's Client and Paginator, its fixed host rewritten to a loopback server.

Fixture: Tweepy's recorded /2/tweets/search/recent answer, with the fields listenpost asks for.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.base import coverage
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Response

PATH = "/2/tweets/search/recent"
BRAND = """
[[brands]]
name = "Tweepy"
queries = ["tweepy"]
ignore_authors = ["XDevelopers"]
"""
KEY = "Tweepy:tweepy"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_X_BEARER_TOKEN", "bearer-secret")


def recent(minutes_ago: int = 1) -> dict[str, Any]:
    """The recorded page with its tweets moved to the last few minutes, two minutes apart."""
    body = copy.deepcopy(fixture("x-search-recent.json"))
    start = utcnow() - timedelta(minutes=minutes_ago)
    for i, tweet in enumerate(body["data"]):
        tweet["created_at"] = (start - timedelta(minutes=2 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return body


def settings_for(tmp_path: Path, fake: FakeServer, options: str = "") -> Any:
    return source_settings(tmp_path, "x", fake.url, options, brand=BRAND)


def test_search_pages_with_next_token_and_keeps_replies(tmp_path: Path, fake: FakeServer,
                                                       store: Store) -> None:
    first, second = recent(), recent(30)
    second["meta"] = {"result_count": 10, "newest_id": second["data"][0]["id"],
                      "oldest_id": second["data"][-1]["id"]}
    for tweet in second["data"]:
        tweet["id"] = tweet["id"][:-3] + "999"
    fake.route("GET", PATH, [Response(200, first, {"x-rate-limit-remaining": "448"}), Response(200, second)])
    report = collect(store, settings_for(tmp_path, fake), "x")
    assert report.errors == []
    rows = stored(store, "x")
    assert len(rows) == 18  # 2 pages of 10, less the reply by the brand's own account on each
    tweet = rows["1578516068309794817"]
    assert tweet["author"] == "TweepyDev" and tweet["kind"] == "post"
    assert tweet["url"] == "https://x.com/TweepyDev/status/1578516068309794817"
    calls = fake.calls(PATH)
    assert len(calls) == 2
    assert calls[0].query["query"] == ["tweepy -is:retweet"]
    assert calls[1].query["next_token"] == ["b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul"]
    assert "created_at" in calls[0].query["tweet.fields"][0]
    assert calls[0].headers["authorization"] == "Bearer bearer-secret"


def test_reply_keeps_its_parent(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent()
    body["data"][1]["author_id"] = body["data"][0]["author_id"]  # a reply by a customer
    del body["meta"]["next_token"]
    fake.route("GET", PATH, Response(200, body))
    collect(store, settings_for(tmp_path, fake), "x")
    reply = stored(store, "x")["1578515564971970560"]
    assert reply["kind"] == "comment" and reply["parent_id"] == "1578516068309794817"


def test_since_id_cursor_across_runs(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent()
    del body["meta"]["next_token"]
    fake.route("GET", PATH, Response(200, body))
    settings = settings_for(tmp_path, fake, "include_retweets = true")
    collect(store, settings, "x")
    assert "since_id" not in fake.requests[0].query and "start_time" in fake.requests[0].query
    assert fake.requests[0].query["query"] == ["tweepy"]
    fake.route("GET", PATH, Response(200, {"meta": {"result_count": 0}}))
    report = collect(store, settings, "x")
    assert report.errors == [] and report.fetched == 0
    assert fake.requests[1].query["since_id"] == ["1578516068309794817"]


def test_backfill_states_the_seven_day_ceiling(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent()
    del body["meta"]["next_token"]
    fake.route("GET", PATH, Response(200, body))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    report = collect(store, settings_for(tmp_path, fake), "x", since=since, scope="bf")
    assert report.errors == [] and report.new == 9
    state = coverage(store.cursor("x", f"{KEY}|bf"))
    assert state["gap"].startswith("X search covers only the last 7 days: 2026-01-01 00:00 UTC..")
    assert state["gap"].endswith(" not covered")
    assert report.notes == [f"{KEY}|bf: {state['gap']}"]
    start = datetime.fromisoformat(fake.requests[0].query["start_time"][0].replace("Z", "+00:00"))
    assert utcnow() - start < timedelta(days=7)


def test_errors(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    settings = settings_for(tmp_path, fake)
    cases = [
        (Response(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                        "detail": "Unauthorized"}), "LISTENPOST_X_BEARER_TOKEN"),
        (Response(200, b'{"data": [{"id": "1", "text": "tweepy'), "not valid JSON"),
        (Response(503, {"title": "Service Unavailable"}), "503"),
        (Response(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "9999999999"}),
         "rate limited"),
    ]
    for answer, message in cases:
        fake.route("GET", PATH, answer)
        report = collect(store, settings, "x", sleeps=[])
        assert len(report.errors) == 1 and message in report.errors[0], report.errors
        assert "bearer-secret" not in report.errors[0]


def test_429_waits_for_the_rate_limit_reset(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent()
    del body["meta"]["next_token"]
    reset = int(utcnow().timestamp()) + 5

    fake.route("GET", PATH, [Response(429, {"title": "Too Many Requests"},
                                      {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}),
                             Response(200, body)])
    sleeps: list[float] = []
    report = collect(store, settings_for(tmp_path, fake), "x", sleeps=sleeps)
    assert report.errors == [] and report.new == 9
    assert len(sleeps) == 1 and 3 <= sleeps[0] <= 5


def test_backfill_wholly_older_than_seven_days_asks_nothing(tmp_path: Path, fake: FakeServer,
                                                            store: Store) -> None:
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    report = collect(store, settings_for(tmp_path, fake), "x", since=since, until=until, scope="bf")
    assert report.errors == [] and fake.requests == []
    state = coverage(store.cursor("x", f"{KEY}|bf"))
    assert state["done"]
    assert state["gap"] == ("X search covers only the last 7 days: "
                            "2026-01-01 00:00 UTC..2026-02-01 00:00 UTC not covered")


def test_a_cursor_older_than_seven_days_starts_from_the_window(tmp_path: Path, fake: FakeServer,
                                                               store: Store) -> None:
    old = json.dumps({"newest": (utcnow() - timedelta(days=9)).isoformat(), "since_id": "1"})
    store.save_cursor("x", KEY, old)
    fake.route("GET", PATH, Response(200, {"meta": {"result_count": 0}}))
    report = collect(store, settings_for(tmp_path, fake), "x")
    assert report.errors == []
    assert "since_id" not in fake.requests[0].query and "start_time" in fake.requests[0].query


def test_text_served_html_escaped_is_stored_as_written(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = recent()
    body["data"] = body["data"][:1]
    body["data"][0]["text"] = "tweepy &amp; AT&amp;T: outage again &lt;sigh&gt; &amp;amp;"
    body["meta"] = {"result_count": 1, "newest_id": body["data"][0]["id"], "oldest_id": body["data"][0]["id"]}
    fake.route("GET", PATH, Response(200, body))
    brand = BRAND.replace('queries = ["tweepy"]', "queries = ['tweepy \"AT&T\"']")
    collect(store, source_settings(tmp_path, "x", fake.url, "", brand=brand), "x")
    (row,) = stored(store, "x").values()
    assert row["text"] == "tweepy & AT&T: outage again <sigh> &amp;"
