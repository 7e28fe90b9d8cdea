"""Bluesky through atproto's Client against a loopback XRPC server (createSession, searchPosts)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

LOGIN = "/xrpc/com.atproto.server.createSession"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
BRAND = """
[[brands]]
name = "Acme"
queries = ["acme"]
ignore_authors = ["acme.bsky.social"]
"""


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_BLUESKY_HANDLE", "acme-monitor.bsky.social")
    monkeypatch.setenv("LISTENPOST_BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop")


def posts(cursor: str | None = None) -> dict[str, Any]:
    """The search answer with its posts moved to the last hour, newest first."""
    body = copy.deepcopy(fixture("bluesky-search-posts.json"))
    for i, post in enumerate(body["posts"]):
        stamp = (utcnow() - timedelta(minutes=5 + 10 * i)).isoformat().replace("+00:00", "Z")
        post["record"]["createdAt"] = post["indexedAt"] = stamp
    body["cursor"] = cursor
    if cursor is None:
        del body["cursor"]
    return body


def test_login_search_paging_replies_and_languages(tmp_path: Path, fake: FakeServer,
                                                   store: Store) -> None:
    fake.route("POST", LOGIN, Response(200, fixture("bluesky-create-session.json")))
    second = posts()
    for post in second["posts"]:
        post["uri"] += "b"
        post["record"]["createdAt"] = post["indexedAt"] = (
            utcnow() - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    fake.route("GET", SEARCH, [Response(200, posts("4")), Response(200, second)])
    report = collect(store, source_settings(tmp_path, "bluesky", fake.url, brand=BRAND), "bluesky")
    assert report.errors == []
    rows = stored(store, "bluesky")
    assert len(rows) == 6  # two pages of four, less the brand's own account's posts
    reply = rows["at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2x2vk2c2t"]
    assert reply["kind"] == "comment"
    assert (reply["reach"], reply["engagement"]) == (4, '{"likes": 4, "reposts": 1}')
    assert reply["parent_id"] == "at://did:plc:4b3zuykn3ivzqexkclbm2lxd/app.bsky.feed.post/3lbq1x2vk2c2t"
    assert reply["url"] == "https://bsky.app/profile/jonas.bsky.social/post/3lbq2x2vk2c2t"
    german = rows["at://did:plc:kkf4naxqmweop7dv4l2iqqf5/app.bsky.feed.post/3lbq4x2vk2c2t"]
    assert german["language"] == "de" and "größte" in german["text"] and "😍" in german["text"]
    login = fake.calls(LOGIN)[0].json()
    assert login == {"identifier": "acme-monitor.bsky.social", "password": "abcd-efgh-ijkl-mnop"}
    searches = fake.calls(SEARCH)
    assert searches[0].query["q"] == ["acme"] and searches[0].query["sort"] == ["latest"]
    assert searches[1].query["cursor"] == ["4"]
    assert searches[0].headers["authorization"].startswith("Bearer ")


def test_429_then_success(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", LOGIN, Response(200, fixture("bluesky-create-session.json")))
    fake.route("GET", SEARCH, [Response(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                        {"ratelimit-remaining": "0", "retry-after": "2"}),
                               Response(502, "Bad Gateway"),
                               Response(200, posts())])
    sleeps: list[float] = []
    report = collect(store, source_settings(tmp_path, "bluesky", fake.url, brand=BRAND), "bluesky",
                     sleeps=sleeps)
    assert report.errors == [] and report.new == 3
    assert sleeps == [2.0, 0.02]


def test_errors_are_clear(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    settings = source_settings(tmp_path, "bluesky", fake.url, brand=BRAND)
    fake.route("POST", LOGIN, Response(401, {"error": "AuthenticationRequired",
                                             "message": "Invalid identifier or password"}))
    report = collect(store, settings, "bluesky", sleeps=[])
    assert "credentials were rejected" in report.errors[0]
    assert "LISTENPOST_BLUESKY_APP_PASSWORD" in report.errors[0]
    assert "abcd-efgh" not in report.errors[0]

    fake.route("POST", LOGIN, Response(200, fixture("bluesky-create-session.json")))
    for answer in (Response(200, b'{"posts": [{"uri": "at://x'), Response(500, {"error": "InternalServerError"})):
        fake.route("GET", SEARCH, answer)
        report = collect(store, settings, "bluesky", sleeps=[])
        assert len(report.errors) == 1 and report.errors[0].startswith('Acme:acme: bluesky: ')


def test_empty_search(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", LOGIN, Response(200, fixture("bluesky-create-session.json")))

    def answer(request: Request) -> Response:
        return Response(200, {"posts": []})

    fake.route("GET", SEARCH, answer)
    report = collect(store, source_settings(tmp_path, "bluesky", fake.url, brand=BRAND), "bluesky")
    assert report.errors == [] and report.fetched == 0
