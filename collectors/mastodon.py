"""Mastodon statuses matching the brands' queries on one instance, through Mastodon.py.

Each positive term of a query is searched (Mastodon's search has no OR); #hashtags in a query
are read from the instance's hashtag timeline, which also holds posts from other servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector, merged_pages
from collectors.http import make_session, snippet
from collectors.parsing import json_object, plain_text
from monitor.core.config import Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention, ensure_utc

log = logging.getLogger(__name__)

PER_PAGE = 40  # the most Mastodon returns in one search or timeline page


class MastodonCollector(RemoteCollector):
    name: ClassVar[str] = "mastodon"
    default_base_url: ClassVar[str] = "https://mastodon.social"
    # Mastodon allows 300 calls per 5 minutes per account: one a second.
    default_min_interval: ClassVar[float] = 1.0
    option_names: ClassVar[frozenset[str]] = frozenset({"search", "local_only"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        from mastodon import Mastodon

        self.search = self.option("search", True)
        self.local_only = self.option("local_only", False)
        # A stated version: Mastodon.py then asks the instance nothing before the first search.
        # ratelimit_method="throw": the shared session waits for Retry-After, bounded by max_wait.
        self.client = Mastodon(
            access_token=self.secrets["MASTODON_ACCESS_TOKEN"], api_base_url=self.base_url,
            request_timeout=self.source.timeout, mastodon_version="4.2.0", version_check_mode="created",
            ratelimit_method="throw", session=make_session(self.policy),
        )
        self.unreadable: dict[str, int] = {}

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        streams = []
        for term in query.query.positive_terms():
            if term.startswith("#") and len(term) > 1:
                streams.append(self._stream(self._hashtag(term[1:]), newer_than, older_than))
            elif self.search:
                streams.append(self._stream(self._search(f'"{term}"' if " " in term else term),
                                            newer_than, older_than))
        yield from merged_pages(streams, self.unreadable, per_page=PER_PAGE)

    def _hashtag(self, tag: str) -> Callable[[str | None], Any]:
        def fetch(max_id: str | None) -> Any:
            return self.client.timeline_hashtag(tag, local=self.local_only, max_id=max_id, limit=PER_PAGE)
        return fetch

    def _search(self, text: str) -> Callable[[str | None], Any]:
        def fetch(max_id: str | None) -> Any:
            return self.client.search_v2(text, resolve=False, result_type="statuses", max_id=max_id,
                                         limit=PER_PAGE).statuses
        return fetch

    def _stream(self, fetch: Callable[[str | None], Any], newer_than: datetime,
                older_than: datetime | None) -> Iterator[Mention]:
        """One search or timeline, newest first, paged with max_id (from the window's end at first)."""
        # Status ids are milliseconds since 1970 shifted 16 bits: an id bounds a time.
        max_id = str((int(older_than.timestamp() * 1000) + 1) << 16) if older_than else None
        while True:
            statuses = self._call(fetch, max_id)
            if not isinstance(statuses, list):
                raise SourceError("mastodon: unreadable answer (no list of statuses)")
            mentions: list[Mention] = []
            for status in statuses:
                mention = self.to_mention(status)
                if mention is None:
                    self.unreadable["skipped"] = self.unreadable.get("skipped", 0) + 1
                elif isinstance(mention, Mention):
                    mentions.append(mention)
            mentions.sort(key=lambda m: m.created_at, reverse=True)
            yield from mentions
            ids = [int(s["id"]) for s in statuses if isinstance(s, dict) and _number(s.get("id"))]
            if len(statuses) < PER_PAGE or not ids or (mentions and mentions[-1].created_at < newer_than):
                return
            if max_id is not None and min(ids) >= int(max_id):
                # Nothing older than max_id came back: the instance ignores it, and would be asked for ever.
                log.warning("mastodon: the instance answered max_id=%s with no older statuses; stopped", max_id)
                return
            max_id = str(min(ids))

    def _call(self, fetch: Callable[[str | None], Any], max_id: str | None) -> Any:
        from mastodon import errors

        try:
            return fetch(max_id)
        except errors.MastodonUnauthorizedError as exc:
            raise self.rejected(_detail(exc)) from None
        except errors.MastodonRatelimitError:
            raise SourceError("mastodon: rate limited (HTTP 429) after retries") from None
        except errors.MastodonNetworkError as exc:
            raise SourceError(f"mastodon: {snippet(str(exc).removeprefix('Could not complete request: '))}") \
                from None
        except errors.MastodonAPIError as exc:
            if "Could not parse response as JSON" in str(exc):
                raise SourceError("mastodon: the response is not valid JSON (truncated or an error page)") \
                    from None
            raise SourceError(f"mastodon: {_detail(exc)}") from None
        except errors.MastodonError as exc:
            raise SourceError(f"mastodon: {snippet(str(exc))}") from None
        except (KeyError, AttributeError, TypeError) as exc:  # JSON, but not a search answer
            raise SourceError(f"mastodon: unreadable answer ({type(exc).__name__})") from None

    def to_mention(self, status: Any) -> Mention | bool | None:
        """A status; None when unreadable; False for boosts (the boosted post is what counts)."""
        if not isinstance(status, dict):
            return None
        if status.get("reblog"):
            return False
        account = json_object(status.get("account"))
        created = status.get("created_at")
        text = plain_text(str(status.get("content") or ""))
        if not status.get("id") or not isinstance(created, datetime) or not text:
            return None
        reply_to = status.get("in_reply_to_id")
        uri = str(status.get("uri") or status["id"])
        return Mention(
            source=self.name, external_id=uri, text=text, created_at=ensure_utc(created),
            kind="comment" if reply_to else "post", author=str(account.get("acct") or ""),
            title=str(status.get("spoiler_text") or ""), url=str(status.get("url") or uri),
            language=status.get("language") if isinstance(status.get("language"), str) else None,
            parent_id=str(reply_to) if reply_to else None,
            raw={"id": str(status["id"]), "uri": uri, "content": status.get("content"),
                 "created_at": ensure_utc(created).isoformat(), "acct": account.get("acct"),
                 "in_reply_to_id": reply_to, "favourites_count": status.get("favourites_count")},
        )


def _number(value: object) -> bool:
    """A status id as Mastodon sends it: ASCII digits ("²" is a digit to str.isdigit, not to int)."""
    text = str(value if value is not None else "")
    return text.isascii() and text.isdigit()


def _detail(exc: Exception) -> str:
    """An API error as "HTTP 422: the instance's message"; Mastodon.py's args are (text, status, reason, error)."""
    args = exc.args
    if len(args) >= 4:
        return f"HTTP {args[1]}: {snippet(str(args[3] or args[2]))}"
    return snippet(str(exc))
