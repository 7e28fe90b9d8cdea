"""Sources of mentions. A new source is one module here plus one line in SOURCES."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collectors.base import Collector

# source name -> "module:Class"; imported only when the source is used.
SOURCES: dict[str, str] = {
    "file": "collectors.file:FileCollector",
    "reddit": "collectors.reddit:RedditCollector",
    "x": "collectors.x:XCollector",
    "bluesky": "collectors.bluesky:BlueskyCollector",
    "hackernews": "collectors.hackernews:HackerNewsCollector",
    "appstore": "collectors.appstore:AppStoreCollector",
    "googleplay": "collectors.googleplay:GooglePlayCollector",
    "rss": "collectors.rss:RssCollector",
    "youtube": "collectors.youtube:YouTubeCollector",
    "mastodon": "collectors.mastodon:MastodonCollector",
    "trustpilot": "collectors.trustpilot:TrustpilotCollector",
    "facebook": "collectors.facebook:FacebookCollector",
    "instagram": "collectors.instagram:InstagramCollector",
}


def collector_class(name: str) -> type[Collector]:
    from monitor.core.registry import resolve

    return resolve(SOURCES, name, "source")  # type: ignore[no-any-return]
