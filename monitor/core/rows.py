"""Frozen records the store returns: outbox rows, runs, jobs, and the aggregates reports read.

Timestamps stay in the store's text form (``monitor.store.ts``: UTC ISO 8601, sortable) where
they are shown or compared as stored; ``Mention`` and ``Classification`` live in records.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from monitor.core.records import AlertKind, AlertStatus, MentionKind, RunKind

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[str, Any], **override: Any) -> T:
    """A record from a row of named columns; columns the record does not name are left out."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in {**row, **override}.items() if k in names})


@dataclass(frozen=True)
class OutboxAlert:
    """One row of the alerts outbox: a mention (or notice, praise, escalation) for one channel."""

    id: int
    source: str
    external_id: str
    brand: str
    channel: str
    kind: AlertKind
    status: AlertStatus
    attempts: int
    created_at: str
    next_attempt_at: str | None = None
    last_error: str | None = None
    channel_message_id: str | None = None
    group_key: str | None = None
    sending_since: str | None = None
    sent_at: str | None = None
    claimed_at: str | None = None
    claimed_by: str | None = None
    replied_at: str | None = None
    replied_by: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    resolution: str | None = None
    snoozed_until: str | None = None
    escalated_at: str | None = None
    reply_draft: str | None = None
    payload: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ListedAlert(OutboxAlert):
    """An outbox row as `alerts list` shows it, with its mention's author, text and link."""

    author: str | None = None
    text: str | None = None
    url: str | None = None
    posted_at: str | None = None


@dataclass(frozen=True)
class ListedMention:
    """A mention with its latest verdict, as lists and search show it."""

    source: str
    external_id: str
    brand: str | None
    kind: MentionKind | None
    author: str | None
    url: str | None
    title: str | None
    text: str
    created_at: str
    language: str | None = None
    rating: int | None = None
    label: str | None = None
    negative: float | None = None
    model: str | None = None
    alert: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Unclassified:
    """A mention a model has not judged yet; ``classified_before`` when another model has."""

    source: str
    external_id: str
    brand: str | None
    kind: MentionKind | None
    text: str
    title: str | None
    language: str | None
    rating: int | None
    classified_before: int


@dataclass(frozen=True)
class LabelCount:
    """Mentions of a brand from a source with a label."""

    brand: str | None
    source: str
    label: str
    n: int


@dataclass(frozen=True)
class HourCount:
    """Mentions and negatives of a brand posted in one UTC hour ('YYYY-MM-DDTHH')."""

    brand: str | None
    hour: str
    n: int
    negatives: int | None


@dataclass(frozen=True)
class ReportedMention:
    """A mention as the digest lists it (top negatives, unanswered, worth a look, themes).

    ``rank`` is its place within its brand, ``total`` the brand's full count where the list is cut.
    """

    brand: str
    source: str
    text: str
    created_at: str
    external_id: str = ""
    author: str | None = None
    url: str | None = None
    title: str | None = None
    negative: float | None = None
    rank: int = 0
    total: int = 0
    claimed_by: str | None = None
    claimed_at: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ResponseTime:
    """Per source and step: how many alerted mentions got there, median and p90 seconds."""

    source: str
    step: str
    n: int
    median: float | None
    p90: float | None
    channels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """One collector run."""

    id: int
    source: str
    kind: RunKind
    started_at: str
    finished_at: str | None = None
    fetched: int = 0
    new: int = 0
    negatives: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class SourceRuns:
    """Per source: its latest run, latest success and latest error."""

    source: str
    last_run: str | None
    last_success: str | None
    last_error_at: str | None
    last_error: str | None


@dataclass(frozen=True)
class RunSummary:
    """Per source in a window: runs started, how many failed, the last error."""

    source: str
    runs: int
    failed: int
    last_error: str | None


@dataclass(frozen=True)
class Job:
    """A job the daemon scheduled, as `status` shows it."""

    id: str
    next_run_at: str | None = None
    running_since: str | None = None
    last_finished_at: str | None = None
    last_error: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class RecentIncident:
    """A recent mention alert of a brand with its incident key, for grouping near-duplicates."""

    group_key: str
    source: str
    external_id: str
    text: str
    created_at: str


@dataclass(frozen=True)
class RatedReview:
    """A stored review with the stars its author gave."""

    source: str
    external_id: str
    brand: str | None
    title: str | None
    text: str
    rating: int


@dataclass(frozen=True)
class LabeledExample:
    """A text someone labeled, for training."""

    text: str
    label: str
    origin: str


@dataclass(frozen=True)
class Praise:
    """A mention of praise not thanked yet."""

    source: str
    external_id: str
    brand: str | None
    author: str | None
    url: str | None
    title: str | None
    text: str
    created_at: str
    reach: int | None
    positive: float | None
    engagement: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class NoticePosted:
    """Who recorded that an incident's status notice went out, and when."""

    closed_by: str
    closed_at: str


@dataclass(frozen=True)
class Notice:
    """An incident whose status notice was suggested: its evidence payload and who posted it."""

    group_key: str
    brand: str
    created_at: str
    payload: dict[str, Any]
    posted_by: str | None = None
    posted_at: str | None = None
