"""Google Play reviews, newest first, per app id, language and country, via google-play-scraper.

The library knows the Play Store's private review protocol (request body, answer layout,
continuation token); requests go through the shared session so they get timeouts,
retries and the base_url setting, which the library's own fixed-URL transport lacks.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import AppReviewsCollector, BrandQuery, Page
from collectors.http import check_response, make_session
from collectors.parsing import from_timestamp
from monitor.core.config import Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention, engagement

PER_PAGE = 100


def _scraper() -> Any:
    import google_play_scraper
    from google_play_scraper.constants.element import ElementSpecs
    from google_play_scraper.constants.regex import Regex
    from google_play_scraper.constants.request import Formats

    # Importing the library switches off TLS certificate checks for all of urllib in this
    # process; put the verifying default back so no other channel is affected.
    ssl._create_default_https_context = ssl.create_default_context
    return google_play_scraper, Formats, Regex, ElementSpecs


class GooglePlayCollector(AppReviewsCollector):
    name: ClassVar[str] = "googleplay"
    default_base_url: ClassVar[str] = "https://play.google.com"
    # No published limit; the Play Store throttles bursts, so keep to one request a second.
    default_min_interval: ClassVar[float] = 1.0
    option_names: ClassVar[frozenset[str]] = frozenset({"languages", "countries"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.session = make_session(self.policy)

    def locales(self) -> list[str]:
        return [f"{lang}-{country}" for lang in self.option("languages", ["en"]) for country in self.countries]

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        gps, formats, regex, specs = _scraper()
        app_id, _, where = query.target.partition("@")
        lang, _, country = where.partition("-")
        what = f"googleplay {app_id} ({lang}-{country})"
        url = f"{self.base_url}/_/PlayStoreUi/data/batchexecute?hl={lang}&gl={country}"
        token = None
        while True:
            body = formats.Reviews.build_body(app_id, gps.Sort.NEWEST.value, PER_PAGE, "null", "null", token)
            response = self.session.post(url, data=body, headers={
                "content-type": "application/x-www-form-urlencoded"})
            check_response(response, what)
            items, token = self._parse(response.text, regex, what)
            mentions = [m for m in (self.to_mention(i, specs, app_id, lang, country) for i in items) if m]
            yield Page(mentions, skipped=len(items) - len(mentions))
            if not token or not items:
                return

    @staticmethod
    def _parse(text: str, regex: Any, what: str) -> tuple[list[Any], str | None]:
        """The review rows and the continuation token of one batchexecute answer."""
        found = regex.REVIEWS.findall(text)
        try:
            envelope = json.loads(found[0])
            if "PlayGatewayError" in text or envelope[0][2] is None:
                raise SourceError(f"{what}: the Play Store refused the request (app id unknown or "
                                  "rate limited)")
            results = json.loads(envelope[0][2])
        except (IndexError, TypeError, ValueError) as exc:
            raise SourceError(f"{what}: cannot read the answer ({type(exc).__name__}); "
                              f"{len(text)} characters, truncated or not the review format") from None
        # The token rides in a trailing [null, "token"] pair; the last page has none.
        token = next((part[1] for part in results[1:] if isinstance(part, list) and len(part) == 2
                      and part[0] is None and isinstance(part[1], str)), None)
        items = results[0] if results and isinstance(results[0], list) else []
        return items, token

    def to_mention(self, item: Any, specs: Any, app_id: str, lang: str, country: str) -> Mention | None:
        fields = {k: spec.extract_content(item) for k, spec in specs.Review.items() if k != "at"}
        try:
            # The library turns this epoch into local time; the raw value is taken as UTC.
            created_at = from_timestamp(item[5][0])
            rating = int(fields["score"])
        except (IndexError, TypeError, ValueError):
            return None
        text = fields.get("content")
        if not fields.get("reviewId") or not isinstance(text, str) or not text.strip() \
                or not 1 <= rating <= 5:
            return None
        version = fields.get("reviewCreatedVersion")
        return Mention(
            source=self.name, external_id=str(fields["reviewId"]), text=text, created_at=created_at,
            kind="review", rating=rating, author=str(fields.get("userName") or ""),
            url=f"https://play.google.com/store/apps/details?id={app_id}&reviewId={fields['reviewId']}",
            app_version=str(version) if version else None, country=country.upper(),
            raw={k: v for k, v in fields.items() if k not in ("repliedAt", "userImage")},
            engagement=engagement(helpful_votes=fields.get("thumbsUpCount")),
        )
