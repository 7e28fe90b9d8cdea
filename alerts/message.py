"""What every channel receives (AlertMessage) and the words its renderings share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from monitor.core.records import AlertKind, source_name, utcnow

# C0/C1 controls (ANSI escapes start with ESC) and bidi overrides that can disguise text.
# What an alert raised by the safety rule (alerts.outbox.triage) says instead of how negative it is.
SAFETY_TEXT = "safety or legal"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Text safe to show in a terminal or log: no control sequences, no direction overrides."""
    return _UNSAFE.sub("", unicodedata.normalize("NFC", text))


def inline(text: object) -> str:
    """A one-line field (author, brand, source, id) for a terminal or log: plain, no line breaks."""
    return " ".join(plain(str(text)).split())


def truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 brand', '2 brands'."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def ago(when: datetime, now: datetime | None = None) -> str:
    """'3 hours ago'; a time ahead of now says so ('2 hours in the future': a clock or time-zone
    mistake in the source or the export), rather than passing for 'just now'."""
    seconds = int(((now or utcnow()) - when).total_seconds())
    ahead = seconds < -60
    seconds = abs(seconds) if ahead else max(0, seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{plural(n, unit)} {'in the future' if ahead else 'ago'}"
    return "just now"


def negativity(score: float | None) -> str:
    """How sure the model is that a post is negative, in words support staff use."""
    if score is None:
        return ""
    if score >= 0.85:
        return "clearly negative"
    if score >= 0.6:
        return "likely negative"
    return "possibly negative"


def figures(engagement: dict[str, int]) -> str:
    """'12,400 followers · 3,100 impressions'; '1 point' for one."""
    return " · ".join(f"{n:,} {name[:-1] if n == 1 and name.endswith('s') else name}"
                      for name, n in engagement.items())


def audience(message: AlertMessage) -> str:
    """The audience a mention had, as its source gave it, or that the source gave none.

    An import's reach column is a follower count; collectors name each figure they give.
    """
    if message.kind not in ("mention", "escalation", "praise"):
        return ""
    return reach_words(message.reach, message.engagement)


def reach_words(reach: int | None, engagement: dict[str, int]) -> str:
    """'reach: 340 points · 12 comments', 'reach 12,400 followers' (an import), or 'no reach given'."""
    if engagement:
        return f"reach: {figures(engagement)}"
    if reach is not None:
        return f"reach {reach:,} followers"
    return "no reach given"


def stars(rating: int | None) -> str:
    """A review's rating as five stars, '★★☆☆☆'."""
    if not rating:
        return ""
    rating = max(1, min(5, rating))
    return "★" * rating + "☆" * (5 - rating)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class CaseStatus:
    """Who did what to an alert's case, and when (stored timestamps, shown in local time)."""

    claimed_by: str | None = None
    claimed_at: str | None = None
    replied_by: str | None = None
    replied_at: str | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    #: how the case was closed (false_positive, thanked, notice_posted, …)
    resolution: str | None = None
    snoozed_until: str | None = None
    escalated_at: str | None = None
    #: a status update posted for the alert's incident: who said so, and when
    notice_posted_by: str | None = None
    notice_posted_at: str | None = None


@dataclass(frozen=True)
class IncidentEvidence:
    """Several people reporting the same problem, as a suggested status notice shows it."""

    count: int = 0
    first_at: str | None = None
    latest_at: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertMessage:
    """Everything a channel needs to show one alert; built by the dispatcher from the store."""

    alert_id: int
    kind: AlertKind
    brand: str
    source: str
    external_id: str
    author: str
    text: str
    url: str
    created_at: datetime
    label: str | None
    negative: float | None
    title: str = ""
    rating: int | None = None
    author_history: dict[str, int] = field(default_factory=dict)
    reply_draft: str = ""
    reach: int | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    group_count: int = 1
    #: the message id of the alert this one is posted under (an incident's first report), on
    #: channels with threads
    reply_to: str | None = None
    status: CaseStatus = field(default_factory=CaseStatus)
    #: why an escalation was raised ("quiet hours", "reach 12,400", "unclaimed for 30 minutes")
    reason: str = ""
    #: the on-call group an escalation pings, from settings (never from mention text)
    on_call: str = ""
    #: the alert's own text where it has no mention (a spike's summary, a notice's suggested post)
    summary: str = ""
    evidence: IncidentEvidence | None = None
    #: when the alert was queued (the outbox row's creation), for finding it after a crash
    queued_at: str | None = None

    def history_line(self) -> str:
        """A short line such as '3rd complaint this week' from the author's mentions of the last 7 days."""
        earlier_neg = self.author_history.get("negative", 0)
        total = sum(self.author_history.values())
        if not total:
            return "first mention from this author"
        if earlier_neg and self.label == "negative":
            return f"{ordinal(earlier_neg + 1)} complaint from this author this week"
        return f"{plural(total, 'earlier mention')} from this author this week"

    @property
    def headline(self) -> str:
        if self.kind == "spike":
            return f"Spike in negative mentions of {self.brand}"
        if self.kind == "escalation" and self.reason.startswith("reach "):
            return f"High-reach negative mention of {self.brand} on {source_name(self.source)}"
        if self.kind == "escalation":
            return f"Unclaimed for too long: negative mention of {self.brand}"
        if self.kind == "notice":
            return f"Several people report the same problem with {self.brand}: suggested status update"
        if self.kind == "praise":
            return f"Praise for {self.brand} on {source_name(self.source)}: say thanks"
        if self.kind == "test":
            return "listenpost test alert"
        if self.reason == SAFETY_TEXT:
            return f"Safety or legal report about {self.brand} on {source_name(self.source)}"
        return f"Negative mention of {self.brand} on {source_name(self.source)}"

    def byline(self) -> str:
        """'author on Source', plain and on one line: the start of the facts line in a terminal or
        an email (Slack escapes its own)."""
        return f"{inline(self.author) or 'unknown author'} on {inline(source_name(self.source))}"

    def facts(self, who: str) -> list[str]:
        """The facts line under an alert's headline, as parts: ``who`` (the author and where,
        already escaped for the channel), the author's history, when, how negative, the
        audience and the stars of a review."""
        parts = [who, self.history_line(), f"posted {ago(self.created_at)}"]
        # A safety report is alerted for its words, however calm it reads: say so instead.
        tone = self.reason if self.kind == "mention" and self.reason else negativity(self.negative)
        return parts + [f for f in (tone, audience(self), stars(self.rating)) if f]
