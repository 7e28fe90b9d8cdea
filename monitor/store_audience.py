"""The store's queries about audience: reach and share of voice. Mixed into ``Store``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils


@dataclass(frozen=True)
class ReachSummary:
    """How many mentions carry an audience figure, and how many negatives went to on-call by reach."""

    total: int
    given: int
    escalated: int


class AudienceQueries:
    """SQL about who saw a mention; ``Store`` provides ``db``."""

    db: sqlite_utils.Database

    def reach_summary(self) -> ReachSummary:
        row = self.db.execute(
            "SELECT count(*), count(reach),"
            " (SELECT count(DISTINCT source || ':' || external_id) FROM alerts"
            "  WHERE kind = 'escalation' AND payload LIKE '%\"reason\": \"reach %')"
            " FROM mentions").fetchone()
        return ReachSummary(total=row[0], given=row[1], escalated=row[2])

    def _window(self, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
        from monitor.store import ts

        clauses, params = [], []
        if since:
            clauses.append("m.created_at >= ?")
            params.append(ts(since))
        if until:
            clauses.append("m.created_at < ?")
            params.append(ts(until))
        return (" AND ".join(clauses) or "1"), params
