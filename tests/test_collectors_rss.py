"""RSS and Atom feeds through feedparser, served on 127.0.0.1: encodings, HTML, broken feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.base import coverage
from monitor.core.config import Settings
from monitor.core.errors import ConfigError
from monitor.store import Store
from tests.collectorkit import FIXTURES, collect, make, source_settings, stored
from tests.httpfake import FakeServer, Response


def feeds_settings(tmp_path: Path, fake: FakeServer, *paths: str) -> Settings:
    urls = ", ".join(f'"{fake.url}{p}"' for p in paths)
    return source_settings(tmp_path, "rss", fake.url, f'feeds = [{urls}], lookback = "3650d"')


def test_rss_and_atom_entries_matching_the_brand(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", "/avis.rss", Response(200, (FIXTURES / "rss-reviews-latin1.xml").read_bytes(),
                                            {"Content-Type": "application/rss+xml"}))
    fake.route("GET", "/news.atom", Response(200, (FIXTURES / "rss-news-atom.xml").read_bytes()))
    report = collect(store, feeds_settings(tmp_path, fake, "/avis.rss", "/news.atom"), "rss")
    assert report.errors == []
    rows = stored(store, "rss")
    # the hiring entry is excluded, the unrelated one and "Acmeville" do not match,
    # and the entry without a date cannot be placed in time
    assert set(rows) == {"avis-9912", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"}
    review = rows["avis-9912"]
    assert review["title"] == "Très déçu par Acme" and review["author"] == "Renée"
    assert review["text"] == "Le service client d'Acme ne répond plus depuis deux semaines."
    assert review["created_at"] == "2026-11-20T09:15:00.000Z"
    news = rows["urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"]
    assert news["text"] == "Customers of Acme reported errors all morning."
    assert news["url"] == "https://news.example.com/2026/11/acme-outage" and "🛒" in news["title"]
    assert report.skipped == 1


def test_broken_and_missing_feeds(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", "/broken.rss", Response(200, b"<rss><channel><item><title>Acme is"))
    fake.route("GET", "/page.html", Response(200, "<html><body>Moved</body></html>"))
    settings = feeds_settings(tmp_path, fake, "/broken.rss", "/page.html", "/gone.rss")
    report = collect(store, settings, "rss", sleeps=[])
    # feedparser reads what it can of a cut-off feed (here one entry without a date, unreadable)
    assert report.skipped == 1
    assert len(report.errors) == 2
    assert "page.html: not a readable RSS or Atom feed" in report.errors[0]
    assert "gone.rss: HTTP 404" in report.errors[1]


def test_feeds_must_be_listed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.rss\.options\.feeds"):
        make(source_settings(tmp_path, "rss", "http://127.0.0.1:9"), "rss")


def test_backfill_says_a_feed_reaches_only_so_far(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", "/news.atom", Response(200, (FIXTURES / "rss-news-atom.xml").read_bytes()))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    report = collect(store, feeds_settings(tmp_path, fake, "/news.atom"), "rss", since=since, scope="bf")
    assert report.new == 1
    state = coverage(store.cursor("rss", f"Acme:{fake.url}/news.atom|bf"))
    assert state["gap"] == "the feed holds no older entries: 2026-01-01 00:00 UTC..2026-11-20 09:00 UTC not covered"


def test_plain_text_titles_keep_angle_brackets_and_valid_feeds_log_nothing(
        tmp_path: Path, fake: FakeServer, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Reviews</title><link>https://example.com/</link><description>r</description>
<item><guid>r1</guid><title>Acme &lt;3 my new kettle</title>
<description>&lt;p&gt;Acme kettle, &lt;b&gt;great&lt;/b&gt;&lt;/p&gt;</description>
<pubDate>Fri, 20 Nov 2026 09:15:00 GMT</pubDate></item></channel></rss>"""
    fake.route("GET", "/r.rss", Response(200, feed, {"Content-Type": "application/rss+xml; charset=utf-8"}))
    with caplog.at_level("WARNING"):
        report = collect(store, feeds_settings(tmp_path, fake, "/r.rss"), "rss")
    assert report.errors == [] and "malformed" not in caplog.text
    row = stored(store, "rss")["r1"]
    assert row["title"] == "Acme <3 my new kettle"  # plain text: nothing taken for a tag
    assert row["text"] == "Acme kettle, great"  # the description is HTML: tags removed
