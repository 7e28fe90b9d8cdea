"""RSS and Atom feeds through feedparser: review sites, news, blogs and alert feeds."""

from __future__ import annotations

import hashlib
import logging
from calendar import timegm
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import check_response, make_session
from collectors.parsing import from_timestamp, plain_text
from monitor.core.config import Settings, Source
from monitor.core.errors import ConfigError, SourceError
from monitor.core.query import parse_query
from monitor.core.records import Mention

log = logging.getLogger(__name__)


class RssCollector(RemoteCollector):
    """Reads each feed in ``options.feeds``; entries matching a brand's queries become mentions.

    A feed is one document with no paging, so it covers only as far back as it reaches.
    """

    name: ClassVar[str] = "rss"
    default_min_interval: ClassVar[float] = 1.0
    option_names: ClassVar[frozenset[str]] = frozenset({"feeds"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.feeds = self.option("feeds", [])
        if not self.feeds:
            raise ConfigError("sources.rss.options.feeds: list at least one feed URL")
        self.session = make_session(self.policy)

    def queries(self) -> list[BrandQuery]:
        out = []
        for brand in self.settings.brands:
            if not brand.queries:
                continue
            # One pass per feed and brand: any of the brand's queries makes an entry a mention.
            query = parse_query(" OR ".join(f"({q})" for q in brand.queries), brand.exclude)
            out += [BrandQuery(brand, query, target=url) for url in self.feeds]
        return out

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        import feedparser

        url = query.target if "://" in query.target else f"{self.base_url}/{query.target.lstrip('/')}"
        response = self.session.get(url)
        check_response(response, f"rss {url}")
        # feedparser looks headers up by lower-case name; requests keeps the server's casing.
        headers = {name.lower(): value for name, value in response.headers.items()}
        feed = feedparser.parse(response.content, response_headers=headers)
        if feed.bozo and not feed.entries:
            raise SourceError(f"rss {url}: not a readable RSS or Atom feed "
                              f"({type(feed.get('bozo_exception')).__name__})")
        if feed.bozo:
            log.warning("rss %s: the feed is malformed (%s); reading what can be read", url,
                        feed.get("bozo_exception"))
        mentions = [m for m in (self.to_mention(e, url) for e in feed.entries) if m]
        mentions.sort(key=lambda m: m.created_at, reverse=True)  # feeds need not be in order
        yield Page(mentions, skipped=len(feed.entries) - len(mentions),
                   ceiling="the feed holds no older entries")

    def to_mention(self, entry: Any, feed_url: str) -> Mention | None:
        """A feed entry as a mention; None for an entry without a date or any text."""
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        text, title = plain_text(body or ""), _title(entry)
        if stamp is None or not (text or title):
            return None
        created_at = from_timestamp(timegm(stamp))
        link = entry.get("link", "") or ""
        entry_id = entry.get("id") or link or hashlib.sha256(
            f"{feed_url}\n{title}\n{created_at.isoformat()}".encode()).hexdigest()[:24]
        return Mention(
            source=self.name, external_id=str(entry_id), text=text or title, title=title,
            created_at=created_at, author=plain_text(entry.get("author", "") or ""), url=link,
            raw={"feed": feed_url, "id": entry_id, "title": title, "link": link,
                 "published": entry.get("published") or entry.get("updated")},
        )


def _title(entry: Any) -> str:
    """The entry's title: HTML only where the feed says so, else the text as given ("<3 Acme" stays)."""
    title = entry.get("title", "") or ""
    kind = (entry.get("title_detail") or {}).get("type", "text/plain")
    return plain_text(title) if "html" in kind else " ".join(title.split())
