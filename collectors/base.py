"""The collector interface: fetch(query, cursor) yields batches of mentions and the cursor after them.

Collectors never touch the database; the pipeline stores each batch and only then saves
its cursor, so a crash can repeat a batch (deduplicated) but never skip one.
"""

from __future__ import annotations

import heapq
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, ClassVar

from monitor.core.config import ENV_PREFIX, Brand, Settings, Source, describe, parse_duration, require_secret
from monitor.core.errors import ConfigError, SourceError
from monitor.core.names import SOURCE_CREDENTIALS
from monitor.core.query import Query, parse_query
from monitor.core.records import Mention, utcnow


@dataclass(frozen=True)
class Window:
    """The time range a backfill asks for; None means "whatever is new since the cursor"."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Batch:
    mentions: list[Mention]
    cursor: str | None = None  # saved after the mentions are stored; None leaves it alone
    skipped: int = 0  # items the source returned that could not be read (reported, not fatal)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BrandQuery:
    """One brand's query as a collector runs it; ``key`` names its cursor."""

    brand: Brand
    query: Query
    target: str = ""  # what is asked for instead of the query text: an app id, a feed URL
    scope: str = ""  # set for backfills, so their progress is kept apart from collect's cursor
    own: bool = False  # the brand's own app, channel or page: every item is a mention, unmatched

    @property
    def key(self) -> str:
        key = f"{self.brand.name}:{self.target or self.query.text}"
        return f"{key}|{self.scope}" if self.scope else key


class Collector(ABC):
    """Base class of every source. Subclasses set ``name`` and implement ``fetch``."""

    name: ClassVar[str]
    #: environment variables (without the LISTENPOST_ prefix) the source needs: its entry in
    #: monitor.core.names.SOURCE_CREDENTIALS, which `config show` and `init` read too
    credentials: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str] = ""
    #: for sources that read the brand's own accounts: what their ids are ("Page ids"), for the
    #: error when a brand lists none; empty for sources that search
    accounts_are: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "credentials" not in cls.__dict__ and "name" in cls.__dict__:
            cls.credentials = SOURCE_CREDENTIALS.get(cls.name, ())

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        self.settings = settings
        self.source = source or settings.source(self.name)
        self.check_options(self.source.options)
        # Checked up front so a source without credentials is skipped before any request.
        self.secrets = {name: require_secret(f"{self.name} source", name) for name in self.credentials}

    @property
    def base_url(self) -> str:
        return (self.source.base_url or self.default_base_url).rstrip("/")

    def queries(self) -> list[BrandQuery]:
        """Every configured brand query; a source may override to ask per app id etc."""
        return [
            BrandQuery(brand, parse_query(text, brand.exclude))
            for brand in self.settings.brands
            for text in brand.queries
        ]

    def account_queries(self, what: str, *, required: bool = True) -> list[BrandQuery]:
        """One query per id in the brands' ``accounts = { NAME = [...] }``: their own channel or page."""
        from monitor.core.query import Term

        found = []
        for brand in self.settings.brands:
            for account in brand.accounts.get(self.name, []):
                if not _ACCOUNT_ID.fullmatch(account):  # it becomes part of a request path
                    raise ConfigError(f"brand {brand.name!r}: accounts.{self.name}: {account!r} is not "
                                      "an id (letters, digits, '_', '-' and '.')")
                found.append(BrandQuery(brand, Query(account, Term(brand.name)), target=account, own=True))
        if required and not found:
            raise ConfigError(f"{self.name}: no {what}; list them in a brand's "
                              f"accounts = {{ {self.name} = [...] }}")
        return found

    @classmethod
    def usage(cls, settings: Settings) -> str | None:
        """A line for `listenpost sources` on what a run costs of the API's quota; None: no quota."""
        return None

    @abstractmethod
    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        """Yield batches of mentions, oldest cursor first, each with the cursor after it."""

    #: source-specific keys allowed under [sources.NAME.options]
    option_names: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> None:
        """A misspelled option would be ignored and its default used: refuse it instead."""
        allowed = cls.option_names | REMOTE_OPTIONS
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ConfigError(f"sources.{cls.name}.options.{unknown[0]}: unknown option "
                              f"(known: {', '.join(sorted(allowed))})")

    def option(self, key: str, default: Any) -> Any:
        """An option of this source, checked against the default's type; errors name the key."""
        value = self.source.options.get(key, default)
        where = f"sources.{self.name}.options.{key}"
        if isinstance(default, float) and not isinstance(default, bool):
            try:
                return parse_duration(value)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        if isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise ConfigError(f"{where}: expected a list of strings, got {describe(value)}")
            return value
        if not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ConfigError(f"{where}: expected {type(default).__name__}, got {describe(value)}")
        return value

    def rejected(self, detail: object) -> SourceError:
        """The error for credentials the API refused; names the variables to check."""
        names = ", ".join(ENV_PREFIX + c for c in self.credentials)
        return SourceError(f"{self.name}: the credentials were rejected ({detail}); check {names}")


_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")

# Options every remote source understands (seconds, or durations such as "10m").
REMOTE_OPTIONS = frozenset({"lookback", "overlap", "backoff", "max_wait", "min_interval"})


@dataclass(frozen=True)
class Page:
    """One answer of a newest-first source, in the order the source gave it."""

    mentions: list[Mention]
    skipped: int = 0
    #: set on the last page when the source's own ceiling ended the listing early
    ceiling: str | None = None


class RemoteCollector(Collector):
    """A source read newest first over HTTP. Cursors, windows, local matching and dedupe live here.

    Subclasses implement ``pages``. ``collect`` (no window) reads back to the newest mention
    seen last time, less an overlap for late-indexed posts, and saves that high-water mark
    only after the last page is stored. A backfill (a window) walks from ``until`` back to
    ``since`` and saves how far it got after every page, so a rerun resumes there.
    """

    #: how far back the very first collect looks
    default_lookback: ClassVar[float] = 86400.0
    #: the source's documented rate limit, as seconds between requests
    default_min_interval: ClassVar[float] = 0.0
    #: review sources take every item; search sources re-check the query locally
    match_locally: ClassVar[bool] = True

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        from collectors.http import RetryPolicy

        self.lookback = self.option("lookback", self.default_lookback)
        self.overlap = self.option("overlap", 600.0)
        self.policy = RetryPolicy(
            what=self.name, timeout=self.source.timeout, retries=max(0, self.source.max_retries),
            backoff=self.option("backoff", 1.0), max_wait=self.option("max_wait", 60.0),
            min_interval=self.option("min_interval", self.default_min_interval),
        )

    @abstractmethod
    def pages(self, query: BrandQuery, newer_than: datetime, older_than: datetime | None,
              state: dict[str, Any]) -> Iterator[Page]:
        """Pages newest first. Use the bounds in the API request where it can; the base
        filters again. ``state`` is kept in the collect cursor for source-specific marks."""

    #: why ``earliest`` is where it is, as the coverage report says it
    earliest_reason: ClassVar[str] = ""

    def earliest(self) -> datetime | None:
        """The oldest time the source can search at all, where it has such a ceiling."""
        return None

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        if query is None:
            return
        state = _load_state(cursor)
        if window.since is None:
            yield from self._collect(query, state)
        else:
            yield from self._backfill(query, state, window)

    def _collect(self, query: BrandQuery, state: dict[str, Any]) -> Iterator[Batch]:
        now = utcnow()
        newest = _parse(state.get("newest"))
        if newest is not None and newest > now:  # saved by a version that took future dates as it
            newest = now
        newer_than = newest - timedelta(seconds=self.overlap) if newest else now - timedelta(
            seconds=self.lookback)
        seen: set[tuple[str, str]] = set()
        high = newest
        for page in self.pages(query, newer_than, None, state):
            dates = [m.created_at for m in page.mentions]
            if dates:
                # A date ahead of now (a clock or a hostile answer: year 9999) is no high-water
                # mark: the next collect would start after it and drop everything until then.
                clamped = [min(d, now) for d in dates]
                high = max(high or clamped[0], *clamped)
            yield Batch(self._keep(query, page.mentions, newer_than, None, seen), skipped=page.skipped)
            if dates and min(dates) < newer_than:
                break
        state["newest"] = (high or newer_than).isoformat()
        yield Batch([], cursor=json.dumps(state))

    def _backfill(self, query: BrandQuery, state: dict[str, Any], window: Window) -> Iterator[Batch]:
        if state.get("done"):
            return
        assert window.since is not None
        until = window.until or utcnow()
        since = window.since
        earliest = self.earliest()
        if earliest is not None and since < earliest:
            state["gap"] = (f"{self.earliest_reason}: {_day(since)}..{_day(min(earliest, until))} "
                            "not covered")
            since = earliest
        resumed_at = _parse(state.get("reached"))
        reached = resumed_at or until
        seen: set[tuple[str, str]] = set()
        ceiling = None
        # A window wholly beyond the source's reach is done at once, gap stated.
        pages = self.pages(query, since, reached, {}) if since < reached else iter(())
        for page in pages:
            kept = self._keep(query, page.mentions, since, reached, seen)
            kept = [m for m in kept if m.created_at < until]
            if kept:
                # Mentions at the resume point were stored and counted by the run before.
                state["count"] = state.get("count", 0) + sum(
                    resumed_at is None or m.created_at < resumed_at for m in kept)
                first = [_parse(state.get("oldest")), *(m.created_at for m in kept)]
                last = [_parse(state.get("newest")), *(m.created_at for m in kept)]
                state["oldest"] = min(d for d in first if d).isoformat()
                state["newest"] = max(d for d in last if d).isoformat()
            dates = [m.created_at for m in page.mentions]
            if dates:
                reached = min(reached, *dates)
                state["reached"] = reached.isoformat()
            ceiling = page.ceiling
            yield Batch(kept, cursor=json.dumps(state), skipped=page.skipped)
            if dates and reached < since:
                break
        if ceiling and reached > since:
            gap = f"{ceiling}: {_day(since)}..{_day(reached)} not covered"
            state["gap"] = f"{state['gap']}; {gap}" if state.get("gap") else gap
        state["done"] = True
        yield Batch([], cursor=json.dumps(state), notes=[f"{query.key}: {state['gap']}"]
                    if state.get("gap") else [])

    def _keep(self, query: BrandQuery, mentions: list[Mention], newer_than: datetime,
              older_than: datetime | None, seen: set[tuple[str, str]]) -> list[Mention]:
        """The page's mentions inside the window that match the query, each once, with the brand."""
        out = []
        for m in mentions:
            if m.created_at < newer_than or (older_than is not None and m.created_at > older_than):
                continue
            if m.key in seen:
                continue
            if self.match_locally and not query.own and not query.query.matches(f"{m.title}\n{m.text}"):
                continue
            seen.add(m.key)
            out.append(m if m.brand else replace(m, brand=query.brand.name))
        return out


class AppReviewsCollector(RemoteCollector):
    """A store's reviews of the brands' apps: one query per app and locale, every review a mention."""

    match_locally: ClassVar[bool] = False  # a review of the brand's app is a mention as it is

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        super().__init__(settings, source)
        self.countries = [c.lower() for c in self.option("countries", ["us"])]
        if not self.queries():
            raise ConfigError(f"{self.name}: no app ids; list them in a brand's "
                              f"apps = {{ {self.name} = [...] }}")

    def locales(self) -> list[str]:
        """Where reviews are read; each becomes the part of a query's target after the '@'."""
        return self.countries

    def queries(self) -> list[BrandQuery]:
        from monitor.core.query import Term

        return [
            BrandQuery(brand, Query(app_id, Term(brand.name)), target=f"{app_id}@{locale}")
            for brand in self.settings.brands
            for app_id in brand.apps.get(self.name, [])
            for locale in self.locales()
        ]


def merged_pages(streams: Iterable[Iterator[Mention]], unreadable: dict[str, int], *,
                 per_page: int = 100, ceiling: Callable[[], str | None] = lambda: None) -> Iterator[Page]:
    """Newest-first streams (a page's posts, each video's comments) merged into newest-first pages.

    Streams count items they cannot read in ``unreadable["skipped"]``; ``ceiling`` is asked at
    the end for the limit that cut the listing short, if one did.
    """
    merged = heapq.merge(*streams, key=lambda m: m.created_at, reverse=True)
    while True:
        chunk = list(islice(merged, per_page))
        last = len(chunk) < per_page
        yield Page(chunk, skipped=unreadable.pop("skipped", 0), ceiling=ceiling() if last else None)
        if last:
            return


def coverage(cursor: str | None) -> dict[str, Any]:
    """What a backfill cursor says it covered: oldest, newest, count, gap, done."""
    return _load_state(cursor)


def walked(cursor: str | None, since: datetime, until: datetime) -> float:
    """How much of the window ``since``..``until`` a backfill cursor has walked back through, 0 to 1."""
    state = _load_state(cursor)
    if state.get("done"):
        return 1.0
    reached = _parse(state.get("reached")) or until
    span = (until - since).total_seconds() or 1.0
    return min(1.0, max(0.0, (until - reached).total_seconds() / span))


def _load_state(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
