"""Frozen records passed between collectors, the pipeline, classifiers and alert channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

# What a mention is where it was posted.
MentionKind = Literal["post", "comment", "review"]
KINDS: tuple[MentionKind, ...] = get_args(MentionKind)
# Why an alert was raised: a mention, its escalation to on-call, a status notice, praise, a spike,
# or `alerts test`.
AlertKind = Literal["mention", "escalation", "notice", "praise", "spike", "test"]
ALERT_KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
# Where an outbox row stands.
AlertStatus = Literal["pending", "sending", "sent", "failed", "suppressed", "skipped"]
ALERT_STATUSES: tuple[AlertStatus, ...] = get_args(AlertStatus)
# Where a person's handling of an alert stands: nobody has it, someone claimed it, it is closed.
Handling = Literal["open", "claimed", "closed"]
HANDLING: tuple[Handling, ...] = get_args(Handling)
# What started a collection run (the runs table's kind).
RunKind = Literal["collect", "import", "backfill", "demo"]
# A classifier's labels, in the order its scores are listed.
LABELS = ("negative", "neutral", "positive")
# The same labels mildest first: a route's min_severity is a point along this order.
LABEL_ORDER = LABELS[::-1]
UNSCORED = "unscored"
# Source names as people write them; a source missing here shows its name capitalised.
SOURCE_NAMES = {
    "appstore": "App Store", "googleplay": "Google Play", "x": "X", "hackernews": "Hacker News",
    "reddit": "Reddit", "bluesky": "Bluesky", "rss": "RSS", "file": "imported file",
}


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source[:1].upper() + source[1:])


def link_name(source: str, url: str | None) -> str:
    """Where a post's link leads, for "Open on …": an imported row's site (twitter.com), not "imported file"."""
    if source == "file" and url:
        from urllib.parse import urlsplit

        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if host:
            return host.removeprefix("www.")
    return source_name(source)


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# The largest figure SQLite stores as an integer: a bigger (or infinite) one is malformed, not an audience.
MAX_REACH = 2**63 - 1


def engagement(**figures: Any) -> dict[str, int]:
    """The audience figures a source gave, in the order given; missing or malformed ones are left out.

    Keys are the words people read ("followers", "points", "helpful votes" as helpful_votes).
    """
    return {name.replace("_", " "): int(value) for name, value in figures.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_REACH}


@dataclass(frozen=True)
class Mention:
    """One post, comment or review that talks about a brand."""

    source: str
    external_id: str
    text: str
    created_at: datetime
    brand: str = ""
    kind: MentionKind = "post"
    author: str = ""
    url: str = ""
    title: str = ""
    language: str | None = None
    rating: int | None = None
    parent_id: str | None = None
    app_version: str | None = None
    country: str | None = None
    # The headline audience figure (followers, points, likes...) where the source gives one; None
    # where it gives none. ``engagement`` names every figure the source gave, headline first.
    reach: int | None = None
    engagement: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    vendor_sentiment: str | None = None  # a monitoring vendor's own verdict, as exported
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        # The key as the store keeps it: cleaned there only, a NUL or lone surrogate in an id made
        # the stored row look "already stored", so it was never classified or alerted.
        for name in ("source", "external_id"):
            value = getattr(self, name)
            if isinstance(value, str) and not (value.isascii() and "\x00" not in value):
                value = value.replace("\x00", "").encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                object.__setattr__(self, name, value)
        if self.kind not in KINDS:
            raise ValueError(f"mention kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.source or not self.external_id:
            raise ValueError("a mention needs a source and an external id")
        object.__setattr__(self, "created_at", ensure_utc(self.created_at))
        if self.reach is not None and not (isinstance(self.reach, int) and 0 <= self.reach <= MAX_REACH):
            object.__setattr__(self, "reach", None)  # a malformed figure is no reach: none is claimed
        if self.reach is None and self.engagement:
            object.__setattr__(self, "reach", next(iter(self.engagement.values())))

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.external_id)


@dataclass(frozen=True)
class Classification:
    """A model's verdict on one mention; label is ``unscored`` for uncovered languages."""

    source: str
    external_id: str
    model: str
    label: str
    negative: float | None
    neutral: float | None
    positive: float | None
    classified_at: datetime = field(default_factory=utcnow)
    # The triage decision (alerts.outbox.triage): worth interrupting a person, and why or why not;
    # None when no decision was taken (a negative then counts as alerted).
    alert: bool | None = None
    reason: str = ""
