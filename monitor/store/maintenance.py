"""Keeping the database small: dropping old raw payloads, ANALYZE, VACUUM."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.store.connection import Connection
from monitor.store.values import ts


class Maintenance(Connection):
    """Housekeeping `listenpost db` runs."""

    def drop_raw_payloads(self, collected_before: datetime, *, chunk: int = 1000) -> int:
        """Replace raw API payloads of mentions collected before the cutoff with '{}'.

        In rowid order and in chunks, each its own short transaction: collectors writing
        meanwhile wait for one chunk, not the whole sweep, and no chunk rescans the rows
        already done.
        """
        cleared, last = 0, 0
        while True:
            with self.transaction():
                ids = [r[0] for r in self._execute(
                    "SELECT rowid FROM mentions WHERE rowid > ? AND collected_at < ? AND raw != '{}'"
                    " ORDER BY rowid LIMIT ?",
                    [last, ts(collected_before), chunk],
                )]
                if not ids:
                    return cleared
                self._execute(
                    f"UPDATE mentions SET raw = '{{}}' WHERE rowid IN ({','.join('?' for _ in ids)})", ids
                )
            cleared += len(ids)
            last = ids[-1]

    def prune_worker_rows(self, now: datetime, *, keep: float = 7 * 86400.0) -> int:
        """Forget what workers left behind: expired claims on mentions (a killed worker's), and
        leases and stopped or silent workers not heard of for ``keep`` seconds. Rows deleted."""
        old = ts(now - timedelta(seconds=keep))
        with self.transaction():
            gone = self._execute("DELETE FROM mention_claims WHERE expires_at < ?", [ts(now)]).rowcount
            gone += self._execute(
                "DELETE FROM leases WHERE expires_at < ? AND (next_due_at IS NULL OR next_due_at < ?)",
                [old, old]).rowcount
            gone += self._execute("DELETE FROM workers WHERE heartbeat_at < ?", [old]).rowcount
        return int(gone)

    def analyze(self) -> None:
        self._execute("ANALYZE")

    def vacuum(self) -> None:
        self.sql.vacuum()
