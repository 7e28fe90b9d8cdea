"""The store's queries for several workers on one database: registration and heartbeats,
job leases, and claims on unclassified mentions. Mixed into ``Store``.

Every statement is one both SQLite and PostgreSQL accept. What only PostgreSQL needs, row
locks that concurrent claimers skip, comes from the ``CLAIM_LOCK`` hook ("" on SQLite, whose
write transaction already lets one claimer at a time in).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from monitor.core.records import Mention, utcnow
from monitor.core.workers import Lease, PendingMention, Worker, worker_name
from monitor.store.connection import Connection
from monitor.store.values import parse_ts, ts

# How long an unrenewed claim on mentions lasts: a worker killed mid-batch hands them back then.
CLAIM_TTL = 60.0
LEASE_COLUMNS = "name, worker_id, acquired_at, expires_at, next_due_at"


def _ts(value: datetime) -> str:
    return ts(value)


def _when(value: str | None) -> datetime | None:
    return parse_ts(value)


def _at(value: str) -> datetime:
    parsed = _when(value)
    assert parsed is not None  # NOT NULL columns
    return parsed


def _lease(row: Any) -> Lease:
    return Lease(name=row[0], worker_id=row[1], acquired_at=_at(row[2]), expires_at=_at(row[3]),
                 next_due_at=_when(row[4]))


def _worker(row: Any) -> Worker:
    return Worker(id=row[0], host=row[1], pid=int(row[2]), started_at=_at(row[3]),
                  heartbeat_at=_at(row[4]), stopped_at=_when(row[5]))


class WorkerQueries(Connection):
    """Workers, leases and claims. ``worker_id`` names who claims; without one, this process."""

    # -- workers ----------------------------------------------------------------------------

    def register_worker(self, host: str, pid: int, *, now: datetime | None = None) -> Worker:
        """Record a starting worker; a restart on the same host with the same pid starts afresh."""
        at = _ts(now or utcnow())
        name = worker_name(host, pid)
        row = self._execute(
            "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, stopped_at)"
            " VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,"
            " heartbeat_at = excluded.heartbeat_at, stopped_at = NULL"
            " RETURNING id, host, pid, started_at, heartbeat_at, stopped_at",
            [name, host, pid, at, at],
        ).fetchone()
        self.worker_id = name
        return _worker(row)

    def heartbeat(self, worker_id: str, ttl: float, *, now: datetime | None = None) -> int:
        """The worker is alive: renew what it holds for another ``ttl``; returns the leases renewed."""
        now = now or utcnow()
        at, until = _ts(now), _ts(now + timedelta(seconds=ttl))
        with self.transaction():
            self._execute("UPDATE workers SET heartbeat_at = ? WHERE id = ?", [at, worker_id])
            self._execute("UPDATE mention_claims SET expires_at = ? WHERE worker_id = ? AND expires_at > ?",
                              [until, worker_id, at])
            renewed = self._execute("UPDATE leases SET expires_at = ? WHERE worker_id = ? AND expires_at > ?",
                                        [until, worker_id, at]).rowcount
        return int(renewed)

    def stop_worker(self, worker_id: str, *, now: datetime | None = None) -> None:
        """A clean stop: leases and claims go back at once, not after they expire."""
        at = _ts(now or utcnow())
        with self.transaction():
            self._execute("UPDATE leases SET expires_at = ? WHERE worker_id = ? AND expires_at > ?",
                              [at, worker_id, at])
            self._execute("DELETE FROM mention_claims WHERE worker_id = ?", [worker_id])
            self._execute("UPDATE workers SET stopped_at = ?, heartbeat_at = ? WHERE id = ?",
                              [at, at, worker_id])

    def workers(self) -> list[Worker]:
        """Every worker that ever ran on this database, the most recently heard from first."""
        return [_worker(r) for r in self._execute(
            "SELECT id, host, pid, started_at, heartbeat_at, stopped_at FROM workers"
            " ORDER BY heartbeat_at DESC, id")]

    # -- leases -----------------------------------------------------------------------------

    def take_lease(self, name: str, worker_id: str, ttl: float, *, now: datetime | None = None) -> Lease | None:
        """Hold ``name`` for ``ttl`` seconds; None when another worker holds it or it is not due yet.

        One statement, so two workers racing for a free lease cannot both win. The holder may
        take it again (a renewal).
        """
        now = now or utcnow()
        at = _ts(now)
        row = self._execute(
            "INSERT INTO leases (name, worker_id, acquired_at, expires_at, next_due_at)"
            " VALUES (?, ?, ?, ?, NULL) ON CONFLICT (name) DO UPDATE SET"
            " acquired_at = CASE WHEN leases.worker_id = excluded.worker_id AND leases.expires_at > ?"
            " THEN leases.acquired_at ELSE excluded.acquired_at END,"
            " worker_id = excluded.worker_id, expires_at = excluded.expires_at"
            " WHERE (leases.worker_id = excluded.worker_id AND leases.expires_at > ?)"
            " OR (leases.expires_at <= ? AND (leases.next_due_at IS NULL OR leases.next_due_at <= ?))"
            f" RETURNING {LEASE_COLUMNS}",
            [name, worker_id, at, _ts(now + timedelta(seconds=ttl)), at, at, at, at],
        ).fetchone()
        return _lease(row) if row else None

    def release_lease(self, name: str, worker_id: str, *, next_due_at: datetime | None = None,
                      now: datetime | None = None) -> bool:
        """Give a lease back; no worker takes it again before ``next_due_at``."""
        cur = self._execute(
            "UPDATE leases SET expires_at = ?, next_due_at = ? WHERE name = ? AND worker_id = ?",
            [_ts(now or utcnow()), _ts(next_due_at) if next_due_at else None, name, worker_id],
        )
        return bool(cur.rowcount)

    def lease(self, name: str) -> Lease | None:
        row = self._execute(f"SELECT {LEASE_COLUMNS} FROM leases WHERE name = ?", [name]).fetchone()
        return _lease(row) if row else None

    def held_leases(self, *, now: datetime | None = None) -> list[Lease]:
        """Leases some worker holds now, by name."""
        return [_lease(r) for r in self._execute(
            f"SELECT {LEASE_COLUMNS} FROM leases WHERE expires_at > ? ORDER BY name", [_ts(now or utcnow())])]

    # -- claims on mentions to classify -----------------------------------------------------

    def claim_unclassified(self, model: str, *, limit: int = 1000, ttl: float = CLAIM_TTL,
                           now: datetime | None = None) -> list[PendingMention]:
        """Mentions ``model`` has not scored and no live claim holds, oldest first, claimed for
        this worker until ``ttl``: two workers never take the same one."""
        now = now or utcnow()
        at = _ts(now)
        with self.transaction():
            rows = self._execute(
                "SELECT m.source, m.external_id, m.brand, m.kind, m.text, m.title, m.language, m.rating,"
                " EXISTS (SELECT 1 FROM classifications c2 WHERE c2.source = m.source"
                " AND c2.external_id = m.external_id) AS classified_before FROM mentions m"
                " WHERE NOT EXISTS (SELECT 1 FROM classifications c WHERE c.source = m.source"
                " AND c.external_id = m.external_id AND c.model = ?)"
                " AND NOT EXISTS (SELECT 1 FROM mention_claims k WHERE k.source = m.source"
                " AND k.external_id = m.external_id AND k.model = ? AND k.expires_at > ?)"
                f" ORDER BY m.collected_at, m.created_at LIMIT ?{self.CLAIM_LOCK}",
                [model, model, at, limit],
            ).fetchall()
            if rows:
                # A claim is taken only where none is live: on PostgreSQL a worker whose snapshot
                # predates another's commit can still see those mentions as free.
                until = _ts(now + timedelta(seconds=ttl))
                values = ", ".join("(?, ?, ?, ?, ?)" for _ in rows)
                taken = {(r[0], r[1]) for r in self._execute(
                    "INSERT INTO mention_claims (source, external_id, model, worker_id, expires_at)"
                    f" VALUES {values} ON CONFLICT (source, external_id, model) DO UPDATE SET"
                    " worker_id = excluded.worker_id, expires_at = excluded.expires_at"
                    " WHERE mention_claims.expires_at <= ? OR mention_claims.worker_id = excluded.worker_id"
                    " RETURNING source, external_id",
                    [*(v for r in rows for v in (r[0], r[1], model, self.claimant, until)), at],
                ).fetchall()}
                rows = [r for r in rows if (r[0], r[1]) in taken]
        return list(_pending(rows, now))

    def release_claims(self, model: str) -> None:
        """This worker's claims for ``model`` are done with (scored, or given up)."""
        self._execute("DELETE FROM mention_claims WHERE worker_id = ? AND model = ?", [self.claimant, model])


def _pending(rows: list[Any], now: datetime) -> Iterator[PendingMention]:
    for r in rows:
        mention = Mention(source=r[0], external_id=r[1], brand=r[2] or "", kind=r[3] or "post", text=r[4],
                          title=r[5] or "", language=r[6], rating=r[7], created_at=now)
        yield PendingMention(mention=mention, classified_before=bool(r[8]))
