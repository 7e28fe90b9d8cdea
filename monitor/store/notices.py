"""The store's queries about proactive notices: the evidence of an incident or a spike, and the
status messages suggested and posted. Mixed into ``Store``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.core.rows import Notice, NoticePosted, from_row
from monitor.store.connection import Connection
from monitor.store.values import ts


@dataclass(frozen=True)
class Evidence:
    """Several people reporting the same problem: how many, when the first and latest posted, where."""

    count: int
    first_at: str
    latest_at: str
    sources: list[str]
    text: str  # the first report, for what the problem is


def _evidence(row: Any) -> Evidence | None:
    if not row or not row[0]:
        return None
    return Evidence(count=int(row[0]), first_at=row[1], latest_at=row[2],
                    sources=sorted(set((row[3] or "").split(","))), text=row[4] or "")


class NoticeQueries(Connection):
    """SQL about status notices."""

    def incident_evidence(self, group_key: str) -> Evidence | None:
        """The distinct mentions alerted under an incident."""
        # An incident is named after its first mention: "source:external_id".
        source, _, external_id = group_key.partition(":")
        return _evidence(self._execute(
            f"SELECT count(*), min(m.created_at), max(m.created_at), {self.sql.group_concat('m.source')},"
            " (SELECT substr(text, 1, 2000) FROM mentions WHERE source = ? AND external_id = ?)"
            " FROM mentions m WHERE (m.source, m.external_id) IN"
            " (SELECT source, external_id FROM alerts WHERE group_key = ? AND kind = 'mention')",
            [source, external_id, group_key]).fetchone())

    def negatives_evidence(self, brand: str, since: datetime, until: datetime) -> Evidence | None:
        """A brand's negatives posted in [since, until), for a spike."""
        return _evidence(self._execute(
            f"SELECT count(*), min(m.created_at), max(m.created_at), {self.sql.group_concat('m.source')},"
            # The public notice names the problem of the spike's own first negative, not of whatever
            # mention of the brand came first (praise of a refund made it "trouble with refunds").
            " (SELECT substr(m2.text, 1, 2000) FROM mentions m2 JOIN latest_labels c2"
            "  ON c2.source = m2.source AND c2.external_id = m2.external_id"
            "  WHERE m2.brand = ? AND m2.created_at >= ? AND m2.created_at < ? AND c2.label = 'negative'"
            "  AND coalesce(c2.reason, '') NOT IN ('spam', 'off-topic')"
            "  ORDER BY m2.created_at LIMIT 1)"
            " FROM mentions m JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.brand = ? AND m.created_at >= ? AND m.created_at < ? AND c.label = 'negative'"
            # As the spike counts them (store.hourly_negatives): spam and off-topic posts are no evidence.
            " AND coalesce(c.reason, '') NOT IN ('spam', 'off-topic')",
            [brand, ts(since), ts(until), brand, ts(since), ts(until)]).fetchone())

    def notice_posted(self, group_key: str) -> NoticePosted | None:
        """Who recorded that the incident's status notice went out, and when; None if nobody yet."""
        rows = list(self._query(
            "SELECT closed_by, closed_at FROM alerts WHERE group_key = ? AND kind = 'notice'"
            " AND resolution = 'notice_posted' ORDER BY closed_at LIMIT 1", [group_key]))
        return from_row(NoticePosted, rows[0]) if rows else None

    def notices(self, since: datetime, until: datetime) -> list[Notice]:
        """One row per incident whose notice was suggested in [since, until), newest first: its
        brand, evidence payload and who posted it (if anyone)."""
        rows = list(self._query(
            "SELECT group_key, min(brand) AS brand, min(created_at) AS created_at, min(payload) AS payload,"
            " max(CASE WHEN resolution = 'notice_posted' THEN closed_by END) AS posted_by,"
            " max(CASE WHEN resolution = 'notice_posted' THEN closed_at END) AS posted_at"
            " FROM alerts WHERE kind = 'notice' AND created_at >= ? AND created_at < ?"
            " GROUP BY group_key ORDER BY 3 DESC", [ts(since), ts(until)]))
        out = []
        for row in rows:
            payload = json.loads(row["payload"] or "{}")
            # An incident grows after its notice: show how many reported it by now, not at the third.
            evidence = None if payload.get("spike") else self.incident_evidence(row["group_key"])
            if evidence is not None and evidence.count > int(payload.get("count") or 0):
                payload.update(count=evidence.count, first_at=evidence.first_at, latest_at=evidence.latest_at,
                               sources=evidence.sources)
            out.append(from_row(Notice, row, payload=payload))
        return out
