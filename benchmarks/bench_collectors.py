"""Collector throughput: mentions per second from a loopback API through the pipeline into SQLite.

Each source's real client (requests, praw, tweepy) pages through N items served by the test
fake server; no classifier, no request spacing, so the figure is listenpost's own overhead.

    python benchmarks/bench_collectors.py [--items 5000]
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

BRAND = '\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    now = int(time.time()) - 60
    print(f"{'source':<11} {'items':>6} {'requests':>8} {'seconds':>8} {'mentions/s':>11}")
    for name, serve in (("hackernews", hackernews), ("x", x), ("reddit", reddit)):
        n = min(args.items, 1000) if name == "reddit" else args.items  # Reddit listings end at 1000
        with tempfile.TemporaryDirectory() as folder:
            fake = FakeServer().start()
            path = serve(fake, n, now)
            settings: Any = source_settings(Path(folder), name, fake.url + path, 'lookback = "30d"',
                                            brand=BRAND)
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
