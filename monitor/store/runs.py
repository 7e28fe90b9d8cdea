"""Where each source's collection got to (cursors), collector runs, and the daemon's scheduled jobs."""

from __future__ import annotations

from datetime import datetime

from monitor.core.records import utcnow
from monitor.core.rows import Job, Run, SourceRuns, from_row
from monitor.store.connection import Connection
from monitor.store.values import ts


class RunQueries(Connection):
    """Cursors, runs and jobs."""

    # -- cursors ----------------------------------------------------------------------------

    def cursor(self, source: str, query: str) -> str | None:
        row = self._execute(
            "SELECT value FROM cursors WHERE source = ? AND query = ?", [source, query]
        ).fetchone()
        return row[0] if row else None

    def save_cursor(self, source: str, query: str, value: str | None) -> None:
        if value is None:
            self._execute("DELETE FROM cursors WHERE source = ? AND query = ?", [source, query])
            return
        self._execute(
            "INSERT INTO cursors (source, query, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source, query) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [source, query, value, ts(utcnow())],
        )

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, source: str, kind: str) -> int:
        cur = self._execute(
            "INSERT INTO runs (source, kind, started_at, fetched, new, negatives, alerts)"
            " VALUES (?, ?, ?, 0, 0, 0, 0) RETURNING id", [source, kind, ts(utcnow())],
        )
        return int(cur.fetchone()[0])

    def finish_run(self, run_id: int, *, fetched: int, new: int, negatives: int = 0,
                   alerts: int = 0, error: str | None = None) -> None:
        self._execute(
            "UPDATE runs SET finished_at = ?, fetched = ?, new = ?, negatives = ?, alerts = ?, error = ?"
            " WHERE id = ?", [ts(utcnow()), fetched, new, negatives, alerts, error, run_id],
        )

    def last_runs(self) -> list[SourceRuns]:
        """Per source: the latest run, the latest success and the latest error."""
        return [from_row(SourceRuns, r) for r in self._query(
            "SELECT source,"
            " max(started_at) AS last_run,"
            " max(CASE WHEN error IS NULL AND finished_at IS NOT NULL THEN finished_at END) AS last_success,"
            " max(CASE WHEN error IS NOT NULL THEN finished_at END) AS last_error_at,"
            " (SELECT r2.error FROM runs r2 WHERE r2.source = runs.source AND r2.error IS NOT NULL"
            "  ORDER BY r2.started_at DESC LIMIT 1) AS last_error"
            " FROM runs GROUP BY source ORDER BY source"
        )]

    def failed_runs(self, since: datetime) -> list[Run]:
        return [from_row(Run, r) for r in self._query(
            "SELECT * FROM runs WHERE error IS NOT NULL AND started_at >= ? ORDER BY started_at",
            [ts(since)],
        )]

    # -- scheduled jobs (`listenpost run`) ------------------------------------------------

    def schedule_jobs(self, next_runs: dict[str, datetime | None]) -> None:
        """Record the daemon's job plan at start; jobs it no longer runs are forgotten.

        Workers sharing the database schedule the same jobs: a starting worker updates the
        plan in place and leaves the others' running jobs alone."""
        now = ts(utcnow())
        with self.transaction():
            marks = ",".join("?" for _ in next_runs) or "NULL"
            self._execute(f"DELETE FROM jobs WHERE id NOT IN ({marks})", list(next_runs))
            self._execute_many(
                "INSERT INTO jobs (id, next_run_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET next_run_at = excluded.next_run_at, running_since = NULL,"
                " updated_at = excluded.updated_at",
                [(job_id, ts(when) if when else None, now) for job_id, when in next_runs.items()],
            )

    def job_started(self, job_id: str) -> None:
        now = ts(utcnow())
        self._execute(
            "UPDATE jobs SET running_since = ?, updated_at = ? WHERE id = ?", [now, now, job_id]
        )

    def job_finished(self, job_id: str, *, next_run_at: datetime | None, error: str | None) -> None:
        now = ts(utcnow())
        self._execute(
            "UPDATE jobs SET running_since = NULL, last_finished_at = ?, last_error = ?,"
            " next_run_at = ?, updated_at = ? WHERE id = ?",
            [now, error, ts(next_run_at) if next_run_at else None, now, job_id],
        )

    def unschedule_jobs(self) -> None:
        """The daemon stopped cleanly: nothing is due any more, so nothing is overdue."""
        self._execute(
            "UPDATE jobs SET next_run_at = NULL, running_since = NULL, updated_at = ?", [ts(utcnow())]
        )

    def scheduled_jobs(self) -> dict[str, Job]:
        return {r["id"]: from_row(Job, r) for r in self._query("SELECT * FROM jobs ORDER BY id")}
