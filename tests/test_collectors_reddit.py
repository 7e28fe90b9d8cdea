"""Reddit through praw against a loopback server speaking Reddit's OAuth and Listing JSON.

Fixtures are PRAW's recorded /r/all/search and /r/all/comments listings.
"""

from __future__ import annotations

import copy
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.base import coverage
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

BRAND = """
[[brands]]
name = "Acme"
queries = ["praw OR water"]
exclude = ["hiring"]
"""
TOKEN = Response(200, {"access_token": "token-1", "token_type": "bearer", "expires_in": 3600, "scope": "*"})


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_REDDIT_CLIENT_ID", "client-id")
    monkeypatch.setenv("LISTENPOST_REDDIT_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("LISTENPOST_REDDIT_USER_AGENT", "listenpost tests")


def listing(name: str, start: float | None = None, step: float = 60) -> dict[str, Any]:
    """A recorded listing with its items made recent, newest first."""
    body = copy.deepcopy(fixture(name))
    start = start or time.time() - 30
    for i, child in enumerate(body["data"]["children"]):
        child["data"]["created_utc"] = start - step * i
    body["data"]["after"] = None  # the recorded page pointed further; these tests have one page
    return body


def settings_for(tmp_path: Path, fake: FakeServer, options: str = "") -> Any:
    return source_settings(tmp_path, "reddit", fake.url, options, brand=BRAND)


def test_posts_and_comments_of_configured_subreddits(tmp_path: Path, fake: FakeServer,
                                                     store: Store) -> None:
    fake.route("POST", "/api/v1/access_token", TOKEN)
    fake.route("GET", "/r/redditdev+python/search/", Response(200, listing("reddit-search-listing.json")))
    fake.route("GET", "/r/redditdev+python/comments/", Response(200, listing("reddit-comments-listing.json")))
    settings = settings_for(tmp_path, fake, 'subreddits = ["redditdev", "python"]')
    report = collect(store, settings, "reddit")
    assert report.errors == []
    rows = stored(store, "reddit")
    # the coin comment matches neither term; the other comment mentions water
    assert set(rows) == {"t3_3gpbiu", "t3_3x4kt2", "t1_dbhn11c"}
    comment = rows["t1_dbhn11c"]
    assert comment["kind"] == "comment" and comment["parent_id"] == "t1_dbhl9sx"
    assert comment["title"] == "My current issue" and comment["author"] == "Dorkchopqueen"
    post = rows["t3_3x4kt2"]
    assert post["title"].startswith("[PRAW] Is there an easy way")
    assert post["url"].startswith("https://www.reddit.com/r/redditdev/comments/3x4kt2/")
    assert (post["reach"], post["engagement"]) == (2, '{"points": 2, "comments": 5}')
    assert comment["engagement"] == '{"points": 1}'  # a comment has no comment count of its own
    search = fake.calls("/r/redditdev+python/search/")[0]
    assert search.query["q"] == ["(praw OR water) AND NOT hiring"]
    assert search.query["sort"] == ["new"]
    assert search.headers["authorization"] == "bearer token-1"
    token = fake.calls("/api/v1/access_token")[0]
    assert token.form()["grant_type"] == ["client_credentials"]


def test_deleted_and_removed_items(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    posts = listing("reddit-search-listing.json")
    posts["data"]["children"][0]["data"].update(selftext="[removed]", author="[deleted]")
    posts["data"]["children"][1]["data"].update(selftext="[deleted]", title="")
    comments = listing("reddit-comments-listing.json")
    comments["data"]["children"][1]["data"].update(body="[deleted]", author="[deleted]")
    fake.route("POST", "/api/v1/access_token", TOKEN)
    fake.route("GET", "/r/acme/search/", Response(200, posts))
    fake.route("GET", "/r/acme/comments/", Response(200, comments))
    report = collect(store, settings_for(tmp_path, fake, 'subreddits = ["acme"]'), "reddit")
    rows = stored(store, "reddit")
    # a removed post keeps its title as its text; a deleted one with no title and the
    # deleted comment are counted as unreadable, not stored
    assert list(rows) == ["t3_3gpbiu"]
    assert rows["t3_3gpbiu"]["text"].startswith("[PRAW][OAuth2Util]") and rows["t3_3gpbiu"]["author"] == ""
    assert report.skipped == 2


def test_429_then_success_and_rejected_credentials(tmp_path: Path, fake: FakeServer,
                                                   store: Store) -> None:
    fake.route("POST", "/api/v1/access_token", TOKEN)
    fake.route("GET", "/r/all/search/", [Response(429, {"message": "Too Many Requests"}, {"Retry-After": "0"}),
                                         Response(200, listing("reddit-search-listing.json"))])
    sleeps: list[float] = []
    report = collect(store, settings_for(tmp_path, fake), "reddit", sleeps=sleeps)
    assert report.errors == [] and report.new == 2
    # The 429's Retry-After (0 s) was honoured; any other wait is a backoff retry of a dropped connection.
    assert 0.0 in sleeps and all(wait <= 0.01 for wait in sleeps)

    fake.route("POST", "/api/v1/access_token", Response(401, {"message": "Unauthorized", "error": 401}))
    report = collect(store, source_settings(tmp_path, "reddit", fake.url, brand=BRAND), "reddit")
    assert "credentials were rejected" in report.errors[0]
    assert "LISTENPOST_REDDIT_CLIENT_SECRET" in report.errors[0]
    assert "client-secret" not in report.errors[0]


def thousand_posts(start: float) -> list[dict[str, Any]]:
    template = fixture("reddit-search-listing.json")["data"]["children"][1]
    posts = []
    for i in range(1000):
        child = copy.deepcopy(template)
        child["data"].update(id=f"p{i}", name=f"t3_p{i}", created_utc=start - 600 * i,
                             title=f"PRAW question {i} 🐍")
        posts.append(child)
    return posts


def paged(items: list[dict[str, Any]]) -> Any:
    """A listing handler that pages with Reddit's ``after`` fullname, 100 at a time."""

    def answer(request: Request) -> Response:
        after = request.query.get("after", [None])[0]
        start = next((i + 1 for i, c in enumerate(items) if c["data"]["name"] == after), 0)
        page = items[start:start + 100]
        more = start + 100 < len(items)
        return Response(200, {"kind": "Listing", "data": {
            "children": page, "after": page[-1]["data"]["name"] if more else None, "before": None}})

    return answer


def test_backfill_states_the_1000_item_ceiling(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", "/api/v1/access_token", TOKEN)
    fake.route("GET", "/r/all/search/", paged(thousand_posts(time.time() - 60)))
    since = utcnow() - timedelta(days=30)
    report = collect(store, settings_for(tmp_path, fake), "reddit", since=since, scope="bf")
    assert report.errors == [] and report.new == 1000
    state = coverage(store.cursor("reddit", "Acme:praw OR water|bf"))
    assert state["done"] and state["count"] == 1000
    assert state["gap"].startswith("Reddit posts listings end after 1000 items: ")
    assert state["gap"].endswith("not covered")
    assert len(fake.calls("/r/all/search/")) == 10


def test_collect_stops_at_what_the_last_run_saw(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", "/api/v1/access_token", TOKEN)
    fake.route("GET", "/r/all/search/", paged(thousand_posts(time.time() - 60)))
    settings = settings_for(tmp_path, fake, 'lookback = "1h"')
    first = collect(store, settings, "reddit")
    assert first.new == 6  # one post every ten minutes, back one hour
    assert len(fake.calls("/r/all/search/")) == 1
    second = collect(store, settings, "reddit")
    assert second.new == 0 and len(fake.calls("/r/all/search/")) == 2
