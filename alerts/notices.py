"""Proactive notices: when several people report the same problem (an incident of near-duplicates,
or a spike), suggest a public status message for the brand's own account, with the evidence."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.drafts import status_notice
from monitor.store import Store
from monitor.store_notices import Evidence

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
