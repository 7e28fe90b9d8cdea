"""App Store reviews from a loopback server speaking the customer-reviews RSS JSON."""

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

APP = "284882215"


def page_path(country: str, number: int) -> str:
    return f"/{country}/rss/customerreviews/page={number}/id={APP}/sortby=mostrecent/json"


def reviews(hours_ago: float = 1) -> dict[str, Any]:
    """The recorded feed with its reviews moved to the last few hours."""
    body = copy.deepcopy(fixture("appstore-customerreviews.json"))
    for i, entry in enumerate(body["feed"]["entry"]):
        entry["updated"]["label"] = (utcnow() - timedelta(hours=hours_ago + i)).strftime(
            "%Y-%m-%dT%H:%M:%S-00:00")
    return body


def test_reviews_keep_rating_version_and_country(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", page_path("us", 1), Response(200, reviews()))
    single = reviews()
    single["feed"]["entry"] = single["feed"]["entry"][0]  # Apple's lone review: an object
    single["feed"]["entry"]["id"]["label"] = "22000000001"
    fake.route("GET", page_path("gb", 1), Response(200, single))
    settings = source_settings(tmp_path, "appstore", fake.url, 'countries = ["us", "GB"]')
    report = collect(store, settings, "appstore")
    assert report.errors == []
    rows = stored(store, "appstore")
    assert len(rows) == 4
    crash = rows["11000000001"]
    assert (crash["kind"], crash["rating"], crash["app_version"], crash["country"]) == (
        "review", 1, "412.0", "US")
    assert crash["title"] == "Crashes on launch" and "😤" in crash["text"]
    assert crash["author"] == "frustrated_dad" and crash["brand"] == "Acme"
    assert rows["22000000001"]["country"] == "GB"
    assert "très bien" in rows["11000000002"]["text"]


def test_feed_without_reviews_and_unreadable_entries(tmp_path: Path, fake: FakeServer,
                                                     store: Store) -> None:
    body = reviews()
    body["feed"]["entry"][1]["im:rating"]["label"] = "seven"
    del body["feed"]["entry"][2]["content"]
    fake.route("GET", page_path("us", 1), Response(200, body))
    settings = source_settings(tmp_path, "appstore", fake.url)
    report = collect(store, settings, "appstore")
    assert report.new == 1 and report.skipped == 2
    fake.route("GET", page_path("us", 1), Response(200, {"feed": {"author": {}, "id": {"label": "x"}}}))
    assert collect(store, settings, "appstore").errors == []
    fake.route("GET", page_path("us", 1), Response(200, b'{"feed": {"entry": [{"id": '))
    assert "not valid JSON" in collect(store, settings, "appstore").errors[0]


def test_backfill_states_the_ten_page_ceiling(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    template = fixture("appstore-customerreviews.json")["feed"]["entry"][0]

    def answer(request: Request) -> Response:
        number = int(request.path.split("page=")[1].split("/")[0])
        entries = []
        for i in range(50):
            n = (number - 1) * 50 + i
            entry = copy.deepcopy(template)
            entry["id"]["label"] = str(5000 + n)
            entry["updated"]["label"] = (utcnow() - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S-00:00")
            entries.append(entry)
        return Response(200, {"feed": {"entry": entries}})

    for number in range(1, 11):
        fake.route("GET", page_path("us", number), answer)
    since = utcnow() - timedelta(days=90)
    report = collect(store, source_settings(tmp_path, "appstore", fake.url), "appstore",
                     since=since, scope="bf")
    assert report.errors == [] and report.new == 500
    state = coverage(store.cursor("appstore", f"Acme:{APP}@us|bf"))
    assert state["gap"].startswith("the App Store feed ends after 10 pages of 50 reviews: ")
    assert len(fake.requests) == 10


def test_review_sources_need_app_ids(tmp_path: Path) -> None:
    brand = '\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'
    for source in ("appstore", "googleplay"):
        settings = source_settings(tmp_path, source, "http://127.0.0.1:9", brand=brand)
        with pytest.raises(ConfigError, match=f"{source}: no app ids"):
            make(settings, source)
