"""Reddit posts (search, newest first) and comments (subreddit comment listings) through praw."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector
from collectors.http import make_session
from collectors.parsing import from_timestamp, render_query
from monitor.core.config import Settings, Source
from monitor.core.errors import SourceError
from monitor.core.records import Mention, engagement

# Reddit ends every listing after about 1000 items, however far back the posts go.
LISTING_CAP = 1000
PAGE = 100
GONE = {"[deleted]", "[removed]"}


class RedditCollector(RemoteCollector):
    """Searches posts across all or the configured subreddits.

    Reddit's API has no comment search, so comments come from the configured subreddits'
    newest-comments listings and are matched locally; with no subreddits configured
    only posts are searched.
    """

    name: ClassVar[str] = "reddit"
    default_base_url: ClassVar[str] = "https://oauth.reddit.com"
    # 100 requests a minute per OAuth client; praw also reads Reddit's rate-limit headers.
    default_min_interval: ClassVar[float] = 0.6
    option_names: ClassVar[frozenset[str]] = frozenset({"subreddits", "comments", "auth_url"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        import praw

        self.subreddits = self.option("subreddits", [])
        self.comments = self.option("comments", bool(self.subreddits))
        auth_url = self.option("auth_url", "https://www.reddit.com" if not self.source.base_url
                               else self.base_url).rstrip("/")
        self.reddit = praw.Reddit(
            client_id=self.secrets["REDDIT_CLIENT_ID"],
            client_secret=self.secrets["REDDIT_CLIENT_SECRET"],
            user_agent=self.secrets["REDDIT_USER_AGENT"],
            oauth_url=self.base_url, reddit_url=auth_url, timeout=max(1, int(self.source.timeout)),
            check_for_updates=False, check_for_async=False,
            requestor_kwargs={"session": make_session(self.policy)},
        )

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        import prawcore

        subreddit = self.reddit.subreddit("+".join(self.subreddits) or "all")
        counts = {"posts": 0, "comments": 0}
        streams = [self._counted(subreddit.search(render_query(query.query, and_op=" AND ",
                                                               not_prefix="NOT "),
                                                  sort="new", time_filter="all", limit=None),
                                 counts, "posts")]
        if self.comments:
            streams.append(self._counted(subreddit.comments(limit=None), counts, "comments"))
        merged = heapq.merge(*streams, key=lambda item: item[0], reverse=True)
        try:
            while True:
                chunk = list(islice(merged, PAGE))
                mentions = [m for _, m in chunk if m is not None]
                capped = [k for k, n in counts.items() if n >= LISTING_CAP]
                ceiling = (f"Reddit {' and '.join(capped)} listings end after {LISTING_CAP} items"
                           if capped and len(chunk) < PAGE else None)
                yield Page(mentions, skipped=len(chunk) - len(mentions), ceiling=ceiling)
                if len(chunk) < PAGE:
                    return
        except (prawcore.OAuthException, prawcore.Forbidden) as exc:
            raise self.rejected(exc) from None
        except prawcore.ResponseException as exc:
            if exc.response.status_code == 401:
                raise self.rejected(exc) from None
            raise SourceError(f"reddit: {exc}") from None
        except prawcore.PrawcoreException as exc:
            raise SourceError(f"reddit: {exc}") from None
        except ValueError as exc:  # a cut-off or non-JSON body
            raise SourceError(f"reddit: the response is not valid JSON ({exc})") from None
        except (TypeError, KeyError, AttributeError) as exc:  # praw could not read the listing
            raise SourceError(f"reddit: unreadable listing ({type(exc).__name__}: {exc})") from None

    def _counted(self, items: Iterable[Any], counts: dict[str, int],
                 kind: str) -> Iterator[tuple[datetime, Mention | None]]:
        for item in items:
            counts[kind] += 1
            data = vars(item)  # the listing's fields; getattr would fetch missing ones one by one
            if not isinstance(data.get("created_utc"), int | float):
                continue
            yield from_timestamp(data["created_utc"]), self.to_mention(data, kind)

    def to_mention(self, data: dict[str, Any], kind: str) -> Mention | None:
        """A post or comment as a mention; None when it was deleted or removed."""
        author = data.get("author")
        permalink = str(data.get("permalink") or "")
        common: dict[str, Any] = {
            "source": self.name, "external_id": str(data.get("name") or data.get("id")),
            "created_at": from_timestamp(data["created_utc"]),
            "author": str(author) if author and str(author) not in GONE else "",
            "url": f"https://www.reddit.com{permalink}" if permalink.startswith("/") else permalink,
            "raw": {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | None)},
            "engagement": engagement(points=data.get("score"), comments=data.get("num_comments")),
        }
        if kind == "comments":
            body = str(data.get("body") or "")
            if body.strip() in GONE or not body.strip():
                return None
            return Mention(**common, text=body, kind="comment", title=str(data.get("link_title") or ""),
                           parent_id=str(data.get("parent_id") or "") or None)
        title = str(data.get("title") or "")
        text = str(data.get("selftext") or "")
        if text.strip() in GONE:
            text = ""
        if not (title or text):
            return None
        return Mention(**common, text=text or title, title=title, kind="post")
