"""Verdicts on mentions, and the labels people gave: labeled examples, rated reviews, hand labels in imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from monitor.core.records import Classification, utcnow
from monitor.core.rows import LabelCount, LabeledExample, RatedReview, Unclassified, from_row
from monitor.store.connection import Connection
from monitor.store.mentions import ALERTED
from monitor.store.values import ts


class ClassificationQueries(Connection):
    """Classifications and labeled examples."""

    def save_classifications(self, items: Iterable[Classification]) -> None:
        rows = [
            (c.source, c.external_id, c.model, c.label, c.negative, c.neutral, c.positive,
             ts(c.classified_at), None if c.alert is None else int(c.alert), c.reason or None)
            for c in items
        ]
        if rows:
            with self.transaction():
                self._execute_many(
                    "INSERT INTO classifications (source, external_id, model, label, negative, neutral,"
                    " positive, classified_at, alert, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (source, external_id, model) DO UPDATE SET label = excluded.label,"
                    " negative = excluded.negative, neutral = excluded.neutral, positive = excluded.positive,"
                    " classified_at = excluded.classified_at, alert = excluded.alert, reason = excluded.reason",
                    rows,
                )

    def unclassified(self, model: str, limit: int = 1000) -> list[Unclassified]:
        """Mentions with no classification from ``model`` yet, oldest first."""
        return [from_row(Unclassified, r) for r in self._query(
            "SELECT m.source, m.external_id, m.brand, m.kind, m.text, m.title, m.language, m.rating,"
            " EXISTS (SELECT 1 FROM classifications c2 WHERE c2.source = m.source"
            " AND c2.external_id = m.external_id) AS classified_before FROM mentions m"
            " WHERE NOT EXISTS (SELECT 1 FROM classifications c WHERE c.source = m.source"
            " AND c.external_id = m.external_id AND c.model = ?)"
            " ORDER BY m.collected_at, m.created_at LIMIT ?",
            [model, limit],
        )]

    def label_counts(self, *, since: datetime | None = None) -> dict[str, int]:
        sql = (
            "SELECT coalesce(c.label, 'unclassified'), count(*) FROM mentions m"
            " LEFT JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
        )
        params: list[Any] = []
        if since:
            sql += " WHERE m.created_at >= ?"
            params.append(ts(since))
        return {r[0]: r[1] for r in self._execute(sql + " GROUP BY 1", params)}

    def stats(self, *, since: datetime | None = None) -> list[LabelCount]:
        """Mention counts per brand, source and label."""
        sql = (
            "SELECT m.brand, m.source, coalesce(c.label, 'unclassified') AS label, count(*) AS n"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
        )
        params: list[Any] = []
        if since:
            sql += " WHERE m.created_at >= ?"
            params.append(ts(since))
        return [from_row(LabelCount, r) for r in self._query(sql + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", params)]

    # -- labeled examples -------------------------------------------------------------------

    def add_labeled_example(self, *, source: str, external_id: str, text: str, label: str,
                            origin: str, created_by: str = "") -> None:
        self._execute(
            "INSERT INTO labeled_examples (source, external_id, text, label, origin, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", [source, external_id, text, label, origin, created_by, ts(utcnow())],
        )

    def latest_label(self, source: str, external_id: str) -> tuple[str, float | None] | None:
        """The newest verdict on a mention: (label, negative probability)."""
        row = self._execute(
            "SELECT label, negative FROM latest_labels WHERE source = ? AND external_id = ?",
            [source, external_id],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def latest_verdict(self, source: str, external_id: str) -> tuple[str, str | None] | None:
        """The newest verdict on a mention: (label, triage reason)."""
        row = self._one("SELECT label, reason FROM latest_labels WHERE source = ? AND external_id = ?",
                        [source, external_id])
        return (row[0], row[1]) if row else None

    def gold_and_predicted(self, model: str) -> list[tuple[str, str, bool]]:
        """(label in the raw payload, model's label, alerted) for imported rows that carry a hand label."""
        gold = self.sql.json_text("m.raw", "label")
        return [(r[0], r[1], bool(r[2])) for r in self._execute(
            f"SELECT {gold}, c.label, " + ALERTED.replace("= 1", "= 1 AND c.label = 'negative'")
            + " FROM mentions m JOIN classifications c"
            " ON c.source = m.source AND c.external_id = m.external_id AND c.model = ?"
            f" WHERE {gold} IS NOT NULL AND c.label != 'unscored'", [model],
        )]

    def rated_reviews(self, brand: str | None = None) -> list[RatedReview]:
        """Stored mentions with a star rating (reviews), oldest first: labels the customer gave."""
        sql = ("SELECT source, external_id, brand, title, text, rating FROM mentions"
               " WHERE rating BETWEEN 1 AND 5" + (" AND brand = ?" if brand else "") + " ORDER BY created_at")
        return [from_row(RatedReview, r) for r in self._query(sql, [brand] if brand else [])]

    def labeled_examples(self) -> list[LabeledExample]:
        """One example per mention, its newest label: closing an alert's copies on two channels
        (Slack and email) stores the mention twice, yet it is one example."""
        rows = self._query(
            "SELECT text, label, origin FROM labeled_examples WHERE external_id IS NULL OR id IN"
            " (SELECT max(id) FROM labeled_examples WHERE external_id IS NOT NULL GROUP BY source, external_id)"
            " ORDER BY id")
        return [from_row(LabeledExample, r) for r in rows]
