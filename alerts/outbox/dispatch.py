"""The dispatcher: sends due outbox rows through their channels and records the outcome.

Rows are claimed a few at a time and marked 'sending', each one's lease renewed right before
its send, and 'sent' after it. A crash in between leaves a 'sending' row that is retried after
its lease once its worker is gone; idempotent channels first check whether the
message already went out, so it is neither lost nor (where the channel can tell) sent twice.
Later alerts of an incident join the first one's thread; during quiet hours a channel's
alerts wait, or go to the on-call escalation channels instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from alerts.channels import build_channels
from alerts.channels.base import Channel
from alerts.message import AlertMessage, CaseStatus, IncidentEvidence
from alerts.outbox.drafts import reply_draft, thank_you_draft
from alerts.outbox.escalation import escalate_due, in_quiet_hours
from monitor.core.config import Settings
from monitor.core.errors import ChannelError, ConfigError, ListenpostError
from monitor.core.records import utcnow
from monitor.core.rows import OutboxAlert
from monitor.store import Store, parse_ts

log = logging.getLogger(__name__)

BACKOFF_BASE = 30.0
RETRY_AFTER_CAP = 86400.0  # a day
BACKOFF_CAP = 3600.0
LEASE = 120.0  # a 'sending' row older than this belongs to a dispatcher that died
CLAIM_BATCH = 10  # alerts claimed at a time; each one's lease is renewed right before its send
SKIPPED_CLOSED = "closed before delivery"


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    grouped: int = 0
    rerouted: int = 0
    skipped: int = 0  # closed (resolved, replied, false positive) before they went out

    def add(self, other: DispatchReport) -> None:
        for name in ("sent", "retried", "failed", "grouped", "rerouted", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def handled(self) -> int:
        """Alerts a pass took and settled: sent, to retry, failed, grouped or skipped."""
        return self.sent + self.retried + self.failed + self.grouped + self.skipped


def build_message(store: Store, settings: Settings, row: OutboxAlert) -> AlertMessage:
    """The AlertMessage for an outbox row: the mention, its score, its author's history, a draft."""
    mention = store.mention(row.source, row.external_id)
    label = store.latest_label(row.source, row.external_id)
    created = mention.created_at if mention else parse_ts(row.created_at) or utcnow()
    author = mention.author if mention else ""
    history = store.author_history(row.source, author, before=created, days=7) if author else {}
    payload = row.payload
    summary = str(payload.get("text") or "")
    text = (mention.text if mention else "") or summary
    notice = store.notice_posted(row.group_key) if row.group_key and row.kind != "notice" else None
    draft = row.reply_draft  # the one it was delivered with, once sent
    if draft is None and row.kind in ("mention", "escalation"):
        # A comment's title is its thread's (a Reddit submission, a video, the Page's post): someone
        # else's words, whose question or order number is not the commenter's to be answered on.
        own_title = "" if not mention or mention.kind == "comment" else mention.title
        draft = reply_draft(settings, brand=row.brand, author=author, text=text,
                            label=label[0] if label else None, title=own_title,
                            rating=mention.rating if mention else None, notice_posted=notice is not None)
    elif draft is None and row.kind == "praise":
        draft = thank_you_draft(settings, brand=row.brand, author=author)
    return AlertMessage(
        alert_id=row.id, kind=row.kind, brand=row.brand, source=row.source,
        external_id=row.external_id, author=author, text=text,
        url=mention.url if mention else "", created_at=created,
        # How negative praise is would read as "possibly negative": not shown for praise.
        label=label[0] if label else None,
        negative=label[1] if label and row.kind != "praise" else None,
        title=mention.title if mention else "", rating=mention.rating if mention else None,
        author_history=history,
        reply_draft=draft or "", reach=mention.reach if mention else None,
        engagement=dict(mention.engagement) if mention else {},
        group_count=int(payload.get("group_count", 1)),
        status=CaseStatus(
            claimed_by=row.claimed_by, claimed_at=row.claimed_at, replied_by=row.replied_by,
            replied_at=row.replied_at, closed_by=row.closed_by, closed_at=row.closed_at,
            resolution=row.resolution, snoozed_until=row.snoozed_until, escalated_at=row.escalated_at,
            notice_posted_by=notice.closed_by if notice else None,
            notice_posted_at=notice.closed_at if notice else None),
        reason=str(payload.get("reason") or ""),
        on_call=settings.alerts.escalation.mention if row.kind == "escalation" else "",
        summary=summary, evidence=_evidence(payload) if row.kind == "notice" else None,
        queued_at=row.created_at,
    )


def _evidence(payload: dict[str, Any]) -> IncidentEvidence:
    """A notice's evidence as the router stored it in the outbox row's payload."""
    sources = payload.get("sources")
    return IncidentEvidence(
        count=int(payload.get("count") or 0), first_at=payload.get("first_at") or None,
        latest_at=payload.get("latest_at") or None,
        sources=tuple(str(s) for s in sources) if isinstance(sources, list) else ())


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds until the next attempt: exponential, or longer when the channel asked, but never
    more than RETRY_AFTER_CAP: a channel's "come back next year" must not park an alert for good."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(0, attempts - 1))
    return min(max(delay, retry_after or 0.0), RETRY_AFTER_CAP)


def dispatch_due(
    store: Store, settings: Settings, channels: dict[str, Channel] | None = None, *,
    limit: int = 100, lease: float = LEASE, now: datetime | None = None,
) -> DispatchReport:
    """Send every due alert once; failures are rescheduled or, past max_attempts, marked failed."""
    channels = build_channels(settings) if channels is None else channels
    explicit = now is not None
    now = now or utcnow()
    report = DispatchReport()
    quiet = {n for n, c in channels.items() if in_quiet_hours(n, c.settings, now, settings.tz)}
    # Quiet "wait" channels are not even claimed: their alerts stay pending until morning.
    active = [n for n in channels if n not in quiet or channels[n].settings.quiet_mode == "escalation"]
    if not active:
        return report
    done = 0
    while done < limit:
        # A few rows at a time, each one's lease renewed right before its send: a long batch
        # never outlives its lease while a slow channel works through it.
        size = min(CLAIM_BATCH, limit - done)
        rows = store.claim_due_alerts(now=now, limit=size, channels=active,
                                      lease=lease, worker_ttl=settings.schedule.worker_ttl)
        done += len(rows)
        for row in rows:
            _dispatch_one(store, settings, channels, quiet, row, report,
                          now=now if explicit else utcnow())
        if len(rows) < size:  # everything due was claimed: what this pass queued waits for the next
            break
    return report


def _dispatch_one(store: Store, settings: Settings, channels: dict[str, Channel], quiet: set[str],
                  row: OutboxAlert, report: DispatchReport, *, now: datetime) -> None:
    if not store.renew_sending(row.id, now=now):
        log.info("alert %s on %s: skipped, another dispatcher took it over", row.id, row.channel)
        return
    current = store.alert(row.id)
    if current is not None and current.closed_at:
        # Someone handled the case before it went out (another channel's copy, or `alerts resolve`):
        # sending it now would ask the team to act on something already done.
        store.set_alert_fields(row.id, status="skipped", last_error=SKIPPED_CLOSED)
        log.info("alert %s on %s: not sent, %s", row.id, row.channel, SKIPPED_CLOSED)
        report.skipped += 1
        return
    channel = channels[row.channel]
    if row.channel in quiet and row.kind != "escalation":
        _reroute_to_on_call(store, settings, row, report)
        return
    try:
        _deliver(store, settings, channel, row, report)
    except ChannelError as exc:
        _record_failure(store, settings, row, str(exc), exc.permanent, exc.retry_after, report)
    except ConfigError as exc:
        _record_failure(store, settings, row, str(exc), True, None, report)
    except ListenpostError as exc:
        _record_failure(store, settings, row, str(exc), False, None, report)


def _deliver(store: Store, settings: Settings, channel: Channel, row: OutboxAlert,
             report: DispatchReport) -> None:
    message = build_message(store, settings, row)
    root = store.group_root(row.group_key, row.channel, row.id) if row.group_key else None
    if root is not None and row.kind == "notice":
        # A suggested status notice goes in the incident's thread, or on its own where there are no
        # threads; it is not one of the incident's reports.
        if channel.threads:
            message = replace(message, reply_to=root.channel_message_id)
        root = None
    if root is not None:
        count = store.group_size(row.group_key, row.channel, row.id)
        if not channel.threads:
            # Channels without threads get the incident once; the rest are counted, not sent.
            store.set_alert_fields(row.id, status="suppressed",
                                   last_error=f"grouped into alert #{root.id}")
            report.grouped += 1
            return
        message = replace(message, group_count=count, reply_to=root.channel_message_id)
    message_id = channel.find_sent(message) if row.attempts > 1 and channel.idempotent else None
    if message_id is None:
        message_id = channel.send(message)
    store.mark_sent(row.id, message_id, reply_draft=message.reply_draft)
    report.sent += 1
    closed = store.alert(row.id)
    if closed is not None and closed.closed_at:
        # Closed while the channel was sending: the message went out as open; show it closed, as
        # the button would have (where the channel can re-render a message).
        _refresh(store, settings, channel, closed)
    if root is not None:
        report.grouped += 1
        _refresh(store, settings, channel, root, group_count=count)


def _refresh(store: Store, settings: Settings, channel: Channel, row: OutboxAlert, **changes: Any) -> None:
    """Re-render a delivered alert in place; a failure here never undoes the delivery."""
    if not channel.updates or not row.channel_message_id:
        return
    message = replace(build_message(store, settings, row), **changes)
    try:
        channel.update(row.channel_message_id, message)
    except ListenpostError as exc:
        log.warning("could not update alert %s on %s: %s", row.id, row.channel, exc)


def refresh_case(store: Store, settings: Settings, alert_ids: list[int],
                 channels: dict[str, Channel] | None = None) -> None:
    """Show claims, replies and resolutions on the messages already posted for these alerts."""
    channels = dict(channels or {})
    for alert_id in alert_ids:
        row = store.alert(alert_id)
        if not row or row.status != "sent":
            continue
        if row.channel not in channels:
            channels.update(build_channels(settings, [row.channel]))
        channel = channels.get(row.channel)
        if channel is None:
            continue
        is_root = row.group_key and store.group_root(row.group_key, row.channel, row.id) is None
        count = store.group_size(row.group_key, row.channel) if is_root else 1
        _refresh(store, settings, channel, row, group_count=count)


def _reroute_to_on_call(store: Store, settings: Settings, row: OutboxAlert, report: DispatchReport) -> None:
    targets = [c for c in settings.alerts.escalation.channels if c in settings.alerts.channels]
    for target in targets:
        store.enqueue_alert(source=row.source, external_id=row.external_id, brand=row.brand,
                            channel=target, kind="escalation", group_key=row.group_key,
                            payload={"original_alert": row.id, "reason": "quiet hours"})
    note = f"quiet hours: sent to on-call ({', '.join(targets)})" if targets else "quiet hours"
    if not targets:
        # Nowhere to send it now: it waits rather than being dropped.
        store.mark_retry(row.id, note, next_attempt=utcnow() + timedelta(minutes=15))
        return
    store.set_alert_fields(row.id, status="suppressed", last_error=note)
    report.rerouted += 1


def _record_failure(store: Store, settings: Settings, row: OutboxAlert, error: str,
                    permanent: bool, retry_after: float | None, report: DispatchReport) -> None:
    if permanent or row.attempts >= settings.alerts.max_attempts:
        log.error("alert %s on %s failed for good: %s", row.id, row.channel, error)
        store.mark_failed(row.id, error)
        report.failed += 1
        return
    delay = backoff(row.attempts, retry_after)
    log.warning("alert %s on %s failed (attempt %s), retrying in %.0fs: %s",
                row.id, row.channel, row.attempts, delay, error)
    store.mark_retry(row.id, error, next_attempt=utcnow() + timedelta(seconds=delay))
    report.retried += 1


def run_dispatcher(settings: Settings, *, poll: float = 1.0, stop: threading.Event | None = None,
                   lease: float = LEASE) -> None:
    """Deliver and escalate until ``stop`` is set, checking the outbox every ``poll`` seconds."""
    stop = stop or threading.Event()
    channels = build_channels(settings)
    with Store(settings.database) as store:
        while not stop.is_set():
            try:
                escalate_due(store, settings)
                report = dispatch_due(store, settings, channels, lease=lease)
            except ListenpostError as exc:
                log.error("dispatch: %s", exc)
                report = DispatchReport()
            if not (report.sent or report.retried or report.failed):
                stop.wait(poll)
