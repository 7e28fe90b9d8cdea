"""The alerts outbox: queueing, claiming due rows under a lease, recording what was sent or failed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from monitor.core.records import ALERT_STATUSES, HANDLING, AlertKind, AlertStatus, Handling, utcnow
from monitor.core.rows import ListedAlert, OutboxAlert, from_row
from monitor.store.connection import Connection
from monitor.store.values import ts

HANDLING_FILTERS: dict[Handling, str] = {
    "open": "a.kind IN ('mention', 'escalation') AND a.status != 'failed' AND a.claimed_at IS NULL"
            " AND a.replied_at IS NULL AND a.closed_at IS NULL",
    "claimed": "a.claimed_at IS NOT NULL AND a.closed_at IS NULL",
    "closed": "a.closed_at IS NOT NULL",
}
A = TypeVar("A", bound=OutboxAlert)


def outbox_alert(row: dict[str, Any], cls: type[A] = OutboxAlert, **override: Any) -> A:  # type: ignore[assignment]
    """An outbox record from an alerts row; a payload that is not a JSON object reads as empty."""
    try:
        payload = json.loads(row.get("payload") or "{}")
    except ValueError:
        payload = {}
    return from_row(cls, row, payload=payload if isinstance(payload, dict) else {}, **override)


class OutboxQueries(Connection):
    """Rows of the alerts table as the dispatcher and `alerts` commands see them."""

    def enqueue_alert(
        self,
        *,
        source: str,
        external_id: str,
        brand: str,
        channel: str,
        kind: AlertKind = "mention",
        group_key: str | None = None,
        payload: dict[str, Any] | None = None,
        not_before: datetime | None = None,
    ) -> int | None:
        """Add an alert to the outbox unless this mention already has one on this channel."""
        now = ts(utcnow())
        cur = self._execute(
            "INSERT INTO alerts (source, external_id, brand, channel, kind, status,"
            " attempts, next_attempt_at, group_key, created_at, payload)"
            " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            [source, external_id, brand, channel, kind, ts(not_before) if not_before else now,
             group_key, now, json.dumps(payload or {}, ensure_ascii=False, default=str)],
        )
        row = cur.fetchone()
        return int(row[0]) if row else None

    def claim_due_alerts(
        self, *, now: datetime | None = None, limit: int = 10, lease: float = 120.0,
        channels: Sequence[str] | None = None, worker_ttl: float = 60.0,
    ) -> list[OutboxAlert]:
        """Take due alerts for sending: pending ones and 'sending' ones whose sender is gone.

        Marked 'sending' inside one immediate transaction (on PostgreSQL, rows another
        dispatcher is claiming are skipped), so two dispatchers never take the same row, and
        the claiming worker is recorded. A row left 'sending' past its lease is taken over only
        when its worker is not live: not heard from within ``worker_ttl``, stopped, restarted
        since it claimed the row, or never a worker at all (a one-off `alerts dispatch`). A live
        worker renews each row's lease right before sending it (``renew_sending``).
        """
        now = now or utcnow()
        stale = ts(now - timedelta(seconds=lease))
        where = (
            "((status = 'pending' AND next_attempt_at <= ?)"
            " OR (status = 'sending' AND sending_since <= ? AND NOT EXISTS (SELECT 1 FROM workers w"
            " WHERE w.id = alerts.sending_worker AND w.stopped_at IS NULL AND w.heartbeat_at > ?"
            " AND w.started_at <= alerts.sending_since)))"
        )
        params: list[Any] = [ts(now), stale, ts(now - timedelta(seconds=worker_ttl))]
        if channels is not None:
            where += f" AND channel IN ({','.join('?' for _ in channels)})"
            params.extend(channels)
        with self.transaction():
            rows = list(self._query(
                f"SELECT * FROM alerts WHERE {where} ORDER BY next_attempt_at, id LIMIT ?{self.CLAIM_LOCK}",
                [*params, limit],
            ))
            if rows:
                ids = [r["id"] for r in rows]
                self._execute(
                    f"UPDATE alerts SET status = 'sending', sending_since = ?, sending_worker = ?,"
                    f" attempts = attempts + 1 WHERE id IN ({','.join('?' for _ in ids)})",
                    [ts(now), self.claimant, *ids],
                )
        return [outbox_alert(row, attempts=row["attempts"] + 1) for row in rows]

    def renew_sending(self, alert_id: int, *, now: datetime | None = None) -> bool:
        """Renew this dispatcher's lease on one claimed alert right before sending it; False when
        the row is no longer this dispatcher's to send (another took it over, or it was settled)."""
        cur = self._execute(
            "UPDATE alerts SET sending_since = ? WHERE id = ? AND status = 'sending' AND sending_worker = ?",
            [ts(now or utcnow()), alert_id, self.claimant],
        )
        return bool(cur.rowcount)

    def mark_sent(self, alert_id: int, message_id: str | None, *, reply_draft: str | None = None) -> None:
        """Record a delivery, with the reply draft the message carried ("" for none)."""
        self._execute(
            "UPDATE alerts SET status = 'sent', sent_at = ?, channel_message_id = ?,"
            " last_error = NULL, reply_draft = ? WHERE id = ?",
            [ts(utcnow()), message_id, reply_draft, alert_id],
        )

    def mark_retry(self, alert_id: int, error: str, *, next_attempt: datetime) -> None:
        self._execute(
            "UPDATE alerts SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
            [error, ts(next_attempt), alert_id],
        )

    def mark_failed(self, alert_id: int, error: str) -> None:
        self._execute(
            "UPDATE alerts SET status = 'failed', last_error = ? WHERE id = ?", [error, alert_id]
        )

    def set_alert_fields(self, alert_id: int, **values: Any) -> None:
        if values:
            cols = ", ".join(f"{k} = ?" for k in values)
            self._execute(
                f"UPDATE alerts SET {cols} WHERE id = ?",
                [ts(v) if isinstance(v, datetime) else v for v in values.values()] + [alert_id],
            )

    def alert(self, alert_id: int) -> OutboxAlert | None:
        rows = self._query("SELECT * FROM alerts WHERE id = ?", [alert_id])
        return outbox_alert(rows[0]) if rows else None

    def list_alerts(
        self, *, status: AlertStatus | None = None, handling: Handling | None = None, brand: str | None = None,
        limit: int = 50,
    ) -> list[ListedAlert]:
        """Outbox rows newest first; ``handling`` is open (nobody has it), claimed, or closed."""
        where: list[str] = []
        params: list[Any] = []
        if status:
            where.append("a.status = ?")
            params.append(status)
        if handling:
            where.append(HANDLING_FILTERS[handling])
        if brand:
            where.append("a.brand = ?")
            params.append(brand)
        sql = (
            "SELECT a.*, m.author, m.text, m.url, m.created_at AS posted_at FROM alerts a"
            " LEFT JOIN mentions m ON m.source = a.source AND m.external_id = a.external_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY a.created_at DESC, a.id DESC LIMIT ?"
        )
        return [outbox_alert(row, ListedAlert) for row in self._query(sql, [*params, limit])]

    def waiting_alerts(self, overdue_before: datetime) -> dict[str, tuple[int, int]]:
        """Per channel: alerts pending, and of those the ones due before ``overdue_before``."""
        return {row[0]: (row[1], row[2] or 0) for row in self._rows(
            "SELECT channel, count(*), sum(CASE WHEN next_attempt_at IS NULL OR next_attempt_at < ? THEN 1"
            " ELSE 0 END) FROM alerts WHERE status = 'pending' GROUP BY channel", [ts(overdue_before)])}

    def open_praise_alert(self, source: str, external_id: str) -> int | None:
        """The first praise alert of a mention nobody has closed yet."""
        row = self._one("SELECT id FROM alerts WHERE source = ? AND external_id = ? AND kind = 'praise'"
                        " AND resolution IS NULL ORDER BY id LIMIT 1", [source, external_id])
        return int(row[0]) if row else None

    def alert_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self._execute("SELECT status, count(*) FROM alerts GROUP BY 1")}

    def alert_kinds(self, since: datetime) -> dict[str, int]:
        """Outbox rows queued since ``since`` per kind (mention, escalation, notice, praise, spike)."""
        return {r[0]: r[1] for r in self._execute(
            "SELECT kind, count(*) FROM alerts WHERE created_at >= ? GROUP BY 1", [ts(since)])}


assert set(HANDLING_FILTERS) == set(HANDLING)
__all__ = ["ALERT_STATUSES", "HANDLING_FILTERS", "OutboxQueries", "outbox_alert"]
