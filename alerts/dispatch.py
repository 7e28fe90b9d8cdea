"""The dispatcher: sends due outbox rows through their channels and records the outcome.

Rows are marked 'sending' before the send and 'sent' after it. A crash in between leaves a
'sending' row that is retried after its lease; idempotent channels first check whether the
message already went out, so it is neither lost nor (where the channel can tell) sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from alerts import channel_class
from alerts.base import AlertMessage, Channel
from alerts.drafts import reply_draft
from monitor.config import Settings
from monitor.errors import ChannelError, ConfigError, ListenpostError
from monitor.records import utcnow
from monitor.store import Store, parse_ts

log = logging.getLogger(__name__)

BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def build_channels(settings: Settings, names: list[str] | None = None) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    for name, config in settings.alerts.channels.items():
        if names is not None and name not in names:
            continue
        if config.enabled:
            out[name] = channel_class(config.type)(name, config, settings)
    return out


def build_message(store: Store, settings: Settings, row: dict[str, Any]) -> AlertMessage:
    """The AlertMessage for an outbox row: the mention, its score, its author's history, a draft."""
    mention = store.mention(row["source"], row["external_id"]) or {}
    label = store.conn.execute(
        "SELECT label, negative FROM latest_labels WHERE source = ? AND external_id = ?",
        [row["source"], row["external_id"]],
    ).fetchone()
    created = parse_ts(mention.get("created_at")) or utcnow()
    author = mention.get("author") or ""
    history = store.author_history(row["source"], author, before=created) if author else {}
    import json

    payload = json.loads(row.get("payload") or "{}")
    return AlertMessage(
        alert_id=row["id"], kind=row["kind"], brand=row["brand"], source=row["source"],
        external_id=row["external_id"], author=author, text=mention.get("text") or payload.get("text", ""),
        url=mention.get("url") or "", created_at=created,
        label=label[0] if label else None, negative=label[1] if label else None,
        title=mention.get("title") or "", rating=mention.get("rating"),
        author_history=history,
        reply_draft=reply_draft(settings, brand=row["brand"], author=author,
                                text=mention.get("text") or "") if row["kind"] == "mention" else "",
        group_count=int(payload.get("group_count", 1)), extra=payload,
    )


def backoff(attempts: int, retry_after: float | None) -> float:
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return max(delay, retry_after or 0.0)


def dispatch_due(
    store: Store, settings: Settings, channels: dict[str, Channel] | None = None, *, limit: int = 100
) -> DispatchReport:
    """Send every due alert once; failures are rescheduled or, past max_attempts, marked failed."""
    channels = build_channels(settings) if channels is None else channels
    report = DispatchReport()
    rows = store.claim_due_alerts(limit=limit, channels=list(channels))
    for row in rows:
        channel = channels[row["channel"]]
        try:
            message = build_message(store, settings, row)
            message_id = channel.find_sent(message) if row["attempts"] > 1 and channel.idempotent else None
            if message_id is None:
                message_id = channel.send(message)
        except ChannelError as exc:
            _record_failure(store, settings, row, str(exc), exc.permanent, exc.retry_after, report)
            continue
        except ConfigError as exc:
            _record_failure(store, settings, row, str(exc), True, None, report)
            continue
        except ListenpostError as exc:
            _record_failure(store, settings, row, str(exc), False, None, report)
            continue
        store.mark_sent(row["id"], message_id)
        report.sent += 1
    return report


def _record_failure(store: Store, settings: Settings, row: dict[str, Any], error: str,
                    permanent: bool, retry_after: float | None, report: DispatchReport) -> None:
    if permanent or row["attempts"] >= settings.alerts.max_attempts:
        log.error("alert %s on %s failed for good: %s", row["id"], row["channel"], error)
        store.mark_failed(row["id"], error)
        report.failed += 1
        return
    delay = backoff(row["attempts"], retry_after)
    log.warning("alert %s on %s failed (attempt %s), retrying in %.0fs: %s",
                row["id"], row["channel"], row["attempts"], delay, error)
    store.mark_retry(row["id"], error, next_attempt=utcnow() + timedelta(seconds=delay))
    report.retried += 1
