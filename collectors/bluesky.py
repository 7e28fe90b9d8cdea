"""Bluesky posts through atproto's app.bsky.feed.searchPosts, logged in with an app password."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import call_with_retries
from collectors.parsing import render_query
from monitor.core.config import Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention, engagement
from monitor.core.values import parse_datetime

PER_PAGE = 100


def _transient(exc: Exception) -> Mapping[str, str] | None:
    """Headers of a failure worth retrying (429, 5xx, network); None for the rest."""
    from atproto_client import exceptions

    if isinstance(exc, exceptions.NetworkError | exceptions.RateLimitExceededError):
        return exc.response.headers if exc.response is not None else {}
    if isinstance(exc, exceptions.RequestException) and exc.response is not None \
            and exc.response.status_code >= 500:
        return exc.response.headers
    return None


class BlueskyCollector(RemoteCollector):
    name: ClassVar[str] = "bluesky"
    default_base_url: ClassVar[str] = "https://bsky.social"
    # 3000 requests per 5 minutes per address on the PDS and AppView.
    default_min_interval: ClassVar[float] = 0.1
    option_names: ClassVar[frozenset[str]] = frozenset({"lang"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        from atproto import Client
        from atproto_client.request import Request

        self.lang = self.option("lang", "")
        self.client = Client(base_url=self.base_url, request=Request(timeout=self.source.timeout))
        self._logged_in = False

    def _call(self, call: Any) -> Any:
        from atproto_client import exceptions

        try:
            return call_with_retries(self.policy, call, _transient)
        except exceptions.UnauthorizedError as exc:
            raise self.rejected(exc) from None
        except exceptions.RateLimitExceededError as exc:
            raise SourceError(f"bluesky: rate limited (HTTP 429) after retries: {exc}") from None
        except (exceptions.AtProtocolError, ValueError) as exc:
            # Model errors list every missing field over many lines; the first says what broke.
            first = (str(exc).splitlines() or [""])[0]
            raise SourceError(f"bluesky: {type(exc).__name__}: {first}") from None

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        if not self._logged_in:
            # An app password, never the account password: it can be revoked on its own.
            self._call(lambda: self.client.login(self.secrets["BLUESKY_HANDLE"],
                                                 self.secrets["BLUESKY_APP_PASSWORD"],
                                                 fetch_bsky_profile=False))
            self._logged_in = True
        params: dict[str, Any] = {
            "q": render_query(query.query, and_op=" AND ", not_prefix="NOT "), "sort": "latest",
            "limit": PER_PAGE, "since": newer_than.isoformat().replace("+00:00", "Z"),
        }
        if older_than is not None:
            params["until"] = (older_than + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        if self.lang:
            params["lang"] = self.lang
        cursor = None
        while True:
            page_params = {**params, "cursor": cursor} if cursor else params
            response = self._call(lambda p=page_params: self.client.app.bsky.feed.search_posts(p))
            mentions = [m for m in (self.to_mention(p) for p in response.posts or []) if m]
            yield Page(mentions, skipped=len(response.posts or []) - len(mentions))
            cursor = response.cursor
            if not cursor or not response.posts:
                return

    def to_mention(self, post: Any) -> Mention | None:
        record = post.record
        text = getattr(record, "text", None)
        created = getattr(record, "created_at", None) or getattr(post, "indexed_at", None)
        if not isinstance(text, str) or not text.strip() or not created:
            return None
        try:
            created_at = parse_datetime(created)
        except ValueError:
            return None
        handle = post.author.handle
        rkey = post.uri.rsplit("/", 1)[-1]
        reply = getattr(record, "reply", None)
        parent = getattr(getattr(reply, "parent", None), "uri", None)
        langs = getattr(record, "langs", None) or []
        return Mention(
            source=self.name, external_id=post.uri, text=text, created_at=created_at,
            kind="comment" if parent else "post", author=handle,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}", parent_id=parent,
            language=langs[0].split("-")[0] if langs else None,
            raw={"uri": post.uri, "cid": post.cid, "author": handle, "text": text, "createdAt": created,
                 "reply_parent": parent, "like_count": getattr(post, "like_count", None)},
            engagement=engagement(likes=getattr(post, "like_count", None),
                                  reposts=getattr(post, "repost_count", None)),
        )
