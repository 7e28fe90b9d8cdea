"""YouTube comments through the Data API v3 (google-api-python-client) with an API key.

Two kinds of query: every comment on the videos of a brand's own channel
(``commentThreads.list`` with ``allThreadsRelatedToChannelId``), and comments on videos that
``search.list`` finds for a brand's queries. The API has a daily unit quota; each run spends at
most its share of ``quota_budget`` and says so when that cut it short.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from collectors.base import BrandQuery, Page, RemoteCollector, merged_pages
from collectors.http import call_with_retries, snippet
from collectors.parsing import json_object, render_query
from monitor.core.config import Settings, Source, parse_duration
from monitor.core.errors import ConfigError, SourceError
from monitor.core.query import parse_query
from monitor.core.records import Mention, utcnow
from monitor.core.values import parse_datetime

log = logging.getLogger(__name__)
# The client's debug log prints every request URL, the API key in it included: never below INFO.
logging.getLogger("googleapiclient.discovery").setLevel(logging.INFO)

DAY = 86400.0
PACIFIC = ZoneInfo("America/Los_Angeles")  # the quota day ends at midnight Pacific time
DEFAULT_QUOTA = 10_000  # units a day a new Google Cloud project gets
COSTS = {"search": 100, "commentThreads": 1, "videos": 1}
VIDEOS_PER_SEARCH = 50  # search.list's most results per page
PER_PAGE = 100  # commentThreads.list's most results per page


def _transient(exc: Exception) -> Mapping[str, str] | None:
    """Headers of a failure worth retrying (429, 5xx, no answer); None for the rest."""
    import httplib2
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError) and (exc.status_code == 429 or exc.status_code >= 500):
        return dict(exc.resp)
    if isinstance(exc, TimeoutError | ConnectionError | OSError | httplib2.HttpLib2Error):
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
    default_base_url: ClassVar[str] = "https://youtube.googleapis.com"
    option_names: ClassVar[frozenset[str]] = frozenset({"quota_budget", "search", "search_every", "video_age"})

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        import httplib2
        from googleapiclient.discovery import build

        self.quota_budget = self.option("quota_budget", DEFAULT_QUOTA)
        if self.quota_budget < 1:
            raise ConfigError("sources.youtube.options.quota_budget: must be at least 1 unit a day")
        self.search = self.option("search", True)
        self.video_age = self.option("video_age", 7 * DAY)
        self.search_every = self.option("search_every", 6 * 3600.0)
        # The discovery document shipped with the library: building the client asks no server.
        self.client = build(
            "youtube", "v3", developerKey=self.secrets["YOUTUBE_API_KEY"], static_discovery=True,
            http=httplib2.Http(timeout=self.source.timeout), cache_discovery=False,
            client_options={"api_endpoint": self.base_url + "/"},
        )
        self.titles: dict[str, str] = {}
        self.unreadable: dict[str, int] = {}
        # The brands' own channels: their comments (answers to customers) are not mentions.
        self.own_channels = {c for brand in settings.brands for c in brand.accounts.get(self.name, [])}

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

        def number(key: str, default: float) -> float:
            value = options.get(key, default)
            try:
                return parse_duration(value) or default
            except ValueError:
                return default

        quota, search_every = int(number("quota_budget", DEFAULT_QUOTA)), number("search_every", 6 * 3600)
        runs = DAY / max(source.interval, 60.0)
        channels = sum(len(b.accounts.get(cls.name, [])) for b in settings.brands)
        searches = sum(len(b.queries) for b in settings.brands) if options.get("search", True) is not False else 0
        per_search = DAY / search_every * COSTS["search"] + runs * VIDEOS_PER_SEARCH
        estimate = round(channels * runs * 2 + searches * per_search)
        line = (f"quota: up to about {estimate} units a day of {quota} budgeted ({_count(channels, 'channel')} "
                f"at ~2 units a run; {_count(searches, 'search', 'searches')} at 100 units every "
                f"{search_every / 3600:g}h plus 1 per video found; a run every {source.interval / 60:g} min)")
        if estimate > quota:
            line += ("; over budget: a query stops when its share is spent, until midnight Pacific time; "
                     "lengthen the interval or search_every, or set search = false")
        return line

    # -- paging ---------------------------------------------------------------------------------

    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        # Each query gets an equal share of the day's budget; a collect's spend is kept in its
        # cursor, so it holds across runs and processes until the quota day ends (Pacific time).
        day = datetime.now(PACIFIC).date().isoformat()
        if not isinstance(state.get("quota"), dict) or state["quota"].get("day") != day:
            state["quota"] = {"day": day, "spent": 0}
        budget = {"share": max(1, self.quota_budget // max(1, len(self.queries()))), "spent": state["quota"]}
        cut: list[str] = []
        if query.own:
            streams = [self._threads({"allThreadsRelatedToChannelId": query.target}, budget, cut)]
        else:
            streams = [self._threads({"videoId": vid}, budget, cut, title)
                       for vid, title in self._videos(query, newer_than, older_than, budget, cut, state)]
        yield from merged_pages(streams, self.unreadable, per_page=PER_PAGE, ceiling=lambda: (
            "; ".join(dict.fromkeys(cut)) or None))
        if cut and older_than is None:
            log.warning("youtube: %s: %s", query.key, "; ".join(dict.fromkeys(cut)))

    def _videos(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
                budget: dict[str, Any], cut: list[str], state: dict[str, Any]) -> list[tuple[str, str]]:
        """Videos the search finds, published up to video_age before the window.

        A collect searches again only every ``search_every`` (a search costs 100 units) and
        reads comments on the videos found last time in between.
        """
        cached = json_object(state.get("videos"))
        try:
            found_at = parse_datetime(cached.get("at"))
        except ValueError:
            found_at = None
        if older_than is None and found_at and utcnow() - found_at < timedelta(seconds=self.search_every):
            return [(str(v), str(t)) for v, t in cached.get("found", []) if isinstance(v, str)]
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
            video = json_object(item.get("id"))
            snippet_ = json_object(item.get("snippet"))
            if isinstance(video.get("videoId"), str):
                # search.list gives titles HTML-escaped ("It&#39;s", "&amp;"); videos.list does not.
                title = html.unescape(str(snippet_.get("title") or ""))
                self.titles[video["videoId"]] = title
                found.append((video["videoId"], title))
        if data.get("nextPageToken"):
            cut.append(f"search reads the {VIDEOS_PER_SEARCH} newest matching videos a run")
        state["videos"] = {"at": utcnow().isoformat(), "found": found}
        return found

    def _threads(self, where: dict[str, str], budget: dict[str, Any], cut: list[str],
                 title: str | None = None) -> Iterator[Mention]:
        """Top-level comments newest first, for one video or all of a channel's videos."""
        token = None
        tokens_seen: set[str] = set()
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
                if _author_channel(item) in self.own_channels:
                    continue
                mention = self.to_mention(item, title)
                if mention is None:
                    self.unreadable["skipped"] = self.unreadable.get("skipped", 0) + 1
                else:
                    yield mention
            token = data.get("nextPageToken")
            if not token or not items:
                return
            if not isinstance(token, str) or token in tokens_seen:
                # A token handed out before would spend the query's share on the same pages again.
                log.warning("youtube: commentThreads.list repeated a page token; stopped reading %s",
                            next(iter(where.values()), ""))
                return
            tokens_seen.add(token)

    def _fetch_titles(self, items: list[dict[str, Any]], budget: dict[str, Any], cut: list[str]) -> None:
        wanted = sorted({v for v in (_video_id(i) for i in items) if v and v not in self.titles})
        for start in range(0, len(wanted), 50):  # videos.list takes at most 50 ids
            if not self._spend("videos", budget, cut):
                return
            data = self._call(self.client.videos().list(part="snippet", id=",".join(wanted[start:start + 50]),
                                                        maxResults=50), "videos")
            for item in _items(data, "videos"):
                snippet_ = json_object(item.get("snippet"))
                if isinstance(item.get("id"), str):
                    self.titles[item["id"]] = str(snippet_.get("title") or "")

    def _spend(self, method: str, budget: dict[str, Any], cut: list[str]) -> bool:
        spent = budget["spent"]
        if spent["spent"] + COSTS[method] > budget["share"]:
            cut.append(f"this query's share of quota_budget ({budget['share']} of {self.quota_budget} "
                       "units a day) is spent until midnight Pacific time")
            return False
        spent["spent"] += COSTS[method]
        return True

    def _call(self, request: Any, method: str, *, disabled_ok: bool = False) -> dict[str, Any]:
        import httplib2
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
        except (TimeoutError, ConnectionError, OSError, httplib2.HttpLib2Error) as exc:
            raise SourceError(f"{what}: no answer from the server ({type(exc).__name__})") from None
        except ValueError as exc:  # a cut-off or non-JSON body
            raise SourceError(f"{what}: the response is not valid JSON ({snippet(str(exc), 80)})") from None
        if isinstance(data, str):  # the client hands back a body it could not parse as it is
            raise SourceError(f"{what}: the response is not valid JSON ({len(data)} characters, "
                              "truncated or malformed)")
        if not isinstance(data, dict):
            raise SourceError(f"{what}: unreadable answer (not a JSON object)")
        return data

    def to_mention(self, item: dict[str, Any], title: str | None) -> Mention | None:
        snippet_ = json_object(item.get("snippet"))
        top = json_object(snippet_.get("topLevelComment"))
        comment = json_object(top.get("snippet"))
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


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _items(data: dict[str, Any], method: str) -> list[dict[str, Any]]:
    items = data.get("items")
    if not isinstance(items, list):
        raise SourceError(f"youtube {method}.list: the answer has no 'items' list")
    return [i for i in items if isinstance(i, dict)]


def _author_channel(item: dict[str, Any]) -> str:
    comment = json_object(json_object(json_object(item.get("snippet")).get("topLevelComment")).get("snippet"))
    author = json_object(comment.get("authorChannelId")).get("value")
    return author if isinstance(author, str) else ""


def _video_id(item: dict[str, Any]) -> str:
    snippet_ = json_object(item.get("snippet"))
    video = snippet_.get("videoId")
    return video if isinstance(video, str) else ""


def _rfc3339(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")

