"""Collector throughput: mentions per second from a loopback API through the pipeline into SQLite.

Each source's real client (requests, praw, tweepy, google-api-python-client, Mastodon.py) pages
through N items served by the test fake server; no classifier, no request spacing, so the figure
is listenpost's own overhead.

    python benchmarks/bench_collectors.py [--items 5000] [SOURCE ...]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings
from tests.httpfake import FakeServer, Request, Response

BRAND = """
[[brands]]
name = "Acme"
queries = ["acme"]
[brands.accounts]
youtube = ["UCacme"]
trustpilot = ["4f2a9c"]
facebook = ["1048576"]
instagram = ["178414"]
"""
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"


def _stamp(epoch: int, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    return time.strftime(fmt, time.gmtime(epoch))


def _paged(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """One page of ``items`` after the numeric page token, and the token of the next page."""
    start = int(token) if token else 0
    return items[start:start + size], str(start + size) if start + size < len(items) else None


def hackernews(fake: FakeServer, n: int, now: int) -> str:
    hits: list[dict[str, Any]] = [{"_tags": ["comment"], "author": f"u{i}", "comment_text": f"acme comment {i} 🙂",
             "created_at_i": now - i, "objectID": str(i), "parent_id": 1} for i in range(n)]

    def answer(request: Request) -> Response:
        bounds = request.query["numericFilters"][0].split(",")
        upper = next((int(b.split("<=")[1]) for b in bounds if "<=" in b), None)
        return Response(200, {"hits": [h for h in hits if upper is None or h["created_at_i"] <= upper][:100]})

    fake.route("GET", "/api/v1/search_by_date", answer)
    return "/api/v1"


def x(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_X_BEARER_TOKEN"] = "bench"
    template = fixture("x-search-recent.json")
    pages = []
    for p in range(0, n, 100):
        body = copy.deepcopy(template)
        body["data"] = [dict(template["data"][0], id=str(10**18 + n - i), text=f"acme post {i}",
                             created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - i)))
                        for i in range(p, min(p + 100, n))]
        body["meta"] = {"result_count": len(body["data"]), "newest_id": body["data"][0]["id"]}
        if p + 100 < n:
            body["meta"]["next_token"] = f"page{p + 100}"
        pages.append(body)

    def answer(request: Request) -> Response:
        token = request.query.get("next_token", ["page0"])[0]
        return Response(200, pages[int(token[4:]) // 100])

    fake.route("GET", "/2/tweets/search/recent", answer)
    return ""


def reddit(fake: FakeServer, n: int, now: int) -> str:
    for name in ("CLIENT_ID", "CLIENT_SECRET", "USER_AGENT"):
        os.environ[f"LISTENPOST_REDDIT_{name}"] = "bench"
    template = fixture("reddit-search-listing.json")["data"]["children"][1]
    items = []
    for i in range(n):
        child = copy.deepcopy(template)
        child["data"].update(id=f"p{i}", name=f"t3_p{i}", created_utc=now - i, title=f"acme {i}")
        items.append(child)

    def answer(request: Request) -> Response:
        after = request.query.get("after", [None])[0]
        start = int(after[4:]) + 1 if after else 0
        page = items[start:start + 100]
        more = start + 100 < len(items)
        return Response(200, {"kind": "Listing", "data": {"children": page, "before": None,
                                                          "after": page[-1]["data"]["name"] if more else None}})

    fake.route("POST", "/api/v1/access_token", Response(200, {"access_token": "t", "token_type": "bearer",
                                                               "expires_in": 3600, "scope": "*"}))
    fake.route("GET", "/r/all/search/", answer)
    return ""


def youtube(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_YOUTUBE_API_KEY"] = "bench"
    template = fixture("youtube-commentthreads.json")["items"][0]
    items = []
    for i in range(n):
        item = copy.deepcopy(template)
        item["id"] = f"Ugz{i:08d}"
        item["snippet"]["videoId"] = f"video{i // 500}"
        item["snippet"]["topLevelComment"]["snippet"].update(textOriginal=f"acme comment {i}",
                                                             publishedAt=_stamp(now - i))
        items.append(item)

    def threads(request: Request) -> Response:
        page, token = _paged(items, request.query.get("pageToken", [None])[0], 100)
        return Response(200, {"items": page, **({"nextPageToken": token} if token else {})})

    def videos(request: Request) -> Response:
        ids = request.query["id"][0].split(",")
        return Response(200, {"items": [{"id": v, "snippet": {"title": f"Acme video {v}"}} for v in ids]})

    fake.route("GET", "/youtube/v3/commentThreads", threads)
    fake.route("GET", "/youtube/v3/videos", videos)
    return ""


def mastodon(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_MASTODON_ACCESS_TOKEN"] = "bench"
    template = fixture("mastodon-search-v2.json")["statuses"][1]
    statuses = []
    for i in range(n):
        status = copy.deepcopy(template)
        status.update(id=str(((now - i) * 1000) << 16), uri=f"https://mastodon.social/users/a/statuses/{i}",
                      content=f"<p>acme post <strong>{i}</strong></p>", created_at=_stamp(now - i))
        statuses.append(status)

    def answer(request: Request) -> Response:
        max_id = int(request.query.get("max_id", [str(1 << 80)])[0])
        return Response(200, {"accounts": [], "hashtags": [],
                              "statuses": [s for s in statuses if int(s["id"]) < max_id][:40]})

    fake.route("GET", "/api/v2/search", answer)
    return ""


def trustpilot(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_TRUSTPILOT_API_KEY"] = "bench"
    template = fixture("trustpilot-reviews.json")["reviews"][0]
    reviews = [dict(copy.deepcopy(template), id=f"r{i}", text=f"acme review {i}",
                    createdAt=_stamp(now - i)) for i in range(n)]

    def answer(request: Request) -> Response:
        page = int(request.query["page"][0])
        more = page * 100 < n
        return Response(200, {"reviews": reviews[(page - 1) * 100:page * 100],
                              "links": [{"rel": "next-page", "method": "GET", "href": ""}] if more else []})

    fake.route("GET", "/v1/business-units/4f2a9c/reviews", answer)
    return "/v1"


def _graph_edge(fake: FakeServer, path: str, items: list[dict[str, Any]]) -> None:
    def answer(request: Request) -> Response:
        page, after = _paged(items, request.query.get("after", [None])[0], 100)
        paging = {"cursors": {"after": after}, "next": "https://graph.facebook.com/next"} if after else {}
        return Response(200, {"data": page, "paging": paging})

    fake.route("GET", path, answer)


def facebook(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_FACEBOOK_PAGE_TOKEN"] = "bench"
    _graph_edge(fake, "/v21.0/1048576/posts", [
        {"id": "1048576_1", "message": "Acme news", "created_time": _stamp(now - n - 60, GRAPH_TIME)}])
    _graph_edge(fake, "/v21.0/1048576_1/comments", [
        {"id": f"1_{i}", "message": f"acme comment {i}", "created_time": _stamp(now - i, GRAPH_TIME),
         "from": {"name": f"u{i}", "id": str(i)}} for i in range(n)])
    return "/v21.0"


def instagram(fake: FakeServer, n: int, now: int) -> str:
    os.environ["LISTENPOST_INSTAGRAM_ACCESS_TOKEN"] = "bench"
    _graph_edge(fake, "/v21.0/178414/media", [
        {"id": "1801", "caption": "Acme news", "timestamp": _stamp(now - n - 60, GRAPH_TIME), "comments_count": n}])
    _graph_edge(fake, "/v21.0/1801/comments", [
        {"id": f"179{i}", "text": f"acme comment {i}", "timestamp": _stamp(now - i, GRAPH_TIME),
         "username": f"u{i}"} for i in range(n)])
    _graph_edge(fake, "/v21.0/178414/tags", [])
    return "/v21.0"


SOURCES = (("hackernews", hackernews), ("x", x), ("reddit", reddit), ("youtube", youtube),
           ("mastodon", mastodon), ("trustpilot", trustpilot), ("facebook", facebook), ("instagram", instagram))
OPTIONS = {"youtube": ", search = false, quota_budget = 1000000"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("sources", nargs="*", help="sources to measure (default: all)")
    args = parser.parse_args()
    now = int(time.time()) - 60
    print(f"{'source':<11} {'items':>6} {'requests':>8} {'seconds':>8} {'mentions/s':>11}")
    for name, serve in SOURCES:
        if args.sources and name not in args.sources:
            continue
        n = min(args.items, 1000) if name == "reddit" else args.items  # Reddit listings end at 1000
        with tempfile.TemporaryDirectory() as folder:
            fake = FakeServer().start()
            path = serve(fake, n, now)
            settings: Any = source_settings(Path(folder), name, fake.url + path,
                                            'lookback = "30d"' + OPTIONS.get(name, ""), brand=BRAND)
            with Store(Path(folder) / "bench.db") as store:
                start = time.perf_counter()
                report = collect(store, settings, name)
                seconds = time.perf_counter() - start
            fake.stop()
        assert report.errors == [] and report.new == n, (report.errors, report.new)
        requests = len([r for r in fake.requests if r.method == "GET"])
        print(f"{name:<11} {n:>6} {requests:>8} {seconds:>8.2f} {n / seconds:>11.0f}")


if __name__ == "__main__":
    main()
