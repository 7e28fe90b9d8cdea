"""A small source for daemon tests: mentions served as JSON by a loopback HTTP server, read with requests.

Registered only by the tests (``collectors.SOURCES["fakefeed"]``), never shipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.core.errors import SourceError
from monitor.core.records import Mention
from tests.httpfake import FakeServer, Request, Response

PATH = "/mentions"
REGISTRATION = "tests.fakesource:FakeFeedCollector"


class FakeFeedCollector(Collector):
    """GET {base_url}/mentions?q=QUERY&after=CURSOR -> {"items": [...], "next": CURSOR}."""

    name: ClassVar[str] = "fakefeed"

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        assert query is not None
        try:
            response = requests.get(self.base_url + PATH, params={"q": query.query.text, "after": cursor or ""},
                                    timeout=self.source.timeout)
            response.raise_for_status()
            data = response.json()
            mentions = [
                Mention(source=self.name, external_id=str(item["id"]), text=item["text"],
                        created_at=datetime.fromisoformat(item["created_at"]), brand=query.brand.name,
                        author=item.get("author", ""), raw=item)
                for item in data["items"]
            ]
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"fakefeed: {type(exc).__name__}: {exc}") from None
        yield Batch(mentions, cursor=str(data["next"]))


class FeedServer:
    """Answers each request with ``per_request`` mentions after the cursor; mention n has text n mod len(texts)."""

    def __init__(self, server: FakeServer, texts: list[str], *, per_request: int = 1,
                 limit: int | None = None) -> None:
        self.server = server
        self.texts = texts
        self.per_request = per_request
        self.limit = limit
        self.served: list[str] = []
        self._lock = threading.Lock()
        server.route("GET", PATH, self.answer)

    def answer(self, request: Request) -> Response:
        after = int(request.query.get("after", ["0"])[0] or 0)
        with self._lock:
            upto = after + self.per_request
            if self.limit is not None:
                upto = min(upto, self.limit)
            items: list[dict[str, Any]] = []
            for n in range(after + 1, upto + 1):
                items.append({"id": f"m{n}", "text": self.texts[(n - 1) % len(self.texts)], "author": f"user{n}",
                              "created_at": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).isoformat()})
                self.served.append(f"m{n}")
        return Response(200, {"items": items, "next": max(after, upto)})

    def cursors(self) -> list[str]:
        """The cursor each request carried, in order."""
        return [r.query.get("after", [""])[0] for r in self.server.calls(PATH)]
