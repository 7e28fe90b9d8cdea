"""YouTube through google-api-python-client (its shipped discovery document) against a loopback server.

The client is built with ``client_options={"api_endpoint": ...}``, so its real requests (API key
in the query string, the Data API's paths and parameters) reach the fake, which answers with
recorded commentThreads, search and videos answers and the API's error bodies.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.base import coverage
from collectors.youtube import YouTubeCollector
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

THREADS = "/youtube/v3/commentThreads"
SEARCH = "/youtube/v3/search"
VIDEOS = "/youtube/v3/videos"
CHANNEL = "UCacmeCloud0fficial000001"
BRAND = f"""
[[brands]]
name = "Acme"
queries = ['acme OR "acme cloud"']
accounts = {{{{ youtube = ["{CHANNEL}"] }}}}
"""
KEY = "AIza-youtube-secret"


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_YOUTUBE_API_KEY", KEY)


def threads(minutes: float = 5, more: bool = False, video: str | None = None) -> dict[str, Any]:
    """Recorded comment threads moved to the last hour, newest first."""
    body = copy.deepcopy(fixture("youtube-commentthreads.json"))
    for i, item in enumerate(body["items"]):
        stamp = (utcnow() - timedelta(minutes=minutes + 10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        item["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = stamp
        if video:
            item["id"] += video
            item["snippet"]["videoId"] = video
    if not more:
        del body["nextPageToken"]
    return body


def settings_for(tmp_path: Path, fake: FakeServer, options: str = "", interval: str = "") -> Any:
    extra = f'interval = "{interval}"\n' if interval else ""
    settings = source_settings(tmp_path, "youtube", fake.url, options, brand=BRAND)
    if extra:
        path = Path(settings.path)
        path.write_text(path.read_text().replace("enabled = true\n", "enabled = true\n" + extra))
        from monitor.core.config import load_settings

        settings = load_settings(path, environ={})
    return settings


def channel_only(fake: FakeServer) -> None:
    fake.route("GET", THREADS, Response(200, threads()))
    fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))


def test_channel_comments_with_video_titles(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    channel_only(fake)
    report = collect(store, settings_for(tmp_path, fake, "search = false"), "youtube")
    assert report.errors == [] and report.new == 3 and report.skipped == 1  # one comment has no text
    rows = stored(store, "youtube")
    logout = rows["UgzK3vB0mFq2wN7x1Gd4AaABAg"]
    assert (logout["kind"], logout["author"], logout["brand"]) == ("comment", "marta.k", "Acme")
    assert logout["title"] == "What's new in Acme Cloud 4.0" and logout["parent_id"] == "q3Vb7LpXk2E"
    assert logout["url"] == "https://www.youtube.com/watch?v=q3Vb7LpXk2E&lc=UgzK3vB0mFq2wN7x1Gd4AaABAg"
    # The channel's own comments are all kept, matching the brand's query or not.
    assert rows["Ugw7nPq0xXcV2bA9kLh4AaABAg"]["title"] == "Acme Cloud en français"
    call = fake.calls(THREADS)[0]
    assert call.query["allThreadsRelatedToChannelId"] == [CHANNEL] and call.query["order"] == ["time"]
    assert call.query["key"] == [KEY] and call.query["textFormat"] == ["plainText"]
    assert fake.calls(VIDEOS)[0].query["id"] == ["Hn2dWq8sY0c,q3Vb7LpXk2E"]


def test_the_brands_own_channel_comments_are_not_mentions(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    # The brand answering under its own video is not a mention, whatever its display name.
    body = threads()
    reply = copy.deepcopy(body["items"][0])
    reply["id"] = "UgzOwnChannelReply0000AaABAg"
    comment = reply["snippet"]["topLevelComment"]["snippet"]
    comment.update(authorDisplayName="@AcmeCloudOfficial", authorChannelId={"value": CHANNEL},
                   textOriginal="Thanks for watching! Write to support@acme.example for help.")
    body["items"].insert(0, reply)
    fake.route("GET", THREADS, Response(200, body))
    fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))
    report = collect(store, settings_for(tmp_path, fake, "search = false"), "youtube")
    assert report.errors == [] and report.new == 3
    assert "UgzOwnChannelReply0000AaABAg" not in stored(store, "youtube")


def test_search_finds_videos_and_reads_their_comments(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", SEARCH, Response(200, fixture("youtube-search.json")))

    def answer(request: Request) -> Response:
        if "allThreadsRelatedToChannelId" in request.query:
            return Response(200, {"items": []})
        video = request.query["videoId"][0]
        if video == "Bt3nWs9YcRe":
            return Response(403, fixture("youtube-error-commentsdisabled.json"))
        return Response(200, threads(video=video))

    fake.route("GET", THREADS, answer)
    report = collect(store, settings_for(tmp_path, fake), "youtube")
    assert report.errors == [] and report.new == 3
    row = stored(store, "youtube")["UgzK3vB0mFq2wN7x1Gd4AaABAgVx8kQm2LpTz"]
    assert row["title"] == "Acme Cloud review: is it worth it?" and row["parent_id"] == "Vx8kQm2LpTz"
    search = fake.calls(SEARCH)[0].query
    assert search["q"] == ['acme | "acme cloud"'] and search["type"] == ["video"] and search["order"] == ["date"]
    assert "publishedAfter" in search and fake.calls(VIDEOS) == []  # search already gave the titles


def test_search_titles_lose_their_html_escapes(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    # search.list answers with HTML-escaped titles (unlike videos.list); people must see the real title.
    body = copy.deepcopy(fixture("youtube-search.json"))
    body["items"][0]["snippet"]["title"] = "Acme Cloud: It&#39;s fast &amp; &quot;cheap&quot;?"
    fake.route("GET", SEARCH, Response(200, body))

    def answer(request: Request) -> Response:
        if "allThreadsRelatedToChannelId" in request.query:
            return Response(200, {"items": []})
        return Response(200, threads(video=request.query["videoId"][0]))

    fake.route("GET", THREADS, answer)
    assert collect(store, settings_for(tmp_path, fake), "youtube").errors == []
    row = stored(store, "youtube")["UgzK3vB0mFq2wN7x1Gd4AaABAgVx8kQm2LpTz"]
    assert row["title"] == 'Acme Cloud: It\'s fast & "cheap"?'


def test_searches_are_kept_between_runs(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", SEARCH, Response(200, fixture("youtube-search.json")))
    fake.route("GET", THREADS, Response(200, {"items": []}))
    settings = settings_for(tmp_path, fake, 'search_every = "6h"')
    for _ in range(3):
        assert collect(store, settings, "youtube").errors == []
    assert len(fake.calls(SEARCH)) == 1  # 100 units once; the videos found are read again after
    videos = [c.query["videoId"][0] for c in fake.calls(THREADS) if "videoId" in c.query]
    assert videos == ["Vx8kQm2LpTz", "Bt3nWs9YcRe"] * 3


def test_a_query_stays_inside_its_share_of_the_quota(tmp_path: Path, fake: FakeServer, store: Store,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    fake.route("GET", SEARCH, Response(200, fixture("youtube-search.json")))

    def endless(request: Request) -> Response:  # a new page token every time
        return Response(200, threads(more=True) | {"nextPageToken": f"page{len(fake.calls(THREADS))}"})

    fake.route("GET", THREADS, endless)
    fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))
    # 160 units a day for two queries: 80 each, less than a search (100 units).
    settings = settings_for(tmp_path, fake, "quota_budget = 160")
    assert collect(store, settings, "youtube").errors == []
    assert fake.calls(SEARCH) == []
    assert len(fake.calls(THREADS)) + len(fake.calls(VIDEOS)) == 80
    assert "this query's share of quota_budget (80 of 160 units a day) is spent until midnight" in caplog.text
    fake.requests.clear()
    assert collect(store, settings, "youtube").errors == []  # the day's spend is kept in the cursor
    assert fake.requests == []


def test_usage_line_for_sources(tmp_path: Path, fake: FakeServer) -> None:
    settings = settings_for(tmp_path, fake, 'quota_budget = 10000, search_every = "6h"', interval="1h")
    assert YouTubeCollector.usage(settings) == (
        "quota: up to about 1648 units a day of 10000 budgeted (1 channel at ~2 units a run; 1 search at "
        "100 units every 6h plus 1 per video found; a run every 60 min)")
    busy = settings_for(tmp_path, fake, "quota_budget = 10000", interval="5m")
    assert "over budget: a query stops when its share is spent" in (YouTubeCollector.usage(busy) or "")


def test_backfill_reports_the_search_ceiling(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", SEARCH, Response(200, fixture("youtube-search.json")))
    fake.route("GET", THREADS, Response(200, {"items": []}))
    since = utcnow() - timedelta(days=30)
    report = collect(store, settings_for(tmp_path, fake, "search = true"), "youtube", since=since, scope="bf")
    assert report.errors == []
    state = coverage(store.cursor("youtube", 'Acme:acme OR "acme cloud"|bf'))
    assert state["done"] and state["gap"].startswith("search reads the 50 newest matching videos a run: ")
    assert "publishedBefore" in fake.calls(SEARCH)[0].query


@pytest.mark.parametrize(("answer", "message"), [
    (Response(400, fixture("youtube-error-keyinvalid.json")), "LISTENPOST_YOUTUBE_API_KEY"),
    (Response(403, fixture("youtube-error-quota.json")), "daily quota is spent (quotaExceeded)"),
    (Response(200, {"kind": "youtube#commentThreadListResponse"}), "no 'items' list"),
    (Response(200, b'{"items": [{"id": "Ug'), "not valid JSON"),
    (Response(429, {"error": {"code": 429, "message": "Too many"}}, {"Retry-After": "1"}), "rate limited"),
])
def test_errors_name_the_problem_and_hide_the_key(tmp_path: Path, fake: FakeServer, store: Store,
                                                  answer: Response, message: str) -> None:
    fake.route("GET", THREADS, answer)
    sleeps: list[float] = []
    report = collect(store, settings_for(tmp_path, fake, "search = false"), "youtube", sleeps=sleeps)
    assert len(report.errors) == 1 and message in report.errors[0], report.errors
    assert KEY not in report.errors[0]
    if answer.status == 429:
        assert sleeps == [1.0, 1.0]  # Retry-After honoured on each of the two retries


def test_a_retried_error_is_logged_without_the_key(tmp_path: Path, fake: FakeServer, store: Store,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    fake.route("GET", THREADS, [Response(503, {"error": {"code": 503, "message": "Backend Error"}}),
                                Response(200, threads())])
    fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))
    caplog.set_level("DEBUG")
    report = collect(store, settings_for(tmp_path, fake, "search = false"), "youtube", sleeps=[])
    assert report.errors == [] and report.new == 3
    assert "HttpError 503 when requesting" in caplog.text and "retrying in" in caplog.text
    assert KEY not in caplog.text


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = source_settings(tmp_path, "youtube", f"http://127.0.0.1:{port}", "search = false", brand=BRAND)
    sleeps: list[float] = []
    report = collect(store, settings, "youtube", sleeps=sleeps)
    assert report.errors == ["Acme:UCacmeCloud0fficial000001: youtube commentThreads.list: no answer from the "
                             "server (ConnectionRefusedError)"]
    assert sleeps == [0.01, 0.02]


def test_a_repeated_page_token_spends_no_more_quota(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    """The same nextPageToken again would read the same page until the query's share is spent."""
    fake.route("GET", THREADS, Response(200, threads(more=True)))
    fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))
    report = collect(store, settings_for(tmp_path, fake, "search = false"), "youtube")
    assert report.errors == [] and report.new == 3
    assert len(fake.calls(THREADS)) == 2
