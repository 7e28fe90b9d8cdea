"""What people do with an alert (claim, replied, resolve, snooze, false positive), quiet hours,
and escalation of alerts nobody claimed in time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from monitor.core.config import Channel as ChannelSettings
from monitor.core.config import Settings
from monitor.core.errors import ListenpostError
from monitor.core.names import parse_quiet_hours
from monitor.core.records import utcnow
from monitor.core.rows import OutboxAlert
from monitor.core.times import local_time
from monitor.store import Store

log = logging.getLogger(__name__)

SNOOZE = timedelta(hours=1)
ACTIONS = ("claim", "replied", "resolve", "false_positive", "snooze", "thanked", "notice_posted")


_DONE = {"thanked": "thanked", "notice_posted": "status notice posted"}


class UnknownAlert(ListenpostError):
    """No alert has the given id."""

    exit_code = 2


def in_quiet_hours(name: str, channel: ChannelSettings, now: datetime, tz: ZoneInfo) -> bool:
    if not channel.quiet_hours:
        return False
    start, end = parse_quiet_hours(channel.quiet_hours, f"alerts.channels.{name}.quiet_hours")
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return start <= minute < end if start <= end else minute >= start or minute < end


@dataclass(frozen=True)
class Outcome:
    """What an action changed: the alert rows of the case, and a line for the person."""

    alert_ids: list[int]
    summary: str


def alert_name(store: Store, row: OutboxAlert) -> str:
    """'alert #39', or 'alert #40 (the file copy of #39)': `alerts list` shows an alert by its first
    row, one per channel it went to, and any of them names it."""
    copies = store.alert_copies(row.id)
    first = copies[0][0] if copies else row.id
    return f"alert #{row.id}" if first == row.id else f"alert #{row.id} (the {row.channel} copy of #{first})"


def _closed(row: OutboxAlert, tz: tzinfo) -> str:
    """'resolved by sam at 2026-11-20 10:00 UTC'."""
    how = (row.resolution or "closed").replace("_", " ")
    return f"{how} by {row.closed_by or 'someone'} at {local_time(row.closed_at, tz)}"


def apply_action(store: Store, alert_id: int, action: str, who: str, *,
                 now: datetime | None = None, tz: tzinfo = UTC) -> Outcome:
    """Apply a person's action to the alert and every other alert of the same mention.

    An alert already closed (replied, resolved, false positive) stays as its closer left it:
    claiming or closing it again changes nothing and says who closed it and when (in ``tz``).
    """
    now = now or utcnow()
    row = store.alert(alert_id)
    if row is None:
        raise UnknownAlert(f"no alert #{alert_id}")
    who = who.strip()[:80] or "someone"
    name = alert_name(store, row)
    if action in ("claim", "replied", "resolve", "false_positive") and row.closed_at:
        return Outcome([], f"{name} is already {_closed(row, tz)}; nothing changed")
    if action == "claim":
        ids = store.update_case(alert_id, only_unset="claimed_at", claimed_at=now, claimed_by=who)
        if not ids:
            current = store.alert(alert_id)
            return Outcome([], f"{name} is already claimed by {current.claimed_by if current else None}")
        return Outcome(ids, f"{name} claimed by {who}")
    if action == "replied":
        # Only a case still open is closed (under a row lock): two people closing it at once, or a
        # Slack click racing `alerts resolve`, leave the first one's record whole.
        ids = store.update_case(alert_id, only_unset="closed_at", replied_at=now, replied_by=who, closed_at=now,
                                closed_by=who, resolution="replied")
        if not ids:
            return _closed_meanwhile(store, alert_id, name, tz)
        store.update_case(alert_id, only_unset="claimed_at", claimed_at=now, claimed_by=who)
        return Outcome(ids, f"{name} marked replied by {who}")
    if action in ("resolve", "false_positive"):
        resolution = "resolved" if action == "resolve" else "false_positive"
        ids = store.update_case(alert_id, only_unset="closed_at", closed_at=now, closed_by=who,
                                resolution=resolution)
        if not ids:
            return _closed_meanwhile(store, alert_id, name, tz)
        if action == "false_positive":
            _label_false_positive(store, row, who)
        return Outcome(ids, f"{name} closed as {resolution.replace('_', ' ')} by {who}")
    if action in ("thanked", "notice_posted"):
        # Each belongs to one kind of alert: a complaint is never "thanked", a mention never closed as a
        # notice. A second click (replayed, or a colleague's) keeps the first person's record.
        kind = "praise" if action == "thanked" else "notice"
        if row.kind != kind:
            raise ListenpostError(f"alert #{alert_id} is a {row.kind} alert, not a {kind} alert: "
                                  f"{action.replace('_', ' ')} does not apply")
        if row.resolution == action:
            return Outcome([], f"alert #{alert_id}: already {_DONE[action]} by {row.closed_by}")
        if action == "thanked":
            store.record_thanks(row.source, row.external_id, who, now)
        ids = store.update_case(alert_id, closed_at=now, closed_by=who, resolution=action)
        return Outcome(ids, f"alert #{alert_id}: {_DONE[action]} by {who}")
    if action == "snooze":
        ids = store.update_case(alert_id, snoozed_until=now + SNOOZE)
        return Outcome(ids, f"alert #{alert_id} snoozed for an hour by {who}")
    raise ListenpostError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")


def _closed_meanwhile(store: Store, alert_id: int, name: str, tz: tzinfo) -> Outcome:
    """The case was closed by someone else between reading it and closing it."""
    current = store.alert(alert_id)
    how = _closed(current, tz) if current is not None and current.closed_at else "closed"
    return Outcome([], f"{name} is already {how}; nothing changed")


def _label_false_positive(store: Store, row: OutboxAlert, who: str) -> None:
    """Keep the mention as a training example for `listenpost train`.

    The click says "not a complaint", not whether it was praise, so it is kept as neutral.
    """
    mention = store.mention(row.source, row.external_id)
    if mention:
        store.add_labeled_example(source=mention.source, external_id=mention.external_id,
                                  text=mention.text, label="neutral", origin="false_positive",
                                  created_by=who)


def escalate_due(store: Store, settings: Settings, *, now: datetime | None = None) -> int:
    """Queue an escalation for each delivered alert left unclaimed past ``alerts.escalation.after``."""
    config = settings.alerts.escalation
    targets = [c for c in config.channels if c in settings.alerts.channels and settings.alerts.channels[c].enabled]
    if not targets:
        return 0
    now = now or utcnow()
    queued = 0
    minutes = round(config.after / 60)
    seen: set[str] = set()
    for row in store.unclaimed_alerts(sent_before=now - timedelta(seconds=config.after), now=now):
        incident = row.group_key or f"{row.source}:{row.external_id}"
        if incident in seen:
            continue  # one escalation per incident, not one per repost
        seen.add(incident)
        for channel in targets:
            if store.enqueue_alert(source=row.source, external_id=row.external_id, brand=row.brand,
                                   channel=channel, kind="escalation", group_key=row.group_key,
                                   payload={"original_alert": row.id,
                                            "reason": f"unclaimed for {minutes} minutes"}) is not None:
                queued += 1
        store.update_case(row.id, escalated_at=now)
    if queued:
        log.info("escalated %s unclaimed alert(s)", queued)
    return queued
