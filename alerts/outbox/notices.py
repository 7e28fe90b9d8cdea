"""Proactive notices: when several people report the same problem (an incident of near-duplicates,
or a spike), suggest a public status message for the brand's own account, with the evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.message import inline, plain
from alerts.outbox.drafts import status_notice
from monitor.core.rows import Notice as StoredNotice
from monitor.store import Store, parse_ts
from monitor.store.notices import Evidence

NOTICE_MIN = 3  # distinct mentions in one incident before a status notice is suggested


def queue_notice(store: Store, *, brand: str, group_key: str, channels: Iterable[str],
                 evidence: Evidence | None, spike: bool = False) -> int:
    """One notice per channel for an incident, once; returns the alerts queued."""
    if evidence is None or (not spike and evidence.count < NOTICE_MIN):
        return 0
    payload = {"text": status_notice(evidence.text), "count": evidence.count, "first_at": evidence.first_at,
               "latest_at": evidence.latest_at, "sources": evidence.sources, "spike": spike}
    return sum(store.enqueue_alert(source="notice", external_id=group_key, brand=brand, channel=channel,
                                   kind="notice", group_key=group_key, payload=payload) is not None
               for channel in channels)


def incident_notice(store: Store, *, brand: str, group_key: str, channels: Iterable[str]) -> int:
    """A notice for an incident that has just reached NOTICE_MIN reports."""
    return queue_notice(store, brand=brand, group_key=group_key, channels=channels,
                        evidence=store.incident_evidence(group_key))


@dataclass(frozen=True)
class Notice:
    """A suggested public status message, the incident's evidence, and whether it went out."""

    brand: str
    text: str
    count: int
    first: datetime | None
    latest: datetime | None
    sources: list[str]
    spike: bool
    posted_by: str = ""


def notice_as_shown(row: StoredNotice, tz: ZoneInfo) -> Notice:
    """A notice row of the store as the digest shows it: cleaned, times in ``tz``."""
    payload = row.payload
    first, latest = parse_ts(payload.get("first_at")), parse_ts(payload.get("latest_at"))
    return Notice(brand=inline(row.brand or ""), text=plain(str(payload.get("text", ""))),
                  count=int(payload.get("count") or 0), first=first.astimezone(tz) if first else None,
                  latest=latest.astimezone(tz) if latest else None,
                  sources=[inline(s) for s in payload.get("sources") or []], spike=bool(payload.get("spike")),
                  posted_by=inline(row.posted_by or ""))
