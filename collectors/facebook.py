"""Comments on a Facebook Page's own posts through the Graph API, with a Page access token.

The Graph API parts Facebook and Instagram share (the token header, cursor paging, Graph
error codes, reading comments on a window of recent posts) live in ``GraphCollector``.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector, merged_pages
from collectors.http import check_response, make_session, parse_json, snippet
from collectors.parsing import json_object
from monitor.core.config import ENV_PREFIX, Settings, Source
from monitor.core.errors import ConfigError, SourceError
from monitor.core.records import Mention
from monitor.core.values import parse_datetime

log = logging.getLogger(__name__)

PER_PAGE = 100
# Graph error codes: 190 a token expired or revoked; 10 and 200-299 a permission missing;
# 4, 17, 32, 613 app, user and page call limits; 80001-80014 business use case limits.
RATE_LIMITED = frozenset({4, 17, 32, 613}) | frozenset(range(80001, 80015))


class GraphCollector(RemoteCollector):
    """Comments on the recent posts of an account the token manages, newest first across posts.

    Subclasses say how posts are listed and read (``posts``, ``comments``) and may add other
    newest-first streams (``more_streams``). Comments are read on posts published up to
    ``post_age`` before the window, at most ``posts`` of them, newest first.
    """

    default_base_url: ClassVar[str] = "https://graph.facebook.com/v21.0"
    # Page and Instagram calls are limited per token and day by engaged users; 2 a second is modest.
    default_min_interval: ClassVar[float] = 0.5
    match_locally: ClassVar[bool] = False  # comments on the brand's own posts are all mentions
    option_names: ClassVar[frozenset[str]] = frozenset({"posts", "post_age"})
    #: the variable holding the access token
    token: ClassVar[str]

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.max_posts = self.option("posts", 50)
        self.post_age = self.option("post_age", 14 * 86400.0)
        if self.max_posts < 1:
            raise ConfigError(f"sources.{self.name}.options.posts: must be at least 1")
        self.session = make_session(self.policy)
        # A header rather than access_token= in the URL: the token never appears in a URL or error.
        self.session.headers["Authorization"] = f"Bearer {self.secrets[self.token]}"
        self.unreadable: dict[str, int] = {}
        self.queries()

    def queries(self) -> list[BrandQuery]:
        return self.account_queries(self.accounts_are)

    # -- what subclasses provide ----------------------------------------------------------------

    @abstractmethod
    def posts(self, account: str, since: datetime, until: datetime | None) -> Iterator[dict[str, Any]]:
        """The account's posts published between ``since`` and ``until``, newest first."""

    @abstractmethod
    def comments(self, post: dict[str, Any], account: str) -> Iterator[Mention]:
        """Comments on one post, newest first."""

    def more_streams(self, account: str, newer_than: datetime) -> list[Iterator[Mention]]:
        return []

    # -- shared ---------------------------------------------------------------------------------

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        account = query.target
        since = newer_than - timedelta(seconds=self.post_age)
        posts = list(islice(self.posts(account, since, older_than), self.max_posts + 1))
        capped = len(posts) > self.max_posts
        streams = [self.comments(post, account) for post in posts[:self.max_posts]]
        streams += self.more_streams(account, newer_than)
        yield from merged_pages(streams, self.unreadable, per_page=PER_PAGE, ceiling=lambda: (
            f"comments are read on the {self.max_posts} newest posts only (options.posts)"
            if capped else None))

    def listing(self, path: str, params: Mapping[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every object of a Graph edge, following its ``paging.cursors.after``."""
        after = None
        cursors_seen: set[str] = set()
        while True:
            data = self.get(path, {**params, "after": after} if after else params, what)
            items = data.get("data") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise SourceError(f"{what}: the answer has no 'data' list")
            for item in items:
                if isinstance(item, dict):
                    yield item
                else:
                    self.unreadable["skipped"] = self.unreadable.get("skipped", 0) + 1
            paging = json_object(data.get("paging"))
            cursors = json_object(paging.get("cursors"))
            after = cursors.get("after")
            if not items or not after or "next" not in paging:
                return
            if not isinstance(after, str) or after in cursors_seen:
                # A cursor handed out before would read the same pages again, for ever.
                log.warning("%s: the Graph API repeated a paging cursor; stopped reading %s", what, path)
                return
            cursors_seen.add(after)

    def get(self, path: str, params: Mapping[str, Any], what: str) -> Any:
        response = self.session.get(f"{self.base_url}/{path}", params=params)
        if response.status_code in (400, 401, 403):
            self._graph_error(response, what)
        check_response(response, what)
        return parse_json(response, what)

    def _graph_error(self, response: Any, what: str) -> None:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        error = error if isinstance(error, dict) else {}
        code, message = error.get("code"), snippet(str(error.get("message") or response.reason))
        if code == 190 or response.status_code == 401:
            raise SourceError(f"{what}: the access token was rejected ({message}); renew "
                              f"{ENV_PREFIX}{self.token} (docs/sources-consumer.md)")
        if code in RATE_LIMITED:
            raise SourceError(f"{what}: rate limited by the Graph API (code {code}): {message}")
        if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
            raise SourceError(f"{what}: the token lacks a permission (code {code}): {message}")
        raise SourceError(f"{what}: Graph API error (HTTP {response.status_code}, code {code}): {message}")

    def comment_stream(self, path: str, params: Mapping[str, Any], what: str,
                       make: Callable[[dict[str, Any]], Mention | bool | None]) -> Iterator[Mention]:
        """Comments of one edge, each page sorted newest first, unreadable ones counted."""
        page: list[Mention] = []
        for item in self.listing(path, params, what):
            mention = make(item)
            if mention is None:
                self.unreadable["skipped"] = self.unreadable.get("skipped", 0) + 1
            elif isinstance(mention, Mention):
                page.append(mention)
            if len(page) >= PER_PAGE:
                yield from sorted(page, key=lambda m: m.created_at, reverse=True)
                page = []
        yield from sorted(page, key=lambda m: m.created_at, reverse=True)


def created(item: dict[str, Any], key: str) -> datetime | None:
    try:
        return parse_datetime(item.get(key))
    except ValueError:
        return None


def first_line(text: object, limit: int = 120) -> str:
    """A post's text as the title of the comments on it."""
    line = str(text or "").strip().split("\n", 1)[0]
    return line[:limit] + ("…" if len(line) > limit else "")


class FacebookCollector(GraphCollector):
    """Comments and replies on the posts of each Page in a brand's ``accounts = { facebook = [...] }``."""

    name: ClassVar[str] = "facebook"
    token: ClassVar[str] = "FACEBOOK_PAGE_TOKEN"
    accounts_are: ClassVar[str] = "Page ids"

    def posts(self, account: str, since: datetime, until: datetime | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"fields": "id,message,created_time,permalink_url", "limit": PER_PAGE,
                                  "since": int(since.timestamp())}
        if until is not None:
            params["until"] = int(until.timestamp()) + 1
        for post in self.listing(f"{account}/posts", params, f"facebook page {account}"):
            when = created(post, "created_time")
            if when is None or not post.get("id"):
                continue
            if when < since:
                return
            yield post

    def comments(self, post: dict[str, Any], account: str) -> Iterator[Mention]:
        # filter=stream: replies too, in one list; reverse_chronological: newest first.
        params = {"fields": "id,message,created_time,from,permalink_url,parent", "limit": PER_PAGE,
                  "filter": "stream", "order": "reverse_chronological"}
        return self.comment_stream(f"{post['id']}/comments", params, f"facebook post {post['id']}",
                                   lambda item: self.to_mention(item, post, account))

    def to_mention(self, item: dict[str, Any], post: dict[str, Any], account: str) -> Mention | bool | None:
        """A comment; None when unreadable; False for the Page's own replies (not a mention)."""
        author = json_object(item.get("from"))
        if str(author.get("id") or "") == account:
            return False
        when, text = created(item, "created_time"), item.get("message")
        if when is None or not item.get("id") or not isinstance(text, str) or not text.strip():
            return None
        parent = json_object(item.get("parent"))
        return Mention(
            source=self.name, external_id=str(item["id"]), text=text, created_at=when, kind="comment",
            author=str(author.get("name") or ""), title=first_line(post.get("message")),
            url=str(item.get("permalink_url") or post.get("permalink_url") or ""),
            parent_id=str(parent.get("id") or post["id"]),
            raw={"id": item["id"], "message": text, "created_time": item.get("created_time"),
                 "from": author.get("name"), "post_id": post["id"], "page_id": account},
        )
