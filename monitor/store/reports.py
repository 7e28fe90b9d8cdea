"""Aggregates over a time window for the digest and `report`, and stats."""

from __future__ import annotations

from datetime import datetime

from monitor.core.rows import HourCount, LabelCount, ReportedMention, ResponseTime, RunSummary, from_row
from monitor.store.connection import Connection
from monitor.store.mentions import ALERT_VERDICT, ALERTED
from monitor.store.values import ts


class ReportQueries(Connection):
    """Counts, top lists and response times over a window."""

    def period_counts(self, since: datetime, until: datetime) -> list[LabelCount]:
        """Mentions posted in [since, until) per brand, source and latest label."""
        return [from_row(LabelCount, r) for r in self._query(
            "SELECT m.brand, m.source, coalesce(c.label, 'unclassified') AS label, count(*) AS n"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1, 2, 3",
            [ts(since), ts(until)],
        )]

    def hourly_counts(self, since: datetime, until: datetime) -> list[HourCount]:
        """Per brand and UTC hour ('YYYY-MM-DDTHH'): mentions and negatives posted."""
        return [from_row(HourCount, r) for r in self._query(
            "SELECT m.brand, substr(m.created_at, 1, 13) AS hour, count(*) AS n,"
            " sum(CASE WHEN c.label = 'negative' THEN 1 WHEN c.label IS NOT NULL THEN 0 END) AS negatives"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1, 2",
            [ts(since), ts(until)],
        )]

    def top_negatives(self, since: datetime, until: datetime, *, per_brand: int) -> list[ReportedMention]:
        """The most negative mentions posted in [since, until), at most ``per_brand`` per brand."""
        return [from_row(ReportedMention, r) for r in self._query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at, c.negative, row_number() OVER"
            " (PARTITION BY m.brand ORDER BY c.negative DESC, m.created_at DESC) AS rank"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'negative' AND " + ALERTED + ") ranked"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), ts(until), per_brand],
        )]

    def unanswered_negatives(self, since: datetime, *, per_brand: int) -> list[ReportedMention]:
        """Negatives posted since ``since`` with no reply or close recorded on any alert.

        Oldest first, at most ``per_brand`` per brand; ``total`` is the brand's full count.
        """
        return [from_row(ReportedMention, r) for r in self._query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at,"
            " (SELECT max(a.claimed_by) FROM alerts a WHERE a.source = m.source"
            "  AND a.external_id = m.external_id) AS claimed_by,"
            " (SELECT min(a.claimed_at) FROM alerts a WHERE a.source = m.source"
            "  AND a.external_id = m.external_id) AS claimed_at,"
            " row_number() OVER (PARTITION BY m.brand ORDER BY m.created_at) AS rank,"
            " count(*) OVER (PARTITION BY m.brand) AS total"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND " + ALERT_VERDICT + " AND NOT EXISTS ("
            "  SELECT 1 FROM alerts a WHERE a.source = m.source AND a.external_id = m.external_id"
            "  AND (a.replied_at IS NOT NULL OR a.closed_at IS NOT NULL))) ranked"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), per_brand],
        )]

    def worth_a_look(self, since: datetime, until: datetime, *, per_brand: int) -> list[ReportedMention]:
        """Negatives below the alert threshold (and 4-5 star reviews whose words read clearly
        negative) posted in [since, until): not alerted, not lost.

        Most negative first, at most ``per_brand`` per brand; ``total`` is the brand's full count.
        """
        return [from_row(ReportedMention, r) for r in self._query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at, c.negative, row_number() OVER"
            " (PARTITION BY m.brand ORDER BY c.negative DESC, m.created_at DESC) AS rank,"
            " count(*) OVER (PARTITION BY m.brand) AS total"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ?"
            " AND c.reason = 'low-confidence') ranked"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), ts(until), per_brand],
        )]

    def unscored_mentions(self, since: datetime, until: datetime, *, per_brand: int) -> list[ReportedMention]:
        """Mentions posted in [since, until) in a language the model does not read: nobody saw a score.

        Newest first, at most ``per_brand`` per brand; ``total`` is the brand's full count.
        """
        return [from_row(ReportedMention, r) for r in self._query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at, m.language, row_number() OVER"
            " (PARTITION BY m.brand ORDER BY m.created_at DESC, m.external_id) AS rank,"
            " count(*) OVER (PARTITION BY m.brand) AS total"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'unscored') ranked"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), ts(until), per_brand],
        )]

    def triage_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Mentions posted in [since, until) per triage reason (alerts.outbox.triage): spam, off-topic, ..."""
        rows = self._execute(
            "SELECT coalesce(c.reason, ''), count(*) FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1",
            [ts(since), ts(until)],
        )
        return {r[0]: r[1] for r in rows if r[0]}

    def negative_texts(self, since: datetime, until: datetime, *, limit: int) -> list[ReportedMention]:
        """Negatives posted in [since, until) that were worth an alert (not spam, off-topic or a
        narrow call), newest first, for grouping into themes."""
        return [from_row(ReportedMention, r) for r in self._query(
            "SELECT m.brand, m.source, m.url, m.title, substr(m.text, 1, 2000) AS text,"
            " m.created_at, c.negative FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'negative'"
            " AND coalesce(c.alert, 1) = 1"
            " ORDER BY m.created_at DESC LIMIT ?",
            [ts(since), ts(until), limit],
        )]

    def response_times(self, since: datetime, until: datetime) -> list[ResponseTime]:
        """Per source and step: how many alerted mentions got there, median and p90 seconds.

        A mention alerted on several channels counts once, at its first delivery, claim and
        reply. Steps are measured from when the mention was posted: 'collect' (stored here),
        'alert' (first sent), 'claim' and 'reply'; 'total' counts mentions alerted in
        [since, until). Each row also names the channels used. Percentiles are nearest-rank,
        computed in SQL so large windows stay cheap.
        """
        after = self.sql.seconds_after
        rows = list(self._query(
            "WITH cases AS (SELECT source, external_id, min(sent_at) AS sent_at,"
            " min(claimed_at) AS claimed_at, min(replied_at) AS replied_at FROM alerts a"
            " WHERE kind = 'mention' AND created_at >= ? AND created_at < ? GROUP BY source, external_id),"
            # k: the window's cases, read from alerts through the created_at index
            " base AS (SELECT k.source,"
            f" {after('m.collected_at', 'm.created_at')} AS collect_s,"
            f" {after('k.sent_at', 'm.created_at')} AS alert_s,"
            f" {after('k.claimed_at', 'm.created_at')} AS claim_s,"
            f" {after('k.replied_at', 'm.created_at')} AS reply_s"
            " FROM cases k JOIN mentions m ON m.source = k.source AND m.external_id = k.external_id),"
            " steps AS (SELECT source, 'total' AS step, 0.0 AS secs FROM base"
            "  UNION ALL SELECT source, 'collect', collect_s FROM base"
            "  UNION ALL SELECT source, 'alert', alert_s FROM base"
            "  UNION ALL SELECT source, 'claim', claim_s FROM base"
            "  UNION ALL SELECT source, 'reply', reply_s FROM base),"
            " ranked AS (SELECT source, step, secs,"
            "  row_number() OVER (PARTITION BY source, step ORDER BY secs) AS rn,"
            "  count(*) OVER (PARTITION BY source, step) AS n"
            "  FROM steps WHERE secs IS NOT NULL)"
            " SELECT source, step, max(n) AS n,"
            " min(CASE WHEN rn >= (n + 1) / 2 THEN secs END) AS median,"
            " min(CASE WHEN rn >= (9 * n + 9) / 10 THEN secs END) AS p90"
            " FROM ranked GROUP BY 1, 2 ORDER BY 1, 2",
            [ts(since), ts(until)],
        ))
        channels: dict[str, set[str]] = {}
        for source, channel in self._execute(
            "SELECT DISTINCT source, channel FROM alerts WHERE kind = 'mention' AND created_at >= ?"
            " AND created_at < ?", [ts(since), ts(until)],
        ):
            channels.setdefault(source, set()).add(channel)
        return [from_row(ResponseTime, row, channels=sorted(channels.get(row["source"], ()))) for row in rows]

    def run_summary(self, since: datetime, until: datetime) -> list[RunSummary]:
        """Per source: collector runs started in [since, until), how many failed, the last error."""
        return [from_row(RunSummary, r) for r in self._query(
            "SELECT source, count(*) AS runs, count(error) AS failed,"
            " (SELECT r2.error FROM runs r2 WHERE r2.source = runs.source AND r2.error IS NOT NULL"
            "  AND r2.started_at >= ? AND r2.started_at < ? ORDER BY r2.started_at DESC LIMIT 1)"
            " AS last_error FROM runs WHERE started_at >= ? AND started_at < ?"
            " GROUP BY source ORDER BY source",
            [ts(since), ts(until), ts(since), ts(until)],
        )]
