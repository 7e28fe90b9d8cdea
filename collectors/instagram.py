"""Comments on an Instagram business account's own posts, and posts that tag it, through the Graph API.

Posts that only @mention the account in their caption are announced by Instagram through a
webhook, not listed by any endpoint, so a poller cannot read them (docs/sources-consumer.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from collectors.facebook import PER_PAGE, GraphCollector, created, first_line
from monitor.core.records import Mention


class InstagramCollector(GraphCollector):
    """Each account in a brand's ``accounts = { instagram = [...] }`` (its Instagram user id)."""

    name: ClassVar[str] = "instagram"
    token: ClassVar[str] = "INSTAGRAM_ACCESS_TOKEN"
    accounts_are: ClassVar[str] = "Instagram business account ids"
    option_names: ClassVar[frozenset[str]] = GraphCollector.option_names | {"tags"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags = self.option("tags", True)

    def posts(self, account: str, since: datetime, until: datetime | None) -> Iterator[dict[str, Any]]:
        # username: the account's own, so its replies under its posts are not taken for mentions
        params = {"fields": "id,caption,timestamp,permalink,comments_count,username", "limit": PER_PAGE}
        for post in self.listing(f"{account}/media", params, f"instagram account {account}"):
            when = created(post, "timestamp")
            if when is None or not post.get("id"):
                continue
            if when < since:
                return
            if until is not None and when > until:
                continue
            if post.get("comments_count") != 0:  # a post known to have no comments costs no call
                yield post

    def comments(self, post: dict[str, Any], account: str) -> Iterator[Mention]:
        params = {"fields": "id,text,timestamp,username,like_count", "limit": PER_PAGE}
        return self.comment_stream(f"{post['id']}/comments", params, f"instagram post {post['id']}",
                                   lambda item: self.comment(item, post))

    def more_streams(self, account: str, newer_than: datetime) -> list[Iterator[Mention]]:
        if not self.tags:
            return []
        params = {"fields": "id,caption,timestamp,permalink,username", "limit": PER_PAGE}
        return [self.comment_stream(f"{account}/tags", params, f"instagram tags of {account}", self.tagged)]

    def comment(self, item: dict[str, Any], post: dict[str, Any]) -> Mention | bool | None:
        """A comment; None when unreadable; False for the account's own replies (not a mention)."""
        if post.get("username") and item.get("username") == post.get("username"):
            return False
        when, text = created(item, "timestamp"), item.get("text")
        if when is None or not item.get("id") or not isinstance(text, str) or not text.strip():
            return None
        return Mention(
            source=self.name, external_id=str(item["id"]), text=text, created_at=when, kind="comment",
            author=str(item.get("username") or ""), title=first_line(post.get("caption")),
            url=str(post.get("permalink") or ""), parent_id=str(post["id"]),
            raw={"id": item["id"], "text": text, "timestamp": item.get("timestamp"),
                 "username": item.get("username"), "media_id": post["id"]},
        )

    def tagged(self, item: dict[str, Any]) -> Mention | None:
        """A post by someone else that tags the account; its caption is the text."""
        when, caption = created(item, "timestamp"), item.get("caption")
        if when is None or not item.get("id") or not isinstance(caption, str) or not caption.strip():
            return None
        return Mention(
            source=self.name, external_id=str(item["id"]), text=caption, created_at=when, kind="post",
            author=str(item.get("username") or ""), url=str(item.get("permalink") or ""),
            raw={k: item.get(k) for k in ("id", "caption", "timestamp", "permalink", "username")},
        )
