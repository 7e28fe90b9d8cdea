"""Hacker News stories and comments through the Algolia search API (search_by_date)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import get_json, make_session
from collectors.parsing import from_timestamp, plain_text
from monitor.core.config import Settings, Source
from monitor.core.records import Mention, engagement

PER_PAGE = 100


class HackerNewsCollector(RemoteCollector):
    """Walks search_by_date newest first, narrowing created_at_i instead of paging.

    Algolia stops paging at 1000 hits per query, so each request moves the upper
    created_at_i bound down to the oldest hit seen instead of asking for page N.
    """

    name: ClassVar[str] = "hackernews"
    default_base_url: ClassVar[str] = "https://hn.algolia.com/api/v1"
    # Algolia's HN API allows 10,000 requests an hour from one address.
    default_min_interval: ClassVar[float] = 0.36
    option_names: ClassVar[frozenset[str]] = frozenset({"tags"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.tags = self.option("tags", ["story", "comment"])
        self.session = make_session(self.policy)

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        terms = [f'"{t}"' if " " in t else t for t in query.query.positive_terms()]
        upper = int(older_than.timestamp()) if older_than else None
        while True:
            filters = [f"created_at_i>={int(newer_than.timestamp())}"]
            if upper is not None:
                filters.append(f"created_at_i<={upper}")
            params = {
                "query": " ".join(terms), "tags": f"({','.join(self.tags)})",
                "numericFilters": ",".join(filters), "hitsPerPage": PER_PAGE,
            }
            if len(terms) > 1:
                params["optionalWords"] = " ".join(terms)  # any term may match; the query decides
            data = get_json(self.session, f"{self.base_url}/search_by_date", "hackernews", params=params)
            hits = data.get("hits") if isinstance(data, dict) else None
            if not isinstance(hits, list):
                from monitor.core.errors import SourceError

                raise SourceError("hackernews: the answer has no 'hits' list")
            mentions, skipped = [], 0
            for hit in hits:
                mention = self.to_mention(hit)
                if mention is None:
                    skipped += 1
                else:
                    mentions.append(mention)
            yield Page(mentions, skipped=skipped)
            stamps = [h["created_at_i"] for h in hits if isinstance(h, dict)
                      and isinstance(h.get("created_at_i"), int)]
            if len(hits) < PER_PAGE or not stamps:
                return
            # Many hits in one second would pin the bound; step past that second then.
            upper = min(stamps) if upper is None or min(stamps) < upper else upper - 1

    def to_mention(self, hit: Any) -> Mention | None:
        """A hit as a mention, or None for deleted items and hits missing their fields."""
        if not isinstance(hit, dict) or not hit.get("objectID") or not isinstance(
                hit.get("created_at_i"), int):
            return None
        tags = hit.get("_tags") or []
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        text = (hit.get("comment_text") if is_comment else hit.get("story_text")) or ""
        title = "" if is_comment else str(hit.get("title") or "")
        if not (text or title) or hit.get("author") is None:
            return None  # deleted or dead items come back without an author or text
        object_id = str(hit["objectID"])
        parent = hit.get("parent_id")
        return Mention(
            source=self.name, external_id=object_id, text=plain_text(str(text)) or title, title=title,
            created_at=from_timestamp(hit["created_at_i"]), kind="comment" if is_comment else "post",
            author=str(hit.get("author") or ""),
            url=f"https://news.ycombinator.com/item?id={object_id}",
            parent_id=str(parent) if is_comment and parent is not None else None, raw=hit,
            engagement=engagement(points=hit.get("points"), comments=hit.get("num_comments")),
        )
