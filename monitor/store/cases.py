"""Alert handling: a case's rows across channels and incidents, claims, escalation, Slack replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.core.records import AlertKind, utcnow
from monitor.core.rows import OutboxAlert, RecentIncident, from_row
from monitor.store.outbox import OutboxQueries, outbox_alert
from monitor.store.values import parse_ts, ts

# Alert rows read per mention when looking for recent incidents: one per channel it was routed to.
ALERT_ROWS_PER_MENTION = 8


class CaseQueries(OutboxQueries):
    """Cases and incidents over the outbox rows."""

    def case_alert_ids(self, alert_id: int) -> list[int]:
        """The rows that are one case with this alert: its mention's alerts on every channel,
        and those of every mention in the same incident. Praise and status notices are cases of
        their own: a praise alert's rows of that mention, a notice's rows of that incident."""
        return [r[0] for r in self._execute(
            "SELECT b.id FROM alerts a JOIN alerts b ON ((b.source = a.source AND b.external_id = a.external_id)"
            " OR b.group_key = a.group_key)"
            " AND CASE WHEN a.kind IN ('praise', 'notice') THEN b.kind = a.kind"
            " ELSE b.kind IN ('mention', 'escalation') END"
            " WHERE a.id = ? ORDER BY b.id", [alert_id],
        )]

    def alert_copies(self, alert_id: int) -> list[tuple[int, str]]:
        """(id, channel) of the alert's rows, one per channel it went to: the same mention and kind."""
        return [(int(r[0]), str(r[1])) for r in self._execute(
            "SELECT b.id, b.channel FROM alerts a JOIN alerts b ON b.source = a.source"
            " AND b.external_id = a.external_id AND b.kind = a.kind WHERE a.id = ? ORDER BY b.id", [alert_id],
        )]

    def update_case(self, alert_id: int, *, only_unset: str | None = None, **values: Any) -> list[int]:
        """Set fields on every row of the alert's case; ``only_unset`` keeps the first writer
        (a second Claim does not take a claimed alert). Returns the rows changed."""
        with self.transaction():
            ids = self.case_alert_ids(alert_id)
            if only_unset:
                ids = [i for i in ids if self._execute(
                    f"SELECT {only_unset} IS NULL FROM alerts WHERE id = ?{self.sql.ROW_LOCK}", [i]).fetchone()[0]]
            for i in ids:
                self.set_alert_fields(i, **values)
        return ids

    def requeue_alerts(self, ids: Sequence[int]) -> int:
        """Failed (or pending) alerts back into the outbox, due now, with fresh attempts."""
        if not ids:
            return 0
        marks = ",".join("?" for _ in ids)
        cur = self._execute(
            f"UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?"
            f" WHERE id IN ({marks}) AND status IN ('failed', 'pending', 'suppressed')",
            [ts(utcnow()), *ids],
        )
        return int(cur.rowcount)

    def group_root(self, group_key: str, channel: str, before_id: int) -> OutboxAlert | None:
        """The first delivered alert of an incident on a channel: later ones join its thread."""
        rows = list(self._query(
            "SELECT * FROM alerts WHERE group_key = ? AND channel = ? AND id < ? AND status = 'sent'"
            " AND channel_message_id IS NOT NULL ORDER BY id LIMIT 1",
            [group_key, channel, before_id],
        ))
        return outbox_alert(rows[0]) if rows else None

    def group_size(self, group_key: str | None, channel: str, upto_id: int | None = None) -> int:
        """How many alerts an incident has on a channel (up to and including ``upto_id``)."""
        return int(self._execute(
            "SELECT count(*) FROM alerts WHERE group_key = ? AND channel = ? AND id <= ? AND kind != 'notice'",
            [group_key, channel, upto_id if upto_id is not None else 2**62],
        ).fetchone()[0])

    def recent_incidents(self, brand: str, since: datetime, limit: int = 500) -> list[RecentIncident]:
        """Newest first: each recent mention alert of a brand with its incident key and text."""
        # Only the newest alert rows are read (a mention has one per channel it went to): grouping
        # every alert of the window cost a scan per negative mention when a brand had thousands.
        return [from_row(RecentIncident, r) for r in self._query(
            "SELECT g.group_key, recent.source, recent.external_id, m.text, m.created_at FROM ("
            " SELECT source, external_id, max(id) AS newest FROM ("
            "  SELECT id, source, external_id FROM alerts"
            "  WHERE brand = ? AND kind = 'mention' AND created_at >= ? AND group_key IS NOT NULL"
            "  ORDER BY created_at DESC LIMIT ?) window_rows"
            " GROUP BY source, external_id ORDER BY newest DESC LIMIT ?) recent"
            # The incident of each mention's newest alert row.
            " JOIN alerts g ON g.id = recent.newest"
            " JOIN mentions m ON m.source = recent.source AND m.external_id = recent.external_id"
            " ORDER BY recent.newest DESC",
            [brand, ts(since), limit * ALERT_ROWS_PER_MENTION, limit],
        )]

    def hourly_negatives(self, brand: str, since: datetime, until: datetime) -> dict[str, int]:
        """Negative mentions of a brand per hour ('YYYY-MM-DDTHH'), by posting time."""
        rows = self._execute(
            "SELECT substr(m.created_at, 1, 13), count(*) FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.brand = ? AND c.label = 'negative' AND m.created_at >= ? AND m.created_at < ?"
            " AND coalesce(c.reason, '') NOT IN ('spam', 'off-topic')"
            " GROUP BY 1",
            [brand, ts(since), ts(until)],
        )
        return {r[0]: r[1] for r in rows}

    def history_start(self, brand: str) -> datetime | None:
        """When collection began for this brand: the later of the first run and its oldest mention."""
        first_run = self._execute("SELECT min(started_at) FROM runs").fetchone()[0]
        oldest = self._execute(
            "SELECT created_at FROM mentions WHERE brand = ? ORDER BY created_at LIMIT 1", [brand]
        ).fetchone()
        if first_run is None or oldest is None:
            return None
        return max(parse_ts(first_run), parse_ts(oldest[0]))  # type: ignore[type-var]

    def last_alert_at(self, brand: str, kind: AlertKind) -> datetime | None:
        row = self._execute(
            "SELECT max(created_at) FROM alerts WHERE brand = ? AND kind = ?", [brand, kind]
        ).fetchone()
        return parse_ts(row[0]) if row else None

    def unclaimed_alerts(self, *, sent_before: datetime, now: datetime) -> list[OutboxAlert]:
        """Delivered mention alerts nobody claimed or closed, not snoozed, not escalated yet."""
        return [outbox_alert(r) for r in self._query(
            "SELECT a.* FROM alerts a WHERE a.kind = 'mention' AND a.status = 'sent'"
            " AND a.sent_at <= ? AND a.escalated_at IS NULL"
            # Implied by NOT EXISTS below (b can be a itself); spelled out so the partial index applies.
            " AND a.claimed_at IS NULL AND a.closed_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM alerts b WHERE ((b.source = a.source"
            "  AND b.external_id = a.external_id) OR b.group_key = a.group_key) AND (b.claimed_at IS NOT NULL"
            "  OR b.closed_at IS NOT NULL OR b.snoozed_until > ?))"
            " ORDER BY a.id",
            [ts(sent_before), ts(now)],
        )]

    def remember_request(self, signature: str, *, now: datetime, keep: float) -> bool:
        """Record a signed request; False when it was seen before (a replay)."""
        with self.transaction():
            self._execute("DELETE FROM slack_requests WHERE received_at < ?",
                              [ts(now - timedelta(seconds=keep))])
            cur = self._execute(
                "INSERT INTO slack_requests (signature, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [signature, ts(now)],
            )
        return bool(cur.rowcount == 1)
