"""App Store reviews from Apple's public customer-reviews RSS (JSON), per app id and country."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import AppReviewsCollector, BrandQuery, Page
from collectors.http import get_json, make_session
from monitor.core.config import Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention, engagement
from monitor.core.values import parse_datetime

# Apple serves at most 10 pages of 50 reviews per app and country.
MAX_PAGES = 10
PER_PAGE = 50


def _count(label: str) -> int | None:
    return int(label) if label.isdigit() else None


def _label(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return str(value.get("label") or "") if isinstance(value, dict) else ""


class AppStoreCollector(AppReviewsCollector):
    name: ClassVar[str] = "appstore"
    default_base_url: ClassVar[str] = "https://itunes.apple.com"
    # Undocumented limit; Apple answers 403 to bursts, so stay near 20 requests a minute.
    default_min_interval: ClassVar[float] = 3.0
    option_names: ClassVar[frozenset[str]] = frozenset({"countries"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.session = make_session(self.policy)

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        app_id, _, country = query.target.partition("@")
        for number in range(1, MAX_PAGES + 1):
            url = (f"{self.base_url}/{country}/rss/customerreviews/page={number}/id={app_id}"
                   "/sortby=mostrecent/json")
            data = get_json(self.session, url, f"appstore {app_id} ({country})")
            feed = data.get("feed") if isinstance(data, dict) else None
            if not isinstance(feed, dict):
                raise SourceError(f"appstore {app_id} ({country}): the answer has no 'feed'")
            entries = feed.get("entry") or []
            if isinstance(entries, dict):  # Apple sends a lone review as an object, not a list
                entries = [entries]
            mentions = [m for m in (self.to_mention(e, app_id, country) for e in entries) if m]
            full = len(entries) >= PER_PAGE
            ceiling = (f"the App Store feed ends after {MAX_PAGES} pages of {PER_PAGE} reviews"
                       if full and number == MAX_PAGES else None)
            yield Page(mentions, skipped=len(entries) - len(mentions), ceiling=ceiling)
            if not full:
                return

    def to_mention(self, entry: Any, app_id: str, country: str) -> Mention | None:
        """A review, or None for the app's own entry and entries missing their fields."""
        if not isinstance(entry, dict) or "im:rating" not in entry:
            return None  # older feeds open with an entry describing the app itself
        review_id, text = _label(entry, "id"), _label(entry, "content")
        try:
            rating = int(_label(entry, "im:rating"))
            created_at = parse_datetime(_label(entry, "updated"))
        except ValueError:
            return None
        if not review_id or not text.strip() or not 1 <= rating <= 5:
            return None
        author = entry.get("author")
        return Mention(
            source=self.name, external_id=review_id, text=text, title=_label(entry, "title"),
            created_at=created_at, kind="review", rating=rating,
            author=_label(author, "name") if isinstance(author, dict) else "",
            url=f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews",
            app_version=_label(entry, "im:version") or None, country=country.upper(),
            raw=entry, engagement=engagement(helpful_votes=_count(_label(entry, "im:voteSum"))),
        )
