"""X (Twitter) recent search through tweepy's v2 Client and Paginator, with a since_id cursor."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import make_session
from collectors.parsing import render_query
from monitor.core.config import Settings, Source
from monitor.core.errors import ConfigError, SourceError
from monitor.core.records import Mention, engagement, ensure_utc, utcnow

# Recent search reaches back 7 days; a minute of margin keeps start_time valid in flight.
SEARCH_DAYS = 7
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "lang", "public_metrics"]
# tweepy's debug log prints every request's headers, bearer token included: never below INFO.
logging.getLogger("tweepy.client").setLevel(logging.INFO)


class XCollector(RemoteCollector):
    name: ClassVar[str] = "x"
    default_base_url: ClassVar[str] = "https://api.twitter.com"
    # Recent search on the Basic tier: 60 requests per 15 minutes per app (Pro: 450, so 2s).
    default_min_interval: ClassVar[float] = 15.0
    option_names: ClassVar[frozenset[str]] = frozenset({"include_retweets", "max_results"})
    earliest_reason: ClassVar[str] = f"X search covers only the last {SEARCH_DAYS} days"

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        import tweepy

        self.include_retweets = self.option("include_retweets", False)
        self.max_results = self.option("max_results", 100)
        if not 10 <= self.max_results <= 100:
            raise ConfigError("sources.x.options.max_results: X returns 10 to 100 posts a page")
        self.client = tweepy.Client(bearer_token=self.secrets["X_BEARER_TOKEN"])
        # tweepy's API host is fixed; the adapter sends its requests to the base_url setting.
        make_session(self.policy, rewrite_to=self.base_url, session=self.client.session)

    def earliest(self) -> datetime:
        return utcnow() - timedelta(days=SEARCH_DAYS) + timedelta(minutes=1)

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        import tweepy

        text = render_query(query.query)
        if not self.include_retweets:
            text = f"({text}) -is:retweet" if " " in text else f"{text} -is:retweet"
        params: dict[str, Any] = {
            "query": text, "max_results": self.max_results, "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"], "user_fields": ["username", "public_metrics"],
        }
        # X refuses a since_id older than its 7-day window; past that, start from the window.
        if older_than is None and state.get("since_id") and newer_than > self.earliest():
            params["since_id"] = state["since_id"]
        else:
            params["start_time"] = max(newer_than, self.earliest())
            if older_than is not None:
                # end_time must be at least 10 seconds before the request.
                params["end_time"] = min(older_than + timedelta(seconds=1),
                                         utcnow() - timedelta(seconds=15))
        try:
            for response in tweepy.Paginator(self.client.search_recent_tweets, **params):
                newest_id = (response.meta or {}).get("newest_id")
                if newest_id and (not state.get("since_id") or int(newest_id) > int(state["since_id"])):
                    state["since_id"] = newest_id
                yield self._page(response)
        except tweepy.Unauthorized as exc:
            raise self.rejected(exc) from None
        except tweepy.TooManyRequests as exc:
            raise SourceError(f"x: rate limited (HTTP 429) after retries: {exc}") from None
        except tweepy.HTTPException as exc:
            raise SourceError(f"x: {exc}") from None
        except ValueError as exc:  # requests' JSONDecodeError on a cut-off body
            raise SourceError(f"x: the response is not valid JSON ({exc})") from None
        except (TypeError, KeyError, AttributeError) as exc:  # JSON, but not a search answer
            raise SourceError(f"x: unreadable search answer ({type(exc).__name__}: {exc})") from None

    def _page(self, response: Any) -> Page:
        included = (response.includes or {}).get("users", [])
        users = {str(u.id): u.username for u in included}
        followers = {str(u.id): (u.public_metrics or {}).get("followers_count") for u in included}
        mentions, skipped = [], 0
        for tweet in response.data or []:
            if tweet.created_at is None or not tweet.text:
                skipped += 1
                continue
            refs = {r.type: str(r.id) for r in tweet.referenced_tweets or []}
            author = users.get(str(tweet.author_id), "")
            mentions.append(Mention(
                # X serves text with &, < and > as HTML entities; a brand query for AT&T must match.
                source=self.name, external_id=str(tweet.id), text=html.unescape(tweet.text),
                created_at=ensure_utc(tweet.created_at),
                kind="comment" if "replied_to" in refs else "post", author=author,
                url=f"https://x.com/{author or 'i/web'}/status/{tweet.id}",
                language=tweet.lang, parent_id=refs.get("replied_to"), raw=dict(tweet.data),
                engagement=engagement(followers=followers.get(str(tweet.author_id)),
                                      impressions=(tweet.public_metrics or {}).get("impression_count")),
            ))
        return Page(mentions, skipped=skipped)
