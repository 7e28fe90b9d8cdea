"""The store's queries about audience: reach, praise waiting for a thank-you, and the thanks given.
Mixed into ``Store``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.core.rows import Praise, from_row
from monitor.store.connection import Connection
from monitor.store.values import engagement_of
from monitor.store.values import ts as _ts


@dataclass(frozen=True)
class ReachSummary:
    """How many mentions carry an audience figure, and how many negatives went to on-call by reach."""

    total: int
    given: int
    escalated: int


@dataclass(frozen=True)
class ThanksSummary:
    """Praise posted in a period, how much of it was thanked, and the median time to the thank-you."""

    praise: int
    thanked: int
    median_seconds: float | None


# Praise still worth a thank-you: about one of our brands as triage decided (spam, off-topic and
# competitors carry their own reasons), not thanked yet.
_PRAISE = (" FROM mentions m JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
           " LEFT JOIN thanks t ON t.source = m.source AND t.external_id = m.external_id"
           " WHERE c.reason IN ({reasons}) AND m.created_at >= ? AND m.created_at < ?")


class AudienceQueries(Connection):
    """SQL about who saw a mention and who was thanked."""

    def reach_summary(self) -> ReachSummary:
        row = self._execute(
            "SELECT count(*), count(reach),"
            " (SELECT count(DISTINCT source || ':' || external_id) FROM alerts"
            "  WHERE kind = 'escalation' AND payload LIKE '%\"reason\": \"reach %')"
            " FROM mentions").fetchone()
        return ReachSummary(total=row[0], given=row[1], escalated=row[2])

    def praise_to_thank(self, reasons: Sequence[str], *, since: datetime, now: datetime,
                        limit: int) -> tuple[list[Praise], int]:
        """Unthanked praise posted since ``since``, widest reach and newest first, and how many in all.

        The rank is reach divided by (1 + age in days): yesterday's 10,000 followers outrank today's
        50, and a mention with no reach given ranks by recency alone among the others without.
        """
        marks = ",".join("?" for _ in reasons)
        where = _PRAISE.format(reasons=marks) + " AND t.source IS NULL"
        params = [*reasons, _ts(since), _ts(now)]
        total = self._execute("SELECT count(*)" + where, params).fetchone()[0]
        rows = [from_row(Praise, r, engagement=engagement_of(r)) for r in self._query(
            "SELECT m.source, m.external_id, m.brand, m.author, m.url, m.title, substr(m.text, 1, 2000) AS text,"
            " m.created_at, m.reach, m.engagement, c.positive" + where +
            f" ORDER BY coalesce(m.reach, 0) / (1.0 + {self.sql.days_between('?', 'm.created_at')}) DESC,"
            " m.created_at DESC LIMIT ?", [*params, _ts(now), limit])]
        return rows, int(total)

    def record_thanks(self, source: str, external_id: str, who: str, when: datetime) -> bool:
        """Record that the mention was thanked; False when it already was."""
        cur = self._execute(
            "INSERT INTO thanks (source, external_id, thanked_at, thanked_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [source, external_id, _ts(when), who])
        return bool(cur.rowcount)

    def thanks_summary(self, reasons: Sequence[str], since: datetime, until: datetime) -> ThanksSummary:
        """Praise posted in [since, until): how much was thanked, and the median seconds to it."""
        marks = ",".join("?" for _ in reasons)
        seconds = [r[0] for r in self._execute(
            f"SELECT {self.sql.days_between('t.thanked_at', 'm.created_at')} * 86400"
            + _PRAISE.format(reasons=marks) + " AND t.source IS NOT NULL ORDER BY 1",
            [*reasons, _ts(since), _ts(until)])]
        praise = self._execute("SELECT count(*)" + _PRAISE.format(reasons=marks),
                                   [*reasons, _ts(since), _ts(until)]).fetchone()[0]
        median = seconds[(len(seconds) - 1) // 2] if seconds else None  # nearest-rank, as elsewhere
        return ThanksSummary(praise=int(praise), thanked=len(seconds), median_seconds=median)
