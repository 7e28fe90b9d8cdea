"""YouTube comments through the Data API v3 (google-api-python-client) with an API key.

Two kinds of query: every comment on the videos of a brand's own channel
(``commentThreads.list`` with ``allThreadsRelatedToChannelId``), and comments on videos that
``search.list`` finds for a brand's queries. The API has a daily unit quota; each run spends at
most its share of ``quota_budget`` and says so when that cut it short.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from collectors.base import BrandQuery, Page, RemoteCollector, merged_pages, render_query
from collectors.http import call_with_retries, snippet
from monitor.config import Settings, Source
from monitor.errors import ConfigError, SourceError
from monitor.query import parse_query
from monitor.records import Mention
from monitor.textfile import parse_datetime

log = logging.getLogger(__name__)

DAY = 86400.0
DEFAULT_QUOTA = 10_000  # units a day a new Google Cloud project gets
COSTS = {"search": 100, "commentThreads": 1, "videos": 1}
VIDEOS_PER_SEARCH = 50  # search.list's most results per page
PER_PAGE = 100  # commentThreads.list's most results per page


def _transient(exc: Exception) -> Mapping[str, str] | None:
    """Headers of a failure worth retrying (429, 5xx, no answer); None for the rest."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError) and (exc.status_code == 429 or exc.status_code >= 500):
        return dict(exc.resp)
    if isinstance(exc, socket.timeout | ConnectionError | OSError) and not isinstance(exc, HttpError):
        return {}
    return None


def _reason(exc: Any) -> str:
    """The API's reason code of an error (quotaExceeded, keyInvalid, commentsDisabled...)."""
    try:
        errors = json.loads(exc.content.decode("utf-8"))["error"]["errors"]
        return str(errors[0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


class YouTubeCollector(RemoteCollector):
    name: ClassVar[str] = "youtube"
    credentials: ClassVar[tuple[str, ...]] = ("YOUTUBE_API_KEY",)
    default_base_url: ClassVar[str] = "https://youtube.googleapis.com"
    option_names: ClassVar[frozenset[str]] = frozenset({"quota_budget", "search", "video_age"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        import httplib2
        from googleapiclient.discovery import build

        self.quota_budget = self.option("quota_budget", DEFAULT_QUOTA)
        if self.quota_budget < 1:
            raise ConfigError("sources.youtube.options.quota_budget: must be at least 1 unit a day")
        self.search = self.option("search", True)
        self.video_age = self.option("video_age", 7 * DAY)
        # The discovery document shipped with the library: building the client asks no server.
        self.client = build(
            "youtube", "v3", developerKey=self.secrets["YOUTUBE_API_KEY"], static_discovery=True,
            http=httplib2.Http(timeout=self.source.timeout), cache_discovery=False,
            client_options={"api_endpoint": self.base_url + "/"},
        )
        self.titles: dict[str, str] = {}
        self.unreadable: dict[str, int] = {}

    def queries(self) -> list[BrandQuery]:
        channels = self.account_queries("channel ids", required=False)
        if not self.search:
            return channels
        return channels + [BrandQuery(brand, parse_query(text, brand.exclude))
                           for brand in self.settings.brands for text in brand.queries]

    @classmethod
    def usage(cls, settings: Settings) -> str | None:
        source = settings.source(cls.name)
        options = source.options
        quota = options.get("quota_budget", DEFAULT_QUOTA)
        quota = quota if isinstance(quota, int) and not isinstance(quota, bool) and quota > 0 \
            else DEFAULT_QUOTA
        channels = sum(len(b.accounts.get(cls.name, [])) for b in settings.brands)
        searches = sum(len(b.queries) for b in settings.brands) if options.get("search", True) else 0
        estimate = channels * 2 + searches * (COSTS["search"] + VIDEOS_PER_SEARCH)
        budget = run_budget(quota, source.interval)
        line = (f"quota: about {estimate} units a run ({channels} channels at ~2, {searches} searches at "
                f"100 plus ~1 per video); budget {budget} units a run ({quota} a day, "
                f"a run every {source.interval / 60:g} min)")
        if estimate > budget:
            line += "; over budget: lengthen the interval, raise quota_budget or set search = false"
        return line

    # -- paging ---------------------------------------------------------------------------------

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        per_run = self.quota_budget if older_than is not None else run_budget(
            self.quota_budget, self.source.interval)
        budget = {"left": max(1, per_run // max(1, len(self.queries())))}
        cut: list[str] = []
        if query.own:
            streams = [self._threads({"allThreadsRelatedToChannelId": query.target}, budget, cut)]
        else:
            streams = [self._threads({"videoId": vid}, budget, cut, title)
                       for vid, title in self._videos(query, newer_than, older_than, budget, cut)]
        yield from merged_pages(streams, self.unreadable, per_page=PER_PAGE, ceiling=lambda: (
            "; ".join(dict.fromkeys(cut)) or None))
        if cut and older_than is None:
            log.warning("youtube: %s: %s", query.key, "; ".join(dict.fromkeys(cut)))

    def _videos(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
                budget: dict[str, int], cut: list[str]) -> list[tuple[str, str]]:
        """Videos the search finds, published up to video_age before the window."""
        if not self._spend("search", budget, cut):
            return []
        params: dict[str, Any] = {
            "part": "snippet", "type": "video", "order": "date", "maxResults": VIDEOS_PER_SEARCH,
            "q": render_query(query.query).replace(" OR ", " | "),
            "publishedAfter": _rfc3339(newer_than - timedelta(seconds=self.video_age)),
        }
        if older_than is not None:
            params["publishedBefore"] = _rfc3339(older_than + timedelta(seconds=1))
        data = self._call(self.client.search().list(**params), "search")
        found = []
        for item in _items(data, "search"):
            video = item.get("id") if isinstance(item.get("id"), dict) else {}
            snippet_ = item.get("snippet") if isinstance(item.get("snippet"), dict) else {}
            if isinstance(video.get("videoId"), str):
                title = str(snippet_.get("title") or "")
                self.titles[video["videoId"]] = title
                found.append((video["videoId"], title))
        if data.get("nextPageToken"):
            cut.append(f"search reads the {VIDEOS_PER_SEARCH} newest matching videos a run")
        return found

    def _threads(self, where: dict[str, str], budget: dict[str, int], cut: list[str],
                 title: str | None = None) -> Iterator[Mention]:
        """Top-level comments newest first, for one video or all of a channel's videos."""
        token = None
        while self._spend("commentThreads", budget, cut):
            params = {"part": "snippet", "order": "time", "maxResults": PER_PAGE,
                      "textFormat": "plainText", **where}
            if token:
                params["pageToken"] = token
            data = self._call(self.client.commentThreads().list(**params), "commentThreads",
                              disabled_ok="videoId" in where)
            items = _items(data, "commentThreads")
            if title is None:
                self._fetch_titles(items, budget, cut)
            for item in items:
                mention = self.to_mention(item, title)
                if mention is None:
                    self.unreadable["skipped"] = self.unreadable.get("skipped", 0) + 1
                else:
                    yield mention
            token = data.get("nextPageToken")
            if not token or not items:
                return

    def _fetch_titles(self, items: list[dict[str, Any]], budget: dict[str, int], cut: list[str]) -> None:
        wanted = sorted({v for v in (_video_id(i) for i in items) if v and v not in self.titles})
        for start in range(0, len(wanted), 50):  # videos.list takes at most 50 ids
            if not self._spend("videos", budget, cut):
                return
            data = self._call(self.client.videos().list(part="snippet", id=",".join(wanted[start:start + 50]),
                                                        maxResults=50), "videos")
            for item in _items(data, "videos"):
                snippet_ = item.get("snippet") if isinstance(item.get("snippet"), dict) else {}
                if isinstance(item.get("id"), str):
                    self.titles[item["id"]] = str(snippet_.get("title") or "")

    def _spend(self, method: str, budget: dict[str, int], cut: list[str]) -> bool:
        if budget["left"] < COSTS[method]:
            cut.append(f"the run's share of quota_budget ({self.quota_budget} units a day) was spent")
            return False
        budget["left"] -= COSTS[method]
        return True

    def _call(self, request: Any, method: str, *, disabled_ok: bool = False) -> dict[str, Any]:
        from googleapiclient.errors import HttpError

        what = f"youtube {method}.list"
        try:
            data = call_with_retries(self.policy, request.execute, _transient)
        except HttpError as exc:
            reason, status = _reason(exc), exc.status_code
            if disabled_ok and reason in ("commentsDisabled", "videoNotFound"):
                return {"items": []}
            if reason in ("keyInvalid", "keyExpired") or status == 401 or (
                    status == 400 and "API key" in exc.reason):
                raise self.rejected(f"{reason or status}: {snippet(exc.reason)}") from None
            if reason in ("quotaExceeded", "dailyLimitExceeded"):
                raise SourceError(f"{what}: the API key's daily quota is spent (quotaExceeded); it "
                                  "resets at midnight Pacific time; lower quota_budget to stay inside it") \
                    from None
            if status == 429:
                raise SourceError(f"{what}: rate limited (HTTP 429) after retries") from None
            raise SourceError(f"{what}: HTTP {status} {reason}: {snippet(exc.reason)}") from None
        except (socket.timeout, ConnectionError, OSError) as exc:
            raise SourceError(f"{what}: no answer from the server ({type(exc).__name__})") from None
        except ValueError as exc:  # a cut-off or non-JSON body
            raise SourceError(f"{what}: the response is not valid JSON ({snippet(str(exc), 80)})") from None
        if not isinstance(data, dict):
            raise SourceError(f"{what}: unreadable answer (not a JSON object)")
        return data

    def to_mention(self, item: dict[str, Any], title: str | None) -> Mention | None:
        snippet_ = item.get("snippet") if isinstance(item.get("snippet"), dict) else {}
        top = snippet_.get("topLevelComment") if isinstance(snippet_.get("topLevelComment"), dict) else {}
        comment = top.get("snippet") if isinstance(top.get("snippet"), dict) else {}
        text = comment.get("textOriginal") or comment.get("textDisplay")
        video = _video_id(item)
        try:
            created_at = parse_datetime(comment.get("publishedAt"))
        except ValueError:
            return None
        if not isinstance(item.get("id"), str) or not isinstance(text, str) or not text.strip() or not video:
            return None
        return Mention(
            source=self.name, external_id=item["id"], text=text, created_at=created_at, kind="comment",
            author=str(comment.get("authorDisplayName") or "").removeprefix("@"),
            title=title if title is not None else self.titles.get(video, ""),
            url=f"https://www.youtube.com/watch?v={video}&lc={item['id']}", parent_id=video,
            raw={"id": item["id"], "videoId": video, "channelId": snippet_.get("channelId"), "text": text,
                 "publishedAt": comment.get("publishedAt"), "likeCount": comment.get("likeCount"),
                 "totalReplyCount": snippet_.get("totalReplyCount")},
        )


def run_budget(quota: int, interval: float) -> int:
    """Units one collect run may spend: the day's budget shared by the runs a day at ``interval``."""
    return max(1, int(quota * min(1.0, interval / DAY)))


def _items(data: dict[str, Any], method: str) -> list[dict[str, Any]]:
    items = data.get("items")
    if not isinstance(items, list):
        raise SourceError(f"youtube {method}.list: the answer has no 'items' list")
    return [i for i in items if isinstance(i, dict)]


def _video_id(item: dict[str, Any]) -> str:
    snippet_ = item.get("snippet") if isinstance(item.get("snippet"), dict) else {}
    video = snippet_.get("videoId")
    return video if isinstance(video, str) else ""


def _rfc3339(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")

