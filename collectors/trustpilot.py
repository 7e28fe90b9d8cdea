"""Trustpilot reviews of the brands' business units through the public Business Units API, with an API key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import check_response, make_session, parse_json
from collectors.parsing import json_object
from monitor.core.config import ENV_PREFIX, Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention
from monitor.core.values import parse_datetime

log = logging.getLogger(__name__)

PER_PAGE = 100


class TrustpilotCollector(RemoteCollector):
    """Every review of each business unit listed in a brand's ``accounts = { trustpilot = [...] }``.

    Reviews are read newest first (``orderBy=createdat.desc``); a review is a mention as it is,
    with its star rating kept the way App Store and Google Play ratings are.
    """

    name: ClassVar[str] = "trustpilot"
    default_base_url: ClassVar[str] = "https://api.trustpilot.com/v1"
    # Trustpilot allows 833 calls per 5 minutes per key; one call a second stays far below.
    default_min_interval: ClassVar[float] = 1.0
    default_lookback: ClassVar[float] = 7 * 86400.0
    match_locally: ClassVar[bool] = False
    option_names: ClassVar[frozenset[str]] = frozenset({"language"})
    accounts_are: ClassVar[str] = "business unit ids"

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.language = self.option("language", "all")
        self.session = make_session(self.policy)
        # A header, not the query string, so the key never appears in a logged URL.
        self.session.headers["apikey"] = self.secrets["TRUSTPILOT_API_KEY"]
        self.session.secret_headers = ("apikey",)  # type: ignore[attr-defined]  # not sent to another host
        self.queries()

    def queries(self) -> list[BrandQuery]:
        return self.account_queries(self.accounts_are)

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        unit = query.target
        what = f"trustpilot {unit}"
        number = 1
        ids_seen: set[str] = set()
        while True:
            response = self.session.get(f"{self.base_url}/business-units/{unit}/reviews", params={
                "page": number, "perPage": PER_PAGE, "orderBy": "createdat.desc", "language": self.language})
            if response.status_code == 404:
                raise SourceError(f"{what}: no such business unit; check accounts.trustpilot in the "
                                  "brand's settings (the id is in Trustpilot Business, under Integrations)")
            check_response(response, what, credentials=(ENV_PREFIX + "TRUSTPILOT_API_KEY",))
            data = parse_json(response, what)
            reviews = data.get("reviews") if isinstance(data, dict) else None
            if not isinstance(reviews, list):
                raise SourceError(f"{what}: the answer has no 'reviews' list")
            mentions = [m for m in (self.to_mention(r, unit) for r in reviews) if m]
            yield Page(mentions, skipped=len(reviews) - len(mentions))
            links = data.get("links") if isinstance(data.get("links"), list) else []
            more = any(isinstance(link, dict) and link.get("rel") == "next-page" for link in links)
            if not reviews or not more:
                return
            ids = {r["id"] for r in reviews if isinstance(r, dict) and isinstance(r.get("id"), str)}
            if not ids - ids_seen:
                # Nothing new on this page: a server that ignores ``page`` would be read for ever.
                log.warning("%s: page %d repeats earlier reviews only; stopped reading", what, number)
                return
            ids_seen |= ids
            number += 1

    def to_mention(self, review: Any, unit: str) -> Mention | None:
        """A review, or None when it lacks its id, text, date or a rating of 1 to 5 stars."""
        if not isinstance(review, dict):
            return None
        review_id, stars = review.get("id"), review.get("stars")
        text, title = review.get("text"), review.get("title")
        if not isinstance(review_id, str) or not review_id or isinstance(stars, bool) \
                or not isinstance(stars, int) or not 1 <= stars <= 5:
            return None
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            created_at = parse_datetime(str(review.get("createdAt") or ""))
        except ValueError:
            return None
        consumer = json_object(review.get("consumer"))
        language = review.get("language")
        country = review.get("countryCode") or consumer.get("countryCode")
        return Mention(
            source=self.name, external_id=review_id, text=text,
            title=title if isinstance(title, str) else "", created_at=created_at, kind="review",
            rating=stars, author=str(consumer.get("displayName") or ""),
            url=f"https://www.trustpilot.com/reviews/{review_id}",
            language=language.split("-")[0].lower() if isinstance(language, str) and language else None,
            country=country.upper() if isinstance(country, str) and country else None,
            raw={k: v for k, v in review.items() if k not in ("links", "consumer", "businessUnit")}
            | {"consumer": {"id": consumer.get("id"), "displayName": consumer.get("displayName")},
               "businessUnitId": unit},
        )
