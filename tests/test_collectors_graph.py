"""Facebook Page and Instagram business account comments from a loopback server speaking the Graph API."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.base import coverage
from monitor.core.errors import ConfigError
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, make, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

PAGE = "104857600000001"
IG = "17841400123456789"
POST = f"{PAGE}_122134567890123456"
BRAND = f"""
[[brands]]
name = "Acme"
queries = ["acme"]
ignore_authors = ["acmecloud"]
accounts = {{{{ facebook = ["{PAGE}"], instagram = ["{IG}"] }}}}
"""
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_FACEBOOK_PAGE_TOKEN", "EAAfb-page-secret")
    monkeypatch.setenv("LISTENPOST_INSTAGRAM_ACCESS_TOKEN", "EAAig-secret")


def recent(name: str, key: str, hours: float = 1, step: float = 1) -> dict[str, Any]:
    """A recorded Graph answer with its objects moved to the last hours, newest first."""
    body = copy.deepcopy(fixture(name))
    for i, item in enumerate(body["data"]):
        item[key] = (utcnow() - timedelta(hours=hours + step * i)).strftime(GRAPH_TIME)
    return body


def settings_for(tmp_path: Path, fake: FakeServer, source: str, options: str = "") -> Any:
    return source_settings(tmp_path, source, fake.url + "/v21.0", options, brand=BRAND)


def facebook_routes(fake: FakeServer) -> None:
    posts = recent("facebook-posts.json", "created_time", hours=24, step=24 * 5)
    fake.route("GET", f"/v21.0/{PAGE}/posts", Response(200, posts))
    fake.route("GET", f"/v21.0/{POST}/comments", Response(200, recent("facebook-comments.json", "created_time")))
    fake.route("GET", f"/v21.0/{PAGE}_122134567890123455/comments", Response(200, {"data": [], "paging": {}}))


def test_facebook_comments_on_the_pages_posts(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    facebook_routes(fake)
    report = collect(store, settings_for(tmp_path, fake, "facebook"), "facebook")
    assert report.errors == [] and report.new == 2 and report.skipped == 1  # a sticker has no text
    rows = stored(store, "facebook")
    assert set(rows) == {"122134567890123456_1029384756123401", "122134567890123456_1029384756123399"}
    login = rows["122134567890123456_1029384756123401"]
    assert (login["kind"], login["author"], login["brand"]) == ("comment", "Priya Raman", "Acme")
    assert login["title"] == "Acme Cloud 4.0 is here: faster sync, shared folders and a new dashboard."
    assert login["parent_id"] == POST and "comment_id=1029384756123401" in login["url"]
    assert "122134567890123456_1029384756123402" not in rows  # the Page's own reply
    posts_call = fake.calls(f"/v21.0/{PAGE}/posts")[0]
    assert posts_call.headers["authorization"] == "Bearer EAAfb-page-secret"
    assert "access_token" not in posts_call.query and "since" in posts_call.query
    comments_call = fake.calls(f"/v21.0/{POST}/comments")[0]
    assert comments_call.query["order"] == ["reverse_chronological"] and comments_call.query["filter"] == ["stream"]


def test_graph_paging_follows_the_after_cursor(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    facebook_routes(fake)
    first = recent("facebook-comments.json", "created_time")
    first["paging"]["next"] = "https://graph.facebook.com/v21.0/next?access_token=EAAfb-page-secret"
    second = recent("facebook-comments.json", "created_time", hours=5)
    for item in second["data"]:
        item["id"] += "9"
    second["paging"] = {"cursors": {"before": "X", "after": "Y"}}

    def answer(request: Request) -> Response:
        return Response(200, second if request.query.get("after") == ["NAZDZD"] else first)

    fake.route("GET", f"/v21.0/{POST}/comments", answer)
    report = collect(store, settings_for(tmp_path, fake, "facebook", 'lookback = "2d"'), "facebook")
    assert report.errors == [] and report.new == 4
    assert len(fake.calls(f"/v21.0/{POST}/comments")) == 2


def test_instagram_comments_and_tagged_posts(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    media = recent("instagram-media.json", "timestamp", hours=30, step=24 * 7)
    fake.route("GET", f"/v21.0/{IG}/media", Response(200, media))
    comments = recent("instagram-comments.json", "timestamp")
    fake.route("GET", "/v21.0/18023456789012345/comments", Response(200, comments))
    fake.route("GET", f"/v21.0/{IG}/tags", Response(200, recent("instagram-tags.json", "timestamp", hours=3)))
    report = collect(store, settings_for(tmp_path, fake, "instagram"), "instagram")
    assert report.errors == [] and report.new == 3 and report.skipped == 2
    rows = stored(store, "instagram")
    uploads = rows["17998765432109876"]
    assert (uploads["kind"], uploads["author"], uploads["parent_id"]) == ("comment", "lena.photos", "18023456789012345")
    assert uploads["title"] == "Meet the new Acme Cloud dashboard ✨ #acmecloud"
    tagged = rows["18034567890123456"]
    assert (tagged["kind"], tagged["author"]) == ("post", "nomad.nadia") and "@acmecloud" in tagged["text"]
    # The post without comments (comments_count 0) costs no call.
    assert fake.calls("/v21.0/18023456789012300/comments") == []


def test_instagram_leaves_out_the_accounts_own_replies(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    # As on Facebook, the brand answering under its own post is not a mention, even when its
    # username is not among ignore_authors.
    media = recent("instagram-media.json", "timestamp", hours=30, step=24 * 7)
    for post in media["data"]:
        post["username"] = "acme.official"
    fake.route("GET", f"/v21.0/{IG}/media", Response(200, media))
    comments = recent("instagram-comments.json", "timestamp")
    comments["data"].append({"id": "17998765432109899", "text": "@lena.photos so sorry, please DM us!",
                             "timestamp": comments["data"][0]["timestamp"], "username": "acme.official"})
    fake.route("GET", "/v21.0/18023456789012345/comments", Response(200, comments))
    report = collect(store, settings_for(tmp_path, fake, "instagram", "tags = false"), "instagram")
    assert report.errors == [] and report.new == 2 and report.skipped == 1  # the empty comment only
    assert "17998765432109899" not in stored(store, "instagram")
    assert "username" in fake.calls(f"/v21.0/{IG}/media")[0].query["fields"][0].split(",")


def test_instagram_tags_can_be_turned_off(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", f"/v21.0/{IG}/media", Response(200, {"data": []}))
    report = collect(store, settings_for(tmp_path, fake, "instagram", "tags = false"), "instagram")
    assert report.errors == [] and fake.calls(f"/v21.0/{IG}/tags") == []


@pytest.mark.parametrize(("answer", "message"), [
    (Response(400, {"error": {"message": "Error validating access token: Session has expired on Sunday",
                              "type": "OAuthException", "code": 190, "error_subcode": 463,
                              "fbtrace_id": "AbCdEf"}}), "renew LISTENPOST_FACEBOOK_PAGE_TOKEN"),
    (Response(403, {"error": {"message": "(#10) This endpoint requires the 'pages_read_engagement' permission",
                              "type": "OAuthException", "code": 10, "fbtrace_id": "AbC"}}),
     "the token lacks a permission (code 10)"),
    (Response(400, {"error": {"message": "(#32) Page request limit reached", "type": "OAuthException",
                              "code": 32, "fbtrace_id": "AbC"}}), "rate limited by the Graph API (code 32)"),
    (Response(400, {"error": {"message": "Unsupported get request.", "type": "GraphMethodException",
                              "code": 100, "error_subcode": 33}}), "Graph API error (HTTP 400, code 100)"),
    (Response(200, {"data": {"not": "a list"}}), "no 'data' list"),
])
def test_graph_errors_name_the_problem(tmp_path: Path, fake: FakeServer, store: Store, answer: Response,
                                       message: str) -> None:
    fake.route("GET", f"/v21.0/{PAGE}/posts", answer)
    report = collect(store, settings_for(tmp_path, fake, "facebook"), "facebook", sleeps=[])
    assert len(report.errors) == 1 and message in report.errors[0], report.errors
    assert "EAAfb-page-secret" not in report.errors[0]


def test_backfill_reports_the_posts_ceiling(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    posts = {"data": [{"id": f"{PAGE}_{n}", "message": f"post {n}", "permalink_url": "",
                       "created_time": (utcnow() - timedelta(days=n)).strftime(GRAPH_TIME)} for n in range(1, 5)]}
    fake.route("GET", f"/v21.0/{PAGE}/posts", Response(200, posts))
    for n in range(1, 5):
        comment = {"id": f"{n}_1", "message": f"comment on post {n}", "from": {"name": "A", "id": "1"},
                   "created_time": (utcnow() - timedelta(days=n, hours=-1)).strftime(GRAPH_TIME)}
        fake.route("GET", f"/v21.0/{PAGE}_{n}/comments", Response(200, {"data": [comment]}))
    since = utcnow() - timedelta(days=10)
    report = collect(store, settings_for(tmp_path, fake, "facebook", "posts = 2"), "facebook", since=since, scope="bf")
    assert report.errors == [] and report.new == 2
    state = coverage(store.cursor("facebook", f"Acme:{PAGE}|bf"))
    assert state["gap"].startswith("comments are read on the 2 newest posts only (options.posts): ")
    assert fake.calls(f"/v21.0/{PAGE}_3/comments") == []


@pytest.mark.parametrize(("source", "message"), [("facebook", "facebook: no Page ids"),
                                                 ("instagram", "instagram: no Instagram business account ids")])
def test_account_ids_are_required(tmp_path: Path, source: str, message: str) -> None:
    brand = '\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'
    with pytest.raises(ConfigError, match=message):
        make(source_settings(tmp_path, source, "http://127.0.0.1:9", brand=brand), source)


def test_odd_retry_after_is_a_rate_limit_not_a_crash(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    """Retry-After "²" is a digit to str.isdigit, not to float."""
    fake.route("GET", f"/v21.0/{PAGE}/posts", Response(429, {}, headers={"Retry-After": "²"}))
    report = collect(store, settings_for(tmp_path, fake, "facebook"), "facebook")
    assert len(report.errors) == 1 and "rate limited (HTTP 429)" in report.errors[0]


@pytest.mark.parametrize(("base", "message"), [
    ("http://user:hunter2@127.0.0.1:9/v21.0", "credentials in the URL are not allowed"),
    ("http://127.0.0.1:9/v21.0?x=1", "no ?query or #fragment"),
    ("ftp://127.0.0.1/v21.0", "expected an http:// or https:// address"),
])
def test_a_base_url_requests_cannot_use_is_refused(tmp_path: Path, base: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"sources\.facebook\.base_url: ") as caught:
        source_settings(tmp_path, "facebook", base, brand=BRAND)
    assert message in str(caught.value) and "hunter2" not in str(caught.value)


def test_error_lines_name_the_host_without_a_password() -> None:
    from collectors.http import _host

    assert _host("http://user:hunter2@127.0.0.1:8080/v1?x") == "127.0.0.1:8080"
